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


def samples(coords):
    out = []
    for (lon1, lat1), (lon2, lat2) in zip(coords, coords[1:]):
        seg = G.InverseLine(lat1, lon1, lat2, lon2)
        n = max(1, int(seg.s13 / STEP_M))
        for i in range(n + 1):
            p = seg.Position(seg.s13 * i / n)
            out.append((p["lat2"], p["lon2"]))
    return out


TR_LINE = samples(line("TUR"))
IR_LINE = samples(line("IRN"))


def km_to(lat, lon, pts):
    # Prefilter in degrees, then the exact geodesic to the nearby samples.
    near = [p for p in pts if abs(p[0] - lat) < 1.0 and abs(p[1] - lon) < 1.3] or pts
    return min(G.Inverse(lat, lon, a, b)["s12"] for a, b in near) / 1000.0


def main():
    counts = Counter()
    with open("scenarios/ucdp-northern-iraq/ucdp_ged_iraq_north.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            lat, lon = float(r["latitude"]), float(r["longitude"])
            placed = int(r["where_prec"]) <= 2 and r["where_coordinates"] not in CENTRES
            in_iraq = IRAQ.covers(Point(lon, lat))
            tr, ir = r["side_a"] == "Government of Turkey", r["side_a"] == "Government of Iran"
            in_tr_strip = placed and in_iraq and km_to(lat, lon, TR_LINE) <= 30.0
            in_ir_strip = placed and in_iraq and km_to(lat, lon, IR_LINE) <= 20.0
            if tr and placed and in_iraq:
                counts["turkish-operations-near-border" if in_tr_strip else "turkish-operations-deep-inside-iraq"] += 1
            if ir and placed and in_iraq:
                counts["iranian-operations-inside-iraq"] += 1
            if (r["side_a"] in GROUPS or r["side_b"] in GROUPS) and (in_tr_strip or in_ir_strip):
                counts["clashes-in-border-strip"] += 1
            if tr and not placed:
                counts["imprecise-turkish-operations"] += 1
            if tr and placed and r["country"] == "Iraq" and not in_iraq:
                counts["turkish-operations-placed-outside-iraq"] += 1
    for term, n in sorted(counts.items()):
        print(f"{term}: {n}")


if __name__ == "__main__":
    main()
