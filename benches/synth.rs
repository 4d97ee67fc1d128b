//! The synthetic, overlay-heavy kustomization tree of the scaling benchmark
//! (`benches/scale.rs`, `benches/scale.sh`): a pure function of N, the number
//! of resources the build prints (rounded up to a multiple of 8).
//!
//! Layout under the output directory (the top directory is the root):
//!
//! ```text
//! kustomization.yaml          namePrefix prod-, labels env: prod, images newName,
//!                             every group below as a resource
//! groups/gNNN/                one overlay per 100 apps: namePrefix gNNN-,
//!   kustomization.yaml        namespace team-NNN, labels, annotations, a
//!   deployment-patch.yaml     strategic-merge patch over every Deployment
//!                             (patches with target kind), JSON 6902 patches
//!                             (inline over every Service, from a file over one
//!                             Deployment), configMapGenerator/secretGenerator
//!                             per app, a var, a replacement, images, replicas
//! bases/gNNN/                 the apps of the group in one file: per app a
//!   kustomization.yaml        Deployment, Service, ConfigMap, ServiceAccount,
//!   apps.yaml                 Role and RoleBinding referring to each other
//! ```
//!
//! Each app prints 8 resources (its 6 base resources and 2 generated ones).
//! Names, data and order are deterministic, so outputs can be compared
//! byte for byte across tools and runs.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

/// Apps per group overlay.
pub const APPS_PER_GROUP: usize = 100;
/// Resources each app prints.
pub const RESOURCES_PER_APP: usize = 8;

/// Writes the tree of (at least) `n` resources into `dir` (created; files
/// already there are overwritten). Returns the number of resources the build
/// prints.
pub fn write_tree(dir: &Path, n: usize) -> io::Result<usize> {
    let apps = n.div_ceil(RESOURCES_PER_APP).max(1);
    let groups = apps.div_ceil(APPS_PER_GROUP);
    std::fs::create_dir_all(dir)?;
    let mut top = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamePrefix: prod-\n\
         labels:\n- pairs:\n    env: prod\n  includeSelectors: false\n\
         images:\n- name: example/app\n  newName: registry.example.com/example/app\nresources:\n",
    );
    for g in 0..groups {
        let first = g * APPS_PER_GROUP;
        let count = APPS_PER_GROUP.min(apps - first);
        writeln!(top, "- groups/g{g:03}").ok();
        let base = dir.join(format!("bases/g{g:03}"));
        std::fs::create_dir_all(&base)?;
        std::fs::write(base.join("kustomization.yaml"), "resources:\n- apps.yaml\n")?;
        std::fs::write(base.join("apps.yaml"), base_apps(g, first, count))?;
        let group = dir.join(format!("groups/g{g:03}"));
        std::fs::create_dir_all(&group)?;
        std::fs::write(
            group.join("kustomization.yaml"),
            group_overlay(g, first, count),
        )?;
        std::fs::write(
            group.join("deployment-patch.yaml"),
            "- op: replace\n  path: /spec/template/spec/containers/0/imagePullPolicy\n  value: Always\n",
        )?;
    }
    std::fs::write(dir.join("kustomization.yaml"), top)?;
    Ok(apps * RESOURCES_PER_APP)
}

/// The base resources of apps `first..first + count` of group `g`, one stream.
fn base_apps(g: usize, first: usize, count: usize) -> String {
    let mut s = String::new();
    for i in first..first + count {
        let app = format!("app-{i}");
        write!(
            s,
            "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  labels:
    app: {app}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
    spec:
      serviceAccountName: {app}
      containers:
      - name: main
        image: example/app:1.0
        imagePullPolicy: IfNotPresent
        args:
        - --peer=$(G{g}_FIRST_SERVICE)
        ports:
        - containerPort: 8080
        envFrom:
        - configMapRef:
            name: {app}-config
        - secretRef:
            name: {app}-secret
        volumeMounts:
        - name: files
          mountPath: /etc/app
      volumes:
      - name: files
        configMap:
          name: {app}-files
---
apiVersion: v1
kind: Service
metadata:
  name: {app}
spec:
  selector:
    app: {app}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {app}-config
data:
  MODE: mode-{i}
  PEER: {app}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {app}
rules:
- apiGroups: [\"\"]
  resources: [configmaps]
  resourceNames: [{app}-config]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {app}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {app}
subjects:
- kind: ServiceAccount
  name: {app}
---
"
        )
        .ok();
    }
    s
}

/// The overlay of group `g` over apps `first..first + count`.
fn group_overlay(g: usize, first: usize, count: usize) -> String {
    let mut s = format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namePrefix: g{g:03}-
namespace: team-{g:03}
labels:
- pairs:
    group: g{g:03}
  includeSelectors: true
commonAnnotations:
  owner: team-{g:03}
resources:
- ../../bases/g{g:03}
patches:
- target:
    kind: Deployment
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: any
    spec:
      template:
        spec:
          containers:
          - name: main
            resources:
              limits:
                cpu: 100m
                memory: 128Mi
- target:
    kind: Service
  patch: |-
    - op: add
      path: /spec/type
      value: ClusterIP
- target:
    kind: Deployment
    name: app-{first}
  path: deployment-patch.yaml
images:
- name: example/app
  newTag: \"2.{g}\"
replicas:
- name: app-{first}
  count: 3
vars:
- name: G{g}_FIRST_SERVICE
  objref:
    apiVersion: v1
    kind: Service
    name: app-{first}
  fieldref:
    fieldpath: metadata.name
replacements:
- source:
    kind: ConfigMap
    name: app-{first}-config
    fieldPath: data.MODE
  targets:
  - select:
      kind: Deployment
    fieldPaths:
    - spec.template.metadata.annotations.mode
    options:
      create: true
configMapGenerator:
"
    );
    for i in first..first + count {
        write!(
            s,
            "- name: app-{i}-files
  literals:
  - app.conf=peer=app-{first}
  - index={i}
"
        )
        .ok();
    }
    s.push_str("secretGenerator:\n");
    for i in first..first + count {
        write!(
            s,
            "- name: app-{i}-secret
  literals:
  - TOKEN=token-{i}
"
        )
        .ok();
    }
    s
}
