//! The sandboxed Rhai engine that every rule expression runs in.
//!
//! Rule files are untrusted code: anyone can hand an analyst an agreement file. So the engine
//! starts from [`Engine::new_raw`] (no packages, no `print`, no module resolver) and adds back
//! only pure packages: arithmetic, logic, strings, arrays, maps, iteration, maths. Left out on
//! purpose: the language-core package (it carries `sleep`, `exit` and `parse_json`), the time
//! package (a clock makes replays non-deterministic; the crate is built with `no_time`), modules
//! and `import` (built with `no_module`, so there is no file access), closures (`no_closure`,
//! and anonymous functions are refused: a captured variable would be shared between
//! evaluations), and `eval`.
//!
//! Every resource is bounded ([`Limits`]), so a hostile file can fail on an event, but it can
//! neither hang the replay (operation budget, call depth) nor exhaust memory (string, array and
//! map sizes).

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Engine, OptimizationLevel, def_package};

use crate::event;

/// Resource limits applied to every evaluation of a rule expression.
///
/// The defaults are generous for real rules (a `when` expression typically costs a few dozen
/// operations, a helper function a few hundred) and small enough that the worst a hostile
/// rule can do costs milliseconds per evaluation. Operations are not all equal: one string
/// append copies the string, one array push re-measures the array. So the sizes are bounded
/// as tightly as the operation count, and `docs/performance.md` records the measured worst
/// case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Operations per evaluation of one expression. Default 20,000.
    pub max_operations: u64,
    /// Nested function-call depth. Default 32.
    pub max_call_levels: usize,
    /// Expression nesting depth at top level. Default 64.
    pub max_expr_depth: usize,
    /// Expression nesting depth inside functions. Default 32.
    pub max_function_expr_depth: usize,
    /// Length of any string built while evaluating, in bytes. Default 16,384.
    pub max_string_size: usize,
    /// Elements of any array. Default 1,024.
    pub max_array_size: usize,
    /// Entries of any object map. Default 1,024.
    pub max_map_size: usize,
    /// Variables declared inside one function. Default 256.
    pub max_variables: usize,
    /// Functions defined by one agreement file. Default 256.
    pub max_functions: usize,
    /// Bytes one evaluation may allocate in all, counting every copy (strings, arrays, maps
    /// and their keys). Default 8 MiB. Holds only in a program that installs
    /// [`CountingAllocator`](crate::expr::cost::CountingAllocator), as `pactum` does.
    pub max_allocated: usize,
    /// Units (operations, plus the charges of `expr::cost`) one term may spend over a whole
    /// replay before it is suspended, besides [`Limits::max_term_units_per_event`] for every
    /// event read. Default 10,000,000. 0: no budget.
    pub max_term_units: u64,
    /// Units one term may spend per event read, on top of [`Limits::max_term_units`].
    /// Default 2,000: about a hundred times what a usual condition costs.
    pub max_term_units_per_event: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 20_000,
            max_call_levels: 32,
            max_expr_depth: 64,
            max_function_expr_depth: 32,
            max_string_size: 16 * 1024,
            max_array_size: 1024,
            max_map_size: 1024,
            max_variables: 256,
            max_functions: 256,
            max_allocated: 8 << 20,
            max_term_units: 10_000_000,
            max_term_units_per_event: 2_000,
        }
    }
}

def_package! {
    /// The pure packages a rule may use, flattened into one module: every function call is
    /// resolved by probing the engine's modules one by one, so one module instead of eight
    /// makes each call several times cheaper.
    SandboxPackage(lib):
        ArithmeticPackage,
        LogicPackage,
        BasicStringPackage,
        MoreStringPackage,
        BasicArrayPackage,
        BasicMapPackage,
        BasicIteratorPackage,
        BasicMathPackage
    {
        let _ = lib;
    }
}

/// Rhai's hashing seed, fixed. Rhai seeds its hashes at random by default (from addresses, so
/// with each run's address layout), and which strings its interner keeps depends on them:
/// what an evaluation allocates — and so the units it is charged (`expr::cost`), and the event
/// after which a term passes its budget — differed from one run to the next (one run in
/// twenty of `case::regression-term-budget-bytes` spent 3,100 units more; none with the
/// layout fixed by `setarch -R`). A report must be the same on every run and every machine, so
/// the seed is one constant. What a random seed guards against, tables flooded by names that
/// hash alike, is bounded here by the size limits of a rule file and its expressions.
const HASHING_SEED: [u64; 4] = [
    0x7061_6374_756d_0001,
    0x7061_6374_756d_0002,
    0x7061_6374_756d_0003,
    0x7061_6374_756d_0004,
];

/// Fixes Rhai's hashing seed ([`HASHING_SEED`]) for the whole process. A program calls it
/// first thing, before it, or any library it uses, uses Rhai: an engine built before would
/// no longer find its functions (their hashes change with the seed). The `pactum` binary does;
/// a program using pactum as a library that does not keeps Rhai's random seed, and units, so
/// suspensions, may differ from one run to the next. Returns `false` when the seed was set
/// before, to another value.
pub fn fix_hashing_seed() -> bool {
    match rhai::config::hashing::set_hashing_seed(Some(HASHING_SEED)) {
        Ok(()) => true,
        Err(seed) => seed == Some(HASHING_SEED),
    }
}

/// Builds the sandboxed engine used both to compile and to evaluate rule expressions.
pub fn engine(limits: &Limits) -> Engine {
    // Not set from here: switching the seed under a program's own engines would break them.
    if rhai::config::hashing::get_hashing_seed() != &Some(HASHING_SEED) {
        tracing::debug!(
            "Rhai's hashing seed is not pactum's (`fix_hashing_seed`): units spent, and so suspensions, may differ between runs"
        );
    }
    let mut engine = Engine::new_raw();
    engine.register_global_module(SandboxPackage::new().as_shared_module());
    // Names a rule file must not reach even if a later package brings them in.
    for symbol in ["eval", "sleep", "exit", "print", "debug", "parse_json"] {
        engine.disable_symbol(symbol);
    }
    engine
        .set_strict_variables(true)
        // Let the overloads in `register_missing_value_comparisons` and
        // `register_mixed_type_comparisons` take effect.
        .set_fast_operators(false)
        .set_fail_on_invalid_map_property(false)
        // Closures could capture `event` and share it between evaluations; named functions
        // in `functions` do everything a rule needs.
        .set_allow_anonymous_fn(false)
        .set_optimization_level(OptimizationLevel::Simple)
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_variables(limits.max_variables)
        .set_max_functions(limits.max_functions);
    event::register(&mut engine);
    register_missing_value_comparisons(&mut engine);
    register_mixed_type_comparisons(&mut engine);
    crate::expr::cost::install(
        &mut engine,
        limits.max_operations,
        limits.max_allocated as u64,
    );
    engine
}

/// The sandbox with the optimiser off, for reading expressions as written (the warnings of
/// `pactum check`, `pactum explain`): the optimiser would fold constants and put each list's
/// values where its name was. Never used to judge events.
pub(crate) fn parser(limits: &Limits) -> Engine {
    let mut engine = engine(limits);
    engine.set_optimization_level(OptimizationLevel::None);
    engine
}

/// Makes ordering comparisons with `()` fail instead of quietly giving `false`.
///
/// Rhai answers `() > 37.0` with `false`, so `event.lat > 37.0` on an event without `lat`
/// would look like a judgement ("not north of 37°") when it is an absence of data. pactum
/// treats it as a failure of the condition on that event: counted per term and shown in the
/// report. Equality keeps Rhai's meaning (a missing field equals nothing but `()`).
fn register_missing_value_comparisons(engine: &mut Engine) {
    use rhai::{Dynamic, EvalAltResult, FLOAT, INT, ImmutableString};
    type Outcome = Result<bool, Box<EvalAltResult>>;
    fn missing(op: &str) -> Outcome {
        Err(format!(
            "a missing value (`()`) cannot be compared with `{op}`: the event lacks a field the condition reads"
        )
        .into())
    }
    macro_rules! refuse {
        ($($op:literal),*) => {$(
            engine.register_fn($op, |_: (), _: INT| missing($op));
            engine.register_fn($op, |_: INT, _: ()| missing($op));
            engine.register_fn($op, |_: (), _: FLOAT| missing($op));
            engine.register_fn($op, |_: FLOAT, _: ()| missing($op));
            engine.register_fn($op, |_: (), _: ImmutableString| missing($op));
            engine.register_fn($op, |_: ImmutableString, _: ()| missing($op));
            engine.register_fn($op, |_: (), _: ()| missing($op));
            engine.register_fn($op, |_: (), _: Dynamic| missing($op));
        )*};
    }
    refuse!(">", ">=", "<", "<=");
}

/// Makes ordering a text, a number and a boolean against each other fail instead of quietly
/// giving `false` (issue 14).
///
/// Rhai answers `"90" > 75` with `false`, so a cap written as `event.tanks > 75` never
/// matched an exporter's `"tanks": "90"`: every breach vanished and nothing said so. pactum
/// treats such an order as a failure of the condition on that event, counted per term and
/// shown in the report with both values, as it treats a missing field ordered. Integers and
/// floats still compare with each other. Equality keeps Rhai's meaning (a value of another
/// type is not equal: `"90" == 90` is `false`), because equality is also how values are
/// matched by key — a deadline's `event.X == trigger.X`, a threshold's `by` — where a
/// failure per pair of values would make an event's errors depend on what else is waiting.
fn register_mixed_type_comparisons(engine: &mut Engine) {
    use rhai::{EvalAltResult, FLOAT, INT, ImmutableString};
    type Outcome = Result<bool, Box<EvalAltResult>>;
    fn mixed(op: &str, left: String, right: String) -> Outcome {
        let help = if left.starts_with("the text") != right.starts_with("the text")
            && (left.starts_with("the number") || right.starts_with("the number"))
        {
            "a number written as text? Convert it (`parse_int`, `parse_float`) or fix the data"
        } else {
            "fix the data or the condition"
        };
        Err(format!("{left} cannot be compared with {right} by `{op}`: {help}").into())
    }
    // The values as messages show them (`crate::event::described`: "the text "90"").
    fn text(s: &ImmutableString) -> String {
        crate::event::described(&rhai::Dynamic::from(s.clone()))
    }
    fn int(n: INT) -> String {
        crate::event::described(&rhai::Dynamic::from_int(n))
    }
    fn float(n: FLOAT) -> String {
        crate::event::described(&rhai::Dynamic::from_float(n))
    }
    fn boolean(b: bool) -> String {
        crate::event::described(&rhai::Dynamic::from_bool(b))
    }
    macro_rules! refuse {
        ($($op:literal),*) => {$(
            engine.register_fn($op, |a: ImmutableString, b: INT| mixed($op, text(&a), int(b)));
            engine.register_fn($op, |a: INT, b: ImmutableString| mixed($op, int(a), text(&b)));
            engine.register_fn($op, |a: ImmutableString, b: FLOAT| mixed($op, text(&a), float(b)));
            engine.register_fn($op, |a: FLOAT, b: ImmutableString| mixed($op, float(a), text(&b)));
            engine.register_fn($op, |a: bool, b: INT| mixed($op, boolean(a), int(b)));
            engine.register_fn($op, |a: INT, b: bool| mixed($op, int(a), boolean(b)));
            engine.register_fn($op, |a: bool, b: FLOAT| mixed($op, boolean(a), float(b)));
            engine.register_fn($op, |a: FLOAT, b: bool| mixed($op, float(a), boolean(b)));
            engine.register_fn($op, |a: bool, b: ImmutableString| mixed($op, boolean(a), text(&b)));
            engine.register_fn($op, |a: ImmutableString, b: bool| mixed($op, text(&a), boolean(b)));
        )*};
    }
    refuse!(">", ">=", "<", "<=");
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Scope;

    fn eval(expression: &str) -> Result<bool, String> {
        let engine = engine(&Limits::default());
        let mut scope = Scope::new();
        scope.push("missing", ());
        engine
            .eval_with_scope::<bool>(&mut scope, expression)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_text_a_number_and_a_boolean_cannot_be_ordered() {
        for (expression, message) in [
            (
                r#""90" > 75"#,
                r#"the text "90" cannot be compared with the number 75 by `>`: a number written as text?"#,
            ),
            (
                r#"90 >= "90""#,
                r#"the number 90 cannot be compared with the text "90" by `>=`: a number written as text?"#,
            ),
            (
                r#""1.5" <= 2.0"#,
                r#"the text "1.5" cannot be compared with the number 2.0 by `<=`"#,
            ),
            (
                "true < 1",
                "the boolean true cannot be compared with the number 1 by `<`: fix the data or the condition",
            ),
            (
                r#""yes" > false"#,
                r#"the text "yes" cannot be compared with the boolean false by `>`"#,
            ),
        ] {
            let err = eval(expression).unwrap_err();
            assert!(err.contains(message), "{expression}: {err}");
        }
        // Numbers of either kind still compare; equality across types is false; membership
        // keeps Rhai's rule.
        assert_eq!(eval("90 == 90.0"), Ok(true));
        assert_eq!(eval("2 < 2.5"), Ok(true));
        assert_eq!(eval(r#""90" == 90"#), Ok(false));
        assert_eq!(eval("true != 1"), Ok(true));
        assert_eq!(eval(r#""90" in [90, 100]"#), Ok(false));
    }

    #[test]
    fn a_missing_value_equals_nothing_and_cannot_be_ordered() {
        assert_eq!(eval(r#"missing == "IQ""#), Ok(false));
        assert_eq!(eval(r#"missing != "IQ""#), Ok(true));
        assert_eq!(eval(r#"missing in ["IQ"]"#), Ok(false));
        for expression in [
            "missing > 37.0",
            "missing >= 1",
            "2 < missing",
            r#"missing <= "a""#,
        ] {
            let err = eval(expression).unwrap_err();
            assert!(
                err.contains("a missing value (`()`) cannot be compared"),
                "{expression}: {err}"
            );
        }
        assert_eq!(
            eval("1 < 2.5 && 3.0 > 2"),
            Ok(true),
            "numbers still compare across types"
        );
    }

    #[test]
    fn runaway_scripts_stop_at_their_limits() {
        let limits = Limits::default();
        let engine = engine(&limits);
        let err = engine.eval::<()>("loop {}").unwrap_err().to_string();
        assert!(err.starts_with("Too many operations"), "{err}");
        let err = engine
            .eval::<()>("fn f(n) { f(n + 1) } f(0)")
            .unwrap_err()
            .to_string();
        assert!(err.contains("Stack overflow"), "{err}");
        let err = engine
            .eval::<()>(r#"let s = "x"; loop { s += s; }"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("Length of string too large"), "{err}");
    }

    /// Building pactum's engines leaves a program's own Rhai engines working (found in
    /// review: `engine` had fixed the hashing seed itself, and an engine built before then no
    /// longer found `len`). The binary fixes the seed first thing, in `main`.
    #[test]
    fn building_an_engine_leaves_the_program_s_engines_working() {
        let host = rhai::Engine::new();
        assert_eq!(host.eval::<rhai::INT>(r#""abc".len()"#).unwrap(), 3);
        let _ours = engine(&Limits::default());
        assert_eq!(host.eval::<rhai::INT>(r#""abc".len()"#).unwrap(), 3);
    }
}
