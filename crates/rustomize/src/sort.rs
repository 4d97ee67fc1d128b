//! Output order: kustomize's legacy kind order (the default) or FIFO.
//!
//! Legacy order ranks kinds by a "first" list and a "last" list, then by
//! group/version/kind, then by namespace and name — with one wrinkle kustomize
//! keeps for compatibility: two `Namespace` kinds where either has no group compare
//! in reverse.

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::load::kustomization::SortOrder;
use crate::resource::{Gvk, Resource};

/// Sorts resources in place per `order`.
pub fn sort(resources: &mut [Resource], order: &SortOrder) {
    let SortOrder::Legacy { first, last } = order else {
        return;
    };
    let mut rank: HashMap<&str, i64> = HashMap::new();
    let n_first = first.len() as i64;
    for (i, kind) in first.iter().enumerate() {
        rank.insert(kind, i as i64 - n_first);
    }
    for (i, kind) in last.iter().enumerate() {
        rank.insert(kind, 1 + i as i64);
    }
    let mut keyed: Vec<(SortKey, usize)> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (SortKey::new(r, &rank), i))
        .collect();
    keyed.sort_by(|(a, _), (b, _)| a.cmp_legacy(b));
    let mut order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    apply_permutation(resources, &mut order);
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

struct SortKey {
    rank: i64,
    gvk: Gvk,
    gvk_string: String,
    id_string: String,
}

impl SortKey {
    fn new(r: &Resource, rank: &HashMap<&str, i64>) -> SortKey {
        let id = r.id();
        let or = |s: &str, d: &str| {
            if s.is_empty() {
                d.to_owned()
            } else {
                s.to_owned()
            }
        };
        let gvk_string = format!(
            "{}_{}_{}",
            or(&id.gvk.group, "~G"),
            or(&id.gvk.version, "~V"),
            or(&id.gvk.kind, "~K")
        );
        let id_string = format!(
            "{}|{}|{}",
            id.gvk,
            or(&id.namespace, "~X"),
            or(&id.name, "~N")
        );
        SortKey {
            rank: rank.get(id.gvk.kind.as_str()).copied().unwrap_or(0),
            gvk: id.gvk.clone(),
            gvk_string,
            id_string,
        }
    }

    fn cmp_legacy(&self, other: &SortKey) -> Ordering {
        if self.gvk != other.gvk {
            if self.rank != other.rank {
                return self.rank.cmp(&other.rank);
            }
            if self.gvk.kind == "Namespace"
                && other.gvk.kind == "Namespace"
                && (self.gvk.group.is_empty() || other.gvk.group.is_empty())
            {
                return other.gvk_string.cmp(&self.gvk_string);
            }
            return self.gvk_string.cmp(&other.gvk_string);
        }
        self.id_string.cmp(&other.id_string)
    }
}
