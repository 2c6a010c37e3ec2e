//! How spans, resources and events are written into rows and read back, and the keys derived from
//! them at write time: an event's grouping key and the trace it is filed under, a span's link keys.
//!
//! Rows hold JSON (serde over the domain types, whose attribute values are untagged and need a
//! self-describing format). A span row leaves out what its columns or its resource row already hold
//! (ids, service, resource attributes), so a resource shared by many spans is stored once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::correlate::event::{named_trace_ids, otel_trace_id, parse_event_id_attr, short_type};
use crate::correlate::keys::EVENT_ID_ATTRS;
use crate::domain::{
    ErrorEvent, EventId, KeyValue, Span, SpanEvent, SpanId, SpanKind, SpanLink, SpanStatus,
    ThinVec, TraceId,
};

/// What a span row's `data` holds.
#[derive(Serialize)]
struct SpanOut<'a> {
    p: Option<SpanId>,
    n: &'a str,
    k: SpanKind,
    s: u64,
    e: u64,
    st: &'a SpanStatus,
    a: &'a [KeyValue],
    ev: &'a [SpanEvent],
    l: &'a [SpanLink],
    sc: Option<&'a str>,
}

#[derive(Deserialize)]
struct SpanIn {
    p: Option<SpanId>,
    n: String,
    k: SpanKind,
    s: u64,
    e: u64,
    st: SpanStatus,
    #[serde(default)]
    a: ThinVec<KeyValue>,
    #[serde(default)]
    ev: ThinVec<SpanEvent>,
    #[serde(default)]
    l: ThinVec<SpanLink>,
    #[serde(default)]
    sc: Option<String>,
}

/// A resource row's body: the service name and the resource attributes.
#[derive(Serialize, Deserialize)]
struct ResourceBody<'a> {
    service: std::borrow::Cow<'a, str>,
    attrs: std::borrow::Cow<'a, [KeyValue]>,
}

/// A decoded resource row.
#[derive(Clone)]
pub(super) struct Resource {
    pub service: Arc<str>,
    pub attrs: Arc<[KeyValue]>,
}

/// The `data` of a span row.
pub(super) fn span_data(s: &Span) -> Vec<u8> {
    let out = SpanOut {
        p: s.parent_span_id,
        n: &s.name,
        k: s.kind,
        s: s.start_ns,
        e: s.end_ns,
        st: &s.status,
        a: &s.attributes,
        ev: &s.events,
        l: &s.links,
        sc: s.scope.as_deref(),
    };
    // Serializing domain values to JSON cannot fail (string keys, finite structures); an empty
    // object keeps the row readable if it ever did.
    serde_json::to_vec(&out).unwrap_or_else(|_| b"{}".to_vec())
}

/// The body of a span's resource row.
pub(super) fn resource_body(s: &Span) -> String {
    let body = ResourceBody {
        service: std::borrow::Cow::Borrowed(&s.service),
        attrs: std::borrow::Cow::Borrowed(&s.resource),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// Reads a resource row's body.
pub(super) fn resource(body: &str) -> Resource {
    match serde_json::from_str::<ResourceBody<'_>>(body) {
        Ok(r) => Resource {
            service: Arc::from(&*r.service),
            attrs: r.attrs.into_owned().into(),
        },
        Err(_) => Resource {
            service: "unknown_service".into(),
            attrs: Vec::new().into(),
        },
    }
}

/// Rebuilds a span from its row.
pub(super) fn span(
    trace_id: TraceId,
    span_id: SpanId,
    resource: &Resource,
    data: &[u8],
) -> Result<Span, String> {
    let mut s: SpanIn = serde_json::from_slice(data).map_err(|e| e.to_string())?;
    // Share each attribute key with every other span using it, as the decoders do.
    for kv in
        s.a.iter_mut()
            .chain(s.ev.iter_mut().flat_map(|e| e.attributes.iter_mut()))
    {
        kv.key = crate::connectors::formats::intern::key(&kv.key);
        if let crate::domain::AttrValue::Str(v) = &mut kv.value {
            *v = crate::connectors::formats::intern::text(v);
        }
    }
    Ok(Span {
        trace_id,
        span_id,
        parent_span_id: s.p,
        service: Arc::clone(&resource.service),
        name: crate::connectors::formats::intern::text(&s.n),
        kind: s.k,
        start_ns: s.s,
        end_ns: s.e,
        status: s.st,
        attributes: s.a,
        events: s.ev,
        links: s.l,
        resource: Arc::clone(&resource.attrs),
        scope: s.sc.map(Arc::from),
    })
}

/// The `data` of an event row.
pub(super) fn event_data(e: &ErrorEvent) -> Vec<u8> {
    serde_json::to_vec(e).unwrap_or_else(|_| b"{}".to_vec())
}

/// Rebuilds an event from its row.
pub(super) fn event(data: &[u8]) -> Result<ErrorEvent, String> {
    serde_json::from_slice(data).map_err(|e| e.to_string())
}

/// The trace an event is filed under (and evicted with): its OpenTelemetry trace id, else the first
/// trace id it names.
pub(super) fn home_trace(e: &ErrorEvent) -> Option<TraceId> {
    otel_trace_id(e).or_else(|| named_trace_ids(e).next())
}

/// Every trace id the event names.
pub(super) fn named_traces(e: &ErrorEvent) -> Vec<TraceId> {
    let mut ids: Vec<TraceId> = otel_trace_id(e)
        .into_iter()
        .chain(named_trace_ids(e))
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The SDK fingerprint entry that stands for the default grouping.
const DEFAULT_FINGERPRINT: &str = "{{ default }}";

/// How events group into issues: the project, then the SDK fingerprint when the app gave one (with
/// `{{ default }}` expanded), else the exception type and the frame that raised it (the newest in-app
/// frame, else the newest frame), else the message.
pub(super) fn group_key(e: &ErrorEvent) -> String {
    let project = e.project.as_deref().unwrap_or("");
    let default = default_group(e);
    let custom = match e.fingerprint.as_slice() {
        [] => false,
        [only] => only != DEFAULT_FINGERPRINT,
        _ => true,
    };
    if custom {
        let parts: Vec<&str> = e
            .fingerprint
            .iter()
            .map(|p| {
                if p == DEFAULT_FINGERPRINT {
                    default.as_str()
                } else {
                    p.as_str()
                }
            })
            .collect();
        format!("{project}\u{1f}fingerprint\u{1f}{}", parts.join("\u{1f}"))
    } else {
        format!("{project}\u{1f}{default}")
    }
}

fn default_group(e: &ErrorEvent) -> String {
    if let Some(ex) = e.main_exception() {
        let ty = ex.ty.as_deref().map(short_type).unwrap_or("Error");
        let frame = ex
            .frames
            .iter()
            .rev()
            .find(|f| f.in_app)
            .or_else(|| ex.frames.last());
        let at = frame.map(|f| {
            let place = f.module.as_deref().or(f.filename.as_deref()).unwrap_or("?");
            format!("{place}:{}", f.function.as_deref().unwrap_or("?"))
        });
        return format!("exception\u{1f}{ty}\u{1f}{}", at.unwrap_or_default());
    }
    let message = e.message.as_deref().unwrap_or(&e.title);
    format!(
        "message\u{1f}{}",
        message.lines().next().unwrap_or(message).trim()
    )
}

/// The link keys a span carries: `(key, value)` for the configured correlation keys (string values)
/// and `("sentry.event_id", id)` for every event id it or its span events claim.
pub(super) fn span_keys(s: &Span, correlation_keys: &[String], out: &mut Vec<(String, String)>) {
    for kv in &s.attributes {
        if correlation_keys.iter().any(|c| **c == *kv.key) {
            if let Some(v) = kv.value.as_str().filter(|v| !v.is_empty()) {
                out.push((kv.key.to_string(), v.to_owned()));
            }
        }
    }
    let claims = s
        .attributes
        .iter()
        .chain(s.events.iter().flat_map(|e| e.attributes.iter()));
    for kv in claims {
        if EVENT_ID_ATTRS.contains(&&*kv.key) {
            if let Some(id) = kv.value.as_str().and_then(parse_event_id_attr) {
                out.push((EVENT_ID_KEY.to_owned(), id.to_string()));
            }
        }
    }
}

/// The `span_keys` key under which event-id claims are kept.
pub(super) const EVENT_ID_KEY: &str = "sentry.event_id";

/// A fresh random event id, for an event that arrived without one.
pub(super) fn new_event_id() -> EventId {
    loop {
        let bytes: [u8; 16] = rand::random();
        if let Some(id) = EventId::from_bytes(bytes) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExceptionValue, Frame};

    #[test]
    fn groups_by_fingerprint_else_type_and_frame() {
        let frame = |f: &str, in_app| Frame {
            function: Some(f.into()),
            module: Some("shop".into()),
            in_app,
            ..Frame::default()
        };
        let mut e = ErrorEvent {
            project: Some("1".into()),
            exceptions: vec![ExceptionValue {
                ty: Some("app.GatewayTimeout".into()),
                frames: vec![
                    frame("handler", true),
                    frame("charge", true),
                    frame("urlopen", false),
                ],
                ..ExceptionValue::default()
            }],
            ..ErrorEvent::default()
        };
        assert_eq!(
            group_key(&e),
            "1\u{1f}exception\u{1f}GatewayTimeout\u{1f}shop:charge"
        );
        e.fingerprint = vec!["{{ default }}".into()];
        assert_eq!(
            group_key(&e),
            "1\u{1f}exception\u{1f}GatewayTimeout\u{1f}shop:charge"
        );
        e.fingerprint = vec!["payments-timeout".into()];
        assert_eq!(group_key(&e), "1\u{1f}fingerprint\u{1f}payments-timeout");
        let m = ErrorEvent {
            message: Some("disk full\nmore".into()),
            ..ErrorEvent::default()
        };
        assert_eq!(group_key(&m), "\u{1f}message\u{1f}disk full");
    }
}
