//! Hostile patches: JSON 6902 and strategic merge edge cases, growth bombs, selector regexes.

#[allow(unused_imports)]
use crate::harness::*;
