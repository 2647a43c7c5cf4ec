"""The instructions section of the report: the table, the ratios to the goals, the split by object, the commands."""
import re

from ..parsers.callgrind import INSTR_GROUPS
from ..runs import cmd_str


def num(v):
    return "{:,.1f}".format(v) if abs(v) < 10 else "{:,.0f}".format(v)


def render(L, ins):
    L.append("## Instructions per request (callgrind)")
    L.append("")
    if ins.get("missing"):
        L.append("Not measured: %s." % ins["missing"])
        L.append("")
        return
    n1, n2 = ins["n"]
    L.append("User-space instructions (callgrind's `Ir`: everything the process executes outside the kernel, "
             "the program, its libraries and the dynamic loader, all threads) divided by requests, `GET /health` "
             "on nginx (1 worker) over one keep-alive connection, %s. luaload runs a stripped copy of the "
             "binary (`strip -o`; valgrind 3.19 cannot read the unstripped binary's DWARF 5). "
             "*Whole program* counts start-up and shutdown too; *marginal* is (I(-n %d) − I(-n %d)) / %d, what "
             "one more request costs. wrk and `luaload wrk` run for %d s and are divided by the requests they "
             "report. These counts are for one machine-independent build and, unlike the timings above, do "
             "not scale with the machine's speed; they are not quite fixed, though: luaload's also grow with "
             "the run's wall time, so a run slowed by other load on the box counts a few %% more, never fewer. "
             "Each luaload `-n` row is therefore the fewest of %d interleaved runs (all listed in the notes)." % (
                 ins.get("valgrind", "valgrind"), n1, n2, n1 - n2, ins["wrk_duration"], ins.get("reps", 1)))
    L.append("")
    runs = ins.get("runs", {})
    L.append("| row | requests | instructions | instructions / request | s under valgrind | notes |")
    L.append("|---|---:|---:|---:|---:|---|")

    def row(label, r):
        if not r or "missing" in r:
            L.append("| %s | missing | | | | %s |" % (label, ((r or {}).get("missing") or "not run").replace("|", "/")))
            return
        notes = [r.get("notes")] if r.get("notes") else []
        ok = [t for t in r.get("tries", []) if t.get("instructions")]
        if len(ok) > 1:
            notes.append("fewest of %d runs: %s per request (%s s)" % (
                len(ok), ", ".join("{:,.0f}".format(t["per_request"]) for t in ok),
                ", ".join("%.1f" % t["wall"] for t in ok)))
        if len(ok) < len(r.get("tries", [])):
            notes.append("%d of %d runs failed" % (len(r["tries"]) - len(ok), len(r["tries"])))
        L.append("| %s | %s | %s | %s | %.1f | %s |" % (
            label, "{:,}".format(r["requests"]), "{:,}".format(r["instructions"]),
            "{:,.0f}".format(r["per_request"]), r["wall"], "; ".join(notes).replace("|", "/")))
    row("luaload, whole program, `-n %d`" % n1, runs.get("luaload-n%d" % n1))
    if ins.get("marginal") is not None:
        a, b = runs["luaload-n%d" % n1], runs["luaload-n%d" % n2]
        L.append("| luaload, marginal (`-n %d` minus `-n %d`) | %s | %s | %s | | start-up + shutdown ≈ %.1f M "
                 "instructions (`-n %d` whole program: %s / request) |" % (
                     n1, n2, "{:,}".format(n1 - n2), "{:,}".format(a["instructions"] - b["instructions"]),
                     "{:,.0f}".format(ins["marginal"]), ins["fixed"] / 1e6, n2,
                     "{:,.0f}".format(b["per_request"])))
    else:
        L.append("| luaload, marginal | missing | | | | a luaload run is missing |")
    row("luaload + metrics (`--metrics-listen`, `--out prometheus-rw=`), `-n %d`" % n1,
        runs.get("luaload-metrics-n%d" % n1))
    row("luaload `--web`, a page open, whole program, `-n %d`" % n1, runs.get("luaload-web-n%d" % n1))
    row("wrk, whole program, %d s" % ins["wrk_duration"], runs.get("wrk"))
    row("luaload wrk, whole program, %d s" % ins["wrk_duration"], runs.get("luaload-wrk"))
    L.append("")
    la, lw = runs.get("luaload-n%d" % n1, {}), runs.get("luaload-web-n%d" % n1, {})
    if la.get("per_request") and lw.get("per_request"):
        L.append("luaload `--web` with a page open / without: %.3f× the instructions per request (goal ≤ 1.02×)." % (
            lw["per_request"] / la["per_request"]))
        L.append("")
    la, w = runs.get("luaload-n%d" % n1, {}), runs.get("wrk", {})
    if la.get("per_request") and w.get("per_request"):
        L.append("luaload (`-n %d`, whole program) / wrk: %.2f× the instructions per request." % (
            n1, la["per_request"] / w["per_request"]))
        L.append("")
    lm = runs.get("luaload-metrics-n%d" % n1, {})
    if la.get("per_request") and lm.get("per_request"):
        L.append("luaload with metrics on / off (`-n %d`, whole program): %.3f× the instructions per request "
                 "(the goal: at most 1.02×)." % (n1, lm["per_request"] / la["per_request"]))
        L.append("")
    bd = ins.get("breakdown")
    if bd:
        req = bd["requests"]
        L.append("Where the `-n %d` run's instructions go (self cost per object file, from the callgrind out "
                 "file; whole program, so start-up is in it):" % n1)
        L.append("")
        L.append("| object | instructions / request | share |")
        L.append("|---|---:|---:|")
        tot = bd["sum"] or 1
        for g, label in INSTR_GROUPS:
            v = bd["by_group"].get(g, 0)
            if g == "other" and bd.get("others"):
                top = sorted(bd["others"].items(), key=lambda kv: -kv[1])[:4]
                label += " (%s)" % ", ".join("%s %s" % (k, num(x / req)) for k, x in top)
            L.append("| %s | %s | %.1f %% |" % (label, num(v / req), 100.0 * v / tot))
        L.append("| total | %s | 100 %% |" % "{:,.0f}".format(bd["sum"] / req))
        L.append("")
    L.append("Commands (PORT is the port nginx got, TMP the section's temp dir):")
    L.append("")
    L.append("```")
    L.append(cmd_str(ins["strip_cmd"]).replace(ins["tmp"], "TMP"))
    for key in ("luaload-n%d" % n1, "luaload-n%d" % n2, "luaload-web-n%d" % n1, "luaload-metrics-n%d" % n1, "wrk", "luaload-wrk"):
        c = (runs.get(key) or {}).get("cmd")
        if c:
            L.append(re.sub(r"-r\d+\.callgrind", "-rN.callgrind",
                            cmd_str(c, ins.get("url")).replace(ins["tmp"], "TMP")))
    L.append("```")
    L.append("")
