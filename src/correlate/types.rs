//! The correlation core's result types: options, pins, unplaced events, timelines.
//!
//! Plain data with serde, shared by the pinning rules, the JSON report, the text renderer and the UI.
//! No logic beyond small helpers and the human sentences that explain a pin or a missing one.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::skew::Skew;
use crate::domain::{ErrorEvent, EventId, SpanId, Trace, TraceId};

/// Tuning knobs for pinning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    /// Sentry tag keys whose value is looked up as a span attribute of the same key (rule 5).
    pub correlation_tags: Vec<String>,
    /// How far outside a span's time range an event may lie and still count as enclosed (rule 6).
    pub enclosing_window_ns: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            correlation_tags: vec![
                "transaction_id".to_owned(),
                "request_id".to_owned(),
                "x-request-id".to_owned(),
            ],
            enclosing_window_ns: 50_000_000,
        }
    }
}

/// Which rule pinned an event to its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Rule 1: `contexts.trace.span_id`, trusted because `contexts.trace.trace_id` is this trace.
    SpanId,
    /// Rule 2: `contexts.otel_trace` or the `otel.trace_id`/`otel.span_id` tags.
    OtelContext,
    /// Rule 3: a span carries the attribute `sentry.event_id` with the event's id.
    SentryEventIdAttribute,
    /// Rule 4: an OTel `exception` span event with the same type and message, below the span rules 1–3
    /// (or 6) found.
    ExceptionEvent,
    /// Rule 5: a correlation tag (e.g. `transaction_id`) equals a span attribute of the same key.
    CorrelationTag,
    /// Rule 6: the deepest span of the event's service whose time range encloses the event.
    EnclosingSpan,
}

impl MatchedBy {
    /// All rules, in the order they are tried.
    pub const ALL: [MatchedBy; 6] = [
        MatchedBy::SpanId,
        MatchedBy::OtelContext,
        MatchedBy::SentryEventIdAttribute,
        MatchedBy::ExceptionEvent,
        MatchedBy::CorrelationTag,
        MatchedBy::EnclosingSpan,
    ];

    /// The stable snake_case code, as serialized.
    pub fn code(&self) -> &'static str {
        match self {
            MatchedBy::SpanId => "span_id",
            MatchedBy::OtelContext => "otel_context",
            MatchedBy::SentryEventIdAttribute => "sentry_event_id_attribute",
            MatchedBy::ExceptionEvent => "exception_event",
            MatchedBy::CorrelationTag => "correlation_tag",
            MatchedBy::EnclosingSpan => "enclosing_span",
        }
    }

    /// How the match was made, in words.
    pub fn describe(&self) -> &'static str {
        match self {
            MatchedBy::SpanId => "matched by span id from the Sentry OTel integration",
            MatchedBy::OtelContext => "matched by the OTel trace and span id set on the event",
            MatchedBy::SentryEventIdAttribute => "matched by the span's sentry.event_id attribute",
            MatchedBy::ExceptionEvent => {
                "matched by the OTel exception recorded where the error was raised"
            }
            MatchedBy::CorrelationTag => "matched by a correlation id shared by tag and span",
            MatchedBy::EnclosingSpan => "placed in the span of its service that was running then",
        }
    }
}

impl fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Where the service of an event was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceSource {
    /// `contexts.otel_trace.service_name`.
    OtelContext,
    /// A tag `service` or `service.name`.
    Tag,
    /// The release's prefix before `@` (`payments@1.4.2` → `payments`).
    Release,
    /// `server_name`, with a `-host` suffix stripped.
    ServerName,
}

/// The span an event's own ids pointed at, when the pin ended up elsewhere.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// Row of that span.
    pub row: usize,
    /// Its span id.
    pub span_id: SpanId,
    /// The rule that found it.
    pub matched_by: MatchedBy,
}

/// One error event attached to one row of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// Index into the events given to `correlate`/`correlate_trace`.
    pub event: usize,
    /// The Sentry event id.
    pub event_id: Option<EventId>,
    /// Row of the span in the timeline's trace.
    pub row: usize,
    /// The span's id.
    pub span_id: SpanId,
    /// The rule that decided the row.
    pub matched_by: MatchedBy,
    /// Event time as sent (Unix ns, the event's own clock).
    pub time_ns: u64,
    /// Event time corrected by its service's estimated clock offset (equal to `time_ns` without skew).
    pub adjusted_time_ns: u64,
    /// The event's service, when known.
    pub service: Option<String>,
    /// Where `service` was read from.
    pub service_source: Option<ServiceSource>,
    /// The span the event's ids pointed at, when the pin moved away from it (captured there, raised
    /// in a descendant; or a span of another service).
    pub anchor: Option<Anchor>,
    /// Index into `trace.spans[row].events` of the OTel `exception` event that is the same error; the
    /// UI shows one marker for both.
    pub span_event: Option<usize>,
}

/// Why an event could not be pinned to a span.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum UnplacedReason {
    /// No trace id, no OTel context, no correlation tag, no span claims it.
    NoTraceContext,
    /// The trace id the event names is not among the loaded traces.
    TraceNotLoaded {
        /// The trace id named.
        trace_id: TraceId,
    },
    /// `contexts.trace.trace_id` is Sentry's own id (SDK not linked to OpenTelemetry).
    DecoySentryTraceId {
        /// The Sentry trace id.
        trace_id: TraceId,
    },
    /// A correlation tag was present but no loaded span carries the same value.
    CorrelationTagNotFound {
        /// Tag key.
        key: String,
        /// Tag value.
        value: String,
    },
    /// The event's span is not in the trace and no span of its service encloses its time.
    SpanNotExported {
        /// The span id the event named.
        span_id: SpanId,
        /// The event's service, when known.
        service: Option<String>,
    },
    /// The event's span belongs to another service and none of the event's service encloses it.
    OtherServiceSpan {
        /// The span id the event named.
        span_id: SpanId,
        /// The service owning that span.
        span_service: String,
        /// The event's service.
        service: String,
    },
    /// The event belongs to this trace but its service could not be told, so no span can be chosen.
    ServiceUnknown,
    /// The event belongs to this trace but no span of its service encloses its time.
    NoEnclosingSpan {
        /// The event's service.
        service: String,
    },
}

impl UnplacedReason {
    /// The stable snake_case code, as serialized in `code`.
    pub fn code(&self) -> &'static str {
        match self {
            UnplacedReason::NoTraceContext => "no_trace_context",
            UnplacedReason::TraceNotLoaded { .. } => "trace_not_loaded",
            UnplacedReason::DecoySentryTraceId { .. } => "decoy_sentry_trace_id",
            UnplacedReason::CorrelationTagNotFound { .. } => "correlation_tag_not_found",
            UnplacedReason::SpanNotExported { .. } => "span_not_exported",
            UnplacedReason::OtherServiceSpan { .. } => "other_service_span",
            UnplacedReason::ServiceUnknown => "service_unknown",
            UnplacedReason::NoEnclosingSpan { .. } => "no_enclosing_span",
        }
    }
}

impl fmt::Display for UnplacedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnplacedReason::NoTraceContext => f.write_str(
                "The event carries no trace id, no OpenTelemetry context and no correlation tag, \
                 so it cannot be linked to any trace.",
            ),
            UnplacedReason::TraceNotLoaded { trace_id } => write!(
                f,
                "The event belongs to trace {trace_id}, which is not among the loaded traces."
            ),
            UnplacedReason::DecoySentryTraceId { trace_id } => write!(
                f,
                "The event's trace id {trace_id} is Sentry's own id (the Sentry SDK is not linked to \
                 OpenTelemetry), so it matches no OpenTelemetry trace."
            ),
            UnplacedReason::CorrelationTagNotFound { key, value } => write!(
                f,
                "The event's tag {key}={value} matches no span attribute in the loaded traces."
            ),
            UnplacedReason::SpanNotExported { span_id, service } => match service {
                Some(s) => write!(
                    f,
                    "The event's span {span_id} is not in the trace (dropped or not sampled), and no \
                     span of {s} was running at the event's time."
                ),
                None => write!(
                    f,
                    "The event's span {span_id} is not in the trace (dropped or not sampled), and the \
                     event's service is unknown, so no enclosing span can be chosen."
                ),
            },
            UnplacedReason::OtherServiceSpan {
                span_id,
                span_service,
                service,
            } => write!(
                f,
                "The event points at span {span_id} of {span_service}, but it was sent by {service}, \
                 and no span of {service} was running at the event's time."
            ),
            UnplacedReason::ServiceUnknown => f.write_str(
                "The event belongs to this trace, but neither its span nor its service (release, \
                 server name, service tag) can be found in it.",
            ),
            UnplacedReason::NoEnclosingSpan { service } => write!(
                f,
                "The event belongs to this trace, but no span of {service} was running at the \
                 event's time."
            ),
        }
    }
}

/// An event that could not be pinned, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unplaced {
    /// Index into the events given.
    pub event: usize,
    /// The Sentry event id.
    pub event_id: Option<EventId>,
    /// Why.
    pub reason: UnplacedReason,
}

/// One trace with its pinned and unplaced events, clock skew and critical path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// The assembled trace (skew diagnostics are appended to its `diagnostics`).
    pub trace: Trace,
    /// Pinned events, ordered by adjusted time (then raw time, then event index).
    pub pins: Vec<Pin>,
    /// Events that belong to this trace but could not be pinned, in event order.
    pub unplaced: Vec<Unplaced>,
    /// Per-service clock offsets and per-row adjustments; raw times stay in `trace`.
    pub skew: Skew,
    /// Rows on the critical path, ascending (pre-order).
    pub critical_path: Vec<usize>,
}

impl Timeline {
    /// A timeline with no spans, spanning `start_ns..end_ns`: errors only, each listed as unplaced.
    pub fn without_spans(
        trace_id: TraceId,
        start_ns: u64,
        end_ns: u64,
        unplaced: Vec<Unplaced>,
    ) -> Timeline {
        Timeline {
            trace: Trace {
                trace_id,
                spans: Vec::new(),
                nodes: Vec::new(),
                diagnostics: Vec::new(),
                start_ns,
                end_ns,
            },
            pins: Vec::new(),
            unplaced,
            skew: Skew::none(0),
            critical_path: Vec::new(),
        }
    }

    /// Pins on a given row.
    pub fn pins_on(&self, row: usize) -> impl Iterator<Item = &Pin> {
        self.pins.iter().filter(move |p| p.row == row)
    }

    /// Is span event `event` of row `row` the same error as a pinned Sentry event (shown as one marker)?
    pub fn is_merged_span_event(&self, row: usize, event: usize) -> bool {
        self.pins
            .iter()
            .any(|p| p.row == row && p.span_event == Some(event))
    }
}

/// Everything `correlate` found: one timeline per trace id, plus events that fit no trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// One timeline per trace id, ordered by trace start.
    pub timelines: Vec<Timeline>,
    /// Events that belong to no loaded trace, in event order.
    pub unplaced: Vec<Unplaced>,
    /// The events given, in order; pins and unplaced entries index into this.
    pub events: Vec<ErrorEvent>,
}
