//! An agreement's geography: named lines, areas, strips and places, read and prepared once.
//!
//! `geography:` in an agreement file names the shapes its terms talk about: border lines and
//! country polygons selected from GeoJSON files by property values, inline lines and polygons,
//! strips along a line (clipped to an area), and places. Everything is checked and prepared
//! here, at load time, so that a bad file, a feature that matches nothing or an unclosed ring
//! is a `pactum check` error naming the YAML line, and so that evaluating `inside(event, …)`
//! costs a prepared test (see [`crate::geo`]) rather than a parse or a scan.
//!
//! Files are named relative to the agreement file, confined to its folder (or an allowed root,
//! [`crate::load::confine`]), and read through the caller's [`FileReader`]: the library opens
//! nothing itself. What a GeoJSON file holds is never quoted in a message (it need not be a
//! map, and need not be the author's): a problem names the file, where in it, and its kind.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use crate::diagnostic::{Code, did_you_mean};
use crate::geo::{self, Area, Line, Point, Polygon, Strip};
use crate::load::Checker;
use crate::load::Scalar;
use crate::load::confine::{Refusal, Roots};

/// Reads a file an agreement refers to, at a path already resolved against the agreement
/// file's directory and checked not to leave it ([`Roots::resolve`]). The command line's
/// reader also refuses links out of the folder and what is not a regular file, with an
/// [`std::io::Error`] wrapping the [`Refusal`].
pub use crate::load::FileReader;

/// The named shapes of one agreement.
#[derive(Debug, Default)]
pub struct Geography {
    /// Every name, sorted: lines, areas, strips and places share one namespace.
    shapes: BTreeMap<String, Shape>,
    /// The places, for [`Geography::nearest_place`].
    places: Vec<(String, Point)>,
    /// The files read, as named in the agreement, with the SHA-256 of their bytes.
    pub files: Vec<(String, String)>,
    /// Names declared whose shape could not be built (each reported where it is declared).
    failed: Vec<String>,
    /// Each shape's coordinates as written, for maps in reports.
    outlines: BTreeMap<String, Outline>,
}

/// A shape's coordinates as written (not the prepared index), for drawing it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    /// `line`, `area`, `strip` or `place`.
    pub kind: &'static str,
    /// Its paths: a line's parts, an area's rings, a strip's line, a place's one point.
    pub paths: Vec<Vec<Point>>,
    /// A strip's width.
    pub width_km: Option<f64>,
    /// The area a strip is cut to (`inside`), by name.
    pub inside: Option<String>,
}

/// One named shape.
#[derive(Debug)]
pub enum Shape {
    /// A line (a border).
    Line(Rc<Line>),
    /// An area (a country, a camp).
    Area(Rc<Area>),
    /// The points within some distance of a line, possibly inside an area.
    Strip(Strip),
    /// A named point.
    Place(Point),
}

impl Shape {
    /// What the shape is, in a rule author's words.
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Line(_) => "a line",
            Shape::Area(_) => "an area",
            Shape::Strip(_) => "a strip",
            Shape::Place(_) => "a place",
        }
    }
}

impl Geography {
    /// Whether the agreement names no shape.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }

    /// The shape called `name`.
    pub fn get(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    /// Every name, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.shapes.keys().map(String::as_str)
    }

    /// Every shape's outline, by name, sorted.
    pub fn outlines(&self) -> &BTreeMap<String, Outline> {
        &self.outlines
    }

    /// Whether `name` was declared but its shape could not be built (already reported).
    pub fn failed(&self, name: &str) -> bool {
        self.failed.iter().any(|n| n == name)
    }

    /// Whether it names any place (for `nearest_place`).
    pub fn has_places(&self) -> bool {
        !self.places.is_empty()
    }

    /// The place nearest to `point` within `km`, with its great-circle distance. A place
    /// further than a few tens of km is not "near" in a monitor's words ([`NEAR_KM`]).
    pub fn nearest_place_within(&self, point: Point, km: f64) -> Nearest<'_> {
        match self.nearest_place(point) {
            Some((_, distance)) if distance > km => Nearest::NoneWithin,
            Some((name, distance)) => Nearest::Place(name, distance),
            None => Nearest::NoPlaces,
        }
    }

    /// The place nearest to `point`, with its great-circle distance in km (ties: the first
    /// name in sorted order), however far.
    pub fn nearest_place(&self, point: Point) -> Option<(&str, f64)> {
        let mut best: Option<(&str, f64)> = None;
        for (name, place) in &self.places {
            let km = geo::great_circle_km(point, *place);
            if best.is_none_or(|(_, d)| km < d) {
                best = Some((name, km));
            }
        }
        best
    }
}

/// What [`Geography::nearest_place_within`] found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nearest<'g> {
    /// The nearest place, and its distance in km.
    Place(&'g str, f64),
    /// The geography names places, none within the distance.
    NoneWithin,
    /// The geography names no place.
    NoPlaces,
}

/// How far a place may be and still be named as near a position, by `nearest_place(event)` and
/// in a report's `location.near`, in km: a monitor says "near Zakho" of a village a few km away,
/// not of one 164 km away (what a report had said). `nearest_place(event, km)` takes its own.
pub const NEAR_KM: f64 = 50.0;

#[derive(Deserialize)]
pub(super) struct GeographyFile {
    #[serde(default)]
    lines: HashMap<Spanned<String>, Spanned<LineFile>>,
    #[serde(default)]
    areas: HashMap<Spanned<String>, Spanned<AreaFile>>,
    #[serde(default)]
    places: HashMap<Spanned<String>, Spanned<PlaceFile>>,
    /// A GeoJSON file of Point features, each named by its `name` property.
    #[serde(default)]
    gazetteer: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct LineFile {
    #[serde(default)]
    file: Option<Spanned<String>>,
    #[serde(default, rename = "match")]
    matching: Option<Spanned<HashMap<String, Scalar>>>,
    #[serde(default)]
    line: Option<Spanned<Vec<Spanned<Vec<f64>>>>>,
}

#[derive(Deserialize)]
struct AreaFile {
    #[serde(default)]
    file: Option<Spanned<String>>,
    #[serde(default, rename = "match")]
    matching: Option<Spanned<HashMap<String, Scalar>>>,
    #[serde(default)]
    polygon: Option<Spanned<Vec<Spanned<Vec<f64>>>>>,
    #[serde(default)]
    along: Option<Spanned<String>>,
    #[serde(default)]
    width_km: Option<Spanned<f64>>,
    #[serde(default)]
    inside: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct PlaceFile {
    lat: Spanned<f64>,
    lon: Spanned<f64>,
}

/// Reads and prepares the geography, reporting every problem through `checker`.
pub(super) fn geography(
    checker: &mut Checker,
    file: &GeographyFile,
    reader: FileReader,
    roots: &Roots,
) -> Geography {
    let mut builder = Builder {
        checker,
        reader,
        roots,
        files: HashMap::new(),
        geography: Geography::default(),
        declared: HashMap::new(),
    };
    builder.build(file);
    let mut geography = builder.geography;
    geography.files.sort();
    geography.failed = builder
        .declared
        .keys()
        .filter(|name| !geography.shapes.contains_key(*name))
        .cloned()
        .collect();
    geography.failed.sort();
    geography
}

struct Builder<'c, 'r> {
    checker: &'c mut Checker,
    reader: FileReader<'r>,
    /// Where the files it names may be.
    roots: &'r Roots,
    /// GeoJSON files already read, by path as written: a file used by several shapes is read
    /// and parsed once. `None` for a file that failed (reported once).
    files: HashMap<String, Option<Rc<Vec<geo::Feature>>>>,
    geography: Geography,
    /// Names declared so far, with their line, to report duplicates.
    declared: HashMap<String, u64>,
}

impl Builder<'_, '_> {
    fn build(&mut self, file: &GeographyFile) {
        let mut lines: Vec<_> = file.lines.iter().collect();
        lines.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        for (name, line) in lines {
            if self.declare(name)
                && let Some((built, paths)) = self.line(line)
            {
                self.insert(name, Shape::Line(Rc::new(built)), outline("line", paths));
            }
        }
        // Plain areas first: strips refer to lines and to plain areas.
        let mut areas: Vec<_> = file.areas.iter().collect();
        areas.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        for (name, area) in &areas {
            if area.value.along.is_none()
                && self.declare(name)
                && let Some((built, paths)) = self.area(area)
            {
                self.insert(name, Shape::Area(Rc::new(built)), outline("area", paths));
            }
        }
        for (name, area) in &areas {
            if area.value.along.is_some()
                && self.declare(name)
                && let Some(strip) = self.strip(area)
            {
                // A strip is drawn as its line, as wide as it is.
                let paths = area
                    .value
                    .along
                    .as_ref()
                    .and_then(|along| self.geography.outlines.get(&along.value))
                    .map(|line| line.paths.clone())
                    .unwrap_or_default();
                let drawn = Outline {
                    width_km: Some(strip.width_km()),
                    inside: area.value.inside.as_ref().map(|i| i.value.clone()),
                    ..outline("strip", paths)
                };
                self.insert(name, Shape::Strip(strip), drawn);
            }
        }
        let mut places: Vec<_> = file.places.iter().collect();
        places.sort_by(|a, b| a.0.value.cmp(&b.0.value));
        for (name, place) in places {
            if !self.declare(name) {
                continue;
            }
            let point = Point {
                lon: place.value.lon.value,
                lat: place.value.lat.value,
            };
            if let Some(point) = self.point(point, place) {
                self.insert(
                    name,
                    Shape::Place(point),
                    outline("place", vec![vec![point]]),
                );
            }
        }
        if let Some(gazetteer) = &file.gazetteer {
            self.gazetteer(gazetteer);
        }
    }

    /// Checks a new name; false when it cannot be used (reported).
    fn declare(&mut self, name: &Spanned<String>) -> bool {
        if name.value.trim().is_empty() {
            self.checker.error(
                Code::InvalidName,
                name,
                "a geography name cannot be empty".into(),
            );
            return false;
        }
        if let Some(first) = self.declared.get(&name.value) {
            let first = *first;
            self.checker
                .error(
                    Code::DuplicateId,
                    name,
                    format!("geography name `{}` is used twice", name.value),
                )
                .help = Some(format!(
                "lines, areas and places share one namespace; the first use is on line {first}"
            ));
            return false;
        }
        self.declared
            .insert(name.value.clone(), name.referenced.line());
        true
    }

    fn insert(&mut self, name: &Spanned<String>, shape: Shape, drawn: Outline) {
        if let Shape::Place(point) = &shape {
            self.geography.places.push((name.value.clone(), *point));
        }
        self.geography.outlines.insert(name.value.clone(), drawn);
        self.geography.shapes.insert(name.value.clone(), shape);
    }

    /// The line, with its parts as written (for maps).
    fn line(&mut self, line: &Spanned<LineFile>) -> Option<(Line, Vec<Vec<Point>>)> {
        let spec = &line.value;
        let parts = match (&spec.file, &spec.line) {
            (Some(file), None) => {
                let features = self.matching(file, spec.matching.as_ref())?;
                let mut parts = Vec::new();
                for (k, feature) in features.iter().enumerate() {
                    match &feature.geometry {
                        geo::Geometry::Lines(lines) => {
                            // Each feature checked alone first, so that a bad one is named.
                            if let Err(err) = Line::new(lines.clone()) {
                                self.feature_error(file, k, features.len(), &err);
                                return None;
                            }
                            parts.extend(lines.iter().cloned());
                        }
                        other => {
                            self.checker.error(
                                Code::InvalidValue,
                                file,
                                format!(
                                    "a feature of {} matched here is {}, not a line",
                                    file.value,
                                    geometry_kind(other)
                                ),
                            );
                            return None;
                        }
                    }
                }
                parts
            }
            (None, Some(points)) => vec![self.points(points)?],
            _ => {
                self.checker
                    .error(
                        Code::InvalidValue,
                        line,
                        "a line needs either `file` (with `match`) or `line`".into(),
                    )
                    .help = Some("e.g. `{file: geo/borders.geojson, match: {a: IRQ, b: TUR}}` or `{line: [[42.36, 37.11], [44.77, 37.14]]}`".into());
                return None;
            }
        };
        match Line::new(parts.clone()) {
            Ok(built) => Some((built, parts)),
            Err(err) => {
                let at = spec.file.as_ref().map_or(line.referenced, |f| f.referenced);
                self.checker
                    .error_at(Code::InvalidValue, at, err.to_string());
                None
            }
        }
    }

    /// The area, with its rings as written (for maps).
    fn area(&mut self, area: &Spanned<AreaFile>) -> Option<(Area, Vec<Vec<Point>>)> {
        let spec = &area.value;
        if spec.width_km.is_some() || spec.inside.is_some() {
            self.checker.error(
                Code::InvalidValue,
                area,
                "`width_km` and `inside` belong to a strip, which needs `along`".into(),
            );
        }
        let polygons = match (&spec.file, &spec.polygon) {
            (Some(file), None) => {
                let features = self.matching(file, spec.matching.as_ref())?;
                let mut polygons = Vec::new();
                for (k, feature) in features.iter().enumerate() {
                    match &feature.geometry {
                        geo::Geometry::Polygons(parts) => {
                            if let Err(err) = Area::new(parts.clone()) {
                                self.feature_error(file, k, features.len(), &err);
                                return None;
                            }
                            polygons.extend(parts.iter().cloned());
                        }
                        other => {
                            self.checker.error(
                                Code::InvalidValue,
                                file,
                                format!(
                                    "a feature of {} matched here is {}, not an area",
                                    file.value,
                                    geometry_kind(other)
                                ),
                            );
                            return None;
                        }
                    }
                }
                polygons
            }
            (None, Some(ring)) => vec![Polygon {
                exterior: self.points(ring)?,
                holes: Vec::new(),
            }],
            _ => {
                self.checker
                    .error(
                        Code::InvalidValue,
                        area,
                        "an area needs `file` (with `match`), `polygon`, or `along` (a strip)".into(),
                    )
                    .help = Some("e.g. `{file: geo/countries.geojson, match: {ISO_A3: IRQ}}`, `{polygon: [[45.0, 35.8], [45.1, 35.8], [45.1, 35.9], [45.0, 35.8]]}` or `{along: iq-tr-border, width_km: 30}`".into());
                return None;
            }
        };
        let rings: Vec<Vec<Point>> = polygons
            .iter()
            .flat_map(|p| std::iter::once(p.exterior.clone()).chain(p.holes.iter().cloned()))
            .collect();
        match Area::new(polygons) {
            Ok(built) => Some((built, rings)),
            Err(err) => {
                let at = match (&spec.file, &spec.polygon) {
                    (Some(f), _) => f.referenced,
                    (None, Some(p)) => p.referenced,
                    _ => area.referenced,
                };
                self.checker
                    .error_at(Code::InvalidValue, at, err.to_string());
                None
            }
        }
    }

    fn strip(&mut self, area: &Spanned<AreaFile>) -> Option<Strip> {
        let spec = &area.value;
        let along = spec.along.as_ref()?;
        if spec.file.is_some() || spec.polygon.is_some() || spec.matching.is_some() {
            self.checker.error(
                Code::InvalidValue,
                area,
                "a strip (`along`) takes `width_km` and `inside`, not `file`, `match` or `polygon`"
                    .into(),
            );
            return None;
        }
        let line = match self.geography.shapes.get(&along.value) {
            Some(Shape::Line(line)) => line.clone(),
            found => {
                let message = match found {
                    Some(shape) => format!("`{}` is {}, not a line", along.value, shape.kind()),
                    // Declared, but its own problem (reported above) kept it from loading.
                    None if self.declared.contains_key(&along.value) => {
                        format!(
                            "the line `{}` has an error of its own, reported where it is declared",
                            along.value
                        )
                    }
                    None => format!("no line named `{}`", along.value),
                };
                let lines: Vec<&str> = self
                    .geography
                    .shapes
                    .iter()
                    .filter(|(_, s)| matches!(s, Shape::Line(_)))
                    .map(|(n, _)| n.as_str())
                    .collect();
                let help = if self.declared.contains_key(&along.value) {
                    None
                } else {
                    help_for(&along.value, &lines, "lines")
                };
                self.checker.error(Code::InvalidValue, along, message).help = help;
                return None;
            }
        };
        let Some(width) = &spec.width_km else {
            self.checker.error(
                Code::MissingKey,
                area,
                "a strip needs `width_km`, its width from the line in km".into(),
            );
            return None;
        };
        let inside = match &spec.inside {
            None => None,
            Some(inside) => match self.geography.shapes.get(&inside.value) {
                Some(Shape::Area(area)) => Some(area.clone()),
                found => {
                    let message = match found {
                        Some(shape) => format!(
                            "`{}` is {}: a strip is clipped to an area from a file or a polygon",
                            inside.value,
                            shape.kind()
                        ),
                        None if self.declared.contains_key(&inside.value) => format!(
                            "the area `{}` has an error of its own, reported where it is declared",
                            inside.value
                        ),
                        None => format!("no area named `{}`", inside.value),
                    };
                    let areas: Vec<&str> = self
                        .geography
                        .shapes
                        .iter()
                        .filter(|(_, s)| matches!(s, Shape::Area(_)))
                        .map(|(n, _)| n.as_str())
                        .collect();
                    let help = if self.declared.contains_key(&inside.value) {
                        None
                    } else {
                        help_for(&inside.value, &areas, "areas")
                    };
                    self.checker.error(Code::InvalidValue, inside, message).help = help;
                    return None;
                }
            },
        };
        match Strip::new(line, width.value, inside) {
            Ok(strip) => Some(strip),
            Err(err) => {
                self.checker
                    .error(Code::InvalidValue, width, err.to_string());
                None
            }
        }
    }

    /// Bad geometry in a matched feature of a GeoJSON file: which file, which feature.
    fn feature_error(
        &mut self,
        file: &Spanned<String>,
        k: usize,
        matched: usize,
        err: &geo::GeometryError,
    ) {
        let which = if matched == 1 {
            "the feature matched".to_string()
        } else {
            format!("feature {} of the {matched} matched", k + 1)
        };
        self.checker.error(
            Code::InvalidValue,
            file,
            format!("{}, {which}: {err}", file.value),
        );
    }

    /// `[[lon, lat], …]` as points, each checked.
    fn points(&mut self, points: &Spanned<Vec<Spanned<Vec<f64>>>>) -> Option<Vec<Point>> {
        let mut out = Vec::with_capacity(points.value.len());
        let mut ok = true;
        for pair in &points.value {
            match pair.value.as_slice() {
                [lon, lat] => match self.point(
                    Point {
                        lon: *lon,
                        lat: *lat,
                    },
                    pair,
                ) {
                    Some(point) => out.push(point),
                    None => ok = false,
                },
                _ => {
                    self.checker
                        .error(
                            Code::InvalidValue,
                            pair,
                            format!(
                                "a position is `[lon, lat]`, two numbers; this one has {}",
                                pair.value.len()
                            ),
                        )
                        .help = Some("GeoJSON order: longitude first, then latitude".into());
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    /// A point whose coordinates are in range.
    fn point<T>(&mut self, point: Point, at: &Spanned<T>) -> Option<Point> {
        let lat_ok = point.lat.is_finite() && (-90.0..=90.0).contains(&point.lat);
        let lon_ok = point.lon.is_finite() && (-180.0..=180.0).contains(&point.lon);
        if lat_ok && lon_ok {
            return Some(point);
        }
        let d = self.checker.error(
            Code::InvalidValue,
            at,
            format!(
                "coordinates out of range: lon {}, lat {} (lon is −180 to 180, lat −90 to 90)",
                point.lon, point.lat
            ),
        );
        if !lat_ok && point.lat.is_finite() && (-90.0..=90.0).contains(&point.lon) {
            d.help = Some("latitude and longitude swapped? positions are `[lon, lat]`".into());
        }
        None
    }

    /// The features of `file` whose properties equal every `match` value; at least one.
    fn matching(
        &mut self,
        file: &Spanned<String>,
        matching: Option<&Spanned<HashMap<String, Scalar>>>,
    ) -> Option<Rc<Vec<geo::Feature>>> {
        let features = self.read(file)?;
        let Some(matching) = matching else {
            return Some(features);
        };
        let mut wanted: Vec<(&String, &Scalar)> = matching.value.iter().collect();
        wanted.sort_by(|a, b| a.0.cmp(b.0));
        let selected: Vec<geo::Feature> = features
            .iter()
            .filter(|f| {
                wanted.iter().all(|(key, value)| {
                    f.properties
                        .get(key.as_str())
                        .is_some_and(|p| same(p, value))
                })
            })
            .cloned()
            .collect();
        if selected.is_empty() {
            let described: Vec<String> = wanted
                .iter()
                .map(|(k, v)| format!("{k}: {}", scalar_text(v)))
                .collect();
            // How many features have the first key, to tell a wrong key from a wrong value;
            // never the values themselves: the file is not the rule author's to quote.
            let help = wanted.first().map(|(key, value)| {
                let having = features
                    .iter()
                    .filter(|f| f.properties.contains_key(key.as_str()))
                    .count();
                match having {
                    0 => format!("no feature of the file has a property `{key}`"),
                    n => format!(
                        "{n} feature{} of {} {} a property `{key}`, none equal to `{}` (values read from a map file are not printed)",
                        if n == 1 { "" } else { "s" },
                        file.value,
                        if n == 1 { "has" } else { "have" },
                        scalar_text(value)
                    ),
                }
            });
            self.checker
                .error(
                    Code::InvalidValue,
                    matching,
                    format!(
                        "no feature of {} matches {{{}}}",
                        file.value,
                        described.join(", ")
                    ),
                )
                .help = help;
            return None;
        }
        Some(Rc::new(selected))
    }

    /// The features of a GeoJSON file, read once per agreement.
    fn read(&mut self, file: &Spanned<String>) -> Option<Rc<Vec<geo::Feature>>> {
        if let Some(known) = self.files.get(&file.value) {
            return known.clone();
        }
        let path = match self.roots.resolve(&self.checker.source.name, &file.value) {
            Ok(path) => path,
            Err(refusal) => {
                self.refuse(file, refusal);
                self.files.insert(file.value.clone(), None);
                return None;
            }
        };
        let result = match (self.reader)(&path) {
            Err(err) => {
                match Refusal::of(&err) {
                    Some(refusal) => self.refuse(file, refusal),
                    None => {
                        self.checker
                            .error(
                                Code::Io,
                                file,
                                format!("cannot read {}: {err}", path.display()),
                            )
                            .help = Some("paths are relative to the agreement file".into());
                    }
                }
                None
            }
            Ok(bytes) => {
                self.geography
                    .files
                    .push((file.value.clone(), crate::hex(&Sha256::digest(&bytes))));
                match std::str::from_utf8(&bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|text| geo::features(text).map_err(|e| e.to_string()))
                {
                    Ok(features) => Some(Rc::new(features)),
                    Err(why) => {
                        self.checker.error(
                            Code::InvalidValue,
                            file,
                            format!("{} is not usable GeoJSON: {why}", file.value),
                        );
                        None
                    }
                }
            }
        };
        self.files.insert(file.value.clone(), result.clone());
        result
    }

    /// Reports a file that is not read, at the value that names it.
    fn refuse(&mut self, file: &Spanned<String>, refusal: Refusal) {
        self.checker
            .error(Code::FileRefused, file, refusal.message(&file.value))
            .help = Some(refusal.help().into());
    }

    fn gazetteer(&mut self, file: &Spanned<String>) {
        let Some(features) = self.read(file) else {
            return;
        };
        let mut found = 0;
        for feature in features.iter() {
            let geo::Geometry::Point(point) = &feature.geometry else {
                continue;
            };
            let Some(serde_json::Value::String(name)) = feature.properties.get("name") else {
                self.checker.error(
                    Code::InvalidValue,
                    file,
                    format!(
                        "a point of the gazetteer {} has no `name` property",
                        file.value
                    ),
                );
                return;
            };
            if self.geography.shapes.contains_key(name) {
                self.checker.error(
                    Code::DuplicateId,
                    file,
                    format!("the gazetteer names `{name}`, which is already declared"),
                );
                continue;
            }
            found += 1;
            self.geography
                .outlines
                .insert(name.clone(), outline("place", vec![vec![*point]]));
            self.geography.places.push((name.clone(), *point));
            self.geography
                .shapes
                .insert(name.clone(), Shape::Place(*point));
        }
        if found == 0 {
            self.checker.error(
                Code::InvalidValue,
                file,
                format!("the gazetteer {} holds no named point", file.value),
            );
        }
        self.geography.places.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

/// A shape's outline for maps (a strip adds its width).
fn outline(kind: &'static str, paths: Vec<Vec<Point>>) -> Outline {
    Outline {
        kind,
        paths,
        width_km: None,
        inside: None,
    }
}

fn geometry_kind(geometry: &geo::Geometry) -> &'static str {
    match geometry {
        geo::Geometry::Lines(_) => "a line",
        geo::Geometry::Polygons(_) => "a polygon",
        geo::Geometry::Point(_) => "a point",
        geo::Geometry::Unsupported(kind) => kind,
    }
}

fn help_for(name: &str, names: &[&str], what: &str) -> Option<String> {
    match did_you_mean(name, names.iter().copied()) {
        Some(fix) => Some(format!("did you mean `{fix}`?")),
        None if names.is_empty() => Some(format!("this agreement declares no {what}")),
        None => Some(format!("{what} declared: {}", names.join(", "))),
    }
}

/// Whether a GeoJSON property equals a `match` value (numbers by value).
fn same(property: &serde_json::Value, wanted: &Scalar) -> bool {
    match (property, wanted) {
        (serde_json::Value::String(s), Scalar::Text(t)) => s == t,
        (serde_json::Value::Bool(b), Scalar::Bool(w)) => b == w,
        (serde_json::Value::Number(n), Scalar::Integer(i)) => {
            n.as_i64() == Some(*i) || n.as_f64() == Some(*i as f64)
        }
        (serde_json::Value::Number(n), Scalar::Float(f)) => n.as_f64() == Some(*f),
        // `match: {ISO_N3: 368}` against a property written "368".
        (serde_json::Value::String(s), Scalar::Integer(i)) => s == &i.to_string(),
        _ => false,
    }
}

fn scalar_text(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Text(t) => t.clone(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Bool(b) => b.to_string(),
    }
}
