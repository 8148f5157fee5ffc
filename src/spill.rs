//! Sorted runs of records in one anonymous temporary file: the storage of pactum's external
//! sorts, so that what a run must put in order (the index of a file out of time order, a
//! report's violations) takes a memory budget, not memory in proportion to the log.
//!
//! A caller sorts a chunk of records in memory, writes it as one run ([`Runs::write_run`]),
//! and at the end reads every run back at once, each through its own small buffer
//! ([`Spilled::runs`]), merging them in its own order. Records are bytes, framed by their
//! length: each caller encodes its own (they are read back only by the process that wrote
//! them, never a contract).
//!
//! Why one anonymous file (`tempfile::tempfile`): it has no name, so nothing is left behind
//! when the process ends however it ends, and one file descriptor serves any number of runs,
//! which are read by position (`pread`) so that they share no cursor.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::rc::Rc;

/// Runs being written.
pub(crate) struct Runs {
    out: BufWriter<File>,
    written: u64,
    /// Where the run being written starts.
    start: u64,
    /// `(start, end)` byte offsets of each run, in the order written.
    runs: Vec<(u64, u64)>,
}

impl Runs {
    /// An empty temporary file.
    pub(crate) fn new() -> io::Result<Runs> {
        Ok(Runs {
            out: BufWriter::with_capacity(64 << 10, tempfile::tempfile()?),
            written: 0,
            start: 0,
            runs: Vec::new(),
        })
    }

    /// Adds a record to the run being written (records come one at a time: the times a scan
    /// reads, say).
    pub(crate) fn push(&mut self, record: &[u8]) -> io::Result<()> {
        let length = u32::try_from(record.len()).map_err(io::Error::other)?;
        self.out.write_all(&length.to_le_bytes())?;
        self.out.write_all(record)?;
        self.written += 4 + u64::from(length);
        Ok(())
    }

    /// Ends the run being written (a run without records is none).
    pub(crate) fn end_run(&mut self) {
        if self.written > self.start {
            self.runs.push((self.start, self.written));
        }
        self.start = self.written;
    }

    /// Writes one run: each record, in order, as `encode` writes it into the buffer it is
    /// given (cleared before each record).
    pub(crate) fn write_run<T>(
        &mut self,
        records: impl IntoIterator<Item = T>,
        mut encode: impl FnMut(T, &mut Vec<u8>) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut buffer = Vec::new();
        for record in records {
            buffer.clear();
            encode(record, &mut buffer)?;
            self.push(&buffer)?;
        }
        self.end_run();
        Ok(())
    }

    /// How many runs have been written.
    pub(crate) fn count(&self) -> usize {
        self.runs.len()
    }

    /// Ends the writing (and the run being written).
    pub(crate) fn finish(mut self) -> io::Result<Spilled> {
        self.end_run();
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        Ok(Spilled {
            file: Rc::new(file),
            runs: self.runs,
        })
    }
}

/// Runs written, to read back as often as needed.
pub(crate) struct Spilled {
    /// Shared by the readers, which read it by position and so share no cursor.
    file: Rc<File>,
    runs: Vec<(u64, u64)>,
}

impl Spilled {
    /// A reader for each run, in the order written; the read buffers shrink as runs multiply
    /// (about 8 MiB for all of them at most).
    pub(crate) fn runs(&self) -> Vec<RunReader> {
        let capacity = ((8usize << 20) / self.runs.len().max(1)).clamp(4 << 10, 64 << 10);
        self.runs
            .iter()
            .map(|&(at, end)| RunReader {
                input: BufReader::with_capacity(
                    capacity,
                    Positioned {
                        file: Rc::clone(&self.file),
                        at,
                        end,
                    },
                ),
            })
            .collect()
    }
}

/// The records of every run, merged in order: each run's next record, decoded, waits in a
/// heap; records equal in order come from the earlier run first, so a merge of runs each
/// sorted stably gives what one stable sort of all records would. After an error it ends.
pub(crate) struct Merge<T, D> {
    readers: Vec<RunReader>,
    decode: D,
    /// Filled at the first call (reading can fail, and only `next` can say so).
    heap: Option<BinaryHeap<Reverse<(T, usize)>>>,
    buffer: Vec<u8>,
}

impl<T: Ord, D: FnMut(&[u8]) -> io::Result<T>> Merge<T, D> {
    /// The runs of `spilled`, each record decoded by `decode`.
    pub(crate) fn new(spilled: &Spilled, decode: D) -> Self {
        Merge {
            readers: spilled.runs(),
            decode,
            heap: None,
            buffer: Vec::new(),
        }
    }

    /// Reads run `run`'s next record into the heap.
    fn refill(&mut self, heap: &mut BinaryHeap<Reverse<(T, usize)>>, run: usize) -> io::Result<()> {
        if let Some(reader) = self.readers.get_mut(run)
            && reader.next_into(&mut self.buffer)?
        {
            heap.push(Reverse(((self.decode)(&self.buffer)?, run)));
        }
        Ok(())
    }
}

impl<T: Ord, D: FnMut(&[u8]) -> io::Result<T>> Iterator for Merge<T, D> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        let mut heap = match self.heap.take() {
            Some(heap) => heap,
            None => {
                let mut heap = BinaryHeap::with_capacity(self.readers.len());
                for run in 0..self.readers.len() {
                    if let Err(err) = self.refill(&mut heap, run) {
                        self.heap = Some(BinaryHeap::new());
                        return Some(Err(err));
                    }
                }
                heap
            }
        };
        let Reverse((record, run)) = heap.pop()?;
        let refilled = self.refill(&mut heap, run);
        self.heap = Some(if refilled.is_ok() {
            heap
        } else {
            BinaryHeap::new()
        });
        Some(refilled.map(|()| record))
    }
}

/// One run's records, in order.
pub(crate) struct RunReader {
    input: BufReader<Positioned>,
}

impl RunReader {
    /// Reads the next record into `buffer`; `false` at the end of the run.
    pub(crate) fn next_into(&mut self, buffer: &mut Vec<u8>) -> io::Result<bool> {
        let mut length = [0u8; 4];
        match self.input.read_exact(&mut length) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
        buffer.resize(u32::from_le_bytes(length) as usize, 0);
        self.input.read_exact(buffer)?;
        Ok(true)
    }
}

/// Reads a byte range of a file by offset.
struct Positioned {
    file: Rc<File>,
    at: u64,
    end: u64,
}

impl Read for Positioned {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        let Some(buf) = buf.get_mut(..want) else {
            return Ok(0);
        };
        if buf.is_empty() {
            return Ok(0);
        }
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.at)?;
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.at)?;
        self.at += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_read_back_as_written_each_on_its_own() {
        let mut runs = Runs::new().unwrap();
        runs.write_run(["a", "bb", ""], |r, out| {
            out.extend_from_slice(r.as_bytes());
            Ok(())
        })
        .unwrap();
        runs.write_run(Vec::<&str>::new(), |_, _| Ok(())).unwrap();
        runs.write_run(["ccc"], |r, out| {
            out.extend_from_slice(r.as_bytes());
            Ok(())
        })
        .unwrap();
        assert_eq!(runs.count(), 2, "an empty run is not a run");
        let spilled = runs.finish().unwrap();
        let read = |spilled: &Spilled| {
            let mut all = Vec::new();
            for mut run in spilled.runs() {
                let mut records = Vec::new();
                let mut buffer = Vec::new();
                while run.next_into(&mut buffer).unwrap() {
                    records.push(String::from_utf8(buffer.clone()).unwrap());
                }
                all.push(records);
            }
            all
        };
        assert_eq!(read(&spilled), [vec!["a", "bb", ""], vec!["ccc"]]);
        assert_eq!(read(&spilled), read(&spilled), "read again, the same");
    }

    /// Runs merge in order, and records equal in order come from the earlier run first.
    #[test]
    fn runs_merge_in_order_ties_to_the_earlier_run() {
        /// A number, ordered by its first digit only, so that `30` and `31` tie.
        #[derive(Debug, PartialEq, Eq)]
        struct Tens(u8);
        impl Ord for Tens {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                (self.0 / 10).cmp(&(other.0 / 10))
            }
        }
        impl PartialOrd for Tens {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        let mut runs = Runs::new().unwrap();
        for run in [[10u8, 30, 50], [20, 31, 40]] {
            runs.write_run(run, |n, out| {
                out.push(n);
                Ok(())
            })
            .unwrap();
        }
        let spilled = runs.finish().unwrap();
        let decode = |bytes: &[u8]| Ok(Tens(bytes[0]));
        let merged: Vec<u8> = Merge::new(&spilled, decode).map(|n| n.unwrap().0).collect();
        assert_eq!(merged, [10, 20, 30, 31, 40, 50]);
    }
}
