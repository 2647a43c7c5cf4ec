"""HTTP/2: h2load (and k6 over TLS) vs luaload on nginx's http2 module, one worker pinned, the generator pinned.
h2c by prior knowledge and h2 over TLS by ALPN; one stream per connection (`h2load -c 50 -m 1` vs `luaload -u 50`)
and pooled connections (`h2load -c 5 -m 10` vs `luaload -u 50 --h2-pool 5`)."""
import os
import shutil
import tempfile

from ..nginx import Nginx, nginx_has
from ..peers import h2load_spec, k6_spec, luaload_spec
from ..proc import free_port, run_simple, which
from ..runs import commands_block, paired_ratio, ratio_text, round_robin, runs_table
from ..tls import https_get, make_tls_files

SERVERS = """
    server {
        listen 127.0.0.1:%(h2c)d http2 backlog=65535;
        location = /health { default_type text/plain; return 200 "ok\\n"; }
    }
    server {
        listen 127.0.0.1:%(tls)d ssl http2 backlog=65535;
        ssl_certificate %(dir)s/server.pem;
        ssl_certificate_key %(dir)s/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /health { default_type text/plain; return 200 "ok\\n"; }
    }
"""
POOL = 5        # h2load -c POOL -m (users / POOL) against luaload -u users --h2-pool POOL
# row -> (what it is, the peer its headline divides by)
ROWS = [("h2load-h2c", "h2load, h2c, one stream per connection", None),
        ("luaload-h2c", "luaload, h2c, one connection per VU", "h2load-h2c"),
        ("h2load-tls", "h2load, h2 over TLS, one stream per connection", None),
        ("k6-tls", "k6, h2 over TLS (ALPN), one connection per VU", None),
        ("luaload-tls", "luaload, h2 over TLS (ALPN), one connection per VU", "h2load-tls"),
        ("h2load-h2c-pool", "h2load, h2c, %d connections × 10 streams" % POOL, None),
        ("luaload-h2c-pool", "luaload, h2c, --h2-pool %d" % POOL, "h2load-h2c-pool"),
        ("h2load-tls-pool", "h2load, h2 over TLS, %d connections × 10 streams" % POOL, None),
        ("luaload-tls-pool", "luaload, h2 over TLS, --h2-pool %d" % POOL, "h2load-tls-pool")]


def has_h2_pool(luaload):
    rc, out = run_simple([luaload, "--help"], 30)
    return rc == 0 and "--h2-pool" in out


def specs_for(opts, tools, h2c, tls, cafile):
    d, c = opts.duration, opts.connections
    ll = tools.get("luaload")
    m = max(1, c // POOL)
    pk = ["--http2-prior-knowledge"]
    ca = ["--cacert", cafile]
    pool = ["--h2-pool", str(POOL)]
    return {
        "h2load-h2c": h2load_spec(h2c, c, d, streams=1),
        "luaload-h2c": luaload_spec(ll, h2c, c, d, extra=pk),
        "h2load-tls": h2load_spec(tls, c, d, streams=1),
        "k6-tls": k6_spec(tools.get("k6"), tls, c, d, cafile=cafile),
        "luaload-tls": luaload_spec(ll, tls, c, d, extra=ca),
        "h2load-h2c-pool": h2load_spec(h2c, POOL, d, streams=m),
        "luaload-h2c-pool": luaload_spec(ll, h2c, c, d, extra=pk + pool),
        "h2load-tls-pool": h2load_spec(tls, POOL, d, streams=m),
        "luaload-tls-pool": luaload_spec(ll, tls, c, d, extra=ca + pool),
    }


def unavailable_rows(tools, unavailable):
    un = {}
    for name, _, _ in ROWS:
        base = name.split("-")[0]
        if base in unavailable:
            un[name] = unavailable[base]
    if "luaload" not in unavailable and not has_h2_pool(tools["luaload"]):
        for name in ("luaload-h2c-pool", "luaload-tls-pool"):
            un[name] = "luaload has no --h2-pool (`luaload --help` does not list it)"
    return un


def check_protocol(runs):
    """luaload's JSON counts requests per protocol and h2load names what it negotiated: a row that did not speak
    HTTP/2 says so."""
    for name, rs in runs.items():
        for r in rs:
            if "missing" in r:
                continue
            if name.startswith("luaload") and r.get("protocols") is None:
                r["notes"] = "; ".join(x for x in (r.get("notes"), "no protocols in its JSON: HTTP/2 not shown") if x)
            if r.get("protocols") is not None and r["protocols"].get("HTTP/2.0", 0) != r["requests"]:
                r["notes"] = "; ".join(x for x in (r.get("notes"), "protocols %s" % r["protocols"]) if x)
            if r.get("proto") not in (None, "h2", "h2c"):
                r["notes"] = "; ".join(x for x in (r.get("notes"), "negotiated %s" % r["proto"]) if x)


def measure(opts, tools, unavailable):
    if not nginx_has("http_v2_module"):
        return {"missing": "this nginx has no http_v2_module"}
    if not which("openssl"):
        return {"missing": "openssl CLI not installed (needed for the throwaway certificates)"}
    tls_dir = tempfile.mkdtemp(prefix="luaload-bench-h2tls-")
    nginx = None
    try:
        os.chmod(tls_dir, 0o755)
        why = make_tls_files(tls_dir)
        if why:
            return {"missing": why}
        ports = {"h2c": free_port(), "tls": free_port(), "dir": tls_dir}
        nginx = Nginx(workers=1, worker_connections=20000, rlimit_nofile=65536, extra_servers=SERVERS % ports)
        nginx.start()
        cafile = os.path.join(tls_dir, "ca.pem")
        h2c, tls = "http://127.0.0.1:%d" % ports["h2c"], "https://127.0.0.1:%d" % ports["tls"]
        status, body, _ = https_get(ports["tls"], "/health", cafile)
        if status is None:
            raise RuntimeError("%s/health with the throwaway CA: %s" % (tls, body[:200]))
        order = [name for name, _, _ in ROWS]
        runs = round_robin(order, specs_for(opts, tools, h2c, tls, cafile), opts.reps, opts.duration + 90, nginx,
                           unavailable_rows(tools, unavailable), "h2")
        check_protocol(runs)
        head = {name: paired_ratio(runs[name], runs[peer]) for name, _, peer in ROWS if peer}
        head["luaload-tls/k6-tls"] = paired_ratio(runs["luaload-tls"], runs["k6-tls"])
        return {"order": order, "runs": runs, "headline": head, "h2c": h2c, "tls": tls, "tls_dir": tls_dir}
    finally:
        if nginx:
            nginx.stop()
        shutil.rmtree(tls_dir, ignore_errors=True)


def render(L, opts, h2):
    L.append("## HTTP/2: h2load and k6 vs luaload")
    L.append("")
    if h2.get("missing"):
        L.append("Not measured: %s." % h2["missing"])
        L.append("")
        return
    L.append("nginx as in the throughput section (1 worker pinned to the last core; the generator pinned to the first) "
             "with two `http2` servers: cleartext by prior knowledge (h2c) and TLS 1.2/1.3 with a throwaway certificate "
             "(h2 by ALPN; luaload verifies it with `--cacert`, k6 through `SSL_CERT_FILE`, h2load does not verify). "
             "`GET /health`, %d s per run, %d runs interleaved; medians. One stream per connection: `h2load -c %d -m 1` "
             "against `luaload -u %d` (a connection per VU); pooled: `h2load -c %d -m %d` against "
             "`luaload -u %d --h2-pool %d` (the VUs share %d connections). k6 speaks h2 only over TLS (Go's ALPN), "
             "so it has no h2c row. req/s is wall time; CPU µs/req is the generator's own CPU." % (
                 opts.duration, opts.reps, opts.connections, opts.connections, POOL, max(1, opts.connections // POOL),
                 opts.connections, POOL, POOL))
    L.append("")
    labels = {name: text for name, text, _ in ROWS}
    runs_table(L, h2["order"], h2["runs"], label=lambda n: labels.get(n, n))
    L.append("**Headline** (luaload's CPU µs per request / the peer's, per round; median over rounds; < 1 means "
             "luaload spends less):")
    L.append("")
    for name, text, peer in ROWS:
        if peer:
            L.append("- %s / %s: %s" % (text, labels[peer], ratio_text(h2["headline"].get(name))))
    L.append("- luaload / k6, h2 over TLS: %s" % ratio_text(h2["headline"].get("luaload-tls/k6-tls")))
    L.append("")
    L.append("Commands (PORT: the h2c server, PORT2: the TLS server, TMP: the run's throwaway CA; k6 gets "
             "`BASE_URL` and `SSL_CERT_FILE=TMP/ca.pem` in its environment):")
    L.append("")
    commands_block(L, h2["order"], h2["runs"], None,
                   extra=((h2["tls_dir"], "TMP"), (h2["tls"], "https://127.0.0.1:PORT2"), (h2["h2c"], "http://127.0.0.1:PORT")))
