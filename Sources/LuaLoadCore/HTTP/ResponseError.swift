/// Why `ClientResponseParser` rejected a response. The raw value is what `Failure.badResponse` carries (0 is
/// never used: `feed` returns 0 for "no error"). The rejections follow http_parser's strict mode, which the
/// differential fuzzer (Tests/Fuzz) checks input by input.
public enum ResponseError: UInt8, Sendable {
    /// The first byte (after blank lines) is not the "H" of "HTTP/".
    case notHTTP = 1
    /// The status line does not start with "HTTP/<digit>.<digit> ".
    case badVersion
    /// The status code is missing, not a number, or above 999.
    case badStatus
    /// A CR in the head or around a chunk is not followed by LF.
    case missingLF
    /// A header name is empty, has a character outside RFC 7230's token set, or is not followed by ':'.
    case badHeaderName
    /// A header value holds a control character (other than tab).
    case badHeaderValue
    /// Content-Length is empty, not a number, has trailing garbage, or overflows 64 bits.
    case badContentLength
    /// Two Content-Length headers.
    case duplicateContentLength
    /// Both Content-Length and Transfer-Encoding: the body's length would be ambiguous (request smuggling).
    case lengthWithTransferEncoding
    /// The status line and headers exceed 80 KiB (http_parser's limit).
    case headTooLarge
    /// A chunk-size line is not a hex number (optionally followed by extensions), or overflows 64 bits.
    case badChunkSize
    /// A chunk's data is not followed by CRLF.
    case badChunkEnd
    /// A chunk-size line or the trailer section exceeds 80 KiB.
    case chunkLineTooLarge

    /// The text that follows "invalid HTTP response: " in reports and `res.error`.
    public var text: String {
        switch self {
        case .notHTTP: return "it does not start with HTTP/"
        case .badVersion: return "bad HTTP version in the status line"
        case .badStatus: return "bad status code in the status line"
        case .missingLF: return "CR not followed by LF"
        case .badHeaderName: return "bad header name"
        case .badHeaderValue: return "control character in a header value"
        case .badContentLength: return "bad Content-Length"
        case .duplicateContentLength: return "two Content-Length headers"
        case .lengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .headTooLarge: return "status line and headers larger than 80 KiB"
        case .badChunkSize: return "bad chunk size"
        case .badChunkEnd: return "chunk data not followed by CRLF"
        case .chunkLineTooLarge: return "chunk-size line or trailers larger than 80 KiB"
        }
    }
}
