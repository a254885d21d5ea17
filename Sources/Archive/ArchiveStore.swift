import Crypto
import Foundation
import Outbound

/// The archive's S3 bucket: uploads that are verified before anyone relies on them, and
/// transient failures (no answer, 5xx, throttling) retried with backoff.
public struct ArchiveStore: Sendable {
    public let s3: S3Client
    public var attempts = 4
    /// The wait before the first retry; each later one waits four times longer.
    public var firstRetryDelay = 0.2

    public init(s3: S3Client) {
        self.s3 = s3
    }

    /// Runs one S3 operation, retrying what may succeed on a second try.
    public func retrying<T>(_ what: String, _ operation: () throws(S3Error) -> T) throws(ArchiveError) -> T {
        var delay = firstRetryDelay
        for attempt in 1... {
            do {
                return try operation()
            } catch {
                let transient = error.status == 0 || error.status >= 500 || error.status == 429
                guard transient, attempt < attempts else { throw ArchiveError(what, cause: error) }
                Thread.sleep(forTimeInterval: delay)
                delay *= 4
            }
        }
        fatalError("unreachable")
    }

    /// Whether `key` already holds exactly `bytes` (a re-run after a crash between upload and repoint).
    public func holds(_ key: String, bytes: [UInt8], sha256: [UInt8]) throws(ArchiveError) -> Bool {
        guard let info = try retrying("check \(key)", { () throws(S3Error) in try s3.headObject(key: key) }),
              info.size == bytes.count else { return false }
        return (try? verify(key, info: info, bytes: bytes, sha256: sha256)) != nil
    }

    /// Uploads `bytes` to `key` (in parts when large) and proves S3 holds them.
    public func upload(_ key: String, bytes: [UInt8], sha256: [UInt8], policy: ArchivePolicy) throws(ArchiveError) {
        let parts = bytes.count > policy.partBytes
            ? stride(from: 0, to: bytes.count, by: policy.partBytes).map { Array(bytes[$0..<min($0 + policy.partBytes, bytes.count)]) }
            : [bytes]
        try retrying("upload \(key)") { () throws(S3Error) in
            if parts.count == 1 {
                _ = try s3.putObject(key: key, body: bytes, storageClass: policy.storageClass)
            } else {
                try s3.multipartUpload(key: key, parts: parts, storageClass: policy.storageClass)
            }
        }
        guard let info = try retrying("check \(key)", { () throws(S3Error) in try s3.headObject(key: key) }) else {
            throw ArchiveError("verify \(key)", "the object is missing right after its upload")
        }
        try verify(key, info: info, bytes: bytes, sha256: sha256, partBytes: parts.count > 1 ? policy.partBytes : nil)
    }

    /// Proves the object holds `bytes`: S3's own SHA-256 when it kept one; else a read-back
    /// (SHA-256 of what comes back); else, for an object already in Glacier, S3's MD5 ETag.
    func verify(_ key: String, info: S3Client.ObjectInfo, bytes: [UInt8], sha256: [UInt8],
                partBytes: Int? = nil) throws(ArchiveError) {
        guard info.size == bytes.count else {
            throw ArchiveError("verify \(key)", "S3 holds \(info.size) bytes; \(bytes.count) were sent")
        }
        if let checksum = info.checksumSHA256, !checksum.contains("-") {
            guard checksum == Data(sha256).base64EncodedString() else {
                throw ArchiveError("verify \(key)", "S3's SHA-256 differs from the object's")
            }
            return
        }
        if info.isReadable {
            let back = try retrying("read back \(key)") { () throws(S3Error) in try s3.getObject(key: key) }
            guard Array(SHA256.hash(data: back)) == sha256 else {
                throw ArchiveError("verify \(key)", "the bytes read back differ from those uploaded (SHA-256 mismatch)")
            }
            return
        }
        guard let etag = info.etag?.trimmingCharacters(in: CharacterSet(charactersIn: "\"")),
              etag == Self.etag(of: bytes, partBytes: etag.contains("-") ? (partBytes ?? bytes.count) : nil) else {
            throw ArchiveError("verify \(key)", "S3's ETag does not match the object's MD5")
        }
    }

    /// S3's ETag of an unencrypted upload: the MD5 of the bytes, or for a multipart upload
    /// the MD5 of the parts' MD5s followed by `-` and the part count.
    static func etag(of bytes: [UInt8], partBytes: Int?) -> String {
        func hex(_ digest: some Sequence<UInt8>) -> String { digest.map { String(format: "%02x", $0) }.joined() }
        guard let partBytes, partBytes < bytes.count else { return hex(Insecure.MD5.hash(data: bytes)) }
        var digests: [UInt8] = []
        var count = 0
        for start in stride(from: 0, to: bytes.count, by: partBytes) {
            digests += Insecure.MD5.hash(data: bytes[start..<min(start + partBytes, bytes.count)])
            count += 1
        }
        return hex(Insecure.MD5.hash(data: digests)) + "-\(count)"
    }
}
