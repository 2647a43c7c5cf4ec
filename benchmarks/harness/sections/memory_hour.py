"""Memory per hour: luaload's RSS once a second over a long run at full rate, the slope fitted (a soak test's growth)."""
import contextlib
import json
import os
import shlex
import signal
import subprocess
import time

from .. import state
from ..proc import LIVE_LOCK, LIVE_PGIDS, kill_group, log
from ..runs import fmt


def rss_slope_run(cmd, duration, skip, log_prefix):
    """Run cmd, reading its RSS (/proc/PID/status VmRSS) once a second; fit a line to the samples from
    `skip` s on (the start-up's growth left out). Returns the slope in KB/s and the samples' ends."""
    samples = []
    with open(log_prefix + ".out", "wb") as out, open(log_prefix + ".err", "wb") as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        with LIVE_LOCK:
            LIVE_PGIDS.add(p.pid)
        t0 = time.monotonic()
        try:
            while p.poll() is None and time.monotonic() - t0 < duration + 60:
                with contextlib.suppress(OSError, ValueError, IndexError):
                    with open("/proc/%d/status" % p.pid) as f:
                        kb = int(next(l for l in f if l.startswith("VmRSS:")).split()[1])
                    samples.append((time.monotonic() - t0, kb))
                time.sleep(1)
        finally:
            if p.poll() is None:
                kill_group(p.pid, signal.SIGKILL)
            p.wait()
            with LIVE_LOCK:
                LIVE_PGIDS.discard(p.pid)
    with open(log_prefix + ".rss", "w") as f:
        f.write("".join("%.1f %d\n" % s for s in samples))
    pts = [(t, kb) for t, kb in samples if skip <= t <= duration - 1]
    # A sample may catch a second's passing allocations (a histogram is 188 KB): each 5 s window's lowest
    # sample is the level that stays, and the line is fitted to those.
    windows = {}
    for t, kb in pts:
        k = int((t - skip) // 5)
        windows[k] = min(windows.get(k, (t, kb)), (t, kb), key=lambda x: x[1])
    low = [windows[k] for k in sorted(windows)]
    if len(low) < 3:
        return {"missing": "too few RSS samples (%d); exit %s" % (len(pts), p.returncode)}
    mt = sum(t for t, _ in low) / len(low)
    mk = sum(k for _, k in low) / len(low)
    slope = sum((t - mt) * (k - mk) for t, k in low) / sum((t - mt) ** 2 for t, _ in low)
    return {"slope_kb_s": slope, "first_kb": pts[0][1], "last_kb": pts[-1][1], "samples": len(pts), "rc": p.returncode}




def measure(opts, luaload, url):
    """How RSS grows over a run at full rate: one thread, one name, no wait (the soak-test case), RSS
    sampled once a second and fitted from the 15th second; the slope × 3600 is the memory per hour."""
    d, skip = opts.mem_hour_duration, 15   # RSS settles over the first ~15 s (allocator arenas, the first histograms)
    jpath = os.path.join(state.OUT_DIR, "mem-hour.json")
    cmd = [luaload or "luaload", "-t", "1", "-u", "50", "-d", "%ds" % d, "-H", url, "-q", "--json", jpath,
           os.path.join(state.BENCH, "luaload_health.lua")]
    log("mem-hour %s" % " ".join(shlex.quote(x) for x in cmd))
    res = rss_slope_run(cmd, d, skip, os.path.join(state.OUT_DIR, "mem-hour"))
    with contextlib.suppress(Exception):
        with open(jpath) as f:
            j = json.load(f)
        res["requests"] = j["total"]["requests"]
        res["rps"] = j["total"]["requests"] / max(j["duration_s"], 1e-9)
    res.update(duration=d, skip=skip)
    if "slope_kb_s" in res:
        log("mem-hour RSS %+.2f KB/s = %.1f MB/h (%d samples)" % (res["slope_kb_s"], res["slope_kb_s"] * 3600 / 1024, res["samples"]))
    return res



def render(L, ph):
    L.append("### Memory per hour (a long run at full rate)")
    L.append("")
    L.append("luaload's RSS read once a second during a %d s run at full rate (one thread, 50 VUs, one name, no wait), "
             "a line fitted from the %dth second on to each 5 s window's lowest sample; memory per hour = slope × 3600, per day × 86400: what a soak "
             "test adds to the start-up's RSS." % (ph.get("duration", 0), ph.get("skip", 0)))
    L.append("")
    L.append("| generator | req/s | RSS at %d s MB | RSS at end MB | slope KB/s | memory per hour MB | per 24 h MB |" % ph.get("skip", 0))
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    if "slope_kb_s" in ph:
        L.append("| luaload | %s | %.1f | %.1f | %.2f | %.1f | %.0f |" % (
            fmt(ph.get("rps"), "%.0f"), ph["first_kb"] / 1024.0, ph["last_kb"] / 1024.0, ph["slope_kb_s"],
            ph["slope_kb_s"] * 3600 / 1024, ph["slope_kb_s"] * 86400 / 1024))
    else:
        L.append("| luaload | missing | | | | | %s |" % ph.get("missing", "?").replace("|", "/"))
    L.append("")
    L.append("```")
    L.append("luaload -t 1 -u 50 -d %ds -H http://127.0.0.1:PORT -q --json out/… benchmarks/luaload_health.lua   "
             "# RSS from /proc/PID/status each second" % ph.get("duration", 0))
    L.append("```")
    L.append("")
