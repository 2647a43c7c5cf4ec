"""wrk's (and `luaload wrk`'s) summary: `N requests in 10.00s`, `Requests/sec:`, errors, and benchmarks/wrk_lua.lua's
`lua status S: N` lines from done()."""
import re

from .units import dur as _dur


def parse_wrk(res, _args):
    text = res.get("stdout", "")
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)\b", text, re.M)
    if not m:
        return None
    out = {"requests": int(m.group(1)), "elapsed": _dur(m.group(2), m.group(3))}
    m2 = re.search(r"Requests/sec:\s*([\d.]+)", text)
    out["rps"] = float(m2.group(1)) if m2 else out["requests"] / out["elapsed"]
    notes = []
    m3 = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", text)
    if m3:
        notes.append("non-2xx %s" % m3.group(1))
    m4 = re.search(r"Socket errors: (.*)", text)
    if m4:
        notes.append("socket errors: " + m4.group(1).strip())
    lua = re.findall(r"lua status (\d+): (\d+)", text)
    if lua:
        out["lua_statuses"] = {int(s): int(n) for s, n in lua}
        counted = sum(out["lua_statuses"].values())
        if counted != out["requests"] or set(out["lua_statuses"]) != {200}:
            notes.append("response() counted %s" % out["lua_statuses"])
    out["errors"] = int(m3.group(1)) if m3 else 0
    out["notes"] = "; ".join(notes)
    return out
