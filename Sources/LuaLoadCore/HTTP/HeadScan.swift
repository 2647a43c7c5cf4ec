#if canImport(Glibc)
import Glibc
#endif

/// What a response head asks of the client beyond handing it to the script: cookies to keep, a body to
/// decode. One pass over the header lines' first letters; only lines that start like a wanted name are compared.
struct HeadScan {
    /// A `Set-Cookie` header is present.
    var setsCookie = false
    /// The body's `Content-Encoding`, when it is one the client decodes.
    var encoding: ContentDecoder.Encoding? = nil
    /// A `Content-Encoding` other than gzip, deflate or identity: the body is passed on as it came.
    var unknownEncoding = false

    /// Scans `head` ("HTTP/1.1 200 OK\r\nName: value\r\n...\r\n\r\n").
    init(_ head: UnsafeRawBufferPointer) {
        guard let base = head.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let end = base + head.count
        var p = base
        while let nl = memchr(p, 0x0A, end - p)?.assumingMemoryBound(to: UInt8.self) {
            p = UnsafePointer(nl) + 1
            guard p < end else { break }
            switch p[0] | 0x20 {
            case 0x73 where HeadScan.starts(p, end, "set-cookie:"):   // s
                setsCookie = true
            case 0x63 where HeadScan.starts(p, end, "content-encoding:"):   // c
                readEncoding(p + 17, end)
            default:
                break
            }
        }
    }

    private mutating func readEncoding(_ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>) {
        var p = start
        while p < end && (p[0] == 0x20 || p[0] == 0x09) { p += 1 }
        if HeadScan.starts(p, end, "gzip") || HeadScan.starts(p, end, "x-gzip") {
            encoding = .gzip
        } else if HeadScan.starts(p, end, "deflate") {
            encoding = .deflate
        } else if !HeadScan.starts(p, end, "identity") && p < end && p[0] != 0x0D {
            unknownEncoding = true
        }
    }

    /// Whether the bytes at `p` begin with `lowered`, ignoring ASCII case (`|0x20` leaves '-' and ':' as they are).
    @inline(__always)
    static func starts(_ p: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, _ lowered: StaticString) -> Bool {
        let n = lowered.utf8CodeUnitCount
        guard end - p >= n else { return false }
        let s = lowered.utf8Start
        for k in 0..<n where p[k] | 0x20 != s[k] { return false }
        return true
    }
}
