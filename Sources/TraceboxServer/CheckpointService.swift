import Archive
import Crypto
import Foundation
import Logging
import Monitoring
import SegmentLog
import ServiceLifecycle
import Synchronization
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Transparency

/// A checkpoint as the daemon signed it.
struct SignedCheckpoint: Sendable, Equatable {
    var checkpoint: Checkpoint
    /// The whole signed note (checkpoint text, blank line, signature line).
    var note: String
}

/// Signs checkpoints of the index's Merkle tree (`docs/checkpoints.md` §4): every
/// `checkpoint.interval` and at every segment seal, when records were added, and on request. Each is written to
/// `<data>/checkpoints/<size>.checkpoint` and appended to the log as a `checkpoint.signed`
/// trace record, so the log carries its own history of signed heads.
final class CheckpointService: Service {
    let signer: NoteSigner
    let index: TraceIndex
    let log: SegmentLog
    let directory: String
    let interval: Duration
    let applyIndex: @Sendable () async throws -> Void
    /// Where each new checkpoint is published (`checkpoint.publish_urls`), and the outbox that delivers it.
    let publishURLs: [String]
    let outbox: Outbox
    /// The archive bucket, when one is configured: every checkpoint is uploaded under
    /// `checkpoints/<origin>/`, in order, each after the one before it.
    let bucket: (store: ArchiveStore, policy: ArchivePolicy)?
    let clock: any WallClock
    let logger: Logger
    private let queue = BlockingQueue(label: "tracebox-checkpoint")
    /// The tree size after the newest checkpoint's own record: a tree no larger has nothing
    /// new to sign (otherwise each checkpoint record would call for the next one).
    private let signedThrough = Mutex<UInt64>(0)
    /// One checkpoint at a time (the timer and an admin request may ask together).
    private let signing = AsyncSerial()

    init(settings: CheckpointSettings, dataDirectory: String, index: TraceIndex, log: SegmentLog, outbox: Outbox,
         bucket: (store: ArchiveStore, policy: ArchivePolicy)?, clock: any WallClock,
         applyIndex: @escaping @Sendable () async throws -> Void, logger: Logger) throws {
        signer = try Self.loadSigner(settings: settings, dataDirectory: dataDirectory)
        self.index = index
        self.log = log
        directory = dataDirectory + "/checkpoints"
        interval = settings.interval
        self.applyIndex = applyIndex
        publishURLs = settings.publishURLs
        self.outbox = outbox
        self.bucket = bucket
        self.clock = clock
        self.logger = logger
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let latest = try Self.newestFile(in: directory) { signedThrough.withLock { $0 = latest.size + 1 } }
    }

    /// Signs every `interval`, and within a second of every segment seal (the log's
    /// committed end moving to a new segment), when records were added.
    func run() async throws {
        var segment = log.committed.end.segment
        var signedAt = ContinuousClock.now
        let tick = min(interval, .seconds(1))
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            let current = log.committed.end.segment
            guard current != segment || ContinuousClock.now - signedAt >= interval else { continue }
            segment = current
            signedAt = .now
            do { _ = try await checkpointIfGrown() } catch { logger.error("checkpoint failed", metadata: ["error": "\(error)"]) }
            do { try await uploadPending() } catch { logger.warning("checkpoint upload failed; will retry", metadata: ["error": "\(error)"]) }
        }
    }

    /// Uploads, in order, the checkpoints the bucket does not hold yet. The size of the last
    /// one uploaded is kept in `checkpoints/uploaded`, so a failure is retried next time.
    func uploadPending() async throws {
        guard let bucket else { return }
        let marker = directory + "/uploaded"
        let origin = signer.verifier.name
        try await queue.run {
            let done = FileManager.default.contents(atPath: marker).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
            for file in try Self.files(in: self.directory) where file.size > done {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file.path)))
                let name = String(format: "%020llu.checkpoint", file.size)
                try bucket.store.upload("checkpoints/\(origin)/\(name)", bytes: bytes, sha256: Array(SHA256.hash(data: bytes)), policy: bucket.policy)
                try DurableFile.write(Array(String(file.size).utf8), to: marker)
            }
        }
    }

    /// Signs a checkpoint of the tree as far as the log is committed, if it grew since the
    /// last one; returns the newest checkpoint either way (nil: the log is empty).
    func checkpointIfGrown() async throws -> SignedCheckpoint? {
        try await signing.run {
            try await self.applyIndex()
            let head = try await self.queue.run { try self.index.treeHead() }
            guard head.size > self.signedThrough.withLock({ $0 }) else { return try self.latest() }
            guard head.size > 0 else { return nil }
            let checkpoint = Checkpoint(origin: self.signer.verifier.name, size: head.size, rootHash: head.root)
            let signed = SignedCheckpoint(checkpoint: checkpoint, note: try self.signer.sign(checkpoint.text))
            try await self.queue.run { try self.write(signed) }
            let receipt = try await self.log.append(
                trace: TraceMetadata(traceType: "checkpoint.signed", recordedAt: Timestamp.format(self.clock.now())),
                json: CheckpointRecord(treeSize: head.size, rootHash: Data(head.root).base64EncodedString(), note: signed.note))
            self.signedThrough.withLock { $0 = receipt.sequence }
            for url in self.publishURLs {
                try await self.outbox.enqueue(channel: .checkpoint, kind: "checkpoint", key: String(head.size), body: signed.note, to: [url])
            }
            self.logger.info("checkpoint signed", metadata: ["tree_size": "\(head.size)"])
            return signed
        }
    }

    /// The newest checkpoint written, if any.
    func latest() throws -> SignedCheckpoint? {
        guard let newest = try Self.newestFile(in: directory) else { return nil }
        let note = try String(contentsOfFile: newest.path, encoding: .utf8)
        return SignedCheckpoint(checkpoint: try Checkpoint.verified(note: note, key: signer.verifier), note: note)
    }

    /// Written whole or not at all: a temporary file, synced, renamed, directory synced.
    private func write(_ signed: SignedCheckpoint) throws {
        let name = String(format: "%020llu.checkpoint", signed.checkpoint.size)
        try DurableFile.write(Array(signed.note.utf8), to: directory + "/" + name)
    }

    private static func newestFile(in directory: String) throws -> (path: String, size: UInt64)? {
        try files(in: directory).last
    }

    /// The checkpoint files, oldest (smallest tree) first.
    private static func files(in directory: String) throws -> [(path: String, size: UInt64)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (String, UInt64)? in
            guard name.hasSuffix(".checkpoint"), let size = UInt64(name.dropLast(".checkpoint".count)) else { return nil }
            return (directory + "/" + name, size)
        }.sorted { $0.1 < $1.1 }
    }

    /// The signer key from `checkpoint.key_file`, or `<data>/checkpoint.key`, made (mode
    /// 0600) on first start. Its name is the checkpoint's origin.
    static func loadSigner(settings: CheckpointSettings, dataDirectory: String) throws -> NoteSigner {
        let path = settings.keyFile ?? dataDirectory + "/checkpoint.key"
        if let data = FileManager.default.contents(atPath: path) {
            let signer: NoteSigner
            do {
                signer = try NoteSigner(encoded: String(decoding: data, as: UTF8.self))
            } catch {
                throw CheckpointError("the checkpoint key \(path) cannot be read: \(error)")
            }
            if let origin = settings.origin, origin != signer.verifier.name {
                throw CheckpointError("the checkpoint key \(path) is named \(signer.verifier.name), but checkpoint.origin is \(origin)")
            }
            return signer
        }
        guard settings.keyFile == nil else { throw CheckpointError("the checkpoint key file \(path) does not exist") }
        let key = Curve25519.Signing.PrivateKey()
        let origin = settings.origin ?? "tracebox/" + Hex.encode(SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8))
        let signer = try NoteSigner(name: origin, key: key)
        try DurableFile.write(Array((signer.encoded + "\n").utf8), to: path, mode: 0o600)
        return signer
    }
}

/// The body of a `checkpoint.signed` trace record.
struct CheckpointRecord: Codable, Sendable {
    var treeSize: UInt64
    var rootHash: String
    var note: String

    enum CodingKeys: String, CodingKey {
        case treeSize = "tree_size", rootHash = "root_hash", note
    }
}

struct CheckpointError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
