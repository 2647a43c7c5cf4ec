"""The open model (--rate R) against the closed model paced to the same rate (constant_throughput), one thread each."""
import os
import statistics

from .. import state
from ..nginx import Nginx
from ..parsers.luaload import parse_luaload
from ..proc import log
from ..runs import fmt, med, round_robin


def measure(opts, luaload, timeout, unavailable):
    """The open model (--rate R) against the closed model paced to the same R (constant_throughput), one
    thread each, same VUs: the CPU per request of arrivals, their timer and the late-arrival correction."""
    rate, users, d = opts.open_rate, opts.connections, opts.duration
    nginx = Nginx(workers=1, worker_connections=20000, rlimit_nofile=65536)

    def closed(tag):
        jpath = os.path.join(state.OUT_DIR, tag + "-luaload.json")
        env = dict(os.environ, LUALOAD_PER_VU_RATE=repr(rate / users))
        return ([luaload or "luaload", "-t", "1", "-u", str(users), "-d", "%ds" % d, "-H", nginx.url, "--json", jpath,
                 os.path.join(state.BENCH, "luaload_paced.lua")], env, parse_luaload, {"json": jpath})

    def open_(tag):
        jpath = os.path.join(state.OUT_DIR, tag + "-luaload.json")
        return ([luaload or "luaload", "-t", "1", "--rate", "%d/s" % rate, "--max-vus", str(users), "-d", "%ds" % d,
                 "-H", nginx.url, "--json", jpath, os.path.join(state.BENCH, "luaload_health.lua")], None, parse_luaload,
                {"json": jpath})

    order = ["closed", "open"]
    un = {k: unavailable["luaload"] for k in order if "luaload" in unavailable}
    try:
        nginx.start()
        runs = round_robin(order, {"closed": closed, "open": open_}, opts.reps, timeout, nginx, un, "open")
    finally:
        nginx.stop()
    rat = [o["cpu_us_per_req"] / c["cpu_us_per_req"] for c, o in zip(runs["closed"], runs["open"])
           if "missing" not in c and "missing" not in o]
    head = {"median": statistics.median(rat), "all": rat} if rat else None
    if head:
        log("open/closed CPU per request: median %.3f %s" % (head["median"], ["%.3f" % r for r in rat]))
    return {"order": order, "runs": runs, "ratio": head, "rate": rate, "users": users}



def render(L, opts, op):
    L.append("## The open model: --rate vs the closed model at the same rate")
    L.append("")
    L.append("nginx with 1 worker, luaload -t 1, %d VUs, %d req/s wanted, %d s, %d interleaved runs; medians. "
             "closed: `-u %d` with `constant_throughput(%g)` per VU; open: `--rate %d/s --max-vus %d`." % (
                 op["users"], op["rate"], opts.duration, opts.reps, op["users"], op["rate"] / op["users"],
                 op["rate"], op["users"]))
    L.append("")
    L.append("| model | req/s | CPU µs/req | gen CPU % | notes |")
    L.append("|---|---:|---:|---:|---|")
    for key in op["order"]:
        ok = [r for r in op["runs"][key] if "missing" not in r]
        if not ok:
            L.append("| %s | missing | | | %s |" % (key, next((r["missing"] for r in op["runs"][key]), "").replace("|", "/")))
            continue
        notes = sorted({r.get("notes") for r in ok if r.get("notes")})
        L.append("| %s | %s | %s | %s | %s |" % (key, fmt(med(ok, "rps")), fmt(med(ok, "cpu_us_per_req"), "%.2f"),
                                                 fmt(med(ok, "gen_cpu_pct")), "; ".join(notes)))
    if op.get("ratio"):
        L.append("")
        L.append("open / closed CPU per request: median %.3f (runs: %s); the goal is within 10 %%." % (
            op["ratio"]["median"], ", ".join("%.3f" % r for r in op["ratio"]["all"])))
    L.append("")
