//! Expressions: the Rhai that rule and mapping files embed, and everything about it that more
//! than one stage needs.
//!
//! - [`sandbox`]: the one place that builds a Rhai `Engine` (limits, no IO, strict variables);
//! - `block`: an expression-valued key's text compiled as an expression or, failing that, as a
//!   statement block (`let`, `if`, …), with what a block may not do refused;
//! - [`cost`]: the cost model (units per evaluation, bytes allocated, units per thread);
//! - `clean`: the cleaning helpers of mapping expressions (`number`, `trimmed`, …);
//! - `spatial`: `inside`, `distance_km`, `nearest_place` over an agreement's geography;
//! - `template`: message templates cut into text and `{expression}` placeholders;
//! - `position`: positions inside an expression mapped to the YAML file, and run-time errors
//!   described with them;
//! - `reads`: what an expression can read (its fields, its calls) and which of its
//!   characters are quoted text, found by walking its AST or its text.
//!
//! The checker, the engine, `explain` and the mapping all use these, so they live below all
//! of them: nothing here compiles a file, judges an event or reports anything.

use rhai::{Array, Dynamic, Scope};

use crate::load::ListItem;
use crate::load::agreement::Agreement;

pub(crate) mod block;
pub(crate) mod clean;
pub mod cost;
pub(crate) mod position;
pub(crate) mod reads;
pub mod sandbox;
pub(crate) mod spatial;
pub(crate) mod template;

pub use sandbox::Limits;

/// The names every expression of an agreement can see: the agreement's lists, `trigger` (a
/// deadline's `require` sees the event that opened the obligation; only there, at compile
/// time) and `event`. `event` goes last: Rhai looks names up from the most recently pushed, and
/// `event` is read by nearly every expression, so it is found at once however many lists an
/// agreement has.
pub(crate) fn scope_for(agreement: &Agreement, trigger: bool) -> Scope<'static> {
    let mut scope = Scope::new();
    for (name, items) in &agreement.lists {
        let array: Array = items.iter().map(list_value).collect();
        scope.push_constant(name.clone(), array);
    }
    if trigger {
        scope.push("trigger", ());
    }
    scope.push("event", ());
    scope
}
/// A list element as a Rhai value.
pub(crate) fn list_value(item: &ListItem) -> Dynamic {
    match item {
        ListItem::Text(t) => Dynamic::from(t.clone()),
        ListItem::Integer(i) => Dynamic::from_int(*i),
        ListItem::Float(f) => Dynamic::from_float(*f),
        ListItem::Bool(b) => Dynamic::from_bool(*b),
    }
}
