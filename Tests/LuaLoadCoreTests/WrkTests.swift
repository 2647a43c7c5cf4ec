import Foundation
import XCTest

/// `luaload wrk` against a loopback server that records what it received. The scripts are this project's
/// own equivalents of wrk's scripts/ folder (same API calls, same behaviour), written from wrk's SCRIPTING
/// document; nothing is fetched at test time.
final class WrkTests: WrkHarness {
    func testNoScriptIsAPlainGetOfTheURLWithWrksOutput() throws {
        let r = try wrk(["-t2", "-c4", "-d1s", "--latency", "-H", "X-Extra: yes"], path: "/plain?q=1")
        assertExactCounts(r)
        let seen = server.requests
        XCTAssertTrue(seen.allSatisfy { $0.method == "GET" && $0.target == "/plain?q=1" && $0.headers["x-extra"] == "yes" })
        XCTAssertEqual(seen.first?.headers["host"], "127.0.0.1:\(server.port)")
        XCTAssertEqual(Set(seen.map(\.connection)).count, 4, "-c 4 connections in all")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "Running 1s test @ \(server.url)/plain?q=1")
        XCTAssertEqual(lines[1], "  2 threads and 4 connections")
        XCTAssertEqual(lines[2], "  Thread Stats   Avg      Stdev     Max   +/- Stdev")
        XCTAssertTrue(lines[3].hasPrefix("    Latency "), lines[3])
        XCTAssertTrue(lines[5] == "  Latency Distribution" && lines[6].hasPrefix("     50%"), r.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("Requests/sec: ") } && lines.last!.hasPrefix("Transfer/sec: "))
    }

    func testPostScriptSetsMethodBodyAndHeaders() throws {
        let r = try wrk(["-t1", "-c2", "-d1s"], script: """
            wrk.method = "POST"
            wrk.body   = "a=1&b=two"
            wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
            """)
        assertExactCounts(r)
        XCTAssertTrue(server.requests.allSatisfy {
            $0.method == "POST" && $0.body == "a=1&b=two" && $0.headers["content-type"] == "application/x-www-form-urlencoded"
                && $0.headers["content-length"] == "9"
        })
    }

    func testCounterScriptChangesPathAndHeaderPerRequest() throws {
        let r = try wrk(["-t1", "-c1", "-d1s"], script: """
            n = 0
            request = function()
              wrk.headers["X-Counter"] = n
              local path = "/" .. n
              n = n + 1
              return wrk.format(nil, path)
            end
            """)
        assertExactCounts(r)
        for (k, req) in server.requests.enumerated() {
            XCTAssertEqual(req.target, "/\(k)")
            XCTAssertEqual(req.headers["x-counter"], "\(k)")
        }
    }

    func testPipelineScriptSendsThreeRequestsAtOnce() throws {
        let r = try wrk(["-t1", "-c2", "-d1s"], script: """
            init = function(args)
              local parts = { wrk.format(nil, "/?one"), wrk.format(nil, "/?two"), wrk.format(nil, "/?three") }
              batch = table.concat(parts)
            end
            request = function() return batch end
            """)
        assertExactCounts(r)
        let seen = server.requests
        XCTAssertTrue(server.readDepths.allSatisfy { $0 == 3 }, "\(Set(server.readDepths))")
        for c in Set(seen.map(\.connection)) {
            let targets = seen.filter { $0.connection == c }.map(\.target)
            for (k, t) in targets.enumerated() { XCTAssertEqual(t, ["/?one", "/?two", "/?three"][k % 3]) }
        }
    }

    func testAuthScriptUsesTheTokenOfTheFirstResponse() throws {
        let r = try wrk(["-t1", "-c1", "-d1s"], script: """
            token = nil
            path  = "/authenticate"
            request = function() return wrk.format("GET", path) end
            response = function(status, headers, body)
              if not token and status == 200 then
                token = headers["X-Token"]
                path  = "/resource"
                wrk.headers["X-Token"] = token
              end
            end
            """)
        assertExactCounts(r)
        let seen = server.requests
        XCTAssertEqual(seen.first?.target, "/authenticate")
        XCTAssertEqual(seen.filter { $0.target == "/authenticate" }.count, 1)
        XCTAssertTrue(seen.dropFirst().allSatisfy { $0.target == "/resource" && $0.headers["x-token"] == "secret-token" })
        XCTAssertFalse(r.stdout.contains("Non-2xx"), r.stdout)
    }

    func testStopScriptStopsEachThreadAfterItsHundredthResponse() throws {
        let r = try wrk(["-t2", "-c4", "-d5s"], script: """
            local n = 1
            function response()
              if n == 100 then wrk.thread:stop() end
              n = n + 1
            end
            """)
        XCTAssertEqual(r.exitCode, 0, r.stderr)
        XCTAssertEqual(recorded(r), 200, "100 responses per thread")
        XCTAssertEqual(recorded(r) + abandoned(r), settledCount(recorded(r) + abandoned(r)) { server.requests.count })
        XCTAssertEqual(printedRequests(r), 200)
    }

    func testSetupInitDoneAndThreadGetSet() throws {
        let r = try wrk(["-t2", "-c2", "-d1s"], script: """
            local next_id, threads = 1, {}
            function setup(thread)
              thread:set("id", next_id)
              thread:set("config", { name = "t" .. next_id, list = { 1, 2.5, true } })
              threads[#threads + 1] = thread
              next_id = next_id + 1
            end
            function init(args)
              made, got = 0, 0
              print(string.format("init %d %s %s %s %s", id, config.name, tostring(config.list[2]), args[0], args[1]))
            end
            function request() made = made + 1; return wrk.request() end
            function response(status, headers, body) got = got + 1 end
            function done(summary, latency, requests)
              for _, t in ipairs(threads) do print(string.format("thread %d got %d", t:get("id"), t:get("got"))) end
              print("summary " .. summary.requests .. " " .. summary.errors.status .. " " .. tostring(summary.duration > 0))
              print("latency " .. tostring(latency.min <= latency:percentile(50)) .. " " .. tostring(latency.max >= latency:percentile(99)))
              local v, c = latency(1)
              print("first " .. tostring(v == latency.min) .. " " .. tostring(c > 0) .. " " .. tostring(#latency > 0))
            end
            """, extra: ["hello"])
        assertExactCounts(r)
        let out = r.stdout
        XCTAssertTrue(out.contains("init 1 t1 2.5 \(server.url)/ hello") && out.contains("init 2 t2 2.5"), out)
        let total = out.split(separator: "\n").filter { $0.hasPrefix("thread ") }
            .map { Int($0.split(separator: " ")[3])! }.reduce(0, +)
        XCTAssertEqual(total, recorded(r), "response() ran once per recorded response")
        XCTAssertTrue(out.contains("summary \(recorded(r)) 0 true"), out)
        XCTAssertTrue(out.contains("latency true true") && out.contains("first true true true"), out)
    }

    func testAddrAndDelayScripts() throws {
        let r = try wrk(["-t1", "-c1", "-d1s"], script: """
            local addrs
            function setup(thread)
              addrs = wrk.lookup(wrk.host, wrk.port or "http")
              for i = #addrs, 1, -1 do if not wrk.connect(addrs[i]) then table.remove(addrs, i) end end
              thread.addr = addrs[1]
            end
            function init(args) print("thread addr: " .. tostring(wrk.thread.addr)) end
            function delay() return 100 end
            """)
        assertExactCounts(r)
        XCTAssertTrue(r.stdout.contains("thread addr: 127.0.0.1:\(server.port)"), r.stdout)
        XCTAssertTrue((5...11).contains(server.requests.count), "100 ms before each request in 1 s: \(server.requests.count)")
    }

    func testBadInputIsAClearErrorNotACrash() throws {
        let rate = try wrk(["-R", "0", "-d1s"])
        XCTAssertEqual(rate.exitCode, 2)
        XCTAssertTrue(rate.stderr.contains("bad -R \"0\""), rate.stderr)
        let u = try wrk(["-U", "-d1s"])
        XCTAssertTrue(u.exitCode == 2 && u.stderr.contains("-U/--u_latency prints wrk2's uncorrected latency: it needs -R"), u.stderr)
        let header = try wrk(["-H", "NoColon", "-d1s"])
        XCTAssertEqual(header.exitCode, 2)
        XCTAssertTrue(header.stderr.contains("bad -H"), header.stderr)
        let fewer = try wrk(["-t4", "-c2", "-d1s"])
        XCTAssertTrue(fewer.exitCode == 2 && fewer.stderr.contains("connections must be >= threads"), fewer.stderr)
        let syntax = try wrk(["-d1s"], script: "request = function(\n")
        XCTAssertEqual(syntax.exitCode, 2)
        XCTAssertTrue(syntax.stderr.contains(".lua:2:"), syntax.stderr)
        let notString = try wrk(["-t1", "-c1", "-d1s"], script: "x = 1\nfunction request()\n  return 42\nend\n")
        XCTAssertEqual(notString.exitCode, 1)
        XCTAssertTrue(notString.stderr.contains(".lua:2: request() must return a string, got number"), notString.stderr)
        XCTAssertEqual(server.requests.count, 0)
        let format = try wrk(["-t1", "-c1", "-d1s"], script: "function request()\n  local r = wrk.format('GET', 7)\n  return r\nend\n")
        XCTAssertTrue(format.stderr.contains(".lua:2: wrk.format: the path must be a string, got number"), format.stderr)
        let tail = try wrk(["-t1", "-c1", "-d1s"], script: "x = 1\nfunction request()\n  return wrk.format('GET', 7)\nend\n")
        XCTAssertTrue(tail.stderr.contains(".lua:2: wrk.format: the path must be a string"), "the callback's line after a tail call: \(tail.stderr)")
    }

    /// wrk's printed lines, when wrk is installed (a development check; the suite does not need wrk).
    func testOutputLinesMatchRealWrkWhenInstalled() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") else { throw XCTSkip("wrk is not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
        p.arguments = ["-t1", "-c2", "-d2s", "--latency", server.url + "/"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let theirs = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let ours = try wrk(["-t1", "-c2", "-d2s", "--latency"]).stdout
        // Same lines, same labels and columns; only the figures differ.
        func shape(_ s: String) -> [String] {
            s.split(separator: "\n").map { line in
                String(line.map { $0.isNumber || $0 == "." ? "9" : $0 })
                    .replacingOccurrences(of: "9+", with: "9", options: .regularExpression)
                    .replacingOccurrences(of: "9[A-Za-z]*", with: "V", options: .regularExpression)   // a figure and its unit
                    .replacingOccurrences(of: " +", with: " ", options: .regularExpression)
            }
        }
        XCTAssertEqual(shape(ours), shape(theirs), "ours:\n\(ours)\nwrk:\n\(theirs)")
    }
}
