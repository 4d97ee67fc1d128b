//! The kustomization file of the current directory as `edit` and `create` see it:
//! found, read within limits, edited field by field and written back in place.
//!
//! kustomize's `edit` commands (kustomize/commands/internal/kustfile) read the
//! file into its typed struct, apply the read-time fixes (`apiVersion`/`kind`
//! defaults, `bases` into `resources`, `imageTags` into `images`) and write every
//! field again, the ones the file had in their order and new ones after them in
//! its canonical order, each marshalled through sigs.k8s.io/yaml. Full-line
//! comments survive there, moved in front of the field they were found in.
//!
//! Here the file is edited as text instead: a field the command did not change
//! keeps its lines verbatim (inline comments, quoting and unknown fields
//! included); a changed field is replaced by what kustomize would print for it
//! (our writer is that marshaller), with the full-line comments that were inside
//! it moved in front, as kustomize moves them; new fields go at the end in
//! kustomize's order. A file whose top-level keys cannot be found line by line
//! (quoted or flow-style keys, several documents) is refused rather than guessed.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rustomize::{Map, ParseLimits, Value};

/// The file names kustomize recognises, in its order (the library's list).
pub use rustomize::load::KUSTOMIZATION_FILE_NAMES as FILE_NAMES;

/// kustomize's field order for writing (kustfile's `determineFieldOrder`).
const FIELD_ORDER: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "sortOptions",
    "resources",
    "bases",
    "namePrefix",
    "nameSuffix",
    "namespace",
    "crds",
    "commonLabels",
    "labels",
    "commonAnnotations",
    "patchesStrategicMerge",
    "patchesJson6902",
    "patches",
    "configMapGenerator",
    "secretGenerator",
    "helmCharts",
    "helmChartInflationGenerator",
    "helmGlobals",
    "generatorOptions",
    "vars",
    "images",
    "replacements",
    "replicas",
    "configurations",
    "generators",
    "transformers",
    "validators",
    "components",
    "openapi",
    "buildMetadata",
];

/// `apiVersion` kustomize writes when the file has none (`types.KustomizationVersion`).
pub const KUSTOMIZATION_VERSION: &str = "kustomize.config.k8s.io/v1beta1";
/// `apiVersion` for a `kind: Component` (`types.ComponentVersion`).
const COMPONENT_VERSION: &str = "kustomize.config.k8s.io/v1alpha1";

/// One top-level field: its key as written, its value, and where its lines are.
struct Field {
    key: String,
    value: Value,
    /// The value the file had (None for a field added by the edit).
    original: Option<Value>,
    /// Set when the value was replaced: the block is written anew.
    dirty: bool,
    /// Line index of the key (None for a field added by the edit).
    line: Option<usize>,
}

/// A kustomization file being edited.
pub struct KustFile {
    path: PathBuf,
    lines: Vec<String>,
    fields: Vec<Field>,
}

/// Finds the kustomization file in `dir` as kustomize does: exactly one of
/// [`FILE_NAMES`], and a file.
pub fn find(dir: &Path) -> Result<PathBuf, String> {
    let found: Vec<&str> = FILE_NAMES
        .iter()
        .copied()
        .filter(|name| dir.join(name).symlink_metadata().is_ok())
        .collect();
    match found.as_slice() {
        [] => Err("Missing kustomization file 'kustomization.yaml'.".to_owned()),
        [one] => {
            let path = if dir == Path::new(".") {
                PathBuf::from(one)
            } else {
                dir.join(one)
            };
            if path.is_dir() {
                return Err(format!("{one} should be a file"));
            }
            Ok(path)
        }
        many => Err(format!(
            "Found multiple kustomization file: [{}]",
            many.join(" ")
        )),
    }
}

/// Whether a line is blank or a comment (kustfile's `isCommentOrBlankLine`).
fn is_comment_or_blank(line: &str) -> bool {
    let s = line.trim_start_matches(' ').trim_end_matches(['\n', '\r']);
    s.is_empty() || s.starts_with('#')
}

/// The key of a top-level `key:` line: a plain key at column 0.
fn top_level_key(line: &str) -> Option<&str> {
    let end = line.find(':')?;
    let key = &line[..end];
    let rest = &line[end + 1..];
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    let first_ok = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    let separated = rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']);
    (plain && first_ok && separated).then_some(key)
}

impl KustFile {
    /// Reads and parses the file at `path`, refusing what cannot be edited
    /// line by line, and applies kustomize's read-time fixes.
    pub fn read(path: &Path) -> Result<KustFile, String> {
        let mut file = KustFile::read_unfixed(path)?;
        file.fix_on_read();
        Ok(file)
    }

    /// Reads and parses the file at `path` as [`KustFile::read`] does, without
    /// the read-time fixes (kustomize's `localize` keeps legacy fields).
    pub fn read_unfixed(path: &Path) -> Result<KustFile, String> {
        let shown = path.display();
        let limits = ParseLimits {
            yaml11: true,
            ..ParseLimits::default()
        };
        let bytes = read_bounded(path, limits.max_bytes)?;
        let text = String::from_utf8(bytes).map_err(|_| format!("{shown}: not UTF-8 text"))?;
        let docs = rustomize::parse_documents(&text, &limits)
            .map_err(|e| format!("{shown}: {}", e.message))?;
        let mut docs = docs.into_iter().filter(|d| !d.is_null());
        let root = match (docs.next(), docs.next()) {
            (None, _) => Map::default(),
            (Some(Value::Map(m)), None) => m,
            (Some(_), None) => return Err(format!("{shown}: expected a mapping")),
            (Some(_), Some(_)) => return Err(format!("{shown}: holds several YAML documents")),
        };
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
        let mut key_lines = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if is_comment_or_blank(line) {
                continue;
            }
            if let Some(key) = top_level_key(line) {
                key_lines.push((key.to_owned(), i));
            }
        }
        let parsed: Vec<&str> = root.keys().map(|k| k.as_str()).collect();
        let scanned: Vec<&str> = key_lines.iter().map(|(k, _)| k.as_str()).collect();
        if parsed != scanned {
            return Err(format!(
                "{shown}: cannot edit this layout: every top-level key must be a plain \
                 `key:` at the start of its own line"
            ));
        }
        let fields = root
            .into_iter()
            .zip(key_lines)
            .map(|((key, value), (_, line))| Field {
                key: key.into_string(),
                original: Some(value.clone()),
                value,
                dirty: false,
                line: Some(line),
            })
            .collect();
        Ok(KustFile {
            path: path.to_path_buf(),
            lines,
            fields,
        })
    }

    /// An empty file at `path`, for `create`.
    pub fn new_empty(path: &Path) -> KustFile {
        let mut file = KustFile {
            path: path.to_path_buf(),
            lines: Vec::new(),
            fields: Vec::new(),
        };
        file.fix_on_read();
        file
    }

    /// The path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// kustomize's `FixKustomization`, which every `edit` runs on reading:
    /// `kind` and `apiVersion` defaults, `bases` appended to `resources`,
    /// `imageTags` appended to `images`.
    fn fix_on_read(&mut self) {
        let kind = self.string("kind");
        if kind.is_empty() {
            self.set("kind", Value::string("Kustomization"));
        }
        if self.string("apiVersion").is_empty() {
            let version = if kind == "Component" {
                COMPONENT_VERSION
            } else {
                KUSTOMIZATION_VERSION
            };
            self.set("apiVersion", Value::string(version));
        }
        for (old, new) in [("bases", "resources"), ("imageTags", "images")] {
            let moved = self.seq(old);
            if !moved.is_empty() {
                let mut list = self.seq(new);
                list.extend(moved);
                self.set(new, Value::Seq(list));
                self.set(old, Value::Null);
            }
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.key == key).or_else(|| {
            self.fields
                .iter()
                .position(|f| f.key.eq_ignore_ascii_case(key))
        })
    }

    /// The value of a field (`None` if absent or null).
    pub fn get(&self, key: &str) -> Option<&Value> {
        let value = &self.fields.get(self.position(key)?)?.value;
        (!value.is_null()).then_some(value)
    }

    /// A string field, empty if absent or not a string.
    pub fn string(&self, key: &str) -> String {
        match self.get(key) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        }
    }

    /// A list field, empty if absent or not a list.
    pub fn seq(&self, key: &str) -> Vec<Value> {
        match self.get(key) {
            Some(Value::Seq(s)) => s.clone(),
            _ => Vec::new(),
        }
    }

    /// A list of strings; an entry that is not a string is an error, as in
    /// kustomize's typed decoding.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        self.seq(key)
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.into_string()),
                other => Err(format!(
                    "{}: {key}: expected a list of strings, found a {}",
                    self.path.display(),
                    other.type_name()
                )),
            })
            .collect()
    }

    /// A map of strings (`commonLabels`, `commonAnnotations`), in file order.
    pub fn string_map(&self, key: &str) -> Result<Map, String> {
        match self.get(key) {
            None => Ok(Map::default()),
            Some(Value::Map(m)) => {
                for (k, v) in m {
                    if !matches!(v, Value::String(_)) {
                        return Err(format!(
                            "{}: {key}.{k}: expected a string, found a {}",
                            self.path.display(),
                            v.type_name()
                        ));
                    }
                }
                Ok(m.clone())
            }
            Some(other) => Err(format!(
                "{}: {key}: expected a map, found a {}",
                self.path.display(),
                other.type_name()
            )),
        }
    }

    /// Replaces (or adds) a field; an empty value removes it when written, as
    /// kustomize's `omitempty` does.
    pub fn set(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => {
                if let Some(field) = self.fields.get_mut(i) {
                    field.value = value;
                    field.dirty = true;
                }
            }
            None => self.fields.push(Field {
                key: key.to_owned(),
                original: None,
                value,
                dirty: true,
                line: None,
            }),
        }
    }

    /// The new text of the file.
    pub fn render(&self) -> String {
        // Where each field's block ends: its last line that is not a comment
        // before the next key; comments after it lead the next field.
        let mut starts: Vec<usize> = self.fields.iter().filter_map(|f| f.line).collect();
        starts.sort_unstable();
        let block_end = |start: usize| -> usize {
            let next = starts
                .iter()
                .copied()
                .find(|&s| s > start)
                .unwrap_or(self.lines.len());
            (start..next)
                .rev()
                .find(|&i| {
                    self.lines
                        .get(i)
                        .is_some_and(|l| i == start || !is_comment_or_blank(l))
                })
                .unwrap_or(start)
        };
        let mut out = String::new();
        let mut cursor = 0;
        let mut originals: Vec<&Field> = self.fields.iter().filter(|f| f.line.is_some()).collect();
        originals.sort_by_key(|f| f.line);
        for field in originals {
            let Some(start) = field.line else { continue };
            let end = block_end(start);
            // Leading comments (and anything before the first key).
            for line in self.lines.get(cursor..start).unwrap_or_default() {
                push_line(&mut out, line);
            }
            let block = self.lines.get(start..=end).unwrap_or_default();
            if let Some(items) = field.dirty.then(|| appended_items(field, block)).flatten() {
                // Only entries appended to a block list: the old lines stay.
                for line in block {
                    push_line(&mut out, line);
                }
                push_line(&mut out, &items);
            } else if field.dirty {
                for line in block.iter().skip(1) {
                    if is_comment_or_blank(line) && !line.trim().is_empty() {
                        push_line(&mut out, line);
                    }
                }
                let rendered = marshal_field(&field.key, &field.value);
                let comment = block.first().and_then(|l| key_line_comment(l));
                match (comment, rendered.split_once('\n')) {
                    (Some(comment), Some((first, rest))) => {
                        out.push_str(first);
                        out.push_str(comment);
                        out.push('\n');
                        out.push_str(rest);
                    }
                    _ => out.push_str(&rendered),
                }
            } else {
                for line in block {
                    push_line(&mut out, line);
                }
            }
            cursor = end + 1;
        }
        for line in self.lines.get(cursor..).unwrap_or_default() {
            push_line(&mut out, line);
        }
        // New fields, in kustomize's order (unknown names last, as added).
        let mut added: Vec<&Field> = self.fields.iter().filter(|f| f.line.is_none()).collect();
        added.sort_by_key(|f| {
            FIELD_ORDER
                .iter()
                .position(|k| *k == f.key)
                .unwrap_or(FIELD_ORDER.len())
        });
        for field in added {
            out.push_str(&marshal_field(&field.key, &field.value));
        }
        out
    }

    /// Writes the file: a temporary file in the same directory renamed over it,
    /// so a failure never leaves half a kustomization behind; the permissions
    /// of the file it replaces are kept.
    pub fn write(&self) -> Result<(), String> {
        let shown = self.path.display();
        // A symbolic link is written through, as kustomize writes through it.
        let target = match fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => {
                fs::canonicalize(&self.path).map_err(|e| format!("{shown}: {e}"))?
            }
            _ => self.path.clone(),
        };
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
        let mut tmp = tempfile::Builder::new()
            .prefix(".rustomize-edit-")
            .tempfile_in(&dir)
            .map_err(|e| format!("{shown}: {e}"))?;
        tmp.write_all(self.render().as_bytes())
            .and_then(|()| tmp.flush())
            .map_err(|e| format!("{shown}: {e}"))?;
        if let Some(p) = permissions {
            fs::set_permissions(tmp.path(), p).map_err(|e| format!("{shown}: {e}"))?;
        }
        tmp.persist(&target)
            .map_err(|e| format!("{shown}: {}", e.error))?;
        Ok(())
    }
}

/// Reads a regular file of at most `max` bytes (a FIFO would hang, a device
/// never end).
pub fn read_bounded(path: &Path, max: usize) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let shown = path.display();
    // Checked before opening: opening a FIFO blocks until a writer comes.
    let regular = |m: fs::Metadata| m.is_file();
    if !fs::metadata(path)
        .map(regular)
        .map_err(|e| format!("{shown}: {e}"))?
    {
        return Err(format!("{shown}: not a regular file"));
    }
    let file = fs::File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    if !file
        .metadata()
        .map(regular)
        .map_err(|e| format!("{shown}: {e}"))?
    {
        return Err(format!("{shown}: not a regular file"));
    }
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{shown}: {e}"))?;
    if bytes.len() > max {
        return Err(format!("{shown}: larger than {max} bytes"));
    }
    Ok(bytes)
}

/// The comment at the end of a top-level key line, with the blanks before
/// it, when it can be found without a YAML scanner: after `key:` alone, or
/// after a plain (unquoted, non-flow) scalar. It is kept when the field is
/// rewritten, on the rewritten key line.
fn key_line_comment(line: &str) -> Option<&str> {
    let rest = line.split_once(':')?.1.trim_end_matches(['\n', '\r']);
    let value = rest.trim_start_matches([' ', '\t']);
    if value.starts_with('#') {
        return Some(rest);
    }
    if value.starts_with(['"', '\'', '[', '{', '|', '>', '&', '*', '!']) {
        return None;
    }
    let bytes = rest.as_bytes();
    let hash = (1..bytes.len())
        .find(|&i| bytes.get(i) == Some(&b'#') && matches!(bytes.get(i - 1), Some(b' ' | b'\t')))?;
    let start = rest.get(..hash)?.trim_end_matches([' ', '\t']).len();
    rest.get(start..)
}

/// When the edit only appended entries to a list written in block style at
/// column 0, the lines of the new entries (so the old lines, with their
/// comments, can stay as they are).
fn appended_items(field: &Field, block: &[String]) -> Option<String> {
    let (Some(Value::Seq(old)), Value::Seq(new)) = (&field.original, &field.value) else {
        return None;
    };
    if old.is_empty()
        || new.len() <= old.len()
        || !old.iter().zip(new.iter()).all(|(a, b)| a.identical(b))
    {
        return None;
    }
    let (head, items) = block.split_first()?;
    let after_key = head.split_once(':')?.1.trim_start_matches([' ', '\t']);
    if !(after_key.trim_end().is_empty() || after_key.starts_with('#')) {
        return None;
    }
    let mut content = items.iter().filter(|l| !is_comment_or_blank(l));
    if !content.next()?.starts_with('-') {
        return None;
    }
    if !content.all(|l| l.starts_with('-') || l.starts_with(' ')) {
        return None;
    }
    let before = marshal_field(&field.key, &Value::Seq(old.clone()));
    let after = marshal_field(&field.key, &field.value);
    after.strip_prefix(before.as_str()).map(str::to_owned)
}

/// Appends a verbatim line, giving the one before a line break if the file
/// ended without one.
fn push_line(out: &mut String, line: &str) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(line);
}

/// Whether kustomize leaves the field out (`omitempty`): null, empty string,
/// list or map.
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Empty => true,
        Value::String(s) => s.is_empty(),
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// One field as kustomize's `marshalField` prints it (nothing when empty).
fn marshal_field(key: &str, value: &Value) -> String {
    if is_empty(value) {
        return String::new();
    }
    let mut map = Map::default();
    map.insert(key.to_owned(), value.clone());
    let mut out = String::new();
    rustomize::write_document(&Value::Map(map), &mut out);
    out
}

/// A string value.
pub fn string(s: &str) -> Value {
    Value::string(s)
}

/// A map of the non-empty string entries given, as a struct with `omitempty`
/// string fields marshals.
pub fn struct_of<'a>(fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    let mut map = Map::default();
    for (k, v) in fields {
        if !v.is_empty() {
            map.insert(k.to_owned(), string(v));
        }
    }
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The write order names exactly the fields the library reads (a new
    /// field must be given its place here too), but `imageTags`, which
    /// reading moves into `images` as kustomize's kustfile does.
    #[test]
    fn field_order_covers_every_known_field() {
        let mut order = FIELD_ORDER.to_vec();
        let mut known: Vec<&str> = rustomize::load::kustomization::KNOWN_FIELDS
            .iter()
            .copied()
            .filter(|f| *f != "imageTags")
            .collect();
        order.sort_unstable();
        known.sort_unstable();
        assert_eq!(order, known);
    }

    fn edit(text: &str, f: impl FnOnce(&mut KustFile)) -> String {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("kustomization.yaml");
        fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
        let mut file = KustFile::read(&path).unwrap_or_else(|e| panic!("{e}"));
        f(&mut file);
        file.render()
    }

    #[test]
    fn untouched_fields_keep_their_lines() {
        let text = "# top\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n\
                    resources:  # inline\n- a.yaml\n# between\n\nnamespace: x # ns\n# end\n";
        let out = edit(text, |f| f.set("namePrefix", string("p-")));
        assert_eq!(out, format!("{text}namePrefix: p-\n"));
    }

    #[test]
    fn changed_fields_are_rewritten_with_inner_comments_first() {
        let text = "apiVersion: v\nkind: Kustomization\nresources:\n# inner\n- a.yaml\n\n# lead\nnamespace: x\n";
        let out = edit(text, |f| {
            f.set("resources", Value::Seq(vec![string("b.yaml")]))
        });
        assert_eq!(
            out,
            "apiVersion: v\nkind: Kustomization\n# inner\nresources:\n- b.yaml\n\n# lead\nnamespace: x\n"
        );
        // Appending keeps the old lines, comments and all.
        let both = Value::Seq(vec![string("a.yaml"), string("b.yaml")]);
        let out = edit(text, |f| f.set("resources", both));
        assert_eq!(
            out,
            "apiVersion: v\nkind: Kustomization\nresources:\n# inner\n- a.yaml\n- b.yaml\n\n# lead\nnamespace: x\n"
        );
    }

    #[test]
    fn key_line_comments_are_found_only_where_unambiguous() {
        assert_eq!(key_line_comment("resources:  # list\n"), Some("  # list"));
        assert_eq!(key_line_comment("namespace: a # ns\n"), Some(" # ns"));
        assert_eq!(key_line_comment("namespace: a#b\n"), None);
        assert_eq!(key_line_comment("namespace: \"a # b\" # c\n"), None);
    }

    #[test]
    fn quoted_top_level_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("kustomization.yaml");
        fs::write(&path, "\"resources\": []\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(KustFile::read(&path).is_err());
    }
}
