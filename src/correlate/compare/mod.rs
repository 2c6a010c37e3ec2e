//! Comparing a failing trace with healthy ones: what is different, and where it first went wrong.
//!
//! Every row is keyed by its path of (service, span name) from the root (`key`); the baselines are
//! aggregated per key, order-independently (`baseline`): in how many of them it occurs, how many times,
//! its duration p50/p90, how often it fails, where it starts inside its parent. Each row of the failing
//! trace is then marked ([`SLOWER`], [`NEW`], [`REPEATED`], [`ERRORED`]) or left as usual; paths present
//! in most baselines but absent here become [`Ghost`] rows attached to their parent (a real row or
//! another ghost); the differences are stated as plain sentences ([`Finding`], `findings`); and the
//! [`Divergence`] names the first place it went wrong: the earliest span on the critical path (else
//! anywhere) that failed, is new or repeated, else the first missing call; only when the shape is the
//! same does a slow span count as the divergence. Times are adjusted for clock skew.
//!
//! Pure and total: no I/O, no panics on any input, compiled for server and browser alike. With no
//! baselines nothing is marked. `report` renders a comparison as the CLI's JSON and text.

mod baseline;
mod findings;
pub mod key;
pub mod report;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use baseline::{quantile, Baseline, KeyStats};
pub use findings::{duration, times};

use super::{Skew, Timeline};
use crate::domain::{RowOrigin, Trace};

/// Row mark: clearly slower than healthy (above 1.5 × p90 and at least 2 × p50).
pub const SLOWER: u8 = 1;
/// Row mark: a path no baseline has.
pub const NEW: u8 = 2;
/// Row mark: an occurrence beyond the usual count, of a path that ran more often than in any healthy
/// trace (a retry, a loop).
pub const REPEATED: u8 = 4;
/// Row mark: a failure beyond those healthy traces usually have on the same path.
pub const ERRORED: u8 = 8;

/// Thresholds of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// A path absent here becomes a ghost row when more than this share of baselines have it.
    pub ghost_presence: f64,
    /// Duration samples needed before a span may be called slower.
    pub slow_min_samples: usize,
    /// Slower means above this multiple of the baseline p90 …
    pub slow_over_p90: f64,
    /// … and at least this multiple of the baseline p50 …
    pub slow_over_p50: f64,
    /// … and at least this much longer than the p50, in ns (sub-100 µs jitter is not news).
    pub slow_min_delta_ns: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            ghost_presence: 0.5,
            slow_min_samples: 5,
            slow_over_p90: 1.5,
            slow_over_p50: 2.0,
            slow_min_delta_ns: 100_000,
        }
    }
}

/// How one row of the failing trace compares with the baselines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowDiff {
    /// `SLOWER | NEW | REPEATED | ERRORED`, or 0 for "as usual".
    pub marks: u8,
    /// The row's path key.
    pub key: u64,
    /// Which occurrence of its key this row is (1-based, pre-order).
    pub occurrence: u32,
    /// Occurrences of its key in the failing trace.
    pub count: u32,
    /// Usual occurrences in a baseline that has the key (0 when none has it).
    pub usual: u32,
    /// Baselines that have the key.
    pub presence: u32,
    /// Baseline duration p50, ns.
    pub p50_ns: u64,
    /// Baseline duration p90, ns.
    pub p90_ns: u64,
    /// Baseline duration samples.
    pub samples: u32,
}

/// Where a ghost row hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "index", rename_all = "snake_case")]
pub enum GhostParent {
    /// At the top (the failing trace has another root).
    Top,
    /// Under a row of the failing trace.
    Row(usize),
    /// Under another ghost (an index into `Comparison::ghosts`, always smaller).
    Ghost(usize),
}

/// A call present in most healthy traces but absent from the failing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ghost {
    /// Path key.
    pub key: u64,
    /// Where it hangs.
    pub parent: GhostParent,
    /// Display depth.
    pub depth: u32,
    /// Service.
    pub service: String,
    /// Span name (as one healthy trace recorded it).
    pub name: String,
    /// Baselines that have it.
    pub presence: u32,
    /// Usual occurrences in a baseline that has it.
    pub usual: u32,
    /// Typical start after its parent's start, ns.
    pub offset_ns: u64,
    /// Typical duration (p50), ns.
    pub p50_ns: u64,
    /// Where it would have started in the failing trace (parent start, adjusted for clock skew, plus
    /// the typical offset), Unix ns.
    pub start_ns: u64,
}

/// What kind of difference a finding states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// Failed where healthy traces do not.
    Errored,
    /// Ran more times than usual.
    Repeated,
    /// A path no healthy trace has.
    New,
    /// A call most healthy traces make, absent here.
    Missing,
    /// Ran fewer times than usual.
    Fewer,
    /// Clearly slower than healthy.
    Slower,
}

impl FindingKind {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::Errored => "errored",
            FindingKind::Repeated => "repeated",
            FindingKind::New => "new",
            FindingKind::Missing => "missing",
            FindingKind::Fewer => "fewer",
            FindingKind::Slower => "slower",
        }
    }
}

/// One difference, as a sentence with the rows (or ghost) it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What kind of difference.
    pub kind: FindingKind,
    /// Service of the path.
    pub service: String,
    /// Span name of the path.
    pub name: String,
    /// Rows of the failing trace it is about, ascending.
    pub rows: Vec<usize>,
    /// The ghost it is about (missing calls).
    pub ghost: Option<usize>,
    /// The sentence.
    pub text: String,
}

/// Where the failing trace first went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Divergence {
    /// The row, when it is a span of the failing trace.
    pub row: Option<usize>,
    /// The ghost, when it is a missing call.
    pub ghost: Option<usize>,
    /// The sentence.
    pub text: String,
}

/// The comparison of one failing trace with its baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Number of baseline traces.
    pub baselines: u32,
    /// One entry per row of the failing trace.
    pub rows: Vec<RowDiff>,
    /// Ghost rows, each after its parent ghost (depth-first), siblings by typical offset.
    pub ghosts: Vec<Ghost>,
    /// The differences, most telling first.
    pub findings: Vec<Finding>,
    /// Where it first went wrong, when anything differs.
    pub first_divergence: Option<Divergence>,
}

impl Comparison {
    /// True when nothing differs: no mark, no ghost, no finding.
    pub fn is_same(&self) -> bool {
        self.ghosts.is_empty() && self.findings.is_empty() && self.rows.iter().all(|r| r.marks == 0)
    }

    /// Rows carrying `mark`, ascending.
    pub fn rows_marked(&self, mark: u8) -> Vec<usize> {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| r.marks & mark != 0)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Compares the `failing` timeline (its trace, clock skew and critical path) with the `baselines`.
pub fn compare(failing: &Timeline, baselines: &[&Trace], opts: &CompareOptions) -> Comparison {
    compare_with(failing, &Baseline::of(baselines), opts)
}

/// What the comparison knows about the failing trace while it works.
pub(crate) struct Ctx<'a> {
    pub trace: &'a Trace,
    pub skew: &'a Skew,
    pub base: &'a Baseline,
    pub keys: Vec<u64>,
    /// Rows of each key present here (real spans only), ascending.
    pub by_key: HashMap<u64, Vec<usize>>,
    pub rows: Vec<RowDiff>,
    pub ghosts: Vec<Ghost>,
}

impl Ctx<'_> {
    /// A row's start, adjusted for its service's clock offset (`u64::MAX` outside the trace).
    pub fn start_of(&self, row: usize) -> u64 {
        self.trace
            .spans
            .get(row)
            .map_or(u64::MAX, |s| self.skew.adjusted(row, s.start_ns))
    }

    /// The key of a row's parent (`ROOT_KEY` at the top).
    pub fn parent_key(&self, row: usize) -> u64 {
        self.trace
            .nodes
            .get(row)
            .and_then(|n| n.parent)
            .and_then(|p| self.keys.get(p as usize).copied())
            .unwrap_or(key::ROOT_KEY)
    }

    /// Marks of a row (0 outside the trace).
    pub fn marks(&self, row: usize) -> u8 {
        self.rows.get(row).map_or(0, |r| r.marks)
    }

    /// Does any row strictly inside `row`'s subtree carry one of `mask`?
    pub fn descendant_marked(&self, row: usize, mask: u8) -> bool {
        let end = self
            .trace
            .nodes
            .get(row)
            .map_or(row + 1, |n| n.subtree_end as usize);
        (row + 1..end).any(|r| self.marks(r) & mask != 0)
    }
}

/// [`compare`] against already aggregated baselines.
pub fn compare_with(timeline: &Timeline, base: &Baseline, opts: &CompareOptions) -> Comparison {
    let failing = &timeline.trace;
    let keys = key::row_keys(failing);
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut rows = vec![RowDiff::default(); failing.spans.len()];
    for (row, (node, &k)) in failing.nodes.iter().zip(&keys).enumerate() {
        if let Some(r) = rows.get_mut(row) {
            r.key = k;
        }
        if node.origin == RowOrigin::Span {
            let list = by_key.entry(k).or_default();
            list.push(row);
            if let Some(r) = rows.get_mut(row) {
                r.occurrence = u32::try_from(list.len()).unwrap_or(u32::MAX);
            }
        }
    }
    let mut cx = Ctx {
        trace: failing,
        skew: &timeline.skew,
        base,
        keys,
        by_key,
        rows,
        ghosts: Vec::new(),
    };
    if base.traces > 0 {
        mark_rows(&mut cx, opts);
        cx.ghosts = ghosts(&cx, opts);
    }
    let findings = findings::findings(&cx, opts);
    let first_divergence = findings::first_divergence(&cx, &timeline.critical_path);
    Comparison {
        baselines: base.traces,
        rows: cx.rows,
        ghosts: cx.ghosts,
        findings,
        first_divergence,
    }
}

fn mark_rows(cx: &mut Ctx<'_>, opts: &CompareOptions) {
    let trace = cx.trace;
    let mut failures: Vec<(u64, usize, u32)> = Vec::new();
    for (row, (span, node)) in trace.spans.iter().zip(&trace.nodes).enumerate() {
        if node.origin != RowOrigin::Span {
            continue;
        }
        let Some(r) = cx.rows.get_mut(row) else {
            continue;
        };
        r.count = cx
            .by_key
            .get(&r.key)
            .map_or(0, |v| u32::try_from(v.len()).unwrap_or(u32::MAX));
        let Some(s) = cx.base.keys.get(&r.key) else {
            r.marks |= NEW;
            if span.is_error() {
                r.marks |= ERRORED;
            }
            continue;
        };
        r.usual = s.usual;
        r.presence = s.presence;
        r.p50_ns = s.duration_q(0.5);
        r.p90_ns = s.duration_q(0.9);
        r.samples = u32::try_from(s.occurrences()).unwrap_or(u32::MAX);
        if r.count > s.most && r.occurrence > s.usual {
            r.marks |= REPEATED;
        }
        if is_slower(span.duration_ns(), r, opts) {
            r.marks |= SLOWER;
        }
        if span.is_error() {
            failures.push((r.key, row, s.usual_errors));
        }
    }
    // Failures of a path beyond the number healthy traces usually have there: the later ones.
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for (k, row, usual) in failures {
        let n = seen.entry(k).or_insert(0);
        *n += 1;
        if *n > usual {
            if let Some(r) = cx.rows.get_mut(row) {
                r.marks |= ERRORED;
            }
        }
    }
}

/// Is a duration clearly above the baseline of its path?
fn is_slower(dur: u64, r: &RowDiff, opts: &CompareOptions) -> bool {
    (r.samples as usize) >= opts.slow_min_samples
        && dur as f64 > r.p90_ns as f64 * opts.slow_over_p90
        && dur as f64 >= r.p50_ns as f64 * opts.slow_over_p50
        && dur.saturating_sub(r.p50_ns) >= opts.slow_min_delta_ns
}

/// Ghost rows: paths in more than `ghost_presence` of the baselines, absent here, depth-first.
fn ghosts(cx: &Ctx<'_>, opts: &CompareOptions) -> Vec<Ghost> {
    let total = f64::from(cx.base.traces.max(1));
    let missing: HashSet<u64> = cx
        .base
        .keys
        .iter()
        .filter(|(k, s)| {
            f64::from(s.presence) / total > opts.ghost_presence && !cx.by_key.contains_key(k)
        })
        .map(|(k, _)| *k)
        .collect();
    let order = |k: &u64| {
        let s = cx.base.keys.get(k);
        (
            s.map_or(0, KeyStats::offset_p50),
            s.map(|s| (s.service.clone(), s.name.clone())),
            *k,
        )
    };
    // Roots: ghosts whose parent is a real row here (its first occurrence) or the top.
    let mut roots: Vec<(Option<usize>, u64)> = Vec::new();
    let mut children: HashMap<u64, Vec<u64>> = HashMap::new();
    for &k in &missing {
        let parent = cx.base.keys.get(&k).map_or(key::ROOT_KEY, |s| s.parent);
        if missing.contains(&parent) && parent != k {
            children.entry(parent).or_default().push(k);
        } else {
            let row = cx.by_key.get(&parent).and_then(|v| v.first().copied());
            roots.push((row, k));
        }
    }
    roots.sort_by_key(|(row, k)| (row.map_or(0, |r| r + 1), order(k)));
    for list in children.values_mut() {
        list.sort_by_key(order);
    }
    let mut out: Vec<Ghost> = Vec::new();
    let mut stack: Vec<(u64, GhostParent)> = roots
        .iter()
        .rev()
        .map(|&(row, k)| (k, row.map_or(GhostParent::Top, GhostParent::Row)))
        .collect();
    while let Some((k, parent)) = stack.pop() {
        let Some(s) = cx.base.keys.get(&k) else {
            continue;
        };
        let (parent_start, parent_depth) = match parent {
            GhostParent::Top => (cx.trace.start_ns, None),
            GhostParent::Row(r) => (
                cx.trace
                    .spans
                    .get(r)
                    .map_or(cx.trace.start_ns, |x| x.start_ns),
                cx.trace.nodes.get(r).map(|n| n.depth),
            ),
            GhostParent::Ghost(g) => out
                .get(g)
                .map_or((cx.trace.start_ns, None), |x| (x.start_ns, Some(x.depth))),
        };
        let index = out.len();
        out.push(Ghost {
            key: k,
            parent,
            depth: parent_depth.map_or(0, |d| d + 1),
            service: s.service.clone(),
            name: s.name.clone(),
            presence: s.presence,
            usual: s.usual,
            offset_ns: s.offset_p50(),
            p50_ns: s.duration_q(0.5),
            start_ns: parent_start.saturating_add(s.offset_p50()),
        });
        if let Some(kids) = children.get(&k) {
            for &c in kids.iter().rev() {
                stack.push((c, GhostParent::Ghost(index)));
            }
        }
    }
    out
}
