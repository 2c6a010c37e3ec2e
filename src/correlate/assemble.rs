//! Assembly: flat spans in, one pre-order [`Trace`] per trace id out, with bad data repaired.
//!
//! Rows are stored depth-first in pre-order, siblings by start time (then span id), with `depth`,
//! `parent` and `subtree_end` per row. Every repair becomes a [`Diagnostic`], never a panic: duplicate
//! span ids (fragments and identical copies merged, conflicting copies kept apart), missing parents
//! (orphans hang under a synthetic "missing parent" row), parent cycles (broken at the earliest span),
//! end before start, missing start time, and several trace ids in one input. Runs in `O(n log n)`
//! without recursion, so deep or hostile inputs cannot overflow the stack.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::index::{span_key, IdMap, Interner, ServiceTable};
use super::merge::{merge_fragment, MergeOutcome};
use crate::domain::{
    Diagnostic, DiagnosticKind, Node, RowOrigin, Span, SpanId, SpanKind, SpanStatus, ThinVec,
    Trace, TraceId,
};

/// Name of the synthetic row standing in for a parent that is referenced but not present.
pub const MISSING_PARENT_NAME: &str = "missing parent";

/// Per-span diagnostics of one kind beyond this many are summarised in one line.
const DIAG_CAP: usize = 20;

/// Assembles flat spans into one [`Trace`] per trace id, ordered by start time (then trace id).
pub fn assemble(spans: Vec<Span>) -> Vec<Trace> {
    assemble_with_services(spans)
        .into_iter()
        .map(|(trace, _)| trace)
        .collect()
}

/// [`assemble`], also returning each trace's interned services (read while the spans are still in input
/// order, which is cheaper than reading them again in row order).
pub fn assemble_with_services(spans: Vec<Span>) -> Vec<(Trace, ServiceTable)> {
    assemble_on(spans, None)
}

/// From this many spans of one trace id, the span index, the parent links and the move into
/// pre-order run on two threads (at 100,000 spans one thread was as fast, with a lower peak:
/// `benches/README.md`).
const PARALLEL_FROM_SPANS: usize = 200_000;

/// [`assemble_with_services`], on two threads (`Some(true)`), one, or as the size says (`None`).
pub(crate) fn assemble_on(spans: Vec<Span>, two: Option<bool>) -> Vec<(Trace, ServiceTable)> {
    let Some(first) = spans.first().map(|s| s.trace_id) else {
        return Vec::new();
    };
    let groups: Vec<(TraceId, Vec<Span>)> = if spans.iter().all(|s| s.trace_id == first) {
        vec![(first, spans)]
    } else {
        let mut order: IdMap<TraceId, usize> = IdMap::default();
        let mut groups: Vec<(TraceId, Vec<Span>)> = Vec::new();
        for span in spans {
            let next = groups.len();
            let slot = *order.entry(span.trace_id).or_insert(next);
            if slot == next {
                groups.push((span.trace_id, Vec::new()));
            }
            if let Some((_, group)) = groups.get_mut(slot) {
                group.push(span);
            }
        }
        groups
    };
    let n_ids = groups.len();
    let mut traces: Vec<(Trace, ServiceTable)> = groups
        .into_iter()
        .map(|(trace_id, spans)| {
            let two = two.unwrap_or(spans.len() >= PARALLEL_FROM_SPANS);
            assemble_one(trace_id, spans, n_ids, two)
        })
        .collect();
    traces.sort_by_key(|(t, _)| (t.start_ns, t.trace_id));
    traces
}

/// Diagnostics with a cap per kind, so a broken input cannot produce one line per span.
#[derive(Default)]
struct Diags {
    out: Vec<Diagnostic>,
    counts: HashMap<DiagnosticKind, usize>,
}

impl Diags {
    fn push(&mut self, d: Diagnostic) {
        let n = self.counts.entry(d.kind).or_insert(0);
        *n += 1;
        if *n <= DIAG_CAP {
            self.out.push(d);
        }
    }

    /// Adds what another collector gathered after this one's, as if pushed here in turn.
    fn absorb(&mut self, other: Diags) {
        let mut kept: HashMap<DiagnosticKind, usize> = HashMap::new();
        for d in other.out {
            *kept.entry(d.kind).or_insert(0) += 1;
            self.push(d);
        }
        for (kind, n) in other.counts {
            let dropped = n - kept.get(&kind).copied().unwrap_or(0);
            if dropped > 0 {
                *self.counts.entry(kind).or_insert(0) += dropped;
            }
        }
    }

    fn finish(mut self) -> Vec<Diagnostic> {
        let mut extra: Vec<(DiagnosticKind, usize)> = self
            .counts
            .iter()
            .filter(|(_, &n)| n > DIAG_CAP)
            .map(|(&k, &n)| (k, n - DIAG_CAP))
            .collect();
        extra.sort_by_key(|&(k, _)| format!("{k:?}"));
        for (kind, more) in extra {
            self.out.push(Diagnostic::general(
                kind,
                format!("... and {more} more problems of the same kind ({kind:?})."),
            ));
        }
        self.out
    }
}

fn label(span: &Span) -> String {
    format!("{} \"{}\" ({})", span.span_id, span.name, span.service)
}

/// What [`dedupe`] found.
struct Deduped {
    /// Which input indices are still rows.
    alive: Vec<bool>,
    /// Span id → the first input index with that id (always alive: later copies merge into it or are
    /// kept beside it).
    first: SpanIndex,
    /// Earliest non-zero start time (the fallback for spans without any time).
    earliest: u64,
}

/// Span id → first input index, in one table or, for a large trace, two built side by side (split
/// by the key's top bit, so each id has one home).
pub(crate) struct SpanIndex {
    parts: Vec<IdMap<u64, usize>>,
}

impl SpanIndex {
    fn get(&self, key: u64) -> Option<usize> {
        let part = if self.parts.len() > 1 {
            (key >> 63) as usize
        } else {
            0
        };
        self.parts.get(part)?.get(&key).copied()
    }
}

/// One part of the span index: the ids whose key's top bit is `part` (every id when `None`), and each
/// later copy of an id already indexed, as (input index, id, first index); and the earliest non-zero
/// start of all the spans (`u64::MAX` when none).
fn index_part(spans: &[Span], part: Option<u64>) -> IndexPart {
    let mut first: IdMap<u64, usize> = IdMap::default();
    first.reserve(if part.is_some() {
        spans.len() / 2 + spans.len() / 16
    } else {
        spans.len()
    });
    let mut copies = Vec::new();
    let mut earliest = u64::MAX;
    for (i, span) in spans.iter().enumerate() {
        if span.start_ns != 0 {
            earliest = earliest.min(span.start_ns);
        }
        let key = span_key(span.span_id);
        if part.is_some_and(|p| key >> 63 != p) {
            continue;
        }
        match first.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
            Entry::Occupied(slot) => copies.push((i, span.span_id, *slot.get())),
        }
    }
    (first, copies, earliest)
}

type IndexPart = (IdMap<u64, usize>, Vec<(usize, SpanId, usize)>, u64);

/// Merges duplicate span ids in place. `two`: build the index on two threads.
fn dedupe(spans: &mut [Span], diags: &mut Diags, two: bool) -> Deduped {
    let mut alive = vec![true; spans.len()];
    let (parts, copies, earliest) = if two {
        let shared: &[Span] = spans;
        let ((high, more, _), (low, mut copies, earliest)) = super::side_by_side(
            || index_part(shared, Some(1)),
            || index_part(shared, Some(0)),
        );
        // In input order, as one table would have met them.
        copies.extend(more);
        copies.sort_unstable_by_key(|&(i, _, _)| i);
        (vec![low, high], copies, earliest)
    } else {
        let (first, copies, earliest) = index_part(spans, None);
        (vec![first], copies, earliest)
    };
    let first = SpanIndex { parts };
    let mut dup_ids: Vec<SpanId> = Vec::new();
    let mut groups: IdMap<SpanId, Vec<usize>> = IdMap::default();
    for (i, id, f) in copies {
        groups
            .entry(id)
            .or_insert_with(|| {
                dup_ids.push(id);
                vec![f]
            })
            .push(i);
    }
    for id in dup_ids {
        let Some(group) = groups.get(&id) else {
            continue;
        };
        let copies = group.len();
        let mut kept: Vec<usize> = Vec::new();
        let mut identical = true;
        let mut conflict: Option<&'static str> = None;
        for &i in group {
            let mut placed = false;
            for &k in &kept {
                let Some(copy) = spans.get(i).cloned() else {
                    continue;
                };
                let Some(target) = spans.get_mut(k) else {
                    continue;
                };
                match merge_fragment(target, copy) {
                    MergeOutcome::Identical => placed = true,
                    MergeOutcome::Merged => {
                        identical = false;
                        placed = true;
                    }
                    MergeOutcome::Conflict(field) => {
                        conflict.get_or_insert(field);
                    }
                }
                if placed {
                    break;
                }
            }
            if placed {
                if let Some(a) = alive.get_mut(i) {
                    *a = false;
                }
            } else {
                kept.push(i);
            }
        }
        let Some(first_span) = group.first().and_then(|&i| spans.get(i)) else {
            continue;
        };
        let what = label(first_span);
        if kept.len() < copies {
            let how = if identical {
                "identical copies"
            } else {
                "fragments"
            };
            let merged = copies - kept.len() + 1;
            diags.push(Diagnostic::span(
                DiagnosticKind::DuplicateSpanMerged,
                id,
                format!("Span {what} arrived {merged} times as {how}; merged into one row."),
            ));
        }
        if kept.len() > 1 {
            let field = conflict.unwrap_or("content");
            diags.push(Diagnostic::span(
                DiagnosticKind::DuplicateSpanKept,
                id,
                format!(
                    "Span id {id} is used by {} spans whose {field} differs; kept as separate rows \
                     (children attach to the first).",
                    kept.len()
                ),
            ));
        }
    }
    Deduped {
        alive,
        first,
        earliest: if earliest == u64::MAX { 0 } else { earliest },
    }
}

/// Repairs a missing start time or an end before the start; `fallback` is the trace's earliest start.
fn repair_times(span: &mut Span, fallback: u64, diags: &mut Diags) {
    if span.start_ns == 0 {
        let start = if span.end_ns != 0 {
            span.end_ns
        } else {
            fallback
        };
        diags.push(Diagnostic::span(
            DiagnosticKind::MissingStartTime,
            span.span_id,
            format!(
                "Span {} has no start time; drawn as an instant at {}.",
                label(span),
                if span.end_ns != 0 {
                    "its end"
                } else {
                    "the trace's start"
                }
            ),
        ));
        span.start_ns = start;
        if span.end_ns < start {
            span.end_ns = start;
        }
    } else if span.end_ns < span.start_ns {
        diags.push(Diagnostic::span(
            DiagnosticKind::EndBeforeStart,
            span.span_id,
            format!(
                "Span {} ends {} before it starts; its end was set to its start.",
                label(span),
                if span.end_ns == 0 {
                    "(no end time)".to_owned()
                } else {
                    format!("{:.3} ms", (span.start_ns - span.end_ns) as f64 / 1e6)
                }
            ),
        ));
        span.end_ns = span.start_ns;
    }
}

fn placeholder(trace_id: TraceId, missing: SpanId, orphans: &[usize], spans: &[Span]) -> Span {
    let mut start = u64::MAX;
    let mut end = 0u64;
    let mut service: std::sync::Arc<str> = std::sync::Arc::from("");
    let mut earliest = u64::MAX;
    for s in orphans.iter().filter_map(|&i| spans.get(i)) {
        start = start.min(s.start_ns);
        end = end.max(s.end_ns);
        if s.start_ns < earliest {
            earliest = s.start_ns;
            service = std::sync::Arc::clone(&s.service);
        }
    }
    if start == u64::MAX {
        start = 0;
    }
    Span {
        trace_id,
        span_id: missing,
        parent_span_id: None,
        service,
        name: std::sync::Arc::from(MISSING_PARENT_NAME),
        kind: SpanKind::Unspecified,
        start_ns: start,
        end_ns: end.max(start),
        status: SpanStatus::default(),
        attributes: ThinVec::new(),
        events: ThinVec::new(),
        links: ThinVec::new(),
        resource: Default::default(),
        scope: None,
    }
}

const UNKNOWN: u8 = 0;
const ROOTED: u8 = 1;
const WALKING: u8 = 2;

/// Breaks parent cycles so that every live span reaches a root; `parent[i] = None` at each break.
fn break_cycles(spans: &[Span], alive: &[bool], parent: &mut [Option<usize>], diags: &mut Diags) {
    let n = parent.len();
    let mut state = vec![UNKNOWN; n];
    let mut path: Vec<usize> = Vec::new();
    for start in 0..n {
        if !alive.get(start).copied().unwrap_or(false) || state[start] != UNKNOWN {
            continue;
        }
        path.clear();
        let mut cur = start;
        loop {
            match state[cur] {
                ROOTED => break,
                WALKING => {
                    // `cur` is on the current path: the cycle is path[pos..].
                    let pos = path.iter().position(|&p| p == cur).unwrap_or(0);
                    let cycle = path.get(pos..).unwrap_or(&[]);
                    let brk = cycle
                        .iter()
                        .copied()
                        .min_by_key(|&i| spans.get(i).map(|s| (s.start_ns, s.span_id)))
                        .unwrap_or(cur);
                    if let Some(p) = parent.get_mut(brk) {
                        *p = None;
                    }
                    let names: Vec<String> = cycle
                        .iter()
                        .filter_map(|&i| spans.get(i))
                        .map(|s| s.span_id.to_string())
                        .collect();
                    if let Some(s) = spans.get(brk) {
                        diags.push(Diagnostic::span(
                            DiagnosticKind::Cycle,
                            s.span_id,
                            format!(
                                "Parent links form a cycle through {} span(s) ({}); broken at span \
                                 {}, shown as a top-level row.",
                                cycle.len(),
                                names.join(" -> "),
                                label(s)
                            ),
                        ));
                    }
                    break;
                }
                _ => {
                    state[cur] = WALKING;
                    path.push(cur);
                    match parent[cur] {
                        Some(p) => cur = p,
                        None => break,
                    }
                }
            }
        }
        for &p in &path {
            state[p] = ROOTED;
        }
    }
}

/// Reorders `v` so that `v[j]` becomes the old `v[order[j]]`, following cycles with swaps; with
/// `two`, on two threads when `order` is a permutation.
///
/// On two threads, every element bound for the other half first changes places with one bound for
/// this half (both lists ascend, so this pass reads memory in order), then each half follows its own
/// cycles. A large trace's cycles are long reads far apart in memory, each waiting for the one
/// before: two halves wait side by side.
///
/// `order` must be a permutation of `0..v.len()`; anything else leaves `v` in some order of the same
/// elements (never loops or panics).
pub(super) fn permute_on<T: Send>(v: &mut [T], order: &[usize], two: bool) {
    let n = v.len();
    if !two || n < 2 || order.len() != n {
        return permute_in_place(v, order);
    }
    // Where each element goes; anything but a permutation takes the one-thread way.
    let mut dest = vec![usize::MAX; n];
    for (j, &k) in order.iter().enumerate() {
        match dest.get_mut(k) {
            Some(d) if *d == usize::MAX => *d = j,
            _ => return permute_in_place(v, order),
        }
    }
    let mid = n / 2;
    let leaving_low: Vec<usize> = (0..mid).filter(|&p| dest[p] >= mid).collect();
    let leaving_high: Vec<usize> = (mid..n).filter(|&p| dest[p] < mid).collect();
    let mut order = order.to_vec();
    for (&a, &b) in leaving_low.iter().zip(&leaving_high) {
        v.swap(a, b);
        // The element that was at `a` is now at `b`, and the other way round.
        order[dest[a]] = b;
        order[dest[b]] = a;
    }
    drop(dest);
    let (low_v, high_v) = v.split_at_mut(mid);
    let (low_o, high_o) = order.split_at_mut(mid);
    for k in high_o.iter_mut() {
        *k -= mid;
    }
    super::side_by_side(
        || permute_in_place(high_v, high_o),
        || permute_in_place(low_v, low_o),
    );
}

/// Reorders `v` so that `v[j]` becomes the old `v[order[j]]`, following cycles with swaps.
///
/// `order` must be a permutation of `0..v.len()`; anything else leaves `v` in some order of the same
/// elements (never loops or panics).
pub(super) fn permute_in_place<T>(v: &mut [T], order: &[usize]) {
    let n = v.len();
    let mut done = vec![false; n];
    for i in 0..n {
        if done[i] {
            continue;
        }
        done[i] = true;
        let mut j = i;
        for _ in 0..n {
            let Some(&k) = order.get(j) else { break };
            if k == i || k >= n || done[k] {
                break;
            }
            v.swap(j, k);
            done[k] = true;
            j = k;
        }
    }
}

/// What linking a range of spans found: per span (from the range's start) its parent's input index,
/// its sibling sort key and its service; the repairs made, the time span, and the parents named but
/// absent with the spans naming them (in input order).
struct Linked {
    parent: Vec<Option<usize>>,
    keys: Vec<(u64, SpanId)>,
    service_in: Vec<u32>,
    interner: Interner,
    diags: Diags,
    start_ns: u64,
    end_ns: u64,
    missing_order: Vec<SpanId>,
    orphans: IdMap<SpanId, Vec<usize>>,
}

impl Linked {
    /// Appends the next range's result, as if one pass had linked both (`alive` by input index).
    fn absorb(&mut self, next: Linked, alive: &[bool]) {
        let base = self.service_in.len();
        // The next range's services join this interner in the order it met them, as one pass would.
        let remap: Vec<u32> = next
            .interner
            .names()
            .iter()
            .map(|name| self.interner.intern(name))
            .collect();
        self.service_in
            .extend(next.service_in.iter().enumerate().map(|(k, &id)| {
                if alive.get(base + k).copied().unwrap_or(false) {
                    remap.get(id as usize).copied().unwrap_or(0)
                } else {
                    id
                }
            }));
        self.parent.extend(next.parent);
        self.keys.extend(next.keys);
        self.diags.absorb(next.diags);
        self.start_ns = self.start_ns.min(next.start_ns);
        self.end_ns = self.end_ns.max(next.end_ns);
        for pid in next.missing_order {
            let Some(children) = next.orphans.get(&pid) else {
                continue;
            };
            match self.orphans.entry(pid) {
                Entry::Occupied(mut slot) => {
                    slot.get_mut().extend_from_slice(children);
                }
                Entry::Vacant(slot) => {
                    slot.insert(children.clone());
                    self.missing_order.push(pid);
                }
            }
        }
    }
}

/// Links the spans `base..base + spans.len()` (input indices): repairs their times, finds their
/// parents, copies out their sort keys and interns their services. `room`: capacity to reserve.
fn link(
    spans: &mut [Span],
    base: usize,
    alive: &[bool],
    index: &SpanIndex,
    earliest: u64,
    room: usize,
) -> Linked {
    let room = room.max(spans.len());
    let mut out = Linked {
        parent: Vec::with_capacity(room),
        keys: Vec::with_capacity(room),
        service_in: Vec::with_capacity(room),
        interner: Interner::default(),
        diags: Diags::default(),
        start_ns: u64::MAX,
        end_ns: 0,
        missing_order: Vec::new(),
        orphans: IdMap::default(),
    };
    // Siblings usually follow one another in the input: the last parent looked up is remembered, which
    // spares about half of the lookups in a large trace (each a cache miss in a table of a million).
    let mut last_parent: Option<(u64, Option<usize>)> = None;
    for (k, s) in spans.iter_mut().enumerate() {
        let i = base + k;
        let live = alive.get(i).copied().unwrap_or(false);
        let mut parent = None;
        if live {
            repair_times(s, earliest, &mut out.diags);
            out.start_ns = out.start_ns.min(s.start_ns);
            out.end_ns = out.end_ns.max(s.end_ns);
            if let Some(pid) = s.parent_span_id {
                let key = span_key(pid);
                let found = match last_parent {
                    Some((k, found)) if k == key => found,
                    _ => {
                        let found = index.get(key);
                        last_parent = Some((key, found));
                        found
                    }
                };
                match found {
                    Some(p) => parent = Some(p),
                    None => out
                        .orphans
                        .entry(pid)
                        .or_insert_with(|| {
                            out.missing_order.push(pid);
                            Vec::new()
                        })
                        .push(i),
                }
            }
        }
        out.parent.push(parent);
        out.keys.push((s.start_ns, s.span_id));
        out.service_in.push(if live {
            out.interner.intern_shared(&s.service)
        } else {
            0
        });
    }
    out
}

/// Assembles the spans of one trace id.
fn assemble_one(
    trace_id: TraceId,
    mut spans: Vec<Span>,
    n_trace_ids: usize,
    two: bool,
) -> (Trace, ServiceTable) {
    let mut diags = Diags::default();
    if n_trace_ids > 1 {
        diags.push(Diagnostic::general(
            DiagnosticKind::MixedTraceIds,
            format!(
                "The input held spans of {n_trace_ids} trace ids; they are shown as separate \
                 traces, this one is {trace_id}."
            ),
        ));
    }
    let Deduped {
        mut alive,
        first: index,
        earliest,
    } = dedupe(&mut spans, &mut diags, two);

    // One pass over the live spans: repair times, link parents (the first copy of an id wins), copy
    // out the sibling sort keys, intern services. A large trace is linked in two halves side by side,
    // joined as one pass would have left them.
    let n_in = spans.len();
    let linked = if two {
        let mid = n_in / 2;
        let (low, high) = spans.split_at_mut(mid);
        let (alive, index) = (&alive, &index);
        let (upper, mut lower) = super::side_by_side(
            move || link(high, mid, alive, index, earliest, 0),
            move || link(low, 0, alive, index, earliest, n_in),
        );
        lower.absorb(upper, alive);
        lower
    } else {
        link(&mut spans, 0, &alive, &index, earliest, n_in)
    };
    let Linked {
        mut parent,
        mut keys,
        mut service_in,
        mut interner,
        diags: linked_diags,
        mut start_ns,
        end_ns,
        missing_order,
        orphans,
    } = linked;
    diags.absorb(linked_diags);
    let mut origin: Vec<RowOrigin> = vec![RowOrigin::Span; spans.len()];
    for missing in missing_order {
        let Some(children) = orphans.get(&missing) else {
            continue;
        };
        let ph = placeholder(trace_id, missing, children, &spans);
        let names: Vec<String> = children
            .iter()
            .take(3)
            .filter_map(|&i| spans.get(i))
            .map(|s| format!("\"{}\" ({})", s.name, s.service))
            .collect();
        let more = if children.len() > 3 { ", ..." } else { "" };
        diags.push(Diagnostic::span(
            DiagnosticKind::MissingParent,
            missing,
            format!(
                "{} span(s) name parent {missing}, which is not in the trace: {}{more}; shown under \
                 a \"{MISSING_PARENT_NAME}\" row.",
                children.len(),
                names.join(", ")
            ),
        ));
        let ph_idx = spans.len();
        for &c in children {
            parent[c] = Some(ph_idx);
        }
        keys.push((ph.start_ns, ph.span_id));
        service_in.push(interner.intern(&ph.service));
        spans.push(ph);
        parent.push(None);
        alive.push(true);
        origin.push(RowOrigin::MissingParent);
    }
    break_cycles(&spans, &alive, &mut parent, &mut diags);

    // Children in CSR form, siblings by (start, span id, input order).
    let n = spans.len();
    let mut child_count = vec![0u32; n + 1];
    let mut roots: Vec<usize> = Vec::new();
    for i in 0..n {
        if !alive[i] {
            continue;
        }
        match parent[i] {
            Some(p) => child_count[p] += 1,
            None => roots.push(i),
        }
    }
    let mut offsets = vec![0usize; n + 1];
    for i in 0..n {
        offsets[i + 1] = offsets[i] + child_count[i] as usize;
    }
    let mut fill = offsets.clone();
    let mut children = vec![0usize; offsets[n]];
    for i in 0..n {
        if let (true, Some(p)) = (alive[i], parent[i]) {
            children[fill[p]] = i;
            fill[p] += 1;
        }
    }
    // Sort keys were copied out, so sorting does not chase spans around memory.
    let key = |i: &usize| (keys.get(*i).copied(), *i);
    roots.sort_unstable_by_key(key);
    for p in 0..n {
        if let Some(slice) = children.get_mut(offsets[p]..offsets[p + 1]) {
            if slice.len() > 1 {
                slice.sort_unstable_by_key(key);
            }
        }
    }

    // Iterative pre-order walk.
    let mut order: Vec<usize> = Vec::with_capacity(n);
    let mut nodes: Vec<Node> = Vec::with_capacity(n);
    let mut stack: Vec<(usize, u32, Option<u32>)> =
        roots.iter().rev().map(|&r| (r, 0u32, None)).collect();
    while let Some((i, depth, parent_row)) = stack.pop() {
        let row = u32::try_from(order.len()).unwrap_or(u32::MAX);
        order.push(i);
        nodes.push(Node {
            parent: parent_row,
            depth,
            subtree_end: row.saturating_add(1),
            origin: origin[i],
        });
        if let Some(kids) = children.get(offsets[i]..offsets[i + 1]) {
            for &c in kids.iter().rev() {
                stack.push((c, depth + 1, Some(row)));
            }
        }
    }
    for row in (0..nodes.len()).rev() {
        let end = nodes[row].subtree_end;
        if let Some(p) = nodes[row].parent {
            if let Some(pn) = nodes.get_mut(p as usize) {
                pn.subtree_end = pn.subtree_end.max(end);
            }
        }
    }

    // Rows in pre-order, moved in place (no second 100k-span allocation); merged copies go last.
    let live = order.len();
    let of_row: Vec<u32> = order
        .iter()
        .map(|&i| service_in.get(i).copied().unwrap_or(0))
        .collect();
    let mut placed = vec![false; n];
    for &i in &order {
        placed[i] = true;
    }
    order.extend((0..n).filter(|&i| !placed[i]));
    permute_on(&mut spans, &order, two);
    spans.truncate(live);
    if start_ns == u64::MAX {
        start_ns = 0;
    }
    let trace = Trace {
        trace_id,
        spans,
        nodes,
        diagnostics: diags.finish(),
        start_ns,
        end_ns,
    };
    (trace, ServiceTable::from_parts(interner, of_row))
}
