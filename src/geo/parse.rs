//! GeoJSON text into features: properties and a geometry this module can prepare.
//!
//! The `geojson` crate reads the text (RFC 7946: a FeatureCollection, a Feature or a bare
//! geometry); this module only maps its types to [`Geometry`]. It validates nothing about
//! coordinates: [`Line::new`](super::Line::new) and [`Area::new`](super::Area::new) do, with
//! messages that say which ring or part is wrong. MultiPoint and GeometryCollection are
//! rejected rather than skipped, as is a Feature without a geometry: a file that silently lost
//! a shape would leave a rule testing nothing.

use serde_json::{Map, Value};

use super::Point;
use super::error::GeometryError;
use super::shapes::{Area, Line, Polygon};

/// One feature of a GeoJSON file: its properties (empty for a bare geometry) and geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// The feature's `properties` object (empty when absent or null).
    pub properties: Map<String, Value>,
    /// Its geometry.
    pub geometry: Geometry,
}

/// A geometry as read from GeoJSON, not yet validated or prepared.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// A LineString (one part) or MultiLineString.
    Lines(Vec<Vec<Point>>),
    /// A Polygon (one) or MultiPolygon; in each, ring 1 is the exterior and the rest holes.
    Polygons(Vec<Polygon>),
    /// A Point.
    Point(Point),
    /// A geometry pactum does not use (a MultiPoint, a GeometryCollection) or none (RFC 7946
    /// allows a null geometry): kept, so that a file holding such features can still serve the
    /// ones a `match` selects, and an error only when one is selected. The text names it.
    Unsupported(&'static str),
}

impl Geometry {
    /// What the geometry is, for messages: "lines", "polygons" or "a point".
    pub fn kind(&self) -> &'static str {
        match self {
            Geometry::Lines(_) => "lines",
            Geometry::Polygons(_) => "polygons",
            Geometry::Point(_) => "a point",
            Geometry::Unsupported(kind) => kind,
        }
    }
}

impl TryFrom<Geometry> for Line {
    type Error = GeometryError;
    /// The line of a LineString or MultiLineString, validated and prepared.
    fn try_from(geometry: Geometry) -> Result<Line, GeometryError> {
        match geometry {
            Geometry::Lines(parts) => Line::new(parts),
            other => Err(GeometryError::NotALine {
                found: other.kind(),
            }),
        }
    }
}

impl TryFrom<Geometry> for Area {
    type Error = GeometryError;
    /// The area of a Polygon or MultiPolygon, validated and prepared.
    fn try_from(geometry: Geometry) -> Result<Area, GeometryError> {
        match geometry {
            Geometry::Polygons(polygons) => Area::new(polygons),
            other => Err(GeometryError::NotAnArea {
                found: other.kind(),
            }),
        }
    }
}

impl TryFrom<Geometry> for Point {
    type Error = GeometryError;
    /// The point of a Point geometry, its coordinates checked.
    fn try_from(geometry: Geometry) -> Result<Point, GeometryError> {
        match geometry {
            Geometry::Point(p) => Point::new(p.lon, p.lat),
            other => Err(GeometryError::NotAPoint {
                found: other.kind(),
            }),
        }
    }
}

/// The features of a GeoJSON text: every feature of a FeatureCollection in order, or the one
/// Feature, or a bare geometry as one feature without properties.
///
/// A position's third number (altitude), if any, is ignored. A Feature with a null geometry,
/// a MultiPoint or a GeometryCollection is kept as [`Geometry::Unsupported`]: the file's other
/// features stay usable, and using that one is an error.
pub fn features(geojson_text: &str) -> Result<Vec<Feature>, GeometryError> {
    let parsed: geojson::GeoJson = geojson_text.parse().map_err(unquoted)?;
    match parsed {
        geojson::GeoJson::FeatureCollection(collection) => collection
            .features
            .into_iter()
            .map(convert_feature)
            .collect(),
        geojson::GeoJson::Feature(feature) => Ok(vec![convert_feature(feature)?]),
        geojson::GeoJson::Geometry(geometry) => Ok(vec![Feature {
            properties: Map::new(),
            geometry: convert_geometry(geometry.value)?,
        }]),
    }
}

/// The parser's error without its message, which quotes what it met (a string, a property
/// value): the position and the kind of problem only.
fn unquoted(err: geojson::Error) -> GeometryError {
    use serde_json::error::Category;
    let (at, problem) = match &err {
        geojson::Error::MalformedGeoJson(json) => (
            Some((json.line(), json.column())),
            match json.classify() {
                Category::Syntax => "not JSON",
                Category::Eof => "the text ends before the JSON does",
                Category::Data => "a value of the wrong type, or an unknown GeoJSON `type`",
                Category::Io => "the text cannot be read",
            },
        ),
        geojson::Error::ExpectedType { .. } => (None, "an object of an unexpected GeoJSON type"),
        geojson::Error::PositionTooShort(_) => (None, "a position of fewer than two numbers"),
        geojson::Error::GeometryWithoutCoordinatesKey { .. } => {
            (None, "a geometry without `coordinates`")
        }
        geojson::Error::GeometryCollectionWithoutGeometriesKey => {
            (None, "a GeometryCollection without `geometries`")
        }
        geojson::Error::InvalidGeometryDimensions { .. } => (
            None,
            "coordinates nested too deep or too shallow for their geometry",
        ),
        _ => (None, "not a GeoJSON FeatureCollection, Feature or geometry"),
    };
    GeometryError::GeoJson { at, problem }
}

fn convert_feature(feature: geojson::Feature) -> Result<Feature, GeometryError> {
    let properties = feature.properties.unwrap_or_default();
    let geometry = match feature.geometry {
        Some(geometry) => convert_geometry(geometry.value)?,
        None => Geometry::Unsupported("a feature without geometry"),
    };
    Ok(Feature {
        properties,
        geometry,
    })
}

fn convert_geometry(value: geojson::GeometryValue) -> Result<Geometry, GeometryError> {
    use geojson::GeometryValue as G;
    Ok(match value {
        G::Point { coordinates } => Geometry::Point(point(&coordinates)),
        G::LineString { coordinates } => Geometry::Lines(vec![points(&coordinates)]),
        G::MultiLineString { coordinates } => {
            Geometry::Lines(coordinates.iter().map(|l| points(l)).collect())
        }
        G::Polygon { coordinates } => Geometry::Polygons(vec![polygon(&coordinates)]),
        G::MultiPolygon { coordinates } => {
            Geometry::Polygons(coordinates.iter().map(|p| polygon(p)).collect())
        }
        G::MultiPoint { .. } => Geometry::Unsupported("a MultiPoint"),
        G::GeometryCollection { .. } => Geometry::Unsupported("a GeometryCollection"),
    })
}

fn point(position: &geojson::Position) -> Point {
    // The geojson crate refuses positions of fewer than two numbers, so the NaNs never show;
    // if they did, validation would report them.
    match position.as_slice() {
        [lon, lat, ..] => Point {
            lon: *lon,
            lat: *lat,
        },
        _ => Point {
            lon: f64::NAN,
            lat: f64::NAN,
        },
    }
}

fn points(positions: &[geojson::Position]) -> Vec<Point> {
    positions.iter().map(point).collect()
}

fn polygon(rings: &[Vec<geojson::Position>]) -> Polygon {
    let mut rings = rings.iter().map(|r| points(r));
    Polygon {
        exterior: rings.next().unwrap_or_default(),
        holes: rings.collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_features_and_bare_geometries() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"a":"IRQ","b":"TUR"},
             "geometry":{"type":"MultiLineString","coordinates":[[[44.7,37.1],[44.6,37.2,850]],[[42.4,37.1],[42.5,37.2]]]}},
            {"type":"Feature","properties":null,
             "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]}},
            {"type":"Feature","properties":{"name":"Zakho"},"geometry":{"type":"Point","coordinates":[42.68591,37.14871]}}
        ]}"#;
        let got = features(text).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].properties["a"], "IRQ");
        let Geometry::Lines(parts) = &got[0].geometry else {
            panic!("{:?}", got[0].geometry)
        };
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0][1],
            Point {
                lon: 44.6,
                lat: 37.2
            },
            "altitude ignored"
        );
        let Geometry::Polygons(polygons) = &got[1].geometry else {
            panic!()
        };
        assert_eq!(
            (polygons[0].exterior.len(), polygons[0].holes.len()),
            (4, 1)
        );
        assert!(got[1].properties.is_empty());
        assert_eq!(
            got[2].geometry,
            Geometry::Point(Point {
                lon: 42.68591,
                lat: 37.14871
            })
        );

        let one = features(r#"{"type":"Feature","properties":{"k":1},"geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}}"#).unwrap();
        assert_eq!(one.len(), 1);
        let bare = features(r#"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6],[5,5]]]]}"#).unwrap();
        assert!(matches!(&bare[0].geometry, Geometry::Polygons(p) if p.len() == 2));
        assert!(Area::try_from(bare[0].geometry.clone()).is_ok());
    }

    #[test]
    fn what_cannot_be_used_is_refused_with_a_reason() {
        let err = features("{\"type\":").unwrap_err();
        assert!(matches!(err, GeometryError::GeoJson { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "not valid GeoJSON at line 1, column 8: the text ends before the JSON does"
        );
        // What the parser met is not quoted: the file may be anything a rule names.
        let quoted = features(r#"{"type": "Point", "coordinates": "hunter2"}"#).unwrap_err();
        assert!(!quoted.to_string().contains("hunter2"), "{quoted}");
        let unknown = features(r#"{"type": "hunter2", "coordinates": [1, 2]}"#).unwrap_err();
        assert!(!unknown.to_string().contains("hunter2"), "{unknown}");

        let multipoint = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}},
            {"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}}]}"#;
        // Kept, not refused: the file's other features stay usable.
        let read = features(multipoint).unwrap();
        assert_eq!(read[1].geometry, Geometry::Unsupported("a MultiPoint"));
        assert_eq!(
            Line::try_from(read[1].geometry.clone())
                .unwrap_err()
                .to_string(),
            "expected a line (LineString or MultiLineString), found a MultiPoint"
        );
        let null = r#"{"type":"Feature","properties":{},"geometry":null}"#;
        assert_eq!(
            features(null).unwrap()[0].geometry,
            Geometry::Unsupported("a feature without geometry")
        );
        let short = r#"{"type":"Point","coordinates":[1]}"#;
        assert!(matches!(
            features(short).unwrap_err(),
            GeometryError::GeoJson { .. }
        ));

        let point = Geometry::Point(Point { lon: 1.0, lat: 2.0 });
        assert_eq!(
            Line::try_from(point.clone()).unwrap_err().to_string(),
            "expected a line (LineString or MultiLineString), found a point"
        );
        assert_eq!(
            Area::try_from(Geometry::Lines(vec![]))
                .unwrap_err()
                .to_string(),
            "expected an area (Polygon or MultiPolygon), found lines"
        );
        assert_eq!(
            Point::try_from(point).unwrap(),
            Point { lon: 1.0, lat: 2.0 }
        );
        assert!(matches!(
            Point::try_from(Geometry::Point(Point {
                lon: 1.0,
                lat: 95.0
            })),
            Err(GeometryError::OutOfRange { .. })
        ));
    }
}
