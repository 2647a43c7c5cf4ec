"""k6's `--summary-export` JSON (and the protocol line of benchmarks/k6_health.js): `metrics.http_reqs` (count, rate), `metrics.http_req_failed` (a Rate metric: `passes`
counts the requests that failed), `metrics.vus_max`, and `state.testRunDurationMs`."""
import json
import re


def parse_k6(res, args):
    try:
        with open(args["json"]) as f:
            j = json.load(f)
    except (OSError, ValueError):
        return None
    metrics = j.get("metrics") if isinstance(j.get("metrics"), dict) else {}
    reqs = metrics.get("http_reqs") or {}
    if not isinstance(reqs.get("count"), (int, float)):
        return None
    out = {"requests": int(reqs["count"])}
    ms = (j.get("state") or {}).get("testRunDurationMs")
    if isinstance(ms, (int, float)) and ms > 0:
        out["elapsed"] = ms / 1000.0
        out["rps"] = out["requests"] / out["elapsed"]
    elif isinstance(reqs.get("rate"), (int, float)) and reqs["rate"] > 0:   # k6 1.1 exports no `state`
        out["rps"] = float(reqs["rate"])
        out["elapsed"] = out["requests"] / out["rps"]
    failed = metrics.get("http_req_failed") or {}
    out["errors"] = int(failed.get("passes") or 0)
    vus = metrics.get("vus_max") or {}
    if isinstance(vus.get("max", vus.get("value")), (int, float)):
        out["users_reached"] = int(vus.get("max", vus.get("value")))
    # benchmarks/k6_health.js logs the protocol of its first response (`protocol HTTP/2.0`).
    m = re.search(r'protocol (HTTP/[\d.]+)', res.get("stderr", "") + res.get("stdout", ""))
    if m:
        out["proto"] = {"HTTP/2.0": "h2", "HTTP/1.1": "http/1.1"}.get(m.group(1), m.group(1))
    out["notes"] = "failed %d" % out["errors"] if out["errors"] else ""
    return out
