//! Pinning: attach each Sentry event to the span that failed, record how, or say why not.
//!
//! Each rule is one small function of the same shape, [`Rule`]: it looks at a [`RuleInput`] (the trace's
//! [`SpanFinder`], the event, the event's service, the options) and returns the row it found, or `None`
//! and perhaps a clue. [`RULES`] holds them in the order they are tried, next to the [`MatchedBy`] each
//! records; the first rule that finds a row wins. Adding a rule is one function and one line there.
//!
//! Rules (see [`MatchedBy`]): (1) `contexts.trace.span_id` when `contexts.trace.trace_id` is this trace
//! and the span belongs to the event's service; (2) the OTel context or tags; (3) a span's
//! `sentry.event_id` attribute; (5) a correlation tag equal to a span attribute; (6) the deepest span of
//! the event's service enclosing the event time (within a window), preferring the subtree of a span the
//! event pointed at in another service. Rule (4) is not in the list: [`refine`] applies it to whatever
//! row a rule found, moving down to the descendant that recorded the same exception as an OTel
//! `exception` event; a rule-5 row that no exception refines goes down to the deepest span of the
//! event's service running at the event's time inside the tagged span.
//!
//! Clues (the event's span is not in the trace, or belongs to another service) are left by rules 1–2 in
//! [`Clues`]; rule 6 reads them, and they explain an [`Unplaced`] reason when no rule finds a row.
//! Never panics; each rule is an index lookup. Must not route events between traces (that is
//! [`super::route`]) nor build indices (that is [`SpanFinder`]).

use std::cell::Cell;

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

/// A pinning rule: the row it finds for the event, if any. It may leave clues in `input.clues`.
type Rule = fn(&RuleInput<'_, '_>) -> Option<Found>;

/// The rules in the order they are tried, each with the [`MatchedBy`] it records. Rule 4 (refinement by
/// exception) is applied by [`refine`] to the row any of them finds.
const RULES: &[(MatchedBy, Rule)] = &[
    (MatchedBy::SpanId, context_span),
    (MatchedBy::OtelContext, otel_span),
    (MatchedBy::SentryEventIdAttribute, claiming_span),
    (MatchedBy::CorrelationTag, tagged_span),
    (MatchedBy::EnclosingSpan, enclosing_span),
];

/// What every rule sees.
struct RuleInput<'a, 't> {
    finder: &'a SpanFinder<'t>,
    event: &'a ErrorEvent,
    /// The event's service, when it names one present in the trace.
    service: Option<&'a str>,
    opts: &'a Options,
    clues: Clues,
}

/// Context collected while the rules ran, to explain a failure or to steer rule 6.
#[derive(Default)]
struct Clues {
    /// The event's span id was not in the trace.
    not_exported: Cell<Option<SpanId>>,
    /// The event's span belongs to another service (row).
    other_service: Cell<Option<usize>>,
}

/// A row found by a rule, before refinement.
struct Found {
    row: usize,
    /// A span of another service the event pointed at, reported as the anchor when refinement names
    /// none (rule 6).
    pointed_at: Option<usize>,
}

impl Found {
    fn at(row: usize) -> Self {
        Found {
            row,
            pointed_at: None,
        }
    }
}

/// A found row after rule 4: where the pin goes and how it got there.
struct Refined {
    row: usize,
    matched_by: MatchedBy,
    anchor: Option<Anchor>,
    span_event: Option<usize>,
}

/// Rule 1: `contexts.trace.span_id`, trusted when `contexts.trace.trace_id` is this trace and the span
/// belongs to the event's service. Leaves a clue when the span is missing or of another service.
fn context_span(input: &RuleInput<'_, '_>) -> Option<Found> {
    let RuleInput {
        finder,
        event,
        service,
        clues,
        ..
    } = input;
    if context_trace_id(event) != Some(finder.trace.trace_id) {
        return None;
    }
    let sid = context_span_id(event)?;
    let Some(row) = finder.row_of(sid) else {
        clues.not_exported.set(Some(sid));
        return None;
    };
    match service {
        Some(svc) if finder.service_of(row) != Some(*svc) => {
            clues.other_service.set(Some(row));
            None
        }
        _ => Some(Found::at(row)),
    }
}

/// Rule 2: the span id of `contexts.otel_trace` or the `otel.span_id` tag, unless the OTel trace id
/// names another trace. Leaves a clue when the span is missing (unless rule 1 left one).
fn otel_span(input: &RuleInput<'_, '_>) -> Option<Found> {
    let RuleInput {
        finder,
        event,
        clues,
        ..
    } = input;
    if otel_trace_id(event).is_some_and(|t| t != finder.trace.trace_id) {
        return None;
    }
    let sid = otel_span_id(event)?;
    let found = finder.row_of(sid).map(Found::at);
    if found.is_none() && clues.not_exported.get().is_none() {
        clues.not_exported.set(Some(sid));
    }
    found
}

/// Rule 3: the span whose `sentry.event_id` attribute is the event's id.
fn claiming_span(input: &RuleInput<'_, '_>) -> Option<Found> {
    input
        .finder
        .row_claiming_event(input.event.event_id?)
        .map(Found::at)
}

/// Rule 5: a correlation tag whose value a span of the event's service carries (any service when the
/// event's service is unknown), the deepest running at the event's time (within the window).
fn tagged_span(input: &RuleInput<'_, '_>) -> Option<Found> {
    let RuleInput {
        finder,
        event,
        service,
        opts,
        ..
    } = input;
    opts.correlation_tags.iter().find_map(|key| {
        let value = event.tag(key)?;
        let (row, _) = finder.tag_match(
            *service,
            key,
            value,
            event.timestamp_ns,
            opts.enclosing_window_ns,
        )?;
        Some(Found::at(row))
    })
}

/// Rule 6: the deepest span of the event's service enclosing the event time (within the window),
/// searched first in the subtree of the other-service span rule 1 found, then in the whole trace.
fn enclosing_span(input: &RuleInput<'_, '_>) -> Option<Found> {
    let RuleInput {
        finder,
        event,
        service,
        opts,
        clues,
    } = input;
    let svc = (*service)?;
    let (t, window) = (event.timestamp_ns, opts.enclosing_window_ns);
    let pointed_at = clues.other_service.get();
    let in_pointed =
        pointed_at.and_then(|a| finder.enclosing(svc, t, window, a..finder.subtree_end(a)));
    let row =
        in_pointed.or_else(|| finder.enclosing(svc, t, window, 0..finder.trace.spans.len()))?;
    Some(Found { row, pointed_at })
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
    let input = RuleInput {
        finder,
        event,
        service,
        opts,
        clues: Clues::default(),
    };
    let placed = RULES
        .iter()
        .find_map(|&(rule, find)| Some(refine(&input, rule, find(&input)?)));

    match placed {
        Some(p) => Placement::Pinned(Pin {
            event: event_index,
            event_id: event.event_id,
            row: p.row,
            span_id: span_id_at(finder, p.row),
            matched_by: p.matched_by,
            time_ns: t,
            adjusted_time_ns: skew.adjusted_event_time(service, t),
            service: service.map(str::to_owned),
            service_source: source,
            anchor: p.anchor,
            span_event: p.span_event,
        }),
        None => {
            let clues = &input.clues;
            let reason = match (clues.other_service.get(), clues.not_exported.get(), service) {
                (Some(row), _, Some(svc)) => UnplacedReason::OtherServiceSpan {
                    span_id: span_id_at(finder, row),
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

fn span_id_at(finder: &SpanFinder<'_>, row: usize) -> SpanId {
    finder.trace.spans.get(row).map_or(SPAN_ZERO, |s| s.span_id)
}

/// Rule 4, applied to the row `rule` found: down to the span in its subtree that recorded the same
/// exception (the found span becomes the anchor when that is another span). A rule-5 row no exception
/// refines goes down to the deepest span of the event's service running at the event's time inside it.
/// Without any other anchor, a span the rule says the event pointed at is the anchor.
fn refine(input: &RuleInput<'_, '_>, rule: MatchedBy, found: Found) -> Refined {
    let RuleInput { finder, event, .. } = input;
    let anchor_of = |row: usize, matched_by: MatchedBy| Anchor {
        row,
        span_id: span_id_at(finder, row),
        matched_by,
    };
    let by_exception =
        exception_keys(event).find_map(|(ty, msg)| finder.exception_in_subtree(found.row, ty, msg));
    let mut refined = if let Some((row, span_event)) = by_exception {
        let moved = row != found.row;
        Refined {
            row,
            matched_by: if moved {
                MatchedBy::ExceptionEvent
            } else {
                rule
            },
            anchor: moved.then(|| anchor_of(found.row, rule)),
            span_event: Some(span_event),
        }
    } else if let Some(row) = running_inside_tagged(input, rule, found.row) {
        Refined {
            row,
            matched_by: rule,
            anchor: Some(anchor_of(found.row, rule)),
            span_event: None,
        }
    } else {
        Refined {
            row: found.row,
            matched_by: rule,
            anchor: None,
            span_event: None,
        }
    };
    if refined.anchor.is_none() {
        refined.anchor = found
            .pointed_at
            .map(|row| anchor_of(row, MatchedBy::SpanId));
    }
    refined
}

/// For a rule-5 row: the deepest span of the event's service running at the event's time strictly
/// inside the tagged span's subtree (another row than the tagged one).
fn running_inside_tagged(input: &RuleInput<'_, '_>, rule: MatchedBy, row: usize) -> Option<usize> {
    let svc = match (rule, input.service) {
        (MatchedBy::CorrelationTag, Some(svc)) => svc,
        _ => return None,
    };
    let finder = input.finder;
    finder
        .enclosing(
            svc,
            input.event.timestamp_ns,
            0,
            row..finder.subtree_end(row),
        )
        .filter(|&r| r != row)
}

#[cfg(test)]
mod tests {
    use super::{MatchedBy, RULES};

    #[test]
    fn rules_are_tried_in_the_documented_order() {
        let listed: Vec<MatchedBy> = RULES.iter().map(|(m, _)| *m).collect();
        let documented: Vec<MatchedBy> = MatchedBy::ALL
            .into_iter()
            .filter(|m| *m != MatchedBy::ExceptionEvent)
            .collect();
        assert_eq!(listed, documented);
    }
}
