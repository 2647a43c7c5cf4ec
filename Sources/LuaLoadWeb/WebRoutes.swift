import LuaLoadCore
import LuaLoadLive

/// The routes: the page and its feed, Locust's web API, the downloads.
extension WebDashboard {
    func registerRoutes() {
        server.route(.get, "/") { _ in .html(Array(WebPage.html(title: self.options.title).utf8)) }
        server.route(.get, "/chart.js") { _ in
            LiveResponse(contentType: "text/javascript; charset=utf-8", body: WebDashboard.chartJS, headers: ["Cache-Control: max-age=86400"])
        }
        server.route(.get, "/events") { _ in
            let f = self.latest.value
            // The last whole snapshot first (the tables), then this second's when it was a light one.
            var initial = LiveHTTP.event("history", data: "[" + f.history.joined(separator: ",") + "]")
                + LiveHTTP.event("tick", data: f.fullJSON)
            if f.tickJSON != f.fullJSON { initial += LiveHTTP.event("tick", data: f.tickJSON) }
            return .eventStream(channel: "tick", initial: initial)
        }
        server.route(.get, "/api/snapshot") { _ in .json(self.latest.value.fullJSON) }
        server.route(.get, "/api/history") { _ in .json("[" + self.latest.value.history.joined(separator: ",") + "]") }
        registerLocustRoutes()
        registerDownloads()
        registerControls()
    }

    /// Locust's read routes (web.py): the same paths and field names.
    func registerLocustRoutes() {
        server.route(.get, "/stats/requests") { _ in .json(LocustAPI.requests(self.latest.value)) }
        server.route(.get, "/stats/requests/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.stats(f.view ?? WebDashboard.empty), "requests.csv", type: "text/csv")
        }
        server.route(.get, "/stats/failures/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.failures(f.view ?? WebDashboard.empty), "failures.csv", type: "text/csv")
        }
        server.route(.get, "/exceptions/csv") { _ in
            let f = self.latest.value
            return WebDashboard.download(CSVReport.exceptions(f.view ?? WebDashboard.empty), "exceptions.csv", type: "text/csv")
        }
        server.route(.get, "/stats/report") { r in
            let html = HTMLReport.render(self.latest.value.reportSummary ?? WebDashboard.empty, title: self.options.title)
            var response = LiveResponse.html(Array(html.utf8))
            if r.queryValue("download") != nil { response.headers.append("Content-Disposition: attachment; filename=\"luaload-report.html\"") }
            return response
        }
    }

    /// The whole run's reports as files (they hold what --json/--csv would write now).
    func registerDownloads() {
        server.route(.get, "/api/report.json") { _ in
            WebDashboard.download(JSONReport.render(self.latest.value.reportSummary ?? WebDashboard.empty), "luaload-report.json", type: "application/json")
        }
        server.route(.get, "/api/stats.csv") { _ in
            WebDashboard.download(CSVReport.stats(self.latest.value.reportSummary ?? WebDashboard.empty), "luaload_stats.csv", type: "text/csv")
        }
    }

    /// POST /swarm, /stop, /stats/reset (Locust's), answered 403 with --web-readonly.
    func registerControls() {
        server.route(.post, "/swarm") { r in self.guarded { self.swarm(r) } }
        server.route(.post, "/stop") { _ in
            self.guarded {
                self.controls.post(.stop)
                return .json(#"{"success":true,"message":"Test stopped"}"#)
            }
        }
        server.route(.post, "/stats/reset") { _ in
            self.guarded {
                self.resetRequested.store(true, ordering: .releasing)
                self.controls.post(.resetStats)
                return .text("ok")
            }
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
