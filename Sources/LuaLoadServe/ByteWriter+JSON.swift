/// JSON string literals for the server's bodies (numbers are `int` and `fixed`; structure is written as literals).
extension ByteWriter {
    /// A JSON string literal: quotes, backslash and control characters escaped; other bytes as they are.
    mutating func jsonString<C: Collection>(_ text: C) where C.Element == UInt8 {
        bytes.append(UInt8(ascii: "\""))
        for b in text {
            switch b {
            case UInt8(ascii: "\""): lit("\\\"")
            case UInt8(ascii: "\\"): lit("\\\\")
            case 0x0A: lit("\\n")
            case 0x0D: lit("\\r")
            case 0x09: lit("\\t")
            case 0..<0x20, 0x7F:
                lit("\\u00")
                bytes.append(hexDigit(b >> 4)); bytes.append(hexDigit(b & 15))
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func jsonString(_ s: StaticString) {
        s.withUTF8Buffer { jsonString($0) }
    }
}
