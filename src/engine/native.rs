//! Conditions judged without the interpreter: the shapes most `when`s are made of.
//!
//! A field compared with a number (`event.lat > 36.8`), a field equal to a text
//! (`event.kind == "airstrike"`), a field in a list of texts (`event.actor in actors`), joined
//! by `&&`, `||` and `!`: the checker compiles these into [`Test`]s ([`analyse`]), which the
//! replay evaluates directly on the event's values — no scope, no function resolution, no memo
//! key to build. The same analysis finds what a term can be dispatched on ([`Dispatch`]): the
//! texts one of which a field must hold for the term to select an event.
//!
//! Each field the tests read is read once per event, however many terms test it ([`Values`]),
//! and a text is read as the number of the test text it equals ([`Symbol`]): a thousand terms
//! testing `event.kind` cost one lookup of the event's kind and a thousand comparisons of
//! integers.
//!
//! Rhai stays the reference. A test answers only where the interpreter's answer is certain
//! without running it: a boolean, no error. Anywhere else it answers `None` and the
//! interpreter decides, as it did before: a missing field ordered (`() > 36.8` is an error the
//! term must count, with Rhai's message), a value of a kind the tests do not model (a
//! character, an array, a map, a text longer than the sandbox lets an expression read). What
//! each shape gives is Rhai's rule, copied: numbers compare across integers and floats with
//! Rhai's relative epsilon; a value of another type equals no number and no text; but a
//! text or a boolean ordered against a number fails (the sandbox's rule: `"37.2" > 36.8` is
//! an error the term counts, issue 14), so the tests leave that to the interpreter. The unit
//! tests hold every shape to the
//! interpreter over values of every kind, and to an upper bound on the operations Rhai counts,
//! so that a test never answers where the interpreter would have run out of its budget.

use std::collections::{BTreeMap, HashMap};

use rhai::{AST, Array, Expr, FnCallExpr, ImmutableString, Stmt};
use rustc_hash::FxHashMap;

use crate::event::{Event, FieldHint};
use crate::load::ListItem;

/// A field a test reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Field {
    /// `event.kind`.
    Kind,
    /// A free-form field: its number in the program's [`Fields`].
    Free(usize),
}

impl Field {
    /// Its place among the fields a [`Reader`] keeps: `kind` first, then the free fields.
    fn slot(self) -> usize {
        match self {
            Field::Kind => 0,
            Field::Free(number) => number + 1,
        }
    }
}

/// A text a test compares a field with, numbered per field ([`Fields::symbol`]); a text no
/// test names is [`Symbol::NONE`]. Equal texts of one field have equal numbers, so a test
/// compares numbers, and an event's text is looked up once, however many tests read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Symbol(u32);

impl Symbol {
    /// A text no test names: equal to no symbol a test holds.
    const NONE: Symbol = Symbol(u32::MAX);

    /// Its number, to index by.
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// The fields a program's tests read, numbered, and per field the texts they compare it with:
/// a replay keeps one hint and one value per field ([`Reader`]) rather than one per test.
#[derive(Debug)]
pub(crate) struct Fields {
    names: Vec<ImmutableString>,
    numbers: HashMap<ImmutableString, usize>,
    /// Per field ([`Field::slot`]), its texts and their numbers.
    symbols: Vec<FxHashMap<Box<str>, Symbol>>,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            names: Vec::new(),
            numbers: HashMap::new(),
            // `kind`'s.
            symbols: vec![FxHashMap::default()],
        }
    }
}

impl Fields {
    /// The field `event.NAME` reads; `None` for `time` and `id`, which expressions see
    /// computed (the time as text, the id or `FILE:LINE`): no test reads them.
    fn field(&mut self, name: &ImmutableString) -> Option<Field> {
        match name.as_str() {
            "kind" => Some(Field::Kind),
            "time" | "id" => None,
            _ => {
                let next = self.names.len();
                let number = *self.numbers.entry(name.clone()).or_insert(next);
                if number == next {
                    self.names.push(name.clone());
                    self.symbols.push(FxHashMap::default());
                }
                Some(Field::Free(number))
            }
        }
    }

    /// The number of `text` among the texts tests compare `field` with.
    fn symbol(&mut self, field: Field, text: &str) -> Option<Symbol> {
        let texts = self.symbols.get_mut(field.slot())?;
        let next = Symbol(u32::try_from(texts.len()).ok().filter(|n| *n < u32::MAX)?);
        Some(*texts.entry(Box::from(text)).or_insert(next))
    }

    /// The name of a field, as written after `event.`.
    #[cfg(test)]
    pub(crate) fn name(&self, field: Field) -> &str {
        match field {
            Field::Kind => "kind",
            Field::Free(number) => self.names.get(number).map_or("?", |n| n.as_str()),
        }
    }

    /// The text of a field's symbol.
    #[cfg(test)]
    pub(crate) fn text(&self, field: Field, symbol: Symbol) -> &str {
        self.symbols
            .get(field.slot())
            .and_then(|texts| texts.iter().find(|(_, s)| **s == symbol))
            .map_or("?", |(text, _)| text)
    }
}

/// A field's value as the tests see it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value {
    /// The event lacks the field, or holds `null`: Rhai sees `()` either way.
    Missing,
    Bool,
    Int(i64),
    Float(f64),
    /// A text, as the number of the test's text it equals ([`Symbol::NONE`]: none).
    Text(Symbol),
    /// Anything else — a character, an array, a map, a text longer than the sandbox lets an
    /// expression read (Rhai fails on it): the interpreter decides.
    Other,
}

/// Reads events' fields for the tests of one program: one hint per field name, so that in a
/// log of events of one shape a field is found by one pointer comparison
/// (`Event::field_hinted`), and each field's value read once per event ([`Reader::read`]).
pub(crate) struct Reader<'p> {
    fields: &'p Fields,
    /// Per free field.
    hints: Vec<FieldHint>,
    /// Per field ([`Field::slot`]): the number of the event it was read for, and its value.
    values: Vec<(u64, Value)>,
    /// The number of the event being read (1 for the first).
    event: u64,
    /// The longest text an expression may read (`Limits::max_string_size`; 0: no limit).
    max_text: usize,
}

impl<'p> Reader<'p> {
    pub(crate) fn new(fields: &'p Fields, max_text: usize) -> Self {
        Reader {
            fields,
            hints: vec![FieldHint::default(); fields.names.len()],
            values: vec![(0, Value::Other); fields.symbols.len()],
            event: 0,
            max_text,
        }
    }

    /// The values of `event`'s fields: each read when a test first asks for it.
    #[inline]
    pub(crate) fn read<'r, 'e>(&'r mut self, event: &'e Event) -> Values<'r, 'p, 'e> {
        self.event += 1;
        Values {
            reader: self,
            event,
        }
    }

    fn text(&self, field: Field, text: &str) -> Value {
        if self.max_text != 0 && text.len() > self.max_text {
            return Value::Other;
        }
        let symbol = self
            .fields
            .symbols
            .get(field.slot())
            .and_then(|texts| texts.get(text))
            .copied()
            .unwrap_or(Symbol::NONE);
        Value::Text(symbol)
    }

    fn value(&mut self, event: &Event, field: Field) -> Value {
        let Field::Free(number) = field else {
            return self.text(field, event.kind_text());
        };
        let fields = self.fields;
        let (Some(name), Some(hint)) = (fields.names.get(number), self.hints.get_mut(number))
        else {
            return Value::Other;
        };
        let Some(value) = event.field_hinted(name, hint) else {
            return Value::Missing;
        };
        // A value that contradicts the vocabulary is not compared: the interpreter fails on it.
        if event.has_nonconforming() && event.nonconformity(name).is_some() {
            return Value::Other;
        }
        if value.is_string() {
            return match value.read_lock::<ImmutableString>() {
                Some(text) => self.text(field, &text),
                None => Value::Other,
            };
        }
        if let Ok(int) = value.as_int() {
            Value::Int(int)
        } else if let Ok(float) = value.as_float() {
            Value::Float(float)
        } else if value.is_unit() {
            Value::Missing
        } else if value.is_bool() {
            Value::Bool
        } else {
            Value::Other
        }
    }
}

/// One event's values, as its tests read them ([`Reader::read`]).
pub(crate) struct Values<'r, 'p, 'e> {
    reader: &'r mut Reader<'p>,
    event: &'e Event,
}

impl Values<'_, '_, '_> {
    /// The value of `field`.
    #[inline]
    pub(crate) fn get(&mut self, field: Field) -> Value {
        let now = self.reader.event;
        if let Some((read, value)) = self.reader.values.get(field.slot())
            && *read == now
        {
            return *value;
        }
        let value = self.reader.value(self.event, field);
        if let Some(slot) = self.reader.values.get_mut(field.slot()) {
            *slot = (now, value);
        }
        value
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn of(name: &str) -> Option<Op> {
        Some(match name {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            _ => return None,
        })
    }

    /// The operator with its sides swapped: `36.8 < event.lat` is `event.lat > 36.8`.
    fn flip(self) -> Op {
        match self {
            Op::Eq | Op::Ne => self,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
        }
    }

    fn orders(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }

    fn ints(self, x: i64, y: i64) -> bool {
        match self {
            Op::Eq => x == y,
            Op::Ne => x != y,
            Op::Gt => x > y,
            Op::Ge => x >= y,
            Op::Lt => x < y,
            Op::Le => x <= y,
        }
    }

    /// Rhai's comparison of two numbers of which one at least is a float (its checked build,
    /// `rhai::func::builtin`): relative to the larger magnitude, within an epsilon.
    fn floats(self, x: f64, y: f64) -> bool {
        let max = if x * y == 0.0 {
            1.0
        } else {
            x.abs().max(y.abs())
        };
        if max == 0.0 {
            return matches!(self, Op::Eq | Op::Ge | Op::Le);
        }
        match self {
            Op::Eq => (x - y).abs() / max <= f64::EPSILON,
            Op::Ne => (x - y).abs() / max > f64::EPSILON,
            Op::Gt => (x - y) / max > f64::EPSILON,
            Op::Ge => (x - y) / max > -f64::EPSILON,
            Op::Lt => (y - x) / max > f64::EPSILON,
            Op::Le => (y - x) / max > -f64::EPSILON,
        }
    }
}

/// A number written in a condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

/// The symbols of a list's texts: as bits when they are all below 64, else sorted.
#[derive(Debug)]
pub(crate) enum Symbols {
    Bits(u64),
    Sorted(Box<[Symbol]>),
}

impl Symbols {
    fn new(mut symbols: Vec<Symbol>) -> Self {
        if symbols.iter().all(|s| s.0 < 64) {
            return Symbols::Bits(symbols.iter().fold(0, |bits, s| bits | 1 << s.0));
        }
        symbols.sort_unstable();
        symbols.dedup();
        Symbols::Sorted(symbols.into_boxed_slice())
    }

    #[inline]
    fn contains(&self, symbol: Symbol) -> bool {
        match self {
            Symbols::Bits(bits) => symbol.0 < 64 && bits & (1 << symbol.0) != 0,
            Symbols::Sorted(symbols) => symbols.binary_search(&symbol).is_ok(),
        }
    }
}

/// A part of a condition judged without the interpreter.
#[derive(Debug)]
pub(crate) enum Test {
    /// `event.F OP number` (`number OP event.F` is held the other way round).
    Compare {
        field: Field,
        op: Op,
        bound: Number,
    },
    /// `event.F == "text"`, or `!=` when `negated`.
    Equals {
        field: Field,
        text: Symbol,
        negated: bool,
    },
    /// `event.F in LIST`, a list of texts only (`count` of them, repeats included).
    In {
        field: Field,
        texts: Symbols,
        count: usize,
    },
    Not(Box<Test>),
    /// `&&`.
    All(Box<[Test]>),
    /// `||`.
    Any(Box<[Test]>),
    Constant(bool),
}

/// What a test needs of a field for it to be unable to fail (see [`Dispatch::guard`]): the
/// kinds of value it may hold, as a set (missing, text, number, boolean; never a value the
/// tests do not model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Need(u8);

impl Need {
    const IS_MISSING: u8 = 1;
    const IS_TEXT: u8 = 2;
    const IS_NUMBER: u8 = 4;
    const IS_BOOL: u8 = 8;
    /// Any value the tests model: equalities and lists.
    pub(crate) const KNOWN: Need =
        Need(Self::IS_MISSING | Self::IS_TEXT | Self::IS_NUMBER | Self::IS_BOOL);
    /// A number: an order (`() > 1` fails, and so does `"2" > 1`).
    pub(crate) const ORDERED: Need = Need(Self::IS_NUMBER);

    /// What both needs allow.
    fn and(self, other: Need) -> Need {
        Need(self.0 & other.0)
    }

    fn holds(self, value: Value) -> bool {
        let kind = match value {
            Value::Missing => Self::IS_MISSING,
            Value::Text(_) => Self::IS_TEXT,
            Value::Int(_) | Value::Float(_) => Self::IS_NUMBER,
            Value::Bool => Self::IS_BOOL,
            Value::Other => 0,
        };
        self.0 & kind != 0
    }
}

impl Test {
    /// What Rhai gives for this part on the event: `Some` when it is certainly that boolean,
    /// `None` when only the interpreter can tell (an error, or a value not modelled).
    pub(crate) fn eval(&self, values: &mut Values<'_, '_, '_>) -> Option<bool> {
        match self {
            Test::Compare { field, op, bound } => match (values.get(*field), bound) {
                // `() > 1` fails (the sandbox's rule); `() == 1` is false.
                (Value::Missing, _) if op.orders() => None,
                // A text or a boolean ordered against a number fails (the sandbox's rule).
                (Value::Text(_) | Value::Bool, _) if op.orders() => None,
                // Values of different types: equal never.
                (Value::Missing | Value::Bool | Value::Text(_), _) => Some(*op == Op::Ne),
                (Value::Int(x), Number::Int(y)) => Some(op.ints(x, *y)),
                (Value::Int(x), Number::Float(y)) => Some(op.floats(x as f64, *y)),
                (Value::Float(x), Number::Int(y)) => Some(op.floats(x, *y as f64)),
                (Value::Float(x), Number::Float(y)) => Some(op.floats(x, *y)),
                (Value::Other, _) => None,
            },
            Test::Equals {
                field,
                text,
                negated,
            } => match values.get(*field) {
                Value::Text(value) => Some((value == *text) != *negated),
                Value::Other => None,
                Value::Missing | Value::Bool | Value::Int(_) | Value::Float(_) => Some(*negated),
            },
            Test::In { field, texts, .. } => match values.get(*field) {
                Value::Text(value) => Some(texts.contains(value)),
                Value::Other => None,
                Value::Missing | Value::Bool | Value::Int(_) | Value::Float(_) => Some(false),
            },
            Test::Not(test) => test.eval(values).map(|value| !value),
            Test::All(tests) => {
                for test in tests {
                    if !test.eval(values)? {
                        return Some(false);
                    }
                }
                Some(true)
            }
            Test::Any(tests) => {
                for test in tests {
                    if test.eval(values)? {
                        return Some(true);
                    }
                }
                Some(false)
            }
            Test::Constant(value) => Some(*value),
        }
    }

    /// Adds to `needs` what each field this test reads must hold for it never to fail.
    fn needs(&self, needs: &mut BTreeMap<Field, Need>) {
        let mut need = |field: Field, need: Need| {
            let entry = needs.entry(field).or_insert(need);
            *entry = entry.and(need);
        };
        match self {
            Test::Compare { field, op, .. } => {
                need(
                    *field,
                    if op.orders() {
                        Need::ORDERED
                    } else {
                        Need::KNOWN
                    },
                );
            }
            Test::Equals { field, .. } | Test::In { field, .. } => need(*field, Need::KNOWN),
            Test::Not(test) => test.needs(needs),
            Test::All(tests) | Test::Any(tests) => tests.iter().for_each(|t| t.needs(needs)),
            Test::Constant(_) => {}
        }
    }

    /// An upper bound of the operations Rhai counts evaluating this part (the unit tests
    /// check it against the interpreter's own count).
    fn cost(&self) -> u64 {
        match self {
            Test::Compare { .. } | Test::Equals { .. } => 8,
            Test::In { count, .. } => 8 + 2 * *count as u64,
            Test::Not(test) => 2 + test.cost(),
            Test::All(tests) | Test::Any(tests) => 2 + tests.iter().map(Test::cost).sum::<u64>(),
            Test::Constant(_) => 1,
        }
    }
}

/// A `when` as far as tests can judge it: the operands of its top-level `&&` chain (or `||`
/// chain; a condition of another shape is one operand), from the first, as long as each is a
/// test.
#[derive(Debug)]
pub(crate) struct Condition {
    /// `&&` (`true`) or `||` (`false`).
    all: bool,
    tests: Box<[Test]>,
    /// Whether `tests` are all the operands. When they are not, an event the tests leave
    /// undecided goes to the interpreter.
    complete: bool,
}

impl Condition {
    /// What Rhai gives for the whole `when` on `event`, when the tests can tell: a chain stops
    /// at its first deciding operand, as Rhai's does, so a later operand's error cannot matter.
    #[inline]
    pub(crate) fn decide(&self, values: &mut Values<'_, '_, '_>) -> Option<bool> {
        for test in &self.tests {
            let value = test.eval(values)?;
            if value != self.all {
                return Some(value);
            }
        }
        self.complete.then_some(self.all)
    }

    /// An upper bound of the operations Rhai counts evaluating the tests.
    fn cost(&self) -> u64 {
        4 + self.tests.iter().map(Test::cost).sum::<u64>()
    }
}

/// What a term can be dispatched on: a field, and the texts one of which it must hold for the
/// term to select an event. An `&&` operand `event.F == "x"` or `event.F in LIST` (a list of
/// texts) is false on an event whose `F` holds none of those texts and no value the tests do
/// not model; if every operand before it can neither fail nor stop Rhai (the `guard` holds),
/// the whole `when` is false, with no error hidden, and the term need not be visited.
#[derive(Debug)]
pub(crate) struct Dispatch {
    pub(crate) field: Field,
    /// The texts, as the field's symbols.
    pub(crate) texts: Box<[Symbol]>,
    /// What the fields read by the operands before the dispatching one must hold for those
    /// operands never to fail; empty when it is the first.
    pub(crate) guard: Box<[(Field, Need)]>,
}

/// What a dispatch makes of an event's value of its field.
pub(crate) enum Admits {
    /// A text: the terms that test for it (none for [`Symbol::NONE`]).
    Text(Symbol),
    /// A value no text equals: none.
    Nothing,
    /// A value the tests do not model: every term, to be judged in full.
    Unknown,
}

impl Dispatch {
    /// What the value of a dispatch's `field` in the event admits.
    #[inline]
    pub(crate) fn admits(field: Field, values: &mut Values<'_, '_, '_>) -> Admits {
        match values.get(field) {
            Value::Text(text) => Admits::Text(text),
            Value::Missing | Value::Bool | Value::Int(_) | Value::Float(_) => Admits::Nothing,
            Value::Other => Admits::Unknown,
        }
    }

    /// Whether the operands before the dispatching one can neither fail nor stop on the
    /// event.
    #[inline]
    pub(crate) fn guarded(guard: &[(Field, Need)], values: &mut Values<'_, '_, '_>) -> bool {
        guard
            .iter()
            .all(|(field, need)| need.holds(values.get(*field)))
    }

    /// Whether the term certainly does not select the event, without error.
    pub(crate) fn excludes(&self, values: &mut Values<'_, '_, '_>) -> bool {
        let excluded = match Dispatch::admits(self.field, values) {
            Admits::Text(text) => !self.texts.contains(&text),
            Admits::Nothing => true,
            Admits::Unknown => false,
        };
        excluded && Dispatch::guarded(&self.guard, values)
    }
}

/// What [`analyse`] needs to know of the agreement and the sandbox.
pub(crate) struct Context<'a> {
    /// The agreement's lists.
    pub(crate) lists: &'a [(String, Vec<ListItem>)],
    /// Whether the agreement's `functions` define `contains` of two parameters: `x in list`
    /// calls it then, not the sandbox's.
    pub(crate) contains_defined: bool,
    pub(crate) fields: &'a mut Fields,
    /// The sandbox's budget of operations per expression (0: none).
    pub(crate) max_operations: u64,
    /// The sandbox's longest array (0: none).
    pub(crate) max_array: usize,
}

/// The tests of a condition, compiled by the sandbox with its agreement's scope (so that a
/// list may appear by name or folded into a constant), and what it can be dispatched on.
/// `None` for a condition whose first operand is not a test.
pub(crate) fn analyse(ast: &AST, cx: &mut Context<'_>) -> (Option<Condition>, Option<Dispatch>) {
    let (all, tests, count) = match ast.statements() {
        // A call standing alone is a statement; within a chain, an expression.
        [Stmt::FnCall(call, _)] => (true, call_test(call, cx).into_iter().collect(), 1),
        [Stmt::Expr(expr)] => {
            let (all, operands): (bool, &[Expr]) = match expr.as_ref() {
                Expr::And(operands, _) => (true, operands.as_slice()),
                Expr::Or(operands, _) => (false, operands.as_slice()),
                other => (true, std::slice::from_ref(other)),
            };
            let tests: Vec<Test> = operands.iter().map_while(|e| test(e, cx)).collect();
            (all, tests, operands.len())
        }
        _ => return (None, None),
    };
    let complete = tests.len() == count;
    let dispatch = if all { dispatch(&tests) } else { None };
    let condition = Condition {
        all,
        tests: tests.into_boxed_slice(),
        complete,
    };
    // A condition Rhai could not finish within its budget must fail as it does: with a
    // margin of two over the bound, only one no rule comes near.
    let affordable = cx.max_operations == 0 || 2 * condition.cost() <= cx.max_operations;
    if condition.tests.is_empty() || !affordable {
        return (None, None);
    }
    (Some(condition), dispatch)
}

/// Whether an expression is a test (reading `event` only: a test never reads another
/// variable but a list).
pub(crate) fn is_test(expr: &Expr, cx: &mut Context<'_>) -> bool {
    test(expr, cx).is_some()
}

/// Operands that must all hold (the head of a deadline's `require`), as one condition: `None`
/// unless each is a test and Rhai can evaluate them, with `extra` operations more, well within
/// its budget (so that where the tests answer, Rhai could not have run out).
pub(crate) fn all_of(operands: &[Expr], extra: u64, cx: &mut Context<'_>) -> Option<Condition> {
    let tests = operands
        .iter()
        .map(|e| test(e, cx))
        .collect::<Option<Vec<Test>>>()?;
    let condition = Condition {
        all: true,
        tests: tests.into_boxed_slice(),
        complete: true,
    };
    let affordable = cx.max_operations == 0 || 2 * (condition.cost() + extra) <= cx.max_operations;
    affordable.then_some(condition)
}

/// The operand with the fewest texts (the likeliest to exclude an event; the first of equals)
/// of an `&&` chain's tests.
fn dispatch(tests: &[Test]) -> Option<Dispatch> {
    let (at, field, texts) = tests
        .iter()
        .enumerate()
        .filter_map(|(at, test)| match test {
            Test::Equals {
                field,
                text,
                negated: false,
            } => Some((at, *field, vec![*text])),
            Test::In {
                field,
                texts: Symbols::Bits(bits),
                ..
            } => Some((
                at,
                *field,
                (0..64).filter(|n| bits & 1 << n != 0).map(Symbol).collect(),
            )),
            Test::In {
                field,
                texts: Symbols::Sorted(symbols),
                ..
            } => Some((at, *field, symbols.to_vec())),
            _ => None,
        })
        .min_by_key(|(at, _, texts)| (texts.len(), *at))?;
    let mut needs = BTreeMap::new();
    for test in tests.iter().take(at) {
        test.needs(&mut needs);
    }
    Some(Dispatch {
        field,
        texts: texts.into_boxed_slice(),
        guard: needs.into_iter().collect(),
    })
}

/// The test an expression is, if it is one.
fn test(expr: &Expr, cx: &mut Context<'_>) -> Option<Test> {
    match expr {
        Expr::BoolConstant(value, _) => Some(Test::Constant(*value)),
        Expr::And(operands, _) => Some(Test::All(
            operands
                .iter()
                .map(|e| test(e, cx))
                .collect::<Option<_>>()?,
        )),
        Expr::Or(operands, _) => Some(Test::Any(
            operands
                .iter()
                .map(|e| test(e, cx))
                .collect::<Option<_>>()?,
        )),
        Expr::FnCall(call, _) => call_test(call, cx),
        _ => None,
    }
}

/// The test an operator is: `!`, a comparison, `in`.
fn call_test(call: &FnCallExpr, cx: &mut Context<'_>) -> Option<Test> {
    match (call.name.as_str(), call.args.as_slice()) {
        // Operators only; `contains(list, x)` is what `x in list` becomes.
        ("!", [operand]) if call.op_token.is_some() => {
            Some(Test::Not(Box::new(test(operand, cx)?)))
        }
        ("contains", [list, needle]) if !cx.contains_defined => {
            let field = field_of(needle, cx)?;
            let texts = texts_of(list, cx)?;
            if cx.max_array != 0 && texts.len() > cx.max_array {
                return None;
            }
            let symbols = texts
                .iter()
                .map(|text| cx.fields.symbol(field, text))
                .collect::<Option<Vec<Symbol>>>()?;
            Some(Test::In {
                field,
                texts: Symbols::new(symbols),
                count: texts.len(),
            })
        }
        (name, [a, b]) if call.op_token.is_some() => {
            let op = Op::of(name)?;
            let (field, other, op) = match (field_of(a, cx), field_of(b, cx)) {
                (Some(field), None) => (field, b, op),
                (None, Some(field)) => (field, a, op.flip()),
                _ => return None,
            };
            let number = match other {
                Expr::IntegerConstant(int, _) => Number::Int(*int),
                Expr::FloatConstant(float, _) => Number::Float(**float),
                Expr::StringConstant(text, _) if !op.orders() => {
                    return Some(Test::Equals {
                        field,
                        text: cx.fields.symbol(field, text)?,
                        negated: op == Op::Ne,
                    });
                }
                _ => return None,
            };
            Some(Test::Compare {
                field,
                op,
                bound: number,
            })
        }
        _ => None,
    }
}

/// The field `event.NAME` or `event["NAME"]` reads.
fn field_of(expr: &Expr, cx: &mut Context<'_>) -> Option<Field> {
    let (Expr::Dot(x, ..) | Expr::Index(x, ..)) = expr else {
        return None;
    };
    let Expr::Variable(variable, ..) = &x.lhs else {
        return None;
    };
    if variable.1 != "event" {
        return None;
    }
    match (expr, &x.rhs) {
        (Expr::Dot(..), Expr::Property(property, _)) => cx.fields.field(&property.2),
        (Expr::Index(..), Expr::StringConstant(name, _)) => cx.fields.field(name),
        _ => None,
    }
}

/// The texts of a list written in place, named, or folded into a constant by the optimiser;
/// `None` unless every item is a text.
fn texts_of(list: &Expr, cx: &Context<'_>) -> Option<Vec<ImmutableString>> {
    match list {
        Expr::Variable(variable, ..) => {
            let (_, items) = cx.lists.iter().find(|(name, _)| *name == variable.1)?;
            items
                .iter()
                .map(|item| match item {
                    ListItem::Text(text) => Some(text.as_str().into()),
                    _ => None,
                })
                .collect()
        }
        Expr::Array(items, _) => items
            .iter()
            .map(|item| match item {
                Expr::StringConstant(text, _) => Some(text.clone()),
                _ => None,
            })
            .collect(),
        Expr::DynamicConstant(value, _) => {
            let array = value.read_lock::<Array>()?;
            array
                .iter()
                .map(|item| item.read_lock::<ImmutableString>().map(|text| text.clone()))
                .collect()
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use rhai::{Dynamic, Map, Scope};

    use super::*;
    use crate::event::{EventHandle, Origin};
    use crate::expr::sandbox::{self, Limits};

    /// Conditions of every shape the tests model (`true`), and some they must leave to Rhai.
    const CONDITIONS: &[(&str, bool)] = &[
        (r#"event.kind == "a""#, true),
        (r#"event.actor != "PKK""#, true),
        (r#""PKK" == event.actor"#, true),
        (r#"event.lat > 36.5"#, true),
        (r#"event.lat >= 37"#, true),
        (r#"36.5 < event.lat"#, true),
        (r#"37 >= event.lat"#, true),
        (r#"event.n == 5"#, true),
        (r#"event.n != 5.0"#, true),
        (r#"event.n < 5"#, true),
        (r#"event.n <= -2"#, true),
        (r#"event.lat == 0.0"#, true),
        (r#"event.lat > 0"#, true),
        (r#"event.n > 9223372036854775807"#, true),
        (r#"event.lat < 1e300"#, true),
        (r#"event.actor in kinds"#, true),
        (r#"event["actor"] in ["PKK", "TAF"]"#, true),
        (r#"event.actor in []"#, true),
        (r#"event.actor in many"#, true),
        (r#"!(event.actor in kinds)"#, true),
        (r#"event.actor !in kinds"#, true),
        (
            r#"event.kind in kinds && event.lat > 37.0 || event.n == 3"#,
            true,
        ),
        (r#"event.lat > 36.5 && event.kind == "b""#, true),
        (
            r#"event.lat > 36.5 && event.actor in kinds && event.n < 3"#,
            true,
        ),
        (
            r#"event.n >= 0 && event.actor == "PKK" && event.kind in kinds"#,
            true,
        ),
        (r#"event.actor == "PKK" || event.lat > 37.0"#, true),
        (r#"event.actor == "PKK" && event.lat.floor() > 1.0"#, true),
        (r#"true && event.kind == "b""#, true),
        (r#"!(event.lat > 1e300) && !false"#, true),
        // Left to Rhai: a list with a number, text ordered, `time`.
        (r#"event.actor in mixed"#, false),
        (r#"event.actor > "a""#, false),
        (r#"event.time == "2024""#, false),
    ];

    /// Values of every kind a field can hold, including those the tests must not model.
    fn values() -> Vec<Option<Dynamic>> {
        let mut map = Map::new();
        map.insert("a".into(), Dynamic::from_int(1));
        vec![
            None,
            Some(Dynamic::UNIT),
            Some(Dynamic::from_bool(true)),
            Some(Dynamic::from_int(0)),
            Some(Dynamic::from_int(5)),
            Some(Dynamic::from_int(-2)),
            Some(Dynamic::from_int(37)),
            Some(Dynamic::from_int(i64::MAX)),
            Some(Dynamic::from_float(36.5)),
            Some(Dynamic::from_float(37.0)),
            Some(Dynamic::from_float(37.000_000_000_000_01)),
            Some(Dynamic::from_float(0.0)),
            Some(Dynamic::from_float(-0.0)),
            Some(Dynamic::from_float(1e-320)),
            Some(Dynamic::from_float(1e300)),
            Some(Dynamic::from_float(f64::NAN)),
            Some(Dynamic::from_float(5.000_000_000_000_001)),
            Some(Dynamic::from("PKK")),
            Some(Dynamic::from("a")),
            Some(Dynamic::from("37.2")),
            Some(Dynamic::from("")),
            Some(Dynamic::from('a')),
            Some(Dynamic::from_array(vec![Dynamic::from("PKK")])),
            Some(Dynamic::from_map(map)),
            Some(Dynamic::from("x".repeat(20_000))),
            Some(Dynamic::from("PKK".repeat(10))),
        ]
    }

    /// Events whose fields take every value, each beside others.
    fn events() -> Vec<Event> {
        let values = values();
        let kinds = ["a", "b", "PKK", "c"];
        let mut events = Vec::new();
        for step in [1, 3, 7] {
            for at in 0..values.len() {
                let mut fields = Vec::new();
                for (n, name) in ["actor", "lat", "n"].into_iter().enumerate() {
                    if let Some(value) = &values[(at + n * step) % values.len()] {
                        fields.push((ImmutableString::from(name), value.clone()));
                    }
                }
                let time = chrono::DateTime::UNIX_EPOCH;
                let origin = Origin {
                    file: "t".into(),
                    line: events.len() as u64 + 1,
                };
                let kind = kinds[(at + step) % kinds.len()].into();
                events.push(Event::from_parts(time, kind, None, origin, fields));
            }
        }
        events
    }

    fn lists() -> Vec<(String, Vec<ListItem>)> {
        let text = |t: &str| ListItem::Text(t.into());
        vec![
            ("kinds".into(), vec![text("a"), text("b"), text("PKK")]),
            ("mixed".into(), vec![text("a"), ListItem::Integer(5)]),
            (
                "many".into(),
                (0..20)
                    .map(|n| text(&format!("k{n}")))
                    .chain([text("PKK")])
                    .collect(),
            ),
        ]
    }

    /// Every condition on every event: where a test answers, Rhai gives that boolean without
    /// error and within the counted operations; where a dispatch excludes an event, Rhai gives
    /// `false`.
    #[test]
    fn tests_answer_only_what_the_interpreter_answers() {
        let limits = Limits::default();
        let mut engine = sandbox::engine(&limits);
        let operations = Rc::new(Cell::new(0u64));
        let counted = operations.clone();
        engine.on_progress(move |n| {
            counted.set(n);
            None
        });
        let lists = lists();
        let mut scope = Scope::new();
        for (name, items) in &lists {
            let array: Array = items.iter().map(crate::expr::list_value).collect();
            scope.push_constant(name.clone(), array);
        }
        scope.push("event", ());
        let mut fields = Fields::default();
        let mut analysed = Vec::new();
        for (text, native) in CONDITIONS {
            let ast = engine.compile_expression_with_scope(&scope, text).unwrap();
            let mut cx = Context {
                lists: &lists,
                contains_defined: false,
                fields: &mut fields,
                max_operations: limits.max_operations,
                max_array: limits.max_array_size,
            };
            let (condition, dispatch) = analyse(&ast, &mut cx);
            analysed.push((text, native, ast, condition, dispatch));
        }
        let mut reader = Reader::new(&fields, limits.max_string_size);
        let (mut decided, mut excluded, mut total, mut most) = (0, 0, 0, 0);
        for (text, native, ast, condition, dispatch) in &analysed {
            let mut decides = 0;
            for event in events() {
                let event = Rc::new(event);
                scope.set_value("event", Dynamic::from(EventHandle(event.clone())));
                operations.set(0);
                let rhai = engine
                    .eval_ast_with_scope::<Dynamic>(&mut scope, ast)
                    .map(|value| value.as_bool());
                total += 1;
                if let Some(native) = condition
                    .as_ref()
                    .and_then(|c| c.decide(&mut reader.read(&event)))
                {
                    assert!(
                        matches!(rhai, Ok(Ok(value)) if value == native),
                        "{text} on {:?}: native {native}, Rhai {rhai:?}",
                        event
                    );
                    let cost = condition.as_ref().map_or(0, Condition::cost);
                    assert!(
                        operations.get() <= cost,
                        "{text}: {} > {cost}",
                        operations.get()
                    );
                    most = most.max(operations.get());
                    decides += 1;
                }
                if let Some(dispatch) = dispatch
                    && dispatch.excludes(&mut reader.read(&event))
                {
                    assert!(
                        matches!(rhai, Ok(Ok(false))),
                        "{text} on {:?}: excluded, Rhai {rhai:?}",
                        event
                    );
                    excluded += 1;
                }
            }
            // The shapes the tests model are decided on most values; the others never.
            assert_eq!(
                decides > 0,
                **native,
                "{text}: decided natively {decides} times"
            );
            decided += decides;
        }
        assert!(decided * 10 > total * 6, "{decided} of {total}");
        assert!(excluded > 100, "{excluded}");
        assert!(most > 0, "the operations were counted");
    }

    /// A list larger than an array may be, or a budget too small for a condition, leaves it to
    /// Rhai, which fails on it.
    #[test]
    fn limits_leave_conditions_to_the_interpreter() {
        let limits = Limits {
            max_array_size: 3,
            max_operations: 40,
            ..Limits::default()
        };
        let engine = sandbox::engine(&limits);
        let lists = lists();
        let mut scope = Scope::new();
        scope.push_constant(
            "kinds",
            Array::from(["a".into(), "b".into(), "c".into(), "d".into()]),
        );
        scope.push("event", ());
        let mut fields = Fields::default();
        for (text, native) in [
            (r#"event.actor in ["a", "b"]"#, true),
            (r#"event.actor in kinds"#, false),
            (
                r#"event.n > 1 && event.n > 2 && event.n > 3 && event.n > 4"#,
                false,
            ),
        ] {
            let ast = engine.compile_expression_with_scope(&scope, text).unwrap();
            let mut cx = Context {
                lists: &lists,
                contains_defined: false,
                fields: &mut fields,
                max_operations: limits.max_operations,
                max_array: limits.max_array_size,
            };
            assert_eq!(analyse(&ast, &mut cx).0.is_some(), native, "{text}");
        }
        // `x in list` calls a `contains` the file defines.
        let ast = engine
            .compile_expression_with_scope(&scope, r#"event.actor in ["a"]"#)
            .unwrap();
        let mut cx = Context {
            lists: &lists,
            contains_defined: true,
            fields: &mut fields,
            max_operations: 0,
            max_array: 0,
        };
        assert!(analyse(&ast, &mut cx).0.is_none());
    }
}
