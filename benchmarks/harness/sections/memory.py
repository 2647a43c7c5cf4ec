"""Memory per VU: peak RSS with many mostly idle VUs (a request every 5 s each) minus a 1-VU run, per VU reached.
luaload and Locust at --mem-users; k6 (a goroutine and a JavaScript runtime per VU) and luaload at --k6-mem-users."""
import contextlib
import os
import shlex

from .. import state
from ..nginx import Nginx
from ..peers import k6_spec, locust_spec, luaload_spec
from ..proc import log, run_measured
from ..runs import cmd_str, fmt
from . import memory_hour

WAIT = 5   # seconds between a VU's requests


def plan(opts, tools, url):
    """(row, generator, users, spec) of each run; a generator's 1-VU baseline is its row "<generator>-1"."""
    u, k = opts.mem_users, opts.k6_mem_users
    ll = lambda users, rate, d: luaload_spec(tools.get("luaload"), url, users, d, script="luaload_idle.lua",
                                             extra=["-r", str(rate)])
    rows = [("luaload-1", "luaload", 1, ll(1, 1, opts.mem_base_duration), opts.mem_base_duration),
            ("luaload-%d" % u, "luaload", u, ll(u, opts.mem_rate_luaload, opts.mem_duration), opts.mem_duration),
            ("locust-1", "locust", 1, locust_spec(tools.get("locust"), url, 1, opts.mem_base_duration, wait=WAIT),
             opts.mem_base_duration),
            ("locust-%d" % u, "locust", u, ramped_locust(tools.get("locust"), url, u, opts.mem_rate_locust, opts.mem_duration),
             opts.mem_duration),
            ("k6-1", "k6", 1, k6_spec(tools.get("k6"), url, 1, opts.mem_base_duration, wait=WAIT), opts.mem_base_duration),
            ("k6-%d" % k, "k6", k, k6_spec(tools.get("k6"), url, k, opts.mem_duration, wait=WAIT), opts.mem_duration)]
    if k != u:
        rows.append(("luaload-%d" % k, "luaload", k, ll(k, opts.mem_rate_luaload, opts.mem_duration), opts.mem_duration))
    return rows


def ramped_locust(locust, url, users, rate, d):
    """Locust's spawn rate (-r) below -u: 10,000 users at once would stall its one process."""
    base = locust_spec(locust, url, users, d, wait=WAIT)

    def spec(tag):
        cmd, env, parser, pargs = base(tag)
        cmd[cmd.index("-r") + 1] = str(rate)
        return cmd, env, parser, pargs
    return spec


def one(tag, gen, spec, d, unavailable):
    if gen in unavailable:
        return {"missing": unavailable[gen]}
    cmd, env, parser, pargs = spec(tag)
    log("%-8s %s" % (tag, " ".join(shlex.quote(x) for x in cmd)))
    res = run_measured(cmd, d + 120, os.path.join(state.OUT_DIR, tag), env=env)
    parsed = None
    if not res.get("error"):
        with contextlib.suppress(Exception):
            parsed = parser(res, pargs)
    if res.get("error") or not parsed:
        why = "run failed: exit %s%s (see out/%s.err)" % (res.get("rc"), res.get("error") or "", tag)
        log("%-8s missing: %s" % (tag, why))
        return {"missing": why, "cmd": cmd}
    log("%-8s peak RSS %.1f MB, %d requests" % (tag, res["maxrss_kb"] / 1024.0, parsed["requests"]))
    return {"rss_mb": res["maxrss_kb"] / 1024.0, "requests": parsed["requests"], "cmd": cmd,
            "users_reached": parsed.get("users_reached"), "abandoned": parsed.get("abandoned"),
            "errors": parsed.get("errors"), "cpu": res["utime"] + res["stime"],
            "timed_out": res["timed_out"], "notes": parsed.get("notes", "")}


def measure(opts, tools, unavailable):
    users = max(opts.mem_users, opts.k6_mem_users)
    nginx = Nginx(workers=1, worker_connections=max(65536, users * 2), rlimit_nofile=max(70000, users * 2 + 100))
    out = {"users": opts.mem_users, "k6_users": opts.k6_mem_users, "duration": opts.mem_duration, "rows": {}}
    try:
        nginx.start()
        out["url"] = nginx.url
        rows = plan(opts, tools, nginx.url)
        out["order"] = [r[0] for r in rows if not r[0].endswith("-1")]
        for key, gen, n, spec, d in rows:
            r = one("mem-%s" % key, gen, spec, d, unavailable)
            r.update(generator=gen, users=n)
            out["rows"][key] = r
        for key, gen, n, _, _ in rows:
            r, base = out["rows"][key], out["rows"].get(gen + "-1", {})
            if n > 1 and "rss_mb" in r and "rss_mb" in base:
                reached = r.get("users_reached") or n
                r["kb_per_vu"] = (r["rss_mb"] - base["rss_mb"]) * 1024.0 / reached
                r["per_vu_divisor"] = reached
                r["base_rss_mb"] = base["rss_mb"]
        if "luaload" in unavailable:
            out["per_hour"] = {"missing": unavailable["luaload"]}
        else:
            out["per_hour"] = memory_hour.measure(opts, tools.get("luaload"), nginx.url)
    finally:
        nginx.stop()
    return out


def render(L, opts, mem, nofile):
    L.append("## Memory per VU")
    L.append("")
    L.append("nginx with worker_connections %s, `ulimit -n` %d for all; HTTP/1.1. Each VU/user sends one request every "
             "%d s (`wait = constant(%d)`, Locust's `constant(%d)`, k6's `sleep(%d)`). KB per VU = (peak RSS at N VUs − "
             "peak RSS at 1 VU) / VUs reached. %d s runs (1-VU baseline %d s). k6 (a JavaScript runtime per VU) is "
             "measured at %d VUs, with luaload beside it at the same count. Peak RSS is not a timing: load on the "
             "box barely moves it." % (
                 max(65536, max(mem["users"], mem["k6_users"]) * 2), nofile, WAIT, WAIT, WAIT, WAIT, mem["duration"],
                 opts.mem_base_duration, mem["k6_users"]))
    L.append("")
    L.append("| generator | VUs asked | VUs reached | peak RSS MB | 1-VU RSS MB | KB per VU | requests | CPU s | notes |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for key in mem["order"]:
        r = mem["rows"][key]
        base = mem["rows"].get(r["generator"] + "-1", {})
        if "rss_mb" not in r or "rss_mb" not in base:
            why = r.get("missing") or base.get("missing") or "?"
            L.append("| %s | %d | missing | | | | | | %s |" % (r["generator"], r["users"], why.replace("|", "/")))
            continue
        notes = [x for x in (r.get("notes"), "timed out" if r.get("timed_out") else "") if x]
        if r.get("abandoned") is not None:
            notes.append("abandoned %s" % r["abandoned"])
        L.append("| %s | %d | %s | %.1f | %.1f | %s | %s | %s | %s |" % (
            r["generator"], r["users"], fmt(r.get("per_vu_divisor")), r["rss_mb"], base["rss_mb"],
            fmt(r.get("kb_per_vu"), "%.1f"), fmt(r.get("requests")), fmt(r.get("cpu"), "%.1f"),
            "; ".join(notes).replace("|", "/")))
    L.append("")
    k = mem["k6_users"]
    a, b = mem["rows"].get("k6-%d" % k, {}), mem["rows"].get("luaload-%d" % k, {})
    if a.get("kb_per_vu") and b.get("kb_per_vu"):
        L.append("At %d VUs: k6 %.1f KB per VU, luaload %.1f: k6 / luaload = %.0f×." % (
            k, a["kb_per_vu"], b["kb_per_vu"], a["kb_per_vu"] / b["kb_per_vu"]))
        L.append("")
    L.append("Commands (PORT is the port nginx got; the 1-VU baselines are the same with 1 VU):")
    L.append("")
    L.append("```")
    for key in mem["order"]:
        c = mem["rows"][key].get("cmd")
        if c:
            env = {"locust": "LOCUST_WAIT=%d " % WAIT, "k6": "BASE_URL=http://127.0.0.1:PORT K6_WAIT=%d " % WAIT}
            L.append(env.get(mem["rows"][key]["generator"], "") + cmd_str(c, mem.get("url")))
    L.append("```")
    L.append("")
    if mem.get("per_hour"):
        memory_hour.render(L, mem["per_hour"])
