import Crypto
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An S3 bucket through libcurl, signed with SigV4 by libcurl itself (`CURLOPT_AWS_SIGV4`).
/// Calls block the calling thread until S3 answers: the archive job runs them on a thread
/// of its own, and cold reads come from callers that already read files synchronously.
/// Path-style URLs (`endpoint/bucket/key`), so any S3-compatible endpoint works. The
/// traps of libcurl 7.88 are handled here: `x-amz-content-sha256` is added (and signed),
/// queries carry `=` (`?lifecycle=`), and every body has an explicit Content-Type.
public struct S3Client: Sendable {
    public let endpoint: String
    public let bucket: String
    let signing: AWSSigning
    let client: HTTPClient
    let timeout: Duration

    public init(endpoint: String, region: String, bucket: String, accessKeyID: String, secretAccessKey: String,
                sessionToken: String? = nil, client: HTTPClient = HTTPClient(), timeout: Duration = .seconds(120)) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.signing = AWSSigning(region: region, accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, sessionToken: sessionToken)
        self.client = client
        self.timeout = timeout
    }

    /// What HEAD says about an object.
    public struct ObjectInfo: Sendable, Equatable {
        public var size: Int
        public var etag: String?
        public var storageClass: String
        /// The `x-amz-restore` header: nil when no restore was asked for.
        public var restore: String?
        public var checksumSHA256: String?

        /// Whether a Glacier object can be read now (restored, or never archived).
        public var isReadable: Bool {
            guard ["GLACIER", "DEEP_ARCHIVE"].contains(storageClass) else { return true }
            return restore?.contains("ongoing-request=\"false\"") == true
        }
    }

    public func createBucket() throws(S3Error) {
        _ = try send("PUT", key: nil, query: nil, body: [], accept: [200, 409])
    }

    public func putObject(key: String, body: [UInt8], contentType: String = "application/octet-stream",
                          storageClass: String? = nil) throws(S3Error) -> String? {
        var headers = [("Content-Type", contentType), ("x-amz-checksum-sha256", Data(SHA256.hash(data: body)).base64EncodedString())]
        if let storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        return try send("PUT", key: key, query: nil, body: body, headers: headers).header("ETag")
    }

    /// Writes the object only if no object has `key` yet (`If-None-Match: *`, S3's
    /// conditional write): true when this call created it, false when one was there (412).
    /// What a writer that may race another (a retried upload, a second node) uses, so an
    /// object once written is never replaced.
    public func putObjectIfAbsent(key: String, body: [UInt8], contentType: String = "application/octet-stream") throws(S3Error) -> Bool {
        let headers = [("Content-Type", contentType), ("x-amz-checksum-sha256", Data(SHA256.hash(data: body)).base64EncodedString()),
                       ("If-None-Match", "*")]
        return try send("PUT", key: key, query: nil, body: body, headers: headers, accept: [200, 412]).status == 200
    }

    public func headObject(key: String) throws(S3Error) -> ObjectInfo? {
        // Checksum mode: S3 answers with the SHA-256 it computed at upload, when it kept one.
        let response = try send("HEAD", key: key, query: nil, body: nil, headers: [("x-amz-checksum-mode", "ENABLED")],
                                accept: [200, 404])
        guard response.status == 200 else { return nil }
        return ObjectInfo(size: Int(response.header("Content-Length") ?? "") ?? 0, etag: response.header("ETag"),
                          storageClass: response.header("x-amz-storage-class") ?? "STANDARD", restore: response.header("x-amz-restore"),
                          checksumSHA256: response.header("x-amz-checksum-sha256"))
    }

    /// The object's bytes, or only `range` (inclusive byte offsets) with one ranged GET.
    public func getObject(key: String, range: ClosedRange<Int>? = nil) throws(S3Error) -> [UInt8] {
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound)")] } ?? []
        return try send("GET", key: key, query: nil, body: nil, headers: headers, accept: [200, 206]).body
    }

    /// Every object under `prefix` (key and size), in key order, following continuation tokens.
    ///
    /// libcurl signs the query exactly as sent. S3 signs the percent-encoded form of each
    /// value, while moto decodes values first, so a value with a reserved character (the
    /// `/` of `segments/`) cannot satisfy both. The request therefore names only the leading
    /// part of the prefix made of unreserved characters, and the rest is filtered here.
    public func listObjects(prefix: String) throws(S3Error) -> [(key: String, size: Int)] {
        var found: [(key: String, size: Int)] = []
        var token: String?
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        let sent = String(prefix.prefix { unreserved.contains($0) })
        repeat {
            var query = "list-type=2&prefix=\(sent)"
            if let token { query += "&continuation-token=\(Self.encode(token))" }
            let body = try send("GET", key: nil, query: query, body: nil).body
            let keys = XMLFields.all("Key", in: body)
            let sizes = XMLFields.all("Size", in: body).map { Int($0) ?? 0 }
            found += zip(keys, sizes).filter { $0.0.hasPrefix(prefix) }.map { (key: $0.0, size: $0.1) }
            token = XMLFields.first("IsTruncated", in: body) == "true" ? XMLFields.first("NextContinuationToken", in: body) : nil
        } while token != nil
        return found
    }

    public func deleteObject(key: String) throws(S3Error) {
        _ = try send("DELETE", key: key, query: nil, body: nil, accept: [204, 200])
    }

    /// Uploads `parts` (each but the last at least 5 MiB) as one object.
    public func multipartUpload(key: String, parts: [[UInt8]], contentType: String = "application/octet-stream",
                                storageClass: String? = nil) throws(S3Error) {
        var headers = [("Content-Type", contentType)]
        if let storageClass { headers.append(("x-amz-storage-class", storageClass)) }
        let created = try send("POST", key: key, query: "uploads=", body: [], headers: headers)
        guard let uploadID = XMLFields.first("UploadId", in: created.body) else {
            throw S3Error(operation: "CreateMultipartUpload", key: key, status: created.status, code: "NoUploadId",
                          message: "the answer has no UploadId")
        }
        var etags: [String] = []
        do {
            for (number, part) in parts.enumerated() {
                let response = try send("PUT", key: key, query: "partNumber=\(number + 1)&uploadId=\(Self.encode(uploadID))",
                                              body: part, headers: [("Content-Type", contentType)])
                etags.append(response.header("ETag") ?? "")
            }
            // ETags are quoted hex digests: nothing in them needs escaping in element text.
            let list = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
            let xml = "<CompleteMultipartUpload>\(list.joined())</CompleteMultipartUpload>"
            _ = try send("POST", key: key, query: "uploadId=\(Self.encode(uploadID))", body: Array(xml.utf8),
                               headers: [("Content-Type", "application/xml")])
        } catch {
            _ = try? send("DELETE", key: key, query: "uploadId=\(Self.encode(uploadID))", body: nil, accept: [204, 200, 404])
            throw error
        }
    }

    /// Asks S3 to restore a Glacier object for `days`; 202 (started) and 409 (already
    /// under way) both mean the request stands.
    public func restoreObject(key: String, days: Int) throws(S3Error) {
        let xml = "<RestoreRequest><Days>\(days)</Days><GlacierJobParameters><Tier>Standard</Tier></GlacierJobParameters></RestoreRequest>"
        _ = try send("POST", key: key, query: "restore=", body: Array(xml.utf8), headers: [("Content-Type", "application/xml")],
                           accept: [200, 202, 409])
    }

    /// Installs the bucket's lifecycle configuration (real S3 requires Content-MD5 here).
    public func putLifecycle(_ xml: String) throws(S3Error) {
        let body = Array(xml.utf8)
        _ = try send("PUT", key: nil, query: "lifecycle=", body: body,
                           headers: [("Content-Type", "application/xml"),
                                     ("Content-MD5", Data(Insecure.MD5.hash(data: body)).base64EncodedString())])
    }

    /// The bucket's lifecycle configuration, or nil when it has none.
    public func getLifecycle() throws(S3Error) -> String? {
        let response = try send("GET", key: nil, query: "lifecycle=", body: nil, accept: [200, 404])
        return response.status == 200 ? String(decoding: response.body, as: UTF8.self) : nil
    }

    // MARK: - Requests

    private func send(_ method: String, key: String?, query: String?, body: [UInt8]?, headers: [(String, String)] = [],
                      accept: Set<Int> = [200]) throws(S3Error) -> HTTPResponse {
        var url = endpoint + "/" + bucket
        if let key { url += "/" + key.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/") }
        if let query { url += "?" + query }
        var all = headers.map { (name: $0.0, value: $0.1) }
        // A buffered body otherwise goes out as application/x-www-form-urlencoded, added
        // after signing.
        if body != nil, !all.contains(where: { $0.name.lowercased() == "content-type" }) {
            all.append((name: "Content-Type", value: "application/octet-stream"))
        }
        all.append((name: "x-amz-content-sha256", value: Hex.sha256(body ?? [])))
        if let token = signing.sessionToken { all.append((name: "x-amz-security-token", value: token)) }
        let operation = "\(method) \(key ?? bucket)\(query.map { "?\($0)" } ?? "")"
        let response: HTTPResponse
        do {
            response = try client.sendBlocking(HTTPRequest(method: method, url: url, headers: all, body: body, timeout: timeout,
                                                         awsSigV4: signing))
        } catch {
            throw S3Error(operation: operation, key: key, status: 0, code: error.kind.rawValue, message: error.description)
        }
        guard accept.contains(response.status) else {
            throw S3Error(operation: operation, key: key, status: response.status,
                          code: XMLFields.first("Code", in: response.body) ?? "HTTP\(response.status)",
                          message: XMLFields.first("Message", in: response.body) ?? String(decoding: response.body.prefix(300), as: UTF8.self))
        }
        return response
    }

    /// RFC 3986 percent-encoding of one path segment or query value.
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// An S3 request that failed: which, the HTTP status (0: no answer), S3's error code and message.
public struct S3Error: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var key: String?
    public var status: Int
    public var code: String
    public var message: String

    public var description: String { "S3 \(operation) failed: \(status == 0 ? "no answer" : "HTTP \(status)") \(code): \(message)" }
}

enum Hex {
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}

/// The few fields read from S3's XML answers, with Foundation's XML parser.
enum XMLFields {
    static func first(_ element: String, in body: [UInt8]) -> String? {
        all(element, in: body).first
    }

    /// Every `element`'s text, in document order (empty when the body is not XML).
    static func all(_ element: String, in body: [UInt8]) -> [String] {
        let collector = Collector(element: element)
        let parser = XMLParser(data: Data(body))
        parser.delegate = collector
        guard parser.parse() else { return [] }
        return collector.values
    }

    private final class Collector: NSObject, XMLParserDelegate {
        let element: String
        var values: [String] = []
        var current: String?

        init(element: String) { self.element = element }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == element { current = "" }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            current? += string
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == element, let value = current {
                values.append(value)
                current = nil
            }
        }
    }
}
