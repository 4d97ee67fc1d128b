//! Where go-yaml v3 (kustomize's reader) reads differently from saphyr: its
//! leniency about indentation inside quoted scalars and flow collections, and
//! its folded scalars' extra line break before a more-indented line.
//!
//! Each case is a document measured with `kubectl kustomize` (kustomize v5.5.0)
//! as the `spec` of a resource: the text kustomize printed for it is read back
//! (it is ordinarily indented) and must give the values our reader gives for the
//! input; where kustomize failed, our reader must fail too. The accepted inputs
//! must be read by the fast reader (saphyr, the fallback, rejects or reads them
//! otherwise).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rustomize_yaml::{parse_documents, parse_documents_fast, ParseLimits, Value};

/// A value's text with map keys sorted (kustomize prints them sorted).
fn canonical(v: &Value) -> String {
    match v {
        Value::Map(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k:?}: {}", canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        Value::Seq(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(", "))
        }
        other => format!("{other:?}"),
    }
}

fn canonical_docs(docs: &[Value]) -> Vec<String> {
    docs.iter().map(canonical).collect()
}

const MEASURED: &[(&str, &str, Option<&str>)] = &[
    (
        "quoted_single_at_key_column",
        "spec:\n  a: 'x\n  y'\n  b: z\n",
        Some("spec:\n  a: x y\n  b: z\n"),
    ),
    (
        "quoted_single_at_column_0",
        "spec:\n  a: 'x\ny'\n  b: z\n",
        Some("spec:\n  a: x y\n  b: z\n"),
    ),
    (
        "quoted_single_at_column_1",
        "spec:\n  a: 'x\n y'\n  b: z\n",
        Some("spec:\n  a: x y\n  b: z\n"),
    ),
    (
        "quoted_closing_quote_at_column_0",
        "spec:\n  a: 'x\n  y\n'\n  b: z\n",
        Some("spec:\n  a: 'x y '\n  b: z\n"),
    ),
    (
        "quoted_double_escaped_break_at_column_0",
        "spec:\n  a: \"x\ny \\\nz\"\n  b: z\n",
        Some("spec:\n  a: x y z\n  b: z\n"),
    ),
    (
        "quoted_top_level_value",
        "spec: 'x\ny'\n",
        Some("spec: x y\n"),
    ),
    (
        "quoted_deep_with_blank_line",
        "spec:\n  a:\n    b:\n      c: 'x\n\ny\n z'\n      d: 1\n  e: 2\n",
        Some("spec:\n  a:\n    b:\n      c: |-\n        x\n        y z\n      d: 1\n  e: 2\n"),
    ),
    (
        "quoted_in_sequence_items",
        "spec:\n  l:\n  - 'x\ny'\n  - \"p\nq\"\n  - k: 'm\nn'\n    j: 1\n",
        Some("spec:\n  l:\n  - x y\n  - p q\n  - j: 1\n    k: m n\n"),
    ),
    (
        "quoted_dots_not_a_marker",
        "spec:\n  a: 'x\n...'\n",
        Some("spec:\n  a: x ...\n"),
    ),
    ("quoted_marker_fails", "spec:\n  a: 'x\n... y'\n", None),
    (
        "quoted_then_key_between_columns_fails",
        "spec:\n  a: 'x\ny'\n b: z\n",
        None,
    ),
    (
        "quoted_hash_is_content",
        "spec:\n  a: 'x\n# y' # c\n  b: z\n",
        Some("spec:\n  a: 'x # y'\n  b: z\n"),
    ),
    (
        "flow_close_at_key_column",
        "spec:\n  a: [1,\n    2\n  ]\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  b: z\n"),
    ),
    (
        "flow_close_at_column_0",
        "spec:\n  a: [1,\n    2\n]\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  b: z\n"),
    ),
    (
        "flow_items_at_column_0",
        "spec:\n  a: [1,\n2,\n3]\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  - 3\n  b: z\n"),
    ),
    (
        "flow_map_at_column_0",
        "spec:\n  a: {x: 1,\ny: 2\n}\n  b: z\n",
        Some("spec:\n  a:\n    x: 1\n    \"y\": 2\n  b: z\n"),
    ),
    (
        "flow_nested",
        "spec:\n  a: [[1,\n2], {k:\n[3, 4\n]}\n]\n  b: z\n",
        Some("spec:\n  a:\n  - - 1\n    - 2\n  - k:\n    - 3\n    - 4\n  b: z\n"),
    ),
    (
        "flow_in_sequence_items",
        "spec:\n  l:\n  - [a,\nb]\n  - {c: 1,\nd: 2}\n  - e\n",
        Some("spec:\n  l:\n  - - a\n    - b\n  - c: 1\n    d: 2\n  - e\n"),
    ),
    (
        "flow_on_own_line",
        "spec:\n  a:\n    [a,\n  b]\n  b: 1\n",
        Some("spec:\n  a:\n  - a\n  - b\n  b: 1\n"),
    ),
    (
        "flow_on_own_line_column_0",
        "spec:\n  a:\n    [a,\nb]\n  b: 1\n",
        Some("spec:\n  a:\n  - a\n  - b\n  b: 1\n"),
    ),
    (
        "flow_top_level_value",
        "spec: [a,\nb]\n",
        Some("spec:\n- a\n- b\n"),
    ),
    (
        "flow_comment_lines",
        "spec:\n  a: [1, # c\n# d\n2]\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  b: z\n"),
    ),
    (
        "flow_quoted_items",
        "spec:\n  a: ['x\ny', \"p\nq\"]\n  b: z\n",
        Some("spec:\n  a:\n  - x y\n  - p q\n  b: z\n"),
    ),
    (
        "flow_plain_multiline_column_0",
        "spec:\n  a: [ab\ncd, ef]\n  b: z\n",
        Some("spec:\n  a:\n  - ab cd\n  - ef\n  b: z\n"),
    ),
    (
        "flow_plain_multiline_indented",
        "spec:\n  a: [ab\n     cd, ef]\n  b: z\n",
        Some("spec:\n  a:\n  - ab cd\n  - ef\n  b: z\n"),
    ),
    (
        "flow_plain_continuation_indicators",
        "spec:\n  a: [ab\n*c, d\n-e, f\n:g, h\n'i, j\nk:l, m\n\"n]\n",
        Some("spec:\n  a:\n  - ab *c\n  - d -e\n  - f :g\n  - h 'i\n  - j k:l\n  - m \"n\n"),
    ),
    (
        "flow_plain_value_multiline",
        "spec:\n  a: {x: ab\ncd, y: 1}\n",
        Some("spec:\n  a:\n    x: ab cd\n    \"y\": 1\n"),
    ),
    ("flow_dash_entry_fails", "spec:\n  a: [ab,\n- c]\n", None),
    ("flow_multiline_key_fails", "spec:\n  a: {x\n: 1}\n", None),
    ("flow_marker_fails", "spec:\n  a: [ab,\n...\n  ]\n", None),
    (
        "flow_then_key_between_columns_fails",
        "spec:\n  a: [1,\n2]\n b: z\n",
        None,
    ),
    (
        "flow_blank_line",
        "spec:\n  a: [1,\n\n2]\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  b: z\n"),
    ),
    (
        "flow_map_values_at_column_0",
        "spec:\n  a: {x:\n1, y: [\n]}\n  b: z\n",
        Some("spec:\n  a:\n    x: 1\n    \"y\": []\n  b: z\n"),
    ),
    (
        "flow_after_comment",
        "spec:\n  a: [1,\n2] # c\n  b: z\n",
        Some("spec:\n  a:\n  - 1\n  - 2\n  b: z\n"),
    ),
];

const FOLDED: &[(&str, &str, Option<&str>)] = &[
    (
        "folded_more_indented_line",
        "spec:\n  a: >\n    x\n      y\n    z\n",
        Some("spec:\n  a: |\n    x\n\n      y\n    z\n"),
    ),
    (
        "folded_more_indented_after_blank_line",
        "spec:\n  a: >\n    p\n\n      q\n    r\n",
        Some("spec:\n  a: |\n    p\n\n\n      q\n    r\n"),
    ),
    (
        "folded_two_more_indented_lines",
        "spec:\n  a: >\n    x\n      y\n      w\n    z\n",
        Some("spec:\n  a: |\n    x\n\n      y\n      w\n    z\n"),
    ),
    (
        "folded_strip_more_indented_last",
        "spec:\n  a: >-\n    m\n      n\n",
        Some("spec:\n  a: |-\n    m\n\n      n\n"),
    ),
    (
        "folded_first_line_more_indented",
        "spec:\n  a: >2\n      first\n    r\n",
        Some("spec:\n  a: |2\n      first\n    r\n"),
    ),
    (
        "folded_blank_line_after_more_indented",
        "spec:\n  a: >\n    x\n      y\n\n    z\n  b: 1\n",
        Some("spec:\n  a: |\n    x\n\n      y\n\n    z\n  b: 1\n"),
    ),
    (
        "literal_more_indented_line",
        "spec:\n  a: |\n    x\n      y\n    z\n",
        Some("spec:\n  a: |\n    x\n      y\n    z\n"),
    ),
    (
        "folded_in_sequence",
        "spec:\n  l:\n  - >\n      kubectl get secret | while read -r e; do\n        ns=$e;\n      done\n",
        Some("spec:\n  l:\n  - |\n    kubectl get secret | while read -r e; do\n\n      ns=$e;\n    done\n"),
    ),
];

/// Measured, not yet matched: go-yaml ends a plain scalar in a flow collection
/// at `?` and then fails (also on one line, `[c?d]`), while saphyr reads `?` as
/// part of the scalar; the fast reader declines and the full reader accepts.
#[allow(dead_code)]
const NOT_YET_REJECTED: &[(&str, &str)] = &[(
    "flow_plain_question_mark_fails",
    "spec:\n  a: [ab\n?c, z]\n",
)];

#[test]
fn lines_inside_quoted_scalars_and_flows_may_sit_at_any_column() {
    check(MEASURED);
}

#[test]
fn folded_scalars_keep_a_line_break_more_before_more_indented_lines() {
    check(FOLDED);
}

fn check(cases: &[(&str, &str, Option<&str>)]) {
    let limits = ParseLimits::default();
    for (name, input, printed) in cases {
        let ours = parse_documents(input, &limits);
        match printed {
            Some(printed) => {
                let ours =
                    ours.unwrap_or_else(|e| panic!("{name}: kustomize reads it, we fail: {e}"));
                let expected = parse_documents(printed, &limits).expect(name);
                assert_eq!(canonical_docs(&ours), canonical_docs(&expected), "{name}");
                assert!(
                    parse_documents_fast(input, &limits).is_some(),
                    "{name}: left to the full reader"
                );
            }
            None => assert!(ours.is_err(), "{name}: kustomize fails, we read {ours:?}"),
        }
    }
}
