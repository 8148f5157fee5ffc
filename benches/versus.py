#!/usr/bin/env python3
"""pactum beside the hand-written program of ../shared/bench, in one run: the speed ratio.

    python3 benches/versus.py [--events N] [--rounds R] [--seed S] [--also NAME=PACTUM ...]
                              [--shuffle] [--rules FILE] [--render FORMAT]

Builds pactum (release) and the hand-written baseline (`../shared/bench/baseline`, into
target/bench-baseline), generates N events with `../shared/bench/gen_events.py` (kept in
target/ for the next run), then runs the two programs alternately R times on the same file:
the baseline as its README says, pactum as a user would (`replay --format json -o`, the full
report written). `--also NAME=PATH` adds another pactum binary (an earlier build, say) to the
same loop, so that two versions are compared as ratios taken side by side. Prints each run's seconds and peak memory, the median ratio of pactum's time to
the baseline's, and whether the violation counts per rule agree (they must: the run fails
otherwise).

Other runs, still timed beside the hand-written program on the same events (its time is the
yardstick that the machine's noise moves as it moves pactum's): `--shuffle` replays the events
with their lines shuffled (a file far out of order; cached in target/; the counts are not
compared: the hand-written program reorders within 600 s only); `--rules FILE` replays
another agreement (the counts are compared only for the benchmark's own); `--render FORMAT`
times `pactum report` rendering, in FORMAT, the JSON report each pactum wrote of the events
before the loop.

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
    parser.add_argument("--shuffle", action="store_true")
    parser.add_argument("--rules", default=None, metavar="FILE")
    parser.add_argument("--render", default=None, metavar="FORMAT")
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
    if args.shuffle:
        shuffled = events.replace(".jsonl", "-shuffled.jsonl")
        if not os.path.exists(shuffled):
            import random
            with open(events, encoding="utf-8") as f:
                lines = f.readlines()
            random.Random(args.seed).shuffle(lines)
            with open(shuffled, "w", encoding="utf-8") as f:
                f.writelines(lines)
        events = shuffled
    baseline = os.path.join(target, "bench-baseline", "release", "pactum-bench-baseline")
    pactum = os.path.join(target, "release", "pactum")
    agreement = args.rules or os.path.join(BENCH, "agreement.yaml")
    # Shuffled, the events are out of the hand-written program's contract (it reorders within
    # 600 s only), and events of one instant are in another line order (pactum breaks such
    # ties by line, the hand-written program by id): its counts are no yardstick then.
    check_counts = args.rules is None and not args.shuffle

    pactums = [("pactum", pactum)] + [tuple(a.split("=", 1)) for a in args.also]
    report_of = {name: os.path.join(target, f"bench-report-{name}.json") for name, _ in pactums}
    # benches/strip-term.yaml reads the shipped maps from ../rules/geo, outside its folder: a
    # build that confines such paths is given the repository as an allowed root (an older one
    # has no --allow-root, and needs none).
    def allow_root(binary):
        usage = subprocess.run([binary, "replay", "--help"], capture_output=True, text=True)
        return ["--allow-root", ROOT] if "--allow-root" in usage.stdout else []
    allowed = {binary: allow_root(binary) for _, binary in pactums}
    replay = lambda binary, report: [binary, "replay", "--quiet", "--rules", agreement,
                                     *allowed[binary], "--format", "json", "-o", report, events]
    if args.render:
        for name, binary in pactums:
            timed(replay(binary, report_of[name]))
    rendered = os.path.join(target, "bench-rendered")
    rows = []
    counts = {}
    for _ in range(args.rounds):
        b_secs, b_rss, b_out = timed([baseline, events])
        base = json.loads(b_out)["counts"]
        row = [(b_secs, b_rss)]
        for name, binary in pactums:
            if args.render:
                command = [binary, "report", report_of[name], "--format", args.render,
                           "-o", rendered]
            else:
                command = replay(binary, report_of[name])
            secs, rss, _ = timed(command)
            row.append((secs, rss))
            with open(report_of[name], encoding="utf-8") as f:
                ours = {t["term"]: t["violations"] for t in json.load(f)["summary"]["by_term"]}
            if check_counts and base != ours:
                sys.exit(f"{name}: the counts differ: {json.dumps({'baseline': base, name: ours})}")
            counts = ours
        rows.append(row)

    what = f"pactum report --format {args.render}" if args.render else f"replay of {agreement}"
    print(f"{args.events} events ({os.path.getsize(events) / 1e6:.0f} MB, {events}), "
          f"{args.rounds} rounds; pactum runs: {what}")
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
    if check_counts:
        print(f"counts agree: {json.dumps(counts, sort_keys=True)}")
    else:
        print(f"pactum's counts: {json.dumps(counts, sort_keys=True)}")

if __name__ == "__main__":
    main()
