//! The geometry module against independent references, on the real borders.
//!
//! Reference numbers come from `tests/geo_reference.py` (GeographicLib geodesics on the WGS84
//! ellipsoid, lines densified every 5 m; shapely for which country covers a place); its
//! docstring says exactly how. The module works on a sphere, so it must agree within 0.5 %.
//! The data are the copies in `rules/geo/` (Natural Earth 1:10m v5.1.1).

use std::rc::Rc;

use super::*;

const BORDERS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/rules/geo/borders.geojson"
));
const COUNTRIES: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/rules/geo/countries.geojson"
));

const fn at(lat: f64, lon: f64) -> Point {
    Point { lon, lat }
}

// The project's gazetteer (GeoNames cities500, UCDP GED geocodes), as latitude, longitude.
const ZAKHO: Point = at(37.14871, 42.68591);
const METINA: Point = at(37.167727, 43.272134);
const HAFTANIN: Point = at(37.312772, 43.020263);
const QANDIL: Point = at(36.541111, 44.996111);
const PENJWEN: Point = at(35.62054, 45.94908);
const ERBIL: Point = at(36.18333, 44.01193);
const CUKURCA: Point = at(37.24806, 43.61361);
const SARDASHT: Point = at(36.1552, 45.4788);
const LONDON: Point = at(51.5074, -0.1278);
const PLACES: [(&str, Point); 9] = [
    ("Zakho", ZAKHO),
    ("Metina", METINA),
    ("Haftanin", HAFTANIN),
    ("Qandil", QANDIL),
    ("Penjwen", PENJWEN),
    ("Erbil", ERBIL),
    ("Cukurca", CUKURCA),
    ("Sardasht", SARDASHT),
    ("London", LONDON),
];

fn assert_close(what: &str, got: f64, reference: f64) {
    let error = (got - reference).abs() / reference;
    assert!(
        error <= 0.005,
        "{what}: {got:.4} km, reference {reference:.4} km ({:.3} % off)",
        error * 100.0
    );
}

fn border(a: &str, b: &str) -> Line {
    let feature = features(BORDERS)
        .unwrap()
        .into_iter()
        .find(|f| f.properties["a"] == a && f.properties["b"] == b)
        .unwrap();
    Line::try_from(feature.geometry).unwrap()
}

fn country_polygons(iso: &str) -> Vec<Polygon> {
    let feature = features(COUNTRIES)
        .unwrap()
        .into_iter()
        .find(|f| f.properties["ISO_A3"] == iso)
        .unwrap();
    let Geometry::Polygons(polygons) = feature.geometry else {
        panic!("{iso} is not polygons")
    };
    polygons
}

fn country(iso: &str) -> Area {
    Area::new(country_polygons(iso)).unwrap()
}

/// Deterministic points: xorshift64, uniform in a box.
struct Points(u64);

impl Points {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn within(&mut self, west: f64, south: f64, east: f64, north: f64) -> Point {
        let lon = west + (east - west) * self.next_f64();
        let lat = south + (north - south) * self.next_f64();
        Point { lon, lat }
    }
}

#[test]
fn great_circle_matches_wgs84_geodesics() {
    // Geodesic.WGS84.Inverse, km (tests/geo_reference.py).
    for (a, b, reference) in [
        (ZAKHO, ERBIL, 159.7769),
        (METINA, HAFTANIN, 27.5425),
        (QANDIL, PENJWEN, 133.4214),
        (ERBIL, PENJWEN, 185.6869),
        (ZAKHO, PENJWEN, 338.3146),
    ] {
        assert_close(&format!("{a} to {b}"), great_circle_km(a, b), reference);
        assert_eq!(great_circle_km(a, b), great_circle_km(b, a));
    }
    assert_eq!(great_circle_km(ERBIL, ERBIL), 0.0);
    let half = great_circle_km(at(0.0, 0.0), at(0.0, 180.0));
    assert!((half - std::f64::consts::PI * EARTH_RADIUS_KM).abs() < 1e-9);
}

#[test]
fn distances_to_borders_match_densified_geodesics() {
    // Smallest WGS84 distance to the line's geodesics sampled every 5 m, km
    // (tests/geo_reference.py), in the order of PLACES.
    let iraq_turkey = [
        9.8959, 15.5507, 3.8599, 69.7587, 199.4121, 90.5384, 2.2672, 126.6903, 3681.7212,
    ];
    let iraq_iran = [
        183.6775, 131.6692, 155.3479, 0.3372, 3.9398, 96.1252, 102.2400, 13.8759, 3845.1896,
    ];
    for (line, references) in [
        (border("IRQ", "TUR"), iraq_turkey),
        (border("IRQ", "IRN"), iraq_iran),
    ] {
        for ((name, place), reference) in PLACES.iter().zip(references) {
            let d = line.distance_km(*place);
            assert_close(name, d, reference);
            assert!(line.within_km(*place, d) && !line.within_km(*place, d * 0.999));
        }
    }
    // As the data's provenance says: Haftanin about 4 km from the Iraq-Turkey line, Metina
    // about 15, and the Qandil geocode 0.3 km beyond the Iraq-Iran line.
    let d = border("IRQ", "TUR").distance_km(HAFTANIN);
    assert!((3.5..4.5).contains(&d), "{d}");
}

#[test]
fn places_fall_in_their_countries() {
    // shapely `covers` (tests/geo_reference.py); London in none of the ten.
    let (iraq, turkey, iran) = (country("IRQ"), country("TUR"), country("IRN"));
    for place in [ZAKHO, METINA, HAFTANIN, PENJWEN, ERBIL] {
        assert!(iraq.contains(place), "{place}");
        assert!(!turkey.contains(place) && !iran.contains(place), "{place}");
        assert_eq!(iraq.distance_km(place), 0.0);
    }
    assert!(turkey.contains(CUKURCA) && !iraq.contains(CUKURCA));
    assert!(iran.contains(QANDIL) && !iraq.contains(QANDIL));
    assert!(iran.contains(SARDASHT) && !iraq.contains(SARDASHT));
    assert!(!iraq.contains(LONDON) && !turkey.contains(LONDON));
    // Distance to Iraq's boundary from outside (same method as the lines).
    for (name, place, reference) in [
        ("Qandil", QANDIL, 0.3372),
        ("Cukurca", CUKURCA, 2.2672),
        ("Sardasht", SARDASHT, 13.8759),
        ("London", LONDON, 3657.5025),
    ] {
        assert_close(name, iraq.distance_km(place), reference);
    }
}

#[test]
fn a_point_on_a_border_is_at_distance_zero() {
    let line = border("IRQ", "TUR");
    let Geometry::Lines(parts) = features(BORDERS).unwrap()[0].geometry.clone() else {
        panic!()
    };
    let (a, b) = (parts[0][40], parts[0][41]);
    assert_eq!(line.distance_km(a), 0.0, "a vertex");
    assert!(line.within_km(a, 0.0));
    // The middle of the arc a-b: the normalised sum of the two unit vectors.
    let unit = |p: Point| {
        let (lat, lon) = (p.lat.to_radians(), p.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    };
    let (u, v) = (unit(a), unit(b));
    let s = [u[0] + v[0], u[1] + v[1], u[2] + v[2]];
    let mid = Point {
        lon: s[1].atan2(s[0]).to_degrees(),
        lat: s[2].atan2(s[0].hypot(s[1])).to_degrees(),
    };
    assert!(line.distance_km(mid) < 1e-9, "{}", line.distance_km(mid));
    // borders.geojson rounds to 1e-9°; the countries keep full precision, and Iraq's and
    // Turkey's rings share their border vertices exactly. Such a vertex is on both
    // boundaries, so in both countries, at distance 0 from each.
    let shared = country_polygons("IRQ")[0].exterior[40];
    assert!(country_polygons("TUR")[0].exterior.contains(&shared));
    for area in [country("IRQ"), country("TUR")] {
        assert!(area.contains(shared), "{shared}");
        assert_eq!(area.distance_km(shared), 0.0);
    }
    assert!(
        line.distance_km(shared) < 1e-6,
        "within rounding of the border file"
    );
}

#[test]
fn boundaries_belong_to_the_area_and_holes_do_not() {
    // A 4° square with a 2° square hole, and a second polygon far east.
    let ring = |c: &[(f64, f64)]| c.iter().map(|&(lon, lat)| Point { lon, lat }).collect();
    let area = Area::new(vec![
        Polygon {
            exterior: ring(&[
                (40.0, 30.0),
                (44.0, 30.0),
                (44.0, 34.0),
                (40.0, 34.0),
                (40.0, 30.0),
            ]),
            holes: vec![ring(&[
                (41.0, 31.0),
                (41.0, 33.0),
                (43.0, 33.0),
                (43.0, 31.0),
                (41.0, 31.0),
            ])],
        },
        Polygon {
            exterior: ring(&[(50.0, 30.0), (52.0, 30.0), (51.0, 32.0), (50.0, 30.0)]),
            holes: vec![],
        },
    ])
    .unwrap();
    let on_boundary = [
        (40.0, 30.0), // exterior vertex
        (44.0, 32.0), // exterior edge (vertical)
        (42.0, 34.0), // exterior edge (horizontal)
        (41.0, 31.0), // hole vertex
        (41.0, 32.0), // hole edge (vertical)
        (42.0, 33.0), // hole edge (horizontal)
        (51.0, 32.0), // second polygon's apex
        (50.5, 31.0), // second polygon's sloping edge, exactly
    ];
    for (lon, lat) in on_boundary {
        let p = Point { lon, lat };
        assert!(area.contains(p), "{p} is on the boundary");
        assert!(area.distance_km(p) == 0.0, "{p}");
    }
    assert!(area.contains(at(30.5, 40.5)), "between exterior and hole");
    assert!(area.contains(at(31.0, 51.0)), "inside the second polygon");
    let hole = at(32.0, 42.0);
    assert!(!area.contains(hole), "the middle of the hole is outside");
    // 1° of longitude from the hole's meridian edges at 32° N: asin(cos 32° · sin 1°) · R.
    let reference = (32f64.to_radians().cos() * 1f64.to_radians().sin()).asin() * EARTH_RADIUS_KM;
    assert!((area.distance_km(hole) - reference).abs() < 1e-9 * reference);
    assert!(
        !area.contains(at(31.0, 50.2)),
        "beside the second polygon's slope"
    );
    assert!(
        !area.contains(at(30.0, 47.0)),
        "between the polygons, on their latitude"
    );
}

#[test]
fn real_holes_and_second_parts() {
    // Points in Armenia's two holes, the Azerbaijani exclaves (shapely representative points).
    let (armenia, azerbaijan) = (country("ARM"), country("AZE"));
    for exclave in [
        at(41.053102519, 44.995435799),
        at(40.986439922, 45.194727437),
    ] {
        assert!(
            !armenia.contains(exclave),
            "{exclave} is in a hole of Armenia"
        );
        assert!(armenia.distance_km(exclave) > 0.0);
        assert!(
            azerbaijan.contains(exclave),
            "{exclave} is in a part of Azerbaijan"
        );
    }
    // Edirne, in Turkey's European part: not its first polygon.
    let edirne = at(41.6772, 26.5557);
    let polygons = country_polygons("TUR");
    assert!(!Area::new(polygons[..1].to_vec()).unwrap().contains(edirne));
    assert!(country("TUR").contains(edirne));
}

#[test]
fn the_strip_on_iraqs_side() {
    let line = Rc::new(border("IRQ", "TUR"));
    let iraq = Rc::new(country("IRQ"));
    let strip = Strip::new(line.clone(), 30.0, Some(iraq.clone())).unwrap();
    let both_sides = Strip::new(line.clone(), 30.0, None).unwrap();
    // 10 km either side of the middle of segment 40, perpendicular to it (Geodesic.WGS84.Direct;
    // shapely puts the first in Turkey, the second in Iraq).
    let turkish_side = at(37.401285570, 44.097349864);
    let iraqi_side = at(37.223597840, 44.059756584);
    assert_close("Turkish side", line.distance_km(turkish_side), 10.0000);
    assert_close("Iraqi side", line.distance_km(iraqi_side), 9.9379);
    assert!(!strip.contains(turkish_side));
    assert!(strip.contains(iraqi_side));
    assert!(both_sides.contains(turkish_side) && both_sides.contains(iraqi_side));
    // Outside the strip beyond the border: the distance to Iraq (exact here).
    assert_close("to the strip", strip.distance_km(turkish_side), 10.0000);
    assert_eq!(strip.distance_km(iraqi_side), 0.0);

    for place in [ZAKHO, METINA, HAFTANIN] {
        assert!(strip.contains(place), "{place}");
        assert_eq!(strip.distance_km(place), 0.0);
    }
    assert!(
        !strip.contains(CUKURCA),
        "2 km from the line, but in Turkey"
    );
    assert!(both_sides.contains(CUKURCA));
    // Inside Iraq beyond the width: line distance minus the width.
    assert!(!strip.contains(ERBIL));
    assert_close("Erbil", strip.distance_km(ERBIL), 90.5384 - 30.0);
    assert_close("Erbil", both_sides.distance_km(ERBIL), 90.5384 - 30.0);
    // In Iran and 70 km from the line: the larger of the two shortfalls.
    assert_close("Qandil", strip.distance_km(QANDIL), 69.7587 - 30.0);
    assert!(!strip.contains(LONDON));
    assert_close("London", strip.distance_km(LONDON), 3657.5025);
    // A strip limited to an area it never reaches is empty.
    let far = Rc::new(country("SAU"));
    let empty = Strip::new(line, 30.0, Some(far)).unwrap();
    assert!(!empty.contains(ZAKHO) && empty.distance_km(ZAKHO) > 100.0);
}

#[test]
fn indexes_agree_with_scanning_everything() {
    let line = border("IRQ", "TUR");
    let iraq_polygons = country_polygons("IRQ");
    let iraq = Area::new(iraq_polygons.clone()).unwrap();
    let rings: Vec<Vec<Point>> = iraq_polygons
        .iter()
        .flat_map(|p| std::iter::once(p.exterior.clone()).chain(p.holes.clone()))
        .collect();
    let strip = Strip::new(Rc::new(line.clone()), 30.0, None).unwrap();
    let mut points = Points(0x9e37_79b9_7f4a_7c15);
    for i in 0..20_000 {
        let p = if i % 10 == 0 {
            points.within(-180.0, -90.0, 180.0, 90.0)
        } else {
            points.within(38.0, 28.0, 49.0, 39.0)
        };
        assert_eq!(iraq.contains(p), super::bands::brute(&rings, p), "{p}");
        let d = line.distance_km(p);
        assert_eq!(d, line.scan_distance_km(p), "{p}");
        for km in [0.5, 5.0, 30.0, 300.0] {
            assert_eq!(line.within_km(p, km), d <= km, "{p} {km}");
        }
        // At the threshold itself, and one step below it, the fast test agrees exactly.
        assert!(line.within_km(p, d), "{p}");
        assert!(!line.within_km(p, d.next_down()), "{p}");
        assert_eq!(strip.contains(p), d <= 30.0, "{p}");
    }
}

#[test]
fn arcs_over_the_antimeridian_and_near_the_pole() {
    let line = Line::new(vec![
        vec![at(10.0, 179.5), at(10.0, -179.5)],
        vec![at(60.0, 0.0), at(60.0, 179.0)],
    ])
    .unwrap();
    let mut points = Points(42);
    for _ in 0..5_000 {
        let p = points.within(-180.0, -90.0, 180.0, 90.0);
        let d = line.distance_km(p);
        assert_eq!(d, line.scan_distance_km(p), "{p}");
        assert!(
            line.within_km(p, d) && !line.within_km(p, d.next_down()),
            "{p}"
        );
    }
    // Across the antimeridian, north of the arc's middle, which bulges to the latitude where
    // tan φ = tan 10° / cos 0.5° (Napier's rule for the right spherical triangle).
    let d = line.distance_km(at(10.1, 180.0));
    let middle = (10f64.to_radians().tan() / 0.5f64.to_radians().cos()).atan();
    let reference = (10.1f64.to_radians() - middle) * EARTH_RADIUS_KM;
    assert!((d - reference).abs() < 1e-9, "{d} {reference}");
    // The polar arc's middle, at 89.5° E, lies where tan φ = tan 60° / cos 89.5° (≈ 89.71° N),
    // far north of its ends: its R-tree box must reach up there.
    let apex = (60f64.to_radians().tan() / 89.5f64.to_radians().cos()).atan();
    let reference = (apex - 89.4f64.to_radians()) * EARTH_RADIUS_KM;
    let d = line.distance_km(at(89.4, 89.5));
    assert!((d - reference).abs() < 1e-6, "{d} {reference}");
}

#[test]
fn invalid_geometry_is_refused_with_a_reason() {
    let p = |lon, lat| Point { lon, lat };
    let square = vec![
        p(0.0, 0.0),
        p(1.0, 0.0),
        p(1.0, 1.0),
        p(0.0, 1.0),
        p(0.0, 0.0),
    ];
    let polygon = |exterior: Vec<Point>, holes| Polygon { exterior, holes };

    let unclosed = Area::new(vec![polygon(
        square.clone(),
        vec![vec![p(0.1, 0.1), p(0.2, 0.1), p(0.2, 0.2), p(0.3, 0.1)]],
    )]);
    assert_eq!(
        unclosed.unwrap_err().to_string(),
        "ring 2 (hole 1) of polygon 1 is not closed: first point (0.1, 0.1) ≠ last (0.3, 0.1); a ring must end on the point it starts from"
    );
    let triangle = Area::new(vec![
        polygon(square.clone(), vec![]),
        polygon(vec![p(0.0, 0.0), p(1.0, 0.0), p(0.0, 0.0)], vec![]),
    ]);
    assert_eq!(
        triangle.unwrap_err(),
        GeometryError::TooFewPoints {
            at: Part::Ring {
                polygon: 2,
                ring: 1
            },
            found: 3,
            needed: 4
        }
    );
    let mut far_north = square.clone();
    far_north[2] = p(1.0, 90.5);
    assert_eq!(
        Area::new(vec![polygon(far_north, vec![])])
            .unwrap_err()
            .to_string(),
        "point 3 of ring 1 (the exterior) of polygon 1: latitude 90.5 is outside -90 to 90"
    );
    assert!(matches!(
        Line::new(vec![vec![p(0.0, 0.0), p(f64::NAN, 1.0)]]),
        Err(GeometryError::OutOfRange {
            coordinate: Coordinate::Longitude,
            index: 2,
            ..
        })
    ));
    assert!(matches!(
        Line::new(vec![vec![p(0.0, 0.0), p(180.5, 1.0)]]),
        Err(GeometryError::OutOfRange { .. })
    ));
    assert_eq!(
        Line::new(vec![vec![p(0.0, 0.0), p(1.0, 1.0)], vec![p(2.0, 2.0)]])
            .unwrap_err()
            .to_string(),
        "part 2 of the line has 1 point; it needs at least 2"
    );
    assert_eq!(
        Line::new(vec![]).unwrap_err().to_string(),
        "the line is empty: give at least one part of two or more points"
    );
    assert_eq!(
        Area::new(vec![]).unwrap_err().to_string(),
        "the area is empty: give at least one polygon"
    );
    assert_eq!(
        Line::new(vec![vec![p(0.0, 0.0), p(10.0, 10.0), p(-170.0, -10.0)]])
            .unwrap_err()
            .to_string(),
        "points 2 and 3 of part 1 of the line are antipodal, so the segment between them could run anywhere: add a point between them"
    );
    let line = Rc::new(Line::new(vec![vec![p(0.0, 0.0), p(1.0, 1.0)]]).unwrap());
    for width in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            Strip::new(line.clone(), width, None),
            Err(GeometryError::InvalidWidth { .. })
        ));
    }
    assert_eq!(
        Strip::new(line, -1.0, None).unwrap_err().to_string(),
        "a strip's width must be a positive number of kilometres, not -1"
    );
    assert!(Point::new(44.0, 36.0).is_ok());
    assert!(Point::new(44.0, -90.5).is_err() && Point::new(f64::INFINITY, 0.0).is_err());
}

#[test]
fn points_that_are_not_numbers_are_nowhere() {
    let line = Rc::new(border("IRQ", "TUR"));
    let iraq = Rc::new(country("IRQ"));
    let strip = Strip::new(line.clone(), 30.0, Some(iraq.clone())).unwrap();
    for p in [
        at(f64::NAN, 44.0),
        at(37.0, f64::NAN),
        at(f64::INFINITY, 44.0),
    ] {
        assert!(!iraq.contains(p) && !strip.contains(p) && !line.within_km(p, 1e9));
        assert!(line.distance_km(p).is_nan() && iraq.distance_km(p).is_nan());
        assert!(strip.distance_km(p).is_nan());
    }
}
