"""benchmarks/agent-cost.sh's summary lines: instructions per request of a plain run and of an agent, split into
worker threads (per request) and the main thread (per second), and the ratio at the native request rate."""
import re


def _int(s):
    return int(s.replace(",", ""))


def parse_agent_cost(out, n):
    res = {"n": n, "lines": [l for l in out.splitlines() if l.strip()]}
    for key, pattern in (("plain", r"plain run: +([\d,]+) instructions per request.*workers ([\d,]+)/request, main thread ([\d,-]+)/s"),
                         ("agent", r"agent: +([\d,]+) instructions per request.*workers ([\d,]+)/request, main thread ([\d,-]+)/s")):
        m = re.search(pattern, out)
        if m:
            res[key] = {"per_request": _int(m.group(1)), "workers_per_request": _int(m.group(2)),
                        "main_per_s": _int(m.group(3))}
    m = re.search(r"agent / plain ([\d.]+)x \(workers ([\d.]+)x\)", out)
    if m:
        res["callgrind_ratio"], res["workers_ratio"] = float(m.group(1)), float(m.group(2))
    m = re.search(r"natively ([\d,]+) requests/s: agent / plain = ([\d.]+)x", out)
    if m:
        res["native_rps"], res["native_ratio"] = _int(m.group(1)), float(m.group(2))
    m = re.search(r"link thread ([\d,-]+)/s", out)
    if m and "agent" in res:
        res["agent"]["link_thread_per_s"] = _int(m.group(1))
    m = re.search(r"(?:main-thread|the link's) cost: ([\d,-]+) instructions a second", out)
    if m:
        res["link_per_s"] = _int(m.group(1))
    m = re.search(r"main thread, agent - plain: ([+\d,-]+) instructions", out)
    if m:
        res["main_diff"] = int(m.group(1).replace(",", ""))
    m = re.search(r"runs \(fewest kept\): plain ([\d, ]+); agent ([\d, ]+)$", out, re.M)
    if m:
        res["runs"] = {k: [_int(x) for x in re.findall(r"\d[\d,]*\d|\d", g.replace(", ", " "))]
                       for k, g in (("plain", m.group(1)), ("agent", m.group(2)))}
    if "agent" not in res or "native_ratio" not in res:
        res["missing"] = "agent-cost.sh's output did not parse: " + " / ".join(res["lines"])[-300:]
    return res
