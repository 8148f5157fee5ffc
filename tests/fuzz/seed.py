#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (docs/security.md, "Fuzzing").

Writes OUT/TARGET/NAME for each target of tests/fuzz/Cargo.toml from what the repository
already has: the `files:` of every tests/cases/*.yaml (an agreement, mapping, scenario, event
file or saved report, told apart by its name and first keys), the shipped rules/ and
scenarios/, and the golden JSON reports. Targets whose input starts with a mode byte (events,
mapping, saved_report) get each file under a few modes. `conditions` needs no seed: its input
is a structure the fuzzer builds.

    python3 tests/fuzz/seed.py /tmp/pactum-seeds    # then: cargo fuzz run ... TARGET DIR/TARGET

Needs PyYAML (`pip install pyyaml`).
"""

import hashlib
import json
import pathlib
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
# The most bytes a seed keeps: the fuzzers' default -max_len is 4096, and a long file only
# slows them down.
MAX = 8192


def kind_of(name: str, text: str) -> str | None:
    """Which target a file of a case feeds."""
    lower = name.lower()
    if lower.endswith(".jsonl"):
        return "events-jsonl"
    if lower.endswith(".csv"):
        return "events-csv"
    if lower.endswith(".json"):
        return "saved_report" if '"report_version"' in text else None
    if lower.endswith((".yaml", ".yml")):
        head = text.lstrip()
        if "\nexpect:" in text or head.startswith(("title:", "expect:")) and "rules:" in text:
            return "scenario"
        if "mapping:" in text and "fields:" in text:
            return "mapping"
        if "agreement:" in text or "terms:" in text:
            return "agreement"
        if head.startswith("- "):
            return "events-yaml"
    return None


def seeds():
    """(target, bytes) for every seed."""
    for case in sorted((ROOT / "tests" / "cases").glob("*.yaml")):
        try:
            doc = yaml.safe_load(case.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            continue
        files = (doc or {}).get("files") or {}
        for name, text in files.items():
            if isinstance(text, str):
                yield kind_of(name, text), text.encode()
        if isinstance(doc.get("stdin"), str):
            yield "events-jsonl", doc["stdin"].encode()
    for path in sorted(ROOT.glob("rules/**/*.yaml")):
        text = path.read_text(encoding="utf-8")
        yield kind_of(path.name, text), text.encode()
    for path in sorted(ROOT.glob("scenarios/*/*")):
        if path.suffix in (".yaml", ".jsonl", ".csv"):
            text = path.read_text(encoding="utf-8")
            yield kind_of(path.name, text), text.encode()
    for path in sorted((ROOT / "tests" / "golden").glob("*.json")):
        # Whole, a golden report is hundreds of KB: every list cut to its first two items.
        yield "saved_report", json.dumps(shortened(json.loads(path.read_bytes()))).encode()


def shortened(value):
    """`value` with every list cut to its first two items."""
    if isinstance(value, list):
        return [shortened(v) for v in value[:2]]
    if isinstance(value, dict):
        return {k: shortened(v) for k, v in value.items()}
    return value


# Mode bytes per kind (tests/fuzz/src/harness.rs says what each bit means).
MODES = {
    "events-jsonl": ("events", [0x00, 0x04, 0x10, 0x18, 0x34, 0x50]),
    "events-yaml": ("events", [0x01, 0x05, 0x11, 0x15]),
    "events-csv": ("events", [0x02, 0x06, 0x12]),
    "saved_report": ("saved_report", [0x00, 0x01]),
}


def main() -> None:
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "seeds")
    count = {}
    for kind, data in seeds():
        if kind is None:
            continue
        data = data[:MAX]
        if kind in MODES:
            target, modes = MODES[kind]
            items = [(target, bytes([m]) + data) for m in modes]
            if kind == "events-csv":
                # CSV through the shipped UCDP mapping, too.
                items.append(("mapping", bytes([0x00]) + data))
        elif kind == "mapping":
            items = [("mapping", bytes([0x01]) + data)]
        else:
            items = [(kind, data)]
        for target, item in items:
            folder = out / target
            folder.mkdir(parents=True, exist_ok=True)
            (folder / hashlib.sha1(item).hexdigest()).write_bytes(item)
            count[target] = count.get(target, 0) + 1
    # The UCDP extract's header and first rows, through its mapping.
    csv = (ROOT / "scenarios/ucdp-northern-iraq/ucdp_ged_iraq_north.csv").read_bytes()
    rows = b"".join(csv.splitlines(keepends=True)[:8])
    for mode in (0x00, 0x04, 0x20):
        item = bytes([mode]) + rows
        (out / "mapping" / hashlib.sha1(item).hexdigest()).write_bytes(item)
        count["mapping"] = count.get("mapping", 0) + 1
    for target, n in sorted(count.items()):
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main()
