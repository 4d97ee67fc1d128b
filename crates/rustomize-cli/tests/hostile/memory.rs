//! Memory and depth bombs: alias expansion, nesting, growth; all bounded by the library's limits.

#[allow(unused_imports)]
use crate::harness::*;
