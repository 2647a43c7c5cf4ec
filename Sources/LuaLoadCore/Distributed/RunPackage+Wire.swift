#if canImport(Glibc)
import Glibc
#endif

/// The package on the link (the `run` message) and on the agent's disk.
extension RunPackage {
    func write(_ w: JSONWriter) {
        w.key("script"); w.string(scriptName)
        w.optional("threads", agentThreads)
        w.key("run_tags"); w.array { for t in runTags { w.array { w.string(t.key); w.string(t.value) } } }
        w.key("exit_code_on_error"); w.int(Int(exitCodeOnError))
        w.key("files"); w.array {
            for f in files { w.object { w.key("path"); w.string(f.path); w.key("data"); w.string(Base64.encode(f.bytes)) } }
        }
        let o = options
        w.key("options"); w.object {
            w.key("users"); w.int(o.users)
            w.key("users_given"); w.bool(o.usersGiven)
            w.optional("spawn_rate", o.spawnRate)
            w.optional("duration", o.duration)
            w.optional("host", o.host)
            w.key("timeout"); w.exact(o.timeout)
            w.key("stop_timeout"); w.exact(o.stopTimeout)
            w.optional("iterations", o.iterations)
            w.key("tags"); w.array { o.tags.forEach(w.string) }
            w.key("exclude_tags"); w.array { o.excludeTags.forEach(w.string) }
            w.key("insecure"); w.bool(o.tls.insecure)
            w.optional("ca_file", o.tls.caFile)
            w.optional("cert_file", o.tls.certFile)
            w.optional("key_file", o.tls.keyFile)
            // HTTP/2's options mean on every agent what they mean on one box (they were dropped before: agents
            // spoke ALPN's default, without --http2-prior-knowledge, --http1.1 or --h2-pool).
            w.key("http2"); w.string(o.http2.wireName)
            w.key("batch_per_host"); w.int(o.batchPerHost)
            w.key("h2_pool"); w.int(o.h2Pool)
            // Seconds per name in each agent's JSON, for the controller's (and merge's) --html, --csv-full-history, --hdr-log.
            w.key("history_by_name"); w.bool(o.historyByName)
            stages(w, "stages", o.stages)
            w.optional("rate", o.rate)
            stages(w, "rate_stages", o.rateStages)
            w.optional("max_vus", o.maxVUs)
            w.key("late"); w.string(o.late.rawValue)
            // -e / --env-file: the script's env on every agent; --secret: the values each agent masks (its logs,
            // its reports). The link carries them as it carries the script (TLS when the controller has it).
            w.key("env"); w.array { for (k, v) in o.env { w.array { w.string(k); w.string(v) } } }
            w.key("secrets"); w.array { o.secrets.forEach(w.string) }
            // --baseline: the document itself, so each agent resolves relative thresholds as the controller did.
            if let b = o.baseline, let document = b.document {
                w.key("baseline"); w.object { w.key("source"); w.string(b.source); w.key("document"); w.string(document) }
            }
            w.key("thresholds"); w.array {
                for t in o.thresholds {
                    w.object {
                        w.key("name"); w.string(t.name)
                        w.key("expr"); w.string(t.text)
                        w.key("abort_on_fail"); w.bool(t.abortOnFail)
                        w.key("delay"); w.exact(t.delaySeconds)
                    }
                }
            }
        }
    }

    private func stages(_ w: JSONWriter, _ key: String, _ stages: [Stage]?) {
        w.key(key)
        guard let stages else { return w.null() }
        w.array { for s in stages { w.array { w.exact(s.seconds); w.exact(s.target) } } }
    }

    /// Reads a `run` message; `scriptPath` is left as the script's name (see `unpack`).
    static func read(_ m: JSONTree) throws -> RunPackage {
        guard let name = m["script"]?.string, let o = m["options"] else { throw LinkError("a run message without its script or options") }
        var files: [(String, [UInt8])] = []
        for f in m["files"]?.array ?? [] {
            guard let path = f["path"]?.string, let data = f["data"]?.string, let bytes = Base64.decode(data) else {
                throw LinkError("a run message with a malformed file")
            }
            files.append((path, bytes))
        }
        var options = RunOptions(scriptPath: name, threads: 1)
        options.users = o["users"]?.int ?? 1
        options.usersGiven = o["users_given"].map { if case .bool(let b) = $0 { return b } else { return false } } ?? false
        options.spawnRate = o["spawn_rate"]?.number
        options.duration = o["duration"]?.number
        options.host = o["host"]?.string
        options.timeout = o["timeout"]?.number ?? 30
        options.stopTimeout = o["stop_timeout"]?.number ?? 0
        options.iterations = o["iterations"]?.int
        options.tags = o["tags"]?.array.compactMap(\.string) ?? []
        options.excludeTags = o["exclude_tags"]?.array.compactMap(\.string) ?? []
        options.tls.insecure = o["insecure"].map { if case .bool(let b) = $0 { return b } else { return false } } ?? false
        options.tls.caFile = o["ca_file"]?.string
        options.tls.certFile = o["cert_file"]?.string
        options.tls.keyFile = o["key_file"]?.string
        options.http2 = o["http2"]?.string.flatMap(HTTP2Mode.init(wireName:)) ?? .alpn
        options.batchPerHost = o["batch_per_host"]?.int ?? 6
        options.h2Pool = o["h2_pool"]?.int ?? 0
        options.historyByName = o["history_by_name"].map { if case .bool(let b) = $0 { return b } else { return false } } ?? false
        options.stages = stages(o["stages"])
        options.rate = o["rate"]?.number
        options.rateStages = stages(o["rate_stages"])
        options.maxVUs = o["max_vus"]?.int
        options.late = o["late"]?.string.flatMap(LateMode.init(rawValue:)) ?? .queue
        options.env = pairs(o["env"]).map { (name: $0.key, value: $0.value) }
        options.secrets = o["secrets"]?.array.compactMap(\.string) ?? []
        if let b = o["baseline"], let document = b["document"]?.string {
            options.baseline = try Baseline.read(document, source: b["source"]?.string ?? "the controller's --baseline")
        }
        options.thresholds = try (o["thresholds"]?.array ?? []).map { t in
            try Threshold(name: t["name"]?.string ?? "", text: t["expr"]?.string ?? "",
                          abortOnFail: t["abort_on_fail"].map { if case .bool(let b) = $0 { return b } else { return false } } ?? false,
                          delaySeconds: t["delay"]?.number ?? 0, origin: "the controller's --threshold")
        }
        return RunPackage(scriptName: name, files: files, options: options, agentThreads: m["threads"]?.int, runTags: pairs(m["run_tags"]),
                          exitCodeOnError: Int32(truncatingIfNeeded: m["exit_code_on_error"]?.int ?? 1))
    }

    /// [[k, v], …] (the env, the controller's tags).
    private static func pairs(_ v: JSONTree?) -> [(key: String, value: String)] {
        (v?.array ?? []).compactMap { pair in
            guard let k = pair.array.first?.string, let v = pair.array.dropFirst().first?.string else { return nil }
            return (k, v)
        }
    }

    private static func stages(_ v: JSONTree?) -> [Stage]? {
        guard let v, case .array(let items) = v else { return nil }
        return items.map { Stage(seconds: $0.array.first?.number ?? 0, target: $0.array.dropFirst().first?.number ?? 0) }
    }

    /// Agent: writes the files under `folder` (each path checked: relative, no "..") and returns the options
    /// with every path pointing there.
    func unpack(into folder: String) throws -> RunOptions {
        for f in files {
            let parts = f.path.split(separator: "/", omittingEmptySubsequences: false)
            guard !f.path.isEmpty, !f.path.hasPrefix("/"), !f.path.contains("\0"),
                  parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else {
                throw LinkError("the controller sent a file named \"\(f.path)\": not a plain relative path")
            }
            var dir = folder
            for p in parts.dropLast() {
                dir += "/" + p
                if mkdir(dir, 0o700) != 0 && errno != EEXIST { throw LinkError("cannot create \(dir): \(String(cString: strerror(errno)))") }
            }
            let path = folder + "/" + f.path
            guard let out = fopen(path, "wb") else { throw LinkError("cannot write \(path): \(String(cString: strerror(errno)))") }
            let written = f.bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, out) }
            fclose(out)
            guard written == f.bytes.count else { throw LinkError("cannot write \(path)") }
        }
        guard files.first?.path == scriptName else { throw LinkError("the controller sent no script") }
        var o = options
        o.scriptPath = folder + "/" + scriptName
        o.tls.caFile = o.tls.caFile.map { folder + "/" + $0 }
        o.tls.certFile = o.tls.certFile.map { folder + "/" + $0 }
        o.tls.keyFile = o.tls.keyFile.map { folder + "/" + $0 }
        return o
    }
}

extension HTTP2Mode {
    /// Its name in the run package.
    var wireName: String {
        switch self {
        case .off: return "off"
        case .alpn: return "alpn"
        case .priorKnowledge: return "prior_knowledge"
        }
    }

    init?(wireName: String) {
        switch wireName {
        case "off": self = .off
        case "alpn": self = .alpn
        case "prior_knowledge": self = .priorKnowledge
        default: return nil
        }
    }
}
