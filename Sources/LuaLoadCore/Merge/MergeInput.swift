/// Finds the run documents in a stream: a file of one `--json` output, or several concatenated, or
/// `kubectl logs` of many pods, where each pod's JSON (`--json -`) sits among its console lines.
public enum MergeInput {
    public struct Document {
        public var text: String
        /// 1-based line where it starts, for messages.
        public var line: Int
    }

    public struct SplitError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Every JSON object that starts at the beginning of a line, up to its matching brace (strings and
    /// escapes respected); other text is counted in `skipped` lines. An object still open at the end is an
    /// error: a run's output was cut off.
    public static func documents(in text: String, source: String) throws -> (documents: [Document], skipped: Int) {
        let bytes = Array(text.utf8)
        var docs: [Document] = []
        var skipped = 0, line = 1, i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "{") else {
                let lineEnd = bytes[i...].firstIndex(of: 10) ?? bytes.count
                if bytes[i..<lineEnd].contains(where: { $0 != 32 && $0 != 9 && $0 != 13 }) { skipped += 1 }
                line += 1
                i = lineEnd + 1
                continue
            }
            guard let end = matchingBrace(bytes, from: i) else {
                throw SplitError(description: "\(source):\(line): a JSON document that never ends (output cut off?)")
            }
            docs.append(Document(text: String(decoding: bytes[i...end], as: UTF8.self), line: line))
            line += bytes[i...end].reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
            i = end + 1
        }
        return (docs, skipped)
    }

    /// The index of the brace that closes the object opening at `start`; nil when it never closes.
    static func matchingBrace(_ b: [UInt8], from start: Int) -> Int? {
        var depth = 0, inString = false, escaped = false
        for k in start..<b.count {
            let c = b[k]
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth == 0 { return k }
            default: break
            }
        }
        return nil
    }

    /// The runs in one input: each document decoded (cjson) and read; an error names the input and line.
    public static func runs(in text: String, source: String) throws -> (runs: [RunRecord], skipped: Int) {
        let found = try documents(in: text, source: source)
        var runs: [RunRecord] = []
        for d in found.documents {
            let name = found.documents.count > 1 ? "\(source):\(d.line)" : source
            do {
                runs.append(try RunRecord(try JSONTree.decode(d.text), source: name))
            } catch let e as JSONTree.DecodeError {
                throw SplitError(description: "\(name): not JSON: \(e)")
            }
        }
        return (runs, found.skipped)
    }
}
