import CLua
import CLuaShim
#if canImport(Glibc)
import Glibc
#endif

/// What the controller sends every agent: the script, the files it opens as it loads (data.csv/lines,
/// required modules, io.open), placed relative to the script's folder, and the run's options. The agent
/// writes the files into a folder of its own and runs its segment of the same test.
public struct RunPackage {
    /// The script's file name; it is `files[0]`.
    public var scriptName: String
    /// Paths relative to the script's folder, and contents.
    public var files: [(path: String, bytes: [UInt8])]
    public var options: RunOptions
    /// The controller's -t: an agent without its own -t runs this many threads (nil: its cores).
    public var agentThreads: Int?
    /// The controller's --tag: on every agent's report, unless the agent has its own tag of that key.
    public var runTags: [(key: String, value: String)] = []
    /// The controller's --exit-code-on-error: an agent's exit code when a request failed (without thresholds).
    public var exitCodeOnError: Int32 = 1

    /// What the controller should say about the files (names it cannot check; said once, before the start).
    public var notes: [String] = []

    /// Controller: reads the script, what it opens when it loads, and the files its source names in quotes
    /// for opening while it runs (RunPackage+Scan). A file outside the script's folder, or one named for the
    /// run that is not here, cannot be placed on an agent the same way: the run is refused before any agent starts.
    public static func collect(_ options: RunOptions) throws -> RunPackage {
        let path = options.scriptPath
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let folderReal = realPath(folder.isEmpty ? "/" : folder) else { throw UsageError("cannot read the folder of \(path)") }
        var package = RunPackage(scriptName: name, files: [(name, try read(path))], options: options)
        var placer = FilePlacer(folder: folder, folderReal: folderReal, script: path)
        placer.seen.insert(name)
        let opened = try openedFiles(path, folder: folder)
        for o in opened { try placer.add(o.name, viaData: o.viaData, where: nil, into: &package) }
        try placer.scanRunTime(opened: Set(opened.map(\.name)), into: &package)
        var shipped = options
        shipped.tls.caFile = try options.tls.caFile.map { try ship($0, as: "_tls/ca.pem", &package.files) }
        shipped.tls.certFile = try options.tls.certFile.map { try ship($0, as: "_tls/cert.pem", &package.files) }
        shipped.tls.keyFile = try options.tls.keyFile.map { try ship($0, as: "_tls/key.pem", &package.files) }
        package.options = shipped
        return package
    }

    private static func ship(_ path: String, as name: String, _ files: inout [(path: String, bytes: [UInt8])]) throws -> String {
        files.append((name, try read(path)))
        return name
    }

    /// The files the script opens for reading while it loads, as it named them: its state runs a recorder
    /// around io.open, loadfile, dofile and require's file searcher, installed before the prelude takes
    /// its copy of io.open.
    static func openedFiles(_ path: String, folder: String) throws -> [(name: String, viaData: Bool)] {
        guard let L = ll_newstate() else { throw UsageError("cannot create a Lua state") }
        defer { ll_close(L) }
        func check(_ rc: Int32) throws {
            guard rc != LUA_OK else { return }
            var len = 0
            let message = ll_tostring(L, -1, &len).map { String(cString: $0) } ?? "error"
            throw UsageError("\(path): \(message)")
        }
        try check(recorder.withCString { ll_dostring(L, $0, strlen($0), "=luaload/recorder") })
        if let message = Prelude.load(into: L) { throw UsageError(message) }
        try check(dataMarker.withCString { ll_dostring(L, $0, strlen($0), "=luaload/recorder") })
        try check(ll_prepend_path(L, folder))
        try check(ll_dofile(L, path))
        lua_getglobal(L, "__luaload_opened")
        defer { ll_pop(L, 1) }
        var out: [(String, Bool)] = []
        for i in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(i + 1))
            var len = 0
            if let p = ll_tostring(L, -1, &len) {
                let s = String(cString: p)   // "data:PATH" (through data.csv/lines) or "open:PATH"
                out.append((String(s.dropFirst(5)), s.hasPrefix("data:")))
            }
            ll_pop(L, 1)
        }
        return out
    }

    private static let recorder = """
        local opened, open, loadfile_, dofile_ = {}, io.open, loadfile, dofile
        __luaload_opened = opened
        __luaload_via_data = false
        local function note(path) if type(path) == "string" then opened[#opened + 1] = (__luaload_via_data and "data:" or "open:") .. path end end
        io.open = function(path, mode, ...)
          local f, e, c = open(path, mode, ...)
          if f and (mode == nil or not tostring(mode):find("[wa+]")) then note(path) end
          return f, e, c
        end
        loadfile = function(path, ...) local f, e = loadfile_(path, ...); if f then note(path) end; return f, e end
        dofile = function(path) note(path); return dofile_(path) end
        local lua_searcher = package.searchers[2]
        package.searchers[2] = function(name)
          local loader, where = lua_searcher(name)
          if type(loader) == "function" then note(where) end
          return loader, where
        end
        """

    /// data.csv and data.lines find files through the script's folder: their opens are marked as such.
    private static let dataMarker = """
        for _, f in ipairs({ "csv", "lines" }) do
          local original = data[f]
          data[f] = function(...)
            __luaload_via_data = true
            local r = table.pack(pcall(original, ...))
            __luaload_via_data = false
            if not r[1] then error(r[2], 0) end
            return table.unpack(r, 2, r.n)
          end
        end
        """

    static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw UsageError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { bytes += chunk[0..<n] }
            if n < chunk.count { break }
        }
        return bytes
    }
}
