//! A comparison as the CLI prints it: stable JSON, or text (the findings, then an ASCII waterfall with
//! each row's marks and the ghost rows in place). Shared by `tracepin compare`, the JSON export and the
//! page's badges (`badges`).
//!
//! JSON shape (stable; fields may be added, not renamed): `{"trace_id", "baselines": {"count",
//! "trace_ids"}, "first_divergence": {"text", "span_id"|null, "ghost"|null}, "findings": [{"kind",
//! "text", "service", "name", "span_ids", "ghost"}], "rows": [{"span_id", "service", "name", "marks",
//! "duration_ns", "p50_ns", "p90_ns", "count", "usual", "presence"}] (marked rows only), "ghosts":
//! [{"service", "name", "parent_span_id"|null, "parent_ghost"|null, "depth", "presence", "usual",
//! "offset_ns", "p50_ns"}]}`.

use serde_json::{json, Value};

use super::findings::{duration, times};
use super::{Comparison, GhostParent, RowDiff, ERRORED, NEW, REPEATED, SLOWER};
use crate::domain::{Trace, TraceId};

/// The marks of a row as words: `errored`, `new`, `repeated`, `slower`.
pub fn mark_words(marks: u8) -> Vec<&'static str> {
    [
        (ERRORED, "errored"),
        (NEW, "new"),
        (REPEATED, "repeated"),
        (SLOWER, "slower"),
    ]
    .iter()
    .filter(|(m, _)| marks & m != 0)
    .map(|(_, w)| *w)
    .collect()
}

/// Short badges for a row with duration `dur_ns`: `failed`, `new`, `3rd of 3 (usually 1)`,
/// `2.8× p90`.
pub fn badges(d: &RowDiff, dur_ns: u64) -> Vec<String> {
    let mut out = Vec::new();
    if d.marks & ERRORED != 0 {
        out.push("failed".to_owned());
    }
    if d.marks & NEW != 0 {
        out.push("new".to_owned());
    }
    if d.marks & REPEATED != 0 {
        out.push(format!(
            "call {} of {} (usually {})",
            d.occurrence,
            d.count,
            times(d.usual)
        ));
    }
    if d.marks & SLOWER != 0 {
        out.push(format!(
            "{:.1}× p90",
            dur_ns as f64 / d.p90_ns.max(1) as f64
        ));
    }
    out
}

/// The stable JSON report of a comparison.
pub fn to_json(failing: &Trace, c: &Comparison, baselines: &[TraceId]) -> Value {
    let span_id = |r: usize| failing.spans.get(r).map(|s| s.span_id.to_string());
    let rows: Vec<Value> = c
        .rows
        .iter()
        .enumerate()
        .filter(|(_, d)| d.marks != 0)
        .filter_map(|(r, d)| {
            let s = failing.spans.get(r)?;
            Some(json!({
                "span_id": s.span_id.to_string(),
                "service": s.service,
                "name": s.name,
                "marks": mark_words(d.marks),
                "duration_ns": s.duration_ns(),
                "p50_ns": d.p50_ns,
                "p90_ns": d.p90_ns,
                "count": d.count,
                "usual": d.usual,
                "presence": d.presence,
            }))
        })
        .collect();
    let ghosts: Vec<Value> = c
        .ghosts
        .iter()
        .map(|g| {
            let (parent_span, parent_ghost) = match g.parent {
                GhostParent::Top => (None, None),
                GhostParent::Row(r) => (span_id(r), None),
                GhostParent::Ghost(i) => (None, Some(i)),
            };
            json!({
                "service": g.service,
                "name": g.name,
                "parent_span_id": parent_span,
                "parent_ghost": parent_ghost,
                "depth": g.depth,
                "presence": g.presence,
                "usual": g.usual,
                "offset_ns": g.offset_ns,
                "p50_ns": g.p50_ns,
            })
        })
        .collect();
    json!({
        "trace_id": failing.trace_id.to_string(),
        "baselines": {
            "count": c.baselines,
            "trace_ids": baselines.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
        "first_divergence": c.first_divergence.as_ref().map(|d| json!({
            "text": d.text,
            "span_id": d.row.and_then(span_id),
            "ghost": d.ghost,
        })),
        "findings": c.findings.iter().map(|f| json!({
            "kind": f.kind.code(),
            "text": f.text,
            "service": f.service,
            "name": f.name,
            "span_ids": f.rows.iter().filter_map(|&r| span_id(r)).collect::<Vec<_>>(),
            "ghost": f.ghost,
        })).collect::<Vec<_>>(),
        "rows": rows,
        "ghosts": ghosts,
    })
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The comparison as text: a headline, the first divergence, the findings, then the waterfall with
/// marks and ghost rows (`- … (missing)`), each ghost after its parent's subtree.
pub fn to_text(failing: &Trace, c: &Comparison) -> String {
    let mut out = format!(
        "trace {}: {} spans, compared with {} healthy trace(s)\n",
        failing.trace_id,
        failing.span_count(),
        c.baselines
    );
    match &c.first_divergence {
        Some(d) => out.push_str(&format!("{}\n", clean(&d.text))),
        None if c.baselines > 0 => out.push_str("No difference from the healthy traces.\n"),
        None => out.push_str("No healthy trace to compare with.\n"),
    }
    if !c.findings.is_empty() {
        out.push_str("\nDifferences:\n");
        for f in &c.findings {
            out.push_str(&format!("  - {}\n", clean(&f.text)));
        }
    }
    out.push('\n');
    // Ghosts by the real row they hang under (directly or through other ghosts).
    let mut under: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    let mut top: Vec<usize> = Vec::new();
    let mut anchor: Vec<Option<usize>> = Vec::with_capacity(c.ghosts.len());
    for (i, g) in c.ghosts.iter().enumerate() {
        let a = match g.parent {
            GhostParent::Top => None,
            GhostParent::Row(r) => Some(r),
            GhostParent::Ghost(p) => anchor.get(p).copied().flatten(),
        };
        anchor.push(a);
        match a {
            Some(r) => under.entry(r).or_default().push(i),
            None => top.push(i),
        }
    }
    let ghost_line = |out: &mut String, i: usize| {
        if let Some(g) = c.ghosts.get(i) {
            out.push_str(&format!(
                "{}- {} {} (missing; in {} of {} healthy, p50 {})\n",
                "  ".repeat(g.depth as usize),
                clean(&g.service),
                clean(&g.name),
                g.presence,
                c.baselines,
                duration(g.p50_ns)
            ));
        }
    };
    let mut open: Vec<usize> = Vec::new();
    let close_until = |out: &mut String, open: &mut Vec<usize>, row: usize| {
        while let Some(&p) = open.last() {
            let end = failing.nodes.get(p).map_or(0, |n| n.subtree_end as usize);
            if end > row {
                break;
            }
            open.pop();
            for &g in under.get(&p).map(Vec::as_slice).unwrap_or(&[]) {
                ghost_line(out, g);
            }
        }
    };
    for (row, (s, n)) in failing.spans.iter().zip(&failing.nodes).enumerate() {
        close_until(&mut out, &mut open, row);
        let d = c.rows.get(row).copied().unwrap_or_default();
        let tags = badges(&d, s.duration_ns());
        out.push_str(&format!(
            "{}{} {} {}{}\n",
            "  ".repeat(n.depth as usize),
            clean(&s.service),
            clean(&s.name),
            duration(s.duration_ns()),
            if tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", tags.join("] ["))
            }
        ));
        open.push(row);
    }
    close_until(&mut out, &mut open, usize::MAX);
    for g in top {
        ghost_line(&mut out, g);
    }
    out
}
