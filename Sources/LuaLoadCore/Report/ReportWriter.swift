#if canImport(Glibc)
import Glibc
#endif

/// The report files a command writes (--json, --csv, --html, --junit, --hdr-log): checked before any
/// traffic, then each written on its own, so one that fails (disk full, a folder removed mid-run) neither
/// stops the others nor passes unseen.
///
/// The rule for paths: missing parent folders are created before the run (as `mkdir -p`); a path that is
/// a folder, or a file or folder that cannot be written, is refused before any traffic (exit 2).
public struct ReportWriter {
    /// "--json out/run.json: No space left on device", one per report not (fully) written.
    public private(set) var failures: [String] = []

    public init() {}

    /// Before any traffic: each (flag, path) can be written. "-" is stdout. CSV prefixes are checked as
    /// their first file (`prefix_stats.csv`). Throws the first problem as a UsageError naming the flag.
    public static func check(_ outputs: [(flag: String, path: String)]) throws {
        for (flag, path) in outputs where path != "-" {
            if let problem = problem(writing: path) { throw UsageError("\(flag) \(path): \(problem)") }
        }
    }

    /// Why `path` cannot be written (after creating its missing folders), or nil.
    static func problem(writing path: String) -> String? {
        if path.isEmpty { return "an empty path" }
        if path.hasSuffix("/") { return "a folder, not a file" }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let folder = String(path[..<slash])
            if let problem = makeFolders(folder) { return problem }
        }
        var st = stat()
        if stat(path, &st) == 0 {
            if (st.st_mode & S_IFMT) == S_IFDIR { return "a folder, not a file" }
            return access(path, W_OK) == 0 ? nil : String(cString: strerror(errno))
        }
        // A probe: create the file and remove it, so a failed run leaves nothing behind.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 { return String(cString: strerror(errno)) }
        close(fd)
        unlink(path)
        return nil
    }

    /// `mkdir -p folder`; nil on success, else why not.
    static func makeFolders(_ folder: String) -> String? {
        var st = stat()
        if stat(folder, &st) == 0 {
            return (st.st_mode & S_IFMT) == S_IFDIR ? nil : "\(folder) is not a folder"
        }
        if let slash = folder.lastIndex(of: "/"), slash != folder.startIndex {
            if let problem = makeFolders(String(folder[..<slash])) { return problem }
        }
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            return "cannot create folder \(folder): \(String(cString: strerror(errno)))"
        }
        return nil
    }

    /// Writes one report (`flag` names it in a failure); stdout for "-". A failure is kept, not thrown.
    public mutating func write(_ flag: String, _ path: String, _ text: String) {
        let text = SecretMask.apply(text)   // --secret
        if path == "-" {
            var t = text
            t.withUTF8 { _ = fwrite($0.baseAddress, 1, $0.count, stdout) }
            fflush(stdout)
            return
        }
        if let problem = ReportWriter.writeFile(path, text) { failures.append("\(flag) \(path): \(problem)") }
    }

    /// The whole text to `path`, every write and the close checked (a full disk shows at either).
    static func writeFile(_ path: String, _ text: String) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { return String(cString: strerror(errno)) }
        var t = text
        let problem: String? = t.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    return String(cString: strerror(errno))
                }
                done += n
            }
            return nil
        }
        if close(fd) != 0 && problem == nil { return String(cString: strerror(errno)) }
        return problem
    }
}
