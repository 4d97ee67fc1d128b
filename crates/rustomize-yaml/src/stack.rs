//! Stack safety for deeply nested documents.
//!
//! kustomize accepts documents nested up to 10,000 levels (go-yaml's limit), and
//! most of rustomize walks trees recursively: the reader's fast path, `Clone`,
//! `PartialEq` and `Drop` of [`Value`], the writer, strategic merge, every
//! transformer. At that depth a recursive walk needs far more than the 2 MiB a
//! spawned thread gets by default, so deep work runs on a thread of its own with
//! a large stack ([`on_deep_stack`], [`spawn_deep`]); a thread-local flag marks
//! such threads so that nested calls run inline instead of spawning again.
//! [`drop_deep`] takes a tree apart without recursion, for values that end up on
//! an ordinary thread.
//!
//! The stack is reserved address space, not memory: pages are only touched
//! as deep as a walk actually goes.

use std::cell::Cell;
use std::thread::{Scope, ScopedJoinHandle};

use crate::Value;

/// The stack size of the threads deep work runs on. Enough for every stage of a
/// build (unoptimised builds included) at the default depth limit of 10,000.
pub const DEEP_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Nesting up to this depth is safe on any thread with the default 2 MiB stack
/// (in unoptimised builds too); deeper work goes to a deep stack.
pub(crate) const SHALLOW_DEPTH: usize = 100;

thread_local! {
    static ON_DEEP_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Whether the current thread is one that [`on_deep_stack`] or [`spawn_deep`] started.
pub fn is_on_deep_stack() -> bool {
    ON_DEEP_STACK.with(Cell::get)
}

/// Runs `f` on a thread with a [`DEEP_STACK_BYTES`] stack and returns its result
/// (a panic in `f` is resumed on the caller). On such a thread already, or when
/// no thread can be started, `f` runs inline.
pub fn on_deep_stack<R, F>(f: F) -> R
where
    R: Send,
    F: FnOnce() -> R + Send,
{
    if is_on_deep_stack() {
        return f();
    }
    // The closure is handed over through a slot so that it can still run inline
    // when the thread cannot be created (address-space limits, for example).
    let slot = std::sync::Mutex::new(Some(f));
    let outcome = std::thread::scope(|s| {
        let handle = spawn_deep(s, || {
            let f = slot.lock().ok().and_then(|mut f| f.take());
            f.map(|f| f())
        });
        handle.ok().map(|h| h.join())
    });
    match outcome {
        Some(Ok(Some(result))) => result,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        Some(Ok(None)) | None => {
            let f = match slot.into_inner() {
                Ok(f) => f,
                Err(poisoned) => poisoned.into_inner(),
            };
            match f {
                Some(f) => f(),
                // Unreachable: the thread took the closure and then returned a result.
                None => std::panic::resume_unwind(Box::new("deep-stack closure lost")),
            }
        }
    }
}

/// Spawns a scoped thread with a [`DEEP_STACK_BYTES`] stack, marked so that
/// [`on_deep_stack`] runs inline on it. For worker pools.
pub fn spawn_deep<'scope, 'env, T, F>(
    scope: &'scope Scope<'scope, 'env>,
    f: F,
) -> std::io::Result<ScopedJoinHandle<'scope, T>>
where
    T: Send + 'scope,
    F: FnOnce() -> T + Send + 'scope,
{
    std::thread::Builder::new()
        .name("rustomize-deep".into())
        .stack_size(DEEP_STACK_BYTES)
        .spawn_scoped(scope, move || {
            ON_DEEP_STACK.with(|c| c.set(true));
            f()
        })
}

/// Marks the current thread as one with a [`DEEP_STACK_BYTES`] stack, so that
/// [`on_deep_stack`] runs inline on it. For threads started by a pool of the
/// caller's own (a thread pool's start handler), whose stack size the caller
/// set to [`DEEP_STACK_BYTES`]; marking any other thread would let deep work
/// overflow its stack (an abort, not a recoverable error).
pub fn mark_deep_stack_thread() {
    ON_DEEP_STACK.with(|c| c.set(true));
}

/// The nesting depth of `value`: 0 for a scalar, 1 for a collection of scalars.
/// Walks without recursion.
pub fn depth(value: &Value) -> usize {
    deeper_than(value, usize::MAX).1
}

/// Whether `value` nests deeper than `limit` (stops looking once it does), and
/// the depth found.
pub(crate) fn deeper_than(value: &Value, limit: usize) -> (bool, usize) {
    let mut max = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Seq(items) => {
                max = max.max(d);
                stack.extend(
                    items
                        .iter()
                        .filter(|c| matches!(c, Value::Seq(_) | Value::Map(_)))
                        .map(|c| (c, d + 1)),
                );
            }
            Value::Map(map) => {
                max = max.max(d);
                stack.extend(
                    map.values()
                        .filter(|c| matches!(c, Value::Seq(_) | Value::Map(_)))
                        .map(|c| (c, d + 1)),
                );
            }
            _ => {}
        }
        if max > limit {
            return (true, max);
        }
    }
    (false, max)
}

/// Drops `value` with recursion bounded by [`NATIVE_DROP_DEPTH`] levels, so
/// that a tree of any depth can be dropped on any thread (the derived drop
/// recurses once per level). Scalars are dropped where they lie and nested
/// collections taken apart recursively; the levels below that depth go to an
/// explicit stack. (Moving every child onto an explicit stack, as this did
/// before, took 2.5-3x as long: a Kubeflow build's 10 MB tree in 5.4 ms
/// instead of 1.9 ms.)
pub fn drop_deep(value: Value) {
    let mut deeper = Vec::new();
    take_apart(value, 0, &mut deeper);
    while let Some(v) = deeper.pop() {
        take_apart(v, 0, &mut deeper);
    }
}

/// How many levels [`drop_deep`] takes apart by recursion (a few dozen bytes
/// of stack each) before it moves what is below to its own stack.
pub const NATIVE_DROP_DEPTH: usize = 64;

/// Whether `v` is a collection holding something.
fn is_nested(v: &Value) -> bool {
    match v {
        Value::Seq(items) => !items.is_empty(),
        Value::Map(map) => !map.is_empty(),
        _ => false,
    }
}

/// Drops `value` (at `depth` levels below where [`drop_deep`] started),
/// taking apart its nested collections; those below the depth bound go to
/// `deeper`.
fn take_apart(value: Value, depth: usize, deeper: &mut Vec<Value>) {
    let mut child = |item: Value| {
        if is_nested(&item) {
            if depth < NATIVE_DROP_DEPTH {
                take_apart(item, depth + 1, deeper);
            } else {
                deeper.push(item);
            }
        }
    };
    match value {
        Value::Seq(items) => items.into_iter().for_each(&mut child),
        Value::Map(map) => map.into_iter().for_each(|(_, item)| child(item)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::Map;

    fn nested(n: usize) -> Value {
        let mut v = Value::Null;
        for i in 0..n {
            v = if i % 2 == 0 {
                Value::Seq(vec![v])
            } else {
                let mut m = Map::default();
                m.insert("a", v);
                Value::Map(m)
            };
        }
        v
    }

    #[test]
    fn depth_and_drop_deep_do_not_recurse() {
        let v = nested(100_000);
        assert_eq!(depth(&v), 100_000);
        assert!(deeper_than(&v, 10).0);
        drop_deep(v);
        assert_eq!(depth(&Value::Null), 0);
    }

    #[test]
    fn on_deep_stack_runs_deep_recursion_and_nests_inline() {
        let depth_seen = on_deep_stack(|| {
            let v = nested(10_000);
            let copy = v.clone();
            assert!(copy == v);
            let inner = on_deep_stack(is_on_deep_stack);
            drop(copy);
            drop(v);
            inner
        });
        assert!(depth_seen);
        assert!(!is_on_deep_stack());
    }

    #[test]
    fn panics_come_back_to_the_caller() {
        let r = std::panic::catch_unwind(|| on_deep_stack(|| panic!("boom")));
        assert!(r.is_err());
    }
}
