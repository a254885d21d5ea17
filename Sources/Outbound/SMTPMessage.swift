import Foundation

/// An email to send: envelope and content. `mime()` turns it into the RFC 5322 message
/// libcurl uploads: UTF-8 text (and HTML as a multipart/alternative), base64-encoded so any
/// character and any line length survives SMTP.
public struct SMTPMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var text: String
    public var html: String?
    /// Becomes the Message-ID, so a resend of the same step carries the same id.
    public var messageID: String
    public var date: Date

    public init(from: String, to: [String], subject: String, text: String, html: String?, messageID: String, date: Date) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.date = date
    }

    public func mime() -> [UInt8] {
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodedWord(subject))",
            "Date: \(Self.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
        ]
        if let html {
            let boundary = "tracebox-\(messageID.prefix(32))"
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += Self.part(text, type: "text/plain")
            lines.append("--\(boundary)")
            lines += Self.part(html, type: "text/html")
            lines.append("--\(boundary)--")
        } else {
            lines += Self.part(text, type: "text/plain")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    private static func part(_ content: String, type: String) -> [String] {
        ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: base64", ""]
            + Data(content.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
                .components(separatedBy: "\r\n")
    }

    /// RFC 2047: non-ASCII subjects travel as `=?UTF-8?B?…?=`.
    static func encodedWord(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}

/// Where and how mail is sent.
public struct SMTPServer: Sendable, Equatable {
    public enum TLSMode: String, Sendable {
        /// Plain SMTP (loopback relays, tests).
        case plain = "none"
        /// STARTTLS required: the send fails rather than go out in clear.
        case starttls
        /// TLS from the first byte (`smtps://`, port 465).
        case implicit
    }

    public var url: String
    public var tls: TLSMode
    public var username: String?
    public var password: String?

    public init(url: String, tls: TLSMode = .plain, username: String? = nil, password: String? = nil) {
        self.url = url
        self.tls = tls
        self.username = username
        self.password = password
    }
}
