//! Geometry for rules about places: is an event inside an area, how far is it from a border,
//! is it in the strip along a border on one side of it.
//!
//! This module knows nothing of YAML, Rhai or events and does no IO: callers pass GeoJSON
//! text to [`features`] and build the shapes they need from the results, once, before a
//! replay. The shapes are then asked one question per event, so they are built for that:
//!
//! - [`Line`] (a border) keeps its segments in an R-tree (`rstar`); a distance measures only
//!   the segments near the point.
//! - [`Area`] (a country) keeps each polygon's edges in horizontal bands of latitude; a
//!   containment test scans the few edges of one band, where the `geo` crate's `Contains`
//!   would scan all 841 of Iraq.
//! - [`Strip`] (the land within some kilometres of a line, optionally only inside an area)
//!   combines the two behind a box that rejects most points with four comparisons.
//!
//! ```
//! use std::rc::Rc;
//! use pactum::geo::{Area, Line, Point, Strip, features};
//!
//! let text = r#"{"type": "FeatureCollection", "features": [
//!   {"type": "Feature", "properties": {"name": "land"}, "geometry": {"type": "Polygon",
//!    "coordinates": [[[42, 36], [45, 36], [45, 38], [42, 38], [42, 36]]]}},
//!   {"type": "Feature", "properties": {"name": "border"}, "geometry": {"type": "LineString",
//!    "coordinates": [[42, 37], [45, 37]]}}]}"#;
//! let mut found = features(text)?;
//! assert_eq!(found[1].properties["name"], "border");
//! let line = Rc::new(Line::try_from(found.remove(1).geometry)?);
//! let land = Rc::new(Area::try_from(found.remove(0).geometry)?);
//! let strip = Strip::new(line.clone(), 30.0, Some(land.clone()))?;
//!
//! let zakho = Point::new(42.68591, 37.14871)?;
//! assert!(land.contains(zakho));
//! assert!(line.within_km(zakho, 20.0) && !line.within_km(zakho, 10.0));
//! assert!(strip.contains(zakho));
//! assert_eq!(strip.distance_km(zakho), 0.0);
//! # Ok::<(), pactum::geo::GeometryError>(())
//! ```
//!
//! `cargo bench --bench geometry` measures them; on the real Iraq polygon and Iraq–Turkey line
//! each does millions of tests per second on one core (see `docs/performance.md`).
//!
//! # The Earth and its distances
//!
//! Distances are great-circle distances on a sphere of radius [`EARTH_RADIUS_KM`] (the mean
//! radius, 6371.0088 km). Against geodesics on the WGS84 ellipsoid this errs by at most about
//! 0.3 % in the latitudes of Iraq (0.6 % at worst, north–south at the equator), well below
//! the uncertainty of a border drawn at 1:10m — and it makes a point-to-segment distance exact
//! and cheap: a segment is the shorter great-circle arc between its ends, and the distance to
//! it is the cross-track distance when the point's foot lies on the arc, else the distance to
//! the nearer end. The tests hold the module to 0.5 % of GeographicLib's WGS84 geodesics on
//! the real borders (`tests/geo_reference.py` computes the references).
//!
//! # Inside or outside
//!
//! Containment is decided in the plane of longitude and latitude, where GeoJSON draws a
//! polygon's edges straight (RFC 7946 §3.1.1), with exact orientation tests: an area is a
//! closed set, so a point exactly on an edge or vertex of any ring (exterior or hole) is
//! inside, and a point strictly inside a hole is outside. Distances to an area's boundary
//! treat its edges as arcs; for an edge of 3 km (Natural Earth's 1:10m borders) the straight
//! edge and the arc are less than a metre apart. Polygons that cross the antimeridian must be
//! split, as GeoJSON asks.
//!
//! Query points are not validated (events are checked where they are read, e.g. with
//! [`Point::new`]): a point with a non-finite coordinate is in no shape, and its distances
//! are NaN.

mod bands;
mod error;
mod parse;
mod shapes;
mod sphere;

use std::fmt;

pub use error::{Coordinate, GeometryError, Part};
pub use parse::{Feature, Geometry, features};
pub use shapes::{Area, Line, Polygon, Strip};

/// The mean radius of the Earth (IUGG, `(2a + b) / 3` of WGS84), in kilometres.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// A position in WGS84 degrees: longitude east, latitude north (GeoJSON's order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Degrees east, −180 to 180.
    pub lon: f64,
    /// Degrees north, −90 to 90.
    pub lat: f64,
}

impl Point {
    /// A point whose coordinates are checked: finite, longitude in −180..=180, latitude in
    /// −90..=90.
    pub fn new(lon: f64, lat: f64) -> Result<Point, GeometryError> {
        let p = Point { lon, lat };
        shapes::check_point(p, Part::Point, 1)?;
        Ok(p)
    }
}

impl fmt::Display for Point {
    /// `(lon, lat)`, as GeoJSON writes a position.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.lon, self.lat)
    }
}

/// The great-circle distance between two points in kilometres (haversine formula, sphere of
/// radius [`EARTH_RADIUS_KM`]).
pub fn great_circle_km(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let half_dlat = (lat2 - lat1) / 2.0;
    let half_dlon = (b.lon - a.lon).to_radians() / 2.0;
    let h = half_dlat.sin().powi(2) + lat1.cos() * lat2.cos() * half_dlon.sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests;
