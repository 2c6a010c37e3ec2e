//! Which rows are visible: collapsed subtrees skipped, filters and "only the path to errors" applied.
//!
//! Works on the pre-order columns of [`Rows`]: a row's descendants are `row+1..subtree_end`, so every
//! function here is one linear pass (100k rows in about a millisecond).

use crate::view::state::ViewState;
use crate::view::types::{PinView, Rows};

/// The visible rows of a view, in display order: the one computation shared by the server (first
/// screen) and the page (every row). Collapsed subtrees (`vs.collapsed`) are skipped; with a filter
/// (`matches`, absolute rows) only matching rows and their ancestors are shown; with `vs.errors_only`
/// only the paths to `pin_rows`. `rows` must be a full set (`index[i] == i`).
pub fn visible_rows(
    rows: &Rows,
    vs: &ViewState,
    matches: Option<&[u32]>,
    pin_rows: &[u32],
) -> Vec<u32> {
    let collapsed: Vec<bool> = (0..rows.len())
        .map(|i| vs.collapsed.binary_search(&rows.short_id(i)).is_ok())
        .collect();
    let keep = match (matches, vs.errors_only) {
        (Some(m), _) => Some(with_ancestors(rows, m)),
        (None, true) => Some(with_ancestors(rows, pin_rows)),
        (None, false) => None,
    };
    visible(rows, &collapsed, keep.as_deref())
}

/// The selected row of a view: the pin of the selected event, else the selected span. `rows` may be
/// a subset (the first screen) or every row.
pub fn selected_row(rows: &Rows, pins: &[PinView], vs: &ViewState) -> Option<u32> {
    if let Some(e) = &vs.event {
        if let Some(p) = pins.iter().find(|p| p.event_id == *e) {
            return Some(p.row);
        }
    }
    let want = u64::from_str_radix(vs.span.as_deref()?, 16).ok()?;
    rows.span_id
        .iter()
        .position(|s| *s == want)
        .and_then(|p| rows.index.get(p).copied())
}

/// Marks each row in `hits` (absolute rows) and all its ancestors; returns a keep mask of `rows.len()`.
///
/// `rows` must be a full set (`index[i] == i`).
pub fn with_ancestors(rows: &Rows, hits: &[u32]) -> Vec<bool> {
    let n = rows.len();
    let mut hit = vec![false; n];
    for h in hits {
        if let Some(x) = hit.get_mut(*h as usize) {
            *x = true;
        }
    }
    let mut keep = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    for i in 0..n {
        while let Some(&top) = stack.last() {
            if (rows.subtree_end[top] as usize) <= i {
                stack.pop();
            } else {
                break;
            }
        }
        if hit[i] {
            keep[i] = true;
            for &a in stack.iter().rev() {
                if keep[a] {
                    break;
                }
                keep[a] = true;
            }
        }
        stack.push(i);
    }
    keep
}

/// The visible rows in display order.
///
/// `collapsed[i]` hides the descendants of row `i`; `keep`, when given, hides rows not marked (their
/// descendants are still considered).
pub fn visible(rows: &Rows, collapsed: &[bool], keep: Option<&[bool]>) -> Vec<u32> {
    let n = rows.len();
    let mut out = Vec::with_capacity(n.min(1 << 16));
    let mut i = 0;
    while i < n {
        let shown = keep.is_none_or(|k| k.get(i).copied().unwrap_or(false));
        if shown {
            out.push(i as u32);
            if collapsed.get(i).copied().unwrap_or(false) {
                i = (rows.subtree_end[i] as usize).max(i + 1);
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Number of pins hidden inside the collapsed subtree of `row`; `pin_rows` sorted ascending.
pub fn hidden_pins(rows: &Rows, row: u32, pin_rows: &[u32]) -> usize {
    let Some(p) = rows.pos(row) else {
        return 0;
    };
    let end = rows.subtree_end[p];
    let lo = pin_rows.partition_point(|r| *r <= row);
    let hi = pin_rows.partition_point(|r| *r < end);
    hi.saturating_sub(lo)
}

/// Absolute row of the nearest ancestor (or the row itself) that is visible, given the visible list.
pub fn visible_ancestor(rows: &Rows, row: u32, visible_sorted_by_row: &[u32]) -> Option<u32> {
    // The deepest visible row whose subtree contains `row`.
    let upto = visible_sorted_by_row.partition_point(|r| *r <= row);
    visible_sorted_by_row[..upto]
        .iter()
        .rev()
        .copied()
        .find(|a| {
            rows.pos(*a)
                .is_some_and(|p| *a == row || rows.subtree_end[p] > row)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny tree from (depth) per row; builds subtree_end.
    fn tree(depths: &[u16]) -> Rows {
        let n = depths.len();
        let mut subtree_end = vec![n as u32; n];
        for i in 0..n {
            for j in i + 1..n {
                if depths[j] <= depths[i] {
                    subtree_end[i] = j as u32;
                    break;
                }
            }
        }
        Rows {
            index: (0..n as u32).collect(),
            names: (0..n).map(|i| format!("s{i}")).collect(),
            name: (0..n as u32).collect(),
            service: vec![0; n],
            depth: depths.to_vec(),
            subtree_end,
            start: vec![0; n],
            dur: vec![1; n],
            flags: vec![0; n],
            span_id: (0..n as u64).collect(),
        }
    }

    //  0 root
    //  1   a
    //  2     a1
    //  3     a2
    //  4   b
    //  5     b1
    fn sample() -> Rows {
        tree(&[0, 1, 2, 2, 1, 2])
    }

    #[test]
    fn collapse_skips_subtree() {
        let r = sample();
        let mut collapsed = vec![false; r.len()];
        assert_eq!(visible(&r, &collapsed, None), vec![0, 1, 2, 3, 4, 5]);
        collapsed[1] = true;
        assert_eq!(visible(&r, &collapsed, None), vec![0, 1, 4, 5]);
        collapsed[0] = true;
        assert_eq!(visible(&r, &collapsed, None), vec![0]);
    }

    #[test]
    fn filter_keeps_ancestors() {
        let r = sample();
        let keep = with_ancestors(&r, &[3, 5]);
        assert_eq!(keep, vec![true, true, false, true, true, true]);
        let collapsed = vec![false; r.len()];
        assert_eq!(visible(&r, &collapsed, Some(&keep)), vec![0, 1, 3, 4, 5]);
    }

    #[test]
    fn hidden_pin_count_and_ancestor() {
        let r = sample();
        let pins = [2, 3, 3, 5];
        assert_eq!(hidden_pins(&r, 1, &pins), 3);
        assert_eq!(hidden_pins(&r, 4, &pins), 1);
        assert_eq!(hidden_pins(&r, 0, &pins), 4);
        assert_eq!(visible_ancestor(&r, 3, &[0, 1, 4, 5]), Some(1));
        assert_eq!(visible_ancestor(&r, 5, &[0, 1, 4, 5]), Some(5));
    }
}
