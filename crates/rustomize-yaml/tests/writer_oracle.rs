//! Oracle tests for the writer: every case under `tests/writer-cases/<name>/` holds
//! an `input.json` resource and the `expected.yaml` that `kubectl kustomize` printed
//! for it (recorded by `scripts/record-writer-cases.sh`, never written by hand).
//! The writer must reproduce it byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use rustomize_yaml::{write_document, Map, Value};

/// A small JSON reader producing [`Value`], typed the way kustomize types JSON:
/// integers that fit `i64`/`u64` stay integers, every other number is a float.
///
/// serde_json is not used for this on purpose: without its `float_roundtrip`
/// feature it parses some 17-digit floats one ULP off, and the expected output
/// prints the correctly rounded value's shortest digits. `str::parse::<f64>` is
/// correctly rounded.
struct Json<'a> {
    s: &'a [u8],
    i: usize,
}

impl Json<'_> {
    fn parse(text: &str) -> Value {
        let mut p = Json {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing data after JSON value");
        v
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s[self.i], c,
            "expected {:?} at byte {}",
            c as char, self.i
        );
        self.i += 1;
    }

    fn lit(&mut self, word: &str, v: Value) -> Value {
        assert!(
            self.s[self.i..].starts_with(word.as_bytes()),
            "bad literal at {}",
            self.i
        );
        self.i += word.len();
        v
    }

    fn value(&mut self) -> Value {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut map = Map::default();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Value::Map(map);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    let v = self.value();
                    map.insert(k, v);
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b'}' => return Value::Map(map),
                        c => panic!("unexpected {:?} in object", c as char),
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Value::Seq(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    self.i += 1;
                    match self.s[self.i - 1] {
                        b',' => continue,
                        b']' => return Value::Seq(items),
                        c => panic!("unexpected {:?} in array", c as char),
                    }
                }
            }
            b'"' => Value::string(self.string()),
            b't' => self.lit("true", Value::Bool(true)),
            b'f' => self.lit("false", Value::Bool(false)),
            b'n' => self.lit("null", Value::Null),
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Value {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap();
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(i) = text.parse::<i64>() {
                return Value::Int(i);
            }
            if let Ok(u) = text.parse::<u64>() {
                return Value::Uint(u);
            }
        }
        Value::Float(text.parse::<f64>().unwrap())
    }

    fn hex4(&mut self) -> u32 {
        let h = std::str::from_utf8(&self.s[self.i..self.i + 4]).unwrap();
        self.i += 4;
        u32::from_str_radix(h, 16).unwrap()
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.s[self.i] != b'"' && self.s[self.i] != b'\\' {
                self.i += 1;
            }
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).unwrap());
            let c = self.s[self.i];
            self.i += 1;
            if c == b'"' {
                return out;
            }
            let e = self.s[self.i];
            self.i += 1;
            match e {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let mut cp = self.hex4();
                    if (0xD800..0xDC00).contains(&cp) {
                        assert_eq!(&self.s[self.i..self.i + 2], b"\\u");
                        self.i += 2;
                        let lo = self.hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    out.push(char::from_u32(cp).unwrap());
                }
                _ => panic!("bad escape"),
            }
        }
    }
}

/// The case directory; `RUSTOMIZE_WRITER_CASES` points the test at another one
/// (e.g. a large batch of generated cases recorded with the same script layout).
fn cases_dir() -> (PathBuf, bool) {
    match std::env::var_os("RUSTOMIZE_WRITER_CASES") {
        Some(dir) => (PathBuf::from(dir), true),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/writer-cases"),
            false,
        ),
    }
}

/// The first differing line, for a readable failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    for (i, (e, a)) in expected.lines().zip(actual.lines()).enumerate() {
        if e != a {
            return format!("line {}:\n  expected: {e:?}\n  actual:   {a:?}", i + 1);
        }
    }
    format!(
        "line count/ending differs: expected {} lines, got {} (trailing newline: {} vs {})",
        expected.lines().count(),
        actual.lines().count(),
        expected.ends_with('\n'),
        actual.ends_with('\n')
    )
}

#[test]
fn writer_matches_kubectl_kustomize() {
    let (dir, custom) = cases_dir();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("writer-cases directory")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("input.json").is_file())
        .collect();
    names.sort();
    assert!(
        custom || names.len() >= 40,
        "expected at least 40 cases, found {}",
        names.len()
    );

    let mut failures = Vec::new();
    for dir in &names {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read_to_string(dir.join("input.json")).unwrap();
        let expected = std::fs::read_to_string(dir.join("expected.yaml")).unwrap_or_else(|_| {
            panic!("{name}: expected.yaml missing; run scripts/record-writer-cases.sh")
        });
        let value = Json::parse(&input);
        let mut actual = String::new();
        write_document(&value, &mut actual);
        if actual != expected {
            // Keep the output around for diffing against expected.yaml.
            let dump = std::env::temp_dir().join("rustomize-writer-actual");
            let _ = std::fs::create_dir_all(&dump);
            let _ = std::fs::write(dump.join(format!("{name}.yaml")), &actual);
            failures.push(format!("{name}: {}", first_difference(&expected, &actual)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
