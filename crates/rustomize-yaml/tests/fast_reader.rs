//! Differential tests of the fast reader against the full (saphyr-based) reader.
//!
//! For every input — the corpora under `../shared/corpora` (when present), the
//! project's fixtures, the writer cases, tricky inline cases and mutations of
//! them — the fast reader must either decline (`None`) or give exactly the values
//! the full reader gives, compared strictly (`Empty` is not `Null`, map order
//! counts). Where the full reader fails, the fast one must decline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use rustomize_yaml::{
    parse_documents_fast, parse_documents_fast_saphyr, parse_documents_reference, ParseLimits,
};

fn limit_sets() -> [ParseLimits; 2] {
    [
        ParseLimits::default(),
        ParseLimits {
            reject_non_string_keys: true,
            max_depth: 12,
            ..ParseLimits::default()
        },
    ]
}

/// Checks one text; returns whether the fast reader took it (with default limits).
///
/// The fast reader is held to the full one in its saphyr dialect; in its go-yaml
/// dialect (the default: more lenient inside quoted scalars and flow
/// collections) it must read at least those texts, to the same values but for
/// folded scalars.
fn check(name: &str, text: &str) -> bool {
    let mut taken = false;
    for (i, limits) in limit_sets().iter().enumerate() {
        let fast = parse_documents_fast_saphyr(text, limits);
        if let Some(strict) = &fast {
            let lenient = parse_documents_fast(text, limits).unwrap_or_else(|| {
                panic!("{name}: go-yaml's indentation rule declines what saphyr's reads")
            });
            // Folded scalars differ on purpose (go-yaml's extra line break
            // before a more-indented line); elsewhere the values must agree.
            let ok = lenient.len() == strict.len()
                && lenient.iter().zip(strict).all(|(a, b)| a.identical(b));
            assert!(
                ok || text.contains('>'),
                "{name}: the dialects read different values"
            );
        }
        let reference = parse_documents_reference(text, limits);
        // A raw LS/PS is a line break to go-yaml that saphyr cannot be told
        // about: only the fast reader reads such texts (checked against kubectl
        // in the hostile suite), the full reader refuses them.
        if text.contains(['\u{2028}', '\u{2029}']) {
            assert!(reference.is_err(), "{name}: the full reader read an LS/PS");
            taken |= i == 0 && fast.is_some();
            continue;
        }
        if let Some(fast) = fast {
            let reference = match reference {
                Ok(docs) => docs,
                Err(e) => panic!(
                    "{name}: the fast reader accepted what the full reader rejects ({e})\n\
                     --- text ---\n{text}\n--- fast ---\n{fast:#?}"
                ),
            };
            let ok = fast.len() == reference.len()
                && fast.iter().zip(&reference).all(|(a, b)| a.identical(b));
            assert!(
                ok,
                "{name}: readers differ\n--- text ---\n{text:?}\n--- fast ---\n{fast:#?}\n\
                 --- reference ---\n{reference:#?}"
            );
            if i == 0 {
                taken = true;
            }
        }
    }
    taken
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>, all_names: bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(&path, out, all_names);
        } else if kind.is_file() {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            let yamlish = matches!(ext, "yaml" | "yml" | "json");
            let bare = all_names && ext.is_empty();
            if yamlish || bare {
                out.push(path);
            }
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn check_files(files: &[PathBuf]) -> (usize, Vec<PathBuf>) {
    let mut bailed = Vec::new();
    let mut total = 0;
    for path in files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        total += 1;
        if !check(&path.display().to_string(), &text) {
            bailed.push(path.clone());
        }
    }
    (total, bailed)
}

/// Lists the declined files that the full reader reads; returns their number.
fn declined_valid(bailed: &[PathBuf]) -> usize {
    let mut valid = 0;
    for path in bailed {
        let text = std::fs::read_to_string(path).unwrap();
        if parse_documents_reference(&text, &ParseLimits::default()).is_ok() {
            valid += 1;
            eprintln!("  declined: {}", path.display());
        }
    }
    valid
}

#[test]
fn corpora_agree() {
    let mut files = Vec::new();
    collect(&root().join("../shared/corpora"), &mut files, false);
    if files.is_empty() {
        return;
    }
    let (total, bailed) = check_files(&files);
    let valid = declined_valid(&bailed);
    eprintln!(
        "corpora: {total} files, the fast reader declined {} ({:.2}%), {valid} of them valid",
        bailed.len(),
        100.0 * bailed.len() as f64 / total.max(1) as f64
    );
    assert!(
        bailed.len() * 20 < total,
        "the fast reader declines 5% or more of the corpus files"
    );
}

#[test]
fn fixtures_and_writer_cases_agree() {
    let mut files = Vec::new();
    collect(&root().join("fixtures"), &mut files, true);
    collect(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writer-cases"),
        &mut files,
        false,
    );
    assert!(!files.is_empty());
    let (total, bailed) = check_files(&files);
    let valid = declined_valid(&bailed);
    eprintln!(
        "fixtures and writer cases: {total} files, the fast reader declined {}, {valid} of them valid",
        bailed.len()
    );
}

/// Inputs the fast reader must take (and read like the full reader).
const FAST_CASES: &[&str] = &[
    "",
    "\n\n",
    "# only a comment\n",
    "a: 1\n",
    "a: 1",
    "a:\n",
    "a:",
    "a:   \nb: 2\n",
    "a: # comment\nb:\n  # c\n  c: 1\n",
    "---\n",
    "---",
    "--- # c\na: 1\n",
    "a: 1\n---\n",
    "a: 1\n---\nb: 2\n...\n",
    "...\n",
    "a: 1\n...\nb: 2\n",
    "---\n---\n",
    "---\n...\n---\n...\n",
    "a: 1\n--- \nb: 2\n",
    "key: value # comment\nother: x#y\n",
    "k: a:b\nl: http://x:80/y\n",
    "k: -1\nl: -x\nm: --flag\nn: :8080\no: ?q\n",
    "k: yes\nl: on\nm: true\nn: ~\no: null\np: 0755\nq: 0x1F\nr: 1_000\ns: 08\nt: 1.5e3\n",
    "k: 2020-01-01\nl: 2001-12-14t21:59:43.10Z\nm: .inf\nn: -.Inf\no: .nan\np: 1.2.3\n",
    "k: 12345678901234567890\nl: -9223372036854775808\nm: 0b101\nn: 0o17\n",
    "null: 1\n",
    "~: 1\n",
    "80: http\ntrue: x\n1.5: y\n",
    "a:\n  80: http\n",
    "a: {}\nb: []\nc: [ ]\nd: { }\n",
    "a: [x, y, 'z', \"w\"]\n",
    "a: [1, 2.5, true, null, ~, -3]\n",
    "a: {x: 1, 'y': two, \"z\": [3]}\n",
    "a: [[1, 2], [3], {b: c}]\n",
    "a: [x,\n  y,\n  z]\n",
    "a: [ x , y ]\n",
    "a: [http://x, a:b]\n",
    "{\"a\": 1, \"b\": [true, false, null], \"c\": {\"d\": \"e\\n\\u00e9\"}}\n",
    "{\n  \"kind\": \"X\",\n  \"spec\": {\n    \"list\": [\n      1,\n      2\n    ]\n  }\n}\n",
    "{\"a\":1,\"b\":\"c\"}",
    "[1, 2]\n",
    "- a\n- b\n",
    "- a\n-\n- c\n",
    "-\n",
    "- \n",
    "- - a\n  - b\n- c\n",
    "- - - x\n",
    "- a: 1\n  b: 2\n- c: 3\n",
    "-   a: 1\n    b: 2\n",
    "- a:\n  - x\n  b: 2\n",
    "- a:\n- b\n",
    "- a:\n  b: 1\n",
    "-\n  a: 1\n",
    "-\n  - x\n",
    "key:\n- a\n- b\nother: c\n",
    "key:\n  - a\n  - b\n",
    "a:\n  b:\n    c:\n      d: 1\n  e: 2\nf: 3\n",
    "  a: 1\n  b: 2\n",
    "a: 'it''s'\nb: \"q\\\"uote\"\nc: '#x'\nd: \"#x\"\n",
    "a: \"tab\\there\\\\ \\x41\\u00e9\\U0001F600 \\/ \\N\\_\\L\\P\\0\\a\\b\\e\\f\\r\\v\"\n",
    "a: \"multi\n  line\"\nb: 'multi\n\n  line'\n",
    "a: \"x\\\n  y\"\nb: \"x \\\n\n  y\"\n",
    "a: \"  lead\n   trail  \"\n",
    "a: 'x\n\n\n  y'\n",
    "a: \"\"\nb: ''\n",
    "\"a\": 1\n'b': 2\n\"c d\" : 3\n",
    "- \"a\": 1\n  b: 2\n",
    "a: plain\n  continued\n  more\nb: x\n",
    "a: plain\n\n  after blank\n\n\n  two blanks\n",
    "a:\n  plain\n  continued\n",
    "- plain\n  continued\n- x\n",
    "- a\n - b\n",
    "plain root\ncontinued\n",
    "a: x # c\nb: y\n",
    "a: |\n  line 1\n  line 2\nb: 1\n",
    "a: |-\n  x\n\n\nb: 1\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |+\n  x\n\n",
    "a: >\n  folded\n  text\n\n  para\n    indented\n  back\nb: 1\n",
    "a: >-\n  x\n  y\n",
    "a: >+\n  x\n\n",
    "a: |2\n    indented more\n  base\n",
    "a: |\n\n  after blank\n",
    "a: |\n    deep\n  shallow\n",
    "a: |\n  x\n  y",
    "a: |\n  x\n  y\n  ",
    "a: |-\n  x",
    "a: |+\n  x",
    "a: |+\n",
    "a: |+\n  ",
    "a: |",
    "a: |\n",
    "a: |\nb: 1\n",
    "a: >\n\n",
    "a: |  # comment\n  x\n",
    "a: |\n  tab\there\n  \ttab first\n",
    "a: >\n  x\n\n  y\n   z\n  w\n",
    "a: >\n   lead\n  x\n",
    "- |\n  entry\n- >-\n  folded\n",
    "- a: |\n    x\n  b: 1\n",
    "k:\n- |\n  x\n- y\n",
    "a: |\n  ---\n  ...\nb: 1\n",
    "a: |\n  x\n---\nb: 1\n",
    "a: b\n# comment\n\n# more\nc: d\n",
    "a: 'x'  # c\n",
    "a: [x]  # c\n",
    "a: \"é ü 日本\"\nb: é ü 日本\nc: 'ü'\n",
    "é: ü\n",
    "a: b: c\n",
    "a: - b\n",
    "x: 1\nx: 2\n",
    "a: !tag x\n",
    "a: &x 1\nb: *x\n",
    "<<: {a: 1}\n",
    "a:\tb\n",
    "\ta: 1\n",
    "a: 1\r\nb: 2\r\n",
    "%YAML 1.2\n---\na: 1\n",
    "? a\n: b\n",
    "a: [a: b]\n",
    "a: [x,]\n",
    "a: [x, y,\n  ]\nb: {p: 1,}\nc: [,]\nd: [x,,]\n",
    "a: {x}\n",
    "a: \"unterminated\n",
    "a: 1\n  b: 2\n",
    "a:\n    b: 1\n  c: 2\n",
    "- a\nb: 1\n",
    "a: x # c\n  y\n",
    "a: x\n  # c\n  y\n",
    "a: |\n    x\n   y\n",
    "a: |0\n  x\n",
    "a: |1-\n  x\n",
    "a: |x\n",
    "a: \"x\" y\n",
    "a: \"x\"#y\n",
    "a: @x\n",
    "a: `x\n",
    "a: %x\n",
    "a: [x\n  y]\n",
    "a: [\n  x\n]\n",
    "a: 'x\n---\n  y'\n",
    "\u{feff}a: 1\n",
    "a: \"\\q\"\n",
    "a: \"\\xZZ\"\n",
    "a: \"\\uD800\"\n",
    "- a\n---\n- b\n",
    "a\n---\nb\n",
    "'a'\n",
    "a: b\n...\n...\n",
    "--- |\n  x\n",
    "--- a\n",
    "a: 1\n--- # c\nb: 2\n",
    // Multi-line plain scalars in flow collections, and lines inside quoted
    // scalars and flows at every indentation (go-yaml reads them all).
    "a: [ab\n  cd, ef]\n",
    "a: [ab\n\n  cd\n\n\n   ef, g]\n",
    "a: [ab   \n  cd   , ef]\n",
    "a: [ab\n  cd # c\n  , ef]\n",
    "a: [ab\n  # c\n  cd]\n",
    "a: {x: ab\n  cd, y: 1}\n",
    "a: {x\n  y: 1}\n",
    "a: [ab\n  *c, 'd\n  e', \"f\n  g\"]\n",
    "a: [ab\n  'c, d]\n",
    "a: [ab\n  :c, d]\n",
    "a: [ab\n  c:d, e]\n",
    "a: [ab\n  -c, d]\n",
    "a: [ab\n  - c, d]\n",
    "a: [ab\n  -], d]\n",
    "a: [ab\n  ?c, d]\n",
    "a: [ab\n  c: d]\n",
    "a: [ab\n  c\n  d\n  ]\n",
    "a: [ab\n---\n  ]\n",
    "a: [1,\n2\n]\nb: 1\n",
    "a:\n  b: [1,\n  2\n  ]\n  c: 1\n",
    "a:\n  b: 'x\n  y'\n  c: \"p\n q\"\n",
    "a:\n- 'x\ny'\n- [1,\n2]\n",
    "- a: [1,\n  2]\n  b: 'x\n y'\n",
    "a:\n  b: [ab\ncd]\n",
    "a:\n  b: 'x\n... y'\n",
    "a:\n  b: 'x\n...y'\n",
];

#[test]
fn inline_cases_agree() {
    let mut taken = 0;
    for (i, text) in FAST_CASES.iter().enumerate() {
        if check(&format!("case {i}"), text) {
            taken += 1;
        }
    }
    eprintln!("inline cases: {taken} of {} taken", FAST_CASES.len());
    // Spot checks that the common shapes really go through the fast reader.
    for text in [
        "a: 1\n",
        "- a: 1\n  b: [x]\n",
        "a: |\n  x\n",
        "{\"a\": 1}\n",
        "a: 'x'\nb: \"y\"\n",
        "a:\n- x\n",
        "a: x\n  y\n",
    ] {
        assert!(
            parse_documents_fast(text, &ParseLimits::default()).is_some(),
            "{text:?} should be read by the fast reader"
        );
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    " ", "  ", "\n", "\n  ", "\n- ", ":", ": ", "- ", "#", " #", "'", "\"", "\\", "|", "|-", ">",
    "[", "]", "{", "}", ",", "a", "0", "\t", "---\n", "...\n", "x: y", "\n\n", "~", "null", "\\n",
    "''", "-", "?", "&", "*", "!", "é",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s = text.to_owned();
    for _ in 0..=rng.below(3) {
        let mut at = if s.is_empty() {
            0
        } else {
            rng.below(s.len() + 1)
        };
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        match rng.below(3) {
            0 => s.insert_str(at, PIECES[rng.below(PIECES.len())]),
            1 => {
                let mut end = (at + 1 + rng.below(4)).min(s.len());
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(at..end, "");
            }
            _ => {
                let mut end = (at + 1).min(s.len());
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(at..end, PIECES[rng.below(PIECES.len())]);
            }
        }
    }
    s
}

#[test]
fn mutations_agree() {
    let mut seeds: Vec<String> = FAST_CASES.iter().map(|s| (*s).to_owned()).collect();
    let mut files = Vec::new();
    collect(&root().join("fixtures"), &mut files, true);
    for path in files {
        if let Ok(text) = std::fs::read_to_string(&path) {
            if text.len() < 1500 {
                seeds.push(text);
            }
        }
    }
    // FAST_READER_ROUNDS and FAST_READER_SEED run longer or different searches.
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(env("FAST_READER_SEED").unwrap_or(0x9e37_79b9_7f4a_7c15) | 1);
    let default_rounds = if cfg!(debug_assertions) { 12 } else { 60 };
    let rounds = env("FAST_READER_ROUNDS").unwrap_or(default_rounds);
    let mut taken = 0;
    let mut total = 0;
    for seed in &seeds {
        for _ in 0..rounds {
            let text = mutate(&mut rng, seed);
            total += 1;
            if check("mutation", &text) {
                taken += 1;
            }
        }
    }
    eprintln!("mutations: {taken} of {total} taken by the fast reader");
}

/// Random texts glued from YAML-significant pieces.
#[test]
fn random_texts_agree() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(env("FAST_READER_SEED").unwrap_or(0x2545_f491_4f6c_dd1d) | 1);
    let count = env("FAST_READER_ROUNDS").map_or(20_000, |r| r * 300);
    let words = [
        "a", "b: ", "- ", "  ", "\n", "\n  ", "\n    ", "x", "1", "'q'", "\"w\"",
    ];
    let mut taken = 0;
    for _ in 0..count {
        let mut text = String::new();
        for _ in 0..=rng.below(24) {
            if rng.below(2) == 0 {
                text.push_str(words[rng.below(words.len())]);
            } else {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        if check("random", &text) {
            taken += 1;
        }
    }
    eprintln!("random texts: {taken} of {count} taken by the fast reader");
}
