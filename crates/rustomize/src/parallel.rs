//! Running independent pieces of one build on several threads.
//!
//! A kustomization's `resources` entries are independent until their results are
//! appended in order: files parse on their own and each directory is a complete
//! build of its own. They run as jobs on a small pool (scoped threads pulling the
//! next index; no global state), and the results are folded in entry order, so
//! the output — resources, warnings, the first error — is exactly what a
//! sequential build gives. A per-build budget caps the threads in use, including
//! those started by nested kustomizations.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The number of extra threads a build may still start.
#[derive(Debug)]
pub struct ThreadBudget(AtomicUsize);

impl ThreadBudget {
    /// A budget for `threads` threads in all (the calling thread included).
    pub fn new(threads: usize) -> ThreadBudget {
        ThreadBudget(AtomicUsize::new(threads.saturating_sub(1)))
    }

    fn take(&self, wanted: usize) -> usize {
        let mut current = self.0.load(Ordering::Relaxed);
        loop {
            let taking = current.min(wanted);
            if taking == 0 {
                return 0;
            }
            match self.0.compare_exchange_weak(
                current,
                current - taking,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return taking,
                Err(actual) => current = actual,
            }
        }
    }

    fn give_back(&self, n: usize) {
        self.0.fetch_add(n, Ordering::AcqRel);
    }
}

/// Runs `job(0..n)`, on extra threads when the budget allows, and returns the
/// results in index order.
pub fn run_jobs<T, F>(n: usize, budget: &ThreadBudget, job: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let helpers = if n > 1 { budget.take(n - 1) } else { 0 };
    if helpers == 0 {
        return (0..n).map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let out = job(i);
        if let Some(slot) = slots.get(i) {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(out);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 0..helpers {
            // Deep stacks, as the build's own thread has (documents may nest
            // 10,000 levels). A helper that cannot start leaves its share of the
            // jobs to the others and this thread.
            let _ = rustomize_yaml::stack::spawn_deep(s, work);
        }
        work();
    });
    budget.give_back(helpers);
    slots
        .into_iter()
        .filter_map(|slot| slot.into_inner().ok().flatten())
        .collect()
}
