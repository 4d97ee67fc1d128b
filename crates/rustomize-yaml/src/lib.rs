//! YAML for rustomize: the data model ([`Value`]), the reader ([`parse_documents`])
//! and the writer ([`write_document`]) whose output is byte-identical to what
//! `kustomize build` prints.
//!
//! The pipeline of a document is: text → events (saphyr-parser) → [`Value`] typed
//! the way kustomize's reader types scalars → transformers → [`write_document`],
//! which reproduces the go-yaml v2 emitter that kustomize prints through (sorted
//! keys, unindented sequences, 80-column folding, YAML 1.1-aware quoting).
#![deny(missing_docs)]

mod breaks;
mod fast;
mod reader;
pub mod stack;
mod text;
mod timestamp;
mod value;
mod writer;

pub use reader::{parse_documents, ParseError, ParseLimits, KUSTOMIZE_MAX_DEPTH, NODE_BYTES};
#[doc(hidden)]
pub use reader::{parse_documents_fast, parse_documents_fast_saphyr, parse_documents_reference};
pub use text::{decode_text, excerpt};
pub use value::{Map, MapHasher, Value};
pub use writer::{format_go_float, write_document, write_documents, write_documents_parallel};

/// How a plain (unquoted, untagged) scalar with this text reads: null, bool,
/// number or string, as the reader types it. Transformers that write text into
/// an untyped node (kustomize's replacements) need this.
pub fn resolve_plain(text: &str) -> Value {
    reader::resolve_plain(std::borrow::Cow::Borrowed(text))
}
