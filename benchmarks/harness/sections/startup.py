"""Startup: from spawning the generator to the first request byte at a small Python server on loopback."""
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import threading
import time

from .. import state
from ..proc import LIVE_LOCK, LIVE_PGIDS, kill_group, log


class FirstByteServer:
    """A tiny HTTP/1.1 server on loopback that notes when the first byte arrives."""

    RESP = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n"

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.first = None
        self.got = threading.Event()
        self.stop = threading.Event()
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(0.5)
        buf = b""
        with c:
            while not self.stop.is_set():
                try:
                    data = c.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                if self.first is None:
                    self.first = time.monotonic()
                    self.got.set()
                buf += data
                n = buf.count(b"\r\n\r\n")
                if n:
                    buf = buf[buf.rindex(b"\r\n\r\n") + 4:]
                    try:
                        c.sendall(self.RESP * n)
                    except OSError:
                        return

    def close(self):
        self.stop.set()
        with contextlib.suppress(OSError):
            self.sock.close()


def startup_once(cmd_fn, tag, env=None, timeout=30):
    srv = FirstByteServer()
    url = "http://127.0.0.1:%d" % srv.port
    cmd = cmd_fn(url)
    if callable(env):
        env = env(url)
    with open(os.path.join(state.OUT_DIR, tag + ".out"), "wb") as out:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, start_new_session=True)
        except OSError as e:
            srv.close()
            return None, "cannot start: %s" % e
        with LIVE_LOCK:
            LIVE_PGIDS.add(p.pid)
        try:
            got = srv.got.wait(timeout)
            ended = p.poll()
        finally:
            kill_group(p.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(10)
            with LIVE_LOCK:
                LIVE_PGIDS.discard(p.pid)
            srv.close()
    if not got:
        return None, "no request within %ss (exit %s)" % (timeout, ended)
    return (srv.first - t0) * 1000.0, None


def measure(opts, tools, unavailable):
    luaload, locust = tools.get("luaload"), tools.get("locust")
    n = opts.startup_reps
    script = os.path.join(state.BENCH, "luaload_health.lua")
    cands = {
        "luaload": (lambda u: [luaload or "luaload", "-t", "1", "-u", "1", "-d", "3s", "-H", u, script], None),
        "wrk": (lambda u: ["wrk", "-t1", "-c1", "-d3s", u + "/health"], None),
        "wrk-lua": (lambda u: ["wrk", "-t1", "-c1", "-d3s", "-s", os.path.join(state.BENCH, "wrk_lua.lua"),
                               u + "/health"], None),
        "h2load": (lambda u: ["h2load", "--h1", "-t1", "-c1", "-D", "3", u + "/health"], None),
        "locust": (lambda u: [locust or "locust", "-f", os.path.join(state.BENCH, "locustfile.py"), "--headless",
                              "-u", "1", "-r", "1", "-t", "5s", "-H", u, "--only-summary"],
                   dict(os.environ, LOCUST_WAIT="0")),
        "k6": (lambda u: [tools.get("k6") or "k6", "run", "--quiet", "--no-usage-report", "--vus", "1", "--duration", "3s",
                          os.path.join(state.BENCH, "k6_health.js")],
               lambda u: dict(os.environ, BASE_URL=u, K6_NO_USAGE_REPORT="true")),
    }
    out = {}
    for name, (fn, env) in cands.items():
        if name in unavailable:
            out[name] = {"missing": unavailable[name]}
            continue
        vals, err = [], None
        for i in range(n):
            ms, e = startup_once(fn, "startup-%s-r%d" % (name, i + 1), env=env)
            if ms is None:
                err = e
                break
            vals.append(ms)
        if vals:
            out[name] = {"ms": statistics.median(vals), "all": vals}
            log("startup %-8s median %.1f ms  %s" % (name, out[name]["ms"], ["%.1f" % v for v in vals]))
        else:
            out[name] = {"missing": err}
            log("startup %-8s missing: %s" % (name, err))
    return out



def render(L, opts, st):
    L.append("## Startup: process start to first request byte")
    L.append("")
    L.append("A Python server on loopback notes when the first byte arrives; the clock starts just before the "
             "harness spawns the generator (same monotonic clock). 1 connection/VU, small script; "
             "median of %d. Wall time: other load on the box delays it." % opts.startup_reps)
    L.append("")
    L.append("| generator | median ms | runs ms |")
    L.append("|---|---:|---|")
    for name, v in st.items():
        if "missing" in v:
            L.append("| %s | missing | %s |" % (name, (v["missing"] or "").replace("|", "/")))
        else:
            L.append("| %s | %.1f | %s |" % (name, v["ms"], ", ".join("%.1f" % x for x in v["all"])))
    L.append("")
