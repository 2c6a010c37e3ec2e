//! What an error event says about where it belongs: the trace ids it names, its service, its exception.
//!
//! Reads only the [`ErrorEvent`]; knows the Sentry SDK's habits (the decoy `contexts.trace` of an SDK
//! without the OTel integration, `release = service@version`, `server_name = service-host`) but
//! nothing about traces beyond a "does this service exist" callback.

use crate::domain::{ErrorEvent, EventId, SpanId, TraceId};

use super::types::ServiceSource;

/// Origin value the legacy `SentrySpanProcessor` writes into `contexts.trace`: the ids are OTel's.
const OTEL_ORIGIN_PREFIX: &str = "auto.otel";

/// The OTel trace id from `contexts.otel_trace` or the `otel.trace_id` tag.
pub fn otel_trace_id(event: &ErrorEvent) -> Option<TraceId> {
    event
        .otel_context
        .as_ref()
        .and_then(|o| o.trace_id)
        .or_else(|| event.tag("otel.trace_id").and_then(|t| t.parse().ok()))
}

/// The OTel span id from `contexts.otel_trace` or the `otel.span_id` tag.
pub fn otel_span_id(event: &ErrorEvent) -> Option<SpanId> {
    event
        .otel_context
        .as_ref()
        .and_then(|o| o.span_id)
        .or_else(|| event.tag("otel.span_id").and_then(|t| t.parse().ok()))
}

/// `contexts.trace.trace_id`.
pub fn context_trace_id(event: &ErrorEvent) -> Option<TraceId> {
    event.trace_context.as_ref().and_then(|c| c.trace_id)
}

/// `contexts.trace.span_id`.
pub fn context_span_id(event: &ErrorEvent) -> Option<SpanId> {
    event.trace_context.as_ref().and_then(|c| c.span_id)
}

/// Trace ids the event names, strongest first: `contexts.trace`, the OTel context or tags, the DSC.
pub fn named_trace_ids(event: &ErrorEvent) -> impl Iterator<Item = TraceId> {
    [
        context_trace_id(event),
        otel_trace_id(event),
        event.dsc_trace_id,
    ]
    .into_iter()
    .flatten()
}

/// Does `contexts.trace` look like the Sentry SDK's own ids rather than OTel's?
///
/// Telltales: a `parent_span_id`, or a DSC trace id equal to it, without the legacy span processor's
/// `auto.otel` origin (whose ids are OTel's). Only meaningful once the id matched no loaded trace.
pub fn looks_like_sentry_trace_id(event: &ErrorEvent) -> bool {
    let Some(ctx) = event.trace_context.as_ref() else {
        return false;
    };
    let Some(trace_id) = ctx.trace_id else {
        return false;
    };
    if ctx
        .origin
        .as_deref()
        .is_some_and(|o| o.starts_with(OTEL_ORIGIN_PREFIX))
    {
        return false;
    }
    ctx.parent_span_id.is_some() || event.dsc_trace_id == Some(trace_id)
}

/// The event's id as stored in a span's `sentry.event_id` attribute (hex, dashes allowed).
pub fn parse_event_id_attr(text: &str) -> Option<EventId> {
    if text.len() == 32 {
        return text.parse().ok();
    }
    let compact: String = text.chars().filter(|c| *c != '-').collect();
    compact.parse().ok()
}

/// The service an event came from, read from what the payload carries, in order: `otel_trace`
/// service name, tag `service`/`service.name`, release prefix, server name without `-host`. A source
/// counts only when `exists` accepts its value (a service present in the trace).
pub fn event_service(
    event: &ErrorEvent,
    exists: impl Fn(&str) -> bool,
) -> Option<(String, ServiceSource)> {
    let candidates = [
        (
            event
                .otel_context
                .as_ref()
                .and_then(|o| o.service_name.as_deref()),
            ServiceSource::OtelContext,
        ),
        (event.tag("service"), ServiceSource::Tag),
        (event.tag("service.name"), ServiceSource::Tag),
        (
            event
                .release
                .as_deref()
                .and_then(|r| r.split_once('@').map(|(svc, _)| svc)),
            ServiceSource::Release,
        ),
        (
            event
                .server_name
                .as_deref()
                .map(|s| s.strip_suffix("-host").unwrap_or(s)),
            ServiceSource::ServerName,
        ),
    ];
    candidates
        .into_iter()
        .filter_map(|(value, source)| value.map(|v| (v.trim(), source)))
        .find(|(v, _)| !v.is_empty() && exists(v))
        .map(|(v, source)| (v.to_owned(), source))
}

/// The part of an exception type after the last `.` (drops a module prefix like `__main__.`).
pub fn short_type(ty: &str) -> &str {
    ty.rsplit('.').next().unwrap_or(ty)
}

/// `(short type, message)` keys of the event's exceptions, the main (last) one first.
pub fn exception_keys(event: &ErrorEvent) -> impl Iterator<Item = (&str, &str)> {
    event.exceptions.iter().rev().filter_map(|e| {
        let ty = e.ty.as_deref()?;
        Some((short_type(ty), e.value.as_deref().unwrap_or("")))
    })
}
