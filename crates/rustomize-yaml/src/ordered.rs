//! Writing a stream of documents on several threads, in order, with bounded
//! memory: [`write_documents_to`].
//!
//! The documents are cut into units of a few consecutive documents. Worker
//! threads take the next unit as they become free and render it, in pieces of
//! about [`FLUSH_AT`] bytes (the same line-end flush points the sequential
//! writer uses), into a small queue per unit. The calling thread writes the
//! pieces of the oldest unfinished unit to the sink, strictly in document
//! order. A worker whose queue is full waits for the caller, so at most
//! `workers × (QUEUED_PIECES + 1)` pieces exist at any time, however large the
//! output or its documents are: the whole output is never held. Pieces are
//! recycled, so the buffers are allocated once.
//!
//! The bytes are those of the sequential writer: the same emitter writes each
//! document, joined by the same `---` lines; only where the text is cut into
//! pieces differs, and the sink sees the concatenation.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::writer::{write_document_drained, Drain, WriteDrain, FLUSH_AT};
use crate::Value;

/// Documents per unit a worker takes at a time. Small enough that a few
/// large documents spread over the workers, large enough that taking a unit
/// (an atomic increment and a lock) costs nothing next to writing it.
const DOCS_PER_UNIT: usize = 8;

/// Pieces a worker may queue ahead of the caller before it waits.
const QUEUED_PIECES: usize = 3;

/// Writes `docs` (their objects as `value` gives them) to `sink`, joined by
/// `---` lines, exactly as [`crate::write_documents`] would print them, on up
/// to `threads` worker threads (see the module documentation). With `threads`
/// at most 1, or too few documents to share, everything is written on the
/// calling thread, one document at a time. `sink` is written only from the
/// calling thread and is not flushed here.
///
/// # Errors
/// The first error of `sink`; nothing more is written after it (the workers
/// stop at their next piece).
pub fn write_documents_to<T, F>(
    docs: &[T],
    value: F,
    threads: usize,
    sink: &mut dyn io::Write,
) -> io::Result<()>
where
    T: Sync,
    F: Fn(&T) -> &Value + Sync,
{
    let units = docs.len().div_ceil(DOCS_PER_UNIT);
    let workers = threads.min(units);
    if workers <= 1 {
        return write_sequentially(docs, &value, sink);
    }
    let shared = Shared {
        state: Mutex::new(State {
            first: 0,
            queues: VecDeque::new(),
            spare: Vec::new(),
            stop: false,
        }),
        ready: Condvar::new(),
        space: Condvar::new(),
    };
    let next = AtomicUsize::new(0);
    let work = || {
        // Marks the run stopped if this worker unwinds, so that the caller
        // does not wait for a unit that will never finish.
        let _stop_on_panic = StopOnPanic(&shared);
        let mut buf = String::new();
        loop {
            let unit = next.fetch_add(1, Ordering::Relaxed);
            if unit >= units {
                return;
            }
            let start = unit * DOCS_PER_UNIT;
            let chunk = docs
                .get(start..docs.len().min(start + DOCS_PER_UNIT))
                .unwrap_or_default();
            let mut queue = UnitQueue {
                shared: &shared,
                unit,
            };
            let mut rendered = Ok(());
            for (i, doc) in chunk.iter().enumerate() {
                if start + i > 0 {
                    buf.push_str("---\n");
                }
                rendered = write_document_drained(value(doc), &mut buf, &mut queue);
                if rendered.is_err() {
                    break;
                }
            }
            if rendered.is_ok() && !buf.is_empty() {
                rendered = queue.drain(&mut buf);
            }
            if rendered.is_err() {
                // Stopped by the caller: nothing more is wanted.
                return;
            }
            shared.finish(unit);
        }
    };
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..workers {
            // Deep stacks, as the build's threads have: a document nesting
            // 10,000 levels is written there directly.
            if crate::stack::spawn_deep(scope, work).is_ok() {
                started += 1;
            }
        }
        if started == 0 {
            // No thread could start (and none took a unit).
            return write_sequentially(docs, &value, sink);
        }
        let written = shared.write_in_order(units, sink);
        if written.is_err() {
            shared.stop();
        }
        written
    })
}

/// The sequential writer: one document at a time through one buffer.
fn write_sequentially<T>(
    docs: &[T],
    value: &dyn Fn(&T) -> &Value,
    sink: &mut dyn io::Write,
) -> io::Result<()> {
    let mut buf = String::new();
    let mut drain = WriteDrain(sink);
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            buf.push_str("---\n");
        }
        write_document_drained(value(doc), &mut buf, &mut drain)?;
    }
    drain.drain(&mut buf)
}

/// What the workers and the caller share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a piece is queued or a unit finishes (the caller waits).
    ready: Condvar,
    /// Signalled when the caller took a piece or moved on (workers wait).
    space: Condvar,
}

struct State {
    /// The unit the caller is writing; units before it are written.
    first: usize,
    /// Pieces of units `first..`, in unit order.
    queues: VecDeque<Queue>,
    /// Written pieces, emptied, for the workers to fill again.
    spare: Vec<String>,
    /// The caller stopped (its sink failed) or a worker panicked.
    stop: bool,
}

#[derive(Default)]
struct Queue {
    pieces: VecDeque<String>,
    finished: bool,
}

impl State {
    /// The queue of `unit` (which the caller has not passed yet).
    fn queue(&mut self, unit: usize) -> &mut Queue {
        let index = unit.saturating_sub(self.first);
        if self.queues.len() <= index {
            self.queues.resize_with(index + 1, Queue::default);
        }
        // Just made long enough: `min` only keeps the index visibly in range.
        let last = self.queues.len() - 1;
        &mut self.queues[index.min(last)]
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn finish(&self, unit: usize) {
        self.lock().queue(unit).finished = true;
        self.ready.notify_one();
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.space.notify_all();
        self.ready.notify_one();
    }

    /// The caller's side: writes every unit's pieces to `sink`, in order.
    fn write_in_order(&self, units: usize, sink: &mut dyn io::Write) -> io::Result<()> {
        let mut state = self.lock();
        while state.first < units {
            if state.stop {
                return Err(io::Error::other("a writer thread failed"));
            }
            let first = state.first;
            let front = state.queue(first);
            if let Some(mut piece) = front.pieces.pop_front() {
                drop(state);
                self.space.notify_all();
                sink.write_all(piece.as_bytes())?;
                piece.clear();
                state = self.lock();
                state.spare.push(piece);
            } else if front.finished {
                state.queues.pop_front();
                state.first += 1;
                self.space.notify_all();
            } else {
                state = self
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        Ok(())
    }
}

/// A worker's side: hands full buffers to the queue of its unit, waiting
/// while that queue is full.
struct UnitQueue<'s> {
    shared: &'s Shared,
    unit: usize,
}

impl Drain for UnitQueue<'_> {
    fn drain(&mut self, buf: &mut String) -> io::Result<()> {
        let mut state = self.shared.lock();
        loop {
            if state.stop {
                return Err(io::Error::other("writing stopped"));
            }
            // The caller's own unit waits too: a slow sink (a pipe) must not
            // let one large unit pile up.
            if state.queue(self.unit).pieces.len() < QUEUED_PIECES {
                break;
            }
            state = self
                .shared
                .space
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let fresh = state
            .spare
            .pop()
            .unwrap_or_else(|| String::with_capacity(FLUSH_AT + FLUSH_AT / 4));
        let piece = std::mem::replace(buf, fresh);
        state.queue(self.unit).pieces.push_back(piece);
        drop(state);
        self.shared.ready.notify_one();
        Ok(())
    }
}

/// Stops the run when dropped during a panic.
struct StopOnPanic<'s>(&'s Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Documents of many sizes: small ones, and some over several flush sizes.
    fn docs() -> Vec<Value> {
        (0..200)
            .map(|i| {
                let mut m = crate::Map::default();
                m.insert("kind".into(), Value::String(format!("Kind{i}")));
                let lines = match i % 37 {
                    0 => 9000,
                    5 => 3000,
                    _ => i % 11,
                };
                let items = (0..lines)
                    .map(|j| Value::String(format!("line {j} of document {i}")))
                    .collect();
                m.insert("data".into(), Value::Seq(items));
                Value::Map(m)
            })
            .collect()
    }

    #[test]
    fn parallel_writer_gives_the_sequential_bytes_at_every_thread_count() {
        let docs = docs();
        let expected = crate::write_documents(&docs);
        assert!(expected.len() > 4 * FLUSH_AT);
        for n in [0, 1, 7, 8, 9, 17, docs.len()] {
            let part = docs.get(..n).unwrap_or_default();
            let want = crate::write_documents(part);
            for threads in 1..=4 {
                let mut out = Vec::new();
                write_documents_to(part, |v| v, threads, &mut out).unwrap();
                assert!(out == want.as_bytes(), "{n} documents, {threads} threads");
            }
        }
    }

    /// A sink that fails once it took `left` bytes.
    struct Failing {
        left: usize,
        calls: usize,
    }

    impl io::Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if buf.len() > self.left {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            self.left -= buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_sink_stops_the_writers_with_its_error() {
        let docs = docs();
        for threads in 1..=4 {
            let mut sink = Failing {
                left: 3 * FLUSH_AT,
                calls: 0,
            };
            let err = write_documents_to(&docs, |v| v, threads, &mut sink).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            let calls = sink.calls;
            assert!(
                calls < 10,
                "{threads} threads: {calls} writes after the error"
            );
        }
    }
}
