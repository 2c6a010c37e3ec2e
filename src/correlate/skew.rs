//! Clock skew: a per-service clock offset estimated from parent/child pairs that cross services.
//!
//! A server span cannot start before the client span that called it nor end after it; a consumer cannot
//! start before its producer started. When a service's spans break those bounds, its clock is off. Each
//! crossing pair gives an interval of shifts that would make it consistent; the offset is the middle of
//! their intersection (Jaeger-like centring), or 0 when the pairs are already consistent. Services are
//! resolved in order of first appearance, so offsets chain through the call graph. Raw times are never
//! changed: [`Skew`] holds per-service offsets and a per-row adjustment to add for display.

use std::collections::HashMap;

use super::index::ServiceTable;
use serde::{Deserialize, Serialize};

use crate::domain::{Diagnostic, DiagnosticKind, RowOrigin, SpanKind, Trace};

/// The estimated clock offset of one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceOffset {
    /// The service.
    pub service: String,
    /// How far its clock runs ahead of the reference clock, in ns (negative: behind).
    pub offset_ns: i64,
    /// The service whose spans it was measured against (the callers' service).
    pub reference: String,
    /// How many crossing parent/child pairs the estimate rests on.
    pub pairs: usize,
}

/// Clock offsets of a timeline: raw times stay in the trace; adjusted = raw + `adjust[row]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Skew {
    /// Services whose clock was found off, in order of first appearance.
    pub services: Vec<ServiceOffset>,
    /// Per row, the ns to add to raw times to get adjusted times (`-offset_ns` of the row's service).
    pub adjust: Vec<i64>,
}

impl Skew {
    /// No skew for a trace of `rows` rows.
    pub fn none(rows: usize) -> Self {
        Self {
            services: Vec::new(),
            adjust: vec![0; rows],
        }
    }

    /// True when no service's clock was found off.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// The clock offset of a service (0 when none was estimated).
    pub fn offset_of(&self, service: &str) -> i64 {
        self.services
            .iter()
            .find(|s| s.service == service)
            .map_or(0, |s| s.offset_ns)
    }

    /// The adjustment of a row (0 for unknown rows).
    pub fn adjust_of(&self, row: usize) -> i64 {
        self.adjust.get(row).copied().unwrap_or(0)
    }

    /// A raw time of row `row`, corrected for its service's clock.
    pub fn adjusted(&self, row: usize, raw_ns: u64) -> u64 {
        raw_ns.saturating_add_signed(self.adjust_of(row))
    }

    /// A raw event time, corrected for the clock of the event's service (events share it).
    pub fn adjusted_event_time(&self, service: Option<&str>, raw_ns: u64) -> u64 {
        let offset = service.map_or(0, |s| self.offset_of(s));
        raw_ns.saturating_add_signed(offset.saturating_neg())
    }
}

/// The smallest offset taken for clock skew (100 µs): below it, timestamps' own resolution (browsers
/// coarsen `performance.now()` to 100 µs, some runtimes round to the microsecond or worse) explains a
/// child that pokes out of its parent as well as a clock would.
pub const MIN_SKEW_NS: i128 = 100_000;

fn signed(t: u64) -> i128 {
    i128::from(t)
}

/// Shifts (ns) that would make one crossing pair consistent: `[lo, hi]`, `hi = None` for unbounded.
fn pair_interval(
    parent: (i128, i128, SpanKind),
    child: (i128, i128, SpanKind),
) -> (i128, Option<i128>) {
    let (ps, pe, pk) = parent;
    let (cs, ce, ck) = child;
    if pk == SpanKind::Producer || ck == SpanKind::Consumer {
        return (ps - cs, None);
    }
    if ce - cs <= pe - ps {
        (ps - cs, Some(pe - ce))
    } else {
        let centred = ps + ((pe - ps) - (ce - cs)) / 2 - cs;
        (centred, Some(centred))
    }
}

fn preferred(lo: i128, hi: Option<i128>) -> i128 {
    match hi {
        _ if lo <= 0 && hi.is_none_or(|h| h >= 0) => 0,
        Some(h) => lo + (h - lo) / 2,
        None => lo,
    }
}

/// Chooses one shift for a service from its crossing pairs.
fn choose(intervals: &[(i128, Option<i128>)]) -> i128 {
    let lo = intervals.iter().map(|i| i.0).max().unwrap_or(0);
    let hi = intervals.iter().filter_map(|i| i.1).min();
    if hi.is_none_or(|h| lo <= h) {
        return preferred(lo, hi);
    }
    let mut prefs: Vec<i128> = intervals.iter().map(|&(l, h)| preferred(l, h)).collect();
    prefs.sort_unstable();
    prefs.get(prefs.len() / 2).copied().unwrap_or(0)
}

fn ms(ns: i64) -> String {
    format!("{:.1} ms", ns as f64 / 1e6)
}

/// Estimates per-service clock offsets; returns them with one `ClockSkew` diagnostic per service.
pub fn estimate(trace: &Trace) -> (Skew, Vec<Diagnostic>) {
    estimate_with(trace, &ServiceTable::new(trace))
}

/// [`estimate`] with the trace's services already interned.
pub fn estimate_with(trace: &Trace, services: &ServiceTable) -> (Skew, Vec<Diagnostic>) {
    let names: Vec<&str> = services.names.iter().map(String::as_str).collect();
    let svc_of_row: Vec<usize> = services.of_row.iter().map(|&s| s as usize).collect();
    // Crossing pairs, grouped by child service.
    let mut pairs: Vec<Vec<(usize, usize)>> = vec![Vec::new(); names.len()];
    for (row, node) in trace.nodes.iter().enumerate() {
        let Some(p) = node.parent.map(|p| p as usize) else {
            continue;
        };
        let (Some(&cs), Some(&ps)) = (svc_of_row.get(row), svc_of_row.get(p)) else {
            continue;
        };
        let real = |r: usize| {
            trace
                .nodes
                .get(r)
                .is_some_and(|n| n.origin == RowOrigin::Span)
        };
        if cs != ps && real(row) && real(p) {
            if let Some(list) = pairs.get_mut(cs) {
                list.push((p, row));
            }
        }
    }
    let mut shift: Vec<i128> = vec![0; names.len()];
    let mut services = Vec::new();
    let mut diagnostics = Vec::new();
    for svc in 0..names.len() {
        let mut intervals = Vec::new();
        let mut refs: HashMap<usize, usize> = HashMap::new();
        for &(p, c) in pairs.get(svc).map_or(&[][..], Vec::as_slice) {
            let ps = svc_of_row.get(p).copied().unwrap_or(svc);
            if ps >= svc {
                continue; // caller's clock not resolved yet
            }
            let (Some(pspan), Some(cspan)) = (trace.spans.get(p), trace.spans.get(c)) else {
                continue;
            };
            let sh = shift.get(ps).copied().unwrap_or(0);
            intervals.push(pair_interval(
                (
                    signed(pspan.start_ns) + sh,
                    signed(pspan.end_ns) + sh,
                    pspan.kind,
                ),
                (signed(cspan.start_ns), signed(cspan.end_ns), cspan.kind),
            ));
            *refs.entry(ps).or_insert(0) += 1;
        }
        if intervals.is_empty() {
            continue;
        }
        let chosen = choose(&intervals);
        // Less than timestamps can be trusted to: rounding and timer resolution, not a clock that is
        // off. Neither applied nor announced (a generated trace whose innermost spans all last the
        // same microsecond otherwise showed one "0.0 ms ahead" notice per service).
        if chosen.abs() < MIN_SKEW_NS {
            continue;
        }
        if let Some(s) = shift.get_mut(svc) {
            *s = chosen;
        }
        let offset = i64::try_from(-chosen).unwrap_or(if chosen < 0 { i64::MAX } else { i64::MIN });
        let reference = refs
            .iter()
            .max_by_key(|&(&s, &count)| (count, std::cmp::Reverse(s)))
            .and_then(|(&s, _)| names.get(s))
            .copied()
            .unwrap_or_default();
        let service = names.get(svc).copied().unwrap_or_default();
        let direction = if offset > 0 { "ahead of" } else { "behind" };
        diagnostics.push(Diagnostic::general(
            DiagnosticKind::ClockSkew,
            format!(
                "The clock of {service} appears {} {direction} {reference} (from {} call(s) \
                 crossing the services); its spans and errors are shown shifted by {}, raw times \
                 are kept.",
                ms(offset.saturating_abs()),
                intervals.len(),
                ms(offset.saturating_neg())
            ),
        ));
        services.push(ServiceOffset {
            service: service.to_owned(),
            offset_ns: offset,
            reference: reference.to_owned(),
            pairs: intervals.len(),
        });
    }
    let adjust = svc_of_row
        .iter()
        .map(|&s| {
            let sh = shift.get(s).copied().unwrap_or(0);
            i64::try_from(sh).unwrap_or(if sh < 0 { i64::MIN } else { i64::MAX })
        })
        .collect();
    (Skew { services, adjust }, diagnostics)
}
