//! Strategic merge patches, applied the way kustomize v5.5.0 applies them.
//!
//! kustomize does not use the apiserver's strategic-merge code: it walks the patch
//! and the target together with kyaml's merge walker (`merge2.Merge` with
//! `ListIncreaseDirection: Prepend`), and this module reproduces that walker on
//! [`Value`] trees, quirks included:
//!
//! * maps merge field by field; `null` in the patch removes a field; scalars and
//!   lists without a merge strategy are replaced;
//! * a list merges element by element only when the [`MergeSchema`] gives it a
//!   `merge` strategy (so never for kinds without a schema, e.g. CRDs); elements
//!   are matched on the *text* of their key fields, and the result lists the
//!   patch's elements first (in patch order), then the target's remaining ones;
//!   with several keys (ports: `containerPort`+`protocol`) the target's elements
//!   are moved behind the patch-only ones, and half-keyed elements are matched
//!   the way kyaml matches them;
//! * merging a target element with a patch element keeps the target element
//!   (mutated), so `$patch: replace` on a list element has no effect;
//! * `$patch: delete|replace|merge` is honoured on maps and inside lists; the
//!   apiserver's other directives (`$setElementOrder/…`, `$retainKeys`,
//!   `$deleteFromPrimitiveList/…`) are not — they end up as ordinary fields;
//! * a number or boolean replacing a quoted string becomes a string (kyaml keeps
//!   the target's quoting style);
//! * the whole target is walked, so associative lists the patch does not touch are
//!   still de-duplicated by key, and their `null`/`{}` elements dropped.

use std::borrow::Cow;

use foldhash::{HashSet, HashSetExt};

use rustomize_yaml::{Map, Value};

use crate::resource::Gvk;
use crate::schema::{MergeSchema, SchemaRef};

/// What applying a patch did to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The target was merged with the patch.
    Merged,
    /// The patch deleted the target (`$patch: delete` at the top, or an empty
    /// result): the caller drops the resource.
    Deleted,
}

/// Applies the strategic merge patch `patch` to `target`, a resource of `gvk`.
///
/// On error the target is left in an unspecified (possibly empty) state.
pub fn apply(
    target: &mut Map,
    patch: &Map,
    gvk: &Gvk,
    schema: &MergeSchema,
) -> Result<Outcome, String> {
    apply_owned(target, patch.clone(), gvk, schema)
}

/// [`apply`] with a patch the caller no longer needs: the merge moves the
/// patch's values into the target instead of copying them.
///
/// On error the target is left in an unspecified (possibly empty) state.
pub fn apply_owned(
    target: &mut Map,
    patch: Map,
    gvk: &Gvk,
    schema: &MergeSchema,
) -> Result<Outcome, String> {
    let dest = Value::Map(std::mem::take(target));
    let origin = Value::Map(patch);
    match walk(Some(dest), Some(origin), false, schema.root(gvk))? {
        Some(Value::Map(merged)) if !merged.is_empty() => {
            *target = merged;
            Ok(Outcome::Merged)
        }
        _ => Ok(Outcome::Deleted),
    }
}

type Res<T> = Result<T, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Map,
    Seq,
    Scalar,
}

fn kind(v: Option<&Value>) -> Option<Kind> {
    match v? {
        Value::Null | Value::Empty => None,
        Value::Map(_) => Some(Kind::Map),
        Value::Seq(_) => Some(Kind::Seq),
        _ => Some(Kind::Scalar),
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Map => "MappingNode",
        Kind::Seq => "SequenceNode",
        Kind::Scalar => "ScalarNode",
    }
}

fn check_kind(expected: Kind, v: Option<&Value>) -> Res<()> {
    match kind(v) {
        Some(k) if k != expected => Err(format!(
            "wrong node kind: expected {} but got {}",
            kind_name(expected),
            kind_name(k)
        )),
        _ => Ok(()),
    }
}

/// The text kyaml compares merge keys by: a scalar's text, `""` for collections.
fn text(v: &Value) -> String {
    match v {
        Value::Null | Value::Empty => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.to_string(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// Whether the [`text`] of `v` is `s` (without building a string's text).
fn text_is(v: &Value, s: &str) -> bool {
    match v {
        Value::String(t) => t == s,
        Value::Seq(_) | Value::Map(_) => s.is_empty(),
        other => text(other) == s,
    }
}

fn is_null_or_empty_map(v: &Value) -> bool {
    match v {
        Value::Null | Value::Empty => true,
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// A `$patch` directive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

fn parse_directive(v: &str) -> Res<Directive> {
    match v {
        "merge" => Ok(Directive::Merge),
        "replace" => Ok(Directive::Replace),
        "delete" => Ok(Directive::Delete),
        other => Err(format!("unknown patch strategy '{other}'")),
    }
}

/// The directive of a patch map; a valid one is removed from the map.
fn map_directive(patch: &mut Map) -> Res<Directive> {
    let Some(v) = patch.get("$patch") else {
        return Ok(Directive::Merge);
    };
    let d = parse_directive(&text(v))?;
    patch.shift_remove("$patch");
    Ok(d)
}

/// The directive of a patch list: the first element that is a map with a
/// `$patch` field (and nothing else); a valid one is removed from the list.
fn seq_directive(patch: &mut Vec<Value>) -> Res<Directive> {
    let found = patch.iter().find_map(|e| match e {
        Value::Map(m) => m.get("$patch").map(|v| (m.len(), text(v))),
        _ => None,
    });
    let Some((len, v)) = found else {
        return Ok(Directive::Merge);
    };
    if len > 1 {
        return Ok(Directive::Merge);
    }
    let d = parse_directive(&v)?;
    let keys = ["$patch".to_owned()];
    element_set(patch, None, &keys, std::slice::from_ref(&v))?;
    Ok(d)
}

/// Replaces every field of `map` by what `merge` makes of it (moved out of
/// its slot), in order; a field whose merge comes out empty is dropped
/// (`retain` keeps the others' order, as removing by key would). The first
/// error stops the merging and is returned.
fn merge_fields(
    map: &mut Map,
    mut merge: impl FnMut(&str, Value) -> Res<Option<Value>>,
) -> Res<()> {
    let mut failed = None;
    map.retain(|key, slot| {
        if failed.is_some() {
            return true;
        }
        match merge(key, std::mem::take(slot)) {
            Ok(Some(v)) => {
                *slot = v;
                true
            }
            Ok(None) => false,
            Err(e) => {
                failed = Some(e);
                true
            }
        }
    });
    failed.map_or(Ok(()), Err)
}

/// Walks one node. `same` says the target side is the patch itself (kyaml walks
/// newly added content against itself).
fn walk(
    dest: Option<Value>,
    origin: Option<Value>,
    same: bool,
    sch: SchemaRef<'_>,
) -> Res<Option<Value>> {
    let k = if same {
        kind(origin.as_ref())
    } else {
        kind(dest.as_ref()).or(kind(origin.as_ref()))
    };
    match k {
        None | Some(Kind::Map) => {
            check_kind(Kind::Map, dest.as_ref())?;
            check_kind(Kind::Map, origin.as_ref())?;
            walk_map(dest, origin, same, sch)
        }
        Some(Kind::Seq) => {
            check_kind(Kind::Seq, dest.as_ref())?;
            check_kind(Kind::Seq, origin.as_ref())?;
            if sch.is_associative() {
                walk_assoc(dest, origin, same, sch)
            } else {
                Ok(scalar_like(dest, origin, same))
            }
        }
        Some(Kind::Scalar) => {
            check_kind(Kind::Scalar, dest.as_ref())?;
            check_kind(Kind::Scalar, origin.as_ref())?;
            Ok(scalar_like(dest, origin, same))
        }
    }
}

/// Scalars and non-associative lists: the patch's value wins (`null` clears).
fn scalar_like(dest: Option<Value>, origin: Option<Value>, same: bool) -> Option<Value> {
    let v = if same || origin.is_some() {
        origin
    } else {
        dest
    };
    v.filter(|v| !v.is_null())
}

fn walk_map(
    dest: Option<Value>,
    origin: Option<Value>,
    same: bool,
    sch: SchemaRef<'_>,
) -> Res<Option<Value>> {
    let (mut out, patch, self_walk) = if same {
        match origin {
            Some(Value::Map(mut o)) => {
                if map_directive(&mut o)? == Directive::Delete {
                    return Ok(None);
                }
                (o, None, true)
            }
            _ => return Ok(None),
        }
    } else {
        match (dest, origin) {
            (None | Some(Value::Null | Value::Empty), Some(Value::Map(mut o))) => {
                // Errors are ignored here: an unknown `$patch` stays as a field.
                if map_directive(&mut o) == Ok(Directive::Delete) {
                    return Ok(None);
                }
                (o, None, true)
            }
            // A null the patch does not mention survives if it was written
            // `null` or `~`; an empty value (`key:`) disappears, as in kustomize.
            (Some(Value::Null), None) => return Ok(Some(Value::Null)),
            (Some(Value::Empty), None) => return Ok(None),
            (Some(Value::Map(d)), None) => (d, None, false),
            (Some(Value::Map(d)), Some(Value::Map(mut o))) => match map_directive(&mut o)? {
                Directive::Delete => return Ok(None),
                Directive::Replace => (o, None, true),
                Directive::Merge => (d, Some(o), false),
            },
            _ => return Ok(None),
        }
    };
    // Each field is merged in place, in order.
    if self_walk {
        merge_fields(&mut out, |key, v| walk(None, Some(v), true, sch.field(key)))?;
        return Ok(Some(Value::Map(out)));
    }
    let mut patch = patch.unwrap_or_default();
    merge_fields(&mut out, |key, mut d| {
        let Some(o) = patch.shift_remove(key) else {
            // Most of a target is not in the patch: walked in place.
            return Ok(keep_target(&mut d, sch.field(key))?.then_some(d));
        };
        let o = Some(o);
        // Only a number or boolean replacing a string needs the string's
        // quoting (the merge takes a scalar patch value as is).
        let quoted = matches!(
            &o,
            Some(Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_))
        ) && matches!(&d, Value::String(s) if was_quoted(s));
        Ok(walk(Some(d), o, false, sch.field(key))?.map(|v| keep_quoted(v, quoted)))
    })?;
    for (key, o) in patch {
        if let Some(v) = walk(None, Some(o), false, sch.field(&key))? {
            out.insert(key, v);
        }
    }
    Ok(Some(Value::Map(out)))
}

/// What `walk(Some(target), None, false, sch)` makes of a target node the
/// patch does not mention, in place: false for an empty value (`key:`, which
/// the merge drops), a map keeps its other fields (walked alike, in order),
/// an associative list goes through the list merge (which folds elements
/// with equal keys), anything else stays as it is. Nothing is moved unless
/// something changes.
fn keep_target(node: &mut Value, sch: SchemaRef<'_>) -> Res<bool> {
    match node {
        Value::Empty => Ok(false),
        Value::Map(map) => {
            let mut dropped = false;
            for (key, field) in map.iter_mut() {
                if !keep_target(field, sch.field(key))? {
                    dropped = true;
                }
            }
            if dropped {
                map.retain(|_, field| !matches!(field, Value::Empty));
            }
            Ok(true)
        }
        Value::Seq(items) if sch.is_associative() => {
            if keep_keyed_list(items, sch)? {
                return Ok(true);
            }
            match walk_assoc(Some(std::mem::take(node)), None, false, sch)? {
                Some(list) => {
                    *node = list;
                    Ok(true)
                }
                None => {
                    // Dropped by the caller's retain like an empty value.
                    *node = Value::Empty;
                    Ok(false)
                }
            }
        }
        _ => Ok(true),
    }
}

/// [`keep_target`] for an associative list whose elements are all mappings
/// that set the same merge keys (at least one; each to a scalar) and leave
/// the others out, no two with the same values: the list merge of such a list
/// with itself (see [`set_elements`]) matches on the keys that are set, finds
/// each element by its own values, merges it with nothing and puts it back
/// where it was, so the result is each element kept in place, in order. Done
/// so, without the merge's copies of every element and key. False (nothing
/// changed) for any other list, which goes through the list merge, as does
/// one long enough for the merge's step limit to refuse it.
fn keep_keyed_list(items: &mut [Value], sch: SchemaRef<'_>) -> Res<bool> {
    /// Merge keys looked at (a bit each); lists with more go the long way.
    const MAX_KEYS: usize = 8;
    let mut keys: [&str; MAX_KEYS] = [""; MAX_KEYS];
    let mut key_count = 0;
    while let Some(key) = sch.key(key_count) {
        match keys.get_mut(key_count) {
            Some(slot) => *slot = key,
            None => return Ok(false),
        }
        key_count += 1;
    }
    let keys = keys.get(..key_count).unwrap_or_default();
    if keys.is_empty() {
        return Ok(false);
    }
    let n = items.len();
    // The step count `set_elements` checks for this list: n tuples, n
    // elements, a result of at most n * keys.
    let steps = n
        .saturating_add(n)
        .saturating_mul(n.saturating_add(n.saturating_mul(keys.len())));
    if steps > MAX_LIST_MERGE_STEPS {
        return Ok(false);
    }
    // Each element's values of the keys it sets, one run of `width` each.
    let mut set_mask: Option<u32> = None;
    let mut values: Vec<Cow<'_, str>> = Vec::new();
    for item in items.iter() {
        let Value::Map(m) = item else {
            return Ok(false);
        };
        if m.keys().any(|k| k.starts_with('$')) {
            return Ok(false);
        }
        let mut mask = 0u32;
        for (bit, key) in keys.iter().enumerate() {
            let value = match m.get(key) {
                None => continue,
                Some(Value::String(s)) if !s.is_empty() => Cow::Borrowed(s.as_str()),
                Some(v @ (Value::Int(_) | Value::Uint(_) | Value::Bool(_))) => Cow::Owned(text(v)),
                Some(_) => return Ok(false),
            };
            mask |= 1 << bit;
            values.push(value);
        }
        if mask == 0 || set_mask.is_some_and(|m| m != mask) {
            return Ok(false);
        }
        set_mask = Some(mask);
    }
    let width = set_mask.map_or(1, u32::count_ones) as usize;
    let tuples: Vec<&[Cow<'_, str>]> = values.chunks(width).collect();
    let distinct = if n <= 8 {
        tuples
            .iter()
            .enumerate()
            .all(|(i, t)| tuples.iter().skip(i + 1).all(|u| u != t))
    } else {
        let mut seen = HashSet::with_capacity(n);
        tuples.iter().all(|t| seen.insert(*t))
    };
    if !distinct {
        return Ok(false);
    }
    drop(tuples);
    drop(values);
    let elem_sch = sch.elements();
    for item in items.iter_mut() {
        // A mapping is always kept (it keeps its keys, so it is not empty).
        keep_target(item, elem_sch)?;
    }
    Ok(true)
}

/// Whether a target string must have been quoted in its source: read as a
/// plain scalar, it would not be that string.
fn was_quoted(s: &str) -> bool {
    let plain = rustomize_yaml::parse_documents(s, &rustomize_yaml::ParseLimits::default());
    !matches!(plain.as_deref(), Ok([Value::String(p)]) if p == s)
}

/// kyaml copies the replaced scalar's quoting style onto the new value, so a
/// number or boolean that replaces a quoted string comes out as a string.
fn keep_quoted(v: Value, quoted: bool) -> Value {
    match v {
        Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_) if quoted => {
            Value::string(text(&v))
        }
        v => v,
    }
}

fn walk_assoc(
    dest: Option<Value>,
    origin: Option<Value>,
    same: bool,
    sch: SchemaRef<'_>,
) -> Res<Option<Value>> {
    let (mut list, patch, same_elems) = if same {
        match origin {
            Some(Value::Seq(mut o)) => {
                if seq_directive(&mut o)? == Directive::Delete {
                    return Ok(None);
                }
                (o, None, true)
            }
            _ => return Ok(None),
        }
    } else {
        match (dest, origin) {
            // A list the target lacks is taken as is (directives included).
            (None | Some(Value::Null | Value::Empty), Some(Value::Seq(o))) => (o, None, true),
            (Some(Value::Seq(d)), None) => (d, None, false),
            (Some(Value::Seq(d)), Some(Value::Seq(mut o))) => match seq_directive(&mut o)? {
                Directive::Delete => return Ok(None),
                Directive::Replace => (o, None, true),
                Directive::Merge => (d, Some(o), false),
            },
            _ => return Ok(None),
        }
    };
    let keys = sch.keys();
    let keys: &[String] = &keys;
    let elem_sch = sch.elements();
    let mut lists = Lists {
        dest: &mut list,
        patch: if same_elems { None } else { patch.as_deref() },
        same: same_elems,
    };
    let values = element_values(&lists, keys);
    if !values.is_empty() || !keys.is_empty() {
        set_elements(values, keys, &mut lists, elem_sch)?;
    } else {
        let values = primitive_values(&lists);
        set_elements(values, &[String::new()], &mut lists, elem_sch)?;
    }
    Ok(Some(Value::Seq(list)))
}

/// The two sides of an associative list being merged. With `same`, the patch
/// side is the target list itself.
struct Lists<'a> {
    dest: &'a mut Vec<Value>,
    patch: Option<&'a [Value]>,
    same: bool,
}

impl Lists<'_> {
    /// Patch side first, then target side (kustomize's "prepend" order).
    fn sources(&self) -> [&[Value]; 2] {
        let dest: &[Value] = self.dest;
        match (self.same, self.patch) {
            (true, _) => [dest, dest],
            (false, Some(p)) => [p, dest],
            (false, None) => [&[], dest],
        }
    }
}

fn key_tuple(elem: &Value, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| match elem.get(k) {
            None | Some(Value::Null | Value::Empty) => String::new(),
            Some(Value::Map(m)) if m.is_empty() => String::new(),
            Some(Value::Seq(s)) if s.is_empty() => String::new(),
            Some(v) => text(v),
        })
        .collect()
}

fn element_values(lists: &Lists<'_>, keys: &[String]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for src in lists.sources() {
        for elem in src {
            let tuple = key_tuple(elem, keys);
            if tuple.is_empty() || seen.contains(&tuple) {
                continue;
            }
            seen.insert(tuple.clone());
            out.push(tuple);
        }
    }
    out
}

fn primitive_values(lists: &Lists<'_>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for src in lists.sources() {
        for elem in src {
            let t = text(elem);
            if seen.insert(t.clone()) {
                out.push(vec![t]);
            }
        }
    }
    out
}

/// Two key tuples that agree where both are set, and share at least one value,
/// merge into one.
fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut res = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            res.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            res.push(x.clone());
        } else {
            res.push(y.clone());
        }
    }
    common.then_some(res)
}

fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let Some(a) = list.get(i).cloned() else {
            continue;
        };
        for j in 0..list.len() {
            let Some(b) = list.get(j) else {
                continue;
            };
            if let Some(res) = match_values(&a, b) {
                if let Some(slot) = list.get_mut(i) {
                    slot.clone_from(&res);
                }
                if let Some(slot) = list.get_mut(j) {
                    *slot = res;
                }
            }
        }
    }
}

/// Which of `keys` some tuple of `all` sets (by name: a key counts if any
/// key of that name is set).
fn keys_set(all: &[Vec<String>], keys: &[String]) -> Vec<bool> {
    let mut named: Vec<&str> = Vec::new();
    for t in all {
        for (v, k) in t.iter().zip(keys) {
            if !v.is_empty() && !named.contains(&k.as_str()) {
                named.push(k);
            }
        }
    }
    keys.iter().map(|k| named.contains(&k.as_str())).collect()
}

/// The keys (and their values) that any tuple sets (`set`, from [`keys_set`]
/// over all tuples); all keys if none does.
fn validate_keys(set: &[bool], values: &[String], keys: &[String]) -> (Vec<String>, Vec<String>) {
    if !set.contains(&true) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys
        .iter()
        .zip(set)
        .filter(|(_, &s)| s)
        .map(|(k, _)| k.clone())
        .collect();
    let vv = values
        .iter()
        .zip(set)
        .filter(|(v, &s)| !v.is_empty() || s)
        .map(|(v, _)| v.clone())
        .collect();
    (vk, vv)
}

/// kyaml's field matcher: field `key` present (and, for a non-empty `value`,
/// with that text). With an empty key, the element itself is compared.
fn field_matches(elem: &Value, key: &str, value: &str) -> Res<bool> {
    if elem.is_null() {
        return Ok(false);
    }
    if key.is_empty() {
        check_kind(Kind::Scalar, Some(elem))?;
        return Ok(text_is(elem, value));
    }
    check_kind(Kind::Map, Some(elem))?;
    Ok(match elem.get(key) {
        None => false,
        Some(v) => value.is_empty() || text_is(v, value),
    })
}

/// The first element matching all `keys`/`values` (kyaml's `ElementMatcher`).
fn find_element(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    let first_key = keys.first().map_or("", String::as_str);
    if first_key.is_empty() {
        let v = values.first().map_or("", String::as_str);
        return list.iter().position(|e| text_is(e, v));
    }
    list.iter().position(|e| {
        let Value::Map(m) = e else {
            return false;
        };
        keys.iter()
            .zip(values)
            .all(|(k, v)| m.get(k).is_some_and(|f| text_is(f, v)))
    })
}

/// kyaml's `ElementSetter`: drops null and empty-map elements, replaces every
/// element matching the keys with `element` (removes them if `None`), and appends
/// `element` if none matched.
fn element_set(
    list: &mut Vec<Value>,
    element: Option<Value>,
    keys: &[String],
    values: &[String],
) -> Res<()> {
    let empty = [String::new()];
    let keys = if keys.is_empty() { &empty[..] } else { keys };
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
    // Positions in `out` that get (a copy of) `element`; filled in at the end
    // so that the last one takes the element itself.
    let mut matches: Vec<usize> = Vec::new();
    let mut out = Vec::with_capacity(list.len() + 1);
    for elem in std::mem::take(list) {
        if is_null_or_empty_map(&elem) {
            continue;
        }
        if !matches!(elem, Value::Map(_)) && mapping_setter {
            out.push(elem);
            continue;
        }
        let mut matched = false;
        let mut found = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(v) = values.get(j) {
                matched = field_matches(&elem, key, v)?;
            }
            if !matched {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(elem);
            }
            continue;
        }
        // Without an element the match is dropped.
        if element.is_some() {
            matches.push(out.len());
            out.push(Value::Null);
        }
    }
    *list = out;
    let Some(e) = element else {
        return Ok(());
    };
    match matches.split_last() {
        None => {
            if !e.is_null() {
                list.push(e);
            }
        }
        Some((&last, rest)) => {
            for &i in rest {
                if let Some(slot) = list.get_mut(i) {
                    slot.clone_from(&e);
                }
            }
            if let Some(slot) = list.get_mut(last) {
                *slot = e;
            }
        }
    }
    Ok(())
}

/// Most element comparisons one list merge may take. kustomize's list merge
/// (reproduced here for identical output) compares every element with every
/// other, and a target element without a merge key is re-appended once per key,
/// so patch after patch can double a list and square the work. 20 million
/// comparisons is a fraction of a second: lists of about 4,000 elements.
const MAX_LIST_MERGE_STEPS: usize = 20_000_000;

fn set_elements(
    mut values_list: Vec<Vec<String>>,
    keys: &[String],
    lists: &mut Lists<'_>,
    elem_sch: SchemaRef<'_>,
) -> Res<()> {
    let dest = lists.dest.len();
    let patch = lists.patch.map_or(0, <[Value]>::len);
    // Each of the merged values and target elements scans the result list,
    // which holds at most all of them (and each keyless target element once
    // per key).
    let result = values_list
        .len()
        .saturating_add(dest.saturating_mul(keys.len().max(1)));
    let steps = values_list
        .len()
        .saturating_add(dest)
        .saturating_mul(result);
    if steps > MAX_LIST_MERGE_STEPS {
        return Err(format!(
            "merging a list of {dest} elements with {patch} patch elements takes more than \
             {MAX_LIST_MERGE_STEPS} element comparisons (kustomize's list merge is quadratic)"
        ));
    }
    if keys.len() > 1 {
        merge_values(&mut values_list);
    }
    let mut items: Vec<Value> = Vec::new();
    let mut valid_keys: Vec<String> = Vec::new();
    // The keys some tuple sets: the same for every tuple of this list.
    let set = keys_set(&values_list, keys);
    for values in &values_list {
        if values.is_empty() {
            continue;
        }
        let (vk, vv) = validate_keys(&set, values, keys);
        let (mk, mv) = validate_keys(&keys_set(std::slice::from_ref(&vv), &vk), &vv, &vk);
        let d_idx = find_element(lists.dest, &mk, &mv);
        let val = if lists.same {
            match d_idx {
                Some(i) => {
                    // A map without a directive always merges into a map, so
                    // it can be taken out and its merge put back; anything
                    // else may merge into nothing and keeps its slot.
                    let takes = matches!(
                        lists.dest.get(i),
                        Some(Value::Map(m)) if !m.contains_key("$patch")
                    );
                    let elem = match lists.dest.get_mut(i) {
                        Some(slot) if takes => Some(std::mem::take(slot)),
                        other => other.map(|v| v.clone()),
                    };
                    let val = walk(None, elem, true, elem_sch)?;
                    if let (Some(v), Some(slot)) = (&val, lists.dest.get_mut(i)) {
                        slot.clone_from(v);
                    }
                    val
                }
                None => None,
            }
        } else {
            let o = lists
                .patch
                .and_then(|p| find_element(p, &mk, &mv).and_then(|i| p.get(i)))
                .cloned();
            let mutates_dest = matches!(d_idx.and_then(|i| lists.dest.get(i)), Some(Value::Map(_)))
                && match &o {
                    None => true,
                    Some(Value::Map(m)) => m.get("$patch").is_none_or(|v| text_is(v, "merge")),
                    Some(_) => false,
                };
            // A target map that a merge (not a replace or delete) meets always
            // merges into a map that goes back into its slot: take it out
            // rather than copy it.
            let d = match d_idx.and_then(|i| lists.dest.get_mut(i)) {
                Some(slot) if mutates_dest => Some(std::mem::take(slot)),
                other => other.map(|v| v.clone()),
            };
            let val = walk(d, o, false, elem_sch)?;
            if mutates_dest {
                if let (Some(v), Some(slot)) = (&val, d_idx.and_then(|i| lists.dest.get_mut(i))) {
                    slot.clone_from(v);
                }
            }
            val
        };
        let mut val = match val {
            Some(v) if !is_null_or_empty_map(&v) => v,
            _ => {
                element_set(lists.dest, None, &vk, &vv)?;
                valid_keys = vk;
                continue;
            }
        };
        for (key, value) in vk.iter().zip(&vv) {
            if value.is_empty() || key.is_empty() {
                continue;
            }
            match &mut val {
                Value::Map(m) => {
                    if !m.contains_key(key) {
                        m.insert(key.as_str(), Value::string(value.as_str()));
                    }
                }
                other => check_kind(Kind::Map, Some(other))?,
            }
        }
        element_set(&mut items, Some(val), &vk, &vv)?;
        valid_keys = vk;
    }
    if values_list.is_empty() {
        return Ok(());
    }
    if valid_keys.is_empty() {
        valid_keys.push(String::new());
    }
    let dest = std::mem::take(lists.dest);
    append_list(&mut items, dest, &valid_keys)?;
    *lists.dest = items;
    Ok(())
}

/// kyaml's `appendListNode`: the target's elements go into `items`, replacing
/// the element with their key (or appended).
fn append_list(items: &mut Vec<Value>, src: Vec<Value>, keys: &[String]) -> Res<()> {
    let primitive = keys.first().is_none_or(String::is_empty);
    for elem in src {
        if primitive {
            let t = text(&elem);
            element_set(items, Some(elem), &[String::new()], &[t])?;
            continue;
        }
        let mut v = Vec::with_capacity(keys.len());
        for key in keys {
            if elem.is_null() {
                items.push(elem.clone());
                continue;
            }
            check_kind(Kind::Map, Some(&elem))?;
            match elem.get(key) {
                None => items.push(elem.clone()),
                Some(f) => v.push(text(f)),
            }
        }
        if keys.len() > 1 {
            element_set(items, None, keys, &v)?;
        }
        element_set(items, Some(elem), keys, &v)?;
    }
    Ok(())
}
