//! Ending a stream on SIGINT or SIGTERM as if it had ended, so that what was judged is kept.
//!
//! A replay of standard input may run for days. Killed by the default action of a signal, it
//! would write nothing: every violation judged so far lost. So while a stream is read, the
//! first SIGINT or SIGTERM only records itself, and standard input is read through
//! [`Interruptible`], which then reports the end of the input: the replay finishes as for any
//! end of stream (the reorder buffer judged, deadlines and gaps decided up to the last event
//! read), the report is written — marked `interrupted` — and the process exits with 128 plus
//! the signal's number, as a shell expects. A second signal has the default action at once
//! (the handler is installed with `SA_RESETHAND`): an operator who insists is obeyed.
//!
//! The handler is installed without `SA_RESTART`, so a read blocked on a quiet pipe returns
//! `EINTR` and the signal is seen at once, not at the next line. Files are not read through
//! it: a file is read to its end in moments, and a killed run leaves the earlier report in
//! place (reports are renamed over their path only when complete).

use std::io::{self, Read};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// The signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    // Only an atomic store: all a signal handler may safely do.
    RECEIVED.store(signal, Ordering::SeqCst);
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn install() -> io::Result<()> {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `action` is fully initialised (zeroed, then the handler, an empty mask and
        // the flags set) before `sigaction` reads it; the handler only stores to an atomic,
        // which is async-signal-safe.
        #[allow(unsafe_code)]
        let result = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            action.sa_flags = libc::SA_RESETHAND;
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if result != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The signal that interrupted the run, if one did: its name and the exit code it calls for.
pub fn received() -> Option<(&'static str, u8)> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        libc::SIGINT => Some(("SIGINT", 128 + libc::SIGINT as u8)),
        libc::SIGTERM => Some(("SIGTERM", 128 + libc::SIGTERM as u8)),
        _ => None,
    }
}

/// Standard input read so that a signal ends it between lines: complete lines are handed on
/// as they come, the bytes after the last line break are held until it is complete (or the
/// input ends, or they pass [`pactum::input::MAX_LINE_BYTES`], when the reader's own limit
/// takes over), and once a signal is received the input ends — the incomplete line dropped
/// and counted ([`dropped`]), never judged as a broken event.
pub struct Interruptible<R> {
    inner: R,
    /// Bytes read and not yet handed on: an incomplete line, or complete lines that did not
    /// fit the caller's buffer.
    pending: Vec<u8>,
    chunk: Vec<u8>,
}

/// Bytes of an incomplete line dropped when a signal ended standard input.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

/// The bytes of the incomplete line dropped when a signal ended standard input (0: none).
pub fn dropped() -> usize {
    DROPPED.load(Ordering::SeqCst)
}

impl<R> Interruptible<R> {
    pub fn new(inner: R) -> Self {
        Interruptible {
            inner,
            pending: Vec::new(),
            chunk: vec![0; 64 << 10],
        }
    }

    /// Hands on up to `upto` pending bytes.
    fn hand_on(&mut self, buf: &mut [u8], upto: usize) -> usize {
        let n = upto.min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), self.pending.get(..n)) {
            to.copy_from_slice(from);
        }
        self.pending.drain(..n);
        n
    }
}

impl<R: Read> Read for Interruptible<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if RECEIVED.load(Ordering::SeqCst) != 0 {
                let incomplete = match memchr::memrchr(b'\n', &self.pending) {
                    Some(last) => last + 1,
                    None => 0,
                };
                if incomplete > 0 {
                    return Ok(self.hand_on(buf, incomplete));
                }
                DROPPED.fetch_add(self.pending.len(), Ordering::SeqCst);
                self.pending.clear();
                return Ok(0);
            }
            if let Some(last) = memchr::memrchr(b'\n', &self.pending) {
                return Ok(self.hand_on(buf, last + 1));
            }
            if self.pending.len() > pactum::input::MAX_LINE_BYTES {
                let all = self.pending.len();
                return Ok(self.hand_on(buf, all));
            }
            match self.inner.read(&mut self.chunk) {
                // An end that comes with a signal is the signal's: the incomplete line is
                // dropped, not judged.
                Ok(0) if RECEIVED.load(Ordering::SeqCst) != 0 => continue,
                Ok(0) => {
                    let all = self.pending.len();
                    return Ok(self.hand_on(buf, all));
                }
                Ok(n) => self
                    .pending
                    .extend_from_slice(self.chunk.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}
