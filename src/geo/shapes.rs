//! The prepared shapes rules ask about: lines (borders), areas (countries) and strips (the
//! land within some kilometres of a border, optionally on one side of it).
//!
//! Each is validated and indexed once, when built, so that the questions asked per event —
//! is this point inside, how far is it — cost a box test and a few edges. A shape is immutable
//! after construction; a strip shares its line and area through `Rc` rather than copying them.

use std::rc::Rc;

use rstar::AABB;

use super::Point;
use super::bands::Bands;
use super::error::{Coordinate, GeometryError, Part};
use super::sphere::{self, Arcs, Radius};

/// Checks that a point's coordinates are finite and in range.
pub(super) fn check_point(p: Point, at: Part, index: usize) -> Result<(), GeometryError> {
    if !(p.lon >= -180.0 && p.lon <= 180.0) {
        return Err(GeometryError::OutOfRange {
            at,
            index,
            coordinate: Coordinate::Longitude,
            value: p.lon,
        });
    }
    if !(p.lat >= -90.0 && p.lat <= 90.0) {
        return Err(GeometryError::OutOfRange {
            at,
            index,
            coordinate: Coordinate::Latitude,
            value: p.lat,
        });
    }
    Ok(())
}

fn check_points(points: &[Point], at: Part, needed: usize) -> Result<(), GeometryError> {
    if points.len() < needed {
        return Err(GeometryError::TooFewPoints {
            at,
            found: points.len(),
            needed,
        });
    }
    for (i, p) in points.iter().enumerate() {
        check_point(*p, at, i + 1)?;
    }
    Ok(())
}

/// A line of one or more parts (a LineString or MultiLineString), prepared for distances.
///
/// Each segment is the shorter great-circle arc between its two points.
#[derive(Debug, Clone)]
pub struct Line {
    arcs: Arcs,
}

impl Line {
    /// Validates and indexes a line: at least one part, each of at least 2 points, every
    /// coordinate in range, no two consecutive points antipodal.
    pub fn new(parts: Vec<Vec<Point>>) -> Result<Line, GeometryError> {
        if parts.is_empty() {
            return Err(GeometryError::Empty {
                shape: "line",
                needs: "part of two or more points",
            });
        }
        let labelled = || {
            parts
                .iter()
                .enumerate()
                .map(|(i, part)| (Part::Line { part: i + 1 }, part.as_slice()))
        };
        for (at, points) in labelled() {
            check_points(points, at, 2)?;
        }
        Ok(Line {
            arcs: Arcs::new(labelled())?,
        })
    }

    /// Great-circle kilometres from `p` to the nearest point of the line; NaN for a point with
    /// a non-finite coordinate.
    pub fn distance_km(&self, p: Point) -> f64 {
        self.arcs.distance_km(p)
    }

    /// Whether `p` is within `km` of the line: the same answer as `distance_km(p) <= km`,
    /// found faster (only the segments near `p` are measured, and it stops at the first
    /// segment close enough).
    pub fn within_km(&self, p: Point, km: f64) -> bool {
        self.arcs.within(p, &Radius::new(km))
    }

    fn bounds(&self) -> AABB<[f64; 2]> {
        self.arcs.bounds()
    }

    /// The distance found by measuring every segment (for tests of the index).
    #[cfg(test)]
    pub(super) fn scan_distance_km(&self, p: Point) -> f64 {
        self.arcs.scan_distance_km(p)
    }
}

/// One polygon: an exterior ring and any holes, each closed (first point = last point).
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    /// The outer boundary.
    pub exterior: Vec<Point>,
    /// Areas cut out of it.
    pub holes: Vec<Vec<Point>>,
}

impl Polygon {
    fn rings(&self) -> impl Iterator<Item = &[Point]> + Clone {
        std::iter::once(self.exterior.as_slice()).chain(self.holes.iter().map(Vec::as_slice))
    }
}

/// An area of one or more polygons with holes (a Polygon or MultiPolygon), prepared for
/// containment and distance.
///
/// Containment is decided in the plane of longitude and latitude (edges straight in degrees,
/// as GeoJSON defines them); distance to the boundary treats each edge as a great-circle arc.
/// The two differ by less than a metre for edges of a few kilometres, as in Natural Earth's
/// 1:10m borders (see the module documentation).
#[derive(Debug, Clone)]
pub struct Area {
    polygons: Vec<Bands>,
    bounds: AABB<[f64; 2]>,
    boundary: Arcs,
}

impl Area {
    /// Validates and indexes an area: at least one polygon; every ring closed, of at least 4
    /// points (the first repeated at the end), coordinates in range, no two consecutive points
    /// antipodal. Holes are taken to lie inside their exterior and rings not to cross, as
    /// GeoJSON requires; that is not checked.
    pub fn new(polygons: Vec<Polygon>) -> Result<Area, GeometryError> {
        if polygons.is_empty() {
            return Err(GeometryError::Empty {
                shape: "area",
                needs: "polygon",
            });
        }
        let labelled = || {
            polygons.iter().enumerate().flat_map(|(i, polygon)| {
                polygon.rings().enumerate().map(move |(j, ring)| {
                    (
                        Part::Ring {
                            polygon: i + 1,
                            ring: j + 1,
                        },
                        ring,
                    )
                })
            })
        };
        for (at, ring) in labelled() {
            check_points(ring, at, 4)?;
            if let (Some(first), Some(last)) = (ring.first(), ring.last())
                && first != last
            {
                return Err(GeometryError::UnclosedRing {
                    at,
                    first: *first,
                    last: *last,
                });
            }
        }
        let boundary = Arcs::new(labelled())?;
        Ok(Area {
            polygons: polygons.iter().map(|p| Bands::new(p.rings())).collect(),
            bounds: boundary.bounds(),
            boundary,
        })
    }

    /// Whether the area holds `p`. The area is a closed set: a point exactly on an edge or a
    /// vertex of any ring — the exterior or a hole — is inside; a point strictly inside a hole
    /// is outside. "Exactly" is decided without rounding, in degrees. A point with a
    /// non-finite coordinate is outside.
    pub fn contains(&self, p: Point) -> bool {
        sphere::holds(&self.bounds, p) && self.polygons.iter().any(|bands| bands.contains(p))
    }

    /// 0 for a point the area contains, else the great-circle kilometres to the nearest point
    /// of its boundary; NaN for a point with a non-finite coordinate.
    pub fn distance_km(&self, p: Point) -> f64 {
        if self.contains(p) {
            0.0
        } else {
            self.boundary.distance_km(p)
        }
    }
}

/// The points within a width of a line, and, if given, also inside an area: "the strip of
/// 30 km along the Iraq–Turkey border on Iraq's side".
#[derive(Debug, Clone)]
pub struct Strip {
    line: Rc<Line>,
    width_km: f64,
    inside: Option<Rc<Area>>,
    /// A box holding the whole strip, in degrees; `None` when the strip is empty.
    bounds: Option<AABB<[f64; 2]>>,
    /// The width, prepared for points within `bounds`.
    radius: Radius,
}

impl Strip {
    /// A strip of `width_km` (positive, finite) along `line`, limited to `inside` if given.
    pub fn new(
        line: Rc<Line>,
        width_km: f64,
        inside: Option<Rc<Area>>,
    ) -> Result<Strip, GeometryError> {
        if !(width_km > 0.0 && width_km.is_finite()) {
            return Err(GeometryError::InvalidWidth { width_km });
        }
        let near = sphere::widen(&line.bounds(), width_km);
        let bounds = match &inside {
            Some(area) => sphere::intersect(&near, &area.bounds),
            None => Some(near),
        };
        Ok(Strip {
            radius: Radius::new(width_km),
            line,
            width_km,
            inside,
            bounds,
        })
    }

    /// Whether `p` is within the width of the line (`line.distance_km(p) <= width`, exactly as
    /// [`Line::within_km`] decides it) and, if the strip has an area, inside it (boundary
    /// included, as [`Area::contains`]).
    pub fn contains(&self, p: Point) -> bool {
        let Some(bounds) = &self.bounds else {
            return false;
        };
        // The area test needs no trigonometry, so it goes first.
        sphere::holds(bounds, p)
            && self.inside.as_ref().is_none_or(|area| area.contains(p))
            && self.line.arcs.within(p, &self.radius)
    }

    /// 0 for a point in the strip; otherwise `max(line distance − width, area distance)` in
    /// kilometres, where the area distance is [`Area::distance_km`] (0 without an area).
    ///
    /// Without an area this is exactly the distance to the strip. With one it is a lower
    /// bound (no point of the strip is nearer), and exact in the cases a border strip meets:
    /// a point beyond the border, whose nearest point of the area is on the border and so in
    /// the strip; and a point inside the area farther than the width, whose shortest way to
    /// the line stays inside the area. It can fall short elsewhere, e.g. for a point off
    /// the strip's far end. NaN for a point with a non-finite coordinate.
    pub fn distance_km(&self, p: Point) -> f64 {
        if !(p.lon.is_finite() && p.lat.is_finite()) {
            return f64::NAN;
        }
        if self.contains(p) {
            return 0.0;
        }
        let beyond = self.line.distance_km(p) - self.width_km;
        let outside = self.inside.as_ref().map_or(0.0, |area| area.distance_km(p));
        beyond.max(outside).max(0.0)
    }

    /// The line the strip follows.
    pub fn line(&self) -> &Rc<Line> {
        &self.line
    }

    /// The strip's width in kilometres.
    pub fn width_km(&self) -> f64 {
        self.width_km
    }

    /// The area the strip is limited to, if any.
    pub fn inside(&self) -> Option<&Rc<Area>> {
        self.inside.as_ref()
    }
}
