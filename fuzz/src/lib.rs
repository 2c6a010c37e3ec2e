//! Checks shared by the fuzz targets in `fuzz_targets/`.
//!
//! Every target feeds untrusted bytes or text to one public entry point of tracepin and asserts only
//! what the code promises in its docs: decoders return a value or an error that can be shown, the
//! correlator places every event exactly once and keeps its trees in pre-order, the recogniser's
//! answers survive being rendered as a link and read again, and the view state survives its query
//! string. A panic anywhere (overflow checks and debug assertions are on) is a finding.

use tracepin::connectors::formats::{Decoded, FormatError};
use tracepin::correlate::{correlate, Correlation, Options};
use tracepin::domain::{ErrorEvent, Span, Trace};

/// What separates the trace payload from the events payload in the `correlate` target's input.
pub const SEPARATOR: &[u8] = b"\n--tracepin-fuzz--\n";

/// Checks a decoder's answer: an error renders to a non-empty sentence; decoded spans and events go
/// through the correlator, whose invariants are checked.
pub fn check_decoded(result: Result<Decoded, FormatError>) {
    match result {
        Ok(decoded) => {
            let (spans, events) = split(decoded);
            check_correlation(&correlate(spans, events, &Options::default()));
        }
        Err(e) => assert!(!e.to_string().is_empty(), "an empty error message: {e:?}"),
    }
}

/// The spans or the events a payload held.
pub fn split(decoded: Decoded) -> (Vec<Span>, Vec<ErrorEvent>) {
    match decoded {
        Decoded::Trace(t) => (t.spans, Vec::new()),
        Decoded::Events { events, .. } => (Vec::new(), events),
    }
}

/// The correlator's promises: every event appears exactly once (pinned, unplaced in a timeline, or
/// unplaced at the top level), and every assembled trace is in pre-order with consistent subtrees.
pub fn check_correlation(c: &Correlation) {
    let mut seen = vec![0u32; c.events.len()];
    let mut count = |i: usize| match seen.get_mut(i) {
        Some(n) => *n += 1,
        None => panic!("event index {i} out of range ({} events)", c.events.len()),
    };
    for t in &c.timelines {
        t.pins.iter().for_each(|p| count(p.event));
        t.unplaced.iter().for_each(|u| count(u.event));
        check_pre_order(&t.trace);
    }
    c.unplaced.iter().for_each(|u| count(u.event));
    assert!(
        seen.iter().all(|&n| n == 1),
        "every event must appear exactly once: {seen:?}"
    );
}

/// Rows `i+1..subtree_end` are row `i`'s descendants; parents come before their children.
pub fn check_pre_order(t: &Trace) {
    let n = t.nodes.len();
    assert_eq!(n, t.spans.len(), "nodes and spans differ in length");
    for (i, node) in t.nodes.iter().enumerate() {
        let end = node.subtree_end as usize;
        assert!(i < end && end <= n, "row {i}: subtree_end {end} of {n}");
        match node.parent {
            Some(p) => {
                let p = p as usize;
                assert!(p < i, "row {i}: parent {p} after it");
                let parent = &t.nodes[p];
                assert!(
                    end <= parent.subtree_end as usize,
                    "row {i}: outside its parent's subtree"
                );
                assert_eq!(node.depth, parent.depth + 1, "row {i}: depth");
            }
            None => assert_eq!(node.depth, 0, "row {i}: a top-level row with depth"),
        }
    }
}
