import Foundation
import CCurl

/// One libcurl easy handle. A handle keeps its connections alive between requests, so one
/// handle per thread of sending gives keep-alive for free. Not thread-safe: libcurl allows
/// one thread at a time per handle, and this type is deliberately not `Sendable`.
public final class CurlEasy {
    let handle: UnsafeMutableRawPointer

    public init() {
        _ = CurlGlobal.initialized
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed (out of memory)") }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `request` and waits for the whole response.
    public func perform(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let transfer = prepare(request)
        return try transfer.response(curl_easy_perform(handle))
    }

    /// Sets the handle up for `request` without sending it: `perform` runs it on this
    /// thread, a `CurlMultiLoop` alongside others. The transfer owns what libcurl reads and
    /// writes while it runs (header list, body, error text, response) and must outlive it.
    func prepare(_ request: HTTPRequest) -> CurlTransfer {
        curl_easy_reset(handle)
        let transfer = CurlTransfer(easy: self, url: request.url, body: request.body)
        for header in request.headers {
            transfer.headerList = curl_slist_append(transfer.headerList, "\(header.name): \(header.value)")
        }
        // No "Expect: 100-continue" round trip before bodies. Not for SigV4: libcurl would
        // sign the empty header it then does not send, and the signature would not match.
        if request.awsSigV4 == nil { transfer.headerList = curl_slist_append(transfer.headerList, "Expect:") }

        let milliseconds = request.timeout.components.seconds * 1000
            + request.timeout.components.attoseconds / 1_000_000_000_000_000
        tb_curl_setopt_string(handle, CURLOPT_URL, request.url)
        tb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        tb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(max(1, milliseconds)))
        tb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, min(milliseconds, 10_000))))
        tb_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, transfer.headerList)
        if let signing = request.awsSigV4 {
            // libcurl computes the signature; the caller adds x-amz-content-sha256 (which
            // S3 requires and curl 7.88 does not send) and curl signs it with the rest.
            tb_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, "aws:amz:\(signing.region):\(signing.service)")
            tb_curl_setopt_string(handle, CURLOPT_USERPWD, "\(signing.accessKeyID):\(signing.secretAccessKey)")
        }
        let sink = Unmanaged.passUnretained(transfer.sink).toOpaque()
        tb_curl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlBodyCallback)
        tb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sink)
        tb_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        tb_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sink)
        tb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer)

        let method = request.method.uppercased()
        if method == "HEAD" {
            tb_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else if method != "GET" || transfer.body != nil {
            tb_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        if method != "GET", method != "HEAD", transfer.body == nil { transfer.body = .allocate(byteCount: 0, alignment: 1) }
        if let body = transfer.body {
            tb_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            tb_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, body.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 1)!)
        }
        return transfer
    }
}

/// One request set up on an easy handle, and what libcurl fills in while it runs. Holds the
/// handle, so a transfer running on a multi handle keeps it alive. Not `Sendable`: it lives
/// on the thread that runs it.
final class CurlTransfer {
    let easy: CurlEasy
    let url: String
    let sink = ResponseSink()
    var headerList: UnsafeMutablePointer<curl_slist>?
    /// The request body, copied: libcurl reads it from this address while the transfer runs.
    var body: UnsafeMutableRawBufferPointer?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)

    init(easy: CurlEasy, url: String, body: [UInt8]?) {
        self.easy = easy
        self.url = url
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        if let body {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: body.count, alignment: 1)
            copy.copyBytes(from: body)
            self.body = copy
        }
    }

    deinit {
        curl_slist_free_all(headerList)
        body?.deallocate()
        errorBuffer.deallocate()
    }

    /// The answer, once libcurl has finished the transfer with `code`.
    func response(_ code: CURLcode) throws(TransportError) -> HTTPResponse {
        guard code == CURLE_OK else {
            throw transportError(code, Array(UnsafeBufferPointer(start: errorBuffer, count: Int(CURL_ERROR_SIZE))), url: url)
        }
        var status = 0
        tb_curl_getinfo_long(easy.handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

extension CurlEasy {
    /// Sends one email through `server` and waits for the server's final answer.
    public func send(_ message: SMTPMessage, via server: SMTPServer, timeout: Duration) throws(TransportError) {
        curl_easy_reset(handle)
        let source = UploadSource(bytes: message.mime())
        let sourcePointer = Unmanaged.passRetained(source)
        defer { sourcePointer.release() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in message.to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000

        tb_curl_setopt_string(handle, CURLOPT_URL, server.url)
        tb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        tb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(max(1, milliseconds)))
        tb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, min(milliseconds, 10_000))))
        switch server.tls {
        case .plain: break
        case .starttls, .implicit: tb_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        }
        if let username = server.username { tb_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password = server.password { tb_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        tb_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(message.from)>")
        tb_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        tb_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        tb_curl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(source.bytes.count))
        tb_curl_setopt_read_callback(handle, CURLOPT_READFUNCTION, curlUploadCallback)
        tb_curl_setopt_pointer(handle, CURLOPT_READDATA, sourcePointer.toOpaque())
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            tb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK else { throw transportError(code, errorBuffer, url: server.url) }
    }
}

/// The bytes an upload reads, and how far it got.
private final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
}

private let curlUploadCallback: curl_read_callback = { buffer, size, count, context in
    let source = Unmanaged<UploadSource>.fromOpaque(context!).takeUnretainedValue()
    let length = min(size * count, source.bytes.count - source.offset)
    guard let buffer, length > 0 else { return 0 }
    source.bytes.withUnsafeBytes { raw in
        UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + source.offset, byteCount: length)
    }
    source.offset += length
    return length
}

/// A `TransportError` for a failed `curl_easy_perform`, with libcurl's detailed message.
private func transportError(_ code: CURLcode, _ errorBuffer: [CChar], url: String) -> TransportError {
    let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
    let kind: TransportError.Kind = switch code {
    case CURLE_OPERATION_TIMEDOUT: .timeout
    case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
    default: isSMTPRefusal(code) ? .refused : .other
    }
    return TransportError(kind: kind, curlCode: Int32(code.rawValue), message: message, url: url)
}

/// Codes with which libcurl reports that an SMTP server answered but refused the mail.
private func isSMTPRefusal(_ code: CURLcode) -> Bool {
    code == CURLE_UPLOAD_FAILED || code == CURLE_WEIRD_SERVER_REPLY || code == CURLE_REMOTE_ACCESS_DENIED
        || code == CURLE_QUOTE_ERROR || code == CURLE_SEND_FAIL_REWIND
}

/// Collects what libcurl hands to the callbacks during one `perform`.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
}

private let curlBodyCallback: curl_write_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let data, length > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: length) {
            sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
    }
    return length
}

private let curlHeaderCallback: curl_write_callback = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    // Trimmed as bytes: Foundation's `trimmingCharacters` goes through NSString on Linux
    // and cost more than the rest of a response's handling.
    let bytes = data.withMemoryRebound(to: UInt8.self, capacity: length) { UnsafeBufferPointer(start: $0, count: length) }
    let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return length }
    let line = bytes[first...last]
    if line.starts(with: "HTTP/".utf8) {
        sink.headers = []  // a new response (after 100 Continue or a redirect) starts
    } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        let value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
        sink.headers.append((String(decoding: line[..<colon], as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
    return length
}

/// `curl_global_init` exactly once, before the first handle.
enum CurlGlobal {
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()
}
