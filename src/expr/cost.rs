//! The cost model: what one evaluation of a rule expression may spend, counted so that the
//! verdict ("over budget" or not) is the same on every run of the same binary.
//!
//! Rhai counts one *operation* per step of a script, whatever the step does. Most steps cost
//! about the same, but some scale with their operands: `a == b` on two arrays of a thousand
//! elements, `x in a`, `index_of`, `dedup`, map equality and searches in a long string work
//! element by element or byte by byte in one step; `pad`, `split` or a copy of a map build
//! kilobytes in one step; and a map's keys escape Rhai's size limits altogether (it sums the
//! strings of arrays and of map *values*, not of keys). So a rule of a few hundred bytes could
//! spend seconds on one event, or copy a 16 MB map into every variable.
//!
//! So an evaluation is charged in **units**, all counted, none timed, against
//! [`Limits::max_operations`]:
//!
//! - one per operation (Rhai's own count);
//! - one per element compared by the element-wise functions above, which are replaced by
//!   versions with Rhai's semantics that charge as they go, and one per 256 bytes of map key
//!   compared or of text searched;
//! - one per 64 bytes allocated: strings, arrays, maps and their keys, every copy of a value
//!   into a variable. This needs the allocator to count: [`CountingAllocator`], which the
//!   `pactum` binary installs as its global allocator (a program that uses the library without
//!   it gets the other charges only). [`Limits::max_allocated`] bounds the bytes of one
//!   evaluation outright as well, since one step may allocate a lot before it is counted.
//!
//! The budget is read on every operation through Rhai's progress callback ([`progress`]),
//! which is also where an evaluation is recognised as new (Rhai restarts its count at 1), so no
//! caller has to open or close a meter. The units spent on this thread in all ([`spent`]) give
//! each term a budget over a whole replay (see `engine::replay`).
//!
//! [`Limits::max_operations`]: crate::expr::sandbox::Limits::max_operations
//! [`Limits::max_allocated`]: crate::expr::sandbox::Limits::max_allocated

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use rhai::{Array, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, NativeCallContext};

thread_local! {
    /// Bytes this thread has asked the allocator for, in all (never decreases).
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    /// Units charged beyond Rhai's own operation count in the current evaluation.
    static CHARGED: Cell<u64> = const { Cell::new(0) };
    /// [`ALLOCATED`] when the current evaluation began.
    static ALLOCATED_AT_START: Cell<u64> = const { Cell::new(0) };
    /// Units spent on this thread in all: operations, charges and bytes.
    static SPENT: Cell<u64> = const { Cell::new(0) };
    /// Units of the current evaluation already added to [`SPENT`].
    static COUNTED: Cell<u64> = const { Cell::new(0) };
}

/// The global allocator that lets an evaluation's allocations be counted: the system
/// allocator, plus a per-thread byte count. Per thread, because a count shared by threads
/// would make one thread's verdict depend on what another did.
///
/// Install it in a program (`#[global_allocator] static A: CountingAllocator =
/// CountingAllocator;`) to make [`Limits::max_allocated`](crate::Limits::max_allocated) hold.
pub struct CountingAllocator;

fn count(bytes: usize) {
    // `try_with`: the thread-local may already be gone while a thread ends.
    let _ = ALLOCATED.try_with(|a| a.set(a.get().wrapping_add(bytes as u64)));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds `GlobalAlloc`'s
// contract; the only addition is a counter in a const-initialised thread-local `Cell`, which
// neither allocates nor panics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size.saturating_sub(layout.size()));
        // SAFETY: as for `alloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Units spent on this thread so far, in all evaluations: the difference across a piece of
/// work is what it cost.
pub(crate) fn spent() -> u64 {
    SPENT.with(Cell::get)
}

/// Units for one evidence entry of a violation: about what writing it costs (the entry built,
/// counted, sorted and rendered: some 200 bytes of report), in operations. Charged to the term
/// whose violation it is ([`charge_evidence`]).
pub(crate) const UNITS_PER_EVIDENCE: u64 = 32;

/// Charges the evidence a term's violation carries to this thread's spending, as work done
/// outside an evaluation: a threshold of `count: 10000` firing on every event writes 10,000
/// entries per event, and a term's budget over a replay (`Replay`'s) must see that work, or
/// a 200-byte rule fills a disk.
pub(crate) fn charge_evidence(entries: usize) {
    let units = UNITS_PER_EVIDENCE.saturating_mul(entries as u64);
    SPENT.with(|s| s.set(s.get().saturating_add(units)));
}

/// The message an evaluation stops with when its units run out; the same words as Rhai's own.
const TOO_MANY_OPERATIONS: &str = "Too many operations";

/// Bytes allocated that count as one unit.
const BYTES_PER_UNIT: u64 = 64;
/// Bytes of text searched, or of map keys compared, that count as one unit.
const SCANNED_PER_UNIT: usize = 256;

/// The units the current evaluation has spent, given Rhai's operation count, and the bytes it
/// has allocated; what is new since the last call is added to the thread's total.
fn units(operations: u64) -> (u64, u64) {
    let allocated = ALLOCATED.with(Cell::get);
    let bytes = allocated.wrapping_sub(ALLOCATED_AT_START.with(Cell::get));
    let units = operations
        .saturating_add(CHARGED.with(Cell::get))
        .saturating_add(bytes / BYTES_PER_UNIT);
    // Every unit the evaluation spends, whatever it was spent on, goes to the thread's total
    // once: a term's budget over a replay counts bytes as its evaluations do.
    let counted = COUNTED.with(|c| c.replace(units));
    SPENT.with(|s| s.set(s.get().wrapping_add(units.saturating_sub(counted))));
    (units, bytes)
}

/// What Rhai's progress callback does on every operation: stops the evaluation when its units
/// or its bytes are spent.
fn progress(operations: u64, max_operations: u64, max_allocated: u64) -> Option<Dynamic> {
    if operations == 1 {
        // A new evaluation (only here: a function charging during the first operation must
        // not start it again).
        CHARGED.with(|c| c.set(0));
        COUNTED.with(|c| c.set(0));
        ALLOCATED_AT_START.with(|a| a.set(ALLOCATED.with(Cell::get)));
    }
    let (units, bytes) = units(operations);
    if max_operations > 0 && units > max_operations {
        return Some(Dynamic::from(TOO_MANY_OPERATIONS));
    }
    if max_allocated > 0 && bytes > max_allocated {
        return Some(Dynamic::from(format!(
            "Too much memory: the evaluation allocated more than {} MiB",
            max_allocated >> 20
        )));
    }
    None
}

/// The words for an evaluation that [`progress`] stopped, or `None` for any other error.
pub(crate) fn stopped(err: &EvalAltResult) -> Option<String> {
    match err {
        EvalAltResult::ErrorTerminated(token, _) if token.is_string() => Some(token.to_string()),
        _ => None,
    }
}

/// The text of `value` as Rhai displays it, written no further than `max` bytes (cut at a
/// character boundary), and whether it is whole. A value may hold megabytes (a map of long
/// keys); displaying it whole only to cut it would spend what the limits saved.
pub(crate) fn bounded_text(value: &Dynamic, max: usize) -> (String, bool) {
    struct Capped {
        text: String,
        max: usize,
        whole: bool,
    }
    impl std::fmt::Write for Capped {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let room = self.max - self.text.len();
            if s.len() <= room {
                self.text.push_str(s);
                return Ok(());
            }
            self.text
                .push_str(s.get(..s.floor_char_boundary(room)).unwrap_or(""));
            self.whole = false;
            Err(std::fmt::Error)
        }
    }
    let mut capped = Capped {
        text: String::new(),
        max,
        whole: true,
    };
    let _ = std::fmt::Write::write_fmt(&mut capped, format_args!("{value}"));
    (capped.text, capped.whole)
}

/// Charges `units` to the evaluation running `ctx`; an error once its budget is spent.
fn charge(ctx: &NativeCallContext, units: u64) -> Result<(), Box<EvalAltResult>> {
    CHARGED.with(|c| c.set(c.get().saturating_add(units)));
    let max = ctx.engine().max_operations();
    let (spent, _) = self::units(ctx.global_runtime_state().num_operations);
    if max > 0 && spent > max {
        return Err(EvalAltResult::ErrorTooManyOperations(ctx.call_position()).into());
    }
    Ok(())
}

/// Charges a scan of `bytes` of text.
fn charge_scan(ctx: &NativeCallContext, bytes: usize) -> Result<(), Box<EvalAltResult>> {
    charge(ctx, (bytes / SCANNED_PER_UNIT) as u64)
}

/// Installs the meters on `engine`: the progress callback, and the element-wise functions
/// replaced by charging ones. Registered functions are searched before the packages, so these
/// take the place of Rhai's own.
pub(crate) fn install(engine: &mut Engine, max_operations: u64, max_allocated: u64) {
    engine.on_progress(move |operations| progress(operations, max_operations, max_allocated));
    engine.register_fn("==", array_equals);
    engine.register_fn("!=", |ctx: NativeCallContext, a: &mut Array, b: Array| {
        array_equals(ctx, a, b).map(|equal| !equal)
    });
    engine.register_fn("contains", array_contains);
    engine.register_fn(
        "index_of",
        |ctx: NativeCallContext, a: &mut Array, v: Dynamic| array_index_of(ctx, a, v, 0),
    );
    engine.register_fn("index_of", array_index_of);
    // Not pure: it changes the array, so Rhai must refuse it on a constant (an agreement's
    // list, shared by every term of the agreement), as it refuses its own `dedup`.
    rhai::FuncRegistration::new("dedup")
        .with_purity(false)
        .register_into_engine(engine, array_dedup);
    engine.register_fn("==", map_equals);
    // Searches in text: Rhai's semantics (positions in characters), charged by length.
    engine.register_fn(
        "contains",
        |ctx: NativeCallContext, s: ImmutableString, find: ImmutableString| {
            charge_scan(&ctx, s.len())?;
            Ok::<_, Box<EvalAltResult>>(s.contains(find.as_str()))
        },
    );
    engine.register_fn(
        "contains",
        |ctx: NativeCallContext, s: ImmutableString, find: char| {
            charge_scan(&ctx, s.len())?;
            Ok::<_, Box<EvalAltResult>>(s.contains(find))
        },
    );
    // `index_of` without a start is `index_of` from 0, as in Rhai.
    engine.register_fn(
        "index_of",
        |ctx: NativeCallContext, s: ImmutableString, find: ImmutableString| {
            index_in(&ctx, &s, 0, |rest| rest.find(find.as_str()))
        },
    );
    engine.register_fn(
        "index_of",
        |ctx: NativeCallContext, s: ImmutableString, find: char| {
            index_in(&ctx, &s, 0, |rest| rest.find(find))
        },
    );
    engine.register_fn(
        "index_of",
        |ctx: NativeCallContext, s: ImmutableString, find: ImmutableString, start: INT| {
            index_in(&ctx, &s, start, |rest| rest.find(find.as_str()))
        },
    );
    engine.register_fn(
        "index_of",
        |ctx: NativeCallContext, s: ImmutableString, find: char, start: INT| {
            index_in(&ctx, &s, start, |rest| rest.find(find))
        },
    );
    engine.register_fn("!=", |ctx: NativeCallContext, a: &mut Map, b: Map| {
        map_equals(ctx, a, b).map(|equal| !equal)
    });
}

/// Rhai's `index_of` on text, charged by the text's length: where `find` (a search of the
/// text from a byte offset on) first finds what it looks for from character `start`, in
/// characters; -1 when nowhere. A negative start counts from the end (before the first
/// character: the start); a start at or past the end, or an empty text, finds nothing.
fn index_in(
    ctx: &NativeCallContext,
    s: &str,
    start: INT,
    find: impl FnOnce(&str) -> Option<usize>,
) -> Result<INT, Box<EvalAltResult>> {
    charge_scan(ctx, s.len())?;
    let from = match start {
        _ if s.is_empty() => return Ok(-1),
        0 => 0,
        _ => {
            let chars = s.chars().count();
            let Ok(magnitude) = usize::try_from(start.unsigned_abs()) else {
                return Ok(-1);
            };
            let from = if start < 0 {
                chars.saturating_sub(magnitude)
            } else if magnitude >= chars {
                return Ok(-1);
            } else {
                magnitude
            };
            s.char_indices().nth(from).map_or(s.len(), |(at, _)| at)
        }
    };
    let found = s.get(from..).and_then(find).map(|at| from + at);
    Ok(found.and_then(|at| s.get(..at)).map_or(-1, |before| {
        INT::try_from(before.chars().count()).unwrap_or(-1)
    }))
}

/// `a == b` for two values inside a container, as Rhai's array functions decide it: a
/// comparison that does not exist between two values of different types is `false`.
fn element_equals(
    ctx: &NativeCallContext,
    a: &mut Dynamic,
    b: &mut Dynamic,
) -> Result<bool, Box<EvalAltResult>> {
    charge(ctx, 1)?;
    match ctx.call_native_fn_raw("==", true, &mut [a, b]) {
        Ok(equal) => Ok(equal.as_bool().unwrap_or(false)),
        Err(err) => match *err {
            EvalAltResult::ErrorFunctionNotFound(ref signature, ..)
                if signature.starts_with("==") && a.type_id() != b.type_id() =>
            {
                Ok(false)
            }
            _ => Err(err),
        },
    }
}

fn array_equals(
    ctx: NativeCallContext,
    a: &mut Array,
    mut b: Array,
) -> Result<bool, Box<EvalAltResult>> {
    if a.len() != b.len() {
        return Ok(false);
    }
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        if !element_equals(&ctx, x, y)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn array_contains(
    ctx: NativeCallContext,
    a: &mut Array,
    value: Dynamic,
) -> Result<bool, Box<EvalAltResult>> {
    for item in a.iter_mut() {
        if element_equals(&ctx, item, &mut value.clone())? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn array_index_of(
    ctx: NativeCallContext,
    a: &mut Array,
    value: Dynamic,
    start: INT,
) -> Result<INT, Box<EvalAltResult>> {
    // Rhai's offsets: negative counts from the end, clamped to the array.
    let len = a.len();
    let start = if start < 0 {
        len.saturating_sub(usize::try_from(start.unsigned_abs()).unwrap_or(usize::MAX))
    } else {
        usize::try_from(start).unwrap_or(usize::MAX).min(len)
    };
    for (i, item) in a.iter_mut().enumerate().skip(start) {
        if element_equals(&ctx, item, &mut value.clone())? {
            return Ok(INT::try_from(i).unwrap_or(INT::MAX));
        }
    }
    Ok(-1)
}

/// Removes consecutive equal elements. Rhai's own ignores a comparison that fails; so does
/// this one, except running out of units.
fn array_dedup(ctx: NativeCallContext, a: &mut Array) -> Result<(), Box<EvalAltResult>> {
    let mut kept: Array = Vec::with_capacity(a.len());
    for mut item in a.drain(..) {
        let duplicate = match kept.last_mut() {
            Some(last) => match element_equals(&ctx, last, &mut item) {
                Ok(equal) => equal,
                Err(err) if matches!(*err, EvalAltResult::ErrorTooManyOperations(..)) => {
                    return Err(err);
                }
                Err(_) => false,
            },
            None => false,
        };
        if !duplicate {
            kept.push(item);
        }
    }
    *a = kept;
    Ok(())
}

fn map_equals(ctx: NativeCallContext, a: &mut Map, mut b: Map) -> Result<bool, Box<EvalAltResult>> {
    if a.len() != b.len() {
        return Ok(false);
    }
    // Looking a key up hashes and compares it: its length is work too.
    let key_bytes: usize = a.keys().map(|k| k.len()).sum();
    charge_scan(&ctx, key_bytes)?;
    for (key, x) in a.iter_mut() {
        let Some(y) = b.get_mut(key) else {
            return Ok(false);
        };
        charge(&ctx, 1)?;
        let equal = ctx
            .call_native_fn_raw("==", true, &mut [x, y])?
            .as_bool()
            .unwrap_or(false);
        if !equal {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use crate::expr::sandbox::{Limits, engine};

    /// The charging `index_of` on text answers as Rhai's own: positions in characters, a
    /// negative start from the end, nothing at or past the end or in an empty text.
    #[test]
    fn index_of_on_text_answers_as_rhai() {
        let engine = engine(&Limits::default());
        for (expression, expected) in [
            (r#""héllo".index_of("l")"#, 2),
            (r#""héllo".index_of('o')"#, 4),
            (r#""héllo".index_of("l", 3)"#, 3),
            (r#""abcabc".index_of("b", -3)"#, 4),
            (r#""abcabc".index_of('b', -99)"#, 1),
            (r#""abc".index_of("c", 3)"#, -1),
            (r#""abc".index_of("", 1)"#, 1),
            (r#""".index_of("")"#, -1),
            (r#""abc".index_of("x")"#, -1),
        ] {
            let ours = engine
                .eval::<rhai::INT>(expression)
                .map_err(|e| e.to_string());
            assert_eq!(ours, Ok(expected), "{expression}");
            let rhai = rhai::Engine::new().eval::<rhai::INT>(expression);
            assert_eq!(ours.ok(), rhai.ok(), "{expression}: Rhai's own");
        }
    }
}
