//! Checkpoints: a stream's replay saved between two events, to be continued by a later run.
//!
//! A stream may run for weeks; a restart must neither lose a violation nor report one twice.
//! A checkpoint holds everything a replay has that its next events depend on: each term's
//! statistics, spending and form state (windows, obligations, gaps, chains, with the events
//! they hold), the reorder buffer, the lists of skipped and late lines, and where the reader
//! is in the stream, with the SHA-256 of the bytes before it. A later run given the same
//! stream from its start reads those bytes again without judging them, checks they are the
//! same, puts the state back, and goes on: what it decides is what the first run would have
//! decided after the checkpoint ([`super::run_checkpointed`]). The violations decided
//! before it are the caller's to keep (the command line appends them to a journal beside the
//! checkpoint, and truncates the journal to the checkpoint's length when resuming).
//!
//! The layout is private: `postcard` of the engine's own state types, read back only by the
//! same version of pactum, for the same rules, mapping and options. A header says which
//! (a fingerprint), and a checkpoint that does not match is refused before its body is read.
//! The memos are not saved: they change no result, and fill again after a resume. What they
//! change is work, and so a term's spending (`expr::cost`): a term near its budget can be
//! suspended at another event after a resume than in a run never interrupted.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use super::RunOptions;
use crate::engine::Program;
use crate::engine::replay;
use crate::input::order;

/// The first bytes of every checkpoint file.
const MAGIC: &[u8; 18] = b"pactum checkpoint\n";

/// The layout's version: raised whenever a saved type changes.
const LAYOUT: u32 = 2;

/// What a checkpoint says of itself, before its body.
#[derive(Serialize, Deserialize)]
struct Header {
    layout: u32,
    pactum: String,
    fingerprint: String,
}

/// A checkpoint read back, to resume from.
pub struct Checkpoint {
    pub(crate) events: order::Saved,
    pub(crate) replay: replay::Saved,
}

/// Why a checkpoint cannot be written or resumed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Not a checkpoint file.
    #[error("not a pactum checkpoint")]
    NotACheckpoint,
    /// Written by another version of pactum, or in another layout.
    #[error("written by pactum {pactum} (layout {layout}); this is pactum {ours} (layout {LAYOUT})", ours = env!("CARGO_PKG_VERSION"))]
    OtherVersion {
        /// The version that wrote it.
        pactum: String,
        /// Its layout.
        layout: u32,
    },
    /// Taken on other rules, another mapping, or with other options.
    #[error(
        "taken with other rules, another mapping or other options (--until, --max-delay, --skip-invalid) than this run's"
    )]
    OtherRun,
    /// The body cannot be read, or does not fit the program.
    #[error("damaged: {0}")]
    Damaged(String),
    /// The state could not be saved (an event value of a kind a checkpoint cannot hold).
    #[error("cannot save the state: {0}")]
    Unsaveable(String),
}

/// What identifies a run a checkpoint can be resumed by: the agreements' and the mapping's
/// contents and every option that changes a result. (The geography files an agreement names
/// are not in it: they are read again, and are to be left unchanged between the runs.)
pub fn fingerprint(
    program: &Program,
    mapping_sha256: Option<&str>,
    options: &RunOptions,
) -> String {
    let mut hasher = Sha256::new();
    for agreement in program.agreements() {
        hasher.update(agreement.id.as_bytes());
        hasher.update([0]);
        hasher.update(agreement.sha256.as_bytes());
        hasher.update([0]);
    }
    hasher.update(mapping_sha256.unwrap_or("no mapping").as_bytes());
    let RunOptions {
        skip_invalid,
        memo,
        until,
        max_delay,
        in_memory: _,
        // Speed only: the same results with any number.
        threads: _,
        max_term_state,
        max_state,
    } = options;
    hasher.update(
        format!(
            "\0{skip_invalid}\0{memo}\0{until:?}\0{}\0{max_term_state}\0{max_state}",
            max_delay.num_nanoseconds().unwrap_or(i64::MAX)
        )
        .as_bytes(),
    );
    crate::hex(&hasher.finalize())
}

/// The bytes of a checkpoint of `events` and `replay`.
pub(crate) fn encode(
    fingerprint: &str,
    events: &order::Saving<'_>,
    replay: &replay::Saving<'_>,
) -> Result<Vec<u8>, CheckpointError> {
    // postcard keeps no message of its own errors' causes: the one cause there is, an event
    // value of a kind `event::saved` does not know, is named here.
    let unsaveable = |err: postcard::Error| {
        CheckpointError::Unsaveable(format!(
            "{err}: an event holds a value of a kind a checkpoint cannot save (it saves (), booleans, integers, floats, characters, text, blobs, arrays and maps)"
        ))
    };
    let mut out = MAGIC.to_vec();
    let header = Header {
        layout: LAYOUT,
        pactum: env!("CARGO_PKG_VERSION").into(),
        fingerprint: fingerprint.into(),
    };
    out = postcard::to_extend(&header, out).map_err(unsaveable)?;
    out = postcard::to_extend(events, out).map_err(unsaveable)?;
    postcard::to_extend(replay, out).map_err(unsaveable)
}

/// Reads a checkpoint back, for a run whose [`fingerprint`] is `fingerprint`.
pub fn decode(bytes: &[u8], fingerprint: &str) -> Result<Checkpoint, CheckpointError> {
    let body = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or(CheckpointError::NotACheckpoint)?;
    let (header, body) =
        postcard::take_from_bytes::<Header>(body).map_err(|_| CheckpointError::NotACheckpoint)?;
    if header.layout != LAYOUT || header.pactum != env!("CARGO_PKG_VERSION") {
        return Err(CheckpointError::OtherVersion {
            pactum: header.pactum,
            layout: header.layout,
        });
    }
    if header.fingerprint != fingerprint {
        return Err(CheckpointError::OtherRun);
    }
    let damaged = |err: postcard::Error| CheckpointError::Damaged(err.to_string());
    let (events, body) = postcard::take_from_bytes(body).map_err(damaged)?;
    let (replay, rest) = postcard::take_from_bytes(body).map_err(damaged)?;
    if !rest.is_empty() {
        return Err(CheckpointError::Damaged(format!(
            "{} bytes after the end",
            rest.len()
        )));
    }
    Ok(Checkpoint { events, replay })
}

#[cfg(test)]
mod tests {
    use crate::event::{Event, Origin};
    use crate::input::EventParser;

    /// An event read back from its saved bytes has the same values, of the same types: an
    /// integer stays an integer, `1.0` a float, `-0.0` its sign, and nested lists and maps
    /// their order and contents.
    #[test]
    fn events_come_back_exactly() {
        let json = r#"{"time":"2024-01-01T00:00:00.123456789Z","kind":"k","id":"x1","a":1,"b":1.0,"c":"t","d":[1,2.5,null,true,"u"],"e":{"z":-0.0,"y":{"n":9007199254740993}},"f":null,"g":0.1}"#;
        let origin = Origin {
            file: "s".into(),
            line: 7,
        };
        let event = EventParser::new().parse_json(json, origin).unwrap();
        let bytes = postcard::to_stdvec(&event).unwrap();
        let back: Event = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.time(), event.time());
        assert_eq!(back.kind(), "k");
        assert_eq!(back.id(), "x1");
        assert_eq!(back.origin(), event.origin());
        for name in ["a", "b", "c", "d", "e", "f", "g"] {
            let (was, is) = (event.field(name).unwrap(), back.field(name).unwrap());
            assert_eq!(is.type_name(), was.type_name(), "{name}");
            assert_eq!(format!("{is:?}"), format!("{was:?}"), "{name}");
        }
        let negative_zero = back.field("e").unwrap().clone_cast::<rhai::Map>()["z"].as_float();
        assert!(negative_zero.unwrap().is_sign_negative());
        // What a mapping's expressions can make besides: a character, a blob (found in
        // review: a `char` field made every checkpoint fail).
        let made = Event::from_parts(
            event.time(),
            "k".into(),
            None,
            event.origin().clone(),
            vec![
                ("c".into(), rhai::Dynamic::from('é')),
                ("b".into(), rhai::Dynamic::from_blob(vec![0, 255])),
            ],
        );
        let bytes = postcard::to_stdvec(&made).unwrap();
        let back: Event = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(back.field("c").unwrap().as_char(), Ok('é'));
        assert_eq!(
            back.field("b").unwrap().clone_cast::<rhai::Blob>(),
            vec![0, 255]
        );
    }
}
