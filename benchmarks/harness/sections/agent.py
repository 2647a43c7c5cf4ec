"""An agent's CPU per request beside a plain run (issue #20: <= 1.02x): benchmarks/agent-cost.sh, its lines parsed."""
import os

from .. import state
from ..install import ensure_valgrind
from ..parsers.agent import parse_agent_cost
from ..proc import run_simple
from .instructions import INSTR_TIMEOUT

AGENT_N = 30000   # requests of the agent section's runs (as benchmarks/agent-cost.sh's default)


def measure(opts, luaload, unavailable):
    """What an agent of `luaload --controller` costs per request beside a plain run of the same test (issue #20:
    <= 1.02x): benchmarks/agent-cost.sh (callgrind, the built-in target, -t 1 -u 1 -n 30000), its lines parsed."""
    if "luaload" in unavailable or not luaload:
        return {"missing": unavailable.get("luaload", "no luaload binary")}
    if not ensure_valgrind(opts.no_install):
        return {"missing": "valgrind not installed" + (" (--no-install)" if opts.no_install else "")}
    env = dict(os.environ, LUALOAD=luaload)
    rc, out = run_simple([os.path.join(state.BENCH, "agent-cost.sh"), str(AGENT_N)], INSTR_TIMEOUT * 3, env=env)
    with open(os.path.join(state.OUT_DIR, "agent-cost.out"), "w") as f:
        f.write(out)
    if rc != 0:
        return {"missing": "agent-cost.sh failed (rc %s): %s" % (rc, out[-300:].replace("\n", " "))}
    return parse_agent_cost(out, AGENT_N)


def render(L, ag):
    L.append("## An agent's CPU per request (`--no-agent` to skip)")
    L.append("")
    if "plain" not in ag or "agent" not in ag:
        L.append("not measured: %s" % ag.get("missing", "?"))
        L.append("")
        return
    L.append("callgrind's user-space instructions, `luaload -t 1 -u 1 -n %d` against `luaload serve`: a plain run "
             "(with --json) and the same test as the one agent of `luaload --controller` (the controller not "
             "counted), each %d times interleaved, pinned to one core, the fewest kept. Threads counted apart "
             "(`--separate-threads`): the worker thread per request; the main thread and the agent's link thread "
             "per second (their work is set-up plus once a second)." % (ag["n"], len(ag.get("runs", {}).get("plain", [1]))))
    L.append("")
    L.append("| run | instructions/request, whole process | worker thread/request | main thread/s | link thread/s | runs (instructions) |")
    L.append("|---|---:|---:|---:|---:|---|")
    for key in ("plain", "agent"):
        r = ag[key]
        L.append("| %s | %s | %s | %s | %s | %s |" % (
            key, "{:,}".format(r["per_request"]), "{:,}".format(r["workers_per_request"]), "{:,}".format(r["main_per_s"]),
            "{:,}".format(r["link_thread_per_s"]) if "link_thread_per_s" in r else "–",
            ", ".join("{:,}".format(x) for x in ag.get("runs", {}).get(key, []))))
    L.append("")
    L.append("**agent / plain per request, natively: %.4f×** (the goal: ≤ 1.02×): the worker thread's instructions per "
             "request (%.4f×) plus the link thread's %s instructions a second spread over the native %s requests/s. "
             "Whole process under callgrind, where per-second work weighs several times more per request than "
             "natively: %.4f×. The agent's main thread did %s instructions %s than the plain run's over "
             "the whole run: set-up (the plain run parses its command line; the agent gets its run from "
             "the controller), not per request." % (
                 ag["native_ratio"], ag.get("workers_ratio", 0), "{:,}".format(ag.get("link_per_s", 0)),
                 "{:,}".format(ag.get("native_rps", 0)), ag.get("callgrind_ratio", 0),
                 "{:,}".format(abs(ag.get("main_diff", 0))), "fewer" if ag.get("main_diff", 0) < 0 else "more"))
    L.append("")
    L.append("```")
    L.append("benchmarks/agent-cost.sh %d   # LUALOAD=.build/release/luaload" % ag["n"])
    L.append("```")
    L.append("")
