"""Durations as wrk and h2load print them (10.01s, 812.34ms, 1.2m)."""
UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def dur(num, unit):
    return float(num) * UNITS[unit]
