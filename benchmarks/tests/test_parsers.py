"""The harness's parsers against outputs captured from the real tools on this machine (fixtures/, see
fixtures/README.md): each figure a report row is built from, exactly. Run: python3 -m unittest discover -s benchmarks/tests
(the Swift suite runs it: Tests/LuaLoadCoreTests/BenchmarkHarnessTests.swift)."""
import os
import sys
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from harness.parsers.agent import parse_agent_cost            # noqa: E402
from harness.parsers.callgrind import callgrind_by_object, callgrind_total, instr_group   # noqa: E402
from harness.parsers.h2load import parse_h2load               # noqa: E402
from harness.parsers.k6 import parse_k6                       # noqa: E402
from harness.parsers.locust import parse_locust               # noqa: E402
from harness.parsers.luaload import parse_luaload             # noqa: E402
from harness.parsers.wrk import parse_wrk                     # noqa: E402

FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def fixture(name):
    return os.path.join(FIX, name)


def text(name):
    with open(fixture(name)) as f:
        return f.read()


class WrkTests(unittest.TestCase):
    def test_plain_run(self):
        r = parse_wrk({"stdout": text("wrk.txt")}, {})
        self.assertEqual(r["requests"], 106345)
        self.assertAlmostEqual(r["elapsed"], 2.01)
        self.assertAlmostEqual(r["rps"], 52955.04)
        self.assertEqual((r["errors"], r["notes"]), (0, ""))
        self.assertNotIn("lua_statuses", r)

    def test_luaload_wrk_prints_what_wrk_prints(self):
        r = parse_wrk({"stdout": text("luaload-wrk.txt")}, {})
        self.assertEqual((r["requests"], r["elapsed"], r["rps"]), (195287, 2.0, 97625.39))

    def test_lua_script_counts_are_checked_against_requests(self):
        out = text("wrk-lua.txt")
        r = parse_wrk({"stdout": out}, {})
        self.assertEqual(r["lua_statuses"], {200: 127875})
        self.assertEqual(r["notes"], "")
        # done() counting fewer responses than wrk's total is flagged, not hidden.
        r = parse_wrk({"stdout": out.replace("lua status 200: 127875", "lua status 200: 127000")}, {})
        self.assertIn("response() counted {200: 127000}", r["notes"])
        r = parse_wrk({"stdout": out.replace("lua status 200: 127875", "lua status 200: 127000\nlua status 502: 875")}, {})
        self.assertIn("502", r["notes"])

    def test_non_2xx_responses_are_errors(self):
        r = parse_wrk({"stdout": text("wrk-errors.txt")}, {})
        self.assertEqual((r["requests"], r["errors"]), (33853, 33853))
        self.assertEqual(r["notes"], "non-2xx 33853")
        self.assertAlmostEqual(r["elapsed"], 1.01)

    def test_no_summary_is_no_result(self):
        self.assertIsNone(parse_wrk({"stdout": text("wrk-refused.txt")}, {}))
        self.assertIsNone(parse_wrk({}, {}))

    def test_units(self):
        r = parse_wrk({"stdout": "  1000 requests in 812.50ms, 1MB read\n"}, {})
        self.assertAlmostEqual(r["elapsed"], 0.8125)
        self.assertAlmostEqual(r["rps"], 1000 / 0.8125)
        r = parse_wrk({"stdout": "  60000 requests in 1.00m, 1MB read\nSocket errors: connect 0, read 3, write 0, timeout 2\n"}, {})
        self.assertEqual(r["elapsed"], 60.0)
        self.assertEqual(r["notes"], "socket errors: connect 0, read 3, write 0, timeout 2")


class H2loadTests(unittest.TestCase):
    def test_http1(self):
        r = parse_h2load({"stdout": text("h2load-h1.txt")}, {})
        self.assertEqual((r["requests"], r["errors"], r["proto"]), (122161, 0, "http/1.1"))
        self.assertEqual((r["elapsed"], r["rps"]), (2.01, 61080.50))

    def test_h2c_and_h2_over_tls(self):
        r = parse_h2load({"stdout": text("h2load-h2c.txt")}, {})
        self.assertEqual((r["requests"], r["proto"], r["rps"]), (130232, "h2c", 65116.00))
        r = parse_h2load({"stdout": text("h2load-tls.txt")}, {})
        self.assertEqual((r["requests"], r["proto"], r["rps"]), (230499, "h2", 115249.50))

    def test_failures_count_and_are_noted(self):
        out = text("h2load-h2c.txt").replace("130232 succeeded, 0 failed, 0 errored", "130200 succeeded, 30 failed, 2 errored")
        r = parse_h2load({"stdout": out}, {})
        self.assertEqual((r["requests"], r["errors"], r["notes"]), (130232, 32, "failed 30, errored 2"))

    def test_no_summary(self):
        self.assertIsNone(parse_h2load({"stdout": "starting benchmark...\nconnect: Connection refused\n"}, {}))


class LocustTests(unittest.TestCase):
    def test_aggregated_row_and_users(self):
        r = parse_locust({"stderr": text("locust.stderr")}, {"csv_prefix": fixture("locust"), "duration": 3})
        self.assertEqual((r["requests"], r["errors"], r["elapsed"]), (13827, 0, 3.0))
        self.assertAlmostEqual(r["locust_rps"], 6911.4122258924945)
        self.assertEqual(r["users_reached"], 10)   # "All users spawned: ... (10 total users)"
        self.assertNotIn("rps", r)   # Locust's own Requests/s divides by whole seconds: the caller divides

    def test_users_from_the_history_without_the_log_line(self):
        r = parse_locust({"stderr": ""}, {"csv_prefix": fixture("locust"), "duration": 3})
        self.assertEqual(r["users_reached"], 10)

    def test_missing_csv(self):
        self.assertIsNone(parse_locust({}, {"csv_prefix": fixture("no-such"), "duration": 3}))


class LualoadTests(unittest.TestCase):
    def test_http1_document(self):
        r = parse_luaload({}, {"json": fixture("luaload.json")})
        self.assertEqual((r["requests"], r["elapsed"], r["errors"], r["abandoned"]), (218847, 2.0, 0, 10))
        self.assertAlmostEqual(r["rps"], 109409.222)
        self.assertEqual(r["protocols"], {"HTTP/1.1": 218847, "HTTP/2.0": 0})
        self.assertEqual(r["notes"], "abandoned 10")
        self.assertEqual(r["json"]["total"]["requests"], 218847)

    def test_h2_over_tls_document(self):
        r = parse_luaload({}, {"json": fixture("luaload-h2-tls.json")})
        self.assertEqual(r["protocols"]["HTTP/2.0"], r["requests"])
        self.assertEqual((r["requests"], r["tls_handshakes"], r["tls_resumed"], r["tls_errors"]), (126292, 10, 0, 0))
        self.assertAlmostEqual(r["tls_handshake_ms_p50"], 6.215)

    def test_unreadable_document(self):
        self.assertIsNone(parse_luaload({}, {"json": fixture("no-such.json")}))
        self.assertIsNone(parse_luaload({}, {"json": fixture("wrk.txt")}))


class K6Tests(unittest.TestCase):
    def test_summary_export_http1(self):
        r = parse_k6({"stderr": text("k6.stderr")}, {"json": fixture("k6-summary.json")})
        self.assertEqual((r["requests"], r["errors"], r["users_reached"], r["proto"]), (37105, 0, 10, "http/1.1"))
        self.assertAlmostEqual(r["rps"], 18549.67094331026)
        self.assertAlmostEqual(r["elapsed"], 37105 / 18549.67094331026)

    def test_summary_export_h2_over_tls(self):
        r = parse_k6({"stderr": text("k6-tls.stderr")}, {"json": fixture("k6-summary-tls.json")})
        self.assertEqual((r["requests"], r["proto"]), (34331, "h2"))

    def test_failed_requests_are_the_rate_metrics_passes(self):
        import json
        import tempfile
        with open(fixture("k6-summary.json")) as f:
            j = json.load(f)
        j["metrics"]["http_req_failed"] = {"passes": 7, "fails": 37098, "value": 7 / 37105}
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(j, f)
        try:
            r = parse_k6({}, {"json": f.name})
        finally:
            os.unlink(f.name)
        self.assertEqual((r["errors"], r["notes"]), (7, "failed 7"))
        self.assertNotIn("proto", r)

    def test_no_export(self):
        self.assertIsNone(parse_k6({}, {"json": fixture("no-such.json")}))
        self.assertIsNone(parse_k6({}, {"json": fixture("luaload.json")}))


class CallgrindTests(unittest.TestCase):
    def test_total_from_valgrind_stderr_and_from_the_out_file(self):
        self.assertEqual(callgrind_total(text("true.callgrind.stderr"), fixture("no-such")), 126743)
        self.assertEqual(callgrind_total("", fixture("true.callgrind")), 126743)

    def test_self_cost_per_object_adds_up_to_the_total(self):
        per = callgrind_by_object(fixture("true.callgrind"))
        self.assertEqual(sum(per.values()), 126743)
        self.assertEqual(per["/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"], 124897)
        self.assertEqual(per["/usr/lib/x86_64-linux-gnu/libc.so.6"], 1751)

    def test_groups(self):
        self.assertEqual(instr_group("/tmp/x/luaload-stripped", "/tmp/x/luaload-stripped"), "luaload")
        self.assertEqual(instr_group("/usr/lib/x86_64-linux-gnu/liblua5.4.so.0.0.0", "b"), "lua")
        self.assertEqual(instr_group("/usr/lib/x86_64-linux-gnu/libc.so.6", "b"), "libc")
        self.assertEqual(instr_group("/opt/swift/usr/lib/swift/linux/libswiftCore.so", "b"), "swift")
        self.assertEqual(instr_group("/opt/swift/usr/lib/swift/linux/libFoundationEssentials.so", "b"), "swift")
        self.assertEqual(instr_group("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "b"), "ld")
        self.assertEqual(instr_group("/usr/lib/x86_64-linux-gnu/libz.so.1", "b"), "other")


class AgentCostTests(unittest.TestCase):
    def test_per_thread_output(self):
        r = parse_agent_cost(text("agent-cost.txt"), 30000)
        self.assertNotIn("missing", r)
        self.assertEqual(r["plain"], {"per_request": 9572, "workers_per_request": 7096, "main_per_s": 23614530})
        self.assertEqual(r["agent"]["link_thread_per_s"], 14605)
        self.assertEqual((r["native_rps"], r["native_ratio"], r["link_per_s"], r["main_diff"]), (39422, 0.9928, 14605, -11370907))
        self.assertEqual(r["runs"], {"plain": [318658342, 287156789, 291446437], "agent": [312003319, 274288474, 292071870]})

    def test_first_version_output_still_parses(self):
        r = parse_agent_cost(text("agent-cost-old.txt"), 30000)
        self.assertEqual((r["native_ratio"], r["link_per_s"], r["callgrind_ratio"]), (0.9952, 544493, 0.9590))

    def test_garbage_is_missing(self):
        self.assertIn("missing", parse_agent_cost("valgrind: command not found\n", 30000))


if __name__ == "__main__":
    unittest.main()
