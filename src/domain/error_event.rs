//! Sentry error events, converted from envelopes or the Web API into one strict shape.
//!
//! An [`ErrorEvent`] keeps what a person needs to understand the error (title, exception chain with
//! frames, breadcrumbs, tags, release, user) and every field that can link it to a span
//! (`contexts.trace`, `contexts.otel_trace`, tags, the envelope's dynamic sampling context). Pinning
//! rules live in `correlate::pin`; this module only holds data.

use serde::{Deserialize, Serialize};

use super::ids::{EventId, SpanId, TraceId};

/// `contexts.trace` of a Sentry event.
///
/// With the Sentry SDK's OpenTelemetry integration these are the OTel ids; without it they are Sentry's
/// own ids, shaped exactly like OTel ids but unrelated (a decoy).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TraceContext {
    /// `contexts.trace.trace_id`.
    pub trace_id: Option<TraceId>,
    /// `contexts.trace.span_id`.
    pub span_id: Option<SpanId>,
    /// `contexts.trace.parent_span_id` (absent with the OTLP integration).
    pub parent_span_id: Option<SpanId>,
    /// `contexts.trace.op`.
    pub op: Option<String>,
    /// `contexts.trace.origin` (e.g. `auto.otel` for the legacy span processor).
    pub origin: Option<String>,
}

/// `contexts.otel_trace`, set by hand by teams that link Sentry to OpenTelemetry themselves.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OtelContext {
    /// The OTel trace id.
    pub trace_id: Option<TraceId>,
    /// The OTel span id.
    pub span_id: Option<SpanId>,
    /// The OTel `service.name`, when given.
    pub service_name: Option<String>,
}

/// One stack frame.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Frame {
    /// Function name.
    pub function: Option<String>,
    /// Module or package.
    pub module: Option<String>,
    /// File name as shown.
    pub filename: Option<String>,
    /// Absolute path.
    pub abs_path: Option<String>,
    /// Line number.
    pub lineno: Option<u32>,
    /// Column number.
    pub colno: Option<u32>,
    /// Whether the frame is application code.
    pub in_app: bool,
    /// Source lines before the failing line.
    pub pre_context: Vec<String>,
    /// The failing line.
    pub context_line: Option<String>,
    /// Source lines after the failing line.
    pub post_context: Vec<String>,
}

/// How the exception was captured.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Mechanism {
    /// Mechanism type, e.g. `generic`, `logging`, `otlp`.
    pub kind: Option<String>,
    /// Whether the application handled the exception.
    pub handled: Option<bool>,
}

/// One exception of the chain, outermost last as Sentry stores it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExceptionValue {
    /// Exception type, e.g. `GatewayTimeout`.
    pub ty: Option<String>,
    /// Module of the type, e.g. `__main__`.
    pub module: Option<String>,
    /// Exception message.
    pub value: Option<String>,
    /// Capture mechanism.
    pub mechanism: Option<Mechanism>,
    /// Stack frames, oldest call first (Sentry order).
    pub frames: Vec<Frame>,
}

/// A breadcrumb recorded before the error.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Breadcrumb {
    /// Unix nanoseconds, when known.
    pub timestamp_ns: Option<u64>,
    /// Breadcrumb type (`default`, `http`, …).
    pub ty: Option<String>,
    /// Category, e.g. `httplib`.
    pub category: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// Level.
    pub level: Option<String>,
    /// Extra data rendered as `key=value` pairs.
    pub data: Vec<(String, String)>,
}

/// The user the event happened to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct User {
    /// User id.
    pub id: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// User name.
    pub username: Option<String>,
    /// IP address.
    pub ip_address: Option<String>,
}

/// A Sentry error event in tracepin's strict shape.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorEvent {
    /// Sentry event id.
    pub event_id: Option<EventId>,
    /// Numeric issue (group) id, when known (Web API).
    pub issue_id: Option<String>,
    /// Short id such as `SHOP-12`, when known.
    pub short_id: Option<String>,
    /// Project slug or id.
    pub project: Option<String>,
    /// Title as Sentry shows it (`Type: message` or the log message).
    pub title: String,
    /// Culprit / transaction name.
    pub culprit: Option<String>,
    /// Level (`error`, `warning`, `fatal`, …).
    pub level: String,
    /// Event time, Unix nanoseconds.
    pub timestamp_ns: u64,
    /// Release, e.g. `payments@1.4.2`.
    pub release: Option<String>,
    /// Environment.
    pub environment: Option<String>,
    /// Server name.
    pub server_name: Option<String>,
    /// Platform, e.g. `python`.
    pub platform: Option<String>,
    /// The user.
    pub user: Option<User>,
    /// Tags, in the order given.
    pub tags: Vec<(String, String)>,
    /// `contexts.trace`.
    pub trace_context: Option<TraceContext>,
    /// `contexts.otel_trace`.
    pub otel_context: Option<OtelContext>,
    /// Trace id from the envelope header's dynamic sampling context (`trace.trace_id`), if any.
    pub dsc_trace_id: Option<TraceId>,
    /// Exception chain (innermost first is Sentry's `values` order reversed; we keep Sentry's order).
    pub exceptions: Vec<ExceptionValue>,
    /// Log message (`logentry` / `message`) for events without an exception.
    pub message: Option<String>,
    /// Breadcrumbs, oldest first.
    pub breadcrumbs: Vec<Breadcrumb>,
    /// Link to the event in Sentry, when known.
    pub sentry_url: Option<String>,
    /// The SDK's `fingerprint` (how the app asked for it to be grouped), empty when not given.
    #[serde(default)]
    pub fingerprint: Vec<String>,
}

impl ErrorEvent {
    /// Looks up a tag value by key (case-sensitive, as Sentry stores them).
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The exception the event is about: the last value in Sentry's chain.
    pub fn main_exception(&self) -> Option<&ExceptionValue> {
        self.exceptions.last()
    }
}
