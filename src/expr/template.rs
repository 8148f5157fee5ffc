//! Message templates: `"{event.kind} at {event.place}"` cut into text and placeholders.
//!
//! The compiler, the warnings and `explain` read placeholders the same way, through
//! [`template_parts`].

/// Placeholders one message may hold: each is an evaluation per violation and a memo table.
pub(crate) const MAX_PLACEHOLDERS: usize = 32;

/// Bytes of a message: of its template as written, and of the message a violation carries
/// (placeholders filled in), which is cut there with `…`. A report line, not a document.
pub(crate) const MAX_MESSAGE_BYTES: usize = 2048;

/// A part of a message template, as written.
pub(crate) enum TemplatePart {
    /// Literal text (`{{` and `}}` already made single braces).
    Text(String),
    /// The text of a `{expression}` and where it starts inside the message (line, column).
    Placeholder { text: String, start: (u64, u64) },
    /// A brace that opens or closes nothing, or an empty placeholder, at a position inside
    /// the message.
    Broken {
        at: (u64, u64),
        message: &'static str,
    },
}

/// Splits a message template into its parts; the compiler, the warnings and `explain` read
/// placeholders the same way.
pub(crate) fn template_parts(message: &str) -> Vec<TemplatePart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let (mut line, mut column) = (1u64, 1u64);
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        let here = (line, column);
        advance(&mut line, &mut column, c);
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                advance(&mut line, &mut column, '{');
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                advance(&mut line, &mut column, '}');
                text.push('}');
            }
            '{' => {
                let start = (line, column);
                let mut depth = 1;
                let mut source = String::new();
                for c in chars.by_ref() {
                    advance(&mut line, &mut column, c);
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        break;
                    }
                    source.push(c);
                }
                if depth != 0 || source.trim().is_empty() {
                    parts.push(TemplatePart::Broken {
                        at: here,
                        message: if depth != 0 {
                            "unclosed `{` in message"
                        } else {
                            "empty `{}` in message"
                        },
                    });
                    continue;
                }
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(TemplatePart::Placeholder {
                    text: source,
                    start,
                });
            }
            '}' => parts.push(TemplatePart::Broken {
                at: here,
                message: "unmatched `}` in message",
            }),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    parts
}

fn advance(line: &mut u64, column: &mut u64, c: char) {
    if c == '\n' {
        *line += 1;
        *column = 1;
    } else {
        *column += 1;
    }
}
