"""HTTPS: wrk vs luaload over TLS on nginx, keep-alive and reconnecting every 100 requests (session resumption)."""
import os
import shutil
import statistics
import tempfile

from .. import state
from ..nginx import Nginx, nginx_has
from ..proc import free_port, log, which
from ..parsers.luaload import parse_luaload
from ..parsers.wrk import parse_wrk
from ..runs import cmd_str, fmt, med, missing_why, one_run, paired_ratio, ratio_text, row_notes
from ..tls import HTTPS_RECONNECT_EVERY, https_get, make_tls_files, nginx_accepts


def measure(opts, luaload, names, unavailable):
    """wrk vs luaload over HTTPS: keep-alive rows, and reconnect rows (a new connection every 100 requests)."""
    out = {"names": names, "reconnect_every": HTTPS_RECONNECT_EVERY}
    if not which("openssl"):
        out["missing"] = "openssl CLI not installed (needed for the throwaway certificates)"
        return out
    if not nginx_has("http_ssl_module"):
        out["missing"] = "this nginx has no http_ssl_module"
        return out
    tls_dir = tempfile.mkdtemp(prefix="luaload-bench-tls-")
    nginx = None
    try:
        os.chmod(tls_dir, 0o755)
        why = make_tls_files(tls_dir)
        if why:
            out["missing"] = why
            return out
        cafile = os.path.join(tls_dir, "ca.pem")
        port = free_port()
        rport = free_port()
        while rport == port:
            rport = free_port()
        with open(os.path.join(state.BENCH, "nginx-https.conf")) as f:
            extra = f.read()
        for k, v in {"TLS_PORT": port, "TLS_RECONNECT_PORT": rport, "TLS_DIR": tls_dir,
                     "TLS_RECONNECT_EVERY": HTTPS_RECONNECT_EVERY}.items():
            extra = extra.replace("@@%s@@" % k, str(v))
        nginx = Nginx(workers=1, worker_connections=20000, rlimit_nofile=65536, extra_servers=extra)
        nginx.start()
        for p in (port, rport):
            status, body, proto = https_get(p, "/health", cafile)
            if status != 200:
                raise RuntimeError("https://127.0.0.1:%d/health with the throwaway CA: %s %s" % (p, status, body[:200]))
        out["probe_protocol"] = proto
        log("nginx HTTPS on ports %d (keep-alive) and %d (keepalive_requests %d); Python's probe got %s" % (
            port, rport, HTTPS_RECONNECT_EVERY, proto))
        url, rurl = "https://127.0.0.1:%d" % port, "https://127.0.0.1:%d" % rport
        out.update(url=url, rurl=rurl, tls_dir=tls_dir, duration=opts.duration, rduration=opts.https_reconnect_duration)
        script = os.path.join(state.BENCH, "luaload_health.lua")
        c = opts.connections

        def wrk(u, d):
            return lambda tag: (["wrk", "-t1", "-c%d" % c, "-d%ds" % d, u + "/health"], None, parse_wrk, {})

        def ll(u, d):
            def f(tag):
                jpath = os.path.join(state.OUT_DIR, tag + ".json")
                return ([luaload or "luaload", "-t", "1", "-u", str(c), "-d", "%ds" % d, "-H", u,
                         "--cacert", cafile, "--json", jpath, script], None, parse_luaload, {"json": jpath})
            return f

        specs, order = {}, []
        for base in names:
            mk = wrk if base == "wrk" else ll
            specs[base] = mk(url, opts.duration)
            specs[base + "-rc"] = mk(rurl, opts.https_reconnect_duration)
        order = names + [n + "-rc" for n in names]
        un = {k: unavailable[k.split("-rc")[0]] for k in order if k.split("-rc")[0] in unavailable}
        runs = {k: [] for k in order}
        for rep in range(opts.reps):
            rot = order[rep % len(order):] + order[:rep % len(order)]
            for k in rot:
                before = nginx_accepts(port, cafile)
                m = one_run(k, specs[k], "https-%s-r%d" % (k, rep + 1),
                            (opts.duration if not k.endswith("-rc") else opts.https_reconnect_duration) + 90,
                            nginx, un, cpus=state.GEN_CPUS)
                after = nginx_accepts(port, cafile)
                if "missing" not in m and before is not None and after is not None:
                    m["nginx_conns"] = after - before - 1  # the `after` query is a connection of its own
                if m.get("tls_handshakes") is not None:
                    log("%-8s TLS %d handshakes, %d resumed, %d errors; nginx accepted %s connections" % (
                        k, m["tls_handshakes"], m["tls_resumed"], m["tls_errors"], m.get("nginx_conns")))
                elif "missing" not in m:
                    log("%-8s nginx accepted %s connections" % (k, m.get("nginx_conns")))
                runs[k].append(m)
        out.update(order=order, runs=runs)
        head = {}
        for suffix in ("", "-rc"):
            l, w = runs.get("luaload" + suffix), runs.get("wrk" + suffix)
            if l and w:
                rat = [a["cpu_us_per_req"] / b["cpu_us_per_req"] for a, b in zip(l, w)
                       if "missing" not in a and "missing" not in b]
                if rat:
                    head["luaload/wrk" + suffix] = {"median": statistics.median(rat), "all": rat}
            if l:
                res = [a["tls_resumed"] / a["tls_handshakes"] for a in l
                       if "missing" not in a and a.get("tls_handshakes")]
                if res:
                    head["resumed" + suffix] = {"median": statistics.median(res), "all": res}
        out["headline"] = head
        return out
    finally:
        if nginx:
            nginx.stop()
        shutil.rmtree(tls_dir, ignore_errors=True)



def render(L, opts, hs):
    L.append("## HTTPS: wrk vs luaload over TLS")
    L.append("")
    if hs.get("missing"):
        L.append("Not measured: %s." % hs["missing"])
        L.append("")
    else:
        every = hs["reconnect_every"]
        L.append("nginx as above (1 worker pinned to the last core) with two extra `listen 127.0.0.1:PORT ssl` "
                 "servers: TLS 1.2 and 1.3, a throwaway EC P-256 certificate for IP 127.0.0.1 signed by a "
                 "throwaway CA made for this run, `ssl_session_cache shared:SSL:10m`, `ssl_session_tickets on`. "
                 "`GET /health`, %d connections/users, no think time; %d runs per row interleaved round-robin; "
                 "medians. **luaload verifies the certificate chain and name (`--cacert` with the CA) on every "
                 "full handshake; wrk does not verify certificates at all**, so luaload does a little more "
                 "work per full handshake. "
                 "Python's probe of the server negotiated %s; neither tool's protocol is forced." % (
                     opts.connections, opts.reps, hs.get("probe_protocol") or "?"))
        L.append("")
        L.append("- **keep-alive** rows (%d s): unlimited requests per connection, as in the plain table, so "
                 "there are only the first %d handshakes: this is the cost of TLS record encryption per request." % (
                     hs["duration"], opts.connections))
        L.append("- **reconnect** rows (%d s): `keepalive_requests %d`, nginx closes each connection after its "
                 "%dth response and the client opens a new one: a handshake every %d requests. luaload resumes "
                 "sessions (resumed / handshakes below); wrk does not resume, so each of its connections is a "
                 "full handshake. *nginx conns* = connections nginx accepted during the run (its stub_status "
                 "`accepts`), i.e. wrk's handshakes." % (hs["rduration"], every, every, every))
        L.append("")
        L.append("| generator | connections | requests | req/s | CPU µs/req | user s | sys s | gen CPU % | nginx CPU % "
                 "| peak RSS MB | nginx conns | TLS handshakes | resumed | handshake ms p50 | notes |")
        L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for key in hs["order"]:
            runs = hs["runs"][key]
            name = key.split("-rc")[0]
            kind = "reconnect every %d" % every if key.endswith("-rc") else "keep-alive"
            ok = [r for r in runs if "missing" not in r]
            if not ok:
                why = next((r["missing"] for r in runs if "missing" in r), "not run")
                L.append("| %s | %s | missing | | | | | | | | | | | | %s |" % (name, kind, why.replace("|", "/")))
                continue
            notes = sorted({r.get("notes") for r in ok if r.get("notes")})
            if len(ok) < len(runs):
                notes.append("%d of %d runs failed" % (len(runs) - len(ok), len(runs)))
            if name == "wrk":
                notes.insert(0, "no verification; handshakes not reported (= nginx conns, none resumed)")
            L.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                name, kind, fmt(med(ok, "requests")), fmt(med(ok, "rps")), fmt(med(ok, "cpu_us_per_req"), "%.2f"),
                fmt(med(ok, "utime"), "%.2f"), fmt(med(ok, "stime"), "%.2f"), fmt(med(ok, "gen_cpu_pct")),
                fmt(med(ok, "srv_cpu_pct")), fmt(med(ok, "rss_mb"), "%.1f"), fmt(med(ok, "nginx_conns")),
                fmt(med(ok, "tls_handshakes")), fmt(med(ok, "tls_resumed")),
                fmt(med(ok, "tls_handshake_ms_p50"), "%.2f"), "; ".join(notes).replace("|", "/")))
        L.append("")
        h = hs.get("headline", {})

        def line(k, spec):
            v = h.get(k)
            if not v:
                return "n/a (a row is missing)"
            return (spec % v["median"]) + " (rounds: %s)" % ", ".join(spec % x for x in v["all"])
        L.append("**Headline over HTTPS** (per round, luaload's CPU µs/request divided by wrk's in the same "
                 "round; median over rounds; < 1 means luaload spends less CPU per request):")
        L.append("")
        L.append("- luaload / wrk, HTTPS keep-alive: %s" % line("luaload/wrk", "%.2f×"))
        L.append("- luaload / wrk, HTTPS reconnect every %d requests: %s" % (every, line("luaload/wrk-rc", "%.2f×")))
        L.append("- luaload resumed / handshakes under reconnects: %s" % line("resumed-rc", "%.2f"))
        L.append("")
        L.append("Commands (PORT: keep-alive server, PORT2: reconnect server; TMP: the run's temp dir with the "
                 "throwaway CA):")
        L.append("")
        L.append("```")
        for key in hs["order"]:
            c = next((r.get("cmd") for r in hs["runs"][key] if r.get("cmd")), None)
            if c:
                s = cmd_str(c).replace(hs["tls_dir"], "TMP")
                s = s.replace(hs["rurl"], "https://127.0.0.1:PORT2").replace(hs["url"], "https://127.0.0.1:PORT")
                L.append(s)
        L.append("```")
        L.append("")
