//! Output order: kustomize's legacy kind order (the default) or FIFO.
//!
//! Legacy order ranks kinds by a "first" list and a "last" list, then by
//! group/version/kind, then by namespace and name — with one wrinkle kustomize
//! keeps for compatibility: two `Namespace` kinds where either has no group compare
//! in reverse.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::load::kustomization::SortOrder;
use crate::parallel::Pool;
use crate::resource::{Gvk, Resource};

/// Sorts resources in place per `order`; returns, for each position of the
/// result, the position the resource had before.
pub fn sort(resources: &mut [Resource], order: &SortOrder, threads: &Pool) -> Vec<usize> {
    let SortOrder::Legacy { first, last } = order else {
        return (0..resources.len()).collect();
    };
    let mut rank: HashMap<&str, i64> = HashMap::new();
    let n_first = first.len() as i64;
    for (i, kind) in first.iter().enumerate() {
        rank.insert(kind, i as i64 - n_first);
    }
    for (i, kind) in last.iter().enumerate() {
        rank.insert(kind, 1 + i as i64);
    }
    // Each distinct group/version/kind is ranked once (resources share a few
    // dozen of them); a resource's key is then that position and its
    // `namespace|name` text. The texts sit side by side in one buffer: one
    // string per resource was an allocation each, and comparisons reading
    // them all over the heap were most of a 100k-resource sort. The keys are
    // read on the build's threads, a chunk of resources each (reading every
    // id of a 100k-resource build misses the cache on each: 13 ms on one
    // thread); the chunks' kinds are then merged and their texts joined.
    let chunks = threads.map_chunks(resources, KEY_CHUNK, |offset, chunk| {
        ChunkKeys::of(offset, chunk)
    });
    let mut gvk_slot: foldhash::HashMap<Gvk, usize> = foldhash::HashMap::default();
    let mut gvks: Vec<GvkKey> = Vec::new();
    let mut text = String::with_capacity(chunks.iter().map(|c| c.text.len()).sum());
    // (position of the kind, its slot; start and end of the text; resource)
    let mut keyed: Vec<(usize, usize, usize, usize, usize)> = Vec::with_capacity(resources.len());
    for chunk in chunks {
        let slots: Vec<usize> = chunk
            .gvks
            .into_iter()
            .map(|gvk| match gvk_slot.get(&gvk) {
                Some(&slot) => slot,
                None => {
                    gvk_slot.insert(gvk.clone(), gvks.len());
                    gvks.push(GvkKey::new(gvk, &rank));
                    gvks.len() - 1
                }
            })
            .collect();
        let base = text.len();
        text.push_str(&chunk.text);
        for (local, start, end, i) in chunk.keys {
            let slot = slots.get(local).copied().unwrap_or(0);
            keyed.push((slot, slot, base + start, base + end, i));
        }
    }
    // Positions of the distinct kinds in legacy order; kinds the order cannot
    // tell apart share a position (and keep their resources' input order).
    let mut by_order: Vec<usize> = (0..gvks.len()).collect();
    by_order.sort_by(|&a, &b| gvks[a].cmp_legacy(&gvks[b]));
    let mut position = vec![0usize; gvks.len()];
    let mut pos = 0;
    // Whether two different kinds share a position: their texts are made
    // equal by a literal `~G`, `~V` or `~K` (`apiVersion: ~G/v1`).
    let mut kinds_tied = false;
    for (k, &g) in by_order.iter().enumerate() {
        if k > 0 {
            if gvks[by_order[k - 1]].cmp_legacy(&gvks[g]) != Ordering::Equal {
                pos += 1;
            } else {
                kinds_tied = true;
            }
        }
        position[g] = pos;
    }
    for key in &mut keyed {
        key.0 = position.get(key.0).copied().unwrap_or(0);
    }
    let tail = |start: usize, end: usize| text.get(start..end).unwrap_or("");
    if kinds_tied {
        // kustomize's comparison compares names only within one kind, so
        // resources of tied kinds are neither before nor after each other,
        // and "before" is then not transitive. The standard sort may panic
        // on such a comparison; `go_sort` never does, and sorts up to 12
        // resources exactly as Go's `sort.Sort` does.
        rustomize_yaml::go_sort(&mut keyed, |&(pa, ga, sa, ea, _), &(pb, gb, sb, eb, _)| {
            pa < pb || (pa == pb && ga == gb && tail(sa, ea) < tail(sb, eb))
        });
    } else {
        // Every kind has a position of its own: (position, text) is a total
        // order. Stable, as ids are unique anyway (and the run-aware stable
        // sort took fewer instructions than an unstable one with the input
        // position as a last key).
        // On the build's threads for large builds (a 100k-resource sort
        // took 17 ms on one).
        threads.sort_by(
            &mut keyed,
            PARALLEL_SORT_MIN,
            |&(pa, _, sa, ea, _), &(pb, _, sb, eb, _)| {
                pa.cmp(&pb).then_with(|| tail(sa, ea).cmp(tail(sb, eb)))
            },
        );
    }
    let before: Vec<usize> = keyed.into_iter().map(|(_, _, _, _, i)| i).collect();
    apply_permutation(resources, &mut before.clone());
    before
}

/// Resources per chunk whose keys one thread reads (see [`ChunkKeys`]).
const KEY_CHUNK: usize = 4096;

/// The sort keys of one chunk of resources: its distinct kinds, and for each
/// resource (the slot of its kind in `gvks`, start and end of its
/// `namespace|name` text in `text`, its position among all resources).
struct ChunkKeys {
    gvks: Vec<Gvk>,
    text: String,
    keys: Vec<(usize, usize, usize, usize)>,
}

impl ChunkKeys {
    /// The keys of `chunk`, whose first resource is at position `offset`.
    fn of(offset: usize, chunk: &[Resource]) -> ChunkKeys {
        let mut slot_of: foldhash::HashMap<&Gvk, usize> = foldhash::HashMap::default();
        let mut gvks = Vec::new();
        // Sized for typical ids up front (growing by doubling leaves freed
        // buffers of up to half the final size behind); joined into one
        // buffer by `sort` and freed.
        let mut text = String::with_capacity(chunk.len() * 40);
        let mut keys = Vec::with_capacity(chunk.len());
        for (k, r) in chunk.iter().enumerate() {
            let id = r.id();
            let slot = *slot_of.entry(&id.gvk).or_insert_with(|| {
                gvks.push(id.gvk.clone());
                gvks.len() - 1
            });
            let start = text.len();
            text.push_str(or_default(&id.namespace, "~X"));
            text.push('|');
            text.push_str(or_default(&id.name, "~N"));
            keys.push((slot, start, text.len(), offset + k));
        }
        ChunkKeys { gvks, text, keys }
    }
}

/// Resources from which the sort runs on the build's threads: below, a
/// sequential sort takes well under a millisecond.
const PARALLEL_SORT_MIN: usize = 4096;

/// `s`, or `default` when `s` is empty.
fn or_default<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() {
        default
    } else {
        s
    }
}

/// Reorders `items` so that position `k` holds the item that was at `order[k]`.
fn apply_permutation<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut current = start;
        while order[current] != start {
            let next = order[current];
            items.swap(current, next);
            order[current] = current;
            current = next;
        }
        order[current] = current;
    }
}

/// What legacy order compares between two different group/version/kinds.
struct GvkKey {
    rank: i64,
    gvk: Gvk,
    gvk_string: String,
}

impl GvkKey {
    fn new(gvk: Gvk, rank: &HashMap<&str, i64>) -> GvkKey {
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        let gvk_string = format!(
            "{}_{}_{}",
            or(&gvk.group, "~G"),
            or(&gvk.version, "~V"),
            or(&gvk.kind, "~K")
        );
        GvkKey {
            rank: rank.get(gvk.kind.as_str()).copied().unwrap_or(0),
            gvk,
            gvk_string,
        }
    }

    /// kustomize's comparison of two resources of different kinds.
    fn cmp_legacy(&self, other: &GvkKey) -> Ordering {
        if self.gvk == other.gvk {
            return Ordering::Equal;
        }
        if self.rank != other.rank {
            return self.rank.cmp(&other.rank);
        }
        if self.gvk.kind == "Namespace"
            && other.gvk.kind == "Namespace"
            && (self.gvk.group.is_empty() || other.gvk.group.is_empty())
        {
            return other.gvk_string.cmp(&self.gvk_string);
        }
        self.gvk_string.cmp(&other.gvk_string)
    }
}
