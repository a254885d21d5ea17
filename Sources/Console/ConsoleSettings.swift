import Crypto
import Foundation
import TraceboxCore

/// How one `tracebox console` is reached and whom it lets in.
public struct ConsoleSettings: Sendable {
    /// The address to listen on (`127.0.0.1` unless `--public` allows another).
    public var host: String
    /// 0 picks a free port; the chosen one is in the first stdout line.
    public var port: Int
    /// The daemon's admin socket: the console has no other way in.
    public var socketPath: String
    /// The secret in the URL printed at start, exchanged for a cookie on first use.
    public var token: String
    /// Extra `Host` header values accepted besides the listen address (a public name
    /// behind a reverse proxy); anything else is refused, against DNS rebinding.
    public var allowedHosts: [String]

    public init(host: String, port: Int, socketPath: String, token: String, allowedHosts: [String] = []) {
        self.host = host
        self.port = port
        self.socketPath = socketPath
        self.token = token
        self.allowedHosts = allowedHosts
    }

    /// A fresh token: 32 bytes from the system's CSPRNG, in hex.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Whether `host` is a loopback address, where the console may listen without `--public`.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The form token that every POST must carry: derived from the session token, so it is
    /// stable for one start and unknown to any page that cannot read the console's HTML.
    var csrfToken: String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("tracebox-console-csrf".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Hex.encode(mac)
    }

    /// `host:port` as a URL authority (IPv6 in brackets).
    static func authority(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
