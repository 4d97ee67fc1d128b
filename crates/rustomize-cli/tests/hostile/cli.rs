//! CLI hygiene: closed pipes, atomic `-o`, one-line errors.

#[allow(unused_imports)]
use crate::harness::*;
