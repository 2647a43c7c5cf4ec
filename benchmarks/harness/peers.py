"""The command line of each generator (wrk, wrk-lua, h2load, Locust, k6, luaload, `luaload wrk`), as the sections run
them: name -> fn(tag) -> (cmd, env, parser, parser_args), built fresh per run so each writes its own files."""
import os

from . import state
from .parsers.h2load import parse_h2load
from .parsers.k6 import parse_k6
from .parsers.locust import parse_locust
from .parsers.luaload import parse_luaload
from .parsers.wrk import parse_wrk


def bench_file(name):
    return os.path.join(state.BENCH, name)


def wrk_spec(url, threads, conns, d, script=None, exe="wrk"):
    pre = [exe] if exe == "wrk" else [exe, "wrk"]
    lua = ["-s", bench_file("wrk_lua.lua")] if script else ["--latency"]
    return lambda tag: (pre + ["-t%d" % threads, "-c%d" % conns, "-d%ds" % d] + lua + [url + "/health"],
                        None, parse_wrk, {})


def h2load_spec(url, conns, d, streams=None, threads=1):
    """HTTP/1.1 (`--h1`) when streams is None, else HTTP/2 with `-m streams` (h2c by prior knowledge on http://,
    ALPN h2 on https://)."""
    tc = ["-t%d" % threads, "-c%d" % conns]
    args = ["--h1"] + tc if streams is None else tc + ["-m%d" % streams]
    return lambda tag: (["h2load"] + args + ["-D", str(d), url + "/health"],
                        None, parse_h2load, {})


def locust_spec(locust, url, users, d, wait=0):
    def spec(tag):
        prefix = os.path.join(state.OUT_DIR, tag + "-locust")
        env = dict(os.environ, LOCUST_WAIT=str(wait), PYTHONUNBUFFERED="1")
        return ([locust or "locust", "-f", bench_file("locustfile.py"), "--headless",
                 "-u", str(users), "-r", str(users), "-t", "%ds" % d, "-H", url, "--only-summary",
                 "--csv", prefix, "--loglevel", "INFO", "--stop-timeout", "0"],
                env, parse_locust, {"csv_prefix": prefix, "duration": d})
    return spec


def k6_spec(k6, url, vus, d, wait=0, cafile=None):
    """k6 run with `--vus N --duration Ds` (all VUs from the start), its summary exported as JSON. No usage report
    (k6 would otherwise phone home); over HTTPS it trusts the run's throwaway CA through SSL_CERT_FILE (Go's
    crypto/x509 reads it), so it verifies as luaload does."""
    def spec(tag):
        jpath = os.path.join(state.OUT_DIR, tag + "-k6.json")
        env = dict(os.environ, BASE_URL=url, K6_WAIT=str(wait), K6_NO_USAGE_REPORT="true")
        if cafile:
            env["SSL_CERT_FILE"] = cafile
        return ([k6 or "k6", "run", "--quiet", "--no-color", "--no-usage-report", "--vus", str(vus),
                 "--duration", "%ds" % d, "--summary-export", jpath, bench_file("k6_health.js")],
                env, parse_k6, {"json": jpath})
    return spec


def luaload_spec(luaload, url, users, d, threads=1, script="luaload_health.lua", extra=(), env=None):
    def spec(tag):
        jpath = os.path.join(state.OUT_DIR, tag + "-luaload.json")
        return ([luaload or "luaload", "-t", str(threads), "-u", str(users), "-d", "%ds" % d] + list(extra) +
                ["-H", url, "--json", jpath, bench_file(script)], env, parse_luaload, {"json": jpath})
    return spec


def gen_specs(opts, url, tools, threads=1, conns=None):
    """The throughput table's generators (and the scaling section's, with threads=2)."""
    d, c = opts.duration, conns or opts.connections
    ll = tools.get("luaload")
    return {
        "wrk": wrk_spec(url, threads, c, d),
        "wrk-lua": wrk_spec(url, threads, c, d, script=True),
        "h2load": h2load_spec(url, c, d, threads=threads),
        "locust": locust_spec(tools.get("locust"), url, c, d),
        "k6": k6_spec(tools.get("k6"), url, c, d),
        "luaload": luaload_spec(ll, url, c, d, threads=threads),
        # `luaload wrk`: wrk's command line and output on luaload's engine, plain and with wrk's own Lua script.
        "luaload-wrk": wrk_spec(url, threads, c, d, exe=ll or "luaload"),
        "luaload-wrk-lua": wrk_spec(url, threads, c, d, script=True, exe=ll or "luaload"),
    }
