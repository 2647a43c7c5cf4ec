#!/usr/bin/env python3
"""Cross-check luaload's "hdr" fields with an independent HdrHistogram implementation (PyPI `hdrhistogram`,
module `hdrh`): decode every row's base64 V2 histogram and compare its total count with the row's request
count and a few percentiles with the row's own (HDR-bucket precision: within 0.1 %).

    python3 -m venv /tmp/hdrvenv && /tmp/hdrvenv/bin/pip install hdrhistogram
    luaload ... --json out.json script.lua
    /tmp/hdrvenv/bin/python Tests/helpers/check-hdr.py out.json

Exits 0 when everything matches, 1 on a mismatch, 77 when hdrh is not installed.
"""
import json
import math
import sys

try:
    from hdrh.histogram import HdrHistogram
except ImportError:
    print("hdrh (pip install hdrhistogram) is not installed: skipped")
    sys.exit(77)


def percentile(h, p):
    """HdrHistogram (Java, Swift) valueAtPercentile over the decoded counts."""
    total = h.get_total_count()
    requested = min(max(math.nextafter(p, -math.inf), 0.0), 100.0)
    target = max(1, math.ceil(requested * total / 100.0))
    seen = 0
    for item in h.get_recorded_iterator():
        seen += item.count_at_value_iterated_to
        if seen >= target:
            return h.get_highest_equivalent_value(item.value_iterated_to)
    return 0


def close(a, b):
    """Equal at the JSON's precision (3 decimals of ms: whole µs)."""
    return abs(a - b) < 0.0005


def main(path):
    report = json.load(open(path))
    bad = 0
    merged = None
    for row in report["stats"] + [report["total"]]:
        h = HdrHistogram.decode(row["hdr"])
        label = (row["method"] + " " + row["name"]).strip()
        checks = [("total count", h.get_total_count(), row["requests"])]
        for p in ("50", "90", "99", "99.9"):
            # luaload's percentile (HdrHistogram Java/Swift: the ceiling of the count), recomputed from the
            # counts hdrh decoded, clamped into [min, max] as luaload does; hdrh's own value (it rounds the
            # count half up, so it may sit one bucket lower) is printed for information.
            v = min(max(percentile(h, float(p)), h.get_min_value()), h.get_max_value()) / 1000
            checks.append(("p" + p + " ms", v, row["percentiles_ms"][p]))
            print(f"    {label:40} p{p:<11} hdrh's own get_value_at_percentile: {h.get_value_at_percentile(float(p)) / 1000} ms")
        checks.append(("max ms", h.get_max_value() / 1000, row["max_ms"]))
        for what, got, want in checks:
            ok = got == want if what == "total count" else close(got, want)
            bad += not ok
            print(f"{'ok ' if ok else 'BAD'} {label:40} {what:12} hdrh={got!s:>12} luaload={want!s:>12}")
        if row is not report["total"]:
            if merged is None:
                merged = HdrHistogram(h.lowest_trackable_value, h.highest_trackable_value, h.significant_figures)
            merged.add(h)
    if merged is not None:
        total = HdrHistogram.decode(report["total"]["hdr"])
        same = merged.get_total_count() == total.get_total_count() and all(
            merged.get_value_at_percentile(p) == total.get_value_at_percentile(p) for p in (50, 90, 99, 99.9, 100))
        bad += not same
        print(f"{'ok ' if same else 'BAD'} the rows merged in hdrh equal the total's histogram")
    print("hdrh cross-check:", "all matched" if bad == 0 else f"{bad} mismatches")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
