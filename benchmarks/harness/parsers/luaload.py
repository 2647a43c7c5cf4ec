"""luaload's `--json` document: total requests, rate, duration, errors, abandoned, TLS counters, protocols."""
import json


def parse_luaload(res, args):
    try:
        with open(args["json"]) as f:
            j = json.load(f)
    except (OSError, ValueError):
        return None
    total = j.get("total") if isinstance(j.get("total"), dict) else {}
    req = total.get("requests", j.get("requests"))
    if req is None:
        return None
    out = {"requests": int(req), "json": j}
    for key in ("rps", "requests_per_second", "throughput"):
        v = total.get(key, j.get(key))
        if isinstance(v, (int, float)):
            out["rps"] = float(v)
            break
    for key in ("duration", "elapsed", "duration_s", "elapsed_s"):
        v = j.get(key, total.get(key))
        if isinstance(v, (int, float)) and v > 0:
            out["elapsed"] = float(v)
            break
    errs = total.get("errors", j.get("errors"))
    if isinstance(errs, dict):
        errs = sum(v for v in errs.values() if isinstance(v, (int, float)))
    out["errors"] = int(errs) if isinstance(errs, (int, float)) else 0
    ab = j.get("abandoned", total.get("abandoned"))
    out["abandoned"] = ab
    notes = []
    tls = j.get("tls")
    if isinstance(tls, dict) and tls.get("handshakes") is not None:
        out["tls_handshakes"] = int(tls["handshakes"])
        out["tls_resumed"] = int(tls.get("resumed") or 0)
        out["tls_errors"] = int(tls.get("errors") or 0)
        hms = tls.get("handshake_ms") if isinstance(tls.get("handshake_ms"), dict) else {}
        out["tls_handshake_ms_p50"] = hms.get("p50")
        if out["tls_errors"]:
            notes.append("TLS errors %d" % out["tls_errors"])
    protocols = j.get("protocols")
    if isinstance(protocols, dict):
        out["protocols"] = {k: int(v) for k, v in protocols.items() if isinstance(v, (int, float))}
    if out["errors"]:
        notes.append("errors %d" % out["errors"])
    if ab:
        notes.append("abandoned %s" % ab)
    out["notes"] = "; ".join(notes)
    return out
