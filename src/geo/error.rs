//! What can be wrong with a geometry, said so that a rule author can find and fix it.
//!
//! Every error names where the problem is ("ring 2 (hole 1) of polygon 1") and shows the
//! offending values in GeoJSON order (longitude, latitude); numbers count from 1, as a person
//! counts the entries of a file.

use std::fmt;

use super::Point;

/// Where in a geometry a problem was found. Numbers count from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// A part of a line (a LineString is a line of one part).
    Line {
        /// Which part, from 1.
        part: usize,
    },
    /// A ring of a polygon: ring 1 is the exterior, rings 2 and after are its holes.
    Ring {
        /// Which polygon of the area, from 1.
        polygon: usize,
        /// Which ring of that polygon, from 1 (the exterior).
        ring: usize,
    },
    /// A lone point, such as a place.
    Point,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Part::Line { part } => write!(f, "part {part} of the line"),
            Part::Ring { polygon, ring: 1 } => {
                write!(f, "ring 1 (the exterior) of polygon {polygon}")
            }
            Part::Ring { polygon, ring } => write!(
                f,
                "ring {ring} (hole {}) of polygon {polygon}",
                ring.saturating_sub(1)
            ),
            Part::Point => write!(f, "the point"),
        }
    }
}

/// Which coordinate of a point is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coordinate {
    /// Degrees east, −180 to 180.
    Longitude,
    /// Degrees north, −90 to 90.
    Latitude,
}

impl fmt::Display for Coordinate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Coordinate::Longitude => "longitude",
            Coordinate::Latitude => "latitude",
        })
    }
}

impl Coordinate {
    fn range(self) -> &'static str {
        match self {
            Coordinate::Longitude => "-180 to 180",
            Coordinate::Latitude => "-90 to 90",
        }
    }
}

/// A geometry that cannot be used, or GeoJSON that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum GeometryError {
    /// A line without parts or an area without polygons.
    #[error("the {shape} is empty: give at least one {needs}")]
    Empty {
        /// "line" or "area".
        shape: &'static str,
        /// What it needs at least one of.
        needs: &'static str,
    },
    /// A line part with fewer than 2 points, or a ring with fewer than 4.
    #[error("{at} has {found} point{}; {}", plural(*.found), needs_text(.at, *.needed))]
    TooFewPoints {
        /// The part or ring.
        at: Part,
        /// How many points it has.
        found: usize,
        /// How many it needs at least.
        needed: usize,
    },
    /// A ring whose last point is not its first.
    #[error(
        "{at} is not closed: first point {first} ≠ last {last}; a ring must end on the point it starts from"
    )]
    UnclosedRing {
        /// The ring.
        at: Part,
        /// Its first point.
        first: Point,
        /// Its last point.
        last: Point,
    },
    /// A coordinate that is not a finite number in its range.
    #[error("{}: {coordinate} {value} is outside {}", locate(.at, *.index), .coordinate.range())]
    OutOfRange {
        /// The part, ring or point.
        at: Part,
        /// Which point of it, from 1.
        index: usize,
        /// Longitude or latitude.
        coordinate: Coordinate,
        /// The value given.
        value: f64,
    },
    /// Two consecutive points on opposite sides of the Earth: no one shortest path joins them.
    #[error(
        "points {index} and {} of {at} are antipodal, so the segment between them could run anywhere: add a point between them",
        .index + 1
    )]
    AntipodalSegment {
        /// The part or ring.
        at: Part,
        /// The first of the two points, from 1.
        index: usize,
    },
    /// A strip width that is not a positive, finite number of kilometres.
    #[error("a strip's width must be a positive number of kilometres, not {width_km}")]
    InvalidWidth {
        /// The width given.
        width_km: f64,
    },
    /// Text that is not GeoJSON: where, and the kind of problem, never the text met there
    /// (the file may be anything a rule file names).
    #[error("not valid GeoJSON{}: {problem}", at_text(*.at))]
    GeoJson {
        /// 1-based line and column, where the parser knows them.
        at: Option<(usize, usize)>,
        /// What kind of problem, in words that quote nothing of the file.
        problem: &'static str,
    },
    /// A Feature whose geometry is null.
    #[error("feature {feature} has no geometry")]
    NoGeometry {
        /// Which feature of the collection, from 1.
        feature: usize,
    },
    /// A geometry type this module does not handle.
    #[error(
        "feature {feature} is a {kind}: only Point, LineString, MultiLineString, Polygon and MultiPolygon are supported"
    )]
    Unsupported {
        /// Which feature of the collection, from 1 (1 for a bare geometry).
        feature: usize,
        /// The GeoJSON type, e.g. "MultiPoint".
        kind: &'static str,
    },
    /// A line was needed and something else given.
    #[error("expected a line (LineString or MultiLineString), found {found}")]
    NotALine {
        /// What was found, e.g. "polygons".
        found: &'static str,
    },
    /// An area was needed and something else given.
    #[error("expected an area (Polygon or MultiPolygon), found {found}")]
    NotAnArea {
        /// What was found, e.g. "lines".
        found: &'static str,
    },
    /// A point was needed and something else given.
    #[error("expected a Point, found {found}")]
    NotAPoint {
        /// What was found, e.g. "polygons".
        found: &'static str,
    },
}

fn at_text(at: Option<(usize, usize)>) -> String {
    at.map(|(line, column)| format!(" at line {line}, column {column}"))
        .unwrap_or_default()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn needs_text(at: &Part, needed: usize) -> String {
    match at {
        Part::Ring { .. } => format!(
            "a ring needs at least {needed}, its first point repeated at the end to close it"
        ),
        _ => format!("it needs at least {needed}"),
    }
}

fn locate(at: &Part, index: usize) -> String {
    match at {
        Part::Point => at.to_string(),
        _ => format!("point {index} of {at}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_where_and_what() {
        let unclosed = GeometryError::UnclosedRing {
            at: Part::Ring {
                polygon: 1,
                ring: 2,
            },
            first: Point {
                lon: 44.1,
                lat: 36.2,
            },
            last: Point {
                lon: 44.3,
                lat: 36.2,
            },
        };
        assert_eq!(
            unclosed.to_string(),
            "ring 2 (hole 1) of polygon 1 is not closed: first point (44.1, 36.2) ≠ last (44.3, 36.2); a ring must end on the point it starts from"
        );
        let few = GeometryError::TooFewPoints {
            at: Part::Line { part: 2 },
            found: 1,
            needed: 2,
        };
        assert_eq!(
            few.to_string(),
            "part 2 of the line has 1 point; it needs at least 2"
        );
        let range = GeometryError::OutOfRange {
            at: Part::Ring {
                polygon: 3,
                ring: 1,
            },
            index: 5,
            coordinate: Coordinate::Latitude,
            value: 91.5,
        };
        assert_eq!(
            range.to_string(),
            "point 5 of ring 1 (the exterior) of polygon 3: latitude 91.5 is outside -90 to 90"
        );
        let lone = GeometryError::OutOfRange {
            at: Part::Point,
            index: 1,
            coordinate: Coordinate::Longitude,
            value: f64::NAN,
        };
        assert_eq!(
            lone.to_string(),
            "the point: longitude NaN is outside -180 to 180"
        );
    }
}
