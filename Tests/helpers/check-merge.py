#!/usr/bin/env python3
"""Checks `luaload merge` with an independent HdrHistogram implementation (PyPI `hdrhistogram`, module `hdrh`).

    check-merge.py merged.json part1.json part2.json ...
        For every row of the merged JSON (and its total): the parts' histograms of that row, decoded and added
        in hdrh, have the merged row's count, and luaload's percentiles (p50 … p100) and max are those of the
        added histogram; requests, failures and abandoned are the parts' sums.
    check-merge.py --log run.hlog run.json
        The interval log (--hdr-log), read with hdrh's HistogramLogReader: the untagged intervals add up to the
        run's total histogram, each tag's to its row's.

Exits 0 when everything matches, 1 on a mismatch, 77 when hdrh is not installed.
"""
import importlib.util
import json
import os
import sys

try:
    from hdrh.histogram import HdrHistogram
    from hdrh.log import HistogramLogReader
except ImportError:
    print("hdrh (pip install hdrhistogram) is not installed: skipped")
    sys.exit(77)

_spec = importlib.util.spec_from_file_location("check_hdr", os.path.join(os.path.dirname(__file__), "check-hdr.py"))
check_hdr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_hdr)


def key(row):
    return (row["method"], row["name"])


def buckets(h):
    """The histogram's counts, bucket by bucket."""
    return [(i.value_iterated_to, i.count_at_value_iterated_to) for i in h.get_recorded_iterator()]


def luaload_percentile(h, p):
    """luaload's percentile (see check-hdr.py), clamped into [min, max], in ms."""
    return min(max(check_hdr.percentile(h, p), h.get_min_value()), h.get_max_value()) / 1000


def check_merge(merged_path, parts):
    merged = json.load(open(merged_path))
    docs = [json.load(open(p)) for p in parts]
    bad = 0

    def expect(what, got, want, exact=True):
        nonlocal bad
        ok = got == want if exact else check_hdr.close(got, want)
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {what:50} independent={got!s:>12} merged={want!s:>12}")

    expect("abandoned", sum(d["abandoned"] for d in docs), merged["abandoned"])
    expect("iterations", sum(d["iterations"] for d in docs), merged["iterations"])
    for row in merged["stats"] + [merged["total"]]:
        label = (row["method"] + " " + row["name"]).strip()
        if row is merged["total"]:
            sources = [d["total"] for d in docs]
        else:
            sources = [r for d in docs for r in d["stats"] if key(r) == key(row)]
        added = None
        for r in sources:
            h = HdrHistogram.decode(r["hdr"])
            if added is None:
                added = HdrHistogram(h.lowest_trackable_value, h.highest_trackable_value, h.significant_figures)
            added.add(h)
        expect(label + " requests", sum(r["requests"] for r in sources), row["requests"])
        expect(label + " failures", sum(r["failures"] for r in sources), row["failures"])
        expect(label + " hdr count", added.get_total_count(), row["requests"])
        mine = HdrHistogram.decode(row["hdr"])
        expect(label + " hdr buckets = the parts' added", buckets(added), buckets(mine))
        for p in ("50", "90", "95", "99", "99.9"):
            # Within one HDR bucket (3 significant digits): at the top bucket luaload's Swift HdrHistogram and
            # this emulation of it may name different values of the same bucket.
            got, want = luaload_percentile(added, float(p)), row["percentiles_ms"][p]
            expect(label + " p" + p + " ms", got, want if abs(got - want) > max(0.0005, got * 0.001) else got)
        # max_ms is the exact largest value (luaload keeps it beside the buckets): the parts' largest, and in
        # the bucket whose upper edge hdrh reports as the max.
        expect(label + " max ms", max(r["max_ms"] for r in sources), row["max_ms"])
        expect(label + " max in hdrh's max bucket", added.get_max_value(), added.get_highest_equivalent_value(row["max_us"]))
    print("merge cross-check:", "all matched" if bad == 0 else f"{bad} mismatches")
    return 0 if bad == 0 else 1


def check_log(log_path, json_path):
    run = json.load(open(json_path))
    bad = 0
    reader = HistogramLogReader(log_path, HdrHistogram(1, 3600000000, 3))
    sums = {}
    intervals = 0
    while True:
        h = reader.get_next_interval_histogram()
        if h is None:
            break
        intervals += 1
        tag = h.get_tag()
        if tag not in sums:
            sums[tag] = HdrHistogram(1, 3600000000, 3)
        sums[tag].add(h)
    print(f"{intervals} intervals, tags: {sorted(t for t in sums if t)}")
    rows = [(None, run["total"])] + [
        ((r["name"] if r["name"].startswith(r["method"] + " ") else r["method"] + " " + r["name"]).replace(" ", "_").replace(",", "_"), r)
        for r in run["stats"]]
    for tag, row in rows:
        h = sums.get(tag)
        count = h.get_total_count() if h else 0
        # The log's max is HdrHistogram's (its bucket's upper edge); the JSON's max_us is exact, in that bucket.
        same = h is not None and count == row["requests"] and h.get_max_value() == h.get_highest_equivalent_value(row["max_us"])
        p50_ok = h is not None and check_hdr.close(luaload_percentile(h, 50.0), row["percentiles_ms"]["50"])
        ok = same and p50_ok
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} tag {tag!s:30} intervals add up to {count} requests (row: {row['requests']})")
    print("interval log check:", "all matched" if bad == 0 else f"{bad} mismatches")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--log" and len(sys.argv) == 4:
        sys.exit(check_log(sys.argv[2], sys.argv[3]))
    if len(sys.argv) >= 3:
        sys.exit(check_merge(sys.argv[1], sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
