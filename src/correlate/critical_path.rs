//! Critical path: the chain of spans that determines when the trace ends.
//!
//! Jaeger-style: start at the top-level row that ends last; walking back from its end, take the child
//! that finished last before the current point, recurse into it, continue from that child's start, and
//! count the gaps between children as the parent's own time. Children that overlap a later critical
//! child ran in parallel and are skipped. Works on skew-adjusted times with children clamped into their
//! parent's range, so a skewed service cannot break the walk. Iterative, `O(n log n)`.

use serde::{Deserialize, Serialize};

use super::skew::Skew;
use crate::domain::Trace;

/// One stretch of the critical path spent in a span's own code (adjusted Unix ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The row.
    pub row: usize,
    /// Start of the stretch.
    pub start_ns: u64,
    /// End of the stretch.
    pub end_ns: u64,
}

/// Adjusted times with every child clamped into its parent's (clamped) range.
fn clamped_times(trace: &Trace, skew: &Skew) -> Vec<(u64, u64)> {
    let mut times: Vec<(u64, u64)> = Vec::with_capacity(trace.spans.len());
    for (row, (span, node)) in trace.spans.iter().zip(&trace.nodes).enumerate() {
        let mut s = skew.adjusted(row, span.start_ns);
        let mut e = skew.adjusted(row, span.end_ns).max(s);
        if let Some(&(ps, pe)) = node.parent.and_then(|p| times.get(p as usize)) {
            s = s.clamp(ps, pe);
            e = e.clamp(s, pe);
        }
        times.push((s, e));
    }
    times
}

/// The critical path as stretches of own time, latest first.
pub fn segments(trace: &Trace, skew: &Skew) -> Vec<Segment> {
    let mut out = Vec::new();
    walk(trace, skew, |_| {}, |s| out.push(s));
    out
}

/// Rows on the critical path, ascending (pre-order), each once.
pub fn critical_path(trace: &Trace, skew: &Skew) -> Vec<usize> {
    let mut on_path = vec![false; trace.spans.len()];
    walk(
        trace,
        skew,
        |row| {
            if let Some(m) = on_path.get_mut(row) {
                *m = true;
            }
        },
        |_| {},
    );
    on_path
        .iter()
        .enumerate()
        .filter(|(_, &m)| m)
        .map(|(row, _)| row)
        .collect()
}

/// Walks the critical path, calling `on_row` for each row on it and `emit` for each stretch of own
/// time (a row whose time is all covered by critical children has none).
fn walk(trace: &Trace, skew: &Skew, mut on_row: impl FnMut(usize), mut emit: impl FnMut(Segment)) {
    let n = trace.nodes.len().min(trace.spans.len());
    if n == 0 {
        return;
    }
    let times = clamped_times(trace, skew);
    // Children in CSR form (pre-order keeps them grouped by parent only per parent; count first).
    let mut count = vec![0usize; n + 1];
    for node in trace.nodes.iter().take(n) {
        if let Some(p) = node.parent.map(|p| p as usize).filter(|&p| p < n) {
            count[p] += 1;
        }
    }
    let mut offsets = vec![0usize; n + 1];
    for i in 0..n {
        offsets[i + 1] = offsets[i] + count[i];
    }
    let mut fill = offsets.clone();
    let mut children = vec![0usize; offsets[n]];
    for (row, node) in trace.nodes.iter().enumerate().take(n) {
        if let Some(p) = node.parent.map(|p| p as usize).filter(|&p| p < n) {
            children[fill[p]] = row;
            fill[p] += 1;
        }
    }
    let end_of = |r: usize| times.get(r).map_or(0, |t| t.1);
    let start_of = |r: usize| times.get(r).map_or(0, |t| t.0);
    let Some(top) = trace
        .nodes
        .iter()
        .take(n)
        .enumerate()
        .filter(|(_, node)| node.parent.is_none())
        .map(|(row, _)| row)
        .max_by_key(|&row| (end_of(row), std::cmp::Reverse(row)))
    else {
        return;
    };

    let mut work: Vec<(usize, u64)> = vec![(top, end_of(top))];
    let mut kids: Vec<usize> = Vec::new();
    while let Some((row, barrier)) = work.pop() {
        on_row(row);
        let own_start = start_of(row);
        let mut cur = end_of(row).min(barrier);
        kids.clear();
        if let Some(slice) = children.get(offsets[row]..offsets[row + 1]) {
            kids.extend_from_slice(slice);
        }
        // Last-finishing first; among equal ends the later start (shorter) first.
        kids.sort_by_key(|&c| std::cmp::Reverse((end_of(c), start_of(c), c)));
        let mut next = 0;
        loop {
            while kids.get(next).is_some_and(|&c| end_of(c) > cur) {
                next += 1;
            }
            let Some(&child) = kids.get(next) else {
                emit(Segment {
                    row,
                    start_ns: own_start,
                    end_ns: cur,
                });
                break;
            };
            next += 1;
            if end_of(child) < cur {
                emit(Segment {
                    row,
                    start_ns: end_of(child),
                    end_ns: cur,
                });
            }
            work.push((child, cur));
            cur = start_of(child);
            if cur <= own_start {
                break;
            }
        }
    }
}
