//! Routing: which loaded trace each event belongs to, or why it belongs to none.
//!
//! An event belongs to the first loaded trace it names (`contexts.trace`, then the OTel context or
//! tags, then the envelope's DSC), else to a trace one of whose spans claims it (`sentry.event_id`
//! attribute, then a correlation tag value, preferring a span running at the event's time). Events that
//! belong nowhere get a top-level [`Unplaced`] reason, telling a decoy Sentry trace id from a trace that
//! is simply not loaded.

use super::event::{
    context_trace_id, event_service, looks_like_sentry_trace_id, named_trace_ids, otel_trace_id,
};
use super::index::{distance, IdMap};
use super::span_finder::SpanFinder;
use super::types::{Options, Unplaced, UnplacedReason};
use crate::domain::{ErrorEvent, TraceId};

/// Events per trace, and events that fit none.
pub struct Routing {
    /// For each trace (same order as given), the indices of its events.
    pub members: Vec<Vec<usize>>,
    /// Events that belong to no loaded trace.
    pub unplaced: Vec<Unplaced>,
}

/// Index of the trace that claims the event through a span attribute: its `sentry.event_id`, else a
/// correlation tag on a span of the event's service running at its time, else (leniently, to find the
/// trace at all) the tag on any span at any time.
fn claimed_by(finders: &[SpanFinder<'_>], event: &ErrorEvent, opts: &Options) -> Option<usize> {
    if let Some(id) = event.event_id {
        if let Some(i) = finders
            .iter()
            .position(|l| l.row_claiming_event(id).is_some())
        {
            return Some(i);
        }
    }
    let t = event.timestamp_ns;
    for key in &opts.correlation_tags {
        let Some(value) = event.tag(key) else {
            continue;
        };
        let near = finders
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                let service = event_service(event, |s| l.has_service(s));
                let svc = service.as_ref().map(|(s, _)| s.as_str());
                l.tag_match(svc, key, value, t, opts.enclosing_window_ns)
                    .map(|(_, d)| (d, i))
            })
            .min();
        if let Some((_, i)) = near {
            return Some(i);
        }
        let anywhere = finders
            .iter()
            .enumerate()
            .filter_map(|(i, l)| {
                l.rows_with_tag(key, value)
                    .iter()
                    .filter_map(|&r| l.trace.spans.get(r as usize))
                    .map(|s| distance(s.start_ns, s.end_ns, t))
                    .min()
                    .map(|d| (d, i))
            })
            .min();
        if let Some((_, i)) = anywhere {
            return Some(i);
        }
    }
    None
}

/// Why an event belongs to no loaded trace.
fn reason_for(event: &ErrorEvent, opts: &Options) -> UnplacedReason {
    if let Some(trace_id) = otel_trace_id(event) {
        return UnplacedReason::TraceNotLoaded { trace_id };
    }
    if let Some(trace_id) = context_trace_id(event) {
        return if looks_like_sentry_trace_id(event) {
            UnplacedReason::DecoySentryTraceId { trace_id }
        } else {
            UnplacedReason::TraceNotLoaded { trace_id }
        };
    }
    if let Some((key, value)) = opts
        .correlation_tags
        .iter()
        .find_map(|k| event.tag(k).map(|v| (k, v)))
    {
        return UnplacedReason::CorrelationTagNotFound {
            key: key.clone(),
            value: value.to_owned(),
        };
    }
    if let Some(trace_id) = event.dsc_trace_id {
        return UnplacedReason::TraceNotLoaded { trace_id };
    }
    UnplacedReason::NoTraceContext
}

/// Routes every event to one trace or to the top-level unplaced list.
pub fn route(finders: &[SpanFinder<'_>], events: &[ErrorEvent], opts: &Options) -> Routing {
    let mut by_id: IdMap<TraceId, usize> = IdMap::default();
    for (i, finder) in finders.iter().enumerate() {
        by_id.entry(finder.trace.trace_id).or_insert(i);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); finders.len()];
    let mut unplaced = Vec::new();
    for (e, event) in events.iter().enumerate() {
        let home = named_trace_ids(event)
            .find_map(|t| by_id.get(&t).copied())
            .or_else(|| claimed_by(finders, event, opts));
        match home.and_then(|h| members.get_mut(h)) {
            Some(list) => list.push(e),
            None => unplaced.push(Unplaced {
                event: e,
                event_id: event.event_id,
                reason: reason_for(event, opts),
            }),
        }
    }
    Routing { members, unplaced }
}

/// Does this event belong to this trace (it names it, or one of its spans claims it)?
pub fn belongs(finder: &SpanFinder<'_>, event: &ErrorEvent, opts: &Options) -> bool {
    let trace_id = finder.trace.trace_id;
    if named_trace_ids(event).any(|t| t == trace_id) {
        return true;
    }
    if event
        .event_id
        .is_some_and(|id| finder.row_claiming_event(id).is_some())
    {
        return true;
    }
    opts.correlation_tags.iter().any(|k| {
        event
            .tag(k)
            .is_some_and(|v| !finder.rows_with_tag(k, v).is_empty())
    })
}
