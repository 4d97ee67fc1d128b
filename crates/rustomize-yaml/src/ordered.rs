//! Writing a stream of documents on several threads, in order, with bounded
//! memory: [`write_documents_to`].
//!
//! Worker threads take units of consecutive documents as they become free
//! and render them, in pieces of about [`PIECE_BYTES`] (cut at line ends, as
//! the sequential writer's flushes are), into a queue per unit. The calling thread
//! writes the pieces of the oldest unfinished unit to the sink, strictly in
//! document order. Memory stays bounded however large the output or its
//! documents are (the whole output is never held): the unit being written may
//! queue [`QUEUED_PIECES`] pieces, the units after it [`AHEAD_PIECES`] between
//! them, and a worker with no room waits. Pieces are recycled, so the buffers
//! are allocated once.
//!
//! A unit holds about [`UNIT_BYTES`] of text. The caller may say how large
//! each document's text will roughly be (a guess made while the tree was
//! walked anyway); for a document it says nothing of, the guess is the size of
//! the documents the last finished unit held (they come grouped by kind, so
//! sizes run in stretches: CRDs of a megabyte, then thousands of small
//! objects). Units of many large documents would leave the other workers
//! waiting behind them (without guesses, Kubeflow's first unit after a
//! Namespace of 119 bytes took 64 documents and 85% of the output); units of
//! one small document would cost a lock each.
//!
//! The bytes are those of the sequential writer: the same emitter writes each
//! document, joined by the same `---` lines; only where the text is cut into
//! pieces differs, and the sink sees the concatenation.

use std::collections::VecDeque;
use std::io;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::writer::{write_document_drained, Drain, WriteDrain, FLUSH_AT};
use crate::Value;

/// Text a unit of documents should hold, in bytes (see the module docs).
const UNIT_BYTES: usize = 64 * 1024;

/// Most documents in one unit.
const MAX_UNIT_DOCS: usize = 64;

/// Bytes a worker renders before it hands the text over: half the sequential
/// writer's flush size, so that the pieces in flight stay under a MiB.
const PIECE_BYTES: usize = FLUSH_AT / 2;

/// Pieces the unit being written may have queued before its worker waits for
/// the caller (a slow sink, a pipe, must not let a large unit pile up).
const QUEUED_PIECES: usize = 8;

/// Pieces the unit being written queues before its worker wakes the caller
/// (or when it finishes). Waking the caller for every piece cost a context
/// switch each: 800 of them and 10 ms of CPU on Kubeflow's 10 MB; the caller
/// writes what is queued in bursts instead, and wakes waiting workers only
/// when it has written all of it.
const WAKE_PIECES: usize = 4;

/// Pieces the units after the one being written may have queued between
/// them before their workers wait: how far rendering may run ahead of
/// writing. Large documents come in runs (Kubeflow's CRDs of 0.5-1 MiB are
/// half its output), so a worker must be able to render most of one while
/// the caller still writes the one before; at 32 KiB a piece this is 384 KiB.
const AHEAD_PIECES: usize = 12;

/// Where [`write_documents_on`] runs its workers: threads it starts for
/// the call ([`SpawnedThreads`], what [`write_documents_to`] uses), or
/// threads that are up already (a caller's pool).
pub trait WorkerThreads: Sync {
    /// Most workers that may run at once.
    fn count(&self) -> usize;

    /// Runs `work` on `workers` threads at once while `main` runs on the
    /// calling thread, and returns once all of them have returned. Returns
    /// `false`, having run nothing, when no worker could be started (the
    /// documents are then written in sequence). The threads need deep stacks
    /// ([`crate::stack::DEEP_STACK_BYTES`]): a document nesting 10,000 levels
    /// is rendered there directly.
    fn run(&self, workers: usize, work: &(dyn Fn() + Sync), main: &mut dyn FnMut()) -> bool;
}

/// [`WorkerThreads`] started for each call (deep-stack threads, see
/// [`crate::stack::spawn_deep`]), up to the number given.
#[derive(Clone, Copy, Debug)]
pub struct SpawnedThreads(pub usize);

impl WorkerThreads for SpawnedThreads {
    fn count(&self) -> usize {
        self.0
    }

    fn run(&self, workers: usize, work: &(dyn Fn() + Sync), main: &mut dyn FnMut()) -> bool {
        std::thread::scope(|scope| {
            let mut started = 0;
            for _ in 0..workers {
                if crate::stack::spawn_deep(scope, work).is_ok() {
                    started += 1;
                }
            }
            if started > 0 {
                main();
            }
            started > 0
        })
    }
}

/// Writes `docs` (their objects as `value` gives them) to `sink`, joined by
/// `---` lines, exactly as [`crate::write_documents`] would print them, on up
/// to `threads` worker threads started for the call (see the module
/// documentation). `size` guesses a document's text in bytes (`None`: no
/// guess); it only decides how documents are shared between the workers,
/// never the bytes. With `threads` at most 1, or fewer than two documents,
/// everything is written on the calling thread, one document at a time.
/// `sink` is written only from the calling thread and is not flushed here.
///
/// # Errors
/// The first error of `sink`; nothing more is written after it (the workers
/// stop at their next piece).
pub fn write_documents_to<T, F, S>(
    docs: &[T],
    value: F,
    size: S,
    threads: usize,
    sink: &mut dyn io::Write,
) -> io::Result<()>
where
    T: Sync,
    F: Fn(&T) -> &Value + Sync,
    S: Fn(&T) -> Option<usize> + Sync,
{
    write_documents_on(docs, value, size, &SpawnedThreads(threads), sink)
}

/// [`write_documents_to`] with its workers on `threads` (up to
/// [`WorkerThreads::count`] of them); `sink` is written from the calling
/// thread alone, which must not be one of `threads` (it waits for them).
///
/// # Errors
/// The first error of `sink`; nothing more is written after it.
pub fn write_documents_on<T, F, S>(
    docs: &[T],
    value: F,
    size: S,
    threads: &dyn WorkerThreads,
    sink: &mut dyn io::Write,
) -> io::Result<()>
where
    T: Sync,
    F: Fn(&T) -> &Value + Sync,
    S: Fn(&T) -> Option<usize> + Sync,
{
    let workers = threads.count().min(docs.len());
    if workers <= 1 {
        return write_sequentially(docs, &value, sink);
    }
    let shared = Shared {
        state: Mutex::new(State {
            next_doc: 0,
            claimed: 0,
            doc_bytes: 0,
            first: 0,
            queues: VecDeque::new(),
            ahead: 0,
            spare: Vec::new(),
            stop: false,
            caller_waits: false,
            workers_waiting: 0,
        }),
        ready: Condvar::new(),
        space: Condvar::new(),
    };
    let work = || {
        // Marks the run stopped if this worker unwinds, so that the caller
        // does not wait for a unit that will never finish.
        let _stop_on_panic = StopOnPanic(&shared);
        let mut buf = String::new();
        let guess = |i: usize, last: usize| docs.get(i).and_then(&size).unwrap_or(last);
        while let Some((unit, start, end)) = shared.claim(docs.len(), guess) {
            let mut queue = UnitQueue {
                shared: &shared,
                unit,
                bytes: 0,
            };
            let mut rendered = Ok(());
            for (i, doc) in docs.get(start..end).unwrap_or_default().iter().enumerate() {
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
            shared.finish(unit, queue.bytes / (end - start).max(1));
        }
    };
    let mut written = Ok(());
    let started = threads.run(workers, &work, &mut || {
        // A sink that panics stops the workers too (they may be waiting for
        // room), so that the panic reaches the caller instead of a hang.
        let _stop_on_panic = StopOnPanic(&shared);
        written = shared.write_in_order(docs.len(), sink);
        if written.is_err() {
            shared.stop();
        }
    });
    if !started {
        // No worker could start (and none took a unit).
        return write_sequentially(docs, &value, sink);
    }
    written
}

/// Writes `docs` as [`write_documents_to`] does with one thread, taking
/// them: each document is dropped as soon as it is written, while its nodes
/// are still in the processor's caches. Freeing a document later walks its
/// tree from memory again (for `build --all`, which frees every root's
/// output once written, that walk was ~4% of the run). `check` runs on each
/// document just before it is written (and brings it into the caches for
/// the writer); its error ends the write there (what this function buffered
/// of the documents before it is not written). A check's error comes before
/// the sink's: once the sink failed, the documents left are still checked.
///
/// # Errors
/// The first error of `check`, else the first error of `sink` (nothing more
/// is written after either).
pub fn write_documents_taking<T>(
    docs: impl IntoIterator<Item = T>,
    value: impl Fn(&T) -> &Value,
    check: impl Fn(&T) -> io::Result<()>,
    sink: &mut dyn io::Write,
) -> io::Result<()> {
    let mut buf = String::new();
    let mut drain = WriteDrain(sink);
    let mut docs = docs.into_iter();
    let mut first = true;
    while let Some(doc) = docs.next() {
        check(&doc)?;
        if !first {
            buf.push_str("---\n");
        }
        first = false;
        if let Err(e) = write_document_drained(value(&doc), &mut buf, &mut drain) {
            docs.try_for_each(|rest| check(&rest))?;
            return Err(e);
        }
        drop(doc);
    }
    drain.drain(&mut buf)
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
    /// The first document no unit has taken yet.
    next_doc: usize,
    /// Units taken so far (units are numbered in document order).
    claimed: usize,
    /// Bytes per document in the last unit finished (0: none yet).
    doc_bytes: usize,
    /// The unit the caller is writing; units before it are written.
    first: usize,
    /// Pieces of units `first..claimed`, in unit order.
    queues: VecDeque<Queue>,
    /// Pieces queued by units after `first`.
    ahead: usize,
    /// Written pieces, emptied, for the workers to fill again.
    spare: Vec<String>,
    /// The caller stopped (its sink failed) or a worker panicked.
    stop: bool,
    /// The caller waits on `ready`; workers waiting on `space`. A condition
    /// variable's notify is a system call even with no one waiting, and there
    /// are two per piece otherwise.
    caller_waits: bool,
    workers_waiting: usize,
}

#[derive(Default)]
struct Queue {
    pieces: VecDeque<String>,
    finished: bool,
}

impl State {
    /// The queue of `unit` (taken, and not passed by the caller yet).
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

    /// Takes the next unit: its number and its documents `start..end`, as
    /// many as fit in [`UNIT_BYTES`] by `guess(document, last)` (at least
    /// one, at most [`MAX_UNIT_DOCS`]); `last` is the size of the last
    /// finished unit's documents, or [`UNIT_BYTES`] while none finished.
    /// None when all are taken or the run stopped.
    fn claim(
        &self,
        docs: usize,
        guess: impl Fn(usize, usize) -> usize,
    ) -> Option<(usize, usize, usize)> {
        let mut state = self.lock();
        if state.stop || state.next_doc >= docs {
            return None;
        }
        let last = match state.doc_bytes {
            0 => UNIT_BYTES,
            size => size,
        };
        let (unit, start) = (state.claimed, state.next_doc);
        let mut end = start + 1;
        let mut bytes = guess(start, last);
        while end < docs && end - start < MAX_UNIT_DOCS {
            bytes = bytes.saturating_add(guess(end, last));
            if bytes > UNIT_BYTES {
                break;
            }
            end += 1;
        }
        state.claimed += 1;
        state.next_doc = end;
        state.queue(unit);
        Some((unit, start, end))
    }

    fn finish(&self, unit: usize, doc_bytes: usize) {
        let mut state = self.lock();
        state.queue(unit).finished = true;
        state.doc_bytes = doc_bytes.max(1);
        let wake = state.caller_waits;
        drop(state);
        if wake {
            self.ready.notify_one();
        }
    }

    fn stop(&self) {
        self.lock().stop = true;
        self.space.notify_all();
        self.ready.notify_one();
    }

    /// The caller's side: writes every unit's pieces to `sink`, in order,
    /// until all `docs` documents are written.
    fn write_in_order(&self, docs: usize, sink: &mut dyn io::Write) -> io::Result<()> {
        let mut state = self.lock();
        while state.first < state.claimed || state.next_doc < docs {
            if state.stop {
                return Err(io::Error::other("a writer thread failed"));
            }
            let first = state.first;
            let front = (first < state.claimed).then(|| state.queue(first));
            match front {
                Some(front) if !front.pieces.is_empty() => {
                    let mut piece = front.pieces.pop_front().unwrap_or_default();
                    drop(state);
                    sink.write_all(piece.as_bytes())?;
                    piece.clear();
                    state = self.lock();
                    state.spare.push(piece);
                }
                Some(front) if front.finished => {
                    state.queues.pop_front();
                    state.first += 1;
                    // The next unit's pieces are now the ones being written.
                    let now_first = state.queues.front().map_or(0, |q| q.pieces.len());
                    state.ahead = state.ahead.saturating_sub(now_first);
                    if state.workers_waiting > 0 {
                        self.space.notify_all();
                    }
                }
                _ => {
                    if state.workers_waiting > 0 {
                        self.space.notify_all();
                    }
                    state.caller_waits = true;
                    state = self
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                    state.caller_waits = false;
                }
            }
        }
        Ok(())
    }
}

/// A worker's side: hands full buffers to the queue of its unit, waiting
/// while there is no room for them.
struct UnitQueue<'s> {
    shared: &'s Shared,
    unit: usize,
    /// Bytes handed over so far.
    bytes: usize,
}

impl Drain for UnitQueue<'_> {
    fn piece_bytes(&self) -> usize {
        PIECE_BYTES
    }

    fn drain(&mut self, buf: &mut String) -> io::Result<()> {
        let mut state = self.shared.lock();
        loop {
            if state.stop {
                return Err(io::Error::other("writing stopped"));
            }
            // The unit being written waits only for the caller; the others
            // share one allowance, so they never hold up the first.
            let unit = self.unit;
            let room = if unit == state.first {
                state.queue(unit).pieces.len() < QUEUED_PIECES
            } else {
                state.ahead < AHEAD_PIECES
            };
            if room {
                break;
            }
            state.workers_waiting += 1;
            state = self
                .shared
                .space
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.workers_waiting -= 1;
        }
        let fresh = state
            .spare
            .pop()
            .unwrap_or_else(|| String::with_capacity(PIECE_BYTES + PIECE_BYTES / 4));
        let piece = std::mem::replace(buf, fresh);
        self.bytes += piece.len();
        if self.unit != state.first {
            state.ahead += 1;
        }
        let queued = state.queue(self.unit).pieces.len() + 1;
        state.queue(self.unit).pieces.push_back(piece);
        let wake = state.caller_waits && self.unit == state.first && queued >= WAKE_PIECES;
        drop(state);
        if wake {
            self.shared.ready.notify_one();
        }
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
                m.insert("kind", Value::string(format!("Kind{i}")));
                let lines = match i % 37 {
                    0 => 9000,
                    5 => 3000,
                    _ => i % 11,
                };
                let items = (0..lines)
                    .map(|j| Value::string(format!("line {j} of document {i}")))
                    .collect();
                m.insert("data", Value::Seq(items));
                Value::Map(m)
            })
            .collect()
    }

    #[test]
    fn a_panicking_sink_panics_the_caller_instead_of_hanging() {
        let docs = docs();
        for threads in 2..=4 {
            let outcome = std::panic::catch_unwind(|| {
                let mut sink = Failing {
                    left: 3 * FLUSH_AT,
                    calls: 0,
                    panics: true,
                };
                write_documents_to(&docs, |v| v, |_| None, threads, &mut sink)
            });
            assert!(outcome.is_err(), "{threads} threads");
        }
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
                write_documents_to(part, |v| v, |_| None, threads, &mut out).unwrap();
                assert!(out == want.as_bytes(), "{n} documents, {threads} threads");
            }
        }
    }

    /// A check that counts its calls in `checked` and fails the `n`th.
    fn fails_at(
        n: usize,
        checked: &std::cell::Cell<usize>,
    ) -> impl Fn(&&Value) -> io::Result<()> + '_ {
        move |_| {
            checked.set(checked.get() + 1);
            match checked.get() == n {
                true => Err(io::Error::other("unprintable")),
                false => Ok(()),
            }
        }
    }

    /// A sink that fails the first time the writer flushes to it.
    fn failing_at_first_flush() -> Failing {
        Failing {
            left: FLUSH_AT,
            calls: 0,
            panics: false,
        }
    }

    #[test]
    fn the_taking_writer_gives_the_sequential_bytes_and_stops_at_a_failed_check() {
        let docs = docs();
        let expected = crate::write_documents(&docs);
        let mut out = Vec::new();
        write_documents_taking(docs.clone(), |d| d, |_| Ok(()), &mut out).unwrap();
        assert!(out == expected.as_bytes());
        // A check failing on document 3: its error, and nothing of it or
        // after it written (what the writer held of 0-2 is not written either).
        let mut out = Vec::new();
        let checked = std::cell::Cell::new(0);
        let outcome = write_documents_taking(
            docs.iter().take(10),
            |d| *d,
            fails_at(4, &checked),
            &mut out,
        );
        assert_eq!(outcome.unwrap_err().to_string(), "unprintable");
        assert_eq!(checked.get(), 4);
        let first_three = crate::write_documents(docs.iter().take(3));
        assert!(!out.is_empty() && first_three.as_bytes().starts_with(&out));
        // The sink failing first: the documents left are still checked, and
        // a failed check is the error.
        checked.set(0);
        let mut sink = failing_at_first_flush();
        let outcome = write_documents_taking(
            docs.iter().take(10),
            |d| *d,
            fails_at(8, &checked),
            &mut sink,
        );
        assert_eq!(outcome.unwrap_err().to_string(), "unprintable");
        assert_eq!(checked.get(), 8);
        // With no failing check, the sink's error.
        let mut sink = failing_at_first_flush();
        let outcome = write_documents_taking(docs.iter().take(10), |d| *d, |_| Ok(()), &mut sink);
        assert_eq!(outcome.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    /// Guesses of each document's size share the documents out differently,
    /// never the bytes: right, wrong, zero, huge, or only for some.
    #[test]
    fn size_guesses_never_change_the_bytes() {
        let docs = docs();
        let want = crate::write_documents(&docs);
        type Guess<'a> = &'a (dyn Fn(&Value) -> Option<usize> + Sync);
        let right = |v: &Value| Some(crate::write_documents(std::slice::from_ref(v)).len());
        let guesses: [Guess; 5] = [
            &right,
            &|_| Some(0),
            &|_| Some(usize::MAX),
            &|v| right(v).map(|n| UNIT_BYTES.saturating_sub(n)),
            &|v| right(v).filter(|n| n % 3 == 0),
        ];
        for (g, guess) in guesses.iter().enumerate() {
            for threads in 1..=4 {
                let mut out = Vec::new();
                write_documents_to(&docs, |v| v, guess, threads, &mut out).unwrap();
                assert!(out == want.as_bytes(), "guess {g}, {threads} threads");
            }
        }
    }

    /// A sink that fails (or panics) once it took `left` bytes.
    struct Failing {
        left: usize,
        calls: usize,
        panics: bool,
    }

    impl io::Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            if buf.len() > self.left {
                assert!(!self.panics, "the sink gives up");
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
                panics: false,
            };
            let err = write_documents_to(&docs, |v| v, |_| None, threads, &mut sink).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
            let calls = sink.calls;
            assert!(
                calls < 10,
                "{threads} threads: {calls} writes after the error"
            );
        }
    }
}
