#!/usr/bin/env python3
"""The HTML report in a real browser (Selenium + Debian's chromium-driver, headless), from a file:// URL with
no network: Chart.js draws every chart; each name of the list shows its own latency chart and distribution,
whose bars add up to that name's requests in the page's own table; x axes never repeat a label; no script
error. Screenshots go to OUTDIR.

usage: html_report_test.py REPORT.html OUTDIR [NAME]   (prints PASS NAME)
"""
import os, sys, time


def browser(width=1400, height=1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=%d,%d" % (width, height)):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def check(cond, what):
    if not cond:
        print("FAIL " + what)
        sys.exit(1)


def main():
    report, outdir = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else "html"
    os.makedirs(outdir, exist_ok=True)
    d = browser()
    try:
        d.get("file://" + os.path.abspath(report))
        deadline = time.time() + 20
        while time.time() < deadline and not d.execute_script("return !!(window.Chart && Chart.getChart('chart-latency'))"):
            time.sleep(0.1)
        check(d.execute_script("return typeof Chart") == "function", "Chart.js loaded from the page itself")
        severe = [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]
        check(not severe, "no script errors: %s" % severe)
        # Every line chart drawn, each with a linear x axis whose labels are all different.
        for cid in d.execute_script("return [...document.querySelectorAll('script.ll-line')].map(b => b.id.replace(/-data$/, ''))"):
            labels = d.execute_script("var c = Chart.getChart(arguments[0]); return c ? c.scales.x.ticks.map(t => t.label) : null", cid)
            check(labels is not None, "chart %s drawn" % cid)
            check(len(labels) == len(set(labels)), "chart %s: x labels repeat: %s" % (cid, labels))
        # Requests per name, from the page's own table (rows: Type, Name, # reqs …; the last is Aggregated).
        table = d.execute_script("""
            return [...document.querySelectorAll('#stats tbody tr')].map(r => [...r.cells].map(c => c.textContent));""")
        requests = {(r[0] + " " + r[1]).strip(): int(r[2]) for r in table}
        options = d.execute_script("return [...document.querySelectorAll('#ll-name option')].map(o => o.textContent)")
        check(len(options) == len(table), "one choice per row: %s vs %s" % (options, list(requests)))
        for k, label in enumerate(options):
            d.execute_script("var s = document.getElementById('ll-name'); s.value = arguments[0];"
                             "s.dispatchEvent(new Event('change'));", str(k))
            bars = d.execute_script("return Chart.getChart('chart-distribution').data.datasets[0].data")
            want = requests["Aggregated"] if k == 0 else next(v for key, v in requests.items()
                                                            if key == label or key.endswith(" " + label) or key == "GET " + label)
            check(sum(bars) == want, "%s: the distribution's bars add up to %d requests, not %d" % (label, want, sum(bars)))
            bins = d.execute_script("return Chart.getChart('chart-distribution').data.labels")
            check(len(bins) == len(set(bins)), "%s: distribution labels repeat: %s" % (label, bins))
            lines = d.execute_script("return Chart.getChart('chart-latency').data.datasets.map(s => s.label)")
            check(lines in (["p50", "p95", "p99"], []), "%s: latency lines %s" % (label, lines))
            xs = d.execute_script("return Chart.getChart('chart-latency').scales.x.ticks.map(t => t.label)")
            check(len(xs) == len(set(xs)), "%s: latency x labels repeat: %s" % (label, xs))
            d.execute_script("document.getElementById('ll-name').scrollIntoView()")
            d.save_screenshot(os.path.join(outdir, "%s-%d.png" % (name, k)))
        print("PASS " + name)
    finally:
        d.quit()


main()
