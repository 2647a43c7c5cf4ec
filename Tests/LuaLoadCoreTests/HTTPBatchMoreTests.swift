import Foundation
import XCTest

/// `http.batch` beyond parallelism, against hypercorn (HypercornTestCase): redirects followed inside a batch
/// with exact server-side counts on HTTP/2 and HTTP/1.1, k6's keyed form, and batch rows named by group() and
/// tagged by opts.tags and scenarios, as thresholds see them.
final class HTTPBatchMoreTests: HypercornTestCase {
    /// Every redirect case in one batch, and a second origin for the hop that leaves the first.
    private static func redirectScript(other: Int) -> String {
        """
        task(function()
          local rs = http.batch({
            "/redir?n=2",                                           -- 2 hops
            { "GET", "/redir?n=1", { allow_redirects = false } },   -- the 302 is the response
            { "POST", "/redir?n=3", "x" },                          -- 3 hops, a GET after the 302
            "/redir?n=40",                                          -- 30 hops, the 31st 302 fails
            "/noloc",                                               -- a 302 without a Location: the response
            "/away?to=http://127.0.0.1:\(other)/redir?n=1",         -- a hop to another origin, then one there
          })
          local out = {}
          for k = 1, #rs do out[k] = rs[k].status .. ":" .. #rs[k].history .. ":" .. rs[k].body end
          print("GOT " .. table.concat(out, " "))
        end)
        """
    }

    /// Redirects inside a batch, over h2c streams and HTTP/1.1 batch connections (and one after another with
    /// --batch-per-host 0): each entry follows its chain as a plain request does (allow_redirects, the 30-hop limit,
    /// a 302 without a Location, a hop to another origin, which goes as a request of its own), and recorded +
    /// redirects = what the two servers saw, exactly.
    func testRedirectsInsideABatchCountExactlyOverH2AndHTTP11() throws {
        for (h2, perHost) in [(true, "6"), (false, "6"), (false, "0")] {
            let (port, log) = try startHypercorn(tls: false)
            let (other, otherLog) = try startHypercorn(tls: false)
            let r = try Luaload.run(["-u", "1", "-n", "1", "--batch-per-host", perHost] + (h2 ? ["--http2-prior-knowledge"] : [])
                                    + ["-H", "http://127.0.0.1:\(port)"], script: Luaload.script(Self.redirectScript(other: other)))
            XCTAssertTrue(r.stdout.contains("GOT 200:2:done 302:0: 200:3:done 302:30: 302:0: 200:2:done"), "h2 \(h2), per host \(perHost): \(r.stdout) \(r.stderr)")
            XCTAssertEqual(r.requests, 6, "h2 \(h2), per host \(perHost): one response per entry")
            XCTAssertEqual(r.json["redirects"] as? Int, 2 + 3 + 30 + 2, "h2 \(h2), per host \(perHost)")
            XCTAssertEqual(r.failureErrors(), ["too many redirects (more than 30)"], "h2 \(h2), per host \(perHost)")
            XCTAssertEqual(r.failuresCount, 1)
            settledCount(6 + 37) { served(log).count + served(otherLog).count }   // logged as read, just after the run
            let main = served(log), away = served(otherLog)
            XCTAssertEqual(main.count + away.count, 6 + 37, "h2 \(h2), per host \(perHost): recorded + redirects = served")
            XCTAssertEqual(away, Array(repeating: h2 ? "HTTP/2 /redir" : "HTTP/1.1 /redir", count: 2))
            XCTAssertEqual(main.filter { $0.hasSuffix(" /redir") }.count, 3 + 1 + 4 + 31)
        }
    }

    /// The run stops mid-chain (2 VUs, 1.55 s of batches of 100 ms hops): the hops answered were counted as
    /// redirects, the requests out at the stop are abandoned: recorded + abandoned + redirects = served, exactly.
    func testStopMidChainCountsExactly() throws {
        let script = Luaload.script("""
            task(function() http.batch({ "/redir?n=3&slow=1", "/redir?n=2&slow=1", "/slow?i=1" }) end)
            """)
        for h2 in [true, false] {
            let (port, log) = try startHypercorn(tls: false)
            let r = try Luaload.run(["-u", "2", "-t", "1", "-d", "1.55s"] + (h2 ? ["--http2-prior-knowledge"] : [])
                                    + ["-H", "http://127.0.0.1:\(port)"], script: script)
            XCTAssertEqual(r.failuresCount, 0, "h2 \(h2): \(r.failures)")
            let redirects = r.json["redirects"] as? Int ?? -1
            XCTAssertGreaterThan(redirects, 10, "h2 \(h2): \(r.stderr)")
            // The server logs a request when it has read it: the last ones, after the stop.
            let expected = r.requests + r.abandoned + redirects
            XCTAssertEqual(settledCount(expected) { served(log).count }, expected, "h2 \(h2)")
        }
    }

    /// k6's keyed form answers by key; a tagged entry inside group() is a row "login::/health" with its tags, the
    /// other entries rows of the group; a threshold on the tag holds and one crossed exits 3; --tag applies to the
    /// whole run; a scenario's tag goes on its VUs' batch rows.
    func testKeyedBatchTagsGroupsAndThresholds() throws {
        let (port, log) = try startHypercorn(tls: false)
        let script = Luaload.script("""
            task(function()
              group("login", function()
                local rs = http.batch({ token = { "GET", "/health", { tags = { kind = "auth" } } }, page = "/slow?i=7" })
                if not shown then shown = true; print("KEYED " .. rs.page.body .. " " .. rs.token.status .. " " .. tostring(rs[1])) end
              end)
            end)
            thresholds = {
              ["login::/health{kind:auth}"] = { "requests == 3" },
              ["http_reqs{kind:auth}"] = { "count < 3" },
              ["login::/slow"] = { "requests == 3" },
            }
            """)
        let r = try Luaload.run(["-u", "1", "-n", "3", "--http2-prior-knowledge", "--tag", "region=ams",
                                 "--threshold", "http_reqs{region:ams}: count == 6", "-H", "http://127.0.0.1:\(port)"], script: script)
        XCTAssertEqual(r.exitCode, 3, r.stderr)
        XCTAssertTrue(r.stdout.contains("KEYED 7 200 nil"), r.stdout)
        let rows = r.stats.map { ($0["name"] as? String ?? "", $0["tags"] as? [String: String] ?? [:], $0["requests"] as? Int ?? 0) }
        XCTAssertEqual(rows.count, 2, "\(rows)")
        XCTAssertTrue(rows.contains { $0.0 == "login::/health" && $0.1 == ["kind": "auth"] && $0.2 == 3 }, "\(rows)")
        XCTAssertTrue(rows.contains { $0.0 == "login::/slow" && $0.1.isEmpty && $0.2 == 3 }, "\(rows)")
        let verdicts = (r.json["thresholds"] as? [[String: Any]] ?? []).map { "\($0["name"]!) \($0["ok"] as? Bool == true)" }
        XCTAssertEqual(Set(verdicts), ["login::/health{kind:auth} true", "http_reqs{kind:auth} false", "login::/slow true",
                                       "http_reqs{region:ams} true"], "\(r.json["thresholds"] ?? [])")
        XCTAssertEqual(settledCount(6) { served(log).count }, 6)

        let scenario = Luaload.script("""
            local Web = user{}
            Web:task(function(self)
              self.n = (self.n or 0) + 1
              if self.n > 2 then stop() end
              http.batch({ "/health", { "GET", "/slow?i=1", { tags = { kind = "page" } } } })
            end)
            scenarios = { web = { class = Web, users = 1, duration = "5s" } }
            thresholds = { ["Aggregated{scenario:web}"] = { "requests == 4" }, ["/slow{kind:page,scenario:web}"] = { "requests == 2" } }
            """)
        let s = try Luaload.run(["--http2-prior-knowledge", "-H", "http://127.0.0.1:\(port)"], script: scenario)
        XCTAssertEqual(s.exitCode, 0, s.stdout + s.stderr)
        let tagged = s.stats.map { ($0["name"] as? String ?? "", $0["tags"] as? [String: String] ?? [:], $0["requests"] as? Int ?? 0) }
        XCTAssertTrue(tagged.contains { $0.0 == "/health" && $0.1 == ["scenario": "web"] && $0.2 == 2 }, "\(tagged)")
        XCTAssertTrue(tagged.contains { $0.0 == "/slow" && $0.1 == ["scenario": "web", "kind": "page"] && $0.2 == 2 }, "\(tagged)")
    }
}
