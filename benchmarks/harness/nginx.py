"""nginx, the server every section measures against: a fresh temp dir, a foreground master, stopped on every way out."""
import contextlib
import grp
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import state
from .proc import LIVE_LOCK, LIVE_PGIDS, free_port, kill_group, log, read_text, run_simple, which


def nginx_has(module):
    """Whether this nginx was built with a module (`http_v2_module`, `http_ssl_module`)."""
    rc, v = run_simple([which("nginx") or "nginx", "-V"], 30)
    return module in v


class Nginx:
    def __init__(self, workers=1, worker_connections=20000, rlimit_nofile=65536, affinity=True, extra_servers=""):
        self.workers = workers
        self.extra_servers = extra_servers  # filled in at @@EXTRA_SERVERS@@ (the HTTPS section's servers)
        self.worker_connections = worker_connections
        # Without CAP_SYS_RESOURCE nginx cannot go past our hard limit (it only logs an alert).
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self.rlimit_nofile = rlimit_nofile if hard == resource.RLIM_INFINITY else min(rlimit_nofile, hard)
        self.affinity = affinity
        self.proc = None
        self.tmp = None
        self.port = None

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="luaload-bench-nginx-")
        os.chmod(self.tmp, 0o755)
        self.port = free_port()
        user_line = ""
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("www-data")
                user_line = "user www-data %s;" % grp.getgrgid(pw.pw_gid).gr_name
            except KeyError:
                user_line = "user nobody nogroup;"
        ncpu = os.cpu_count() or 1
        affinity_line = ""
        if self.affinity and self.workers == 1 and ncpu >= 2:
            # Keep the single worker on the last core; the generator gets the rest.
            affinity_line = "worker_cpu_affinity %s;" % ("1" + "0" * (ncpu - 1))
        with open(os.path.join(state.BENCH, "nginx.conf")) as f:
            conf = f.read()
        for k, v in {"WORKERS": self.workers, "USER_LINE": user_line, "AFFINITY_LINE": affinity_line,
                     "RLIMIT_NOFILE": self.rlimit_nofile, "WORKER_CONNECTIONS": self.worker_connections,
                     "TMP": self.tmp, "PORT": self.port}.items():
            conf = conf.replace("@@%s@@" % k, str(v))
        conf = conf.replace("@@EXTRA_SERVERS@@", self.extra_servers)
        conf_path = os.path.join(self.tmp, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        self.log = open(os.path.join(self.tmp, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            [which("nginx") or "nginx", "-p", self.tmp + "/", "-e", os.path.join(self.tmp, "error.log"),
             "-c", conf_path], stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        with LIVE_LOCK:
            LIVE_PGIDS.add(self.proc.pid)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if http_get_status(self.port, "/health") == 200:
                log("nginx up: %d worker(s), worker_connections %d, port %d" % (
                    self.workers, self.worker_connections, self.port))
                return self
            time.sleep(0.05)
        err = read_text(os.path.join(self.tmp, "error.log")) + read_text(os.path.join(self.tmp, "stderr.log"))
        self.stop()
        raise RuntimeError("nginx did not come up: %s" % err[-1500:])

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def worker_pids(self):
        pids = []
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                fields = st[st.rindex(")") + 2:].split()
                if int(fields[1]) == self.proc.pid:
                    pids.append(int(d))
        return pids

    def cpu_seconds(self):
        """user+sys CPU of the worker processes so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.worker_pids():
            try:
                with open("/proc/%d/stat" % pid) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick

    def stop(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                kill_group(self.proc.pid, signal.SIGTERM)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    kill_group(self.proc.pid, signal.SIGKILL)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.proc.wait(5)
            kill_group(self.proc.pid, signal.SIGKILL)
            with LIVE_LOCK:
                LIVE_PGIDS.discard(self.proc.pid)
            self.proc = None
            log("nginx stopped (port %s)" % self.port)
        if self.tmp:
            with contextlib.suppress(Exception):
                shutil.copy(os.path.join(self.tmp, "error.log"),
                            os.path.join(state.OUT_DIR, "nginx-%s-error.log" % self.port))
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def http_get_status(port, path, timeout=1.0):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path).encode())
            data = s.recv(256)
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None
