"""Child processes: each in its own process group with a timeout, measured with wait4, killed on every way out."""
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from . import state

# Process groups of children still running: killed on any exit path.
LIVE_PGIDS = set()
LIVE_LOCK = threading.Lock()


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def kill_group(pgid, sig):
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def kill_all_children():
    with LIVE_LOCK:
        pgids = list(LIVE_PGIDS)
    for pg in pgids:
        kill_group(pg, signal.SIGKILL)


def on_signal(signum, frame):
    # Turn SIGTERM/SIGHUP into an exception so every `finally` (nginx stop) runs.
    raise KeyboardInterrupt("signal %d" % signum)


# --------------------------------------------------------------------------- processes

def raise_nofile():
    """Raise RLIMIT_NOFILE for this process; children inherit it (ulimit -n)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (state.NOFILE, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_measured(cmd, timeout, log_prefix, env=None, cwd=None, cpus=None):
    """Run cmd to completion (or timeout); return wall time and the child's own rusage.

    The child is waited for with os.wait4, so user/sys CPU and peak RSS are the
    generator's alone (not the harness's, not nginx's). `cpus`: the cores the child (and its
    threads) may run on, or None for any.
    """
    res = {"cmd": cmd, "rc": None, "timed_out": False, "error": None}
    out_path, err_path = log_prefix + ".out", log_prefix + ".err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                 env=env, cwd=cwd, start_new_session=True,
                                 preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
        except OSError as e:
            res["error"] = "cannot start: %s" % e
            return res
        with LIVE_LOCK:
            LIVE_PGIDS.add(p.pid)
        done = threading.Event()

        def killer():
            if done.is_set():
                return
            res["timed_out"] = True
            kill_group(p.pid, signal.SIGTERM)
            if not done.wait(5):
                kill_group(p.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, killer)
        timer.daemon = True
        timer.start()
        try:
            _, status, ru = os.wait4(p.pid, 0)
        finally:
            done.set()
            timer.cancel()
            # Leftover grandchildren, if any, go with the group.
            kill_group(p.pid, signal.SIGKILL)
            with LIVE_LOCK:
                LIVE_PGIDS.discard(p.pid)
        p.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from reaping again
        res.update(rc=p.returncode, wall=time.monotonic() - t0, utime=ru.ru_utime,
                   stime=ru.ru_stime, maxrss_kb=ru.ru_maxrss)
    res["stdout"] = read_text(out_path)
    res["stderr"] = read_text(err_path)
    return res


def run_simple(cmd, timeout, env=None, cwd=None):
    """Run a short helper command; return (rc, combined output). Never raises."""
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout, env=env, cwd=cwd)
        return p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        return -1, "timeout after %ss: %s" % (timeout, (e.output or b"").decode("utf-8", "replace"))
    except OSError as e:
        return -1, str(e)


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



def which(name):
    return shutil.which(name) or next(
        (p for p in ("/usr/sbin/" + name, "/usr/bin/" + name) if os.access(p, os.X_OK)), None)

