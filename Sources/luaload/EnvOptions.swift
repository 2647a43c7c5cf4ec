import ArgumentParser
import LuaLoadCore
#if canImport(Glibc)
import Glibc
#endif

/// k6's -e NAME=value, --env-file FILE and --secret NAME: the script's `env` table, and values masked in every
/// report and message. docs/k6.md.
struct EnvOptions: ParsableArguments {
    @Option(name: [.customShort("e"), .customLong("env")], help: ArgumentHelp("A script variable, env.NAME in the script (repeatable); NAME alone takes it from luaload's environment.", valueName: "NAME=value"))
    var env: [String] = []

    @Option(name: .customLong("env-file"), help: ArgumentHelp("Script variables from a file of NAME=value lines (# comments; -e wins).", valueName: "file"))
    var envFile: [String] = []

    @Option(name: .customLong("secret"), help: ArgumentHelp("Mask this variable's value (-e / --env-file) as *** in every report, log and print() (repeatable).", valueName: "NAME"))
    var secret: [String] = []

    /// The variables in order (a later one of the same name wins) and the secret values.
    func resolve() throws -> (env: [(name: String, value: String)], secrets: [String]) {
        var values: [String: String] = [:]
        var order: [String] = []
        func set(_ name: String, _ value: String, _ origin: String) throws {
            guard Self.isName(name) else { throw UsageError("\(origin): \"\(name)\" is not a variable name (letters, digits, _; not starting with a digit)") }
            if values[name] == nil { order.append(name) }
            values[name] = value
        }
        for file in envFile {
            guard let text = Self.read(file) else { throw UsageError("--env-file \(file): cannot read it: \(String(cString: strerror(errno)))") }
            for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                var line = String(raw).trimmingWhitespace()
                if line.isEmpty || line.hasPrefix("#") { continue }
                if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingWhitespace() }
                guard let eq = line.firstIndex(of: "=") else { throw UsageError("\(file):\(k + 1): expected NAME=value, got \"\(line)\"") }
                var value = String(line[line.index(after: eq)...]).trimmingWhitespace()
                if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q { value = String(value.dropFirst().dropLast()) }
                try set(String(line[..<eq]).trimmingWhitespace(), value, "\(file):\(k + 1)")
            }
        }
        for e in env {
            if let eq = e.firstIndex(of: "=") {
                try set(String(e[..<eq]), String(e[e.index(after: eq)...]), "-e \(e)")
            } else {
                guard let v = getenv(e) else { throw UsageError("-e \(e): no value given and \(e) is not in luaload's environment (write -e \(e)=value)") }
                try set(e, String(cString: v), "-e \(e)")
            }
        }
        var secrets: [String] = []
        for name in secret {
            guard let v = values[name] else {
                throw UsageError("--secret \(name): no variable \(name) was given (-e \(name)=… or --env-file)")
            }
            secrets.append(v)
        }
        return (order.map { ($0, values[$0]!) }, secrets)
    }

    static func isName(_ s: String) -> Bool {
        guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    static func read(_ path: String) -> String? {
        guard let f = fopen(path, "r") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes += buf[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
