//! The `rustomize` command.
fn main() {}
