//! Image relocation: the pure mapping from an image reference to its place in a
//! private registry, and the per-image overrides file.
//!
//! This module owns the *what* of relocation (which reference becomes which);
//! [`crate::inventory`] owns the *where* (which fields of which resources hold
//! references, and which of them kustomize's images transformer reaches).
//!
//! Rules (documented for users in `docs/images.md`):
//!
//! * A reference is `[HOST[:PORT]/]PATH[:TAG][@DIGEST]`. Its first `/`-separated
//!   component is a host when it contains `.` or `:`, is `localhost`, or has an
//!   upper-case letter — the rule container runtimes use. Without a host it is
//!   resolved as the runtimes do: `nginx` is `docker.io/library/nginx`,
//!   `org/x` is `docker.io/org/x`; `index.docker.io` is `docker.io`.
//! * Relocated to `REGISTRY[/PREFIX]`, the reference becomes
//!   `REGISTRY/PREFIX/HOST/PATH`, its tag and digest kept. HOST is written as a
//!   path component can hold it: lower case, a port's `:` as `_`
//!   (`localhost:5000` → `localhost_5000`); an IPv6 host as `ipv6-` and its
//!   eight groups (`[::1]:5000` → `ipv6-0-0-0-0-0-0-0-1_5000`).
//! * With a digest tag, a reference pinned by digest (`name@sha256:…`, with or
//!   without a tag) becomes `name:DIGEST_TAG`: mirrors that cannot keep digests
//!   store the image under that tag.
//! * An override replaces the rule for one image (see [`Overrides`]).

use std::sync::OnceLock;

use regex::Regex;

/// An image reference split into its parts, as written (nothing resolved yet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageName {
    /// The host (`gcr.io`, `localhost:5000`), empty when the reference has none.
    pub host: String,
    /// The repository path (`library/nginx`, `ml-pipeline/api-server`).
    pub path: String,
    /// The tag, without `:`.
    pub tag: Option<String>,
    /// The digest (`sha256:…`), without `@`.
    pub digest: Option<String>,
}

/// The grammar of a reference, after the one container runtimes accept.
fn reference_grammar() -> Option<&'static Regex> {
    static GRAMMAR: OnceLock<Option<Regex>> = OnceLock::new();
    GRAMMAR
        .get_or_init(|| {
            let component = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
            let label = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
            // A host is a domain, or an IPv6 address in brackets; either may
            // have a port.
            let host = format!(r"(?:{label}(?:\.{label})*|\[[0-9A-Fa-f:.]+\])");
            let source = format!(
                r"^(?:({host}(?::[0-9]+)?)/)?({component}(?:/{component})*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}}))?$"
            );
            Regex::new(&source).ok()
        })
        .as_ref()
}

/// Whether the first path component `first` names a host rather than a
/// Docker Hub organisation.
fn is_host(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase())
}

/// An IPv6 host (`[::1]:5000`) as a path component can hold it: `ipv6-`, the
/// address's eight groups in hexadecimal joined by `-`, and `_PORT`
/// (`ipv6-0-0-0-0-0-0-0-1_5000`). `None` when the brackets hold no IPv6
/// address.
fn ipv6_component(host: &str) -> Option<String> {
    let inner = host.strip_prefix('[')?;
    let (address, rest) = inner.split_once(']')?;
    let address: std::net::Ipv6Addr = address.parse().ok()?;
    let groups: Vec<String> = address
        .segments()
        .iter()
        .map(|g| format!("{g:x}"))
        .collect();
    let mut out = format!("ipv6-{}", groups.join("-"));
    if let Some(port) = rest.strip_prefix(':') {
        out.push('_');
        out.push_str(port);
    }
    Some(out)
}

impl ImageName {
    /// Parses `reference`; `None` when it is not a valid image reference (a Go
    /// template, a bare word with upper-case letters, a URL, ...).
    pub fn parse(reference: &str) -> Option<ImageName> {
        let caps = reference_grammar()?.captures(reference)?;
        let text = |i: usize| caps.get(i).map(|m| m.as_str().to_owned());
        let mut host = text(1).unwrap_or_default();
        let mut path = text(2)?;
        // The grammar's optional host also matches a first component such as
        // `org` in `org/x`: only the runtimes' rule decides whether it is a host.
        if !host.is_empty() && !is_host(&host) {
            path = format!("{host}/{path}");
            host.clear();
        }
        if host.starts_with('[') && ipv6_component(&host).is_none() {
            return None;
        }
        Some(ImageName {
            host,
            path,
            tag: text(3),
            digest: text(4),
        })
    }

    /// Whether an `images:` entry of kustomize's can name this reference by
    /// its name. kustomize matches `^NAME(:tag)?(@sha256:digest)?$` with NAME
    /// read as a regular expression: an IPv6 host's brackets are a character
    /// class there (only a regex-escaped name matches), and a digest other
    /// than `sha256` matches no name (only the whole reference, digest
    /// included, written as the name). References of either kind are listed as
    /// beyond the transformer's reach, not relocated as if it reached them.
    pub fn transformer_nameable(&self) -> bool {
        !self.host.starts_with('[')
            && self
                .digest
                .as_deref()
                .is_none_or(|d| d.starts_with("sha256:"))
    }

    /// The name as written: host and path, without tag or digest.
    pub fn name(&self) -> String {
        if self.host.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.host, self.path)
        }
    }

    /// The fully qualified name, resolved as container runtimes resolve it
    /// (`nginx` → `docker.io/library/nginx`).
    pub fn qualified_name(&self) -> String {
        let host = match self.host.as_str() {
            "" | "index.docker.io" => "docker.io",
            other => other,
        };
        if host == "docker.io" && !self.path.contains('/') {
            format!("docker.io/library/{}", self.path)
        } else {
            format!("{host}/{}", self.path)
        }
    }

    /// The fully qualified reference: [`ImageName::qualified_name`] with the
    /// tag and digest (`nginx:1` → `docker.io/library/nginx:1`).
    pub fn qualified(&self) -> String {
        format!("{}{}", self.qualified_name(), self.suffix())
    }

    /// `:tag@digest` as far as present.
    fn suffix(&self) -> String {
        let mut out = String::new();
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
        out
    }

    /// The tag and digest suffix after relocation: a digest becomes the digest
    /// tag when one is given.
    fn relocated_suffix(&self, digest_tag: Option<&str>) -> String {
        match (digest_tag, &self.digest) {
            (Some(tag), Some(_)) => format!(":{tag}"),
            _ => self.suffix(),
        }
    }
}

/// Per-image overrides: one `SOURCE DESTINATION` pair a line.
///
/// * Blank lines and lines starting with `#` are ignored; the two fields are
///   separated by blanks.
/// * Names are compared fully qualified (`nginx` is `docker.io/library/nginx`).
/// * A SOURCE with a tag or digest matches exactly that reference;
///   DESTINATION is the whole new reference, used as it is.
/// * A SOURCE without tag or digest matches every reference of that name;
///   DESTINATION is the new name, and the
///   reference keeps its tag and digest (a digest still becomes the digest tag).
/// * The first matching line wins; exact references are tried before names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    exact: Vec<(String, String)>,
    names: Vec<(String, String)>,
}

impl Overrides {
    /// Parses an overrides file's text; errors name the line (1-based).
    pub fn parse(text: &str) -> Result<Overrides, (usize, String)> {
        let mut out = Overrides::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [source, destination] = fields.as_slice() else {
                return Err((
                    number,
                    format!(
                        "expected 'SOURCE DESTINATION', found {} fields",
                        fields.len()
                    ),
                ));
            };
            let Some(parsed_source) = ImageName::parse(source) else {
                return Err((number, format!("'{source}' is not an image reference")));
            };
            let Some(parsed_destination) = ImageName::parse(destination) else {
                return Err((number, format!("'{destination}' is not an image reference")));
            };
            let source_has_version = parsed_source.tag.is_some() || parsed_source.digest.is_some();
            // Sources are kept fully qualified: `nginx` and
            // `docker.io/library/nginx` are one image.
            let qualified = parsed_source.qualified_name();
            if source_has_version {
                out.exact.push((
                    format!("{qualified}{}", parsed_source.suffix()),
                    (*destination).to_owned(),
                ));
            } else if parsed_destination.tag.is_some() || parsed_destination.digest.is_some() {
                return Err((
                    number,
                    format!(
                        "'{source}' names every tag of an image, so its destination '{destination}' must be a name without tag or digest"
                    ),
                ));
            } else {
                out.names.push((qualified, (*destination).to_owned()));
            }
        }
        Ok(out)
    }

    /// Whether there are no overrides.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.names.is_empty()
    }
}

/// How references are relocated: the target registry, the digest tag and the
/// overrides. [`Relocation::relocate`] is the whole mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Relocation {
    /// `REGISTRY[/PREFIX]`, without a trailing `/`; `None` leaves every image
    /// without an override where it is.
    registry: Option<String>,
    /// The tag that replaces digests.
    digest_tag: Option<String>,
    /// Per-image overrides.
    overrides: Overrides,
}

impl Relocation {
    /// A relocation to `registry` (`REGISTRY[/PREFIX]`), checked: its first
    /// component must be a host (`reg.example:8080`, `localhost:5000`), or a
    /// runtime would read it as a Docker Hub organisation.
    pub fn new(
        registry: Option<&str>,
        digest_tag: Option<&str>,
        overrides: Overrides,
    ) -> Result<Relocation, String> {
        let registry = match registry {
            None => None,
            Some(text) => {
                let trimmed = text.trim_end_matches('/');
                let probe = ImageName::parse(&format!("{trimmed}/x"));
                match probe {
                    Some(p) if !p.host.is_empty() && p.tag.is_none() && p.digest.is_none() => {
                        Some(trimmed.to_owned())
                    }
                    _ => {
                        return Err(format!(
                            "--relocate-images '{text}': expected REGISTRY[/PREFIX] with a registry host such as 'reg.example:8080' or 'localhost:5000'"
                        ))
                    }
                }
            }
        };
        if let Some(tag) = digest_tag {
            let valid = ImageName::parse(&format!("x:{tag}")).is_some_and(|p| p.tag.is_some());
            if !valid {
                return Err(format!("--digest-tag '{tag}': not a valid image tag"));
            }
        }
        Ok(Relocation {
            registry,
            digest_tag: digest_tag.map(str::to_owned),
            overrides,
        })
    }

    /// Whether the relocation changes nothing at all.
    pub fn is_identity(&self) -> bool {
        self.registry.is_none() && self.digest_tag.is_none() && self.overrides.is_empty()
    }

    /// The relocated form of `reference`, or `None` when it stays as it is (it
    /// is not a valid reference, or nothing applies to it).
    pub fn relocate(&self, reference: &str) -> Option<String> {
        let image = ImageName::parse(reference)?;
        let qualified = image.qualified_name();
        let full_qualified = format!("{qualified}{}", image.suffix());
        let digest_tag = self.digest_tag.as_deref();
        let new = if let Some((_, destination)) = self
            .overrides
            .exact
            .iter()
            .find(|(source, _)| *source == full_qualified)
        {
            destination.clone()
        } else if let Some((_, destination)) = self
            .overrides
            .names
            .iter()
            .find(|(source, _)| *source == qualified)
        {
            format!("{destination}{}", image.relocated_suffix(digest_tag))
        } else if let Some(registry) = &self.registry {
            // A path component cannot hold `:` or upper case: `localhost:5000`
            // becomes `localhost_5000` (no host name contains `_`).
            let qualified = match qualified.split_once('/') {
                Some((host, path)) if host.starts_with('[') => {
                    format!("{}/{path}", ipv6_component(host)?)
                }
                Some((host, path)) => {
                    format!("{}/{path}", host.to_ascii_lowercase().replace(':', "_"))
                }
                None => qualified,
            };
            format!(
                "{registry}/{qualified}{}",
                image.relocated_suffix(digest_tag)
            )
        } else {
            format!("{}{}", image.name(), image.relocated_suffix(digest_tag))
        };
        (new != reference).then_some(new)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn relocation(registry: &str, digest_tag: Option<&str>) -> Relocation {
        Relocation::new(Some(registry), digest_tag, Overrides::default()).unwrap()
    }

    #[test]
    fn the_issues_worked_example() {
        let r = relocation("reg.example:8080/library", Some("kf-manifests-1.4.1"));
        assert_eq!(
            r.relocate("gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter@sha256:0e25aa1613a3a1779b3f7b7f863e651e5f37520a7f6808ccad2164cc2b6a9b12")
                .as_deref(),
            Some("reg.example:8080/library/gcr.io/knative-releases/knative.dev/eventing/cmd/broker/filter:kf-manifests-1.4.1")
        );
    }

    #[test]
    fn names_without_a_host_resolve_like_runtimes() {
        let r = relocation("reg.example/mirror/", None);
        let cases = [
            ("nginx", "reg.example/mirror/docker.io/library/nginx"),
            (
                "nginx:1.2",
                "reg.example/mirror/docker.io/library/nginx:1.2",
            ),
            ("org/x:1", "reg.example/mirror/docker.io/org/x:1"),
            (
                "docker.io/nginx",
                "reg.example/mirror/docker.io/library/nginx",
            ),
            (
                "index.docker.io/org/x",
                "reg.example/mirror/docker.io/org/x",
            ),
            ("localhost/x", "reg.example/mirror/localhost/x"),
            (
                "localhost:5000/a/b:c",
                "reg.example/mirror/localhost_5000/a/b:c",
            ),
            ("My.Registry:443/a", "reg.example/mirror/my.registry_443/a"),
            (
                "[::1]:5000/x:1",
                "reg.example/mirror/ipv6-0-0-0-0-0-0-0-1_5000/x:1",
            ),
            (
                "[FE80::a]/y",
                "reg.example/mirror/ipv6-fe80-0-0-0-0-0-0-a/y",
            ),
            (
                "quay.io/a/b:1@sha256:0123456789abcdef0123456789abcdef",
                "reg.example/mirror/quay.io/a/b:1@sha256:0123456789abcdef0123456789abcdef",
            ),
        ];
        for (from, to) in cases {
            assert_eq!(r.relocate(from).as_deref(), Some(to), "{from}");
        }
    }

    #[test]
    fn digest_tag_replaces_digests_only() {
        let r = relocation("r.io", Some("t1"));
        let digest = "sha256:0123456789abcdef0123456789abcdef";
        assert_eq!(
            r.relocate(&format!("a/b:1@{digest}")).as_deref(),
            Some("r.io/docker.io/a/b:t1")
        );
        assert_eq!(r.relocate("a/b:1").as_deref(), Some("r.io/docker.io/a/b:1"));
        let only_tag = Relocation::new(None, Some("t1"), Overrides::default()).unwrap();
        assert_eq!(
            only_tag.relocate(&format!("a@{digest}")).as_deref(),
            Some("a:t1")
        );
        assert_eq!(only_tag.relocate("a:2"), None);
    }

    #[test]
    fn invalid_references_stay() {
        let r = relocation("r.io", None);
        for text in [
            "{{ .Values.image }}",
            "Nginx",
            "http://x.io/a",
            "",
            "a b",
            "a:",
            "[not:v6]/x",
            "[::1/x",
        ] {
            assert_eq!(r.relocate(text), None, "{text}");
        }
    }

    #[test]
    fn what_an_images_name_can_match() {
        let nameable = |r: &str| ImageName::parse(r).unwrap().transformer_nameable();
        assert!(nameable(
            "quay.io/a:1@sha256:0123456789abcdef0123456789abcdef"
        ));
        assert!(nameable("localhost:5000/a"));
        assert!(!nameable("[::1]:5000/a:1"));
        assert!(!nameable(
            "quay.io/a@sha512:0123456789abcdef0123456789abcdef"
        ));
    }

    #[test]
    fn registries_need_a_host() {
        assert!(Relocation::new(Some("mirror"), None, Overrides::default()).is_err());
        assert!(Relocation::new(Some("mirror/x"), None, Overrides::default()).is_err());
        assert!(Relocation::new(Some("r.io:x"), None, Overrides::default()).is_err());
        assert!(Relocation::new(Some("localhost:5000"), None, Overrides::default()).is_ok());
        assert!(Relocation::new(Some("r.io"), Some("bad tag"), Overrides::default()).is_err());
    }

    #[test]
    fn overrides() {
        let text = "# comment\n\nnginx my.io/web\nquay.io/a/b:1 other.io/b:2@sha256:0123456789abcdef0123456789abcdef\n";
        let o = Overrides::parse(text).unwrap();
        let r = Relocation::new(Some("r.io"), Some("dt"), o).unwrap();
        assert_eq!(r.relocate("nginx:1").as_deref(), Some("my.io/web:1"));
        assert_eq!(
            r.relocate("docker.io/library/nginx").as_deref(),
            Some("my.io/web")
        );
        assert_eq!(
            r.relocate("nginx@sha256:0123456789abcdef0123456789abcdef")
                .as_deref(),
            Some("my.io/web:dt")
        );
        assert_eq!(
            r.relocate("quay.io/a/b:1").as_deref(),
            Some("other.io/b:2@sha256:0123456789abcdef0123456789abcdef")
        );
        assert_eq!(
            r.relocate("quay.io/a/b:2").as_deref(),
            Some("r.io/quay.io/a/b:2")
        );
        assert_eq!(Overrides::parse("a b c").unwrap_err().0, 1);
        assert!(Overrides::parse("\nnginx my.io/web:1")
            .unwrap_err()
            .1
            .contains("must be a name"));
        assert!(Overrides::parse("nginx {{x}}").is_err());
    }
}
