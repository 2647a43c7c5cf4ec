"""h2load's summary (HTTP/1.1 with --h1, or HTTP/2): `requests: … done, … succeeded, … failed, … errored`,
`finished in 10.00s, N req/s`, and the protocol it negotiated (`Application protocol: h2`)."""
import re

from .units import dur as _dur


def parse_h2load(res, _args):
    text = res.get("stdout", "")
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored",
                  text)
    if not m:
        return None
    done, ok, failed, errored = int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6))
    out = {"requests": done, "errors": failed + errored}
    m2 = re.search(r"finished in ([\d.]+)(us|ms|s|m|h), ([\d.]+) req/s", text)
    if m2:
        out["elapsed"] = _dur(m2.group(1), m2.group(2))
        out["rps"] = float(m2.group(3))
    m3 = re.search(r"^Application protocol: (\S+)", text, re.M)
    if m3:
        out["proto"] = m3.group(1)
    out["notes"] = "" if (failed + errored) == 0 else "failed %d, errored %d" % (failed, errored)
    return out
