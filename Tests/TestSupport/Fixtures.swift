import Foundation
import Outbound

/// The scripted HTTP destination (`Tests/Fixtures/destination.py`) on a loopback port, and
/// the requests it received.
/// A loopback server a test starts and must stop.
public protocol StoppableFixture: Sendable {
    func stop()
}

public final class DestinationServer: StoppableFixture {
    public let port: Int
    public let logPath: String
    private let child: ChildProcess

    /// One request as the destination logged it.
    public struct Request: Decodable, Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [String: String]
        public var body: String
        public var idempotencyKey: String
        public var status: Int
        /// When the request arrived and when it was answered (seconds since the epoch).
        public var arrived: Double
        public var answered: Double

        enum CodingKeys: String, CodingKey {
            case method, path, query, headers, body, status, idempotencyKey = "idempotency_key", arrived, answered = "time"
        }
    }

    public init(directory: String) throws {
        logPath = directory + "/destination-\(UUID().uuidString.prefix(8)).jsonl"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        child = try ChildProcess("/usr/bin/env", ["python3", Support.repositoryRoot + "/Tests/Fixtures/destination.py", logPath])
        port = try Self.port(of: child, name: "destination")
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public func requests() -> [Request] {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    /// The most of `requests` that were ever being answered at once.
    public static func mostAtOnce(_ requests: [Request]) -> Int {
        var edges: [(time: Double, change: Int)] = []
        for request in requests {
            edges.append((request.arrived, 1))
            edges.append((request.answered, -1))
        }
        // At equal times an answer counts before an arrival.
        edges.sort { $0.time != $1.time ? $0.time < $1.time : $0.change < $1.change }
        var current = 0
        var most = 0
        for edge in edges {
            current += edge.change
            most = max(most, current)
        }
        return most
    }

    public func stop() { _ = child.kill() }

    static func port(of child: ChildProcess, name: String) throws -> Int {
        guard child.waitForLines(1, timeout: 30), let line = child.output.first, line.hasPrefix("PORT "),
              let port = Int(line.dropFirst(5)) else {
            _ = child.kill()
            throw FixtureError("the \(name) fixture did not start")
        }
        return port
    }
}

/// A real SMTP server (aiosmtpd, `Tests/Fixtures/smtp_sink.py`) on a loopback port, and the
/// messages it accepted.
public final class SMTPSink: StoppableFixture {
    public let port: Int
    public let directory: String
    private let child: ChildProcess

    public struct Message: Sendable {
        public var from: String
        public var to: [String]
        /// The message as received (headers and body).
        public var raw: String
    }

    public init(directory: String) throws {
        self.directory = directory + "/mail-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        child = try ChildProcess("/usr/bin/env", ["python3", Support.repositoryRoot + "/Tests/Fixtures/smtp_sink.py", self.directory])
        port = try DestinationServer.port(of: child, name: "SMTP")
    }

    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// Path of the file whose presence makes the server refuse every recipient (550).
    public var refusalSwitch: String { directory + "/reject" }

    /// Refuses every recipient from now on (a misconfigured mail server), or accepts again.
    public func refuseRecipients(_ refuse: Bool) {
        if refuse {
            _ = FileManager.default.createFile(atPath: refusalSwitch, contents: Data())
        } else {
            try? FileManager.default.removeItem(atPath: refusalSwitch)
        }
    }

    public func messages() -> [Message] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted { Int($0.dropLast(5)) ?? 0 < Int($1.dropLast(5)) ?? 0 }.compactMap { name in
            let base = directory + "/" + name.dropLast(5)
            guard let envelope = FileManager.default.contents(atPath: base + ".json"),
                  let object = try? JSONSerialization.jsonObject(with: envelope) as? [String: Any],
                  let raw = FileManager.default.contents(atPath: base + ".eml") else { return nil }
            return Message(from: object["from"] as? String ?? "", to: object["to"] as? [String] ?? [],
                           raw: String(decoding: raw, as: UTF8.self))
        }
    }

    public func stop() { _ = child.kill() }
}

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Waits until `condition` holds, checking every few milliseconds, up to `timeout`.
public func waitUntil(timeout: TimeInterval = 30, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try condition()
}

/// Waits until an asynchronous `condition` holds (a query, say), checking every 10 ms, up
/// to `timeout`.
public func waitUntil(timeout: TimeInterval = 30, checking condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// moto's S3 on a loopback port with signature checking on (`Tests/Fixtures/moto_s3.py`),
/// and the credentials of a user allowed to use it.
public final class MotoS3: Sendable {
    public let port: Int
    public let accessKeyID: String
    public let secretAccessKey: String
    private let child: ChildProcess

    public init() throws {
        child = try ChildProcess("/usr/bin/env", ["python3", Support.repositoryRoot + "/Tests/Fixtures/moto_s3.py"])
        let parts = child.waitForLines(1, timeout: 60) ? (child.output.first ?? "").split(separator: " ").map(String.init) : []
        guard parts.count == 6, parts[0] == "PORT", let port = Int(parts[1]) else {
            _ = child.kill()
            throw FixtureError("moto_server did not start (is the Python package moto[server] installed?)")
        }
        self.port = port
        accessKeyID = parts[3]
        secretAccessKey = parts[5]
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// A client of `bucket` signed as the allowed user (through `endpoint`, default moto's own).
    public func client(bucket: String = "tracebox-archive", endpoint: String? = nil, timeout: Duration = .seconds(120)) -> S3Client {
        S3Client(endpoint: endpoint ?? self.endpoint, region: "us-east-1", bucket: bucket, accessKeyID: accessKeyID,
                 secretAccessKey: secretAccessKey, timeout: timeout)
    }

    /// Creates `bucket` and returns its client.
    public func createBucket(_ bucket: String = "tracebox-archive") throws -> S3Client {
        let s3 = client(bucket: bucket)
        try s3.createBucket()
        return s3
    }

    public func stop() { _ = child.kill() }
}

/// A proxy in front of moto that fails S3 requests on demand (`Tests/Fixtures/s3_fault_proxy.py`):
/// 500 answers, connections cut mid-request, or requests held (a stalled S3) until released.
public final class S3FaultProxy: Sendable {
    public let port: Int
    private let child: ChildProcess

    public init(upstream: MotoS3) throws {
        child = try ChildProcess("/usr/bin/env", ["python3", Support.repositoryRoot + "/Tests/Fixtures/s3_fault_proxy.py", String(upstream.port)])
        port = try DestinationServer.port(of: child, name: "S3 fault proxy")
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public enum Fault: String, Sendable {
        case internalError = "500"
        case cut
        case hold
    }

    /// Fails the next `count` requests (of `methods`, or any) with `fault`.
    public func arm(_ fault: Fault, count: Int, methods: [String]? = nil) throws {
        var config: [String: Any] = ["mode": fault.rawValue, "count": count]
        if let methods { config["methods"] = methods }
        _ = try control(method: "POST", body: try JSONSerialization.data(withJSONObject: config))
    }

    /// How many faults have been injected so far.
    public func injected() throws -> Int {
        (try control(method: "GET", body: nil)["injected"] as? Int) ?? 0
    }

    /// How many requests are being held now (`hold`).
    public func held() throws -> Int {
        (try control(method: "GET", body: nil)["held"] as? Int) ?? 0
    }

    /// Lets every held request through and disarms the fault.
    public func release() throws {
        let response = try HTTPClient().sendBlocking(HTTPRequest(method: "POST", url: endpoint + "/__release", headers: [],
                                                                 body: [], timeout: .seconds(10)))
        guard response.status == 200 else { throw FixtureError("the S3 fault proxy did not release") }
    }

    private func control(method: String, body: Data?) throws -> [String: Any] {
        let response = try HTTPClient().sendBlocking(HTTPRequest(
            method: method, url: endpoint + "/__fault", headers: [(name: "Content-Type", value: "application/json")],
            body: body.map { [UInt8]($0) }, timeout: .seconds(10)))
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else {
            throw FixtureError("the S3 fault proxy did not answer")
        }
        return object
    }

    public func stop() { _ = child.kill() }
}
