#!/usr/bin/env python3
"""Rule files that grow in one dimension, for timing `pactum check` against rule size (issue 12).

    benches/check_scale.py terms 20000 > /tmp/terms-20k.yaml     # 20,000 terms
    benches/check_scale.py switch 20000 > /tmp/switch-20k.yaml   # one `when`: a 20,000-case switch
    benches/check_scale.py --measure terms 10000 20000 50000     # time each size (release build)

`--measure` runs `target/release/pactum check` (or $PACTUM) under `/usr/bin/time -v` on each
size and prints one Markdown row per size: size, seconds (wall), peak MiB. docs/performance.md,
"`check` on large rule files (issue 12)", records the figures.
"""
import os
import re
import subprocess
import sys
import tempfile

HEAD = """agreement: scale
title: Scale
parties: {TR: Türkiye}
"""


def terms(n):
    out = [HEAD, "terms:\n"]
    for i in range(n):
        out.append(
            f"  - id: t{i}\n    title: Term {i}\n    breached_by: TR\n"
            f"    when: event.kind == \"k{i}\" && event.killed > {i % 7}\n"
        )
    return "".join(out)


def switch(n):
    cases = "".join(f"      \"k{i}\" => event.killed > {i % 7},\n" for i in range(n))
    return (
        HEAD
        + "terms:\n  - id: big\n    title: Big switch\n    breached_by: TR\n    when: |\n"
        + "      switch event.kind {\n"
        + cases
        + "      _ => false\n      }\n"
    )


def measure(kind, sizes):
    binary = os.environ.get("PACTUM", "target/release/pactum")
    print("| size | seconds | peak MiB |\n|---:|---:|---:|")
    for n in sizes:
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(terms(n) if kind == "terms" else switch(n))
        run = subprocess.run(
            ["/usr/bin/time", "-v", binary, "check", f.name],
            capture_output=True,
            text=True,
        )
        os.unlink(f.name)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", run.stderr)
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        h, m, s = wall.groups()
        seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
        status = "" if run.returncode == 0 else f" (exit {run.returncode})"
        print(f"| {n:,} {kind} | {seconds:.2f}{status} | {int(peak.group(1)) / 1024:.0f} |", flush=True)


def main():
    args = sys.argv[1:]
    if args and args[0] == "--measure":
        measure(args[1], [int(a) for a in args[2:]])
    elif len(args) == 2 and args[0] in ("terms", "switch"):
        sys.stdout.write(terms(int(args[1])) if args[0] == "terms" else switch(int(args[1])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
