/// Where `ClientResponseParser` is in a response. The states mirror those of http_parser 2.9.4 as Debian builds
/// it (non-strict, with the fix of CVE-2020-8287), so that each byte is accepted or rejected as it would be; the
/// differences are deliberate, and the fuzzer's reference (Tests/LuaLoadCoreTests/Support/ParserDifferential.swift)
/// allows for them:
/// - A CR must be followed by LF, and chunk data by CRLF, as in http_parser's strict mode: built non-strict it
///   takes any byte there for the one expected, so a wrong chunk size or a stray CR goes unnoticed and the head
///   handed to Lua would not split into the lines that were parsed.
/// - 1xx, 204 and 304 responses never have a body (RFC 9110 §6.4.1), even with a Content-Length or a chunked
///   coding; http_parser reads one, and so would wait for bytes that never come.
/// - A 1xx other than 101 (100 Continue, 103 Early Hints) is interim: it is dropped and the response that
///   follows is read in its place. A 101 ends the response and the connection (`keepAlive`).
enum ResponsePhase: UInt8 {
    // The status line: "HTTP/" (after blank lines), the version's digits, the code, the reason phrase.
    case start, statusH, statusHT, statusHTT, statusHTTP, major, dot, minor, versionEnd, firstStatus, statusCode
    case reason, statusLF
    // Header lines, of the head and of a chunked body's trailers.
    /// A line starts: a name, or CR/LF ending the section.
    case lineStart
    case name
    /// After the colon: blanks skipped; CR/LF here means an empty value (which may still be folded).
    case discardWS, discardWSLF, discardLWS
    case value
    /// After the value's CR: LF expected.
    case valueLF
    /// After the value's LF: a blank folds the next line into the value (obs-fold); anything else ends the header.
    case valueLWS
    /// After the section's final CR: LF expected.
    case headLF
    // The body.
    case identity, untilEOF
    case chunkSizeStart, chunkSize, chunkExtension, chunkSizeLF, chunkData, chunkDataCR, chunkDataLF
    case done

    /// The phases whose bytes go through `head` (the head, and the trailers after it).
    @inline(__always)
    var isHead: Bool { rawValue <= ResponsePhase.headLF.rawValue }
}

/// The header-value machine's state: which header the value belongs to and how far its tokens matched, as
/// http_parser's header_state (the quirks included: a token is compared letter by letter, and a mismatch swallows
/// the letter, so "Connection: k,close" does not close).
enum HeaderValueState: UInt8 {
    case general
    /// Content-Length: before its first byte, in its digits, in the blanks after them.
    case contentLength, contentLengthDigits, contentLengthSpaces
    /// Transfer-Encoding: before its first byte, at a token's start, matching "chunked", in another token,
    /// just after "chunked".
    case transferEncoding, encodingTokenStart, matchingChunked, encodingToken, encodingChunked
    /// Connection (and Proxy-Connection): the same for the tokens keep-alive, close and upgrade.
    case connection, connectionTokenStart, matchingKeepAlive, matchingClose, matchingUpgrade, connectionToken
    case keepAlive, close, upgrade
}
