//! Distances on the sphere: segments as great-circle arcs, and an R-tree to find the few arcs
//! near a point.
//!
//! Points become unit vectors, so the distance to an arc is a handful of dot products: the
//! cross-track distance when the point's foot on the arc's great circle lies within the arc,
//! else the distance to the nearer end. Everything that does not depend on the query point
//! (the circle's normal, the two planes bounding the arc) is computed once per arc.
//!
//! Distances are compared as squared chord lengths, `|p − q|²` between unit vectors, which
//! grow with the angle and need no trigonometry; one `asin` at the end turns the smallest into
//! kilometres. Near a point every formula here keeps full relative precision: no `acos` of a
//! number close to 1, no `1 − cos` of a small angle.
//!
//! The R-tree holds each arc's box in 3-space, not in degrees. Chord length is the straight
//! distance there, so the distance to a box is a true lower bound of the distance to its arcs:
//! the tree's nearest-neighbour search is exact, a query within a radius is a cube, and there
//! is nothing special about the poles or the antimeridian. Boxes in degrees are still made,
//! once, for the cheap first rejection a strip or an area does before any trigonometry.

use std::ops::ControlFlow;

use rstar::{AABB, Envelope, PointDistance, RTree, RTreeObject};

use super::error::{GeometryError, Part};
use super::{EARTH_RADIUS_KM, Point};

/// Padding of every box in degrees (about 0.1 mm), and in 3-space (as a fraction of the
/// Earth's radius, about 6 µm): covers rounding, so that a box computed for a distance never
/// excludes an arc whose computed distance is within it.
const PAD_DEG: f64 = 1e-9;
const PAD_UNIT: f64 = 1e-12;

/// Below this `|a × b|` (the sine of the angle, about 6 µm on the Earth) an arc is treated as
/// the point it is.
const DEGENERATE: f64 = 1e-12;

/// A vector in 3-space; unit vectors stand for points on the sphere.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Vec3 {
    x: f64,
    y: f64,
    z: f64,
}

impl Vec3 {
    fn dot(self, o: Vec3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    fn cross(self, o: Vec3) -> Vec3 {
        Vec3 {
            x: self.y * o.z - self.z * o.y,
            y: self.z * o.x - self.x * o.z,
            z: self.x * o.y - self.y * o.x,
        }
    }
    fn add(self, o: Vec3) -> Vec3 {
        Vec3 {
            x: self.x + o.x,
            y: self.y + o.y,
            z: self.z + o.z,
        }
    }
    fn sub(self, o: Vec3) -> Vec3 {
        Vec3 {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
    fn scale(self, k: f64) -> Vec3 {
        Vec3 {
            x: self.x * k,
            y: self.y * k,
            z: self.z * k,
        }
    }
    fn norm2(self) -> f64 {
        self.dot(self)
    }
}

/// The unit vector of a point (x towards 0° E on the equator, z towards the north pole).
pub(super) fn unit(p: Point) -> Vec3 {
    let (slat, clat) = p.lat.to_radians().sin_cos();
    let (slon, clon) = p.lon.to_radians().sin_cos();
    Vec3 {
        x: clat * clon,
        y: clat * slon,
        z: slat,
    }
}

/// Squared chord between two points at `angle` radians (clamped to 0..π, where the chord is
/// monotonic).
pub(super) fn angle_to_chord2(angle: f64) -> f64 {
    let half = 2.0 * (angle.clamp(0.0, std::f64::consts::PI) / 2.0).sin();
    half * half
}

/// Kilometres along the sphere between two points whose squared chord is `chord2`.
pub(super) fn chord2_to_km(chord2: f64) -> f64 {
    2.0 * (chord2.max(0.0).sqrt() / 2.0).min(1.0).asin() * EARTH_RADIUS_KM
}

/// The half-sizes in degrees of a box around a point at latitude `lat` that holds every point
/// within `angle` radians of it, or `None` for longitude when the box must span the globe.
fn reach(lat: f64, angle: f64) -> (f64, Option<f64>) {
    let dlat = angle.to_degrees() * (1.0 + 1e-9) + PAD_DEG;
    if angle >= std::f64::consts::FRAC_PI_2 || lat.abs() + dlat >= 90.0 {
        // The cap holds a pole (or nearly): every longitude.
        return (dlat, None);
    }
    // The widest longitude offset of a cap of radius δ centred at latitude φ satisfies
    // sin Δλ = sin δ / cos φ; the cap stops short of the pole here, so the ratio is below 1.
    let ratio = angle.sin() / lat.to_radians().cos();
    if ratio.is_nan() || ratio >= 1.0 {
        return (dlat, None);
    }
    (
        dlat,
        Some(ratio.asin().to_degrees() * (1.0 + 1e-9) + PAD_DEG),
    )
}

/// One segment, prepared: a minor great-circle arc from `a` to `b`.
#[derive(Debug, Clone)]
pub(super) struct Arc {
    a: Vec3,
    b: Vec3,
    /// Unit normal of the arc's great circle (`a × b`, normalised).
    n: Vec3,
    /// `p·ta ≥ 0 && p·tb ≥ 0` exactly when the foot of `p` on the circle lies within the arc.
    ta: Vec3,
    tb: Vec3,
    /// Both ends (nearly) the same point: measured as a point.
    point: bool,
    /// Holds every point of the arc, in 3-space.
    envelope: AABB<[f64; 3]>,
    /// Holds every point of the arc, in degrees (longitude, latitude).
    degrees: AABB<[f64; 2]>,
}

impl Arc {
    fn new(pa: Point, pb: Point) -> Result<Arc, ()> {
        let a = unit(pa);
        let b = unit(pb);
        // (a + b) × (b − a) = 2 a × b, but keeps its precision when a and b are close.
        let axb = a.add(b).cross(b.sub(a)).scale(0.5);
        let sin = axb.norm2().sqrt();
        let point = sin < DEGENERATE;
        if point && a.dot(b) < 0.0 {
            return Err(());
        }
        let (n, ta, tb) = if point {
            let zero = Vec3 {
                x: 0.0,
                y: 0.0,
                z: 0.0,
            };
            (zero, zero, zero)
        } else {
            let n = axb.scale(1.0 / sin);
            (n, n.cross(a), b.cross(n))
        };
        let mut south = pa.lat.min(pb.lat);
        let mut north = pa.lat.max(pb.lat);
        if !point {
            // The circle's highest latitude is reached at the foot of the north pole; it
            // bounds the arc only if that foot lies within the arc (ta·ẑ ≥ 0, tb·ẑ ≥ 0).
            let apex = n.z.abs().min(1.0).acos().to_degrees();
            if ta.z >= 0.0 && tb.z >= 0.0 {
                north = north.max(apex);
            }
            if ta.z <= 0.0 && tb.z <= 0.0 {
                south = south.min(-apex);
            }
        }
        // A minor arc spans the shorter longitude interval between its ends; one that crosses
        // the antimeridian or passes a pole gets every longitude (rare, and only costs speed).
        let (west, east) = if (pa.lon - pb.lon).abs() > 180.0
            || north + PAD_DEG >= 90.0
            || south - PAD_DEG <= -90.0
        {
            (-180.0, 180.0)
        } else {
            (pa.lon.min(pb.lon), pa.lon.max(pb.lon))
        };
        let degrees = AABB::from_corners(
            [west - PAD_DEG, south - PAD_DEG],
            [east + PAD_DEG, north + PAD_DEG],
        );
        // The arc's points are the points m/|m| of the chord from a to b, and |m| is at least
        // cos(θ/2) for an arc of angle θ: each lies within 1 − cos(θ/2) of the chord, so the
        // chord's box widened by that holds the arc.
        let quarter = b.sub(a).norm2() / 4.0; // sin²(θ/2)
        let bulge = quarter / (1.0 + (1.0 - quarter).max(0.0).sqrt()) + PAD_UNIT;
        let envelope = AABB::from_corners(
            [
                a.x.min(b.x) - bulge,
                a.y.min(b.y) - bulge,
                a.z.min(b.z) - bulge,
            ],
            [
                a.x.max(b.x) + bulge,
                a.y.max(b.y) + bulge,
                a.z.max(b.z) + bulge,
            ],
        );
        Ok(Arc {
            a,
            b,
            n,
            ta,
            tb,
            point,
            envelope,
            degrees,
        })
    }

    /// Squared chord from `p` to the nearest point of the arc.
    #[inline]
    fn chord2(&self, p: Vec3) -> f64 {
        if !self.point && p.dot(self.ta) >= 0.0 && p.dot(self.tb) >= 0.0 {
            // s is the sine of the cross-track angle θ (≤ 90°); chord² = 2(1 − cos θ),
            // written as 2 s² / (1 + cos θ) to keep its precision for small θ.
            let s2 = {
                let s = p.dot(self.n);
                (s * s).min(1.0)
            };
            2.0 * s2 / (1.0 + (1.0 - s2).sqrt())
        } else {
            p.sub(self.a).norm2().min(p.sub(self.b).norm2())
        }
    }
}

impl RTreeObject for Arc {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Arc {
    /// The exact squared chord from a unit vector to the arc.
    fn distance_2(&self, point: &[f64; 3]) -> f64 {
        let [x, y, z] = *point;
        self.chord2(Vec3 { x, y, z })
    }
}

/// A distance threshold, prepared: kilometres and the chords around them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Radius {
    km: f64,
    /// Half the side of the query cube: the chord of `km`, a little more for rounding.
    reach: f64,
    /// Below this squared chord a point is certainly within `km`, whatever the rounding of the
    /// conversion back to kilometres.
    sure: f64,
}

impl Radius {
    /// A radius of `km`.
    pub(super) fn new(km: f64) -> Radius {
        let chord2 = angle_to_chord2(km / EARTH_RADIUS_KM);
        Radius {
            km,
            reach: chord2.sqrt() * (1.0 + 1e-9) + PAD_UNIT,
            sure: chord2 * (1.0 - 1e-9),
        }
    }
}

/// The segments of a line or of an area's rings, indexed.
#[derive(Debug, Clone)]
pub(super) struct Arcs {
    tree: RTree<Arc>,
    /// The box of all arcs in degrees.
    degrees: AABB<[f64; 2]>,
}

impl Arcs {
    /// Arcs joining consecutive points of each part (at least one part of two points); `at`
    /// names a part for errors.
    pub(super) fn new<'a>(
        parts: impl Iterator<Item = (Part, &'a [Point])>,
    ) -> Result<Arcs, GeometryError> {
        let mut arcs = Vec::new();
        for (at, points) in parts {
            for (i, pair) in points.windows(2).enumerate() {
                if let [a, b] = pair {
                    arcs.push(
                        Arc::new(*a, *b)
                            .map_err(|()| GeometryError::AntipodalSegment { at, index: i + 1 })?,
                    );
                }
            }
        }
        let degrees = arcs
            .iter()
            .map(|arc| arc.degrees)
            .reduce(|a, b| a.merged(&b))
            .unwrap_or_else(|| AABB::from_point([f64::NAN, f64::NAN]));
        Ok(Arcs {
            tree: RTree::bulk_load(arcs),
            degrees,
        })
    }

    /// The box of all arcs, in degrees (of NaN, holding nothing, when there are none).
    pub(super) fn bounds(&self) -> AABB<[f64; 2]> {
        self.degrees
    }

    /// Kilometres from `p` to the nearest point of any arc (infinite when there is none).
    pub(super) fn distance_km(&self, p: Point) -> f64 {
        if !(p.lon.is_finite() && p.lat.is_finite()) {
            return f64::NAN;
        }
        let v = unit(p);
        self.tree
            .nearest_neighbor_with_distance_2([v.x, v.y, v.z])
            .map_or(f64::INFINITY, |(_, chord2)| chord2_to_km(chord2))
    }

    /// Whether `p` is within `radius` of an arc, exactly as `distance_km(p) <= radius.km`.
    pub(super) fn within(&self, p: Point, radius: &Radius) -> bool {
        if !(p.lon.is_finite() && p.lat.is_finite() && radius.km >= 0.0) {
            return false;
        }
        let v = unit(p);
        let r = radius.reach;
        let cube = AABB::from_corners([v.x - r, v.y - r, v.z - r], [v.x + r, v.y + r, v.z + r]);
        let mut best = f64::INFINITY;
        let found = self.tree.locate_in_envelope_intersecting_int(cube, |arc| {
            let c = arc.chord2(v);
            if c < radius.sure {
                return ControlFlow::Break(());
            }
            best = best.min(c);
            ControlFlow::Continue(())
        });
        // Near the threshold decide with the very conversion `distance_km` uses, so both agree.
        found.is_break() || chord2_to_km(best) <= radius.km
    }

    /// The distance found by measuring every arc: the reference the R-tree search must match.
    #[cfg(test)]
    pub(super) fn scan_distance_km(&self, p: Point) -> f64 {
        let v = unit(p);
        chord2_to_km(
            self.tree
                .iter()
                .map(|a| a.chord2(v))
                .fold(f64::INFINITY, f64::min),
        )
    }
}

/// The box of the points within `km` of any point of `bounds`, in degrees.
pub(super) fn widen(bounds: &AABB<[f64; 2]>, km: f64) -> AABB<[f64; 2]> {
    let [west, south] = bounds.lower();
    let [east, north] = bounds.upper();
    let (dlat, dlon) = reach(south.abs().max(north.abs()), km / EARTH_RADIUS_KM);
    let (south, north) = ((south - dlat).max(-90.0), (north + dlat).min(90.0));
    match dlon {
        Some(d) if west - d >= -180.0 && east + d <= 180.0 => {
            AABB::from_corners([west - d, south], [east + d, north])
        }
        _ => AABB::from_corners([-180.0, south], [180.0, north]),
    }
}

/// Whether two boxes overlap; their intersection, if so.
pub(super) fn intersect(a: &AABB<[f64; 2]>, b: &AABB<[f64; 2]>) -> Option<AABB<[f64; 2]>> {
    let ([aw, as_], [ae, an]) = (a.lower(), a.upper());
    let ([bw, bs], [be, bn]) = (b.lower(), b.upper());
    let (w, s, e, n) = (aw.max(bw), as_.max(bs), ae.min(be), an.min(bn));
    (w <= e && s <= n).then(|| AABB::from_corners([w, s], [e, n]))
}

/// Whether a box holds a point (edges included).
#[inline]
pub(super) fn holds(b: &AABB<[f64; 2]>, p: Point) -> bool {
    let ([w, s], [e, n]) = (b.lower(), b.upper());
    p.lon >= w && p.lon <= e && p.lat >= s && p.lat <= n
}
