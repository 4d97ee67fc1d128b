//! YAML for rustomize: the data model ([`Value`]), the reader ([`parse_documents`])
//! and the writer ([`write_document`]) whose output is byte-identical to what
//! `kustomize build` prints.
//!
//! The pipeline of a document is: text → events (saphyr-parser) → [`Value`] typed
//! the way kustomize's reader types scalars → transformers → [`write_document`],
//! which reproduces the go-yaml v2 emitter that kustomize prints through (sorted
//! keys, unindented sequences, 80-column folding, YAML 1.1-aware quoting).
//!
//! # Cargo features
//!
//! `serde`: [`Value`] implements `serde::Serialize` and `serde::Deserialize`,
//! and converts to and from `serde_json::Value` (`From` both ways), so that
//! embedders can hand resources to typed Kubernetes structs (`k8s-openapi`,
//! `kube`) and back.
//!
//! How the data maps, both ways, for serde and for `serde_json::Value`:
//!
//! | `Value` | serde / JSON |
//! |---|---|
//! | `Null`, `Empty` | unit / `null` (reading gives `Null`) |
//! | `Bool` | bool |
//! | `Int(i64)` | `i64` (reading: every integer that fits in `i64`) |
//! | `Uint(u64)` | `u64` (reading: integers above `i64::MAX` only) |
//! | `Float(f64)` | `f64`; JSON has no NaN or infinities: they become `null` (as `serde_json::to_value` does) |
//! | `String` | string |
//! | `Seq` | sequence / array |
//! | `Map` | map / object, in insertion order |
//!
//! Keys are always strings in a [`Value`]. Reading a map whose keys are
//! integers or booleans (a format other than JSON may have them) keys it by
//! their text (`1`, `true`), as kustomize's JSON round trip would; other
//! keys (floats, sequences, ...) are an error. 128-bit integers and bytes are
//! errors too.
#![deny(missing_docs)]

mod breaks;
mod fast;
pub mod map;
mod ordered;
mod reader;
#[cfg(feature = "serde")]
mod serde_impls;
pub mod stack;
mod text;
mod timestamp;
mod value;
mod writer;

/// The README's example, compiled as a doctest so it never goes stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use map::{Map, MapHasher};
pub use ordered::{
    write_documents_on, write_documents_taking, write_documents_to, SpawnedThreads, WorkerThreads,
};
pub use reader::{parse_documents, ParseError, ParseLimits, KUSTOMIZE_MAX_DEPTH, NODE_BYTES};
#[doc(hidden)]
pub use reader::{parse_documents_fast, parse_documents_fast_saphyr, parse_documents_reference};
pub use text::{decode_text, excerpt};
pub use value::{Str, Value};
pub use writer::{
    format_go_float, go_sort, write_document, write_document_to, write_documents,
    write_documents_parallel,
};

/// How a plain (unquoted, untagged) scalar with this text reads: null, bool,
/// number or string, as the reader types it. Transformers that write text into
/// an untyped node (kustomize's replacements) need this.
pub fn resolve_plain(text: &str) -> Value {
    reader::resolve_plain(std::borrow::Cow::Borrowed(text))
}
