//! Escapes from the kustomization root: symlinks, `..`, absolute paths, non-regular files.

#[allow(unused_imports)]
use crate::harness::*;
