"""The arithmetic of benchmarks/agent-cost.sh: per-thread callgrind totals of a plain run and of an agent (each the
fewest of REPS runs), the worker thread per request, the rest per second, and the ratio at the native rate.
    python3 benchmarks/harness/agent_cost.py N REPS DIR      (DIR holds {plain,agent}-R.cg-NN and -R.json)"""
import glob
import json
import os
import re
import sys


def thread_totals(prefix):
    """{thread number: instructions} from callgrind's --separate-threads files PREFIX-01, PREFIX-02, ..."""
    out = {}
    for path in glob.glob(prefix + "-[0-9]*"):
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    out[int(path.rsplit("-", 1)[1])] = int(m.group(1))
                    break
    return out


def split(prefix):
    """(total, worker thread, main thread, other threads): thread 1 is main; the worker is the busiest of the rest
    (-t 1); the others (an agent's link thread) are what is left."""
    t = thread_totals(prefix)
    if 1 not in t or len(t) < 2:
        raise SystemExit("no per-thread callgrind files at %s-NN" % prefix)
    worker = max((v for k, v in t.items() if k != 1))
    return sum(t.values()), worker, t[1], sum(t.values()) - worker - t[1]


def best(d, kind, reps):
    runs = []
    for r in range(1, reps + 1):
        with open(os.path.join(d, "%s-%d.json" % (kind, r))) as f:
            seconds = json.load(f)["duration_s"]
        runs.append(split(os.path.join(d, "%s-%d.cg" % (kind, r))) + (seconds,))
    return min(runs), [x[0] for x in runs]


def main(n, reps, d):
    (pt, pw, pm, po, ps), p_all = best(d, "plain", reps)
    (at, aw, am, ao, as_), a_all = best(d, "agent", reps)
    with open(os.path.join(d, "native.json")) as f:
        rate = n / json.load(f)["duration_s"]
    print("plain run: {:,.0f} instructions per request ({:,} for -n {}): workers {:,.0f}/request, main thread {:,.0f}/s over {:.1f} s".format(
        pt / n, pt, n, pw / n, pm / ps, ps))
    print("agent:     {:,.0f} instructions per request ({:,} for -n {}): workers {:,.0f}/request, main thread {:,.0f}/s over {:.1f} s, link thread {:,.0f}/s".format(
        at / n, at, n, aw / n, am / as_, as_, ao / as_))
    print("runs (fewest kept): plain %s; agent %s" % (", ".join("{:,}".format(x) for x in p_all),
                                                     ", ".join("{:,}".format(x) for x in a_all)))
    print("under callgrind: agent / plain %.4fx (workers %.4fx); per-second work weighs ~%.0fx more here than natively" % (
        at / pt, aw / pw, rate * ps / n))
    # The agent's own work beside the test is its link thread (a message a second) and its main thread's
    # difference from the plain run's (the run's set-up comes from the controller instead of the command line).
    link = ao / as_
    print("the link thread: {:,.0f} instructions a second = {:.2f} per request at the native rate".format(link, link / rate))
    print("main thread, agent - plain: {:+,} instructions over the run ({:+.1f} per request)".format(am - pm, (am - pm) / n))
    print("the link's cost: {:,.0f} instructions a second (link thread; the main thread's difference is set-up, "
          "listed above)".format(link))
    # Natively a request costs the worker thread's per-request work; the agent adds its link's per-second cost
    # spread over the requests of a second.
    print("natively {:,.0f} requests/s: agent / plain = {:.4f}x per request (worker thread + link thread)".format(
        rate, (aw / n + link / rate) / (pw / n)))

if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
