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

    /// Controller: reads the script and what it opens when it loads. A file outside the script's folder
    /// cannot be placed on an agent the same way: the run is refused before any agent starts.
    public static func collect(_ options: RunOptions) throws -> RunPackage {
        let path = options.scriptPath
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard let folderReal = realPath(folder.isEmpty ? "/" : folder) else { throw UsageError("cannot read the folder of \(path)") }
        var files: [(String, [UInt8])] = [(name, try read(path))]
        var seen: Set<String> = [name]
        for opened in try openedFiles(path, folder: folder) {
            guard let real = realPath(opened) else { continue }
            guard real.hasPrefix(folderReal == "/" ? "/" : folderReal + "/") else {
                throw UsageError("\(path) opens \(opened), outside its folder \(folder): the controller sends agents the script's folder only (move the file next to the script)")
            }
            let relative = String(real.dropFirst(folderReal == "/" ? 1 : folderReal.count + 1))
            if seen.insert(relative).inserted { files.append((relative, try read(opened))) }
        }
        var shipped = options
        shipped.tls.caFile = try options.tls.caFile.map { try ship($0, as: "_tls/ca.pem", &files) }
        shipped.tls.certFile = try options.tls.certFile.map { try ship($0, as: "_tls/cert.pem", &files) }
        shipped.tls.keyFile = try options.tls.keyFile.map { try ship($0, as: "_tls/key.pem", &files) }
        return RunPackage(scriptName: name, files: files, options: shipped)
    }

    private static func ship(_ path: String, as name: String, _ files: inout [(String, [UInt8])]) throws -> String {
        files.append((name, try read(path)))
        return name
    }

    /// The files the script opens for reading while it loads, as it named them: its state runs a recorder
    /// around io.open, loadfile, dofile and require's file searcher, installed before the prelude takes
    /// its copy of io.open.
    static func openedFiles(_ path: String, folder: String) throws -> [String] {
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
        try check(ll_prepend_path(L, folder))
        try check(ll_dofile(L, path))
        lua_getglobal(L, "__luaload_opened")
        defer { ll_pop(L, 1) }
        var out: [String] = []
        for i in 0..<Int(lua_rawlen(L, -1)) {
            lua_rawgeti(L, -1, lua_Integer(i + 1))
            var len = 0
            if let p = ll_tostring(L, -1, &len) { out.append(String(cString: p)) }
            ll_pop(L, 1)
        }
        return out
    }

    private static let recorder = """
        local opened, open, loadfile_, dofile_ = {}, io.open, loadfile, dofile
        __luaload_opened = opened
        local function note(path) if type(path) == "string" then opened[#opened + 1] = path end end
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
