//! The geography functions of rule expressions: `inside`, `distance_km` and `nearest_place`.
//!
//! Each agreement's engine gets these functions bound to that agreement's own
//! [`Geography`], so a term can name only its own agreement's shapes. An event's position is
//! its numeric `lat` and `lon` fields; an event without them (or with values out of range)
//! makes every function return `()`, and the function notes on the event that it found no
//! position: the replay counts the event as *unlocated* for the term being judged when that
//! note changes around the term, and the memo does not remember an outcome during which it
//! changed (so that each such event is counted).
//!
//! The functions read `lat` and `lon` from the event they are given, which the expression's
//! read set must include for the memo to stay exact ([`crate::expr::reads::read_set`] adds them for
//! every call named in [`FUNCTIONS`]).

use std::rc::Rc;

use rhai::{Dynamic, Engine, EvalAltResult, Position};

use crate::diagnostic::did_you_mean;
use crate::event::EventHandle;
use crate::geo::Point;
use crate::load::agreement::{Geography, NEAR_KM, Nearest, Shape};

/// The functions, with their number of arguments.
pub(crate) const FUNCTIONS: [(&str, usize); 3] =
    [("inside", 2), ("distance_km", 2), ("nearest_place", 1)];

/// Functions whose second argument names a shape, checked at compile time when it is a
/// string literal.
pub(crate) const NAMING: [&str; 2] = ["inside", "distance_km"];

/// Registers the functions on an agreement's engine.
pub(crate) fn register(engine: &mut Engine, geography: Rc<Geography>) {
    let g = geography.clone();
    engine.register_fn(
        "inside",
        move |event: &mut EventHandle, name: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            // The name and its kind are checked first: a misspelt area is an error with or
            // without coordinates.
            let contains: &dyn Fn(Point) -> bool = match shape(&g, name)? {
                Shape::Area(area) => &|p| area.contains(p),
                Shape::Strip(strip) => &|p| strip.contains(p),
                other => {
                    return Err(error(format!(
                        "`inside` needs an area or a strip, and `{name}` is {}: use `distance_km(event, \"{name}\")`",
                        other.kind()
                    )));
                }
            };
            Ok(position(event)?.map_or(Dynamic::UNIT, |p| Dynamic::from_bool(contains(p))))
        },
    );
    let g = geography.clone();
    engine.register_fn(
        "distance_km",
        move |event: &mut EventHandle, name: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            let shape = shape(&g, name)?;
            let Some(p) = position(event)? else {
                return Ok(Dynamic::UNIT);
            };
            let km = match shape {
                Shape::Line(line) => line.distance_km(p),
                Shape::Area(area) => area.distance_km(p),
                Shape::Strip(strip) => strip.distance_km(p),
                Shape::Place(place) => crate::geo::great_circle_km(p, *place),
            };
            Ok(Dynamic::from_float(km))
        },
    );
    let g = geography.clone();
    engine.register_fn(
        "nearest_place",
        move |event: &mut EventHandle| -> Result<Dynamic, Box<EvalAltResult>> {
            nearest_place(&g, event, NEAR_KM)
        },
    );
    let g = geography.clone();
    engine.register_fn(
        "nearest_place",
        move |event: &mut EventHandle, km: f64| -> Result<Dynamic, Box<EvalAltResult>> {
            nearest_place(&g, event, km)
        },
    );
    let g = geography;
    engine.register_fn(
        "nearest_place",
        move |event: &mut EventHandle, km: rhai::INT| -> Result<Dynamic, Box<EvalAltResult>> {
            nearest_place(&g, event, km as f64)
        },
    );
}

/// `nearest_place(event[, km])`: the name of the place nearest the event within `km`; `()` when
/// none is that near, or the event has no position.
fn nearest_place(
    geography: &Geography,
    event: &EventHandle,
    km: f64,
) -> Result<Dynamic, Box<EvalAltResult>> {
    if !(km.is_finite() && km > 0.0) {
        return Err(error(format!(
            "`nearest_place` needs a distance in km above 0, and was given {km}"
        )));
    }
    let Some(p) = position(event)? else {
        return Ok(Dynamic::UNIT);
    };
    match geography.nearest_place_within(p, km) {
        Nearest::Place(name, _) => Ok(Dynamic::from(name.to_string())),
        Nearest::NoneWithin => Ok(Dynamic::UNIT),
        Nearest::NoPlaces => Err(error(
            "`nearest_place` needs places: this agreement's geography names none".into(),
        )),
    }
}

/// The event's position, or `None` (counted) when it has no usable `lat` and `lon`; an error
/// when either contradicts the vocabulary (`"36.2"` where a number is declared), which must
/// fail the term rather than pass for a missing position.
fn position(event: &EventHandle) -> Result<Option<Point>, Box<EvalAltResult>> {
    for field in ["lat", "lon"] {
        if let Some(how) = event.0.nonconformity(field) {
            return Err(event.0.nonconforming_message(field, how).into());
        }
    }
    let lat = event.0.field_number("lat");
    let lon = event.0.field_number("lon");
    match (lat, lon) {
        (Some(lat), Some(lon))
            if lat.is_finite()
                && lon.is_finite()
                && (-90.0..=90.0).contains(&lat)
                && (-180.0..=180.0).contains(&lon) =>
        {
            Ok(Some(Point { lon, lat }))
        }
        _ => {
            event.0.note_unlocated();
            Ok(None)
        }
    }
}

fn shape<'g>(geography: &'g Geography, name: &str) -> Result<&'g Shape, Box<EvalAltResult>> {
    geography.get(name).ok_or_else(|| {
        let names: Vec<&str> = geography.names().collect();
        error(unknown_shape(name, &names))
    })
}

/// The message for a name the geography does not hold (run time and compile time alike).
pub(crate) fn unknown_shape(name: &str, names: &[&str]) -> String {
    match unknown_shape_help(name, names) {
        Some(help) => format!("no shape named `{name}` in this agreement's geography ({help})"),
        None => format!("no shape named `{name}`: this agreement's geography names none"),
    }
}

/// What to say of a name the geography does not hold: a likely fix, or the names it holds.
pub(crate) fn unknown_shape_help(name: &str, names: &[&str]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    Some(match did_you_mean(name, names.iter().copied()) {
        Some(fix) => format!("did you mean `{fix}`?"),
        None => format!("it names {}", names.join(", ")),
    })
}

fn error(message: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(message.into(), Position::NONE))
}
