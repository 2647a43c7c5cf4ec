"""Instructions per request under callgrind (repeatable on a shared machine): luaload -n 30000 and -n 10000 (whole
program and marginal), with metrics and with --web and a page open, wrk and `luaload wrk`, and the split by object."""
import contextlib
import os
import re
import shlex
import shutil
import socket
import tempfile
import threading
import time

from .. import state
from ..install import ensure_valgrind
from ..nginx import Nginx
from ..parsers.callgrind import INSTR_GROUPS, callgrind_by_object, callgrind_total, instr_group
from ..parsers.wrk import parse_wrk
from ..proc import log, run_measured, run_simple, which

INSTR_N = (30000, 10000)   # luaload -n: the figure is whole program over 30000; 10000 for the marginal cost
INSTR_WRK_DURATION = 20    # s of the duration-based wrk rows (a few thousand requests/s under valgrind)
INSTR_TIMEOUT = 600        # s per valgrind run (10-40 s is usual)


class PageClient:
    """What an open --web page does, for the instructions section's `--web` row: loads the page, then holds its
    event stream (a tick a second) until luaload ends. It retries the connect while luaload starts under valgrind."""

    def __init__(self, port):
        self.port, self.ticks, self.page_bytes = port, 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def get(self, path, stream=False):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        s.settimeout(2)
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" % (
            path, self.port, "" if stream else "Connection: close\r\n")).encode())
        return s

    def run(self):
        while not self.stop.is_set():
            try:
                with self.get("/") as s:
                    while True:
                        b = s.recv(65536)
                        if not b:
                            break
                        self.page_bytes += len(b)
                break
            except OSError:
                time.sleep(0.05)
        try:
            with self.get("/events", stream=True) as s:
                while not self.stop.is_set():
                    try:
                        b = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not b:
                        break
                    self.ticks += b.count(b"event: tick")
        except OSError:
            pass

    def finish(self):
        self.stop.set()
        self.thread.join(5)
        return {"page_bytes": self.page_bytes, "ticks": self.ticks}


def free_loopback_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(opts, luaload, unavailable):
    """User-space instructions per request under callgrind: luaload -n 30000 and -n 10000 (whole program and
    marginal), wrk and `luaload wrk` for a fixed time, and the luaload -n 30000 run split by object file."""
    out = {"n": list(INSTR_N), "wrk_duration": INSTR_WRK_DURATION, "reps": max(1, opts.instructions_reps)}
    vg = ensure_valgrind(opts.no_install)
    if not vg:
        out["missing"] = "valgrind not installed" + (" (--no-install)" if opts.no_install else "")
        return out
    rc, v = run_simple([vg, "--version"], 30)
    out["valgrind"] = v.strip().splitlines()[0] if rc == 0 and v.strip() else "?"
    tmp = tempfile.mkdtemp(prefix="luaload-bench-instr-")
    out["tmp"] = tmp
    nginx = Nginx(workers=1, worker_connections=20000, rlimit_nofile=65536)
    try:
        stripped = None
        if "luaload" in unavailable:
            why_ll = unavailable["luaload"]
        elif not which("strip"):
            why_ll = "strip not installed (binutils)"
        else:
            stripped = os.path.join(tmp, "luaload-stripped")
            rc, so = run_simple([which("strip"), "-o", stripped, luaload], 120)
            why_ll = None if rc == 0 else "strip failed (rc %s): %s" % (rc, so.strip()[-200:])
            if rc != 0:
                stripped = None
        out["strip_cmd"] = ["strip", "-o", os.path.join(tmp, "luaload-stripped"), os.path.relpath(luaload, state.ROOT)
                            if luaload and luaload.startswith(state.ROOT + "/") else (luaload or "luaload")]
        nginx.start()
        url = nginx.url
        out["url"] = url
        script = os.path.join(state.BENCH, "luaload_health.lua")
        # The luaload -n runs are short (seconds), so they are repeated (interleaved) and the fewest instructions
        # kept: luaload's count grows with the run's wall time (about 3 M instructions a second on the 2-core box), so a
        # run slowed by other load on the box counts more, never fewer.
        plan = []
        for rep in range(max(1, opts.instructions_reps)):
            for n in INSTR_N:
                plan.append(("luaload-n%d" % n, rep, [stripped or "luaload-stripped", "-t", "1", "-u", "1", "-n", str(n),
                                                      "-q", "-H", url, script], n, why_ll))
            # Metrics on as users run them: /metrics served (nothing scrapes it here; a scrape builds a set) and
            # remote write every 5 s (the default) to nginx, which answers any POST to /health with 200: what
            # metrics add per request (issue #21: at most 1.02x).
            plan.append(("luaload-metrics-n%d" % INSTR_N[0], rep,
                         [stripped or "luaload-stripped", "-t", "1", "-u", "1", "-n", str(INSTR_N[0]), "-q", "-H", url,
                          "--metrics-listen", "0", "--out", "prometheus-rw=" + url + "/health", script], INSTR_N[0], why_ll))
            # The same -n 30000 with --web and a page open (PageClient): the live path must cost nothing per request.
            plan.append(("luaload-web-n%d" % INSTR_N[0], rep, [stripped or "luaload-stripped", "-t", "1", "-u", "1", "-n",
                                                           str(INSTR_N[0]), "-q", "-H", url, "--web", "127.0.0.1:WEBPORT",
                                                           script], INSTR_N[0], why_ll))
        d = "-d%ds" % INSTR_WRK_DURATION
        plan.append(("wrk", 0, ["wrk", "-t1", "-c1", d, url + "/health"], None, unavailable.get("wrk")))
        plan.append(("luaload-wrk", 0, [stripped or "luaload-stripped", "wrk", "-t1", "-c1", d, url + "/health"], None,
                     why_ll))
        runs, tries = {}, {}
        for key, rep, cmd, n, why in plan:
            tag = "instr-%s-r%d" % (key, rep + 1)
            cg = os.path.join(state.OUT_DIR, tag + ".callgrind")
            full = ["valgrind" if shutil.which("valgrind") == vg else vg, "--tool=callgrind",
                    "--callgrind-out-file=" + cg] + cmd
            if why:
                tries.setdefault(key, []).append({"missing": why, "cmd": full})
                continue
            page = None
            if "127.0.0.1:WEBPORT" in full:
                web_port = free_loopback_port()
                full = [x.replace("WEBPORT", str(web_port)) for x in full]
                page = PageClient(web_port)
            log("%-8s %s" % (tag, " ".join(shlex.quote(x) for x in full)))
            res = run_measured(full, INSTR_TIMEOUT, os.path.join(state.OUT_DIR, tag), cpus=state.GEN_CPUS)
            page_seen = page.finish() if page else None
            r = {"cmd": full, "rc": res.get("rc"), "wall": res.get("wall"), "callgrind_out": cg}
            if res.get("error"):
                r["missing"] = res["error"]
                tries.setdefault(key, []).append(r)
                continue
            total = callgrind_total(res["stderr"], cg)
            if n is not None:
                # luaload's own "N requests in" line; -n N is N task runs, one request each.
                m = re.search(r"^(\d+) requests in ", res["stdout"], re.M)
                reqs, rnote = (int(m.group(1)) if m else n), None
                if m and reqs != n:
                    rnote = "luaload reported %d requests for -n %d" % (reqs, n)
            else:
                parsed = None
                with contextlib.suppress(Exception):
                    parsed = parse_wrk(res, {})
                reqs = parsed["requests"] if parsed else None
                rnote = (parsed or {}).get("notes") or None
            if res["timed_out"] or res["rc"] != 0 or not total or not reqs:
                r["missing"] = "exit %s%s; %s (see out/%s.err)" % (
                    res["rc"], ", timed out" if res["timed_out"] else "",
                    "no Collected line" if not total else "no request count", tag)
                tries.setdefault(key, []).append(r)
                log("%-8s missing: %s" % (tag, r["missing"]))
                continue
            if page_seen is not None:
                r["page"] = page_seen
                rnote = ((rnote + "; ") if rnote else "") + "page open: %d ticks received, page %d bytes" % (
                    page_seen["ticks"], page_seen["page_bytes"])
            r.update(instructions=total, requests=reqs, per_request=total / reqs, notes=rnote or "")
            log("%-8s %d instructions, %d requests: %.0f instructions/request (%.1f s under valgrind)" % (
                tag, total, reqs, total / reqs, res["wall"]))
            tries.setdefault(key, []).append(r)
        for key, rs in tries.items():
            ok = [r for r in rs if "instructions" in r]
            best = dict(min(ok, key=lambda r: r["per_request"]) if ok else rs[0])
            best["tries"] = [{k: r.get(k) for k in ("instructions", "requests", "per_request", "wall", "missing")}
                             for r in rs]
            runs[key] = best
        out["runs"] = runs
        a, b = runs.get("luaload-n%d" % INSTR_N[0], {}), runs.get("luaload-n%d" % INSTR_N[1], {})
        if "instructions" in a and "instructions" in b and (a["requests"], b["requests"]) == INSTR_N:
            marg = (a["instructions"] - b["instructions"]) / (INSTR_N[0] - INSTR_N[1])
            out["marginal"] = marg
            out["fixed"] = b["instructions"] - marg * INSTR_N[1]  # start-up + shutdown, extrapolated to n = 0
            log("instr    luaload marginal %.0f instructions/request; fixed cost %.1f M" % (marg, out["fixed"] / 1e6))
        if "instructions" in a:
            try:
                per = callgrind_by_object(a["callgrind_out"])
            except (OSError, ValueError) as e:
                per, out["breakdown_error"] = None, repr(e)
            if per:
                groups = {g: 0 for g, _ in INSTR_GROUPS}
                others = {}
                for obj, ir in per.items():
                    g = instr_group(obj, stripped)
                    groups[g] += ir
                    if g == "other":
                        others[os.path.basename(obj)] = others.get(os.path.basename(obj), 0) + ir
                out["breakdown"] = {"requests": a["requests"], "by_group": groups, "by_object": per,
                                    "others": others, "sum": sum(per.values())}
                log("instr    breakdown per request: %s" % ", ".join(
                    "%s %.0f" % (g, v / a["requests"]) for g, v in groups.items()))
        return out
    finally:
        nginx.stop()
        shutil.rmtree(tmp, ignore_errors=True)
