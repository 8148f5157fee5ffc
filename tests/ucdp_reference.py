#!/usr/bin/env python3
"""Independent counts for scenarios/ucdp-northern-iraq: what its rule file should report.

Reads the UCDP CSV with Python's csv module (not pactum's reader or mapping), places events with
shapely (GEOS) `covers` on the Natural Earth polygons and measures distances to the border
lines as WGS84 geodesics (GeographicLib), each segment sampled every 50 m. Nothing is shared
with pactum's code. The only decisions copied from the rule file are its definitions: "placed"
is where_prec <= 2 and not a region-centre name; the strips are 30 km (Iraq–Türkiye) and
20 km (Iraq–Iran) inside Iraq.

Run from the repository root: pip install geographiclib==2.1 shapely==2.2.0;
python3 tests/ucdp_reference.py
"""

import csv
import json
from collections import Counter

from geographiclib.geodesic import Geodesic
from shapely.geometry import Point, shape

G = Geodesic.WGS84
STEP_M = 50.0
CENTRES = {"Northern Iraq", "Northwestern Iraq"}
GROUPS = {"PKK", "PJAK", "KDPI"}


def feature(path, **props):
    with open(path, encoding="utf-8") as f:
        for feat in json.load(f)["features"]:
            if all(feat["properties"].get(k) == v for k, v in props.items()):
                return feat
    raise SystemExit(f"no feature {props} in {path}")


IRAQ = shape(feature("rules/geo/countries.geojson", ISO_A3="IRQ")["geometry"])


def line(b):
    geom = feature("rules/geo/borders.geojson", a="IRQ", b=b)["geometry"]
    return [p for part in geom["coordinates"] for p in part]


def segments(coords):
    """Each segment with its WGS84 geodesic and length in metres."""
    out = []
    for (lon1, lat1), (lon2, lat2) in zip(coords, coords[1:]):
        seg = G.InverseLine(lat1, lon1, lat2, lon2)
        out.append(((lat1, lon1), (lat2, lon2), seg))
    return out


TR_LINE = segments(line("TUR"))
IR_LINE = segments(line("IRN"))


def km_to(lat, lon, segs):
    """Geodesic distance to the line, in km: the smallest distance to points sampled every
    50 m along the segments that can hold the nearest point (a segment's nearest point is
    within half its length of one of its ends, so a segment whose ends are both farther than
    the nearest vertex plus half its length is skipped)."""
    ends = [
        (G.Inverse(lat, lon, *a)["s12"], G.Inverse(lat, lon, *b)["s12"], seg)
        for a, b, seg in segs
    ]
    best = min(min(da, db) for da, db, _ in ends)
    for da, db, seg in ends:
        if min(da, db) - seg.s13 / 2 > best:
            continue
        n = max(1, int(seg.s13 / STEP_M))
        for i in range(n + 1):
            p = seg.Position(seg.s13 * i / n)
            best = min(best, G.Inverse(lat, lon, p["lat2"], p["lon2"])["s12"])
    return best / 1000.0


def main():
    counts = Counter()
    with open("scenarios/ucdp-northern-iraq/ucdp_ged_iraq_north.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            lat, lon = float(r["latitude"]), float(r["longitude"])
            placed = int(r["where_prec"]) <= 2 and r["where_coordinates"] not in CENTRES
            in_iraq = IRAQ.covers(Point(lon, lat))
            tr, ir = r["side_a"] == "Government of Turkey", r["side_a"] == "Government of Iran"
            groups = r["side_a"] in GROUPS or r["side_b"] in GROUPS
            judged = placed and in_iraq and (tr or groups)
            in_tr_strip = judged and km_to(lat, lon, TR_LINE) <= 30.0
            in_ir_strip = judged and groups and km_to(lat, lon, IR_LINE) <= 20.0
            if tr and placed and in_iraq:
                counts["turkish-operations-near-border" if in_tr_strip else "turkish-operations-deep-inside-iraq"] += 1
            if ir and placed and in_iraq:
                counts["iranian-operations-inside-iraq"] += 1
            if groups and (in_tr_strip or in_ir_strip):
                counts["clashes-in-border-strip"] += 1
            if tr and not placed:
                counts["imprecise-turkish-operations"] += 1
            if tr and placed and r["country"] == "Iraq" and not in_iraq:
                counts["turkish-operations-placed-outside-iraq"] += 1
    for term, n in sorted(counts.items()):
        print(f"{term}: {n}")


if __name__ == "__main__":
    main()
