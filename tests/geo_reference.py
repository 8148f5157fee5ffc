#!/usr/bin/env python3
"""Reference values for the unit tests of src/geo (src/geo/tests.rs), computed independently.

Nothing here shares code or method with the Rust module:
- point to point: geodesic distance on the WGS84 ellipsoid, GeographicLib's
  Geodesic.WGS84.Inverse (Karney's algorithm), not a sphere;
- point to line: each segment of the Natural Earth line replaced by the WGS84 geodesic between
  its ends, sampled every 5 m (Geodesic.WGS84.InverseLine), and the smallest Inverse distance
  from the point to any sample (segments that cannot hold the nearest point are skipped: a
  segment's nearest point is within half its length of one of its ends);
- inside or outside: shapely (GEOS) `covers` on the Natural Earth polygons;
- points 10 km either side of the Iraq-Turkey line: Geodesic.WGS84.Direct, perpendicular to a
  segment from its midpoint.

The module computes on a sphere of radius 6371.0088 km, so agreement within 0.5 % is expected
(about 0.2 % at these latitudes).

Run from the repository root: pip install geographiclib==2.1 shapely==2.2.0;
python3 tests/geo_reference.py  (prints the Rust constants pasted into src/geo/tests.rs).
"""

import json
import math

from geographiclib.geodesic import Geodesic
from shapely.geometry import Point, shape

G = Geodesic.WGS84
STEP_M = 5.0

PLACES = {  # name: (lat, lon), from the project's gazetteer (GeoNames cities500, UCDP GED)
    "ZAKHO": (37.14871, 42.68591),
    "METINA": (37.167727, 43.272134),
    "HAFTANIN": (37.312772, 43.020263),
    "QANDIL": (36.541111, 44.996111),
    "PENJWEN": (35.62054, 45.94908),
    "ERBIL": (36.18333, 44.01193),
    "CUKURCA": (37.24806, 43.61361),
    "SARDASHT": (36.1552, 45.4788),
    "LONDON": (51.5074, -0.1278),  # far away
}


def km(lat1, lon1, lat2, lon2):
    return G.Inverse(lat1, lon1, lat2, lon2)["s12"] / 1000.0


def line_distance(lat, lon, parts):
    segments = [(a, b) for part in parts for a, b in zip(part, part[1:])]
    ends = min(min(km(lat, lon, a[1], a[0]), km(lat, lon, b[1], b[0])) for a, b in segments)
    best = math.inf
    for a, b in segments:
        length = km(a[1], a[0], b[1], b[0])
        near_end = min(km(lat, lon, a[1], a[0]), km(lat, lon, b[1], b[0]))
        if near_end > ends + length / 2 + 0.01:
            continue
        line = G.InverseLine(a[1], a[0], b[1], b[0])
        n = max(1, math.ceil(line.s13 / STEP_M))
        for i in range(n + 1):
            pos = line.Position(line.s13 * i / n)
            best = min(best, km(lat, lon, pos["lat2"], pos["lon2"]))
    return best


def main():
    borders = json.load(open("rules/geo/borders.geojson"))["features"]
    countries = json.load(open("rules/geo/countries.geojson"))["features"]
    border = {(f["properties"]["a"], f["properties"]["b"]): f["geometry"]["coordinates"] for f in borders}
    country = {f["properties"]["ISO_A3"]: shape(f["geometry"]) for f in countries}
    iraq = [f for f in countries if f["properties"]["ISO_A3"] == "IRQ"][0]
    irq_boundary = [iraq["geometry"]["coordinates"][0]]  # one Polygon, one ring

    print("// Point to point, km (WGS84 geodesic)")
    for a, b in [("ZAKHO", "ERBIL"), ("METINA", "HAFTANIN"), ("QANDIL", "PENJWEN"),
                 ("ERBIL", "PENJWEN"), ("ZAKHO", "PENJWEN")]:
        (la, oa), (lb, ob) = PLACES[a], PLACES[b]
        print(f'("{a}", "{b}", {km(la, oa, lb, ob):.4f}),')

    print("// Which country covers each place (shapely)")
    for name, (lat, lon) in PLACES.items():
        inside = [iso for iso, poly in country.items() if poly.covers(Point(lon, lat))]
        print(f"{name}: {inside}")

    for key in [("IRQ", "TUR"), ("IRQ", "IRN")]:
        print(f"// Distance to the {key[0]}-{key[1]} line, km")
        for name, (lat, lon) in PLACES.items():
            print(f'("{name}", {line_distance(lat, lon, border[key]):.4f}),')

    print("// Distance to Iraq's boundary, km")
    for name, (lat, lon) in PLACES.items():
        print(f'("{name}", {line_distance(lat, lon, irq_boundary):.4f}),')

    print("// 10 km either side of the Iraq-Turkey line, from the middle of segment 40")
    part = border[("IRQ", "TUR")][0]
    a, b = part[40], part[41]
    inv = G.Inverse(a[1], a[0], b[1], b[0])
    mid = G.Direct(a[1], a[0], inv["azi1"], inv["s12"] / 2)
    azi = mid["azi2"]
    print(f"segment 40: {a} -> {b}, midpoint ({mid['lon2']:.9f}, {mid['lat2']:.9f})")
    for side in (90, -90):
        p = G.Direct(mid["lat2"], mid["lon2"], azi + side, 10000.0)
        lat, lon = p["lat2"], p["lon2"]
        inside = [iso for iso, poly in country.items() if poly.covers(Point(lon, lat))]
        d = line_distance(lat, lon, border[("IRQ", "TUR")])
        e = line_distance(lat, lon, irq_boundary)
        print(f"side {side:+d}: ({lon:.9f}, {lat:.9f}) in {inside}, {d:.4f} km from the line, "
              f"{e:.4f} km from Iraq's boundary")

    print("// A point in a hole of Armenia (an Azerbaijani exclave)")
    arm = [f for f in countries if f["properties"]["ISO_A3"] == "ARM"][0]["geometry"]["coordinates"]
    for i, polygon in enumerate(arm):
        for j, hole in enumerate(polygon[1:]):
            c = shape({"type": "Polygon", "coordinates": [hole]}).representative_point()
            inside = [iso for iso, poly in country.items() if poly.covers(c)]
            print(f"polygon {i} hole {j}: ({c.x:.9f}, {c.y:.9f}) in {inside}")


if __name__ == "__main__":
    main()
