//! Opening event inputs: files by name, `-` for standard input, each with its format and, for a
//! regular file, a way to read it again.
//!
//! The library reads events from any reader and asks the caller to reopen one when a program
//! with a temporal form needs the events in time order; only here is it known which names are
//! regular files (that can be read again) and which are pipes or devices (that cannot).

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::rc::Rc;

use anyhow::{Context, Result};
use clap::ValueEnum;

use pactum::input::mapping::Mapping;
use pactum::{Input, InputFormat};

/// `--input-format`: the format of event inputs, when not the one their extension says.
#[derive(Clone, Copy, ValueEnum)]
pub enum InputFormatArg {
    Jsonl,
    Yaml,
    Csv,
}

/// The buffer of a file read again in canonical order (see the reopen closure in
/// [`open_inputs`]).
const REREAD_BUFFER: usize = 4 << 10;

/// Opens event inputs (`-` is standard input) with the format each needs, and a way to read
/// each regular file again.
pub fn open_inputs(
    events: &[String],
    format_arg: Option<InputFormatArg>,
    mapping: Option<&Rc<Mapping>>,
) -> Result<Vec<Input<'static>>> {
    let mut inputs = Vec::new();
    for name in events {
        let reader: Box<dyn BufRead> = if name == "-" {
            // Read so that a signal ends it between lines (when the replay of a stream has
            // installed the handler; `interrupt`).
            // Its descriptor read directly (not through `Stdin`'s own buffer), so that waiting
            // on it with poll(2) means waiting for data not yet read.
            let stdin = std::os::fd::AsFd::as_fd(&io::stdin())
                .try_clone_to_owned()
                .context("cannot read standard input")?;
            Box::new(BufReader::with_capacity(
                1 << 16,
                super::interrupt::Interruptible::new(fs::File::from(stdin)),
            ))
        } else {
            let file = fs::File::open(name).with_context(|| format!("cannot open {name}"))?;
            Box::new(BufReader::with_capacity(1 << 16, file))
        };
        let format = input_format(format_arg, name);
        // A regular file can be read again, in another order, if temporal terms need it; a
        // pipe or a device (`/dev/stdin`, `<(…)`) cannot.
        let regular = name != "-" && fs::metadata(name).is_ok_and(|m| m.is_file());
        let reopen: Option<pactum::run::Reopen> = regular.then(|| {
            let path = name.clone();
            Box::new(move || {
                let file = fs::File::open(&path)?;
                // Read again means read out of order: every seek throws the buffer away, so a
                // small one (a few events' worth) keeps each jump to one short read. 64 KiB
                // here made a shuffled 300,000-line replay spend seconds copying buffers.
                Ok(Box::new(BufReader::with_capacity(REREAD_BUFFER, file))
                    as Box<dyn pactum::run::SeekRead>)
            }) as pactum::run::Reopen
        });
        inputs.push(Input {
            name: name.clone(),
            reader,
            format,
            reopen,
            mapping: mapping.cloned(),
        });
    }
    Ok(inputs)
}

/// The format of the input `name`: the one `--input-format` gives, else its extension's.
pub fn input_format(arg: Option<InputFormatArg>, name: &str) -> InputFormat {
    match arg {
        Some(InputFormatArg::Jsonl) => InputFormat::JsonLines,
        Some(InputFormatArg::Yaml) => InputFormat::Yaml,
        Some(InputFormatArg::Csv) => InputFormat::Csv,
        None => InputFormat::from_name(name),
    }
}
