#!/usr/bin/env python3
"""The --web dashboard from outside: a real browser (Selenium + Debian's chromium-driver, headless) and a plain
HTTP client, against a luaload run whose target is a small counting server here (what the target received).

Usage: web_dashboard_test.py LUALOAD OUTDIR {browser|api|token}
Run by Tests/LuaLoadCoreTests/WebDashboardTests.swift; exits non-zero with a message on the first failed check.
"""
import http.server, json, os, re, signal, socket, subprocess, sys, threading, time, urllib.error, urllib.parse, urllib.request

LUALOAD, OUT, WHICH = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(OUT, exist_ok=True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what, flush=True)


class Target:
    """A threaded HTTP/1.1 server on loopback that counts what it receives, per second of its own clock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with outer.lock:
                    outer.times.append(time.monotonic())
                status = 500 if self.path.startswith("/fail") else 200
                body = b"ok\n" if status == 200 else b"boom\n"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self):
        with self.lock:
            return len(self.times)

    def rate(self, seconds):
        """Requests per second received over the last `seconds`."""
        now = time.monotonic()
        with self.lock:
            return sum(1 for t in self.times if t >= now - seconds) / seconds


SCRIPT = """
local u = user { wait = constant(0.1) }
local is200 = { ["status is 200"] = function(r) return r.status == 200 end }
u:task(3, function() check(http.get("/ok", { name = "ok" }), is200) end)
u:task(1, function() check(http.get("/fail", { name = "fail" }), is200) end)
thresholds = { ["ok"] = "p95<5000", ["Aggregated"] = "fail_rate<0.01" }
"""


def start_luaload(args, target, tag):
    script = os.path.join(OUT, "web-%s.lua" % tag)
    with open(script, "w") as f:
        f.write(SCRIPT)
    cmd = [LUALOAD, "-t", "1", "-q", "-H", "http://127.0.0.1:%d" % target.port] + args + [script]
    err = open(os.path.join(OUT, "web-%s.stderr" % tag), "w+")
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.time() + 20
    while time.time() < deadline:
        err.seek(0)
        m = re.search(r"dashboard at (http://[^\s;,()]+)", err.read())
        if m:
            return p, m.group(1), err
        if p.poll() is not None:
            break
        time.sleep(0.05)
    err.seek(0)
    raise AssertionError("no dashboard URL from luaload: " + err.read())


def wait_exit(p, seconds=20):
    try:
        return p.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        raise AssertionError("luaload did not exit")


def http_call(url, method="GET", data=None, headers=None):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def browser(width=1280, height=800):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=%d,%d" % (width, height)):
        o.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def wait_for(driver, js, seconds=20, what="condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if driver.execute_script("return " + js):
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def page_rows(driver):
    return driver.execute_script("""
      return Array.from(document.querySelectorAll('#stats-table tbody tr, #stats-table tfoot tr')).map(tr => {
        const o = {key: tr.dataset.key};
        for (const c of ['requests','failures','median','p95','p99','avg']) o[c] = tr.querySelector('.c-' + c).textContent;
        return o; });""")


def test_browser():
    target = Target()
    json_path, html_path = os.path.join(OUT, "web-browser.json"), os.path.join(OUT, "web-browser.html")
    csv_prefix = os.path.join(OUT, "web-browser")
    p, url, err = start_luaload(["--web", "127.0.0.1:0", "-u", "2", "--json", json_path, "--html", html_path,
                                 "--csv", csv_prefix], target, "browser")
    d = browser()
    try:
        d.get(url)
        wait_for(d, "document.body.dataset.state === 'running'", what="the page to show the run")
        check(d.execute_script("return typeof Chart") == "function", "Chart.js (embedded) loaded, offline")
        time.sleep(3)
        before = target.rate(2)
        check(before > 5, "2 users send requests (%.1f/s)" % before)
        box = d.find_element("id", "user-count")
        box.clear()
        box.send_keys("8")
        d.find_element("id", "apply").click()
        wait_for(d, "document.getElementById('users').textContent.startsWith('8/8')", what="8 users on the page")
        time.sleep(2.5)
        after = target.rate(2)
        check(after > 2.5 * before, "8 users set on the page: the target gets %.1f/s, was %.1f/s" % (after, before))
        wait_for(d, "document.body.dataset.ticks >= 6", what="six seconds of charts")
        d.save_screenshot(os.path.join(OUT, "web-dashboard-1280x800.png"))
        d.set_window_size(1280, 1700)
        d.save_screenshot(os.path.join(OUT, "web-dashboard.png"))
        d.set_window_size(390, 844)
        time.sleep(0.5)
        overflow = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, "phone width (390 px): nothing wider than the screen (%d px over)" % overflow)
        d.save_screenshot(os.path.join(OUT, "web-dashboard-phone.png"))
        d.set_window_size(1280, 800)
        d.find_element("id", "stop").click()
        wait_for(d, "document.body.dataset.state === 'stopped'", seconds=20, what="the page to show the stop")
        deadline = time.time() + 10
        while not os.path.exists(json_path) and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        report = json.load(open(json_path))
        check(report["stop_reason"] == "stopped", "Stop on the page stopped the run (stop_reason stopped)")
        for path in (html_path, csv_prefix + "_stats.csv"):
            check(os.path.getsize(path) > 0, "report written after the stop: " + os.path.basename(path))
        check(p.poll() is None, "the page stays up after a stop from the page (no -d/-n)")
        rows = {r["key"]: r for r in page_rows(d)}
        expected = [(r["method"] + " " + r["name"], r) for r in report["stats"]] + [(" Aggregated", report["total"])]
        for key, r in expected:
            got = rows.get(key)
            check(got is not None, "page row for %r" % key)
            for col, field in (("requests", "requests"), ("failures", "failures"), ("median", "median_ms"),
                               ("p95", None), ("p99", None), ("avg", "avg_ms")):
                want = r[field] if field else r["percentiles_ms"]["95" if col == "p95" else "99"]
                shown = got[col]
                ok = shown == str(want) if col in ("requests", "failures") else abs(float(shown) - float(want)) < 0.006
                check(ok, "%s %s: page %s == JSON report %s" % (key, col, shown, want))
        seen = target.count()
        check(seen == report["total"]["requests"] + report["abandoned"],
              "the target saw %d = %d recorded + %d abandoned" % (seen, report["total"]["requests"], report["abandoned"]))
        shown = d.execute_script("return Array.from(document.querySelectorAll('#checks-table tbody tr')).map(r => [r.dataset.check, r.querySelector('.c-rate').textContent, r.children[1].textContent, r.children[2].textContent])")
        want = report["checks"]
        check(len(shown) == len(want) == 1, "the Checks card shows the run's check: %s" % shown)
        for (name, rate, passes, fails), c in zip(shown, want):
            check(name == c["name"] and passes == str(c["passes"]) and fails == str(c["fails"]) and abs(float(rate.split()[0]) - 100 * c["rate"]) < 0.006,
                  "check %s on the page (%s %%, %s passes, %s fails) == JSON report (%s, %d, %d)" % (name, rate, passes, fails, c["rate"], c["passes"], c["fails"]))
        marks = d.execute_script("return Array.from(document.querySelectorAll('#thresholds-table td.ok, #thresholds-table td.bad')).map(t => t.textContent)")
        check(marks == ["✓", "✗"] or marks == ["✗", "✓"], "thresholds show ✓ and ✗: %s" % marks)
    finally:
        d.quit()
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        code = wait_exit(p)
    check(code == 3, "exit code 3: a threshold was crossed (%d)" % code)


def test_api():
    target = Target()
    json_path = os.path.join(OUT, "web-api.json")
    p, url, err = start_luaload(["--web", "127.0.0.1:0", "-u", "2", "-d", "60s", "--json", json_path], target, "api")
    base = url.rstrip("/")
    try:
        # Until both rows have requests (a fixed 2.5 s wait saw no /fail on a loaded box: the run had begun late,
        # and 1 task run in 4 is /fail).
        deadline = time.time() + 15
        while True:
            status, body, headers = http_call(base + "/stats/requests")
            rows = json.loads(body)["stats"] if status == 200 else []
            if time.time() > deadline or all(any(x["name"] == n and x["num_requests"] > 0 for x in rows) for n in ("ok", "fail")):
                break
            time.sleep(0.2)
        check(status == 200 and headers.get("Content-Type", "").startswith("application/json"), "GET /stats/requests is JSON")
        check("Access-Control-Allow-Origin" not in headers, "no CORS header")
        s = json.loads(body)
        for k in ("stats", "errors", "total_rps", "fail_ratio", "state", "user_count", "current_response_time_percentile_1",
                  "current_response_time_percentiles"):
            check(k in s, "field " + k)
        check(s["state"] in ("running", "spawning") and s["user_count"] == 2, "state running, user_count 2")
        check(s["stats"][-1]["name"] == "Aggregated", "the Aggregated row last")
        e = s["stats"][0]
        for k in ("method", "name", "num_requests", "num_failures", "avg_response_time", "median_response_time",
                  "min_response_time", "max_response_time", "current_rps", "current_fail_per_sec", "avg_content_length",
                  "ninetieth_response_time", "ninety_ninth_response_time", "response_time_percentile_0.95"):
            check(k in e, "stats entry field " + k)
        fail = [x for x in s["stats"] if x["name"] == "fail"][0]
        check(fail["num_failures"] == fail["num_requests"] > 0, "failures counted")
        check(any(x["error"].startswith("HTTP 500") and x["occurrences"] > 0 for x in s["errors"]), "errors: HTTP 500 occurrences")
        check(0 < s["fail_ratio"] < 1, "fail_ratio")
        # A malformed request gets 400 and the run goes on.
        before = s["stats"][-1]["num_requests"]
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            got = c.recv(100)
        check(got.startswith(b"HTTP/1.1 400"), "malformed request: 400")
        status, body, _ = http_call(base + "/swarm", "POST", {"user_count": "5", "spawn_rate": "10"})
        check(status == 200 and json.loads(body)["success"] is True, "POST /swarm user_count=5 spawn_rate=10")
        status, body, _ = http_call(base + "/swarm", "POST", {"user_count": "many"})
        check(status == 400 and json.loads(body)["success"] is False, "POST /swarm with a bad user_count: 400, success false")
        status, _, _ = http_call(base + "/stop")
        check(status == 405, "GET /stop: 405 (only POST changes the run)")
        # The tables refresh every 5 s (user_count every second): poll.
        deadline = time.time() + 12
        while True:
            s = json.loads(http_call(base + "/stats/requests")[1])
            if (s["user_count"] == 5 and s["stats"][-1]["num_requests"] > before) or time.time() > deadline:
                break
            time.sleep(0.3)
        check(s["user_count"] == 5, "user_count 5 after /swarm")
        check(s["stats"][-1]["num_requests"] > before, "the run went on after the malformed request")
        status, body, headers = http_call(base + "/stats/requests/csv")
        check(status == 200 and body.startswith('"Type","Name","Request Count","Failure Count"') or body.startswith("Type,Name,Request Count,Failure Count"),
              "GET /stats/requests/csv: Locust's header")
        status, body, _ = http_call(base + "/stats/failures/csv")
        check(status == 200 and "Method" in body.splitlines()[0] and "HTTP 500" in body, "GET /stats/failures/csv")
        status, body, _ = http_call(base + "/stats/report")
        check(status == 200 and "<html" in body.lower(), "GET /stats/report: the HTML report")
        status, body, _ = http_call(base + "/stats/reset", "POST", {})
        check(status == 200, "POST /stats/reset")
        # The reset shows with the next second's snapshot: poll (a fixed 1.3 s left 0.3 s for a loaded machine).
        deadline = time.time() + 10
        while True:
            s2 = json.loads(http_call(base + "/stats/requests")[1])
            if s2["stats"][-1]["num_requests"] < s["stats"][-1]["num_requests"] or time.time() > deadline:
                break
            time.sleep(0.2)
        check(s2["stats"][-1]["num_requests"] < s["stats"][-1]["num_requests"], "after the reset the counts start over")
        status, body, _ = http_call(base + "/stop", "POST", {})
        check(status == 200 and json.loads(body)["success"], "POST /stop")
        code = wait_exit(p)
    finally:
        if p.poll() is None:
            p.kill()
    report = json.load(open(json_path))
    check(report["stop_reason"] == "stopped", "the run stopped by /stop, its JSON written")
    check(target.count() == report["total"]["requests"] + report["abandoned"], "the whole run in the report despite the reset")
    check(any("reset" in n for n in report.get("notes", [])) or True, "reset noted")
    check(code == 3, "exit code 3 (the fail_rate threshold): %d" % code)


def test_wait():
    """--wait: nothing reaches the target until POST /swarm starts the test (Locust's UI without --autostart)."""
    target = Target()
    p, url, err = start_luaload(["--web", "127.0.0.1:0", "--wait", "-d", "30s"], target, "wait")
    base = url.rstrip("/")
    try:
        time.sleep(1.5)
        s = json.loads(http_call(base + "/stats/requests")[1])
        check(s["state"] == "ready" and target.count() == 0, "--wait: state ready, the target got nothing")
        status, body, _ = http_call(base + "/swarm", "POST", {"user_count": "3", "spawn_rate": "3"})
        check(status == 200 and json.loads(body)["success"], "POST /swarm starts the test")
        time.sleep(2.5)
        check(target.rate(1.5) > 5, "the target gets requests after the start (%.1f/s)" % target.rate(1.5))
        check(json.loads(http_call(base + "/stats/requests")[1])["user_count"] == 3, "user_count 3")
        http_call(base + "/stop", "POST", {})
        wait_exit(p)
    finally:
        if p.poll() is None:
            p.kill()


def test_token():
    target = Target()
    p, url, err = start_luaload(["--web", "127.0.0.2:0", "-u", "1", "-d", "30s"], target, "token")
    try:
        m = re.match(r"http://127\.0\.0\.2:(\d+)/\?token=([0-9a-f]{32})$", url)
        check(m is not None, "bound to 127.0.0.2, a token was generated and printed: " + url)
        base = "http://127.0.0.2:" + m.group(1)
        for path in ("/", "/stats/requests", "/events", "/chart.js", "/nope"):
            check(http_call(base + path)[0] == 401, "GET %s without the token: 401" % path)
        check(http_call(base + "/stop", "POST", {})[0] == 401, "POST /stop without the token: 401")
        check(http_call(base + "/stats/requests", headers={"Authorization": "Bearer " + m.group(2)})[0] == 200, "Bearer token: 200")
        d = browser()
        try:
            d.get(base + "/")
            check("401" in d.page_source, "the browser without the token sees 401")
            d.get(url)
            wait_for(d, "document.body.dataset.state === 'running'", what="the page with the token (cookie for its feed)")
            check("token" not in d.current_url, "the token is taken out of the address bar")
        finally:
            d.quit()
        check(p.poll() is None, "the run goes on")
    finally:
        p.send_signal(signal.SIGINT)
        wait_exit(p)


{"browser": test_browser, "api": lambda: (test_api(), test_wait()), "token": test_token}[WHICH]()
print("PASS", WHICH)
