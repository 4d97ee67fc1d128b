//! [`Map`]: the mapping of a [`Value`] tree, a vector of `(key, value)` pairs
//! in insertion order, searched linearly.
//!
//! Why not a hash map: a Kubernetes object is a tree of small mappings (in
//! the Kubeflow v1.10.2 example output, 94% of the 51k mappings have at most
//! four keys and the median has two). A hashed, insertion-ordered map (`IndexMap`) spends three
//! heap blocks on each of them (header, entries with a stored hash, index
//! table), about 150 bytes before the first entry; the pairs alone are one
//! block of 56 bytes per entry, and comparing a handful of short keys costs
//! less than hashing one. Lookups in a large mapping (a ConfigMap's `data`, an
//! OpenAPI schema's `properties`) are linear, which is what they cost in
//! go-yaml's and kyaml's node trees too; the reader checks duplicate keys of a
//! large mapping with a temporary hash set so that reading stays linear.
//!
//! The methods mirror `indexmap::IndexMap`'s (the type this replaces), with
//! the same meaning: `insert` keeps the position of an existing key,
//! `shift_remove` keeps the order of the others, `swap_remove` moves the last
//! entry into the gap, and `==` ignores order.

use std::borrow::Borrow;

use crate::value::{Str, Value};

/// The hasher the reader checks duplicate keys of large mappings with
/// (seeded per process, so crafted keys cannot collide on purpose).
pub type MapHasher = foldhash::fast::RandomState;

/// Whether two keys are equal, without a call to the C library's `memcmp`
/// for the short keys objects are made of: equal-length keys of up to 16
/// bytes are compared as two overlapping words. Lookups compare a key with
/// every key of the mapping before it, and `memcmp` was 3-10% of a build's
/// CPU on overlay-heavy trees, most of it call overhead.
#[inline]
pub fn key_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let n = a.len();
    if n != b.len() {
        return false;
    }
    // Overlapping loads: the first and the last word cover all `n` bytes.
    fn word8(s: &[u8], at: usize) -> u64 {
        s.get(at..at + 8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_ne_bytes)
    }
    fn word4(s: &[u8], at: usize) -> u32 {
        s.get(at..at + 4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    }
    match n {
        0 => true,
        1..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        _ => a == b,
    }
}

/// A mapping with string keys, in insertion order (transformers that build
/// maps are deterministic; the writer sorts keys the way kustomize does).
/// See the [module documentation](self) for why it is a vector.
#[derive(Clone, Default)]
pub struct Map {
    entries: Vec<(Str, Value)>,
}

/// One pair of a [`Map`].
type Pair = (Str, Value);

impl Map {
    /// An empty map (allocates nothing).
    pub fn new() -> Self {
        Map::default()
    }

    /// An empty map with room for `n` entries.
    pub fn with_capacity(n: usize) -> Self {
        Map {
            entries: Vec::with_capacity(n),
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The position of `key`, if present.
    #[inline]
    pub fn get_index_of<Q: ?Sized + Borrow<str>>(&self, key: &Q) -> Option<usize> {
        let key = key.borrow();
        self.entries.iter().position(|(k, _)| key_eq(k, key))
    }

    /// The value of `key`.
    #[inline]
    pub fn get<Q: ?Sized + Borrow<str>>(&self, key: &Q) -> Option<&Value> {
        let key = key.borrow();
        self.entries
            .iter()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| v)
    }

    /// The value of `key`, mutably.
    #[inline]
    pub fn get_mut<Q: ?Sized + Borrow<str>>(&mut self, key: &Q) -> Option<&mut Value> {
        let key = key.borrow();
        self.entries
            .iter_mut()
            .find(|(k, _)| key_eq(k, key))
            .map(|(_, v)| v)
    }

    /// The stored key and value of `key`.
    pub fn get_key_value<Q: ?Sized + Borrow<str>>(&self, key: &Q) -> Option<(&Str, &Value)> {
        let key = key.borrow();
        self.entries
            .iter()
            .find(|(k, _)| key_eq(k, key))
            .map(|(k, v)| (k, v))
    }

    /// The entry at position `i`.
    pub fn get_index(&self, i: usize) -> Option<(&Str, &Value)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    /// The entry at position `i`, its value mutably.
    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Str, &mut Value)> {
        self.entries.get_mut(i).map(|(k, v)| (&*k, v))
    }

    /// Whether `key` is present.
    pub fn contains_key<Q: ?Sized + Borrow<str>>(&self, key: &Q) -> bool {
        let key = key.borrow();
        self.entries.iter().any(|(k, _)| key_eq(k, key))
    }

    /// Sets `key` to `value`: an existing key keeps its position and its old
    /// value is returned, a new key goes last.
    pub fn insert(&mut self, key: impl Into<Str>, value: Value) -> Option<Value> {
        let key = key.into();
        match self.get_mut(&key) {
            Some(slot) => Some(std::mem::replace(slot, value)),
            None => {
                self.push(key, value);
                None
            }
        }
    }

    /// [`Map::insert`], also giving the position of the key.
    pub fn insert_full(&mut self, key: impl Into<Str>, value: Value) -> (usize, Option<Value>) {
        let key = key.into();
        match self.get_index_of(&key) {
            Some(i) => {
                let old = self
                    .entries
                    .get_mut(i)
                    .map(|(_, slot)| std::mem::replace(slot, value));
                (i, old)
            }
            None => {
                self.push(key, value);
                (self.entries.len() - 1, None)
            }
        }
    }

    /// Removes `key`, keeping the order of the other entries.
    pub fn shift_remove<Q: ?Sized + Borrow<str>>(&mut self, key: &Q) -> Option<Value> {
        self.shift_remove_entry(key).map(|(_, v)| v)
    }

    /// Removes `key` and gives back its stored key and value, keeping the
    /// order of the other entries.
    pub fn shift_remove_entry<Q: ?Sized + Borrow<str>>(&mut self, key: &Q) -> Option<(Str, Value)> {
        let i = self.get_index_of(key)?;
        Some(self.entries.remove(i))
    }

    /// Removes `key`, moving the last entry into its place.
    pub fn swap_remove<Q: ?Sized + Borrow<str>>(&mut self, key: &Q) -> Option<Value> {
        let i = self.get_index_of(key)?;
        Some(self.entries.swap_remove(i).1)
    }

    /// The slot of `key`, to fill in if it is vacant.
    pub fn entry(&mut self, key: impl Into<Str>) -> Entry<'_> {
        let key = key.into();
        let index = self.get_index_of(&key);
        Entry {
            map: self,
            key,
            index,
        }
    }

    /// The first entry.
    pub fn first(&self) -> Option<(&Str, &Value)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The last entry.
    pub fn last(&self) -> Option<(&Str, &Value)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Removes and returns the last entry.
    pub fn pop(&mut self) -> Option<(Str, Value)> {
        self.entries.pop()
    }

    /// The entries in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// The entries in order, as a slice (for loops the compiler should see
    /// the length of).
    pub(crate) fn as_slice(&self) -> &[(Str, Value)] {
        &self.entries
    }

    /// The entries in order, values mutably.
    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.entries.iter_mut())
    }

    /// The keys in order.
    pub fn keys(&self) -> Keys<'_> {
        Keys(self.entries.iter())
    }

    /// The values in order.
    pub fn values(&self) -> Values<'_> {
        Values(self.entries.iter())
    }

    /// The values in order, mutably.
    pub fn values_mut(&mut self) -> ValuesMut<'_> {
        ValuesMut(self.entries.iter_mut())
    }

    /// Keeps the entries for which `keep` returns true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// Sorts the entries with `cmp` (stable).
    pub fn sort_by(
        &mut self,
        mut cmp: impl FnMut(&Str, &Value, &Str, &Value) -> std::cmp::Ordering,
    ) {
        self.entries
            .sort_by(|(k1, v1), (k2, v2)| cmp(k1, v1, k2, v2));
    }

    /// Sorts the entries by key.
    pub fn sort_keys(&mut self) {
        self.entries.sort_by(|(k1, _), (k2, _)| k1.cmp(k2));
    }

    /// Appends a pair, growing the vector by a quarter (at least one) when it
    /// is full rather than doubling it: maps that transformers add a label or
    /// an annotation to stay that size for the rest of the build, and a
    /// doubled vector would be mostly empty (still amortized linear).
    fn push(&mut self, key: Str, value: Value) {
        if self.entries.len() == self.entries.capacity() {
            self.entries.reserve_exact(self.entries.len() / 4 + 1);
        }
        self.entries.push((key, value));
    }

    /// Removes the entries in `range` and yields them in order.
    pub fn drain(
        &mut self,
        range: impl std::ops::RangeBounds<usize>,
    ) -> std::vec::Drain<'_, (Str, Value)> {
        self.entries.drain(range)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Makes room for `n` more entries.
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    /// Gives back unused room.
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }
}

impl PartialEq for Map {
    /// The same keys with equal values, in any order (as `IndexMap`'s `==`).
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| v == w))
    }
}

impl std::fmt::Debug for Map {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<Str>> FromIterator<(K, Value)> for Map {
    /// Later duplicates replace earlier values in the first one's position.
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        // Through the builder: collecting a large map stays linear.
        let iter = iter.into_iter();
        let mut map = MapBuilder::with_capacity(iter.size_hint().0);
        for (k, v) in iter {
            map.insert(k.into(), v);
        }
        map.finish()
    }
}

impl<K: Into<Str>> Extend<(K, Value)> for Map {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Into<Str>, const N: usize> From<[(K, Value); N]> for Map {
    fn from(pairs: [(K, Value); N]) -> Self {
        pairs.into_iter().collect()
    }
}

/// Mappings with at most this many keys are built without a hash index.
pub(crate) const LINEAR_MAX: usize = 16;

impl Map {
    /// The map of the pairs of `entries` from `base` on, moved out as they
    /// are, if no key occurs twice among them; `None` (nothing moved) for a
    /// repeated key, which the caller reads with [`MapBuilder`]'s rules. Up
    /// to [`LINEAR_MAX`] pairs (nearly every mapping of a manifest) are
    /// checked pair by pair; more, through a set of borrowed keys (no key is
    /// copied, as the builder's index copies them).
    pub(crate) fn from_unique(entries: &mut Vec<Pair>, base: usize) -> Option<Map> {
        let pairs = entries.get(base..)?;
        if pairs.len() > LINEAR_MAX {
            let mut seen: std::collections::HashSet<&str, MapHasher> =
                std::collections::HashSet::with_capacity_and_hasher(
                    pairs.len(),
                    MapHasher::default(),
                );
            if !pairs.iter().all(|(key, _)| seen.insert(key.as_str())) {
                return None;
            }
        } else {
            for (i, (key, _)) in pairs.iter().enumerate().skip(1) {
                if pairs
                    .iter()
                    .take(i)
                    .any(|(earlier, _)| key_eq(earlier, key))
                {
                    return None;
                }
            }
        }
        // `split_off` copies the pairs in one block into a vector of their
        // exact length; from 0 it would hand over the whole stack with its
        // spare room, so there the pairs are collected into a new one.
        let entries = if base == 0 {
            entries.drain(base..).collect()
        } else {
            entries.split_off(base)
        };
        Some(Map { entries })
    }
}

/// A [`Map`] being read a pair at a time. Once it holds more than
/// [`LINEAR_MAX`] keys, a temporary hash index (dropped by [`Self::finish`])
/// keeps duplicate checks constant-time, so that reading a mapping of `n` keys
/// stays linear in `n`.
#[derive(Default)]
pub(crate) struct MapBuilder {
    map: Map,
    index: Option<std::collections::HashMap<Str, usize, MapHasher>>,
}

impl MapBuilder {
    /// A builder with room for `n` entries.
    pub(crate) fn with_capacity(n: usize) -> Self {
        MapBuilder {
            map: Map::with_capacity(n),
            index: None,
        }
    }

    /// The position of `key`, if present.
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.map.get_index_of(key),
        }
    }

    /// Whether `key` is present.
    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value` (an existing key keeps its position); returns
    /// the old value.
    pub(crate) fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        if let Some(i) = self.position(&key) {
            let slot = self.map.entries.get_mut(i).map(|(_, slot)| slot)?;
            return Some(std::mem::replace(slot, value));
        }
        self.push_new(key, value);
        None
    }

    /// Adds `key` with `value` unless `key` is present.
    pub(crate) fn insert_if_absent(&mut self, key: Str, value: Value) {
        if self.position(&key).is_none() {
            self.push_new(key, value);
        }
    }

    /// Appends a key known to be absent, indexing it once the map is large.
    fn push_new(&mut self, key: Str, value: Value) {
        let at = self.map.entries.len();
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), at);
        } else if at >= LINEAR_MAX {
            let mut index =
                std::collections::HashMap::with_capacity_and_hasher(at * 2, MapHasher::default());
            for (i, (k, _)) in self.map.entries.iter().enumerate() {
                index.insert(k.clone(), i);
            }
            index.insert(key.clone(), at);
            self.index = Some(index);
        }
        self.map.entries.push((key, value));
    }

    /// The map, without spare room.
    pub(crate) fn finish(mut self) -> Map {
        self.map.entries.shrink_to_fit();
        self.map
    }
}

/// The slot of one key of a [`Map`] (see [`Map::entry`]).
pub struct Entry<'a> {
    map: &'a mut Map,
    key: Str,
    index: Option<usize>,
}

impl<'a> Entry<'a> {
    /// The key.
    pub fn key(&self) -> &Str {
        &self.key
    }

    /// The value, inserting `default` last if the key is absent.
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        self.or_insert_with(|| default)
    }

    /// The value, inserting `make()` last if the key is absent.
    pub fn or_insert_with(self, make: impl FnOnce() -> Value) -> &'a mut Value {
        let i = match self.index {
            Some(i) => i,
            None => {
                self.map.push(self.key, make());
                self.map.entries.len() - 1
            }
        };
        // `i` is the found position or the one just pushed.
        &mut self.map.entries[i].1
    }

    /// The value, inserting `Value::Null` if the key is absent.
    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }

    /// Calls `f` on the value if the key is present.
    pub fn and_modify(self, f: impl FnOnce(&mut Value)) -> Self {
        if let Some(i) = self.index {
            if let Some((_, v)) = self.map.entries.get_mut(i) {
                f(v);
            }
        }
        self
    }
}

/// The entries of a [`Map`] in order (see [`Map::iter`]).
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, Pair>);

/// The entries of a [`Map`] in order, values mutably (see [`Map::iter_mut`]).
pub struct IterMut<'a>(std::slice::IterMut<'a, Pair>);

/// The entries of a [`Map`], moved out in order.
pub struct IntoIter(std::vec::IntoIter<Pair>);

/// The keys of a [`Map`] in order (see [`Map::keys`]).
#[derive(Clone)]
pub struct Keys<'a>(std::slice::Iter<'a, Pair>);

/// The values of a [`Map`] in order (see [`Map::values`]).
#[derive(Clone)]
pub struct Values<'a>(std::slice::Iter<'a, Pair>);

/// The values of a [`Map`] in order, mutably (see [`Map::values_mut`]).
pub struct ValuesMut<'a>(std::slice::IterMut<'a, Pair>);

/// Iterator, DoubleEndedIterator and ExactSizeIterator for one of the
/// iterators above, mapping each pair with `$f`.
macro_rules! pair_iterator {
    ($name:ty, $item:ty, $f:expr) => {
        impl<'a> Iterator for $name {
            type Item = $item;
            fn next(&mut self) -> Option<$item> {
                self.0.next().map($f)
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.0.size_hint()
            }
            fn nth(&mut self, n: usize) -> Option<$item> {
                self.0.nth(n).map($f)
            }
        }
        impl<'a> DoubleEndedIterator for $name {
            fn next_back(&mut self) -> Option<$item> {
                self.0.next_back().map($f)
            }
        }
        impl<'a> ExactSizeIterator for $name {}
        impl<'a> std::iter::FusedIterator for $name {}
    };
}

pair_iterator!(Iter<'a>, (&'a Str, &'a Value), |(k, v): &'a Pair| (k, v));
pair_iterator!(
    IterMut<'a>,
    (&'a Str, &'a mut Value),
    |(k, v): &'a mut Pair| (&*k, v)
);
pair_iterator!(IntoIter, (Str, Value), |pair: Pair| pair);
pair_iterator!(Keys<'a>, &'a Str, |(k, _): &'a Pair| k);
pair_iterator!(Values<'a>, &'a Value, |(_, v): &'a Pair| v);
pair_iterator!(ValuesMut<'a>, &'a mut Value, |(_, v): &'a mut Pair| v);

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::string(text)
    }

    /// `key_eq` agrees with `==` at every length around its word sizes,
    /// for equal keys, keys differing in any one byte, and lengths apart.
    #[test]
    fn key_eq_is_string_equality() {
        let base = "abcdefghijklmnopqrstuvwxyz";
        for n in 0..=base.len() {
            let a = &base[..n];
            assert!(key_eq(a, &String::from(a)), "{a:?}");
            for at in 0..n {
                let mut b = a.as_bytes().to_vec();
                if let Some(byte) = b.get_mut(at) {
                    *byte = b'_';
                }
                let b = String::from_utf8(b).unwrap_or_default();
                assert!(!key_eq(a, &b), "{a:?} vs {b:?}");
            }
            if n > 0 {
                assert!(!key_eq(a, &base[..n - 1]));
                assert!(!key_eq(&base[1..n], &base[..n - 1]) || n == 1);
            }
        }
        assert!(key_eq("", ""));
        assert!(!key_eq("é", "e\u{301}"));
    }

    #[test]
    fn insert_keeps_position_and_remove_keeps_order() {
        let mut m = Map::new();
        assert_eq!(m.insert("a", s("1")), None);
        assert_eq!(m.insert("b", s("2")), None);
        assert_eq!(m.insert("c", s("3")), None);
        assert_eq!(m.insert("a", s("4")), Some(s("1")));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(m.shift_remove("b"), Some(s("2")));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "c"]);
        assert_eq!(m.get("a"), Some(&s("4")));
        *m.entry("d").or_insert(Value::Null) = s("5");
        *m.entry("a").or_insert(Value::Null) = s("6");
        assert_eq!(m.keys().collect::<Vec<_>>(), ["a", "c", "d"]);
        assert_eq!(m.get("a"), Some(&s("6")));
        assert_eq!(m.swap_remove("a"), Some(s("6")));
        assert_eq!(m.keys().collect::<Vec<_>>(), ["d", "c"]);
    }

    #[test]
    fn equality_ignores_order() {
        let a: Map = [("x", s("1")), ("y", s("2"))].into();
        let b: Map = [("y", s("2")), ("x", s("1"))].into();
        let c: Map = [("y", s("2")), ("x", s("3"))].into();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn collect_replaces_duplicates_in_place() {
        let m: Map = [("x", s("1")), ("y", s("2")), ("x", s("3"))]
            .into_iter()
            .collect();
        assert_eq!(
            m.iter().map(|(k, v)| (k.as_str(), v)).collect::<Vec<_>>(),
            [("x", &s("3")), ("y", &s("2"))]
        );
    }
}
