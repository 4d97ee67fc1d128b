//! What each fuzz target does with one input. The targets in `fuzz_targets/` are
//! one-line wrappers around these functions, and the workspace's regression test
//! (`crates/rustomize/tests/fuzz_regressions.rs`) includes this file to run every
//! saved crash input through exactly the same code. Errors are fine everywhere;
//! only a panic, an abort, a timeout or running out of memory is a finding.
//!
//! Only `rustomize`, `rustomize_yaml`, `arbitrary` and `std` may be used here, as
//! the regression test has no other dependencies.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Unstructured;
use rustomize::fieldspec::{self, FieldSpec, Leaf};
use rustomize::load::kustomization::Kustomization;
use rustomize::schema::MergeSchema;
use rustomize::transform::{patch_json6902, strategic_merge};
use rustomize::{Gvk, LoadRestrictor};
use rustomize_yaml::{Map, ParseLimits, Value};

/// The limits a build reads resources with.
fn build_limits() -> ParseLimits {
    ParseLimits {
        reject_non_string_keys: true,
        ..ParseLimits::default()
    }
}

fn same_docs(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.identical(y))
}

/// `yaml_read`: the reader on any text. The fast reader's saphyr dialect must
/// agree with the full (saphyr-based) reader wherever it accepts a text, and
/// its go-yaml dialect (what builds use) must read at least those texts, to
/// the same values but for folded scalars (go-yaml's extra line break).
pub fn yaml_read(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for limits in [ParseLimits::default(), build_limits()] {
        let _ = rustomize_yaml::parse_documents(&text, &limits);
        let Some(strict) = rustomize_yaml::parse_documents_fast_saphyr(&text, &limits) else {
            continue;
        };
        let lenient = rustomize_yaml::parse_documents_fast(&text, &limits);
        match &lenient {
            Some(lenient) => assert!(
                same_docs(lenient, &strict) || text.contains('>'),
                "the dialects read different values:\ngo-yaml: {lenient:?}\nsaphyr: {strict:?}"
            ),
            None => panic!("the go-yaml dialect declines what the saphyr dialect reads"),
        }
        // A raw LS/PS is a line break the full reader cannot be told about:
        // it refuses such texts (the fast reader reads them as go-yaml does).
        if text.contains(['\u{2028}', '\u{2029}']) {
            continue;
        }
        match rustomize_yaml::parse_documents_reference(&text, &limits) {
            Ok(reference) => assert!(
                same_docs(&strict, &reference),
                "fast and reference readers differ:\nfast: {strict:?}\nreference: {reference:?}"
            ),
            Err(e) => panic!("fast reader accepted, reference rejected: {e}\nfast: {strict:?}"),
        }
    }
}

/// `yaml_roundtrip`: what the writer prints for the mappings of a stream reads
/// back, and printing that again gives the same text.
pub fn yaml_roundtrip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(docs) = rustomize_yaml::parse_documents(text, &build_limits()) else {
        return;
    };
    // Only mappings: kustomize prints resources, never top-level scalars.
    let docs: Vec<Value> = docs
        .into_iter()
        .filter(|d| matches!(d, Value::Map(_)))
        .collect();
    // go-yaml's key order is not a total order where keys hold digit runs (a
    // run compares by value before its length: `30284x` < `3e` < `5f` <
    // `30284x`, and runs past 18 digits wrap around in int64). Up to 12 keys
    // we sort exactly as Go does; beyond, the order written may depend on the
    // order read (docs/compatibility.md). Such maps are left out.
    if docs.iter().any(has_unordered_keys) {
        return;
    }
    let written = rustomize_yaml::write_documents(&docs);
    let reread = match rustomize_yaml::parse_documents(&written, &build_limits()) {
        Ok(d) => d,
        // A raw LS/PS outside what the fast reader reads (a `? key` holding one)
        // is refused, not misread: a known gap (docs/compatibility.md).
        Err(e)
            if e.message.contains("separator at line")
                && e.message.contains("not supported yet") =>
        {
            return
        }
        Err(e) => panic!("the writer's output does not read back: {e}\n{written}"),
    };
    let rewritten = rustomize_yaml::write_documents(&reread);
    assert_eq!(written, rewritten, "writing is not stable over a read");
}

/// Whether a mapping in `v` has more than 12 keys, one of them with a digit.
fn has_unordered_keys(v: &Value) -> bool {
    match v {
        Value::Seq(items) => items.iter().any(has_unordered_keys),
        Value::Map(m) => {
            (m.len() > 12 && m.keys().any(|k| k.bytes().any(|b| b.is_ascii_digit())))
                || m.values().any(has_unordered_keys)
        }
        _ => false,
    }
}

/// `kustomization`: the kustomization file parser on any text.
pub fn kustomization(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Kustomization::parse(Path::new("kustomization.yaml"), &text);
}

/// Splits a YAML stream into a target mapping and the documents after it.
fn target_and_rest(data: &[u8]) -> Option<(Map, Vec<Value>)> {
    let text = std::str::from_utf8(data).ok()?;
    let mut docs = rustomize_yaml::parse_documents(text, &build_limits())
        .ok()?
        .into_iter();
    let Some(Value::Map(target)) = docs.next() else {
        return None;
    };
    Some((target, docs.collect()))
}

fn gvk_of(object: &Map) -> Gvk {
    let text = |k: &str| object.get(k).and_then(Value::as_str).unwrap_or_default();
    Gvk::from_api_version(text("apiVersion"), text("kind"))
}

/// `strategic_merge`: a YAML stream whose first document is the target and each
/// later one a strategic merge patch, applied in order with the built-in schema.
pub fn strategic_merge(data: &[u8]) {
    let Some((mut target, patches)) = target_and_rest(data) else {
        return;
    };
    let gvk = gvk_of(&target);
    for patch in &patches {
        let Value::Map(patch) = patch else { continue };
        match strategic_merge::apply(&mut target, patch, &gvk, MergeSchema::builtin()) {
            Ok(strategic_merge::Outcome::Merged) => {}
            Ok(strategic_merge::Outcome::Deleted) | Err(_) => return,
        }
        // The build holds each merged resource to max_document_bytes (a list
        // merge can double a list per patch); the fuzzer stops far earlier so
        // each run stays fast.
        let size = patch_json6902::estimated_size(&Value::Map(target.clone()));
        if size > 1 << 20 {
            return;
        }
    }
    let _ = rustomize_yaml::write_documents([&Value::Map(target)]);
}

/// `json6902`: a YAML stream whose first document is the target and each later
/// one a JSON patch (a list of operations, in YAML or JSON), applied in order.
pub fn json6902(data: &[u8]) {
    let Some((mut target, patches)) = target_and_rest(data) else {
        return;
    };
    for patch in &patches {
        let Ok(ops) = patch_json6902::decode(patch) else {
            continue;
        };
        if patch_json6902::apply_to_object(
            &mut target,
            &ops,
            ParseLimits::default().max_document_bytes,
        )
        .is_err()
        {
            return;
        }
    }
    let _ = rustomize_yaml::write_documents([&Value::Map(target)]);
}

/// `field_path`: the first line is a path, the rest a YAML mapping. The path is
/// walked as a field-spec path (every create/leaf combination) and as a
/// replacement field path (lookup, then set with and without create).
pub fn field_path(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (path, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let object = match rustomize_yaml::parse_documents(rest, &build_limits()) {
        Ok(docs) => match docs.into_iter().next() {
            Some(Value::Map(m)) => m,
            _ => Map::default(),
        },
        Err(_) => Map::default(),
    };
    let _ = fieldspec::split_path(path);
    for create in [false, true] {
        for leaf in [Leaf::Map, Leaf::Scalar] {
            let spec = FieldSpec::new("", "", "", path, create);
            let mut copy = object.clone();
            let _ = fieldspec::visit(&mut copy, &spec, leaf, &mut |node| {
                *node = Value::string("fuzz");
                Ok(())
            });
        }
    }
    let _ = rustomize::fuzzing::replacement_lookup(&object, path);
    let values = [
        Value::string("fuzz"),
        Value::Map(Map::from_iter([("k".to_owned(), Value::Int(1))])),
        Value::Seq(vec![Value::Int(1)]),
    ];
    for create in [false, true] {
        for value in &values {
            let mut copy = object.clone();
            let _ = rustomize::fuzzing::replacement_set(&mut copy, path, value, create);
        }
    }
}

/// `build_tree`: a whole build over a tree generated from the input (see
/// [`TreeGen`]), written to a fresh temporary directory, root-only restrictor.
pub fn build_tree(data: &[u8]) {
    let files = TreeGen::new(data).tree();
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let root = std::env::temp_dir().join(format!(
        "rustomize-fuzz-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&root);
    let mut written = true;
    for (name, text) in &files {
        let path: PathBuf = root.join(name);
        written &= path
            .parent()
            .is_some_and(|dir| std::fs::create_dir_all(dir).is_ok())
            && std::fs::write(&path, text).is_ok();
    }
    if written {
        let options = rustomize::BuildOptions {
            load_restrictor: LoadRestrictor::RootOnly,
            threads: Some(1),
            ..Default::default()
        };
        if let Ok(build) = rustomize::build(&root.join("app"), &options) {
            let _ = build.to_yaml();
        }
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Resource templates; `NAME` is replaced by a chosen name.
const RESOURCES: &[&str] = &[
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\n  labels:\n    app: NAME\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: NAME\n  template:\n    metadata:\n      labels:\n        app: NAME\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.0\n        ports:\n        - containerPort: 80\n          protocol: TCP\n        env:\n        - name: V\n          value: $(VAR)\n        - name: C\n          valueFrom:\n            configMapKeyRef:\n              name: cm\n              key: k\n        envFrom:\n        - secretRef:\n            name: sec\n      volumes:\n      - name: v\n        configMap:\n          name: cm\n      - name: s\n        secret:\n          secretName: sec\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: NAME\nspec:\n  selector:\n    app: NAME\n  ports:\n  - port: 80\n    targetPort: 8080\n    name: http\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\ndata:\n  k: v\n  n: \"1\"\n",
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: NAME\ntype: Opaque\ndata:\n  k: dg==\n",
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: NAME\nspec:\n  serviceName: NAME\n  selector:\n    matchLabels:\n      app: NAME\n  template:\n    spec:\n      containers:\n      - name: db\n        image: postgres\n  volumeClaimTemplates:\n  - metadata:\n      name: data\n    spec:\n      accessModes: [ReadWriteOnce]\n",
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: NAME\nspec:\n  rules:\n  - host: x.example\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: web\n            port:\n              number: 80\n",
    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: NAME\n",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: NAME\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: Role\n  name: NAME\nsubjects:\n- kind: ServiceAccount\n  name: NAME\n  namespace: ns\n",
    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: NAME\n",
    "apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: NAME\nspec:\n  list:\n  - name: a\n    value: 1\n  ref: cm\n",
    "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: NAME\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: app\n",
    "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: NAME\nspec:\n  schedule: \"* * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            image: busybox\n",
    "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: NAME\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: NAME\n",
];

const NAMES: &[&str] = &["app", "web", "cm", "sec", "db", "a", "b-1", "ns"];
const KINDS: &[&str] = &[
    "Deployment",
    "Service",
    "ConfigMap",
    "Secret",
    "StatefulSet",
    "Foo",
    "Namespace",
    "",
];
const WORDS: &[&str] = &[
    "x", "dev", "prod-", "-v2", "1", "true", "null", "\"\"", "a/b", "0755", "~", "'q'", "é",
];
const STRATEGIC: &[&str] = &[
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  replicas: 3\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: busybox\n      - name: side\n        image: envoy\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        $patch: delete\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: NAME\nspec:\n  template:\n    spec:\n      $patch: replace\n      containers: []\n",
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: NAME\nspec:\n  ports:\n  - port: 80\n    targetPort: 9090\n  - port: 443\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: NAME\ndata:\n  k: null\n  new: value\n",
    "$patch: delete\napiVersion: v1\nkind: KIND\nmetadata:\n  name: NAME\n",
    "apiVersion: example.com/v1\nkind: Foo\nmetadata:\n  name: NAME\nspec:\n  list:\n  - name: b\n",
    "apiVersion: v1\nkind: KIND\nmetadata:\n  name: renamed\n  labels:\n    patched: \"yes\"\n",
];
const JSON_OPS: &[&str] = &["add", "replace", "remove", "move", "copy", "test", "bogus"];
const JSON_PATHS: &[&str] = &[
    "/spec/replicas",
    "/metadata/name",
    "/metadata/labels/x",
    "/metadata/annotations",
    "/spec/template/spec/containers/0",
    "/spec/template/spec/containers/-",
    "/spec/template/spec/containers/-1",
    "/spec/template/spec/containers/0/image",
    "/spec/ports/0/port",
    "/data/k",
    "/spec",
    "/a~1b",
    "",
    "/",
];
const JSON_VALUES: &[&str] = &["5", "x", "{name: c, image: i}", "[1, 2]", "{}", "null"];
const FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "spec.replicas",
    "data.k",
    "spec.template.spec.containers.[name=app].image",
    "spec.template.spec.containers.0.image",
    "spec.template.spec.containers.*.name",
    "spec.ports.[port=80].targetPort",
    "metadata.labels.app",
    "metadata.annotations.[a.b/c]",
    "spec.selector.matchLabels",
    "spec.missing.deep",
    "",
];

/// Builds a tree of files from fuzz input: small vocabularies of resources,
/// patches, generators and kustomization fields, chosen by the input's bytes, so
/// that most inputs get past parsing into the deep parts of a build. A few slots
/// take raw text from the input instead.
pub struct TreeGen<'a> {
    u: Unstructured<'a>,
    files: Vec<(String, String)>,
}

impl<'a> TreeGen<'a> {
    /// A generator over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        TreeGen {
            u: Unstructured::new(data),
            files: Vec::new(),
        }
    }

    fn pick(&mut self, list: &[&'static str]) -> &'static str {
        self.u.choose(list).map_or("", |s| *s)
    }

    fn count(&mut self, max: usize) -> usize {
        self.u.int_in_range(0..=max).unwrap_or(0)
    }

    fn flag(&mut self) -> bool {
        self.u.arbitrary().unwrap_or(false)
    }

    /// Raw text from the input (short), for the slots that take any text.
    fn raw(&mut self) -> String {
        let len = self.count(200);
        let bytes = self.u.bytes(len).unwrap_or_default();
        String::from_utf8_lossy(bytes).into_owned()
    }

    fn resource(&mut self) -> String {
        if self.count(15) == 0 {
            return self.raw();
        }
        let template = self.pick(RESOURCES);
        let name = self.pick(NAMES);
        template.replace("NAME", name)
    }

    fn strategic(&mut self) -> String {
        if self.count(15) == 0 {
            return self.raw();
        }
        let template = self.pick(STRATEGIC);
        let name = self.pick(NAMES);
        let kind = self.pick(KINDS);
        template.replace("NAME", name).replace("KIND", kind)
    }

    fn json_patch(&mut self) -> String {
        let mut out = String::new();
        for _ in 0..=self.count(3) {
            let op = self.pick(JSON_OPS);
            let path = self.pick(JSON_PATHS);
            out.push_str(&format!("- op: {op}\n  path: \"{path}\"\n"));
            if self.flag() {
                let from = self.pick(JSON_PATHS);
                out.push_str(&format!("  from: \"{from}\"\n"));
            }
            if self.flag() {
                let value = self.pick(JSON_VALUES);
                out.push_str(&format!("  value: {value}\n"));
            }
        }
        out
    }

    fn file(&mut self, name: String, text: String) -> String {
        self.files.push((name.clone(), text));
        name
    }

    /// Indents every line of `text` by `n` spaces (for block scalars).
    fn indent(text: &str, n: usize) -> String {
        let pad = " ".repeat(n);
        text.lines().map(|l| format!("{pad}{l}\n")).collect()
    }

    fn target(&mut self) -> String {
        let mut t = String::from("  target:\n");
        let kind = self.pick(KINDS);
        if !kind.is_empty() {
            t.push_str(&format!("    kind: {kind}\n"));
        }
        if self.flag() {
            let name = self.pick(NAMES);
            t.push_str(&format!("    name: {name}\n"));
        }
        if self.flag() {
            t.push_str("    labelSelector: app=web\n");
        }
        t
    }

    /// One kustomization directory `dir` (and the files it refers to); `depth`
    /// bounds nested bases.
    fn kustomization(&mut self, dir: &str, depth: usize, component: bool) {
        let mut k = String::new();
        if component {
            k.push_str("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n");
        } else if self.flag() {
            k.push_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
        }
        let mut resources = Vec::new();
        for i in 0..self.count(3) {
            let text = self.resource();
            resources.push(self.file(format!("{dir}/r{i}.yaml"), text));
        }
        let mut entries: Vec<String> = resources
            .iter()
            .map(|p| p.trim_start_matches(&format!("{dir}/")).to_owned())
            .collect();
        if depth < 2 && self.count(3) == 0 {
            let base = format!("{dir}/base{depth}");
            self.kustomization(&base, depth + 1, false);
            entries.push(format!("base{depth}"));
        }
        if self.count(7) == 0 {
            entries.push(
                self.pick(&["missing.yaml", "../outside.yaml", "/etc/hostname", "."])
                    .to_owned(),
            );
        }
        if !entries.is_empty() {
            k.push_str("resources:\n");
            for e in &entries {
                k.push_str(&format!("- {e}\n"));
            }
        }
        if depth < 2 && !component && self.count(4) == 0 {
            let comp = format!("{dir}/comp{depth}");
            self.kustomization(&comp, depth + 1, true);
            k.push_str(&format!("components:\n- comp{depth}\n"));
        }
        if self.flag() {
            let ns = self.pick(NAMES);
            k.push_str(&format!("namespace: {ns}\n"));
        }
        if self.flag() {
            let w = self.pick(WORDS);
            k.push_str(&format!("namePrefix: {w}\n"));
        }
        if self.flag() {
            let w = self.pick(WORDS);
            k.push_str(&format!("nameSuffix: {w}\n"));
        }
        if self.flag() {
            let w = self.pick(WORDS);
            k.push_str(&format!("commonLabels:\n  team: {w}\n"));
        }
        if self.flag() {
            let w = self.pick(WORDS);
            let sel = self.flag();
            k.push_str(&format!(
                "labels:\n- pairs:\n    tier: {w}\n  includeSelectors: {sel}\n  includeTemplates: true\n"
            ));
            if self.flag() {
                k.push_str(
                    "  fields:\n  - path: spec/extra/labels\n    kind: Foo\n    create: true\n",
                );
            }
        }
        if self.flag() {
            let w = self.pick(WORDS);
            k.push_str(&format!("commonAnnotations:\n  note: {w}\n"));
        }
        if self.flag() {
            let tag = self.pick(WORDS);
            k.push_str(&format!(
                "images:\n- name: nginx\n  newName: my/nginx\n  newTag: {tag}\n"
            ));
            if self.flag() {
                k.push_str("- name: postgres\n  digest: sha256:abc\n");
            }
        }
        if self.flag() {
            let name = self.pick(NAMES);
            let n = self.pick(&["0", "3", "-1", "x", "99999999999999999999"]);
            k.push_str(&format!("replicas:\n- name: {name}\n  count: {n}\n"));
        }
        self.patches(dir, &mut k);
        self.generators(dir, &mut k);
        if self.flag() {
            let source = self.pick(FIELD_PATHS);
            let target = self.pick(FIELD_PATHS);
            let kind = self.pick(KINDS);
            let name = self.pick(NAMES);
            let create = self.flag();
            k.push_str(&format!(
                "replacements:\n- source:\n    kind: {kind}\n    name: {name}\n    fieldPath: \"{source}\"\n  targets:\n  - select:\n      kind: {}\n    fieldPaths:\n    - \"{target}\"\n    options:\n      create: {create}\n",
                self.pick(KINDS)
            ));
            if self.flag() {
                k.push_str("      delimiter: \"-\"\n      index: 1\n");
            }
        }
        if self.flag() {
            let kind = self.pick(KINDS);
            let name = self.pick(NAMES);
            let path = self.pick(FIELD_PATHS);
            k.push_str(&format!(
                "vars:\n- name: VAR\n  objref:\n    kind: {kind}\n    name: {name}\n    apiVersion: v1\n  fieldref:\n    fieldPath: {path}\n"
            ));
        }
        if self.flag() {
            if self.flag() {
                k.push_str("sortOptions:\n  order: fifo\n");
            } else {
                k.push_str("sortOptions:\n  order: legacy\n  legacySortOptions:\n    orderFirst: [Service]\n    orderLast: [Namespace]\n");
            }
        }
        if self.count(5) == 0 {
            let config = "nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - path: spec/ref\n    kind: Foo\ncommonLabels:\n- path: spec/list/labels\n  create: true\n  kind: Foo\n";
            let text = if self.flag() {
                config.to_owned()
            } else {
                self.raw()
            };
            self.file(format!("{dir}/config.yaml"), text);
            k.push_str("configurations:\n- config.yaml\n");
        }
        if self.count(15) == 0 {
            // Sometimes the kustomization file itself is raw text.
            k = self.raw();
        }
        let file = self.pick(&["kustomization.yaml", "kustomization.yml", "Kustomization"]);
        self.file(format!("{dir}/{file}"), k);
    }

    fn patches(&mut self, dir: &str, k: &mut String) {
        let n = self.count(3);
        if n > 0 {
            k.push_str("patches:\n");
        }
        for i in 0..n {
            let body = if self.flag() {
                self.strategic()
            } else {
                self.json_patch()
            };
            if self.flag() {
                let path = self.file(format!("{dir}/p{i}.yaml"), body);
                k.push_str(&format!(
                    "- path: {}\n",
                    path.trim_start_matches(&format!("{dir}/"))
                ));
            } else {
                k.push_str(&format!("- patch: |-\n{}", Self::indent(&body, 4)));
            }
            if self.flag() {
                let t = self.target();
                k.push_str(&t);
            }
            if self.count(3) == 0 {
                k.push_str("  options:\n    allowNameChange: true\n    allowKindChange: true\n");
            }
        }
        if self.count(3) == 0 {
            k.push_str("patchesStrategicMerge:\n");
            for _ in 0..=self.count(1) {
                let body = self.strategic();
                k.push_str(&format!("- |-\n{}", Self::indent(&body, 2)));
            }
        }
        if self.count(3) == 0 {
            let body = self.json_patch();
            let path = self.file(format!("{dir}/j.yaml"), body);
            let kind = self.pick(KINDS);
            let name = self.pick(NAMES);
            k.push_str(&format!(
                "patchesJson6902:\n- target:\n    version: v1\n    kind: {kind}\n    name: {name}\n  path: {}\n",
                path.trim_start_matches(&format!("{dir}/"))
            ));
        }
    }

    fn generators(&mut self, dir: &str, k: &mut String) {
        for field in ["configMapGenerator", "secretGenerator"] {
            let n = self.count(2);
            if n == 0 {
                continue;
            }
            k.push_str(&format!("{field}:\n"));
            for _ in 0..n {
                let name = self.pick(NAMES);
                k.push_str(&format!("- name: {name}\n"));
                if self.flag() {
                    let behavior = self.pick(&["create", "merge", "replace", "bogus"]);
                    k.push_str(&format!("  behavior: {behavior}\n"));
                }
                if self.flag() {
                    let w = self.pick(WORDS);
                    k.push_str(&format!("  literals:\n  - k={w}\n  - other=2\n"));
                }
                if self.flag() {
                    let text = if self.flag() {
                        "file content\n".to_owned()
                    } else {
                        self.raw()
                    };
                    self.file(format!("{dir}/data.txt"), text);
                    k.push_str("  files:\n  - data.txt\n  - renamed=data.txt\n");
                }
                if self.flag() {
                    let text = if self.flag() {
                        "A=1\n# c\nB\nexport C=3\n".to_owned()
                    } else {
                        self.raw()
                    };
                    self.file(format!("{dir}/vars.env"), text);
                    k.push_str("  envs:\n  - vars.env\n");
                }
                if self.flag() {
                    k.push_str("  options:\n    disableNameSuffixHash: true\n    labels:\n      gen: \"1\"\n");
                }
            }
        }
        if self.flag() {
            let disable = self.flag();
            k.push_str(&format!(
                "generatorOptions:\n  disableNameSuffixHash: {disable}\n  annotations:\n    g: a\n"
            ));
        }
    }

    /// The files of the tree, relative to a fresh directory; the kustomization
    /// to build is `app/`.
    pub fn tree(mut self) -> Vec<(String, String)> {
        self.kustomization("app", 0, false);
        if self.flag() {
            self.files.push((
                "outside.yaml".to_owned(),
                RESOURCES
                    .first()
                    .map_or(String::new(), |r| r.replace("NAME", "outside")),
            ));
        }
        self.files
    }
}
