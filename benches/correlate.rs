//! Placeholder replaced by the correlation benches.
fn main() {}
