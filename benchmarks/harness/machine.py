"""What the report says of the machine and of each tool's version."""
import contextlib
import os
import platform
import sys

from . import state
from .proc import run_simple, which


def versions(tools):
    luaload, locust, k6 = tools.get("luaload"), tools.get("locust"), tools.get("k6")
    def first_line(cmd):
        rc, out = run_simple(cmd, 30)
        lines = [l for l in out.strip().splitlines() if l.strip()]
        return lines[0].strip() if lines else "?"
    v = {
        "nginx": first_line([which("nginx") or "nginx", "-v"]),
        "wrk": first_line(["wrk", "-v"]),
        "h2load": first_line(["h2load", "--version"]),
        "locust": first_line([locust, "--version"]) if locust else "missing",
        "k6": first_line([k6, "version"]) if k6 else "missing",
        "python": sys.version.split()[0],
    }
    if luaload:
        rc, out = run_simple([luaload, "--version"], 30)
        v["luaload"] = out.strip().splitlines()[0] if (rc == 0 and out.strip()) else "(no --version)"
        rc, out = run_simple(["git", "-C", state.ROOT, "log", "-1", "--format=%h %s"], 10)
        v["luaload"] += " (repo %s)" % out.strip() if rc == 0 else ""
    else:
        v["luaload"] = "missing"
    return v


def machine():
    model = "?"
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    mem = "?"
    with contextlib.suppress(OSError):
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = "%.1f GiB" % (kb / 1048576)
    osname = "?"
    with contextlib.suppress(OSError):
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    load = "?"
    with contextlib.suppress(OSError):
        with open("/proc/loadavg") as f:
            load = " ".join(f.read().split()[:3])
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(), "mem": mem, "os": osname,
            "load": load}

