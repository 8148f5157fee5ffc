//! A report's bytes written to their file by a thread of their own (`--threads 2` and more).
//!
//! Why: a JSON report can be larger than the log it judges (445 MB for the benchmark's
//! million events), and each `write(2)` of it is the kernel copying into the page cache on
//! the thread that should be judging events. Here the replay fills buffers of [`BUFFER`] and
//! hands each to the writing thread, which writes them in order and hands them back; at most
//! [`QUEUED`] wait, so memory stays bounded. The bytes are the same: only who writes them
//! changes. A write that fails ends the thread; the replay learns of it at its next
//! hand-over or at `flush`, as it would have from the file itself.

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Bytes handed over at a time.
const BUFFER: usize = 1 << 20;
/// Buffers that may wait for the writing thread before the replay waits for it.
const QUEUED: usize = 4;

enum Message {
    Bytes(Vec<u8>),
    /// Flush the file, then answer.
    Flush(SyncSender<()>),
}

/// A [`Write`] whose bytes another thread writes to `W`.
pub struct BackgroundWriter {
    buffer: Vec<u8>,
    send: Option<SyncSender<Message>>,
    /// Buffers written, to be filled again.
    back: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl BackgroundWriter {
    /// Starts the thread writing to `out`.
    pub fn new<W: Write + Send + 'static>(mut out: W) -> io::Result<Self> {
        let (send, receive) = mpsc::sync_channel::<Message>(QUEUED);
        let (give_back, back) = mpsc::sync_channel(QUEUED + 1);
        let thread = std::thread::Builder::new()
            .name("pactum-writer".into())
            .spawn(move || -> io::Result<()> {
                while let Ok(message) = receive.recv() {
                    match message {
                        Message::Bytes(mut bytes) => {
                            out.write_all(&bytes)?;
                            bytes.clear();
                            // Not waited for: a buffer nobody takes back is freed.
                            let _ = give_back.try_send(bytes);
                        }
                        Message::Flush(done) => {
                            out.flush()?;
                            let _ = done.send(());
                        }
                    }
                }
                out.flush()
            })?;
        Ok(BackgroundWriter {
            buffer: Vec::with_capacity(BUFFER),
            send: Some(send),
            back,
            thread: Some(thread),
        })
    }

    /// Hands `message` over; if the thread has stopped, its error.
    fn hand_over(&mut self, message: Message) -> io::Result<()> {
        let sent = self.send.as_ref().is_some_and(|s| s.send(message).is_ok());
        if sent { Ok(()) } else { Err(self.stopped()) }
    }

    /// Why the thread stopped (waiting for it to end).
    fn stopped(&mut self) -> io::Error {
        self.send = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(err))) => err,
            _ => io::Error::other("the thread writing the report stopped"),
        }
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        let next = self
            .back
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(BUFFER));
        let full = std::mem::replace(&mut self.buffer, next);
        self.hand_over(Message::Bytes(full))
    }
}

impl Write for BackgroundWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= BUFFER {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.send_buffer()?;
        }
        let (done, flushed) = mpsc::sync_channel(1);
        self.hand_over(Message::Flush(done))?;
        match flushed.recv() {
            Ok(()) => Ok(()),
            Err(_) => Err(self.stopped()),
        }
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        // Bytes not flushed are dropped, as `BufWriter` drops them after a failed flush: the
        // report is written through `flush`, and a run that fails leaves its file unrenamed.
        self.send = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A file that keeps what it is given, and fails once it holds `limit` bytes.
    #[derive(Clone)]
    struct Kept {
        bytes: Arc<Mutex<Vec<u8>>>,
        limit: usize,
    }

    impl Write for Kept {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            let mut kept = self
                .bytes
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?;
            if kept.len() + bytes.len() > self.limit {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            kept.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_bytes_arrive_in_order_and_whole() -> io::Result<()> {
        let file = Kept {
            bytes: Arc::default(),
            limit: usize::MAX,
        };
        let mut out = BackgroundWriter::new(file.clone())?;
        let mut expected = Vec::new();
        for n in 0..20_000u32 {
            let line = format!("{n} {}\n", "x".repeat((n % 500) as usize));
            out.write_all(line.as_bytes())?;
            expected.extend_from_slice(line.as_bytes());
        }
        out.flush()?;
        assert_eq!(
            *file
                .bytes
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?,
            expected
        );
        Ok(())
    }

    #[test]
    fn a_failed_write_is_the_replays_error() -> io::Result<()> {
        let file = Kept {
            bytes: Arc::default(),
            limit: 3 * BUFFER,
        };
        let mut out = BackgroundWriter::new(file)?;
        let chunk = vec![b'x'; 4096];
        let mut failed = None;
        for _ in 0..(8 * BUFFER / chunk.len()) {
            if let Err(err) = out.write_all(&chunk) {
                failed = Some(err);
                break;
            }
        }
        let err = match failed {
            Some(err) => err,
            None => match out.flush() {
                Err(err) => err,
                Ok(()) => return Err(io::Error::other("a full disk went unnoticed")),
            },
        };
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
        assert_eq!(err.to_string(), "disk full");
        Ok(())
    }
}
