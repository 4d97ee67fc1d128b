//! Target selection for patches: kustomize's `Selector` (group, version, kind,
//! name and namespace as anchored regular expressions, plus Kubernetes label and
//! annotation selectors).
//!
//! Name and namespace match either the resource's original or its current value
//! (namespaces compared as "effective": unset means `default`); the kind selector
//! matches the current group/version/kind.

use regex::Regex;
use rustomize_yaml::{Map, Value};

use crate::resource::Resource;

/// The fields of a selector as kustomize's `types.Selector` spells them.
pub const SELECTOR_FIELDS: &[&str] = &[
    "group",
    "version",
    "kind",
    "name",
    "namespace",
    "labelSelector",
    "annotationSelector",
];

/// A patch target as written in a kustomization.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    /// API group (regular expression).
    pub group: String,
    /// API version (regular expression).
    pub version: String,
    /// Kind (regular expression).
    pub kind: String,
    /// Name (regular expression).
    pub name: String,
    /// Namespace (regular expression).
    pub namespace: String,
    /// Kubernetes label selector (`app=a,tier in (x,y),!legacy`).
    pub label_selector: String,
    /// Kubernetes annotation selector, same syntax.
    pub annotation_selector: String,
}

/// A compiled [`Selector`].
pub struct Matcher {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

/// One field's pattern, anchored at both ends as kustomize anchors it.
///
/// Most targets name a kind, version, group or name outright (`Deployment`,
/// `v1`, `apps`, `rbac.authorization.k8s.io`): a pattern without any of Go's
/// metacharacters but `.` is matched character by character, `.` standing for
/// any character but a line feed as in Go, without compiling a regular
/// expression (compiling the 41 such patterns of the kubeflow-v1.10.2 example
/// was 1.7% of its build's CPU).
enum Pattern {
    /// Characters matched one for one, `.` any but `\n`.
    Literal(String),
    /// Anything else, compiled as Go would (see [`crate::goregex`]).
    Regex(Regex),
}

impl Pattern {
    /// Whether the whole of `text` matches.
    fn is_match(&self, text: &str) -> bool {
        match self {
            Pattern::Literal(pattern) => {
                let mut chars = text.chars();
                pattern.chars().all(|p| {
                    chars
                        .next()
                        .is_some_and(|c| c == p || (p == '.' && c != '\n'))
                }) && chars.next().is_none()
            }
            Pattern::Regex(re) => re.is_match(text),
        }
    }
}

/// Whether `pattern` holds a metacharacter of Go's regular expressions other
/// than `.` (everything else stands for itself).
fn has_metacharacters(pattern: &str) -> bool {
    pattern.chars().any(|c| {
        matches!(
            c,
            '\\' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        )
    })
}

fn anchored(field: &str, pattern: &str) -> Result<Option<Pattern>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    if !has_metacharacters(pattern) {
        return Ok(Some(Pattern::Literal(pattern.to_owned())));
    }
    crate::goregex::compile(pattern, true)
        .map(|re| Some(Pattern::Regex(re)))
        .map_err(|e| {
            format!(
                "invalid regular expression in target {field} {:?}: {}",
                crate::error::excerpt(pattern, 60),
                crate::error::excerpt(&e, 150)
            )
        })
}

fn matches(pattern: &Option<Pattern>, text: &str) -> bool {
    pattern.as_ref().is_none_or(|p| p.is_match(text))
}

impl Matcher {
    /// Compiles a selector.
    pub fn new(s: &Selector) -> Result<Matcher, String> {
        Ok(Matcher {
            group: anchored("group", &s.group)?,
            version: anchored("version", &s.version)?,
            kind: anchored("kind", &s.kind)?,
            name: anchored("name", &s.name)?,
            namespace: anchored("namespace", &s.namespace)?,
            labels: parse_requirements(&s.label_selector)?,
            annotations: parse_requirements(&s.annotation_selector)?,
        })
    }

    /// Whether `r` is selected.
    pub fn selects(&self, r: &Resource) -> bool {
        let current = r.id();
        let original = r.original_id();
        if self.namespace.is_some()
            && !matches(&self.namespace, original.effective_namespace())
            && !matches(&self.namespace, current.effective_namespace())
        {
            return false;
        }
        if self.name.is_some()
            && !matches(&self.name, &original.name)
            && !matches(&self.name, &current.name)
        {
            return false;
        }
        if !matches(&self.group, &current.gvk.group)
            || !matches(&self.version, &current.gvk.version)
            || !matches(&self.kind, &current.gvk.kind)
        {
            return false;
        }
        let meta = r.object().get("metadata");
        satisfies(&self.labels, meta.and_then(|m| m.get("labels")))
            && satisfies(&self.annotations, meta.and_then(|m| m.get("annotations")))
    }
}

/// One term of a label selector.
#[derive(Debug)]
enum Requirement {
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

fn satisfies(reqs: &[Requirement], labels: Option<&Value>) -> bool {
    let empty = Map::default();
    let labels = labels.and_then(Value::as_map).unwrap_or(&empty);
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    reqs.iter().all(|req| match req {
        Requirement::Exists(k) => labels.contains_key(k),
        Requirement::NotExists(k) => !labels.contains_key(k),
        Requirement::In(k, vs) => get(k).is_some_and(|v| vs.iter().any(|x| x == v)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|v| vs.iter().all(|x| x != v)),
    })
}

/// Parses a Kubernetes label selector: comma-separated `k`, `!k`, `k=v`, `k==v`,
/// `k!=v`, `k in (a,b)`, `k notin (a,b)`.
fn parse_requirements(text: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    let bad = || format!("unable to parse requirement: invalid label selector {text:?}");
    for term in split_terms(text) {
        let term = term.trim();
        if term.is_empty() {
            if text.trim().is_empty() {
                continue;
            }
            return Err(bad());
        }
        if let Some(k) = term.strip_prefix('!') {
            out.push(Requirement::NotExists(k.trim().to_owned()));
        } else if let Some((k, v)) = term.split_once("!=") {
            out.push(Requirement::NotIn(
                k.trim().to_owned(),
                vec![v.trim().to_owned()],
            ));
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            out.push(Requirement::In(
                k.trim().to_owned(),
                vec![v.trim().to_owned()],
            ));
        } else if let Some((k, rest)) = set_term(term, " notin ") {
            out.push(Requirement::NotIn(k, rest));
        } else if let Some((k, rest)) = set_term(term, " in ") {
            out.push(Requirement::In(k, rest));
        } else if term.contains(char::is_whitespace) || term.contains(['(', ')']) {
            return Err(bad());
        } else {
            out.push(Requirement::Exists(term.to_owned()));
        }
    }
    Ok(out)
}

/// `key in (a, b)` → (key, [a, b]).
fn set_term(term: &str, op: &str) -> Option<(String, Vec<String>)> {
    let (k, rest) = term.split_once(op)?;
    let rest = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    let values = rest.split(',').map(|v| v.trim().to_owned()).collect();
    Some((k.trim().to_owned(), values))
}

/// Splits on commas outside parentheses.
fn split_terms(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(text.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(text.get(start..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pattern without metacharacters but `.` matches exactly what the
    /// compiled regular expression matches.
    #[test]
    fn literal_patterns_match_as_their_regular_expressions() {
        let texts = [
            "",
            "Deployment",
            "deployment",
            "Deploymentx",
            "xDeployment",
            "Deployment\n",
            "v1",
            "v1\n",
            "rbac.authorization.k8s.io",
            "rbacXauthorization.k8s.io",
            "rbac\nauthorization.k8s.io",
            "rbac.authorization.k8s.i",
            "aéb",
            "a\nb",
            "ab",
            "é-x y",
            "é-x  y",
        ];
        let patterns = [
            "Deployment",
            "v1",
            "rbac.authorization.k8s.io",
            "a.b",
            "...",
            "é-x y",
            ".",
        ];
        for pattern in patterns {
            assert!(!has_metacharacters(pattern), "{pattern}");
            let literal = Pattern::Literal(pattern.to_owned());
            let Ok(re) = crate::goregex::compile(pattern, true) else {
                panic!("{pattern} does not compile");
            };
            let re = Pattern::Regex(re);
            for text in texts {
                assert_eq!(
                    literal.is_match(text),
                    re.is_match(text),
                    "{pattern:?} on {text:?}"
                );
            }
        }
        for pattern in ["a+", "a*", "(a)", "a|b", "[ab]", "a{2}", "^a", "a$", "\\d"] {
            assert!(has_metacharacters(pattern), "{pattern}");
        }
    }
}
