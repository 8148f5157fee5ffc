#!/usr/bin/env python3
"""pactum beside the hand-written program of ../shared/bench, in one run: the speed ratio.

    python3 benches/versus.py [--events N] [--rounds R] [--seed S] [--also NAME=PACTUM ...]

Builds pactum (release) and the hand-written baseline (`../shared/bench/baseline`, into
target/bench-baseline), generates N events with `../shared/bench/gen_events.py` (kept in
target/ for the next run), then runs the two programs alternately R times on the same file:
the baseline as its README says, pactum as a user would (`replay --format json -o`, the full
report written). `--also NAME=PATH` adds another pactum binary (an earlier build, say) to the
same loop, so that two versions are compared as ratios taken side by side. Prints each run's seconds and peak memory, the median ratio of pactum's time to
the baseline's, and whether the violation counts per rule agree (they must: the run fails
otherwise).

Why alternate and report a ratio: the machines are shared and noisy; two programs taken side by
side see the same noise, so only the ratio of their times means anything (docs/performance.md).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "..", "shared", "bench")


def build():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run(
        [
            "cargo", "build", "--release", "--quiet",
            "--manifest-path", os.path.join(BENCH, "baseline", "Cargo.toml"),
            "--target-dir", os.path.join(ROOT, "target", "bench-baseline"),
        ],
        check=True,
    )


def timed(argv):
    """Runs argv under /usr/bin/time; returns (seconds, peak RSS in KiB, stdout)."""
    rss_file = os.path.join(ROOT, "target", "bench-rss.txt")
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", rss_file, *argv], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} exited {proc.returncode}:\n{proc.stderr}")
    with open(rss_file, encoding="utf-8") as f:
        rss = int(f.read().split()[-1])
    return seconds, rss, proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--also", action="append", default=[], metavar="NAME=PACTUM")
    args = parser.parse_args()

    build()
    target = os.path.join(ROOT, "target")
    events = os.path.join(target, f"bench-events-{args.events}-{args.seed}.jsonl")
    if not os.path.exists(events):
        subprocess.run(
            [sys.executable, os.path.join(BENCH, "gen_events.py"), "--n", str(args.events),
             "--seed", str(args.seed), "--out", events],
            check=True,
        )
    baseline = os.path.join(target, "bench-baseline", "release", "pactum-bench-baseline")
    pactum = os.path.join(target, "release", "pactum")
    report = os.path.join(target, "bench-report.json")
    agreement = os.path.join(BENCH, "agreement.yaml")

    pactums = [("pactum", pactum)] + [tuple(a.split("=", 1)) for a in args.also]
    rows = []
    counts = {}
    for _ in range(args.rounds):
        b_secs, b_rss, b_out = timed([baseline, events])
        base = json.loads(b_out)["counts"]
        row = [(b_secs, b_rss)]
        for name, binary in pactums:
            secs, rss, _ = timed(
                [binary, "replay", "--quiet", "--rules", agreement, "--format", "json", "-o",
                 report, events]
            )
            row.append((secs, rss))
            with open(report, encoding="utf-8") as f:
                ours = {t["term"]: t["violations"] for t in json.load(f)["summary"]["by_term"]}
            if base != ours:
                sys.exit(f"{name}: the counts differ: {json.dumps({'baseline': base, name: ours})}")
            counts = ours
        rows.append(row)

    print(f"{args.events} events ({os.path.getsize(events) / 1e6:.0f} MB), {args.rounds} rounds")
    header = f"{'round':>5} {'baseline s':>11} {'MiB':>6}"
    for name, _ in pactums:
        header += f" {name + ' s':>12} {'MiB':>7} {'ratio':>6}"
    print(header)
    for n, row in enumerate(rows, 1):
        (b_secs, b_rss), rest = row[0], row[1:]
        line = f"{n:>5} {b_secs:>11.3f} {b_rss / 1024:>6.1f}"
        for secs, rss in rest:
            line += f" {secs:>12.3f} {rss / 1024:>7.1f} {secs / b_secs:>6.2f}"
        print(line)
    for i, (name, _) in enumerate(pactums, 1):
        ratio = statistics.median(row[i][0] / row[0][0] for row in rows)
        peak = max(row[i][1] for row in rows) / 1024
        print(f"{name}: median ratio to the baseline {ratio:.2f}, peak memory {peak:.1f} MiB")
    print(f"baseline peak memory {max(row[0][1] for row in rows) / 1024:.1f} MiB")
    print(f"counts agree: {json.dumps(counts, sort_keys=True)}")

if __name__ == "__main__":
    main()
