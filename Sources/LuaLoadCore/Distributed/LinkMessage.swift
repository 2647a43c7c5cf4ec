/// The agent link's messages: one JSON object per frame, its kind in "type". In order:
///
///     agent → controller   hello {version, token, tags}          controller → agent   welcome {id, segment, silence_ms} | refused {message}
///     controller → agent   run {script, files, options}           agent → controller   ready {} | failed {message}
///     controller → agent   start {delay_ms}                       agent → controller   second {…} once a second, ping {}
///     controller → agent   users {users} | stop {reason, note}    agent → controller   stopping {reason} (SIGTERM/Ctrl-C there)
///                                                                 agent → controller   final {document}
///
/// Nothing is sent per request: a `second` carries what the Runner's tick merged (SecondDelta.swift).
enum LinkMessage {
    static func encode(_ type: String, _ body: (JSONWriter) -> Void = { _ in }) -> [UInt8] {
        let w = JSONWriter()
        w.object {
            w.key("type"); w.string(type)
            body(w)
        }
        return Array(w.output.utf8)
    }

    /// The agent's last message: its report spliced in as it is (a JSON object, not a string to escape and
    /// decode twice), read back by `finalDocument`.
    static let finalPrefix = Array("{\"type\":\"final\",\"document\":".utf8)
    static func final(_ document: String) -> [UInt8] {
        var doc = Array(document.utf8)
        while doc.last == 10 { doc.removeLast() }
        return finalPrefix + doc + [UInt8(ascii: "}")]
    }

    /// The report in a `final` frame, as text; nil when the frame is another message.
    static func finalDocument(_ frame: [UInt8]) -> String? {
        guard frame.count > finalPrefix.count, frame.starts(with: finalPrefix), frame.last == UInt8(ascii: "}") else { return nil }
        return String(decoding: frame[finalPrefix.count..<frame.count - 1], as: UTF8.self) + "\n"
    }

    /// A frame's JSON and its type; a frame that is not a JSON object with a type is an error.
    static func decode(_ frame: [UInt8]) throws -> (type: String, body: JSONTree) {
        let tree: JSONTree
        do {
            tree = try JSONTree.decode(String(decoding: frame, as: UTF8.self))
        } catch {
            throw LinkError("a message that is not JSON (\(error))")
        }
        guard let type = tree["type"]?.string else { throw LinkError("a message without a \"type\"") }
        return (type, tree)
    }
}

extension JSONWriter {
    /// A double with all the digits a run option may need (a spawn rate of 0.001/s).
    func exact(_ v: Double) { number(v, decimals: 9) }
    func optional(_ key: String, _ v: Double?) { self.key(key); if let v { exact(v) } else { null() } }
    func optional(_ key: String, _ v: Int?) { self.key(key); if let v { int(v) } else { null() } }
    func optional(_ key: String, _ v: String?) { self.key(key); if let v { string(v) } else { null() } }
}
