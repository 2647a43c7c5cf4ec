"""Measured runs of generators: one run (its CPU, RSS, the server's CPU), rounds interleaved round-robin, medians,
ratios paired by round, and the tables and command lists the sections print from them."""
import os
import shlex
import statistics

from . import state
from .proc import log, run_measured


def one_run(name, spec_fn, tag, timeout, nginx, unavailable, cpus=None):
    """One measured run of one generator. Returns a metrics dict (with 'missing' on failure)."""
    if name in unavailable:
        return {"missing": unavailable[name]}
    cmd, env, parser, pargs = spec_fn(tag)
    log("%-8s %s" % (tag, " ".join(shlex.quote(x) for x in cmd)))
    cpu0 = nginx.cpu_seconds() if nginx else None
    res = run_measured(cmd, timeout, os.path.join(state.OUT_DIR, tag), env=env, cpus=cpus)
    srv_cpu = nginx.cpu_seconds() - cpu0 if nginx else None
    if res.get("error"):
        return {"missing": res["error"], "cmd": cmd}
    try:
        parsed = parser(res, pargs)
    except Exception as e:  # a parser surprised by new output: the row is missing, the harness goes on
        parsed = None
        res["stderr"] += "\nparser error: %r" % e
    if not parsed or not parsed.get("requests"):
        why = "exit %s%s; no result parsed (see out/%s.err)" % (
            res["rc"], ", timed out" if res["timed_out"] else "", tag)
        tail = (res["stderr"].strip() or res["stdout"].strip()).splitlines()[-1:]
        if tail:
            why += ": " + tail[0][:160]
        return {"missing": why, "cmd": cmd}
    cpu = res["utime"] + res["stime"]
    m = dict(parsed)
    m.pop("json", None)
    m.update(cmd=cmd, rc=res["rc"], wall=res["wall"], utime=res["utime"], stime=res["stime"],
             cpu=cpu, rss_mb=res["maxrss_kb"] / 1024.0,
             cpu_us_per_req=cpu / parsed["requests"] * 1e6,
             gen_cpu_pct=100.0 * cpu / res["wall"] if res["wall"] else None,
             srv_cpu_pct=100.0 * srv_cpu / res["wall"] if (srv_cpu is not None and res["wall"]) else None)
    if "rps" not in m:
        m["rps"] = parsed["requests"] / (parsed.get("elapsed") or state.OPTS.duration)
    if res["timed_out"]:
        m["notes"] = (m.get("notes", "") + "; timed out (killed)").lstrip("; ")
    log("%-8s %d req, %.0f req/s, %.2f us CPU/req, RSS %.1f MB%s" % (
        tag, m["requests"], m["rps"], m["cpu_us_per_req"], m["rss_mb"],
        (" [" + m["notes"] + "]") if m.get("notes") else ""))
    return m



def med(runs, key):
    vals = [r[key] for r in runs if "missing" not in r and r.get(key) is not None]
    return statistics.median(vals) if vals else None


def round_robin(names, specs, reps, timeout, nginx, unavailable, section):
    """`reps` rounds of every generator in `names`, the first of each round rotating; returns name -> runs."""
    results = {n: [] for n in names}
    cpus = state.GEN_CPUS if section != "scale" else None
    for rep in range(reps):
        order = names[rep % len(names):] + names[:rep % len(names)]  # rotate who goes first
        for n in order:
            results[n].append(one_run(n, specs[n], "%s-%s-r%d" % (section, n, rep + 1), timeout, nginx, unavailable, cpus))
    return results


def paired_ratio(mine, peer, key="cpu_us_per_req"):
    """mine[key] / peer[key] per round (rounds where both ran), with the median; None when no round has both."""
    rat = [a[key] / b[key] for a, b in zip(mine or [], peer or [])
           if "missing" not in a and "missing" not in b and a.get(key) and b.get(key)]
    return {"median": statistics.median(rat), "all": rat} if rat else None


def ratio_text(v, spec="%.2f×"):
    if not v:
        return "n/a (a row is missing)"
    return (spec % v["median"]) + " (rounds: %s)" % ", ".join(spec.rstrip("×") % x for x in v["all"])


def fmt(v, spec="%.0f", missing="–"):
    return missing if v is None else spec % v


def cmd_str(cmd, url=None):
    s = " ".join(shlex.quote(x) for x in cmd)
    s = s.replace(state.OUT_DIR + "/", "out/").replace(os.path.join(state.VENV, "bin") + "/", "")
    s = s.replace(state.BENCH + "/", "benchmarks/").replace(state.ROOT + "/", "")
    if url:
        s = s.replace(url, "http://127.0.0.1:PORT")
    return s


def missing_why(runs):
    return next((r["missing"] for r in runs if "missing" in r), "not run").replace("|", "/")


def row_notes(runs):
    ok = [r for r in runs if "missing" not in r]
    notes = sorted({r.get("notes") for r in ok if r.get("notes")})
    if len(ok) < len(runs):
        notes.append("%d of %d runs failed" % (len(runs) - len(ok), len(runs)))
    return notes


def runs_table(L, order, runs, label=None):
    """The generator table of the throughput and HTTP/2 sections: medians of each row's runs."""
    L.append("| generator | requests | req/s | CPU µs/req (min–max) | user s | sys s | gen CPU % | nginx CPU % | peak RSS MB | notes |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in order:
        shown = label(name) if label else name
        ok = [r for r in runs[name] if "missing" not in r]
        if not ok:
            L.append("| %s | missing | | | | | | | | %s |" % (shown, missing_why(runs[name])))
            continue
        cpu = [r["cpu_us_per_req"] for r in ok]
        L.append("| %s | %s | %s | %s (%.2f–%.2f) | %s | %s | %s | %s | %s | %s |" % (
            shown, fmt(med(ok, "requests")), fmt(med(ok, "rps")), fmt(med(ok, "cpu_us_per_req"), "%.2f"), min(cpu), max(cpu),
            fmt(med(ok, "utime"), "%.2f"), fmt(med(ok, "stime"), "%.2f"), fmt(med(ok, "gen_cpu_pct")),
            fmt(med(ok, "srv_cpu_pct")), fmt(med(ok, "rss_mb"), "%.1f"), "; ".join(row_notes(runs[name])).replace("|", "/")))
    L.append("")


def commands_block(L, order, runs, url, extra=()):
    """The exact command of each row (its first run), in a code block; `extra`: (text, replacement) pairs."""
    L.append("```")
    for name in order:
        c = next((r.get("cmd") for r in runs[name] if r.get("cmd")), None)
        if c:
            s = cmd_str(c, url)
            for a, b in extra:
                s = s.replace(a, b)
            L.append(s)
    L.append("```")
    L.append("")
