//! Valid input kustomize builds that we must read and render the same way.

#[allow(unused_imports)]
use crate::harness::*;
