"""callgrind's counts: the run's total instructions (valgrind's `Collected :` line or the out file's summary) and the
self cost per object file (`ob=`), grouped as the instructions section reports them."""
import contextlib
import os
import re


def callgrind_total(stderr, out_path):
    """Instructions (Ir) of the whole run: valgrind's `Collected : N`, else the out file's summary/totals."""
    m = re.search(r"^==\d+== Collected : (\d+)\s*$", stderr or "", re.M)
    if m:
        return int(m.group(1))
    with contextlib.suppress(OSError):
        with open(out_path, errors="replace") as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    return int(m.group(1))
    return None


def callgrind_by_object(out_path):
    """Self Ir per object file (ob=), read from a callgrind out file.

    Parsed directly rather than from callgrind_annotate's listing: callgrind_annotate drops the
    `[object]` of lines for inlined code (fi=/fe= file changes), so its per-line sum falls short of
    the total. Cost lines right after `calls=` are inclusive costs of a call and are skipped."""
    names = {"ob": {}, "fl": {}, "fn": {}}
    space = {"ob": "ob", "cob": "ob", "fl": "fl", "fi": "fl", "fe": "fl", "cfi": "fl", "cfl": "fl",
             "fn": "fn", "cfn": "fn"}
    npos, per, cur, skip_next = 1, {}, "???", False

    def name(kind, v):
        m = re.match(r"\((\d+)\)(?:\s+(.*))?$", v)
        if not m:
            return v
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
            return m.group(2)
        return names[kind].get(m.group(1), "?")

    with open(out_path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) > npos:
                    per[cur] = per.get(cur, 0) + int(parts[npos])
                continue
            key, _, val = line.partition("=")
            if key in space and _:
                n = name(space[key], val.strip())
                if key == "ob":
                    cur = n
            elif key == "calls" and _:
                skip_next = True
            elif line.startswith("positions:"):
                npos = len(line.split()[1:])
    return per


INSTR_GROUPS = [("luaload", "luaload (the binary)"), ("lua", "liblua5.4"), ("libc", "libc"),
                ("swift", "Swift runtime (libswiftCore, libswift_*, libFoundationEssentials, libdispatch, …)"),
                ("ld", "ld-linux (dynamic loading)"), ("other", "others")]


def instr_group(obj, binary):
    base = os.path.basename(obj)
    if os.path.abspath(obj) == os.path.abspath(binary) or base.startswith("luaload"):
        return "luaload"
    if base.startswith("liblua5.4.so"):
        return "lua"
    if base.startswith("libc.so") or base.startswith("libc-"):
        return "libc"
    if (base.startswith(("libswift", "libFoundation", "lib_Foundation", "libdispatch", "libBlocksRuntime"))
            or "/lib/swift/" in obj):
        return "swift"
    if base.startswith("ld-linux") or base.startswith("ld-"):
        return "ld"
    return "other"
