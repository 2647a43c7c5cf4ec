// A tiny JSON reader for the target server's small request bodies (no Foundation). Writing: ByteWriter+JSON.swift.

/// A parsed JSON value. Strings are UTF-8 bytes with escapes resolved; numbers keep their literal form too.
enum JSONValue {
    case null
    case bool(Bool)
    case number(Double, isIntegerLiteral: Bool)
    case string([UInt8])
    case array([JSONValue])
    case object([(key: [UInt8], value: JSONValue)])

    subscript(key: StaticString) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return key.withUTF8Buffer { k in
            // The last duplicate wins, like most JSON libraries.
            fields.last(where: { $0.key.elementsEqual(k) })?.value
        }
    }

    var stringBytes: [UInt8]? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value as an exact integer if it is a number with an integral value in Int range (5e6 and 5000000.0 count).
    var integer: Int? {
        guard case .number(let d, _) = self, d.isFinite, d == d.rounded(), abs(d) < 9.0e15 else { return nil }
        return Int(d)
    }

    var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    /// Parses a complete JSON text (RFC 8259; surrounding whitespace allowed). nil if malformed or nested deeper than 64.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> JSONValue? {
        var p = JSONReader(bytes: bytes)
        p.skipSpace()
        guard let v = p.value(depth: 0) else { return nil }
        p.skipSpace()
        return p.pos == bytes.count ? v : nil
    }
}

private struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    var pos = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inline(__always) var atEnd: Bool { pos >= bytes.count }
    @inline(__always) var peek: UInt8 { bytes[pos] }

    mutating func skipSpace() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { break }
        }
    }

    mutating func expect(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count - pos >= n else { return false }
        let ok = word.withUTF8Buffer { w in (0..<n).allSatisfy { bytes[pos + $0] == w[$0] } }
        if ok { pos += n }
        return ok
    }

    mutating func value(depth: Int) -> JSONValue? {
        guard !atEnd, depth < 64 else { return nil }
        switch peek {
        case UInt8(ascii: "{"):
            pos += 1
            var fields: [(key: [UInt8], value: JSONValue)] = []
            skipSpace()
            if !atEnd && peek == UInt8(ascii: "}") { pos += 1; return .object(fields) }
            while true {
                skipSpace()
                guard !atEnd, peek == UInt8(ascii: "\""), let key = string() else { return nil }
                skipSpace()
                guard !atEnd, peek == UInt8(ascii: ":") else { return nil }
                pos += 1
                skipSpace()
                guard let v = value(depth: depth + 1) else { return nil }
                fields.append((key, v))
                skipSpace()
                guard !atEnd else { return nil }
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: "}") { pos += 1; return .object(fields) }
                return nil
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipSpace()
            if !atEnd && peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipSpace()
                guard let v = value(depth: depth + 1) else { return nil }
                items.append(v)
                skipSpace()
                guard !atEnd else { return nil }
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                if peek == UInt8(ascii: "]") { pos += 1; return .array(items) }
                return nil
            }
        case UInt8(ascii: "\""):
            return string().map { .string($0) }
        case UInt8(ascii: "t"): return expect("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return expect("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return expect("null") ? .null : nil
        default: return number()
        }
    }

    mutating func digits() -> Int {
        let start = pos
        while !atEnd, peek >= 48, peek <= 57 { pos += 1 }
        return pos - start
    }

    mutating func number() -> JSONValue? {
        let start = pos
        var integral = true
        if !atEnd && peek == UInt8(ascii: "-") { pos += 1 }
        guard !atEnd else { return nil }
        if peek == UInt8(ascii: "0") { pos += 1 } else if digits() == 0 { return nil }
        if !atEnd && peek == UInt8(ascii: ".") {
            pos += 1; integral = false
            if digits() == 0 { return nil }
        }
        if !atEnd && (peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E")) {
            pos += 1; integral = false
            if !atEnd && (peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-")) { pos += 1 }
            if digits() == 0 { return nil }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
        guard let d = Double(text) else { return nil }
        return .number(d, isIntegerLiteral: integral)
    }

    /// At an opening quote: the decoded bytes, or nil (unterminated, raw control character, bad escape).
    mutating func string() -> [UInt8]? {
        pos += 1
        var out: [UInt8] = []
        while !atEnd {
            let c = peek
            pos += 1
            if c == UInt8(ascii: "\"") { return out }
            if c < 0x20 { return nil }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard !atEnd else { return nil }
            let e = peek
            pos += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4() else { return nil }
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // A high surrogate must be followed by \u and a low surrogate.
                    guard expect("\\u"), let low = hex4(), low >= 0xDC00, low < 0xE000 else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: UTF8.encode(u)!)
            default: return nil
            }
        }
        return nil
    }

    mutating func hex4() -> UInt32? {
        guard bytes.count - pos >= 4 else { return nil }
        var v: UInt32 = 0
        for i in 0..<4 {
            guard let h = hexValue(bytes[pos + i]) else { return nil }
            v = v << 4 | UInt32(h)
        }
        pos += 4
        return v
    }
}
