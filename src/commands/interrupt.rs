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
//! The handler also writes a byte to a pipe of its own, and standard input is waited on with
//! poll(2) together with that pipe, so a signal is seen at once, not at the next line, however
//! it falls between the check and the wait (the handler is installed without `SA_RESTART`
//! as well). Files are not read through
//! it: a file is read to its end in moments, and a killed run leaves the earlier report in
//! place (reports are renamed over their path only when complete).

use std::io::{self, Read};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// The signal received, or 0.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// The pipe the handler writes a byte to (the self-pipe), so that a reader waiting for input
/// wakes up however the signal fell: read end, write end; -1 before [`install`].
static WAKE: [AtomicI32; 2] = [AtomicI32::new(-1), AtomicI32::new(-1)];

extern "C" fn on_signal(signal: libc::c_int) {
    // An atomic store and a write(2): all async-signal-safe.
    RECEIVED.store(signal, Ordering::SeqCst);
    let fd = WAKE[1].load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: writes one byte from a live local to a descriptor this module opened; a
        // full pipe (EAGAIN: it is non-blocking) loses nothing, one byte is enough.
        #[allow(unsafe_code)]
        unsafe {
            libc::write(fd, (&raw const byte).cast(), 1);
        }
    }
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn install() -> io::Result<()> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    #[allow(unsafe_code)]
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    WAKE[0].store(fds[0], Ordering::SeqCst);
    WAKE[1].store(fds[1], Ordering::SeqCst);
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

/// Waits until standard input can be read (data, its end or an error) or a signal came;
/// `false` for the latter. Checking [`RECEIVED`] and then blocking in read(2) would leave a
/// window in which a signal is missed and a quiet pipe blocks until the next line; poll(2) on
/// standard input and the handler's pipe together has none.
fn wait_for_input() -> bool {
    let wake = WAKE[0].load(Ordering::SeqCst);
    if wake < 0 {
        return true;
    }
    let mut fds = [
        libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: wake,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: `fds` is a live array of two initialised pollfd, its length passed with it.
        #[allow(unsafe_code)]
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if RECEIVED.load(Ordering::SeqCst) != 0 {
                return false;
            }
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue; // another signal
            }
            return true; // let read(2) say what is wrong
        }
        if RECEIVED.load(Ordering::SeqCst) != 0 {
            return false;
        }
        if fds[0].revents != 0 {
            return true;
        }
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
            if !wait_for_input() {
                continue;
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
