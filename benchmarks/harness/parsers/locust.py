"""Locust's `--csv` files: the `Aggregated` row of PREFIX_stats.csv, users reached from stderr or the history CSV."""
import csv
import re


def _read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def parse_locust(res, args):
    prefix = args["csv_prefix"]
    rows = _read_csv(prefix + "_stats.csv")
    agg = next((r for r in rows if r.get("Name") == "Aggregated"), None)
    if not agg:
        return None
    # Locust's own Requests/s divides by whole seconds since the first request (it rounds
    # the last-request timestamp), so req/s is left to the caller: requests / run time.
    out = {"requests": int(agg["Request Count"]), "errors": int(agg["Failure Count"]),
           "elapsed": float(args["duration"]), "locust_rps": float(agg["Requests/s"])}
    hist = _read_csv(prefix + "_stats_history.csv")
    users = [int(float(r.get("User Count") or 0)) for r in hist]
    m = re.search(r"All users spawned: .*\((\d+) total users\)", res.get("stderr", ""))
    out["users_reached"] = int(m.group(1)) if m else (max(users) if users else None)
    out["notes"] = "failures %d" % out["errors"] if out["errors"] else ""
    if "CPU usage above 90%" in res.get("stderr", ""):
        out["notes"] = (out["notes"] + "; " if out["notes"] else "") + "locust warned CPU > 90%"
    return out
