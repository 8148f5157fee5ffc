#!/usr/bin/env python3
"""Each temporal form at scale (issue 12): CPU time and peak memory of `pactum replay` per form
and log length, to show that time grows linearly with the log.

    python3 benches/forms.py [--pactum target/release/pactum] [--sizes 100000,1000000]
                             [--forms within,before,...] [--rounds 1]

Each form's log is generated here, one event every 30 seconds, in time order, and replayed with
`--format jsonl` to /dev/null (the report's writing is not what is measured). The shapes:

- within:       a 24 h notice rule with one operation a minute, each notified 12 h later by
                reference (about 720 obligations open at any time; one in ten never notified)
- within-unmet: the same rule with nothing ever notified and a 100-day deadline: every
                obligation stays open (the finding's 5k / 10k / 20k events: 8.6 / 33 / 134 s)
- before:       the 24 h rule looking back: each operation notified 12 h before it
- before-free:  the same log, `require` reading no `trigger` and never true past its simple
                test (`event.ref.ends_with("x")`): each operation tried every notification of
                its day (1,440) until each event was tried once in all
- sequence:     clash then airstrike within 1 h, by sector (50 sectors)
- sequence-rare: steps a, b, c over a century, b once at the start, c every 10th event: each
                c looked for an a before the b, walking back over every a since
- threshold:    3 strikes within 24 h, by sector (1,000 sectors)
- threshold-long: 3 strikes within 30 days, one key: every event breaches, and the window
                holds up to 86,400 events (the evidence was read from the window's start)
- absence:      a patrol every 6 h, by sector (100 sectors, some of which skip)

The ratio column is each size's time over the previous size's: linear growth gives the ratio of
the sizes (10 for 1e5 -> 1e6), quadratic its square.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone

BASE = datetime(2024, 1, 1, tzinfo=timezone.utc)
STEP = timedelta(seconds=30)

RULES = {
    "within": """  - id: notified
    title: Notified within a day
    breached_by: TR
    when: event.kind == "operation"
    deadline: {within: 24h, require: 'event.kind == "notification" && event.ref == trigger.id'}
""",
    "within-unmet": """  - id: notified
    title: Notified within 100 days
    breached_by: TR
    when: event.kind == "operation"
    deadline: {within: 100d, require: 'event.kind == "notification" && event.ref == trigger.id'}
""",
    "before": """  - id: notified-before
    title: Notified a day before
    breached_by: TR
    when: event.kind == "operation"
    deadline: {before: 24h, require: 'event.kind == "notification" && event.ref == trigger.id'}
""",
    "before-free": """  - id: notified-before
    title: Notified a day before, by a notification whose reference ends in x
    breached_by: TR
    when: event.kind == "operation"
    deadline: {before: 24h, require: 'event.kind == "notification" && event.ref.ends_with("x")'}
""",
    "sequence": """  - id: clash-then-strike
    title: A strike after a clash
    breached_by: TR
    sequence: {within: 1h, by: event.sector, steps: ['event.kind == "armed_clash"', 'event.kind == "airstrike"']}
""",
    "sequence-rare": """  - id: a-b-c
    title: a, then b, then c
    breached_by: TR
    sequence: {within: 36500d, steps: ['event.kind == "a"', 'event.kind == "b"', 'event.kind == "c"']}
""",
    "threshold": """  - id: strikes
    title: Three strikes a day
    breached_by: TR
    when: event.kind == "airstrike"
    threshold: {count: 3, within: 24h, by: event.sector}
""",
    "threshold-long": """  - id: strikes-a-month
    title: Three strikes a month
    breached_by: TR
    when: event.kind == "airstrike"
    threshold: {count: 3, within: 30d}
""",
    "absence": """  - id: patrolled
    title: Patrolled every 6 hours
    breached_by: TR
    when: event.kind == "patrol"
    absence: {within: 6h, by: event.sector}
""",
}


def stamp(i):
    return (BASE + i * STEP).strftime("%Y-%m-%dT%H:%M:%SZ")


def line(i, kind, **fields):
    extra = "".join(f',"{k}":"{v}"' for k, v in fields.items())
    return f'{{"id":"e{i}","time":"{stamp(i)}","kind":"{kind}"{extra}}}\n'


def event(form, i):
    """The i-th event of a form's log."""
    if form in ("within", "before", "before-free", "within-unmet"):
        # Even: an operation a minute. Odd: a notification of the operation 12 h (1,440 events)
        # earlier (`within`) or later (`before`); one operation in ten is never notified.
        if i % 2 == 0:
            return line(i, "operation", party="TR")
        if form == "within-unmet":
            return line(i, "notification", ref="none")
        op = i - 1 - 1440 if form == "within" else i + 1439  # before, before-free
        ref = f"e{op}" if op >= 0 and (op // 2) % 10 else "none"
        return line(i, "notification", ref=ref)
    if form == "sequence":
        kind = ("armed_clash", "airstrike", "patrol")[i % 3]
        return line(i, kind, sector=f"S{(i * 7) % 50}")
    if form == "sequence-rare":
        return line(i, "b" if i == 0 else "c" if i % 10 == 0 else "a")
    if form == "threshold":
        return line(i, "airstrike", sector=f"S{(i * 7919) % 1000}")
    if form == "threshold-long":
        return line(i, "airstrike")
    if form == "absence":
        sector = (i * 13) % 100
        # Sectors 0-9 patrol half as often: gaps over 6 h.
        kind = "patrol" if sector >= 10 or (i // 100) % 2 else "statement"
        return line(i, kind, sector=f"S{sector}")
    raise ValueError(form)


def measure(pactum, rules, events):
    """CPU seconds (user + system), wall seconds and peak memory (MiB) of one replay."""
    start = time.monotonic()
    with open(os.devnull, "w") as sink, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [pactum, "replay", "--rules", rules, "--format", "jsonl", events],
            stdout=sink,
            stderr=err,
        )
        # wait4 gives this child's own usage (RUSAGE_CHILDREN's peak is the largest so far).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        if proc.returncode not in (0, 1):
            err.seek(0)
            sys.exit(f"pactum failed: {err.read().decode()[:500]}")
    return usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pactum", default="target/release/pactum")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--forms", default=",".join(RULES))
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print("| form | events | CPU s | ratio | peak MiB |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for form in args.forms.split(","):
            rules = os.path.join(tmp, f"{form}.yaml")
            with open(rules, "w") as f:
                f.write("agreement: bench\ntitle: Bench\nparties: {TR: Türkiye}\nterms:\n")
                f.write(RULES[form])
            previous = None
            for n in sizes:
                events = os.path.join(tmp, f"{form}-{n}.jsonl")
                with open(events, "w") as f:
                    for i in range(n):
                        f.write(event(form, i))
                runs = sorted(measure(args.pactum, rules, events) for _ in range(args.rounds))
                cpu, _, peak = runs[len(runs) // 2]
                ratio = f"{cpu / previous:.1f}" if previous else "—"
                print(f"| {form} | {n:,} | {cpu:.2f} | {ratio} | {peak:.1f} |", flush=True)
                previous = cpu
                os.remove(events)


if __name__ == "__main__":
    main()
