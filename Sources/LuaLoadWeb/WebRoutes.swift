import LuaLoadCore
import LuaLoadLive

/// The routes: the page and its feed, Locust's web API, the downloads.
extension WebDashboard {
    func registerRoutes() {
        getRoute("/") { _ in .html(Array(WebPage.html(title: self.options.title).utf8)) }
        server.route(.get, "/chart.js") { _ in
            LiveResponse(contentType: "text/javascript; charset=utf-8", body: WebDashboard.chartJS, headers: ["Cache-Control: max-age=86400"])
        }
        getRoute("/events") { _ in
            let f = self.latest.value
            // The last whole snapshot first (the tables), then this second's when it was a light one.
            var initial = LiveHTTP.event("history", data: "[" + f.history.joined(separator: ",") + "]")
                + LiveHTTP.event("tick", data: f.fullJSON)
            if f.tickJSON != f.fullJSON { initial += LiveHTTP.event("tick", data: f.tickJSON) }
            return .eventStream(channel: "tick", initial: initial)
        }
        getRoute("/api/snapshot") { _ in .json(self.latest.value.fullJSON) }
        getRoute("/api/history") { _ in .json("[" + self.latest.value.history.joined(separator: ",") + "]") }
        getRoute("/stats/checks") { _ in .json(WebChecks.document(self.latest.value)) }
        registerLocustRoutes()
        registerDownloads()
        registerControls()
    }

    /// Locust's read routes (web.py): the same paths and field names.
    func registerLocustRoutes() {
        getRoute("/stats/requests") { _ in .json(LocustAPI.requests(self.latest.value)) }
        getRoute("/stats/requests/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.stats(f.view ?? WebDashboard.empty), "requests.csv", type: "text/csv")
        }
        getRoute("/stats/failures/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.failures(f.view ?? WebDashboard.empty), "failures.csv", type: "text/csv")
        }
        getRoute("/exceptions/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.exceptions(f.view ?? WebDashboard.empty), "exceptions.csv", type: "text/csv")
        }
        getRoute("/stats/report") { r in
            let html = HTMLReport.render(self.latest.value.reportSummary ?? WebDashboard.empty, title: self.options.title)
            var response = LiveResponse.html(Array(html.utf8))
            if r.queryValue("download") != nil { response.headers.append("Content-Disposition: attachment; filename=\"luaload-report.html\"") }
            return response
        }
    }

    /// The whole run's reports as files (they hold what --json/--csv would write now).
    func registerDownloads() {
        getRoute("/api/report.json") { _ in
            WebDashboard.download(JSONReport.render(self.latest.value.reportSummary ?? WebDashboard.empty), "luaload-report.json", type: "application/json")
        }
        getRoute("/api/stats.csv") { _ in
            WebDashboard.download(CSVReport.stats(self.latest.value.reportSummary ?? WebDashboard.empty), "luaload_stats.csv", type: "text/csv")
        }
    }

    /// POST /swarm, /stop, /stats/reset (Locust's), answered 403 with --web-readonly.
    func registerControls() {
        postRoute("/swarm") { r in self.guarded { self.swarm(r) } }
        postRoute("/stop") { _ in
            self.guarded {
                self.controls.post(.stop)
                return .json(#"{"success":true,"message":"Test stopped"}"#)
            }
        }
        postRoute("/stats/reset") { _ in
            self.guarded {
                self.resetRequested.store(true, ordering: .releasing)
                self.controls.post(.resetStats)
                return .text("ok")
            }
        }
    }

    /// A route whose answer is masked (--secret): names, URLs, errors and facts on the page, in the API and the
    /// downloads may quote a secret value (SecretMask; a pass over the answer only when secrets are set).
    func getRoute(_ path: String, _ handler: @escaping LiveServer.Handler) { server.route(.get, path, masked(handler)) }
    func postRoute(_ path: String, _ handler: @escaping LiveServer.Handler) { server.route(.post, path, masked(handler)) }

    private func masked(_ handler: @escaping LiveServer.Handler) -> LiveServer.Handler {
        { r in
            var response = handler(r)
            if SecretMask.isActive { response.body = SecretMask.apply(bytes: response.body) }
            return response
        }
    }

    private func guarded(_ body: () -> LiveResponse) -> LiveResponse {
        if options.readOnly { return LocustAPI.failure("read-only dashboard (--web-readonly): no controls", status: 403) }
        return body()
    }

    /// Locust's POST /swarm: `user_count` and `spawn_rate` (closed model); here also `rate` (open model).
    /// With --wait the first one starts the test.
    private func swarm(_ r: LiveRequest) -> LiveResponse {
        let users = r.formValue("user_count")
        let spawn = r.formValue("spawn_rate")
        let rate = r.formValue("rate")
        var spawnRate: Double?
        if let spawn, !spawn.isEmpty {
            guard let v = Double(spawn), v > 0, v.isFinite else { return LocustAPI.failure("spawn_rate must be a number above 0") }
            spawnRate = v
        }
        let waiting = options.waiting && !started.load(ordering: .acquiring)
        switch builder.model {
        case .users(let max):
            guard let users, let n = Int(users), n >= 0 else {
                if waiting && users == nil { return start(.start(users: nil, spawnRate: nil)) }
                return LocustAPI.failure("user_count must be a whole number of users")
            }
            guard n <= max else { return LocustAPI.failure("user_count \(n) is above the pool of \(max) VUs (raise --max-vus)") }
            return waiting ? start(.start(users: n, spawnRate: spawnRate)) : post(.setUsers(n, spawnRate: spawnRate), "Swarming started")
        case .rate:
            if let rate {
                guard let v = Double(rate), v >= 0, v.isFinite else { return LocustAPI.failure("rate must be arrivals per second, 0 or more") }
                if waiting { controls.post(.start(users: nil, spawnRate: nil)); started.store(true, ordering: .releasing) }
                return post(.setRate(v), "Rate set")
            }
            if waiting && users == nil { return start(.start(users: nil, spawnRate: nil)) }
            return LocustAPI.failure("the open model's load is a rate: give rate=N (arrivals per second), not user_count")
        case .fixed(let why):
            if waiting { return start(.start(users: nil, spawnRate: nil)) }
            return LocustAPI.failure("cannot change the load of this run: \(why)", status: 409)
        }
    }

    private func start(_ control: RunControl) -> LiveResponse {
        started.store(true, ordering: .releasing)
        return post(control, "Swarming started")
    }

    private func post(_ control: RunControl, _ message: String) -> LiveResponse {
        controls.post(control)
        return .json(#"{"success":true,"message":"\#(message)","host":\#(JSONWriter.quote(options.facts.first { $0.0 == "target" }?.1 ?? ""))}"#)
    }

    static func download(_ text: String, _ name: String, type: String) -> LiveResponse {
        LiveResponse(contentType: type + (type.hasPrefix("text/") ? "; charset=utf-8" : ""), body: Array(text.utf8),
                     headers: ["Content-Disposition: attachment; filename=\"\(name)\""])
    }

    static var empty: Summary { Summary(workers: [], durationSeconds: 0, users: 0, threads: 0, stopReason: .stopped, history: []) }
}
