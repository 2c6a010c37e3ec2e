//! Pinning: attach each Sentry event to the span that failed, record how, or say why not.
//!
//! Rules, in order (see [`MatchedBy`]): (1) `contexts.trace.span_id` when `contexts.trace.trace_id` is
//! this trace and the span belongs to the event's service; (2) the OTel context or tags; (3) a span's
//! `sentry.event_id` attribute; (4) refinement of 1–3 (and 6) down to the descendant that recorded the
//! same exception as an OTel `exception` event; (5) a correlation tag equal to a span attribute, refined
//! by exception or, failing that, to the deepest span of the event's service running at the event's
//! time inside the tagged span; (6) the deepest span of the event's service enclosing the event time
//! (within a window), preferring the subtree of a span the event pointed at in another service.
//! Anything else is [`Unplaced`] with a reason. Never panics; each rule is an index lookup.

use super::event::{
    context_span_id, context_trace_id, event_service, exception_keys, otel_span_id, otel_trace_id,
};
use super::skew::Skew;
use super::span_finder::SpanFinder;
use super::types::{Anchor, MatchedBy, Options, Pin, ServiceSource, Unplaced, UnplacedReason};
use crate::domain::{ErrorEvent, SpanId};

/// The outcome for one event.
pub enum Placement {
    /// Pinned.
    Pinned(Pin),
    /// Belongs to the trace but not pinned.
    Unplaced(Unplaced),
}

/// A row found by a rule, before refinement.
struct Found {
    row: usize,
    rule: MatchedBy,
}

/// Context collected while the rules ran, to explain a failure or to steer rule 6.
#[derive(Default)]
struct Clues {
    /// The event's span id was not in the trace.
    not_exported: Option<SpanId>,
    /// The event's span belongs to another service (row).
    other_service: Option<usize>,
}

/// Refines a row down to the span in its subtree that recorded the same exception (rule 4).
fn refine_by_exception(
    finder: &SpanFinder<'_>,
    event: &ErrorEvent,
    row: usize,
) -> Option<(usize, usize)> {
    exception_keys(event).find_map(|(ty, msg)| finder.exception_in_subtree(row, ty, msg))
}

/// Rules 1–3: the span the event's own ids point at.
fn by_ids(
    finder: &SpanFinder<'_>,
    event: &ErrorEvent,
    service: Option<&str>,
    clues: &mut Clues,
) -> Option<Found> {
    let trace_id = finder.trace.trace_id;
    if context_trace_id(event) == Some(trace_id) {
        if let Some(sid) = context_span_id(event) {
            match finder.row_of(sid) {
                Some(row) => {
                    let owner = finder.service_of(row);
                    match service {
                        Some(svc) if owner != Some(svc) => clues.other_service = Some(row),
                        _ => {
                            return Some(Found {
                                row,
                                rule: MatchedBy::SpanId,
                            })
                        }
                    }
                }
                None => clues.not_exported = Some(sid),
            }
        }
    }
    if otel_trace_id(event).is_none_or(|t| t == trace_id) {
        if let Some(sid) = otel_span_id(event) {
            match finder.row_of(sid) {
                Some(row) => {
                    return Some(Found {
                        row,
                        rule: MatchedBy::OtelContext,
                    })
                }
                None => {
                    clues.not_exported.get_or_insert(sid);
                }
            }
        }
    }
    let row = finder.row_claiming_event(event.event_id?)?;
    Some(Found {
        row,
        rule: MatchedBy::SentryEventIdAttribute,
    })
}

/// Rule 5: a correlation tag whose value a span of the event's service carries (any service when the
/// event's service is unknown), the deepest running at the event's time (within the window).
fn by_tag(
    finder: &SpanFinder<'_>,
    event: &ErrorEvent,
    service: Option<&str>,
    opts: &Options,
) -> Option<Found> {
    opts.correlation_tags.iter().find_map(|key| {
        let value = event.tag(key)?;
        let (row, _) = finder.tag_match(
            service,
            key,
            value,
            event.timestamp_ns,
            opts.enclosing_window_ns,
        )?;
        Some(Found {
            row,
            rule: MatchedBy::CorrelationTag,
        })
    })
}

/// The span ids an event names (for [`SpanFinder::index_span_ids`]).
pub fn named_span_ids(event: &ErrorEvent) -> impl Iterator<Item = SpanId> {
    [context_span_id(event), otel_span_id(event)]
        .into_iter()
        .flatten()
}

/// Places one event that belongs to this trace.
pub fn place(
    finder: &SpanFinder<'_>,
    skew: &Skew,
    event_index: usize,
    event: &ErrorEvent,
    opts: &Options,
) -> Placement {
    let resolved = event_service(event, |s| finder.has_service(s));
    let service = resolved.as_ref().map(|(s, _)| s.as_str());
    let source: Option<ServiceSource> = resolved.as_ref().map(|(_, src)| *src);
    let t = event.timestamp_ns;
    let mut clues = Clues::default();

    // (row, rule, anchor, span event)
    let mut result: Option<(usize, MatchedBy, Option<Anchor>, Option<usize>)> = None;
    if let Some(found) = by_ids(finder, event, service, &mut clues) {
        result = Some(refine(finder, event, found, None));
    } else if let Some(found) = by_tag(finder, event, service, opts) {
        let (row, rule, anchor, span_event) = refine(finder, event, found, service);
        result = Some((row, rule, anchor, span_event));
    } else if let Some(svc) = service {
        let full = 0..finder.trace.spans.len();
        let in_anchor = clues.other_service.and_then(|a| {
            finder.enclosing(svc, t, opts.enclosing_window_ns, a..finder.subtree_end(a))
        });
        let row = in_anchor.or_else(|| finder.enclosing(svc, t, opts.enclosing_window_ns, full));
        if let Some(row) = row {
            let found = Found {
                row,
                rule: MatchedBy::EnclosingSpan,
            };
            let (row, rule, anchor, span_event) = refine(finder, event, found, None);
            let anchor = anchor.or_else(|| {
                clues.other_service.map(|a| Anchor {
                    row: a,
                    span_id: finder.trace.spans.get(a).map_or(SPAN_ZERO, |s| s.span_id),
                    matched_by: MatchedBy::SpanId,
                })
            });
            result = Some((row, rule, anchor, span_event));
        }
    }

    match result {
        Some((row, matched_by, anchor, span_event)) => {
            let span_id = finder.trace.spans.get(row).map_or(SPAN_ZERO, |s| s.span_id);
            Placement::Pinned(Pin {
                event: event_index,
                event_id: event.event_id,
                row,
                span_id,
                matched_by,
                time_ns: t,
                adjusted_time_ns: skew.adjusted_event_time(service, t),
                service: service.map(str::to_owned),
                service_source: source,
                anchor,
                span_event,
            })
        }
        None => {
            let reason = match (clues.other_service, clues.not_exported, service) {
                (Some(row), _, Some(svc)) => UnplacedReason::OtherServiceSpan {
                    span_id: finder.trace.spans.get(row).map_or(SPAN_ZERO, |s| s.span_id),
                    span_service: finder.service_of(row).unwrap_or_default().to_owned(),
                    service: svc.to_owned(),
                },
                (_, Some(span_id), svc) => UnplacedReason::SpanNotExported {
                    span_id,
                    service: svc.map(str::to_owned),
                },
                (_, _, None) => UnplacedReason::ServiceUnknown,
                (_, _, Some(svc)) => UnplacedReason::NoEnclosingSpan {
                    service: svc.to_owned(),
                },
            };
            Placement::Unplaced(Unplaced {
                event: event_index,
                event_id: event.event_id,
                reason,
            })
        }
    }
}

/// Placeholder id for the impossible case of a row index out of range (never produced by assembly).
const SPAN_ZERO: SpanId = SpanId([0, 0, 0, 0, 0, 0, 0, 1]);

/// Applies rule 4 (and, for rule 5 with `time_service`, the time refinement) to a found row.
fn refine(
    finder: &SpanFinder<'_>,
    event: &ErrorEvent,
    found: Found,
    time_service: Option<&str>,
) -> (usize, MatchedBy, Option<Anchor>, Option<usize>) {
    let anchor_of = |f: &Found| Anchor {
        row: f.row,
        span_id: finder
            .trace
            .spans
            .get(f.row)
            .map_or(SPAN_ZERO, |s| s.span_id),
        matched_by: f.rule,
    };
    if let Some((row, span_event)) = refine_by_exception(finder, event, found.row) {
        if row == found.row {
            return (row, found.rule, None, Some(span_event));
        }
        return (
            row,
            MatchedBy::ExceptionEvent,
            Some(anchor_of(&found)),
            Some(span_event),
        );
    }
    if let (MatchedBy::CorrelationTag, Some(svc)) = (found.rule, time_service) {
        let end = finder.subtree_end(found.row);
        if let Some(row) = finder.enclosing(svc, event.timestamp_ns, 0, found.row..end) {
            if row != found.row {
                return (row, found.rule, Some(anchor_of(&found)), None);
            }
        }
    }
    (found.row, found.rule, None, None)
}
