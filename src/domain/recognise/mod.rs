//! The "paste anything" recogniser: turns what a person pastes (an id, a header value, a log line, a link
//! from Sentry, Grafana, Jaeger, Tempo or tracepin itself) into a [`Lookup`], or says in one sentence
//! why it cannot.
//!
//! Pure: no I/O, and nothing is ever fetched. Links are parsed with the `url` crate only to read ids out
//! of their paths and query strings. Compiles for the server and for WebAssembly alike. Must not contact
//! a host, resolve an id against a store, or panic on any input.
//!
//! Order of attempts ([`recognise`]): a whole-input link ([`links`]); `label=value` fields (`trace_id=`,
//! `traceparent:`, `"event_id": "…"`, …, in [`text`]); a bare value (traceparent, sentry-trace,
//! uber-trace-id, 32 or 16 hex digits, an issue number, a short id, in [`values`]); finally, for text
//! with spaces, the one id or link inside it ([`text`]).
//!
//! This module owns the public types, the accepted forms, the order of attempts and the helpers every
//! input family shares (noise stripping, message snippets).

mod links;
mod text;
mod values;

#[cfg(test)]
mod tests;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::{EventId, SpanId, TraceId};
use links::{parse_link, recognise_link};
use text::{extract_from_text, scan_labels};
use values::recognise_value;

/// Longest input read, in bytes; anything longer is refused before any parsing.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

/// What a pasted text names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// Certainly a trace (16-hex Jaeger ids padded to 32 with leading zeros).
    Trace {
        /// The trace.
        trace_id: TraceId,
        /// The span to focus, when the input named one.
        span_id: Option<SpanId>,
        /// The Sentry event to focus, when the input named one.
        event_id: Option<EventId>,
    },
    /// 32 hex digits (or a dashed UUID) with nothing saying which: a trace id or a Sentry event id.
    TraceOrEvent {
        /// 32 lowercase hex digits, not all zero.
        id: String,
    },
    /// Certainly a Sentry event (Sentry event URL, tracepin /event/ link, `event_id=` label ...).
    Event {
        /// The event.
        event_id: EventId,
        /// The Sentry issue (numeric id) the link named, if any.
        issue_id: Option<String>,
    },
    /// A Sentry issue by numeric id (digits only).
    Issue {
        /// Digits only, no leading zeros.
        issue_id: String,
    },
    /// A Sentry short id, uppercased, e.g. `SHOP-12`, `BACKEND-API-3F`.
    ShortId {
        /// Uppercased short id.
        short_id: String,
    },
}

/// A recognised input: what it names and what it was recognised as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recognised {
    /// What the input names.
    pub lookup: Lookup,
    /// What the input was recognised as.
    pub form: Form,
}

/// What an input was recognised as; [`Form::describe`] names it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Form {
    /// 32 hex digits.
    HexId32,
    /// A dashed UUID (8-4-4-4-12 hex digits).
    DashedUuid,
    /// 16 hex digits: a 64-bit Jaeger trace id.
    JaegerId16,
    /// A W3C `traceparent` value.
    Traceparent,
    /// A Sentry `sentry-trace` header value.
    SentryTrace,
    /// A Jaeger `uber-trace-id` header value.
    UberTraceId,
    /// Labelled fields such as `trace_id=…`, `"event_id": "…"`, a log line.
    Labelled,
    /// A numeric Sentry issue id.
    IssueNumber,
    /// A Sentry short id.
    ShortId,
    /// A Sentry issue page.
    SentryIssueLink,
    /// A Sentry event page (issue event, Discover or Performance event).
    SentryEventLink,
    /// A Sentry trace view.
    SentryTraceLink,
    /// A Sentry search by `trace:` (issues list, Explore).
    SentrySearchLink,
    /// A Grafana Explore link on a trace.
    GrafanaExplore,
    /// A Grafana Traces Drilldown link on a trace.
    GrafanaTracesDrilldown,
    /// A Jaeger UI trace page.
    JaegerUi,
    /// A Jaeger UI search by trace id.
    JaegerSearch,
    /// A Tempo (or Jaeger) API trace URL.
    TempoApi,
    /// A Zipkin UI trace page.
    ZipkinUi,
    /// A tracepin trace link.
    TracepinTrace,
    /// A tracepin event link.
    TracepinEvent,
    /// A tracepin issue link.
    TracepinIssue,
    /// Any other link with a `trace_id`-like query parameter.
    TraceParameterLink,
}

impl Form {
    /// A short name for people, e.g. "Jaeger UI link", "W3C traceparent".
    pub const fn describe(&self) -> &'static str {
        match self {
            Form::HexId32 => "32-hex-digit id",
            Form::DashedUuid => "dashed UUID",
            Form::JaegerId16 => "16-hex-digit Jaeger trace id",
            Form::Traceparent => "W3C traceparent",
            Form::SentryTrace => "sentry-trace header",
            Form::UberTraceId => "Jaeger uber-trace-id header",
            Form::Labelled => "labelled fields (trace_id=…, event_id=…)",
            Form::IssueNumber => "Sentry issue number",
            Form::ShortId => "Sentry short id",
            Form::SentryIssueLink => "Sentry issue link",
            Form::SentryEventLink => "Sentry event link",
            Form::SentryTraceLink => "Sentry trace view link",
            Form::SentrySearchLink => "Sentry search by trace",
            Form::GrafanaExplore => "Grafana Explore link",
            Form::GrafanaTracesDrilldown => "Grafana Traces Drilldown link",
            Form::JaegerUi => "Jaeger UI link",
            Form::JaegerSearch => "Jaeger search link",
            Form::TempoApi => "Tempo API link",
            Form::ZipkinUi => "Zipkin UI link",
            Form::TracepinTrace => "tracepin trace link",
            Form::TracepinEvent => "tracepin event link",
            Form::TracepinIssue => "tracepin issue link",
            Form::TraceParameterLink => "link with a trace_id parameter",
        }
    }
}

/// Why an input was not recognised, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrecognised {
    /// One sentence, e.g. "31 hex digits: one short of a trace id".
    pub message: String,
}

impl fmt::Display for Unrecognised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unrecognised {}

/// Every accepted form with an example, for the "accepted forms" message. Each example is recognised as
/// its form (a test checks this).
pub const ACCEPTED_FORMS: &[(&str, &str)] = &[
    (Form::HexId32.describe(), "4bf92f3577b34da6a3ce929d0e0e4736"),
    (Form::DashedUuid.describe(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
    (Form::JaegerId16.describe(), "a3ce929d0e0e4736"),
    (
        Form::Traceparent.describe(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ),
    (
        Form::SentryTrace.describe(),
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    ),
    (
        Form::UberTraceId.describe(),
        "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
    ),
    (
        Form::Labelled.describe(),
        "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    ),
    (Form::IssueNumber.describe(), "4509123456"),
    (Form::ShortId.describe(), "SHOP-12"),
    (
        Form::SentryIssueLink.describe(),
        "https://acme.sentry.io/issues/4509123456/",
    ),
    (
        Form::SentryEventLink.describe(),
        "https://acme.sentry.io/issues/4509123456/events/0af7651916cd43dd8448eb211c80319c/",
    ),
    (
        Form::SentryTraceLink.describe(),
        "https://acme.sentry.io/performance/trace/4bf92f3577b34da6a3ce929d0e0e4736/?node=span-00f067aa0ba902b7",
    ),
    (
        Form::SentrySearchLink.describe(),
        "https://acme.sentry.io/issues/?query=trace:4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::GrafanaExplore.describe(),
        r#"https://grafana.example.com/explore?panes={"a":{"queries":[{"query":"4bf92f3577b34da6a3ce929d0e0e4736"}]}}"#,
    ),
    (
        Form::GrafanaTracesDrilldown.describe(),
        "https://grafana.example.com/a/grafana-exploretraces-app/explore?traceId=4bf92f3577b34da6a3ce929d0e0e4736&spanId=00f067aa0ba902b7",
    ),
    (
        Form::JaegerUi.describe(),
        "https://jaeger.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=00f067aa0ba902b7",
    ),
    (
        Form::JaegerSearch.describe(),
        "https://jaeger.example.com/search?traceID=4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::TempoApi.describe(),
        "https://tempo.example.com/api/v2/traces/4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::ZipkinUi.describe(),
        "https://zipkin.example.com/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::TracepinTrace.describe(),
        "https://tracepin.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736?v=1&span=00f067aa0ba902b7",
    ),
    (
        Form::TracepinEvent.describe(),
        "https://tracepin.example.com/event/0af7651916cd43dd8448eb211c80319c",
    ),
    (
        Form::TracepinIssue.describe(),
        "https://tracepin.example.com/issue/SHOP-12",
    ),
    (
        Form::TraceParameterLink.describe(),
        "https://logs.example.com/view?trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    ),
];

/// Recognises what `input` names. Never panics; reads at most [`MAX_INPUT_BYTES`].
pub fn recognise(input: &str) -> Result<Recognised, Unrecognised> {
    recognise_at(input, 0)
}

fn recognise_at(input: &str, depth: u8) -> Result<Recognised, Unrecognised> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(no(format!(
            "too long: {} bytes, and tracepin reads at most 8 KiB",
            input.len()
        )));
    }
    let text = strip_noise(input);
    if text.is_empty() {
        return Err(no(if input.trim().is_empty() {
            "empty input"
        } else {
            "only punctuation, no id"
        }));
    }
    if let Some(link) = parse_link(text) {
        return recognise_link(&link?, depth);
    }
    let label_error = match scan_labels(text) {
        Some(Ok(found)) => return Ok(found),
        Some(Err(e)) => Some(e),
        None => None,
    };
    let value_error = match recognise_value(text) {
        Ok((lookup, form)) => return Ok(Recognised { lookup, form }),
        Err(e) => e,
    };
    if text.contains(char::is_whitespace) {
        if let Some(found) = extract_from_text(text, depth)? {
            return Ok(found);
        }
    }
    Err(label_error.unwrap_or(value_error))
}

// ---------------------------------------------------------------------------------------------------
// Helpers shared by every input family

fn no(message: impl Into<String>) -> Unrecognised {
    Unrecognised {
        message: message.into(),
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Zero-width characters that ride along in copies from chat tools and documents.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// At most 40 characters of `s` for a message, control characters replaced.
fn snippet(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// Strips what surrounds a pasted value: whitespace, zero-width characters, quotes, backticks, angle
/// brackets, a bracket pair, and trailing sentence punctuation.
fn strip_noise(mut s: &str) -> &str {
    const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’', '«', '»'];
    loop {
        let before = s.len();
        s = s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
        s = s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        s = s.trim_start_matches('(');
        s = s.trim_matches(QUOTES);
        s = s.trim_start_matches('<').trim_end_matches('>');
        if let Some(inner) = s.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            s = inner;
        }
        if s.len() == before {
            return s;
        }
    }
}

/// `s` without dashes, whitespace and zero-width characters.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '-' && !c.is_whitespace() && !is_invisible(*c))
        .collect()
}

fn trace(trace_id: TraceId, span_id: Option<SpanId>, event_id: Option<EventId>) -> Lookup {
    Lookup::Trace {
        trace_id,
        span_id,
        event_id,
    }
}
