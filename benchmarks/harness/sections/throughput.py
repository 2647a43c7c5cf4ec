"""Throughput and CPU per request (every generator on one nginx worker, HTTP/1.1), and scaling (-t 1 vs -t 2)."""
from .. import state
from ..nginx import Nginx
from ..peers import gen_specs
from ..runs import commands_block, fmt, med, missing_why, paired_ratio, ratio_text, round_robin, row_notes, runs_table

NAMES = ["wrk", "wrk-lua", "h2load", "locust", "k6", "luaload", "luaload-wrk", "luaload-wrk-lua"]
# (mine, peer, label) of the headline: ratios of CPU per request in the same round.
HEADLINE = [("luaload", "wrk", "luaload / wrk"), ("luaload", "wrk-lua", "luaload / wrk with Lua"),
            ("luaload", "locust", "luaload / Locust (FastHttpUser)"), ("luaload", "k6", "luaload / k6"),
            ("luaload", "h2load", "luaload / h2load"), ("luaload-wrk", "wrk", "luaload wrk / wrk (no script)"),
            ("luaload-wrk-lua", "wrk-lua", "luaload wrk / wrk, both with wrk_lua.lua")]


def measure(opts, tools, unavailable, names):
    nginx = Nginx(workers=1, worker_connections=20000, rlimit_nofile=65536)
    try:
        nginx.start()
        runs = round_robin(names, gen_specs(opts, nginx.url, tools), opts.reps, opts.duration + 90, nginx,
                           unavailable, "tp")
    finally:
        nginx.stop()
    head = {}
    for mine, peer, _ in HEADLINE:
        if mine in runs and peer in runs:
            r = paired_ratio(runs[mine], runs[peer])
            if r:
                head[mine + "/" + peer] = r
    return {"order": names, "runs": runs, "headline": head, "url": nginx.url}


def render(L, opts, tp):
    L.append("## Throughput and CPU per request")
    L.append("")
    L.append(("generator pinned to the first core, " if state.GEN_CPUS else "generator not pinned, ") +
             "`GET /health` on nginx (1 worker pinned to the last core, keep-alive), %d connections/users, "
             "no think time, %d s per run, %d runs per generator interleaved round-robin; medians. "
             "CPU = the generator's own user+sys (rusage of the child), divided by requests completed. "
             "req/s and the CPU %% columns are wall-time figures, disturbed by whatever else runs on the box; "
             "CPU µs/req is the generator's own CPU time, disturbed far less." % (
                 opts.connections, opts.duration, opts.reps))
    L.append("")
    runs_table(L, tp["order"], tp["runs"])
    h = tp.get("headline", {})
    L.append("**Headline** (per round, ratio of CPU µs/request in the same round; median over rounds; "
             "< 1 means luaload spends less CPU per request):")
    L.append("")
    for mine, peer, label in HEADLINE:
        if mine in tp["order"] and peer in tp["order"]:
            L.append("- %s: %s" % (label, ratio_text(h.get(mine + "/" + peer))))
    L.append("")
    L.append("Commands (PORT is the port nginx got%s):" % (
        "; k6 gets `BASE_URL=http://127.0.0.1:PORT` in its environment" if "k6" in tp["order"] else ""))
    L.append("")
    commands_block(L, tp["order"], tp["runs"], tp["url"])


def measure_scaling(opts, tools, unavailable):
    nginx = Nginx(workers=2, worker_connections=20000, rlimit_nofile=65536, affinity=False)
    try:
        nginx.start()
        specs = {}
        for t in (1, 2):
            s = gen_specs(opts, nginx.url, tools, threads=t)
            specs["luaload-t%d" % t] = s["luaload"]
            specs["wrk-t%d" % t] = s["wrk"]
        order = ["luaload-t1", "luaload-t2", "wrk-t1", "wrk-t2"]
        un = {k: unavailable[k.rsplit("-t", 1)[0]] for k in order if k.rsplit("-t", 1)[0] in unavailable}
        runs = round_robin(order, specs, opts.reps, opts.duration + 90, nginx, un, "scale")
    finally:
        nginx.stop()
    return {"order": order, "runs": runs}


def render_scaling(L, opts, sc, nproc):
    L.append("## Scaling: -t 1 vs -t 2")
    L.append("")
    L.append("nginx with 2 workers (no pinning), %d connections, %d s, %d interleaved runs; medians. "
             "This box has %d cores, so the generator's second thread and nginx's two workers compete for "
             "the same cores: a ratio near 1 here says little about scaling on a bigger machine. "
             "wrk is shown under the same conditions for reference. All wall-time figures." % (
                 opts.connections, opts.duration, opts.reps, nproc))
    L.append("")
    L.append("| generator | threads | req/s | CPU µs/req | gen CPU % | nginx CPU % | notes |")
    L.append("|---|---:|---:|---:|---:|---:|---|")
    for key in sc["order"]:
        runs = sc["runs"][key]
        ok = [r for r in runs if "missing" not in r]
        name, t = key.rsplit("-t", 1)
        if not ok:
            L.append("| %s | %s | missing | | | | %s |" % (name, t, missing_why(runs)))
            continue
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            name, t, fmt(med(ok, "rps")), fmt(med(ok, "cpu_us_per_req"), "%.2f"), fmt(med(ok, "gen_cpu_pct")),
            fmt(med(ok, "srv_cpu_pct")), "; ".join(row_notes(runs)).replace("|", "/")))
    for name in ("luaload", "wrk"):
        a = med([r for r in sc["runs"].get(name + "-t1", []) if "missing" not in r], "rps")
        b = med([r for r in sc["runs"].get(name + "-t2", []) if "missing" not in r], "rps")
        if a and b:
            L.append("")
            L.append("%s: -t 2 / -t 1 = %.2f×" % (name, b / a))
    L.append("")
