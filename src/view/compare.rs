//! Compare mode on the timeline page: what the browser gets of a comparison ([`CompareView`], built on
//! the server from `correlate::compare` by [`compare_view`]), the ghost rows merged into the visible
//! rows and "only differences" ([`with_compare`]), and the summary as Markdown ([`markdown`]).
//!
//! Ghost rows live in the same list of visible rows as real ones, numbered from [`GHOST_BASE`], so the
//! virtualized waterfall renders them like any other row. Pure: no I/O, for server and page alike.

use serde::{Deserialize, Serialize};

use crate::correlate::compare::{report, Comparison, GhostParent};
use crate::correlate::Timeline;
use crate::view::rows::with_ancestors;
use crate::view::timeline::md_text;
use crate::view::types::Rows;

/// Ghost `g` is shown as row `GHOST_BASE + g` (far beyond any real row).
pub const GHOST_BASE: u32 = 0xF000_0000;

/// Is this visible-row number a ghost?
pub fn is_ghost(row: u32) -> bool {
    row >= GHOST_BASE
}

/// One baseline trace the comparison used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineRef {
    /// 32-hex trace id.
    pub trace_id: String,
    /// The backend that served it.
    pub backend: String,
}

/// How one row of the failing trace differs (only rows that do are sent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowMark {
    /// Absolute row.
    pub row: u32,
    /// `correlate::compare` marks (`SLOWER | NEW | REPEATED | ERRORED`).
    pub marks: u8,
    /// The marks as words, most telling first (`errored`, `new`, `repeated`, `slower`).
    pub words: Vec<String>,
    /// Short badges (`failed`, `new`, `call 3 of 3 (usually once)`, `2.8× p90`).
    pub badges: Vec<String>,
    /// Baseline figures for the tooltip.
    pub detail: String,
}

/// A call present in most healthy traces but absent here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GhostView {
    /// The real row it hangs under, if any.
    pub parent_row: Option<u32>,
    /// The ghost it hangs under, if any (always an earlier ghost).
    pub parent_ghost: Option<u32>,
    /// Display depth.
    pub depth: u16,
    /// Service.
    pub service: String,
    /// Span name.
    pub name: String,
    /// Baselines that have it.
    pub presence: u32,
    /// Usual number of calls.
    pub usual: u32,
    /// Where it would have started, ns from the trace start.
    pub start: i64,
    /// Typical duration (p50), ns.
    pub dur: u64,
}

/// One finding, as a sentence with what it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingView {
    /// `errored`, `repeated`, `new`, `missing`, `fewer`, `slower`.
    pub kind: String,
    /// The sentence.
    pub text: String,
    /// Rows it is about, ascending.
    pub rows: Vec<u32>,
    /// The ghost it is about.
    pub ghost: Option<u32>,
}

/// A comparison, as the page shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompareView {
    /// The baselines used (empty when none was found).
    pub baselines: Vec<BaselineRef>,
    /// Rows that differ, ascending.
    pub marks: Vec<RowMark>,
    /// Ghost rows, depth-first.
    pub ghosts: Vec<GhostView>,
    /// The differences, most telling first.
    pub findings: Vec<FindingView>,
    /// Where it first went wrong.
    pub divergence: Option<FindingView>,
    /// Where tracepin looked for baselines and with which query, one sentence per place.
    pub searched: Vec<String>,
    /// Places that failed, and named baselines that could not be used, one sentence each.
    pub problems: Vec<String>,
    /// Candidates left out because they had errors.
    pub skipped_with_errors: u32,
}

impl CompareView {
    /// The marks of a row (0 when it is as usual).
    pub fn mark_of(&self, row: u32) -> Option<&RowMark> {
        self.marks
            .binary_search_by_key(&row, |m| m.row)
            .ok()
            .and_then(|i| self.marks.get(i))
    }
}

fn row_u32(r: usize) -> u32 {
    u32::try_from(r).unwrap_or(u32::MAX)
}

/// The page's form of `c`, a comparison of `timeline` with `baselines`.
pub fn compare_view(
    timeline: &Timeline,
    c: &Comparison,
    baselines: Vec<BaselineRef>,
    searched: Vec<String>,
    problems: Vec<String>,
    skipped_with_errors: u32,
) -> CompareView {
    let trace = &timeline.trace;
    let t0 = trace.start_ns;
    let marks = c
        .rows
        .iter()
        .enumerate()
        .filter(|(_, d)| d.marks != 0)
        .map(|(r, d)| {
            let dur = trace.spans.get(r).map_or(0, |s| s.duration_ns());
            let detail = if d.presence == 0 {
                "no healthy trace has this call".to_owned()
            } else {
                format!(
                    "in {} of {} healthy traces, usually {}; p50 {}, p90 {}",
                    d.presence,
                    c.baselines,
                    crate::correlate::compare::times(d.usual),
                    crate::correlate::compare::duration(d.p50_ns),
                    crate::correlate::compare::duration(d.p90_ns)
                )
            };
            RowMark {
                row: row_u32(r),
                marks: d.marks,
                words: report::mark_words(d.marks)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                badges: report::badges(d, dur),
                detail,
            }
        })
        .collect();
    let ghosts = c
        .ghosts
        .iter()
        .map(|g| {
            let (parent_row, parent_ghost) = match g.parent {
                GhostParent::Top => (None, None),
                GhostParent::Row(r) => (Some(row_u32(r)), None),
                GhostParent::Ghost(i) => (None, Some(row_u32(i))),
            };
            GhostView {
                parent_row,
                parent_ghost,
                depth: u16::try_from(g.depth).unwrap_or(u16::MAX),
                service: g.service.clone(),
                name: g.name.clone(),
                presence: g.presence,
                usual: g.usual,
                start: i64::try_from(g.start_ns.saturating_sub(t0)).unwrap_or(i64::MAX),
                dur: g.p50_ns,
            }
        })
        .collect();
    let findings = c
        .findings
        .iter()
        .map(|f| FindingView {
            kind: f.kind.code().to_owned(),
            text: f.text.clone(),
            rows: f.rows.iter().map(|&r| row_u32(r)).collect(),
            ghost: f.ghost.map(row_u32),
        })
        .collect();
    // The page labels it; the sentence need not say it again.
    let divergence = c.first_divergence.as_ref().map(|d| FindingView {
        kind: "divergence".to_owned(),
        text: d
            .text
            .strip_prefix("First divergence: ")
            .unwrap_or(&d.text)
            .to_owned(),
        rows: d.row.map(row_u32).into_iter().collect(),
        ghost: d.ghost.map(row_u32),
    });
    CompareView {
        baselines,
        marks,
        ghosts,
        findings,
        divergence,
        searched,
        problems,
        skipped_with_errors,
    }
}

/// Where a ghost shows: (subtree end of the real row its chain hangs under, None at the end; depth of
/// that row), or None when hidden.
type Anchor = Option<(Option<u32>, u16)>;

/// The visible rows in compare mode: with `diff_only`, only rows that differ, rows a ghost hangs
/// under, and their ancestors; then every ghost whose parent is shown expanded, right after its
/// parent's subtree (a ghost under a ghost right after that one; top-level ghosts at the end).
/// `rows` must be a full set; `visible` is what `visible_rows` gave, `collapsed` the view's collapsed
/// short ids (sorted).
pub fn with_compare(
    rows: &Rows,
    visible: &[u32],
    cv: &CompareView,
    diff_only: bool,
    collapsed: &[u32],
) -> Vec<u32> {
    let n = rows.len();
    let kept: Vec<u32> = if diff_only {
        let mut hits: Vec<u32> = cv.marks.iter().map(|m| m.row).collect();
        hits.extend(cv.ghosts.iter().filter_map(|g| g.parent_row));
        let keep = with_ancestors(rows, &hits);
        visible
            .iter()
            .copied()
            .filter(|r| keep.get(*r as usize).copied().unwrap_or(false))
            .collect()
    } else {
        visible.to_vec()
    };
    // Each ghost's anchor: the subtree end of the real row its chain hangs under (None: at the end).
    let mut shown = vec![false; n];
    for r in &kept {
        if let Some(s) = shown.get_mut(*r as usize) {
            *s = true;
        }
    }
    let expanded = |p: usize| {
        shown.get(p).copied().unwrap_or(false)
            && collapsed.binary_search(&rows.short_id(p)).is_err()
    };
    // (anchor, depth of the parent row, ghost), for ghosts to show; None anchor = at the end.
    let mut placed: Vec<(Option<u32>, u16, u32)> = Vec::new();
    // Per ghost once placed: where its chain shows (None: hidden).
    let mut anchor_of: Vec<Option<Anchor>> = vec![None; cv.ghosts.len()];
    for (g, gv) in cv.ghosts.iter().enumerate() {
        let anchor = match (gv.parent_row, gv.parent_ghost) {
            (Some(p), _) => {
                let pi = p as usize;
                (pi < n && expanded(pi)).then(|| {
                    (
                        rows.subtree_end.get(pi).copied(),
                        rows.depth.get(pi).copied().unwrap_or(0),
                    )
                })
            }
            (None, Some(pg)) => anchor_of
                .get(pg as usize)
                .copied()
                .flatten()
                .flatten()
                .filter(|_| (pg as usize) < g),
            (None, None) => Some((None, 0)),
        };
        if let Some(slot) = anchor_of.get_mut(g) {
            *slot = Some(anchor);
        }
        if let Some((a, d)) = anchor {
            placed.push((a, d, GHOST_BASE + row_u32(g)));
        }
    }
    // Deeper parents first at one anchor (their subtree ends inside the outer one's); ghosts keep
    // their depth-first order otherwise.
    placed.sort_by(|a, b| {
        let ka = a.0.unwrap_or(u32::MAX);
        let kb = b.0.unwrap_or(u32::MAX);
        ka.cmp(&kb).then(b.1.cmp(&a.1))
    });
    let mut out = Vec::with_capacity(kept.len() + placed.len());
    let mut next = placed.iter().peekable();
    for r in kept {
        while let Some(&&(a, _, g)) = next.peek() {
            if a.is_some_and(|a| a <= r) {
                out.push(g);
                next.next();
            } else {
                break;
            }
        }
        out.push(r);
    }
    out.extend(next.map(|p| p.2));
    out
}

/// The comparison as Markdown, for "Copy as Markdown": what it was compared with, the first divergence
/// and the findings, all upstream text escaped.
pub fn markdown(cv: &CompareView) -> String {
    let mut md = String::new();
    if cv.baselines.is_empty() {
        md.push_str("\n**Compared with healthy traces:** none found.\n");
        for s in &cv.searched {
            md.push_str(&format!("- looked in {}\n", md_text(s)));
        }
        return md;
    }
    md.push_str(&format!(
        "\n**Compared with {} healthy trace(s)**\n",
        cv.baselines.len()
    ));
    if let Some(d) = &cv.divergence {
        md.push_str(&format!("- First divergence: {}\n", md_text(&d.text)));
    }
    if cv.findings.is_empty() {
        md.push_str("- No difference from the healthy traces.\n");
    }
    for f in &cv.findings {
        md.push_str(&format!("- {}\n", md_text(&f.text)));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows of a small tree: 0 root (1..6), 1 a (2..4), 2 a1, 3 a2, 4 b, 5 c.
    fn rows() -> Rows {
        let n = 6;
        Rows {
            index: (0..n).collect(),
            names: (0..n).map(|i| format!("s{i}")).collect(),
            name: (0..n).collect(),
            service: vec![0; n as usize],
            depth: vec![0, 1, 2, 2, 1, 1],
            subtree_end: vec![6, 4, 3, 4, 5, 6],
            start: vec![0; n as usize],
            dur: vec![1; n as usize],
            flags: vec![0; n as usize],
            span_id: (0..u64::from(n)).map(|i| (i + 1) << 32).collect(),
        }
    }

    fn ghost(parent_row: Option<u32>, parent_ghost: Option<u32>, name: &str) -> GhostView {
        GhostView {
            parent_row,
            parent_ghost,
            depth: 1,
            service: "svc".into(),
            name: name.into(),
            presence: 20,
            usual: 1,
            start: 0,
            dur: 0,
        }
    }

    fn mark(row: u32) -> RowMark {
        RowMark {
            row,
            marks: 1,
            words: vec!["slower".into()],
            badges: vec![],
            detail: String::new(),
        }
    }

    const G: u32 = GHOST_BASE;

    #[test]
    fn ghosts_follow_their_parents_subtree() {
        let cv = CompareView {
            ghosts: vec![
                ghost(Some(1), None, "under a"),
                ghost(None, Some(0), "under the ghost"),
                ghost(Some(0), None, "under root"),
                ghost(Some(2), None, "under a1"),
                ghost(None, None, "top"),
            ],
            ..CompareView::default()
        };
        let all: Vec<u32> = (0..6).collect();
        assert_eq!(
            with_compare(&rows(), &all, &cv, false, &[]),
            vec![0, 1, 2, G + 3, 3, G, G + 1, 4, 5, G + 2, G + 4]
        );
        // Collapsing `a` hides the ghosts inside it, the one under the root stays.
        let visible = vec![0, 1, 4, 5];
        assert_eq!(
            with_compare(&rows(), &visible, &cv, false, &[2]),
            vec![0, 1, 4, 5, G + 2, G + 4]
        );
    }

    #[test]
    fn only_differences_keeps_marked_rows_ghost_parents_and_ancestors() {
        let cv = CompareView {
            marks: vec![mark(3)],
            ghosts: vec![ghost(Some(4), None, "missing under b")],
            ..CompareView::default()
        };
        let all: Vec<u32> = (0..6).collect();
        assert_eq!(
            with_compare(&rows(), &all, &cv, true, &[]),
            vec![0, 1, 3, 4, G]
        );
        // Nothing differs: only differences shows nothing.
        assert!(with_compare(&rows(), &all, &CompareView::default(), true, &[]).is_empty());
        assert_eq!(
            with_compare(&rows(), &all, &CompareView::default(), false, &[]),
            all
        );
    }

    #[test]
    fn markdown_escapes_and_says_when_nothing_was_found() {
        let cv = CompareView {
            searched: vec!["Tempo `prod` with { name = \"x\" }".into()],
            ..CompareView::default()
        };
        let md = markdown(&cv);
        assert!(md.contains("none found"), "{md}");
        let cv = CompareView {
            baselines: vec![BaselineRef {
                trace_id: "1".repeat(32),
                backend: "t".into(),
            }],
            findings: vec![FindingView {
                kind: "missing".into(),
                text: "<b>cache</b> is missing".into(),
                rows: vec![],
                ghost: Some(0),
            }],
            ..CompareView::default()
        };
        let md = markdown(&cv);
        assert!(md.contains("Compared with 1 healthy trace(s)"), "{md}");
        assert!(!md.contains("<b>"), "{md}");
    }
}
