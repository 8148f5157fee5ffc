#!/usr/bin/env python3
"""Kill and resume: a checkpointed stream killed at random moments gives the report of a run
never killed.

The stream: EVENTS synthetic border reports (../shared/bench/gen_events.py: mildly out of
order), with an invalid line every 9,973 lines and a blank one every 4,999, replayed through
scenarios/stream-checkpoint/agreement.yaml (every form of term) with `--max-delay 5m` (so that
some events are late) and `--skip-invalid`. First the reference: one run without a checkpoint.
Then POINTS trials, each of one to three runs killed with SIGKILL at a random moment (while
judging, or writing a checkpoint or the journal), then one run to the end; each run is given
the whole stream from its start on standard input. Each trial's report must be byte for byte
the reference; the script stops at the first that is not. It prints how many kills landed
before the end, and the sizes of the checkpoint. docs/security.md records the figures.

    cargo build --release && python3 benches/kill_resume.py [--events 100000] [--points 100]
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RULES = os.path.join(ROOT, "scenarios", "stream-checkpoint", "agreement.yaml")
GENERATOR = os.path.join(ROOT, "..", "shared", "bench", "gen_events.py")


def stream(path, events, seed):
    """The stream's bytes: generated events, with invalid and blank lines among them."""
    raw = path + ".raw"
    subprocess.run([sys.executable, GENERATOR, "--n", str(events), "--seed", str(seed),
                    "--out", raw], check=True, capture_output=True)
    with open(raw) as f, open(path, "w") as out:
        for n, line in enumerate(f, 1):
            out.write(line)
            if n % 9973 == 0:
                out.write('{"time": "not a time", "kind": "patrol"}\n')
            if n % 4999 == 0:
                out.write("\n")
    os.remove(raw)
    with open(path, "rb") as f:
        return f.read()


def command(binary, out, checkpoint, every):
    args = [binary, "replay", "-r", RULES, "-", "--format", "json", "-o", out,
            "--max-delay", "5m", "--skip-invalid"]
    if checkpoint:
        args += ["--checkpoint", checkpoint, "--checkpoint-every", str(every)]
    return args


def feed(proc, data):
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except (BrokenPipeError, ValueError):
        pass


def run(args, data, kill_after=None):
    """Runs one replay on `data`; with `kill_after` (seconds), SIGKILLs it then. Returns
    (seconds, exit code, whether it was killed before it ended)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    writer = threading.Thread(target=feed, args=(proc, data))
    writer.start()
    killed = False
    if kill_after is not None:
        try:
            proc.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            killed = True
    code = proc.wait()
    stderr = proc.stderr.read().decode()
    writer.join()
    if not killed and code != 0:
        sys.exit(f"exit {code}: {stderr}")
    return time.perf_counter() - start, code, killed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--every", type=int, default=1000,
                        help="events between two checkpoints")
    parser.add_argument("--seed", type=int, default=20241023)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "pactum"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        data = stream(os.path.join(tmp, "events.jsonl"), args.events, args.seed)
        reference = os.path.join(tmp, "reference.json")
        seconds, _, _ = run(command(args.binary, reference, None, 0), data)
        with open(reference, "rb") as f:
            expected = f.read()
        checkpoint = os.path.join(tmp, "state", "checkpoint")
        os.makedirs(os.path.dirname(checkpoint))
        out = os.path.join(tmp, "report.json")
        # Uninterrupted, with checkpoints: the same report, and the time they cost.
        with_checkpoints, _, _ = run(command(args.binary, out, checkpoint, args.every), data)
        with open(out, "rb") as f:
            assert f.read() == expected, "a checkpointed run differs from the reference"
        assert not os.path.exists(checkpoint), "the checkpoint outlived its stream"
        print(f"stream: {args.events} events, {len(data)} bytes; reference run "
              f"{seconds:.2f} s, with a checkpoint every {args.every} events {with_checkpoints:.2f} s")
        def check(trial):
            with open(out, "rb") as f:
                if f.read() != expected:
                    shutil.copy(out, "kill_resume-differs.json")
                    sys.exit(f"trial {trial}: the report differs (kill_resume-differs.json)")
            assert not os.path.exists(checkpoint), "the checkpoint outlived its stream"

        kills = finished = largest = 0
        for trial in range(args.points):
            os.remove(out)
            wanted, landed = rng.choice([1, 1, 2, 3]), 0
            while landed < wanted:
                # Any moment of a run: while the stream before the checkpoint is read again,
                # while judging, while a checkpoint or the journal is written. A run that ends
                # before its moment has judged the whole stream: its report is checked too,
                # and the trial goes on from nothing.
                _, _, killed = run(command(args.binary, out, checkpoint, args.every), data,
                                   kill_after=rng.uniform(0.0, with_checkpoints))
                if killed:
                    landed += 1
                    if os.path.exists(checkpoint):
                        largest = max(largest, os.path.getsize(checkpoint))
                else:
                    finished += 1
                    check(trial)
                    os.remove(out)
            kills += landed
            run(command(args.binary, out, checkpoint, args.every), data)
            check(trial)
        print(f"{args.points} trials, {kills} runs killed before their end ({finished} other "
              f"runs ended before their kill): every report equal to the reference; largest "
              f"checkpoint {largest} bytes")


if __name__ == "__main__":
    main()
