//! Errors that must name their cause (file, field, why) in one short line.

#[allow(unused_imports)]
use crate::harness::*;
