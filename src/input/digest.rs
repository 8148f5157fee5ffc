//! The SHA-256 of an input's bytes, computed as they are read — here, or on a thread of its
//! own.
//!
//! Why a thread: hashing is a tenth of a replay's work on one core that no later stage
//! depends on until the report names the input. With a second core (`RunOptions::threads`),
//! the reader copies the bytes it consumes into chunks of [`CHUNK`] and hands them to a
//! thread that hashes them, in order; at most [`QUEUED`] chunks wait, so memory stays a few
//! MiB however long the input. The digest is the same either way: the same bytes, in the same
//! order, through the same hasher.

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};

/// Bytes handed to the hashing thread at a time.
const CHUNK: usize = 1 << 20;
/// Chunks that may wait for the hashing thread before the reader waits for it.
const QUEUED: usize = 4;

/// The SHA-256 of the bytes given so far.
pub(crate) enum InputDigest {
    /// Hashed by the reader itself.
    Here(Sha256),
    /// Hashed on another thread.
    Elsewhere(Background),
}

pub(crate) struct Background {
    /// Bytes not yet handed over.
    chunk: Vec<u8>,
    /// `None` once the thread is gone (it cannot fail, but if it did, the digest is an error).
    send: Option<SyncSender<Message>>,
    thread: Option<JoinHandle<Sha256>>,
}

enum Message {
    Bytes(Vec<u8>),
    /// The digest of everything sent so far and then of these bytes, without ending the
    /// hashing: a checkpoint's place.
    Peek(Vec<u8>, SyncSender<Sha256>),
}

impl InputDigest {
    /// A digest computed here, or (`elsewhere`) on a thread of its own, started now. Falls
    /// back to here when no thread can be started.
    pub(crate) fn new(elsewhere: bool) -> Self {
        if !elsewhere {
            return InputDigest::Here(Sha256::new());
        }
        let (send, receive) = mpsc::sync_channel(QUEUED);
        match std::thread::Builder::new()
            .name("pactum-sha256".into())
            .spawn(move || hash(&receive))
        {
            Ok(thread) => InputDigest::Elsewhere(Background {
                chunk: Vec::with_capacity(CHUNK),
                send: Some(send),
                thread: Some(thread),
            }),
            Err(err) => {
                tracing::info!(%err, "no thread for hashing; hashing as the input is read");
                InputDigest::Here(Sha256::new())
            }
        }
    }

    /// Adds `bytes`.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            InputDigest::Here(hasher) => hasher.update(bytes),
            InputDigest::Elsewhere(background) => {
                background.chunk.extend_from_slice(bytes);
                if background.chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut background.chunk, Vec::with_capacity(CHUNK));
                    if let Some(send) = &background.send
                        && send.send(Message::Bytes(full)).is_err()
                    {
                        background.send = None;
                    }
                }
            }
        }
    }

    /// The digest of the bytes given so far, as lowercase hex, without ending the hashing.
    pub(crate) fn peek(&self) -> std::io::Result<String> {
        match self {
            InputDigest::Here(hasher) => Ok(crate::hex(&hasher.clone().finalize())),
            InputDigest::Elsewhere(background) => {
                let (reply, answer) = mpsc::sync_channel(1);
                background
                    .send
                    .as_ref()
                    .and_then(|send| {
                        send.send(Message::Peek(background.chunk.clone(), reply))
                            .ok()
                    })
                    .and_then(|()| answer.recv().ok())
                    .map(|hasher| crate::hex(&hasher.finalize()))
                    .ok_or_else(stopped)
            }
        }
    }

    /// The digest of all the bytes given, as lowercase hex.
    pub(crate) fn finish(self) -> std::io::Result<String> {
        match self {
            InputDigest::Here(hasher) => Ok(crate::hex(&hasher.finalize())),
            InputDigest::Elsewhere(mut background) => {
                let last = std::mem::take(&mut background.chunk);
                let sent = background
                    .send
                    .take()
                    .is_some_and(|send| send.send(Message::Bytes(last)).is_ok());
                // The sender is dropped: the thread ends once it has hashed what it was sent.
                let hasher = background.thread.take().and_then(|t| t.join().ok());
                match hasher {
                    Some(hasher) if sent => Ok(crate::hex(&hasher.finalize())),
                    _ => Err(stopped()),
                }
            }
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        // A reader dropped before its end (a failed run): the thread is told to stop by the
        // channel's closing, and waited for, so that no thread outlives the run.
        self.send = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn hash(receive: &Receiver<Message>) -> Sha256 {
    let mut hasher = Sha256::new();
    while let Ok(message) = receive.recv() {
        match message {
            Message::Bytes(bytes) => hasher.update(&bytes),
            Message::Peek(bytes, reply) => {
                let mut peek = hasher.clone();
                peek.update(&bytes);
                let _ = reply.send(peek);
            }
        }
    }
    hasher
}

fn stopped() -> std::io::Error {
    std::io::Error::other("the thread hashing the input stopped")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes of every size around the chunk's, given in pieces of every size: the same
    /// digest here and on a thread, peeked or not.
    #[test]
    fn the_digest_is_the_same_here_and_elsewhere() {
        let bytes: Vec<u8> = (0..(3 * CHUNK + 17))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        for piece in [1, 4096, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let mut here = InputDigest::new(false);
            let mut elsewhere = InputDigest::new(true);
            assert!(matches!(elsewhere, InputDigest::Elsewhere(_)));
            for (n, part) in bytes.chunks(piece).enumerate() {
                here.update(part);
                elsewhere.update(part);
                if n % 997 == 0 {
                    assert_eq!(here.peek().ok(), elsewhere.peek().ok(), "piece {piece}");
                }
            }
            let expected = crate::hex(&Sha256::digest(&bytes));
            assert_eq!(here.finish().ok(), Some(expected.clone()));
            assert_eq!(elsewhere.finish().ok(), Some(expected), "piece {piece}");
        }
    }
}
