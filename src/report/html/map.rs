//! The HTML report's map: the agreements' geography and the violations with a position, as
//! an SVG fit to print.
//!
//! One job: decide what the map shows and where — the view, the shapes, the dots, the labels,
//! and the violations left out of the view, listed under it — and write it.
//!
//! Why it is built so:
//! - A report may hold millions of violations, read from a [`ViolationSource`] rather than
//!   held: the view is decided from bounded summaries of them (how many, their box, a count per
//!   0.01° of longitude and of latitude, from which the middle half is read), and the
//!   violations are read three times (to summarise, to count those outside the view, to draw)
//!   rather than kept.
//! - The view is fitted to the area of interest, not to every point: one distant event (a typo
//!   in a coordinate, an incident abroad) had stretched the map until the agreement's
//!   shapes were squeezed into a corner. [`fence`] says which violations are outliers; they
//!   are listed, each linked to its row, so that none is lost. When many lie outside
//!   ([`MAX_LISTED`]), they are not outliers but a second area of interest, and the view
//!   takes them in.
//! - Labels are placed greedily in a fixed order (`labels.rs`): the same report gives the
//!   same bytes.
//!
//! Equirectangular, scaled by the cosine of the view's middle latitude: true enough for a
//! region the size of northern Iraq.
//!
//! [`ViolationSource`]: crate::report::ViolationSource

use std::io::{self, Write};

use crate::report::sections::{Sections, Violation};
use crate::report::{MapShape, Severity};

use super::esc;
use super::labels::{Anchor, Board, FONT, Rect, Spot, centred_baseline, text_width};

/// The map's width, px; its height follows from the view.
const WIDTH: f64 = 800.0;

/// The least reach of the fence ([`fence`]), degrees of latitude (about 55 km): a tight
/// cluster of violations should not make a town nearby an outlier.
const MIN_REACH: f64 = 0.5;

/// At most this many violations are listed outside the view; when more lie beyond the fence,
/// the view takes them all in.
const MAX_LISTED: u64 = 20;

/// The least margin around the view's content, degrees of latitude (about 28 km).
const MIN_MARGIN: f64 = 0.25;

/// The view's height over its width lies between these: a map of a north–south border is
/// not a ribbon, and one of an east–west border has room for its legend.
const TALLEST: f64 = 1.5;
const FLATTEST: f64 = 0.5;

/// A violation dot's radius, px.
const DOT: f64 = 5.0;

/// Callout numbers stop here: past it, a label that does not fit is only listed as unnamed.
const MAX_CALLOUTS: usize = 99;

/// Names listed as not shown for want of room, at most (then "and N more").
const MAX_UNNAMED_LISTED: usize = 20;

/// Draws the map, when there is anything to draw: the agreements' shapes or a violation with
/// a position.
pub(super) fn draw(s: &Sections<'_>, out: &mut dyn Write) -> io::Result<()> {
    let interest = interest(&s.shapes);
    let spread = spread(s)?;
    let mut fence = fence(interest, spread.middle_half());
    if fence.is_empty() {
        return Ok(());
    }
    let (outside, mut inliers) = sort_out(s, &fence)?;
    if outside > MAX_LISTED {
        fence = Bounds::EVERYWHERE;
        inliers = spread.all;
    }
    let view = Projection::of(interest.union(inliers));
    let mut board = Board::new(WIDTH, view.height);
    let (legend, scale) = (legend_box(&view), scale_box(&view));
    board.take(legend);
    board.take(scale.frame);

    open_svg(&view, out)?;
    shapes(&s.shapes, &view, out)?;
    let places = places(&s.shapes, &view, &mut board, out)?;
    let outliers = dots(s, &fence, &view, &mut board, out)?;
    let key = labels(&s.shapes, &places, &view, &mut board, out)?;
    write_scale(&scale, out)?;
    write_legend(&legend, out)?;
    writeln!(out, "</svg>")?;
    write_key(&key, out)?;
    write_outliers(&outliers, &view.bounds, out)?;
    writeln!(
        out,
        "<figcaption>Borders, areas and strips named by the agreements (a strip on its own side of its line), each labelled; dots: violations with a position ({} of {} drawn), coloured by severity, each linked to its row.{} Violations without coordinates are not drawn.</figcaption></figure>",
        // The three passes read the same violations; saturating all the same.
        spread.count.saturating_sub(outliers.len() as u64),
        s.violations.count(),
        if outliers.is_empty() {
            String::new()
        } else {
            format!(
                " The view is fitted to the agreements\u{2019} shapes and to where most violations are; {} outside it {} listed above.",
                outliers.len(),
                if outliers.len() == 1 { "is" } else { "are" }
            )
        }
    )
}

/// A box of longitudes and latitudes; empty while west > east.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bounds {
    west: f64,
    east: f64,
    south: f64,
    north: f64,
}

impl Bounds {
    const EMPTY: Bounds = Bounds {
        west: f64::INFINITY,
        east: f64::NEG_INFINITY,
        south: f64::INFINITY,
        north: f64::NEG_INFINITY,
    };
    const EVERYWHERE: Bounds = Bounds {
        west: f64::NEG_INFINITY,
        east: f64::INFINITY,
        south: f64::NEG_INFINITY,
        north: f64::INFINITY,
    };

    fn is_empty(&self) -> bool {
        self.west > self.east || self.south > self.north
    }

    fn widen(&mut self, (lon, lat): (f64, f64)) {
        self.west = self.west.min(lon);
        self.east = self.east.max(lon);
        self.south = self.south.min(lat);
        self.north = self.north.max(lat);
    }

    fn union(self, other: Bounds) -> Bounds {
        Bounds {
            west: self.west.min(other.west),
            east: self.east.max(other.east),
            south: self.south.min(other.south),
            north: self.north.max(other.north),
        }
    }

    fn contains(&self, (lon, lat): (f64, f64)) -> bool {
        (self.west..=self.east).contains(&lon) && (self.south..=self.north).contains(&lat)
    }

    fn grown(self, lon: f64, lat: f64) -> Bounds {
        Bounds {
            west: self.west - lon,
            east: self.east + lon,
            south: self.south - lat,
            north: self.north + lat,
        }
    }

    /// How much a degree of longitude is narrower than one of latitude, at the middle
    /// latitude (at least 0.05, so that a box at a pole stays finite).
    fn squeeze(&self) -> f64 {
        ((self.south + self.north) / 2.0)
            .to_radians()
            .cos()
            .max(0.05)
    }

    /// The longer side, in degrees of latitude (a degree of longitude counted as `squeeze`).
    fn side(&self, squeeze: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        ((self.east - self.west) * squeeze).max(self.north - self.south)
    }
}

/// The box of the shapes the agreements' terms are about: lines and strips (a strip with its
/// width on either side), and areas, except an area that is only there to cut a strip to
/// its side (a strip's `inside`: a whole country, which would shrink the strip to a sliver).
/// Places are not in it: a gazetteer names towns all over a region.
fn interest(shapes: &[&MapShape]) -> Bounds {
    let mut b = Bounds::EMPTY;
    for shape in shapes {
        let reach = match shape.kind.as_str() {
            "line" => 0.0,
            "strip" => shape.width_km.unwrap_or(0.0).max(0.0) / 111.2,
            "area" if !is_a_strips_side(shapes, &shape.name) => 0.0,
            _ => continue,
        };
        for p in shape.paths.iter().flatten() {
            let squeeze = p[1].to_radians().cos().max(0.05);
            b.widen((p[0] - reach / squeeze, p[1] - reach));
            b.widen((p[0] + reach / squeeze, p[1] + reach));
        }
    }
    b
}

fn is_a_strips_side(shapes: &[&MapShape], area: &str) -> bool {
    shapes
        .iter()
        .any(|s| s.kind == "strip" && s.inside.as_deref() == Some(area))
}

/// Histogram bins, degrees: fine enough for a view, and a whole globe's worth is 54,000 counts.
const BIN: f64 = 0.01;

/// Counts of values per [`BIN`] from `low`: quantiles in bounded memory, whatever the number
/// of violations.
struct Histogram {
    low: f64,
    counts: Vec<u64>,
}

impl Histogram {
    fn new(low: f64, high: f64) -> Histogram {
        Histogram {
            low,
            counts: vec![0; ((high - low) / BIN).round() as usize + 1],
        }
    }

    /// A value's bin; values out of range (a saved report may say anything) in the end bins.
    fn bin(&self, value: f64) -> usize {
        let last = self.counts.len().saturating_sub(1);
        (((value - self.low) / BIN).floor().max(0.0) as usize).min(last)
    }

    fn add(&mut self, value: f64) {
        let bin = self.bin(value);
        if let Some(n) = self.counts.get_mut(bin) {
            *n += 1;
        }
    }

    /// The bin of the `rank`-th smallest value (from 1), as its lower and upper edges.
    fn at(&self, rank: u64) -> (f64, f64) {
        let mut seen = 0;
        for (i, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                let low = self.low + i as f64 * BIN;
                return (low, low + BIN);
            }
        }
        (f64::NEG_INFINITY, f64::INFINITY)
    }
}

/// Where the violations with a position lie: how many, their box, and their distribution.
struct Spread {
    count: u64,
    all: Bounds,
    lon: Histogram,
    lat: Histogram,
}

impl Spread {
    /// The box of the middle half of the violations, by longitude and by latitude apart (from
    /// the first quartile to the third, each to the bin, within the box of them all).
    fn middle_half(&self) -> Bounds {
        if self.count == 0 {
            return Bounds::EMPTY;
        }
        let (first, third) = (self.count.div_ceil(4), (3 * self.count).div_ceil(4));
        let (west, _) = self.lon.at(first);
        let (_, east) = self.lon.at(third);
        let (south, _) = self.lat.at(first);
        let (_, north) = self.lat.at(third);
        Bounds {
            west: west.max(self.all.west),
            east: east.min(self.all.east),
            south: south.max(self.all.south),
            north: north.min(self.all.north),
        }
    }
}

/// The first reading of the violations: their [`Spread`].
fn spread(s: &Sections<'_>) -> io::Result<Spread> {
    let mut spread = Spread {
        count: 0,
        all: Bounds::EMPTY,
        lon: Histogram::new(-180.0, 180.0),
        lat: Histogram::new(-90.0, 90.0),
    };
    s.each_violation(&mut |v| {
        if let Some((lon, lat)) = v.position {
            spread.count += 1;
            spread.all.widen((lon, lat));
            spread.lon.add(lon);
            spread.lat.add(lat);
        }
        Ok(())
    })?;
    Ok(spread)
}

/// The fence beyond which a violation is an outlier: the core — the box of the shapes of
/// interest and of the middle half of the violations — grown on every side by its reach,
/// the largest of the core's longer side, three times the middle half's longer side (Tukey's
/// "far out") and [`MIN_REACH`]. So a view holds at least a third of its width of core, and a
/// violation is an outlier only when it lies well beyond both the agreement's shapes and the
/// bulk of the others. Empty when there is nothing to draw.
fn fence(interest: Bounds, middle: Bounds) -> Bounds {
    let core = interest.union(middle);
    if core.is_empty() {
        return core;
    }
    let squeeze = core.squeeze();
    let reach = core
        .side(squeeze)
        .max(3.0 * middle.side(squeeze))
        .max(MIN_REACH);
    core.grown(reach / squeeze, reach)
}

/// The second reading: how many violations lie outside the fence, and the box of those inside.
fn sort_out(s: &Sections<'_>, fence: &Bounds) -> io::Result<(u64, Bounds)> {
    let (mut outside, mut inside) = (0, Bounds::EMPTY);
    s.each_violation(&mut |v| {
        match v.position {
            Some(p) if fence.contains(p) => inside.widen(p),
            Some(_) => outside += 1,
            None => {}
        }
        Ok(())
    })?;
    Ok((outside, inside))
}

/// The view in px: where a longitude and a latitude are drawn.
struct Projection {
    bounds: Bounds,
    squeeze: f64,
    /// Px per degree of latitude.
    scale: f64,
    height: f64,
}

impl Projection {
    /// The view of `content`: with a margin of a twentieth of its longer side (at least
    /// [`MIN_MARGIN`]), widened to a height between [`FLATTEST`] and [`TALLEST`] times its
    /// width, [`WIDTH`] px wide.
    fn of(content: Bounds) -> Projection {
        let squeeze = content.squeeze();
        let margin = (content.side(squeeze) / 20.0).max(MIN_MARGIN);
        let mut b = content.grown(margin / squeeze, margin);
        let (wide, high) = ((b.east - b.west) * squeeze, b.north - b.south);
        if high > TALLEST * wide {
            b = b.grown((high / TALLEST - wide) / 2.0 / squeeze, 0.0);
        } else if high < FLATTEST * wide {
            b = b.grown(0.0, (FLATTEST * wide - high) / 2.0);
        }
        let scale = WIDTH / ((b.east - b.west) * squeeze).max(1e-9);
        Projection {
            bounds: b,
            squeeze,
            scale,
            // Within these bounds already but for rounding; clamped, so that no coordinates a
            // saved report gives (it is not checked as a geography file is) can size the
            // drawing, and the labels' board with it, beyond the view.
            height: ((b.north - b.south) * scale).clamp(FLATTEST * WIDTH, TALLEST * WIDTH),
        }
    }

    fn x(&self, lon: f64) -> f64 {
        (lon - self.bounds.west) * self.squeeze * self.scale
    }

    fn y(&self, lat: f64) -> f64 {
        (self.bounds.north - lat) * self.scale
    }

    fn point(&self, p: &[f64; 2]) -> (f64, f64) {
        (self.x(p[0]), self.y(p[1]))
    }

    fn on_map(&self, (x, y): (f64, f64)) -> bool {
        (0.0..=WIDTH).contains(&x) && (0.0..=self.height).contains(&y)
    }

    /// Paths as SVG path data.
    fn path(&self, paths: &[Vec<[f64; 2]>], close: bool) -> String {
        let mut d = String::new();
        for part in paths {
            for (i, p) in part.iter().enumerate() {
                d.push_str(if i == 0 { "M" } else { "L" });
                d.push_str(&format!("{:.1} {:.1}", self.x(p[0]), self.y(p[1])));
            }
            if close {
                d.push('Z');
            }
        }
        d
    }
}

fn open_svg(view: &Projection, out: &mut dyn Write) -> io::Result<()> {
    let height = view.height;
    writeln!(
        out,
        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" id=\"map\" role=\"group\" aria-label=\"Map of the agreements\u{2019} geography and of the violations with a position\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH:.0} {height:.0}\" style=\"background:#f4f8fb;border:1px solid #bbb\"><title>Map of the agreements\u{2019} geography and of the violations with a position</title>"
    )?;
    // The labels' look, here so that their size is the one their placement assumed
    // (`labels::FONT`): a white halo keeps them legible over lines and strips.
    writeln!(
        out,
        "<style>#map .label{{font-size:{FONT}px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}}#map .label.area{{font-style:italic;fill:#8a7a45}}#map .label.strip{{font-style:italic;fill:#a0521d}}#map .label.line{{fill:#222}}#map .label.place{{fill:#444}}#map .label.callout{{fill:#000}}</style>"
    )
}

/// Areas, strips and lines, in that order (each drawn over the one before). The SVG's frame
/// clips what reaches past the view.
fn shapes(shapes: &[&MapShape], view: &Projection, out: &mut dyn Write) -> io::Result<()> {
    for shape in shapes.iter().filter(|s| s.kind == "area") {
        writeln!(
            out,
            "<path class=\"area\" d=\"{}\" fill=\"#fffbe8\" stroke=\"#b9a66b\" fill-rule=\"evenodd\"><title>{}</title></path>",
            view.path(&shape.paths, true),
            esc(&shape.name)
        )?;
    }
    for (i, shape) in shapes.iter().filter(|s| s.kind == "strip").enumerate() {
        // Twice the width: the strip reaches `width_km` on each side of its line, and is cut
        // to its `inside` area, so that only that side shows (issue 13: a strip inside Iraq
        // was drawn into Iran and Türkiye).
        let px = strip_px(shape, view) * 2.0;
        let clip = match side_of(shapes, shape) {
            Some(area) => {
                writeln!(
                    out,
                    "<clipPath id=\"strip-inside-{i}\"><path d=\"{}\" clip-rule=\"evenodd\"/></clipPath>",
                    view.path(&area.paths, true)
                )?;
                format!(" clip-path=\"url(#strip-inside-{i})\"")
            }
            None => String::new(),
        };
        writeln!(
            out,
            "<path class=\"strip\" d=\"{}\" fill=\"none\" stroke=\"#f28e2b\" stroke-opacity=\"0.25\" stroke-width=\"{px:.1}\" stroke-linejoin=\"round\"{clip}><title>{} ({} km{})</title></path>",
            view.path(&shape.paths, false),
            esc(&shape.name),
            shape.width_km.unwrap_or(0.0),
            shape
                .inside
                .as_ref()
                .map(|name| format!(", inside {}", esc(name)))
                .unwrap_or_default()
        )?;
    }
    for shape in shapes.iter().filter(|s| s.kind == "line") {
        writeln!(
            out,
            "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"><title>{}</title></path>",
            view.path(&shape.paths, false),
            esc(&shape.name)
        )?;
    }
    Ok(())
}

/// A strip's width on the map, px (one side of its line).
fn strip_px(shape: &MapShape, view: &Projection) -> f64 {
    shape.width_km.unwrap_or(0.0).max(0.0) / 111.2 * view.scale
}

/// The area a strip is cut to, when the report has it.
fn side_of<'s>(shapes: &[&'s MapShape], strip: &MapShape) -> Option<&'s MapShape> {
    let name = strip.inside.as_ref()?;
    shapes
        .iter()
        .copied()
        .find(|s| s.kind == "area" && &s.name == name)
}

/// A place drawn on the map: its name and its mark's centre, px.
struct Place<'s> {
    name: &'s str,
    at: (f64, f64),
}

/// The named places in view, as small marks (taken on the board: a label may not cover one);
/// their names are placed with the other labels.
fn places<'s>(
    shapes: &[&'s MapShape],
    view: &Projection,
    board: &mut Board,
    out: &mut dyn Write,
) -> io::Result<Vec<Place<'s>>> {
    let mut drawn = Vec::new();
    for shape in shapes.iter().filter(|s| s.kind == "place") {
        let Some(p) = shape.paths.first().and_then(|path| path.first()) else {
            continue;
        };
        let (px, py) = view.point(p);
        if !view.on_map((px, py)) {
            continue;
        }
        writeln!(
            out,
            "<circle class=\"place\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"2\" fill=\"#666\"><title>{}</title></circle>",
            esc(&shape.name)
        )?;
        board.take(Rect::sized(px - 2.5, py - 2.5, 5.0, 5.0));
        drawn.push(Place {
            name: &shape.name,
            at: (px, py),
        });
    }
    Ok(drawn)
}

/// A violation outside the view, to list.
struct Outlier {
    number: usize,
    time: String,
    clause: String,
    severity: Severity,
    place: Option<String>,
    coordinates: Option<String>,
    position: (f64, f64),
}

/// The third reading: a dot for each violation inside the fence, linked to its row (and noted
/// on the board, so that labels keep off it when they can); those outside, returned to list.
fn dots(
    s: &Sections<'_>,
    fence: &Bounds,
    view: &Projection,
    board: &mut Board,
    out: &mut dyn Write,
) -> io::Result<Vec<Outlier>> {
    let mut outliers = Vec::new();
    s.each_violation(&mut |v| {
        let Some((lon, lat)) = v.position else {
            return Ok(());
        };
        if !fence.contains((lon, lat)) {
            outliers.push(outlier(v, (lon, lat)));
            return Ok(());
        }
        let (x, y) = (view.x(lon), view.y(lat));
        board.dot(x, y, DOT);
        writeln!(
            out,
            "<a href=\"#v{n}\"><circle class=\"violation\" data-severity=\"{}\" cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{DOT}\" fill=\"{}\" fill-opacity=\"0.85\" stroke=\"#fff\"><title>#{n} {} {} ({}): {}</title></circle></a>",
            v.severity,
            severity_colour(v.severity),
            esc(&v.time),
            esc(&v.clause),
            v.severity,
            esc(v.message),
            n = v.number
        )
    })?;
    Ok(outliers)
}

fn outlier(v: &Violation<'_>, position: (f64, f64)) -> Outlier {
    Outlier {
        number: v.number,
        time: v.time.to_string(),
        clause: v.clause.clone(),
        severity: v.severity,
        place: v.place.map(str::to_string),
        coordinates: v.coordinates.clone(),
        position,
    }
}

/// What could not be named in place: numbered callouts, and names left out for want of room.
#[derive(Default)]
struct Key {
    numbered: Vec<String>,
    unnamed: Vec<String>,
}

/// A label to place: what it says, its class, and where it may go, best first.
struct Label {
    text: String,
    class: &'static str,
    spots: Vec<Spot>,
}

/// Every name on the map, placed on the board: places first (each has only the few spots
/// around its mark), then lines, strips and areas, which have room along or inside them.
/// A label that fits nowhere becomes a number, explained under the map; a number that fits
/// nowhere either is listed as unnamed.
fn labels(
    shapes: &[&MapShape],
    places: &[Place<'_>],
    view: &Projection,
    board: &mut Board,
    out: &mut dyn Write,
) -> io::Result<Key> {
    let mut key = Key::default();
    writeln!(out, "<g class=\"labels\">")?;
    for label in wanted(shapes, places, view) {
        if let Some(spot) = board.place(&label.spots, text_width(&label.text)) {
            write_label(spot, label.class, &label.text, out)?;
            continue;
        }
        let number = (key.numbered.len() + 1).to_string();
        let callout = (key.numbered.len() < MAX_CALLOUTS)
            .then(|| board.place(&label.spots, text_width(&number)))
            .flatten();
        match callout {
            Some(spot) => {
                write_label(spot, "callout", &number, out)?;
                key.numbered.push(label.text);
            }
            None => key.unnamed.push(label.text),
        }
    }
    writeln!(out, "</g>")?;
    Ok(key)
}

/// The labels the map wants, in the order they are placed, each with its candidate spots.
fn wanted(shapes: &[&MapShape], places: &[Place<'_>], view: &Projection) -> Vec<Label> {
    let mut all: Vec<Label> = places
        .iter()
        .map(|p| Label {
            text: p.name.to_string(),
            class: "place",
            spots: around(p.at),
        })
        .collect();
    for kind in ["line", "strip", "area"] {
        for shape in shapes.iter().filter(|s| s.kind == kind) {
            let text = match (kind, shape.width_km) {
                ("strip", Some(km)) => format!("{} ({km} km)", shape.name),
                _ => shape.name.clone(),
            };
            let width = text_width(&text);
            let spots = match kind {
                "area" => inside(shape, view, width),
                "strip" => along(
                    shape,
                    view,
                    width,
                    side_of(shapes, shape),
                    strip_px(shape, view),
                ),
                _ => along(shape, view, width, None, 0.0),
            };
            all.push(Label {
                text,
                class: kind,
                spots,
            });
        }
    }
    all
}

fn write_label(spot: Spot, class: &str, text: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<text class=\"label {class}\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{}\">{}</text>",
        spot.x,
        spot.y,
        spot.anchor.svg(),
        esc(text)
    )
}

/// Where a place's name may go, best first: right of its mark, above and below on the right,
/// then the same on the left, then above and below it. Each clear of the mark itself.
fn around((x, y): (f64, f64)) -> Vec<Spot> {
    let spot = |x, y, anchor| Spot { x, y, anchor };
    vec![
        spot(x + 5.0, centred_baseline(y), Anchor::Start),
        spot(x + 4.5, y - 4.0, Anchor::Start),
        spot(x + 4.5, y + 11.0, Anchor::Start),
        spot(x - 5.0, centred_baseline(y), Anchor::End),
        spot(x - 4.5, y - 4.0, Anchor::End),
        spot(x - 4.5, y + 11.0, Anchor::End),
        spot(x, y - 6.5, Anchor::Middle),
        spot(x, y + 13.5, Anchor::Middle),
    ]
}

/// Where along a line (or a strip's line) its name may go, best first: beside the middle of
/// its length in view, then nearer its ends; on either side of a line, on the inside of a
/// strip (centred in its band).
fn along(
    shape: &MapShape,
    view: &Projection,
    width: f64,
    side: Option<&MapShape>,
    band: f64,
) -> Vec<Spot> {
    let rings: Vec<Vec<(f64, f64)>> = side
        .map(|area| {
            area.paths
                .iter()
                .map(|ring| ring.iter().map(|p| view.point(p)).collect())
                .collect()
        })
        .unwrap_or_default();
    let mut spots = Vec::new();
    for part in &shape.paths {
        let points: Vec<(f64, f64)> = part.iter().map(|p| view.point(p)).collect();
        let shown: Vec<Segment> = points
            .windows(2)
            .filter_map(|w| match w {
                [a, b] if view.on_map(*a) && view.on_map(*b) => Segment::new(*a, *b),
                _ => None,
            })
            .collect();
        let length: f64 = shown.iter().map(|s| s.length).sum();
        for fraction in [0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9] {
            let Some(((x, y), normal)) = point_along(&shown, length * fraction) else {
                continue;
            };
            for sign in [-1.0, 1.0] {
                let (nx, ny) = (normal.0 * sign, normal.1 * sign);
                let reach = if side.is_some() {
                    band / 2.0
                } else {
                    // Clear of the line: half the label's extent across it, and a little.
                    4.0 + nx.abs() * width / 2.0 + ny.abs() * 0.6 * FONT
                };
                let centre = (x + nx * reach, y + ny * reach);
                if side.is_some() && !within(&rings, centre) {
                    continue;
                }
                spots.push(Spot {
                    x: centre.0,
                    y: centred_baseline(centre.1),
                    anchor: Anchor::Middle,
                });
            }
        }
    }
    spots
}

/// A straight piece of a line on the map, px.
struct Segment {
    from: (f64, f64),
    to: (f64, f64),
    length: f64,
}

impl Segment {
    /// `None` for a piece that does not move: it has no direction.
    fn new(from: (f64, f64), to: (f64, f64)) -> Option<Segment> {
        let length = (to.0 - from.0).hypot(to.1 - from.1);
        (length > 0.0).then_some(Segment { from, to, length })
    }
}

/// The point `distance` px along segments laid end to end, and the unit normal there.
fn point_along(segments: &[Segment], distance: f64) -> Option<((f64, f64), (f64, f64))> {
    let mut left = distance;
    for s in segments {
        if left <= s.length {
            let t = left / s.length;
            let (dx, dy) = (s.to.0 - s.from.0, s.to.1 - s.from.1);
            let point = (s.from.0 + dx * t, s.from.1 + dy * t);
            return Some((point, (-dy / s.length, dx / s.length)));
        }
        left -= s.length;
    }
    None
}

/// Where inside an area its name may go, best first: the middle of the part of it in view,
/// then points of a 5 × 5 grid over that part, nearest the middle first. Each must have the
/// whole label inside the area (its corners and middle).
fn inside(shape: &MapShape, view: &Projection, width: f64) -> Vec<Spot> {
    let rings: Vec<Vec<(f64, f64)>> = shape
        .paths
        .iter()
        .map(|ring| ring.iter().map(|p| view.point(p)).collect())
        .collect();
    let (mut left, mut top, mut right, mut bottom) = (WIDTH, view.height, 0.0_f64, 0.0_f64);
    for &(x, y) in rings.iter().flatten() {
        left = left.min(x.max(0.0));
        right = right.max(x.min(WIDTH));
        top = top.min(y.max(0.0));
        bottom = bottom.max(y.min(view.height));
    }
    if left >= right || top >= bottom {
        return Vec::new();
    }
    let middle = ((left + right) / 2.0, (top + bottom) / 2.0);
    let mut points = vec![middle];
    for row in 0..5 {
        for column in 0..5 {
            points.push((
                left + (right - left) * (f64::from(column) + 0.5) / 5.0,
                top + (bottom - top) * (f64::from(row) + 0.5) / 5.0,
            ));
        }
    }
    // Nearest the middle first; the grid's order breaks ties, so the order is fixed.
    let distance = |p: &(f64, f64)| (p.0 - middle.0).hypot(p.1 - middle.1);
    points.sort_by(|a, b| distance(a).total_cmp(&distance(b)));
    let half = (width / 2.0, 0.6 * FONT);
    points
        .into_iter()
        .filter(|&(x, y)| {
            [
                (0.0, 0.0),
                (-1.0, -1.0),
                (1.0, -1.0),
                (-1.0, 1.0),
                (1.0, 1.0),
            ]
            .iter()
            .all(|(sx, sy)| within(&rings, (x + sx * half.0, y + sy * half.1)))
        })
        .map(|(x, y)| Spot {
            x,
            y: centred_baseline(y),
            anchor: Anchor::Middle,
        })
        .collect()
}

/// Whether a point lies inside rings (even–odd: a hole's inside is outside).
fn within(rings: &[Vec<(f64, f64)>], (x, y): (f64, f64)) -> bool {
    let mut inside = false;
    for ring in rings {
        for (a, b) in ring.iter().zip(ring.iter().cycle().skip(1)) {
            if (a.1 > y) != (b.1 > y) && x < a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1) {
                inside = !inside;
            }
        }
    }
    inside
}

/// The scale bar: a round length between 60 and 200 px (one degree of latitude is 111.2 km,
/// and the map keeps km alike both ways), in the bottom right corner, on a white box.
struct Scale {
    km: f64,
    bar: f64,
    x: f64,
    y: f64,
    frame: Rect,
}

fn scale_box(view: &Projection) -> Scale {
    let px_per_km = view.scale / 111.2;
    let km = [
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
    ]
    .into_iter()
    .find(|km| km * px_per_km >= 60.0)
    .unwrap_or(5000.0);
    let bar = km * px_per_km;
    let (x, y) = (WIDTH - bar - 20.0, view.height - 16.0);
    Scale {
        km,
        bar,
        x,
        y,
        frame: Rect::sized(x - 8.0, y - 18.0, bar + 16.0, 22.0),
    }
}

fn write_scale(s: &Scale, out: &mut dyn Write) -> io::Result<()> {
    let (bx, by, bar, km) = (s.x, s.y, s.bar, s.km);
    writeln!(
        out,
        "<g class=\"scale\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"22\" fill=\"#fff\" fill-opacity=\"0.8\"/><path d=\"M{bx:.1} {:.1}V{by:.1}H{:.1}V{:.1}\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#333\">{km} km</text></g>",
        s.frame.left,
        s.frame.top,
        bar + 16.0,
        by - 5.0,
        bx + bar,
        by - 5.0,
        bx + bar / 2.0,
        by - 7.0
    )
}

/// The legend of the dots' colours, in the bottom left corner.
fn legend_box(view: &Projection) -> Rect {
    Rect::sized(6.0, view.height - 80.0, 92.0, 74.0)
}

fn write_legend(frame: &Rect, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<g class=\"legend\"><rect x=\"6\" y=\"{:.1}\" width=\"92\" height=\"74\" fill=\"#fff\" fill-opacity=\"0.8\"/>",
        frame.top
    )?;
    for (i, severity) in Severity::ALL.iter().enumerate() {
        let cy = frame.top + 12.0 + 16.0 * i as f64;
        writeln!(
            out,
            "<circle cx=\"16\" cy=\"{cy:.1}\" r=\"5\" fill=\"{}\"/><text x=\"26\" y=\"{:.1}\" fill=\"#333\">{severity}</text>",
            severity_colour(*severity),
            cy + 4.0
        )?;
    }
    writeln!(out, "</g>")
}

/// Under the map: what its numbers stand for, and the names it has no room for.
fn write_key(key: &Key, out: &mut dyn Write) -> io::Result<()> {
    if !key.numbered.is_empty() {
        let items: Vec<String> = key
            .numbered
            .iter()
            .enumerate()
            .map(|(i, name)| format!("<b>{}</b> {}", i + 1, esc(name)))
            .collect();
        writeln!(
            out,
            "<p class=\"map-key\">Numbered on the map: {}.</p>",
            items.join(", ")
        )?;
    }
    if !key.unnamed.is_empty() {
        let listed: Vec<String> = key
            .unnamed
            .iter()
            .take(MAX_UNNAMED_LISTED)
            .map(|name| esc(name))
            .collect();
        let more = key.unnamed.len().saturating_sub(MAX_UNNAMED_LISTED);
        writeln!(
            out,
            "<p class=\"map-key\">Not named on the map for want of room (each named when pointed at): {}{}.</p>",
            listed.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )?;
    }
    Ok(())
}

/// Under the map: the violations outside its view, each linked to its row, with where it lies
/// from the view.
fn write_outliers(outliers: &[Outlier], view: &Bounds, out: &mut dyn Write) -> io::Result<()> {
    if outliers.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "<div class=\"outside\"><p>{} violation{} outside this view:</p><ul>",
        outliers.len(),
        if outliers.len() == 1 { "" } else { "s" }
    )?;
    for o in outliers {
        let mut place: Vec<String> = Vec::new();
        place.extend(o.place.as_deref().map(esc));
        place.extend(o.coordinates.as_deref().map(esc));
        writeln!(
            out,
            "<li><a href=\"#v{n}\">#{n}</a> {}, <code>{}</code>, {}: {}{}</li>",
            esc(&o.time),
            esc(&o.clause),
            o.severity,
            place.join(", "),
            away(o.position, view),
            n = o.number
        )?;
    }
    writeln!(out, "</ul></div>")
}

/// How far and which way a point lies from the view: " (about 3210 km north-west of the
/// map)"; empty when the position is not one on Earth.
fn away((lon, lat): (f64, f64), view: &Bounds) -> String {
    let nearest = (
        // Not `clamp`, which panics on an empty or NaN range.
        lon.max(view.west).min(view.east),
        lat.max(view.south).min(view.north),
    );
    let km = crate::geo::Point::new(lon, lat)
        .ok()
        .zip(crate::geo::Point::new(nearest.0, nearest.1.clamp(-90.0, 90.0)).ok())
        .map(|(a, b)| crate::geo::great_circle_km(a, b));
    let Some(km) = km else {
        return String::new();
    };
    let north_south = if lat > view.north {
        "north"
    } else if lat < view.south {
        "south"
    } else {
        ""
    };
    let east_west = if lon > view.east {
        "east"
    } else if lon < view.west {
        "west"
    } else {
        ""
    };
    let way = match (north_south, east_west) {
        ("", way) | (way, "") => way.to_string(),
        (a, b) => format!("{a}-{b}"),
    };
    format!(" (about {km:.0} km {way} of the map)")
}

/// A severity's colour on the map: darker as it is more serious, told apart without red
/// alone (blue for low).
fn severity_colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "#7f0000",
        Severity::High => "#d62728",
        Severity::Medium => "#ff7f0e",
        Severity::Low => "#1f77b4",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spread_of(points: &[(f64, f64)]) -> Spread {
        let mut spread = Spread {
            count: 0,
            all: Bounds::EMPTY,
            lon: Histogram::new(-180.0, 180.0),
            lat: Histogram::new(-90.0, 90.0),
        };
        for &(lon, lat) in points {
            spread.count += 1;
            spread.all.widen((lon, lat));
            spread.lon.add(lon);
            spread.lat.add(lat);
        }
        spread
    }

    #[test]
    fn one_far_point_is_outside_the_fence_and_the_rest_inside() {
        let mut points: Vec<(f64, f64)> = (0..20)
            .map(|i| (43.0 + f64::from(i) * 0.05, 37.0 + f64::from(i % 4) * 0.05))
            .collect();
        points.push((-0.1, 51.5));
        let spread = spread_of(&points);
        let fence = fence(Bounds::EMPTY, spread.middle_half());
        assert!(!fence.contains((-0.1, 51.5)));
        assert!(points.iter().take(20).all(|&p| fence.contains(p)));
    }

    #[test]
    fn two_clusters_of_equal_size_are_both_inside() {
        let points: Vec<(f64, f64)> = (0..10)
            .map(|i| (43.0 + f64::from(i) * 0.01, 37.0))
            .chain((0..10).map(|i| (10.0 + f64::from(i) * 0.01, 50.0)))
            .collect();
        let spread = spread_of(&points);
        let fence = fence(Bounds::EMPTY, spread.middle_half());
        assert!(points.iter().all(|&p| fence.contains(p)));
    }

    #[test]
    fn the_shapes_are_always_inside() {
        let shapes = Bounds {
            west: 42.0,
            east: 45.0,
            south: 36.0,
            north: 37.5,
        };
        let spread = spread_of(&[(20.0, 10.0), (20.0, 10.0), (20.0, 10.0), (20.0, 10.0)]);
        let fence = fence(shapes, spread.middle_half());
        assert!(fence.contains((42.0, 36.0)) && fence.contains((45.0, 37.5)));
        assert!(fence.contains((20.0, 10.0)));
    }

    #[test]
    fn a_view_is_neither_a_ribbon_nor_a_sliver() {
        let tall = Projection::of(Bounds {
            west: 44.0,
            east: 44.0,
            south: 30.0,
            north: 37.0,
        });
        assert!(
            (tall.height - TALLEST * WIDTH).abs() < 1e-6,
            "{}",
            tall.height
        );
        let flat = Projection::of(Bounds {
            west: 30.0,
            east: 45.0,
            south: 37.0,
            north: 37.0,
        });
        assert!(
            (flat.height - FLATTEST * WIDTH).abs() < 1e-6,
            "{}",
            flat.height
        );
    }

    #[test]
    fn even_odd_inside() {
        let square = vec![
            (0.0, 0.0),
            (10.0, 0.0),
            (10.0, 10.0),
            (0.0, 10.0),
            (0.0, 0.0),
        ];
        let hole = vec![(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)];
        let rings = vec![square, hole];
        assert!(within(&rings, (2.0, 2.0)));
        assert!(!within(&rings, (5.0, 5.0)));
        assert!(!within(&rings, (12.0, 5.0)));
    }
}
