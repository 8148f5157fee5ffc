#!/usr/bin/env python3
"""The hostile corpus measured: what each rule of tests/hostile/ costs per evaluation at worst.

Each rule file there tries to make one evaluation of its condition as slow or as large as the
sandbox allows. This replays each on EVENTS distinct events with the memo off (so that every
event is one evaluation), beside a trivial rule on the same events, and prints a Markdown
table: the time per evaluation above the trivial rule's (the median of ROUNDS runs), the peak
memory of the whole process, and what stopped the evaluation (the term's first error, or its
suspension). docs/security.md records the table.

    cargo build --release && python3 benches/hostile.py [--events 200] [--rounds 3]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.environ.get('HOSTILE', os.path.join(ROOT, 'tests', 'hostile'))

TRIVIAL = """agreement: trivial
title: Trivial
parties: {IQ: Iraq}
terms:
  - id: t
    title: T
    breached_by: IQ
    when: event.id == ""
"""


def run(binary, rules, events, out):
    """Wall seconds and peak KiB of one replay, and its report."""
    start = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", binary, "replay", "--no-memo", "-q", "--rules", rules,
         events, "--format", "json", "-o", out],
        capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{rules}: exit {proc.returncode}: {proc.stderr}")
    peak = int(proc.stderr.strip().splitlines()[-1])
    with open(out) as f:
        return wall, peak, json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "pactum"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        events = os.path.join(tmp, "events.jsonl")
        with open(events, "w") as f:
            for i in range(args.events):
                f.write(json.dumps({"id": f"e{i}", "time": f"2023-05-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                                    "kind": "shelling", "party": "IQ"}) + "\n")
        trivial = os.path.join(tmp, "trivial.yaml")
        with open(trivial, "w") as f:
            f.write(TRIVIAL)
        out = os.path.join(tmp, "report.json")
        rows = []
        for name in sorted(os.listdir(CORPUS)):
            rules = os.path.join(CORPUS, name)
            walls, peaks, report = [], [], None
            for _ in range(args.rounds):
                base, _, _ = run(args.binary, trivial, events, out)
                wall, peak, report = run(args.binary, rules, events, out)
                walls.append(wall - base)
                peaks.append(peak)
            term = report["summary"]["by_term"][0]
            evaluations = term["evaluated"]
            per = statistics.median(walls) / max(evaluations, 1) * 1000
            if report.get("suspended"):
                s = report["suspended"][0]
                what = f"suspended after {s['event']} ({s['spent']:,} units)"
            elif report["errors"]:
                what = report["errors"][0]["first"]["message"].split(" (at ")[0]
            else:
                what = "—"
            rows.append((name.removesuffix(".yaml"), evaluations, per, max(peaks) / 1024, what))
    print(f"| rule (tests/hostile/) | evaluations | ms per evaluation | peak MiB | stopped by |")
    print("|---|---:|---:|---:|---|")
    for name, evaluations, per, peak, what in rows:
        print(f"| `{name}` | {evaluations} | {per:.2f} | {peak:.1f} | {what} |")


if __name__ == "__main__":
    main()
