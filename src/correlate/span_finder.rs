//! [`SpanFinder`]: finds the span (row) of one assembled trace that a pinning or routing rule asks for:
//! by span id, by a `sentry.event_id` attribute, by an OTel exception event below a row, by a
//! correlation-tag value, or by the time it was running in a service. Built once per trace and lazily
//! where costly.
//!
//! Built eagerly: the interned services of every row (one pass over the spans). On demand: span id →
//! row for the ids the events name (one scan of the rows against a small set, instead of a map of every
//! span), per-service interval indices, OTel exception events by `(type, message)`, `sentry.event_id`
//! attributes, and correlation-tag values. Read-only over a borrowed [`Trace`]; must not decide which
//! rule wins (that is [`super::pin`]) nor change the trace. The generic index structures it uses (id
//! hasher, interval index, service table) live in [`super::index`].

use std::cell::OnceCell;
use std::collections::HashMap;

use super::event::{parse_event_id_attr, short_type};
use super::index::{distance, span_key, IdMap, ServiceIndex, ServiceTable};
use crate::domain::{attr, EventId, RowOrigin, SpanId, Trace};

/// Name of the OTel span event that records an exception.
pub const EXCEPTION_EVENT: &str = "exception";

pub use super::keys::EVENT_ID_ATTRS;

/// Two string keys to a list, looked up by `&str` without tying lifetimes together.
type NestedMap<'a, T> = HashMap<&'a str, HashMap<&'a str, Vec<T>>>;

/// Row, span-event index, span-event time.
type ExceptionHit = (u32, u32, u64);

/// Best candidate so far: (distance, deeper first, later start first, row).
type Rank = (u64, std::cmp::Reverse<u32>, std::cmp::Reverse<u64>, usize);

/// Finds spans of one assembled trace for the pinning and routing rules.
pub struct SpanFinder<'a> {
    /// The trace.
    pub trace: &'a Trace,
    /// Interned services of every row.
    pub services: ServiceTable,
    wanted: IdMap<u64, Option<u32>>,
    by_id: OnceCell<IdMap<u64, u32>>,
    intervals: OnceCell<ServiceIndex>,
    exceptions: OnceCell<NestedMap<'a, ExceptionHit>>,
    event_ids: OnceCell<IdMap<EventId, u32>>,
    tags: OnceCell<NestedMap<'a, u32>>,
    tag_keys: Vec<String>,
}

impl<'a> SpanFinder<'a> {
    /// Indexes a trace; `tag_keys` are the correlation tag keys to index on demand.
    pub fn new(trace: &'a Trace, tag_keys: &[String]) -> Self {
        Self::with_services(trace, ServiceTable::new(trace), tag_keys)
    }

    /// Like [`Self::new`], with the services already interned (by assembly).
    pub fn with_services(trace: &'a Trace, services: ServiceTable, tag_keys: &[String]) -> Self {
        Self {
            trace,
            services,
            wanted: IdMap::default(),
            by_id: OnceCell::new(),
            intervals: OnceCell::new(),
            exceptions: OnceCell::new(),
            event_ids: OnceCell::new(),
            tags: OnceCell::new(),
            tag_keys: tag_keys.to_vec(),
        }
    }

    fn is_real(&self, row: usize) -> bool {
        self.trace
            .nodes
            .get(row)
            .is_some_and(|n| n.origin == RowOrigin::Span)
    }

    /// Resolves these span ids to rows in one scan of the trace, so that [`Self::row_of`] answers them
    /// without a map of every span.
    pub fn index_span_ids(&mut self, ids: impl IntoIterator<Item = SpanId>) {
        for id in ids {
            self.wanted.entry(span_key(id)).or_insert(None);
        }
        if self.wanted.is_empty() {
            return;
        }
        for (row, (span, node)) in self.trace.spans.iter().zip(&self.trace.nodes).enumerate() {
            if node.origin != RowOrigin::Span {
                continue;
            }
            if let Some(slot) = self.wanted.get_mut(&span_key(span.span_id)) {
                if slot.is_none() {
                    *slot = u32::try_from(row).ok();
                }
            }
        }
    }

    /// Row of a real span with this id (the first, when an id was kept twice).
    pub fn row_of(&self, span_id: SpanId) -> Option<usize> {
        if let Some(found) = self.wanted.get(&span_key(span_id)) {
            return found.map(|r| r as usize);
        }
        let map = self.by_id.get_or_init(|| {
            let mut map: IdMap<u64, u32> = IdMap::default();
            map.reserve(self.trace.spans.len());
            for (row, span) in self.trace.spans.iter().enumerate() {
                if let (true, Ok(r)) = (self.is_real(row), u32::try_from(row)) {
                    map.entry(span_key(span.span_id)).or_insert(r);
                }
            }
            map
        });
        map.get(&span_key(span_id)).map(|&r| r as usize)
    }

    /// Does the trace hold spans of this service?
    pub fn has_service(&self, service: &str) -> bool {
        self.services.id(service).is_some()
    }

    /// Service of a row.
    pub fn service_of(&self, row: usize) -> Option<&str> {
        self.services.of(row).and_then(|id| self.services.name(id))
    }

    /// One past the last row of `row`'s subtree.
    pub fn subtree_end(&self, row: usize) -> usize {
        self.trace
            .nodes
            .get(row)
            .map_or(row + 1, |n| n.subtree_end as usize)
    }

    fn depth(&self, row: usize) -> u32 {
        self.trace.nodes.get(row).map_or(0, |n| n.depth)
    }

    fn intervals(&self) -> &ServiceIndex {
        self.intervals
            .get_or_init(|| ServiceIndex::new(&self.services))
    }

    /// The best row of `service` near `t`: enclosing it (distance 0) if any, else nearest within
    /// `window`; ties go to the deepest, then the latest start. Only rows in `range` passing `accept`.
    fn nearest(
        &self,
        service: &str,
        t: u64,
        window: u64,
        range: std::ops::Range<usize>,
        accept: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let svc = self.services.id(service)?;
        let mut best: Option<Rank> = None;
        let consider = |best: &mut Option<Rank>, row: usize, start: u64, end: u64| {
            if !range.contains(&row) || !accept(row) {
                return;
            }
            let rank = (
                distance(start, end, t),
                std::cmp::Reverse(self.depth(row)),
                std::cmp::Reverse(start),
                row,
            );
            if best.as_ref().is_none_or(|b| rank < *b) {
                *best = Some(rank);
            }
        };
        let lo = t.saturating_sub(window);
        let hi = t.saturating_add(window);
        if range.len() <= 64 {
            for row in range.clone() {
                let Some(span) = self.trace.spans.get(row) else {
                    continue;
                };
                if self.is_real(row)
                    && self.services.of(row) == Some(svc)
                    && span.start_ns <= hi
                    && span.end_ns >= lo
                {
                    consider(&mut best, row, span.start_ns, span.end_ns);
                }
            }
        } else {
            let idx = self.intervals().service(self.trace, &self.services, svc)?;
            // Exact containment first: few hits; widen only when nothing encloses `t`.
            idx.for_each_overlapping(t, t, |r, s, e| consider(&mut best, r, s, e));
            if best.is_none() && window > 0 {
                idx.for_each_overlapping(lo, hi, |r, s, e| consider(&mut best, r, s, e));
            }
        }
        best.map(|b| b.3)
    }

    /// The row of `service` whose time range is nearest `t` within `window` (0 = encloses it), among
    /// rows in `range`; ties go to the deepest, then the latest start.
    pub fn enclosing(
        &self,
        service: &str,
        t: u64,
        window: u64,
        range: std::ops::Range<usize>,
    ) -> Option<usize> {
        self.nearest(service, t, window, range, |_| true)
    }

    /// Like [`Self::enclosing`], among spans whose attribute `key` is the string `value`.
    pub fn tagged_near(
        &self,
        service: &str,
        key: &str,
        value: &str,
        t: u64,
        window: u64,
    ) -> Option<usize> {
        let has_tag = |row: usize| {
            self.trace
                .spans
                .get(row)
                .and_then(|s| s.attr(key))
                .and_then(|v| v.as_str())
                == Some(value)
        };
        self.nearest(service, t, window, 0..self.trace.spans.len(), has_tag)
    }

    fn exception_index(&self) -> &NestedMap<'a, ExceptionHit> {
        self.exceptions.get_or_init(|| {
            let mut map: NestedMap<'a, ExceptionHit> = HashMap::new();
            for (row, span) in self.trace.spans.iter().enumerate() {
                for (i, ev) in span.events.iter().enumerate() {
                    if ev.name != EXCEPTION_EVENT {
                        continue;
                    }
                    let Some(ty) = attr(&ev.attributes, "exception.type").and_then(|v| v.as_str())
                    else {
                        continue;
                    };
                    let msg = attr(&ev.attributes, "exception.message")
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    let (Ok(row), Ok(i)) = (u32::try_from(row), u32::try_from(i)) else {
                        continue;
                    };
                    map.entry(short_type(ty))
                        .or_default()
                        .entry(msg)
                        .or_default()
                        .push((row, i, ev.time_ns));
                }
            }
            map
        })
    }

    /// The OTel exception event with this `(short type, message)` in the subtree of `row` (inclusive),
    /// on a span of the same service as `row`: the deepest, then the earliest. Returns `(row, span
    /// event index)`.
    pub fn exception_in_subtree(&self, row: usize, ty: &str, msg: &str) -> Option<(usize, usize)> {
        let hits = self.exception_index().get(ty)?.get(msg)?;
        let end = self.subtree_end(row);
        let service = self.services.of(row);
        hits.iter()
            .filter(|&&(r, _, _)| (row..end).contains(&(r as usize)))
            .filter(|&&(r, _, _)| self.services.of(r as usize) == service)
            .min_by_key(|&&(r, i, t)| (std::cmp::Reverse(self.depth(r as usize)), t, r, i))
            .map(|&(r, i, _)| (r as usize, i as usize))
    }

    /// Row of the span whose `sentry.event_id` (or `sentry.event.id`) attribute, on the span or one of
    /// its span events, is this event id.
    pub fn row_claiming_event(&self, id: EventId) -> Option<usize> {
        self.event_ids
            .get_or_init(|| {
                let mut map: IdMap<EventId, u32> = IdMap::default();
                for (row, span) in self.trace.spans.iter().enumerate() {
                    let Ok(row) = u32::try_from(row) else { break };
                    // On the span itself, or on one of its span events (an `exception` event
                    // that names the Sentry event it was reported as).
                    let span_events = span.events.iter().flat_map(|e| e.attributes.iter());
                    for kv in span.attributes.iter().chain(span_events) {
                        if !EVENT_ID_ATTRS.contains(&&*kv.key) {
                            continue;
                        }
                        if let Some(id) = kv.value.as_str().and_then(parse_event_id_attr) {
                            map.entry(id).or_insert(row);
                        }
                    }
                }
                map
            })
            .get(&id)
            .map(|&r| r as usize)
    }

    /// Rows whose attribute `key` (one of the configured tag keys) has the text `value` (a full index,
    /// built on first use; for events whose service is unknown).
    pub fn rows_with_tag(&self, key: &str, value: &str) -> &[u32] {
        let map = self.tags.get_or_init(|| {
            let mut map: NestedMap<'a, u32> = HashMap::new();
            for (row, span) in self.trace.spans.iter().enumerate() {
                let Ok(row) = u32::try_from(row) else { break };
                for kv in &span.attributes {
                    if let Some(v) = kv.value.as_str() {
                        if self.tag_keys.iter().any(|t| **t == *kv.key) {
                            map.entry(&*kv.key)
                                .or_default()
                                .entry(v)
                                .or_default()
                                .push(row);
                        }
                    }
                }
            }
            map
        });
        map.get(key)
            .and_then(|m| m.get(value))
            .map_or(&[], Vec::as_slice)
    }

    /// The span carrying correlation tag `key=value` nearest the event time `t` (within `window`):
    /// among spans of `service` when it is known, else among all. Returns `(row, distance)`.
    pub fn tag_match(
        &self,
        service: Option<&str>,
        key: &str,
        value: &str,
        t: u64,
        window: u64,
    ) -> Option<(usize, u64)> {
        let row = match service {
            Some(svc) => self.tagged_near(svc, key, value, t, window)?,
            None => {
                self.rows_with_tag(key, value)
                    .iter()
                    .map(|&r| r as usize)
                    .filter_map(|r| {
                        let s = self.trace.spans.get(r)?;
                        let d = distance(s.start_ns, s.end_ns, t);
                        (d <= window).then_some((d, std::cmp::Reverse(self.depth(r)), r))
                    })
                    .min()?
                    .2
            }
        };
        let s = self.trace.spans.get(row)?;
        Some((row, distance(s.start_ns, s.end_ns, t)))
    }
}
