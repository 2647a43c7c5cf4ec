/// The files a script opens only while it runs (in a task, not while it loads), found in its source: calls of
/// `io.open`, `io.lines`, `dofile`, `loadfile`, `data.csv`, `data.lines` whose file name is a quoted string. The
/// controller sends those it can name too; one it cannot (no such file here, or a name that climbs out of the
/// folder) calls the run off before any agent starts, naming the script's `file:line`. A name computed at run
/// time cannot be known: it is said once (the file must then be on every agent).
struct FileMention {
    enum Kind { case named(String), computed }
    var function: String
    var kind: Kind
    /// io.open's mode when it is a quoted string ("w", "a+": the file is written, not read).
    var mode: String?
    var line: Int
}

enum SourceScan {
    static let openers: Set<String> = ["io.open", "io.lines", "dofile", "loadfile", "data.csv", "data.lines"]

    /// Every call of an opener in `source`, in order (comments and long strings skipped).
    static func mentions(_ source: [UInt8]) -> [FileMention] {
        let tokens = tokenize(source)
        var out: [FileMention] = []
        var i = 0
        while i < tokens.count {
            defer { i += 1 }
            guard case .name(let n) = tokens[i].kind, openers.contains(n) else { continue }
            if i > 0, case .punct(UInt8(ascii: ":")) = tokens[i - 1].kind { continue }   // obj:dofile(…), a method
            var k = i + 1
            var parens = false
            if k < tokens.count, case .punct(UInt8(ascii: "(")) = tokens[k].kind { parens = true; k += 1 }
            guard k < tokens.count else { continue }
            if case .string(let s) = tokens[k].kind {
                var mode: String?
                if parens, k + 2 < tokens.count, case .punct(UInt8(ascii: ",")) = tokens[k + 1].kind, case .string(let m) = tokens[k + 2].kind { mode = m }
                out.append(FileMention(function: n, kind: .named(s), mode: mode, line: tokens[i].line))
            } else if parens, !(n == "io.lines" && { if case .punct(UInt8(ascii: ")")) = tokens[k].kind { return true }; return false }()) {
                out.append(FileMention(function: n, kind: .computed, mode: nil, line: tokens[i].line))
            }
        }
        return out
    }

    struct Token {
        enum Kind { case name(String), string(String), punct(UInt8), other }
        var kind: Kind
        var line: Int
    }

    /// Lua's lexical shape, enough to find calls: dotted names, quoted strings (escapes kept raw but for
    /// \" and \\), punctuation; comments and [[long strings]] skipped.
    static func tokenize(_ s: [UInt8]) -> [Token] {
        var out: [Token] = []
        var i = 0, line = 1
        func at(_ k: Int) -> UInt8 { k < s.count ? s[k] : 0 }
        func isName(_ c: UInt8) -> Bool { c == UInt8(ascii: "_") || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) }
        /// The end of a long bracket `[==[ … ]==]` starting at `k` (on `[`), nil when `k` does not open one.
        func longEnd(_ k: Int) -> Int? {
            var j = k + 1, level = 0
            while at(j) == UInt8(ascii: "=") { level += 1; j += 1 }
            guard at(j) == UInt8(ascii: "[") else { return nil }
            j += 1
            while j < s.count {
                if s[j] == 10 { line += 1 }
                if s[j] == UInt8(ascii: "]") {
                    var e = j + 1, l = 0
                    while at(e) == UInt8(ascii: "=") { l += 1; e += 1 }
                    if l == level && at(e) == UInt8(ascii: "]") { return e + 1 }
                }
                j += 1
            }
            return s.count
        }
        while i < s.count {
            let c = s[i]
            if c == 10 { line += 1; i += 1; continue }
            if c == 32 || c == 9 || c == 13 { i += 1; continue }
            if c == UInt8(ascii: "-") && at(i + 1) == UInt8(ascii: "-") {
                if at(i + 2) == UInt8(ascii: "["), let end = longEnd(i + 2) { i = end; continue }
                while i < s.count && s[i] != 10 { i += 1 }
                continue
            }
            if c == UInt8(ascii: "["), let end = longEnd(i) { out.append(Token(kind: .other, line: line)); i = end; continue }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                let startLine = line
                var text: [UInt8] = []
                i += 1
                while i < s.count && s[i] != c && s[i] != 10 {
                    if s[i] == UInt8(ascii: "\\") && i + 1 < s.count { text.append(s[i + 1]); i += 2; continue }
                    text.append(s[i]); i += 1
                }
                i += 1
                out.append(Token(kind: .string(String(decoding: text, as: UTF8.self)), line: startLine))
                continue
            }
            if isName(c) && !(c >= 48 && c <= 57) {
                var j = i
                while j < s.count && (isName(s[j]) || (s[j] == UInt8(ascii: ".") && isName(at(j + 1)) && at(j - 1) != UInt8(ascii: "."))) { j += 1 }
                out.append(Token(kind: .name(String(decoding: s[i..<j], as: UTF8.self)), line: line))
                i = j
                continue
            }
            out.append(Token(kind: "(),:".utf8.contains(c) ? .punct(c) : .other, line: line))
            i += 1
        }
        return out
    }
}

/// Places each file where an agent will look for it: under its path in the script's folder (where
/// `data.csv` & co. find it, through the script's folder) and, when the script names it relative to the
/// working directory, under that name too (the agent runs in its package folder).
struct FilePlacer {
    let folder: String, folderReal: String, script: String
    var seen: Set<String> = []

    /// Adds the file named `n` (as the script gave it to io.open & co.). `place`: the script's file:line for
    /// a name found in its source (then a file that is not here is refused; one opened while loading was read).
    mutating func add(_ n: String, viaData: Bool, where place: String?, into package: inout RunPackage) throws {
        guard let real = RunPackage.realPath(n) else {
            if let place { throw UsageError("\(place): opens \"\(n)\" while the test runs, and there is no such file here to send the agents: put it in the script's folder (\(folder)), or open it while the script loads") }
            return
        }
        let inside = folderReal == "/" ? "/" : folderReal + "/"
        guard real.hasPrefix(inside) else {
            throw UsageError("\(place.map { $0 + ": " } ?? "")\(script) opens \(n), outside its folder \(folder): the controller sends agents the script's folder only (move the file next to the script)")
        }
        let relative = String(real.dropFirst(inside.count))
        let bytes = try RunPackage.read(n)
        if seen.insert(relative).inserted { package.files.append((relative, bytes)) }
        if viaData && n.hasPrefix(folder + "/") { return }   // data.csv("x.csv"): found through the script's folder
        if n.hasPrefix("/") {
            package.notes.append("\(place ?? script) opens \(n) by its absolute name: each agent reads its own \(n) (the controller sends it as \(relative), where data.csv/data.lines and relative names find it)")
            return
        }
        let parts = n.split(separator: "/").filter { $0 != "." }
        let asNamed = parts.joined(separator: "/")
        guard asNamed != relative else { return }
        if parts.contains("..") {
            throw UsageError("\(place.map { $0 + ": " } ?? "")\(script) opens \(n), a name that climbs out of the working directory: an agent cannot place it there (run the controller from the script's folder, or use data.csv/data.lines)")
        }
        if seen.insert(asNamed).inserted { package.files.append((asNamed, bytes)) }
    }

    /// The files the script's source (and its shipped Lua modules) name for opening while the test runs.
    mutating func scanRunTime(opened: Set<String>, into package: inout RunPackage) throws {
        let sources = package.files.filter { $0.path == package.scriptName || $0.path.hasSuffix(".lua") }
        for source in sources {
            let file = source.path == package.scriptName ? script : folder + "/" + source.path
            for m in SourceScan.mentions(source.bytes) {
                let place = "\(file):\(m.line)"
                switch m.kind {
                case .computed:
                    package.notes.append("\(place): \(m.function) of a computed file name: a file the script opens only while the test runs is sent when it is named in quotes; this one must be on every agent")
                case .named(let literal):
                    if let mode = m.mode, mode.contains(where: { "wa+".contains($0) }) { continue }   // written, not read
                    let n = m.function.hasPrefix("data.") && !literal.hasPrefix("/") ? folder + "/" + literal : literal
                    if opened.contains(n) || literal.isEmpty { continue }
                    if literal.hasPrefix("/") && RunPackage.realPath(n) == nil {
                        package.notes.append("\(place): \(m.function)(\"\(literal)\"): not on this box: it must be on every agent")
                        continue
                    }
                    try add(n, viaData: m.function.hasPrefix("data."), where: place, into: &package)
                }
            }
        }
    }
}
