//! Running independent pieces of one build on several threads.
//!
//! Each build with more than one thread gets a thread pool of its own
//! ([`Pool`], a `rayon` pool built for that build and dropped with it; never
//! rayon's global pool, so that builds stay independent and the library holds
//! no global state). The whole build runs on the pool, and its pieces are
//! handed to it as they come: a kustomization's `resources` entries (files
//! parse on their own and each directory is a complete build of its own, so
//! nested entries share the threads by work-stealing), the per-resource
//! loops of the costly transformers, in chunks, and, for large builds, the
//! sweeps over every resource after them (the reference index, the output
//! sort and its keys, the final move into the output). Results are folded in
//! input order, so the output — resources, warnings, the first error — is
//! exactly what a sequential build gives, at any thread count.
//!
//! With one thread there is no pool: the same code runs in sequence on the
//! calling thread (moved to a deep stack, see [`rustomize_yaml::stack`]).
//!
//! A thread that waits in any method of [`Pool`] that hands out work
//! ([`Pool::run_jobs`], [`Pool::for_chunks`], [`Pool::map_chunks`],
//! [`Pool::map_chunks_ref`], [`Pool::map_vec`], [`Pool::zip_each`],
//! [`Pool::sort_by`]) runs other jobs of the pool meanwhile (rayon's work
//! stealing). So no code may hold a lock, or be inside a `OnceLock`
//! initializer, while it hands work to the pool: a stolen job that wants the
//! same lock would deadlock.

use std::sync::{Arc, Mutex, PoisonError};

use rayon::prelude::*;

/// The threads of one build: a pool of `threads` deep-stack threads, or none
/// (sequential) for one thread or when the pool cannot be started.
#[derive(Debug, Default)]
pub struct Pool {
    pool: Option<rayon::ThreadPool>,
}

impl Pool {
    /// No pool: every job runs in sequence on the calling thread.
    pub fn sequential() -> Pool {
        Pool { pool: None }
    }

    /// Whether jobs run on a pool's threads (false: in sequence here).
    pub fn is_parallel(&self) -> bool {
        self.pool.is_some()
    }

    /// Runs `f` with a pool of `threads` threads, on one of them (the calling
    /// thread waits), and drops the pool when `f` returns. With one thread, or
    /// when no pool can be started (the build goes on in sequence), `f` runs
    /// on a deep stack of its own ([`rustomize_yaml::stack::on_deep_stack`]).
    ///
    /// The pool's threads have [`rustomize_yaml::stack::DEEP_STACK_BYTES`]
    /// stacks (reserved address space, touched only as deep as a walk goes):
    /// any of them may run any part of the build.
    pub fn run<R, F>(threads: usize, f: F) -> R
    where
        R: Send,
        F: FnOnce(&Arc<Pool>) -> R + Send,
    {
        Pool::run_then(threads, false, f, |out| out)
    }

    /// [`Pool::run`], then `then` with what `f` returned while the pool is
    /// still up: a [`crate::Build`] made on the pool writes its output on the
    /// pool's threads ([`Pool::writer_threads`]) instead of starting threads
    /// of its own once the pool's have been joined. `then` runs on the
    /// calling thread, or with `deep_then` on a deep stack that is not one of
    /// the pool's threads (the calling thread if it is a deep-stack one).
    /// With no pool it runs on the deep stack `f` ran on.
    pub fn run_then<R, T, F, G>(threads: usize, deep_then: bool, f: F, then: G) -> T
    where
        R: Send,
        T: Send,
        F: FnOnce(&Arc<Pool>) -> R + Send,
        G: FnOnce(R) -> T + Send,
    {
        if threads > 1 {
            // The pool's threads are spawned here so that they can be joined
            // when the build is over (or `then` with it): a thread that has
            // ended hands its allocator's free memory on to the threads that go
            // on, where a parked one would keep it.
            let spawned = Mutex::new(Vec::new());
            let built = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .spawn_handler(|thread| {
                    let handle = std::thread::Builder::new()
                        .name(format!("rustomize-{}", thread.index()))
                        .stack_size(rustomize_yaml::stack::DEEP_STACK_BYTES)
                        .spawn(move || {
                            rustomize_yaml::stack::mark_deep_stack_thread();
                            thread.run();
                        })?;
                    spawned
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(handle);
                    Ok(())
                })
                .build();
            if let Ok(pool) = built {
                let pool = Arc::new(Pool { pool: Some(pool) });
                let out = match &pool.pool {
                    Some(threads) => threads.install(|| f(&pool)),
                    None => f(&pool),
                };
                let result = if deep_then {
                    rustomize_yaml::stack::on_deep_stack(|| then(out))
                } else {
                    then(out)
                };
                // Only the last reference ends the threads (one kept by `f`
                // would leave them parked, and joining them would wait
                // forever).
                if Arc::try_unwrap(pool).is_ok() {
                    for handle in spawned.into_inner().unwrap_or_else(PoisonError::into_inner) {
                        let _ = handle.join();
                    }
                }
                return result;
            }
        }
        rustomize_yaml::stack::on_deep_stack(|| then(f(&Arc::new(Pool::sequential()))))
    }

    /// The pool's threads as the output writer's workers
    /// ([`rustomize_yaml::write_documents_on`]), for a caller that is not one
    /// of them (it waits for their jobs, which would leave fewer threads, or
    /// none, to run them). `None` without a pool or on one of its threads.
    pub(crate) fn writer_threads(&self) -> Option<PoolWriters<'_>> {
        let pool = self.pool.as_ref()?;
        match pool.current_thread_index() {
            Some(_) => None,
            None => Some(PoolWriters(pool)),
        }
    }

    /// Runs `job(0..n)`, each index a job of its own for the pool's threads
    /// to share, and returns the results in index order.
    ///
    /// The calling thread takes the jobs from the first up, the others take
    /// them from the last down: a list whose costly entries sit near its end
    /// (Kubeflow's root lists its 1.5 MB CRD bundles among the last) has them
    /// started early rather than left to run alone at the end, as taking
    /// halves of the list (the caller the first, a thief the second) did.
    pub fn run_jobs<T, F>(&self, n: usize, job: F) -> Vec<T>
    where
        T: Send,
        F: Fn(usize) -> T + Sync,
    {
        match &self.pool {
            Some(pool) if n > 1 => {
                let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
                pool.scope(|scope| {
                    // Spawned last to first: the spawning thread runs its own
                    // jobs newest first, and thieves take the oldest.
                    for (i, slot) in slots.iter().enumerate().rev() {
                        let job = &job;
                        scope.spawn(move |_| {
                            let out = job(i);
                            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(out);
                        });
                    }
                });
                // Every slot is filled (a job that panics ends the scope
                // with its panic).
                slots
                    .into_iter()
                    .filter_map(|slot| slot.into_inner().unwrap_or_else(PoisonError::into_inner))
                    .collect()
            }
            _ => (0..n).map(job).collect(),
        }
    }

    /// Runs `step(offset, chunk)` over `items` split into contiguous chunks
    /// of at least `min_chunk` items (`offset` is the chunk's first index in
    /// `items`) on the pool's threads, and returns the error of the first
    /// failing chunk in order, or `Ok`. With fewer than `2 * min_chunk` items
    /// or no pool, `step(0, items)` runs here.
    ///
    /// For per-item loops whose steps touch only their own item and report
    /// nothing but a first error: `step` stops at its chunk's first error as
    /// the sequential loop does, and the lowest chunk's error is the
    /// sequential loop's error (items after it may have been changed, but the
    /// caller fails with that error either way).
    pub fn for_chunks<T, E, F>(&self, items: &mut [T], min_chunk: usize, step: F) -> Result<(), E>
    where
        T: Send,
        E: Send,
        F: Fn(usize, &mut [T]) -> Result<(), E> + Sync,
    {
        self.map_chunks(items, min_chunk, step)
            .into_iter()
            .collect()
    }

    /// Runs `step(offset, chunk)` over `items` split into contiguous chunks
    /// as [`Pool::for_chunks`] does, and returns every chunk's result in
    /// order (one result when `step(0, items)` ran here).
    ///
    /// For per-item loops whose chunks report more than a first error (what
    /// they used, what they spent), folded by the caller in chunk order.
    pub fn map_chunks<T, R, F>(&self, items: &mut [T], min_chunk: usize, step: F) -> Vec<R>
    where
        T: Send,
        R: Send,
        F: Fn(usize, &mut [T]) -> R + Sync,
    {
        let min_chunk = min_chunk.max(1);
        let pool = match &self.pool {
            Some(pool) if items.len() >= min_chunk.saturating_mul(2) => pool,
            _ => return vec![step(0, items)],
        };
        // A few chunks per thread, so that a thread slowed by other work (a
        // sibling directory's build, another process) leaves its share to
        // the rest.
        let chunks = (items.len() / min_chunk).min(4 * pool.current_num_threads());
        let chunk_len = items.len().div_ceil(chunks.max(1));
        pool.install(|| {
            items
                .par_chunks_mut(chunk_len)
                .enumerate()
                .map(|(i, chunk)| step(i * chunk_len, chunk))
                .collect()
        })
    }

    /// [`Pool::map_chunks`] over items read, not changed: `step` may return
    /// what borrows from them. The chunks are all as long as the first but
    /// the last (chunk `i` starts at `i` times the first's length), which
    /// callers may index by.
    pub fn map_chunks_ref<'a, T, R, F>(&self, items: &'a [T], min_chunk: usize, step: F) -> Vec<R>
    where
        T: Sync,
        R: Send,
        F: Fn(usize, &'a [T]) -> R + Sync,
    {
        let min_chunk = min_chunk.max(1);
        let pool = match &self.pool {
            Some(pool) if items.len() >= min_chunk.saturating_mul(2) => pool,
            _ => return vec![step(0, items)],
        };
        let chunks = (items.len() / min_chunk).min(4 * pool.current_num_threads());
        let chunk_len = items.len().div_ceil(chunks.max(1));
        pool.install(|| {
            items
                .par_chunks(chunk_len)
                .enumerate()
                .map(|(i, chunk)| step(i * chunk_len, chunk))
                .collect()
        })
    }

    /// Runs `f(item, value)` for each of `items` with the value at the same
    /// position of `values` (the shorter list sets how many), on the pool's
    /// threads in runs of at least `min_len`; with no pool, or fewer than
    /// `2 * min_len` items, in sequence here.
    pub fn zip_each<T, U, F>(&self, items: &mut [T], values: Vec<U>, min_len: usize, f: F)
    where
        T: Send,
        U: Send,
        F: Fn(&mut T, U) + Sync + Send,
    {
        match &self.pool {
            Some(pool) if items.len() >= min_len.saturating_mul(2) => pool.install(|| {
                items
                    .par_iter_mut()
                    .zip(values.into_par_iter())
                    .with_min_len(min_len.max(1))
                    .for_each(|(item, value)| f(item, value));
            }),
            _ => {
                for (item, value) in items.iter_mut().zip(values) {
                    f(item, value);
                }
            }
        }
    }

    /// `f` of each of `items`, in order, computed on the pool's threads in
    /// runs of at least `min_len` items and written straight into the
    /// result; with no pool, or fewer than `2 * min_len` items, in sequence
    /// here.
    ///
    /// For moving a large build's resources into new ones: the result's
    /// pages are faulted in by all the threads at once.
    pub fn map_vec<T, U, F>(&self, items: &mut [T], min_len: usize, f: F) -> Vec<U>
    where
        T: Send,
        U: Send,
        F: Fn(&mut T) -> U + Sync + Send,
    {
        match &self.pool {
            Some(pool) if items.len() >= min_len.saturating_mul(2) => pool.install(|| {
                let mut out = Vec::with_capacity(items.len());
                items
                    .par_iter_mut()
                    .with_min_len(min_len.max(1))
                    .map(f)
                    .collect_into_vec(&mut out);
                out
            }),
            _ => items.iter_mut().map(f).collect(),
        }
    }

    /// Sorts `items` by `compare`, stably, on the pool's threads (a merge
    /// sort whose halves sort in parallel); with no pool, or fewer than
    /// `min_len` items, in sequence here. The order is the sequential stable
    /// sort's at any thread count.
    pub fn sort_by<T, F>(&self, items: &mut [T], min_len: usize, compare: F)
    where
        T: Send,
        F: Fn(&T, &T) -> std::cmp::Ordering + Sync + Send,
    {
        match &self.pool {
            Some(pool) if items.len() >= min_len => {
                pool.install(|| items.par_sort_by(compare));
            }
            _ => items.sort_by(compare),
        }
    }
}

/// A pool's threads running the output writer's workers: each worker is a
/// job of the pool, and the caller (not a thread of the pool) writes.
pub(crate) struct PoolWriters<'p>(&'p rayon::ThreadPool);

impl rustomize_yaml::WorkerThreads for PoolWriters<'_> {
    fn count(&self) -> usize {
        self.0.current_num_threads()
    }

    fn run(&self, workers: usize, work: &(dyn Fn() + Sync), main: &mut dyn FnMut()) -> bool {
        self.0.in_place_scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|_| work());
            }
            main();
        });
        true
    }
}
