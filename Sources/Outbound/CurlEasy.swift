import Foundation
import CCurl

/// One libcurl easy handle. A handle keeps its connections alive between requests, so one
/// handle per thread of sending gives keep-alive for free. Not thread-safe: libcurl allows
/// one thread at a time per handle, and this type is deliberately not `Sendable`.
public final class CurlEasy {
    private let handle: UnsafeMutableRawPointer

    public init() {
        _ = CurlGlobal.initialized
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed (out of memory)") }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends `request` and waits for the whole response.
    public func perform(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        curl_easy_reset(handle)
        let sink = ResponseSink()
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

        var headerList: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // No "Expect: 100-continue" round trip before bodies.
        headerList = curl_slist_append(headerList, "Expect:")
        defer { curl_slist_free_all(headerList) }

        let milliseconds = request.timeout.components.seconds * 1000
            + request.timeout.components.attoseconds / 1_000_000_000_000_000
        tb_curl_setopt_string(handle, CURLOPT_URL, request.url)
        tb_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        tb_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(max(1, milliseconds)))
        tb_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, min(milliseconds, 10_000))))
        tb_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        tb_curl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION, curlBodyCallback)
        tb_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer.toOpaque())
        tb_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback)
        tb_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer.toOpaque())

        let method = request.method.uppercased()
        let body = request.body ?? (method == "GET" || method == "HEAD" ? nil : [])
        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errors in
            tb_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errors.baseAddress)
            if method == "HEAD" {
                tb_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
            } else if method != "GET" || body != nil {
                tb_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
            }
            guard let body else { return curl_easy_perform(handle) }
            return body.withUnsafeBytes { raw in
                tb_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(raw.count))
                tb_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
                return curl_easy_perform(handle)
            }
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            let kind: TransportError.Kind = switch code {
            case CURLE_OPERATION_TIMEDOUT: .timeout
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
            default: .other
            }
            throw TransportError(kind: kind, curlCode: Int32(code.rawValue), message: message, url: request.url)
        }
        var status = 0
        tb_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Collects what libcurl hands to the callbacks during one `perform`.
private final class ResponseSink {
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
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }.trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        sink.headers = []  // a new response (after 100 Continue or a redirect) starts
    } else if let colon = line.firstIndex(of: ":") {
        sink.headers.append((String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)))
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
