import Foundation
import XCTest

/// The HTTP client against a server nobody here wrote: httpbin (PyPI) under gunicorn on loopback, from the
/// venv scripts/install-deps.sh --test makes. Its access log is the server's own count.
final class HTTPBinTests: XCTestCase {
    func testCookiesRedirectsCompressionAuthFormsAndUploadsAgainstHTTPBin() throws {
        let venv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".venv-test").path
        let gunicorn = venv + "/bin/gunicorn"
        guard FileManager.default.isExecutableFile(atPath: gunicorn) else {
            return XCTFail("no \(gunicorn): run scripts/install-deps.sh --test (scripts/test.sh does)")
        }
        let log = Luaload.temporaryDirectory + "httpbin-\(UUID().uuidString).log"
        let (port, server) = try launchOnFreePort(gunicorn) { ["-b", "127.0.0.1:\($0)", "-w", "1", "--access-logfile", log, "httpbin:app"] }
        defer { stopProcess(server); try? FileManager.default.removeItem(atPath: log) }

        let script = Luaload.script(#"""
        task(function()
          local c = http.get("/cookies/set?flavor=oat", { name = "cookies" })
          if c.status ~= 200 or c:json().cookies.flavor ~= "oat" then fail("cookie kept across the redirect") end
          local r = http.get("/redirect/3", { name = "redirect" })
          if r.status ~= 200 or #r.history ~= 3 then fail("three redirects followed") end
          if not http.get("/gzip"):json().gzipped then fail("gzip") end
          if not http.get("/deflate"):json().deflated then fail("deflate") end
          local a = http.get("/basic-auth/user/pass", { auth = { "user", "pass" }, name = "auth" })
          if a.status ~= 200 or not a:json().authenticated then fail("basic auth") end
          local p = http.post("/post", { form = { a = "1" }, files = { up = { filename = "x.txt", content = "hello", content_type = "text/plain" } } })
          local j = p:json()
          if j.form.a ~= "1" or j.files.up ~= "hello" then fail("form and file") end
          if http.get("/headers"):json().headers["User-Agent"] ~= "luaload/0.2.0" then fail("user agent") end
          stop()
        end)
        """#)
        let r = try Luaload.run(["-t", "1", "-u", "2", "-H", "http://127.0.0.1:\(port)"], script: script)
        XCTAssertEqual(r.exitCode, 0, r.stderr + "\(r.failures)\(r.errors)")
        XCTAssertEqual(r.failuresCount, 0)
        XCTAssertEqual(r.requests, 2 * 7)
        XCTAssertEqual(r.json["redirects"] as? Int, 2 * (1 + 3))
        // gunicorn writes its access log line after the response.
        let expected = r.requests + (r.json["redirects"] as? Int ?? 0) + r.abandoned
        let lines = settledCount(expected) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count }
        XCTAssertEqual(lines, expected, "what httpbin saw")
    }
}
