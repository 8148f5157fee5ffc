//! Geometry throughput: `cargo bench --bench geometry [-- POINTS]`.
//!
//! Builds the shapes a border rule uses from the shipped Natural Earth files (`rules/geo/`):
//! Iraq (one ring of 841 points), the Iraq–Turkey line (103 points) and the strip of 30 km
//! along it on Iraq's side; then times each test over the same deterministic pseudo-random
//! points (1,000,000 by default), on one thread, and prints tests per second.
//!
//! The points are what an event log of the region looks like: 85 % in the box of northern
//! Iraq, south-east Türkiye and north-west Iran (41–47° E, 35–39.5° N), 15 % anywhere between
//! 60° S and 75° N. Each test runs three times and the best run is reported, so that a
//! neighbour's burst of work on a shared machine does not count against it. Then the same
//! points are moved into the strip's box, where no test is decided by a box alone.

// A benchmark over data it ships: a failed setup is a bug in the benchmark, and a panic is
// the right report of it.
#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

use pactum::geo::{Area, Line, Point, Strip, features};

const BORDERS: &str = include_str!("../rules/geo/borders.geojson");
const COUNTRIES: &str = include_str!("../rules/geo/countries.geojson");

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn points(n: usize) -> Vec<Point> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    (0..n)
        .map(|_| {
            let (a, b) = (rng.unit(), rng.unit());
            if rng.unit() < 0.85 {
                Point {
                    lon: 41.0 + 6.0 * a,
                    lat: 35.0 + 4.5 * b,
                }
            } else {
                Point {
                    lon: -180.0 + 360.0 * a,
                    lat: -60.0 + 135.0 * b,
                }
            }
        })
        .collect()
}

/// Runs `test` over every point three times; prints the best rate and how often it held.
fn measure(name: &str, points: &[Point], mut test: impl FnMut(Point) -> f64) {
    let mut best = f64::INFINITY;
    let mut sum = 0.0;
    for _ in 0..3 {
        let start = Instant::now();
        sum = 0.0;
        for p in points {
            sum += test(black_box(*p));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{name:<36} {:>6.2} M tests/s  ({:>6.1} ns/test; sum of results {sum:.1})",
        points.len() as f64 / best / 1e6,
        best * 1e9 / points.len() as f64,
    );
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let border = features(BORDERS)
        .expect("borders.geojson")
        .into_iter()
        .find(|f| {
            f.properties.get("a").is_some_and(|a| a == "IRQ")
                && f.properties.get("b").is_some_and(|b| b == "TUR")
        })
        .expect("the IRQ-TUR line");
    let iraq = features(COUNTRIES)
        .expect("countries.geojson")
        .into_iter()
        .find(|f| f.properties.get("ISO_A3").is_some_and(|iso| iso == "IRQ"))
        .expect("Iraq");
    let line = Rc::new(Line::try_from(border.geometry).expect("a line"));
    let iraq = Rc::new(Area::try_from(iraq.geometry).expect("an area"));
    let strip = Strip::new(line.clone(), 30.0, Some(iraq.clone())).expect("a strip");
    let points = points(n);
    println!("{n} points; one thread");
    let yes = |b: bool| if b { 1.0 } else { 0.0 };
    measure("Area::contains (Iraq)", &points, |p| yes(iraq.contains(p)));
    measure("Strip::contains (30 km, in Iraq)", &points, |p| {
        yes(strip.contains(p))
    });
    measure("Line::within_km (IRQ-TUR, 30 km)", &points, |p| {
        yes(line.within_km(p, 30.0))
    });
    measure("Line::distance_km (IRQ-TUR)", &points, |p| {
        line.distance_km(p)
    });
    measure("Area::distance_km (Iraq)", &points, |p| iraq.distance_km(p));
    // The hardest case for the strip: every point inside its box, none rejected for free.
    let near: Vec<Point> = points
        .iter()
        .map(|p| Point {
            lon: 42.0 + (p.lon + 180.0) % 1.0 * 3.2,
            lat: 36.6 + (p.lat + 90.0) % 1.0 * 1.1,
        })
        .collect();
    println!("the same points moved into the strip's box (42-45.2° E, 36.6-37.7° N):");
    measure("Strip::contains (30 km, in Iraq)", &near, |p| {
        yes(strip.contains(p))
    });
    measure("Area::contains (Iraq)", &near, |p| yes(iraq.contains(p)));
    measure("Line::distance_km (IRQ-TUR)", &near, |p| {
        line.distance_km(p)
    });
}
