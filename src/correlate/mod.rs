//! Correlation core: flat spans and error events in, one timeline out.
//!
//! `assemble` builds a pre-order [`crate::domain::Trace`] and repairs bad data with diagnostics; `route`
//! says which trace each event belongs to; `pin` attaches each Sentry event to the span that failed
//! (its rules ask a per-trace `span_finder`) and records how (`matched_by`), or says why it cannot;
//! `skew` estimates per-service clock offsets; `critical_path` finds the chain of spans that determines
//! the trace's end; `compare` says how a failing trace differs from healthy ones of the same kind.
//! Pure functions only: no I/O, no leptos/axum/tokio, never panics on data.
//!
//! Entry points: [`correlate`] (spans of any number of traces plus events; every event ends up exactly
//! once, pinned, unplaced inside the timeline of the trace it names, or unplaced at the top level) and
//! [`correlate_trace`] (one assembled trace plus candidate events). `report` writes the CLI's stable
//! JSON, `text` an ASCII waterfall.

pub mod assemble;
pub mod compare;
pub mod critical_path;
pub mod event;
pub mod index;
pub mod keys;
pub mod merge;
pub mod pin;
pub mod report;
pub mod route;
pub mod skew;
pub mod span_finder;
pub mod text;
pub mod types;

#[cfg(test)]
mod tests;

pub use skew::{ServiceOffset, Skew};
pub use types::{
    Anchor, Correlation, MatchedBy, Options, Pin, ServiceSource, Timeline, Unplaced, UnplacedReason,
};

use crate::domain::{ErrorEvent, Span, Trace};

use pin::Placement;
use span_finder::SpanFinder;

/// From this many spans, pinning and the critical path run side by side.
const PARALLEL_FROM_SPANS: usize = 50_000;

/// Pins, unplaced events, skew and critical path of one trace, before the trace moves into a timeline.
struct Parts {
    pins: Vec<Pin>,
    unplaced: Vec<Unplaced>,
    skew: Skew,
    critical_path: Vec<usize>,
    diagnostics: Vec<crate::domain::Diagnostic>,
}

fn correlate_parts(
    finder: &SpanFinder<'_>,
    events: &[ErrorEvent],
    members: &[usize],
    opts: &Options,
) -> Parts {
    let (skew, diagnostics) = skew::estimate_with(finder.trace, &finder.services);
    let place_all = || {
        let mut pins = Vec::new();
        let mut unplaced = Vec::new();
        for &i in members {
            let Some(event) = events.get(i) else {
                continue;
            };
            match pin::place(finder, &skew, i, event, opts) {
                Placement::Pinned(p) => pins.push(p),
                Placement::Unplaced(u) => unplaced.push(u),
            }
        }
        pins.sort_by_key(|p| (p.adjusted_time_ns, p.time_ns, p.event));
        unplaced.sort_by_key(|u| u.event);
        (pins, unplaced)
    };
    // Both walk every span of a large trace: the critical path on a second thread meanwhile.
    let trace: &Trace = finder.trace;
    let ((pins, unplaced), critical_path) = if trace.spans.len() >= PARALLEL_FROM_SPANS {
        let (path, placed) = side_by_side(|| critical_path::critical_path(trace, &skew), place_all);
        (placed, path)
    } else {
        (place_all(), critical_path::critical_path(trace, &skew))
    };
    Parts {
        pins,
        unplaced,
        skew,
        critical_path,
        diagnostics,
    }
}

/// Runs `a` on a second thread while `b` runs on this one, and returns both results; a panic on the
/// second thread goes on here.
pub fn side_by_side<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|s| {
        let other = s.spawn(a);
        let here = b();
        match other.join() {
            Ok(there) => (there, here),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

fn into_timeline(mut trace: Trace, parts: Parts) -> Timeline {
    trace.diagnostics.extend(parts.diagnostics);
    Timeline {
        trace,
        pins: parts.pins,
        unplaced: parts.unplaced,
        skew: parts.skew,
        critical_path: parts.critical_path,
    }
}

/// Assembles spans into traces (one per trace id), pins every event, estimates skew and critical path.
///
/// Every event appears exactly once in the result: as a pin, as unplaced in the timeline of the trace
/// it belongs to (it names the trace, or a span claims it), or as unplaced at the top level.
pub fn correlate(spans: Vec<Span>, events: Vec<ErrorEvent>, opts: &Options) -> Correlation {
    let (traces, services): (Vec<Trace>, Vec<index::ServiceTable>) =
        assemble::assemble_with_services(spans).into_iter().unzip();
    let (parts, unplaced) = {
        let mut finders: Vec<SpanFinder<'_>> = traces
            .iter()
            .zip(services)
            .map(|(t, s)| SpanFinder::with_services(t, s, &opts.correlation_tags))
            .collect();
        let routing = route::route(&finders, &events, opts);
        for (finder, members) in finders.iter_mut().zip(&routing.members) {
            finder.index_span_ids(
                members
                    .iter()
                    .filter_map(|&i| events.get(i))
                    .flat_map(pin::named_span_ids),
            );
        }
        let parts: Vec<Parts> = finders
            .iter()
            .zip(&routing.members)
            .map(|(finder, members)| correlate_parts(finder, &events, members, opts))
            .collect();
        (parts, routing.unplaced)
    };
    let timelines = traces
        .into_iter()
        .zip(parts)
        .map(|(trace, parts)| into_timeline(trace, parts))
        .collect();
    Correlation {
        timelines,
        unplaced,
        events,
    }
}

/// Pins candidate events onto one already-assembled trace.
///
/// Considers the events that belong to this trace (they name its trace id in `contexts.trace`, the OTel
/// context or tags, or the DSC; or a span carries their `sentry.event_id` or a correlation tag value);
/// the others are left out, since they belong elsewhere. Pin and unplaced indices refer to `events`.
pub fn correlate_trace(trace: Trace, events: &[ErrorEvent], opts: &Options) -> Timeline {
    let parts = {
        let mut finder = SpanFinder::new(&trace, &opts.correlation_tags);
        let members: Vec<usize> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| route::belongs(&finder, e, opts))
            .map(|(i, _)| i)
            .collect();
        finder.index_span_ids(
            members
                .iter()
                .filter_map(|&i| events.get(i))
                .flat_map(pin::named_span_ids),
        );
        correlate_parts(&finder, events, &members, opts)
    };
    into_timeline(trace, parts)
}
