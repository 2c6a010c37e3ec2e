//! Sentry transaction events (an envelope's `transaction` item) as spans, so that an app traced with
//! the Sentry SDK alone still has a timeline.
//!
//! The transaction itself is the root span (`contexts.trace`: trace id, span id, parent, op, status;
//! `transaction` is its name; `start_timestamp`..`timestamp`); each entry of `spans` is a child span.
//! Sentry statuses map to OpenTelemetry's: `ok` is OK, absent is unset, anything else (`internal_error`,
//! `deadline_exceeded`…) is an error with the status as its message. The service is read from what the
//! SDK sends: the legacy OpenTelemetry processor's resource `service.name`, a `service` tag, the release
//! before `@`, the server name; else `unknown_service`. `op`, `origin` and the span `data`/`tags` become
//! attributes. A span with an unreadable id is left out; a transaction without a trace or span id is an
//! error.

use std::sync::Arc;

use thin_vec::ThinVec;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::ids;
use super::json::{self, nullable, Pairs, Text, Timestamp};
use super::otlp_json::UNKNOWN_SERVICE;
use super::{Format, FormatError};
use crate::domain::{
    thin_list, AttrValue, KeyValue, Span, SpanId, SpanKind, SpanStatus, StatusCode, TraceId,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TransactionWire {
    transaction: Text,
    start_timestamp: Timestamp,
    timestamp: Timestamp,
    release: Text,
    server_name: Text,
    tags: Pairs,
    #[serde(deserialize_with = "nullable")]
    contexts: Map<String, Value>,
    #[serde(deserialize_with = "nullable")]
    spans: Vec<SpanWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SpanWire {
    trace_id: Text,
    span_id: Text,
    parent_span_id: Text,
    op: Text,
    description: Text,
    origin: Text,
    status: Text,
    start_timestamp: Timestamp,
    timestamp: Timestamp,
    tags: Pairs,
    #[serde(deserialize_with = "nullable")]
    data: Map<String, Value>,
}

/// Decodes one transaction JSON into spans, the transaction's own span first.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Span>, FormatError> {
    let mut t: TransactionWire = json::from_slice(bytes, Format::SentryEventJson)?;
    let trace_ctx = t
        .contexts
        .remove("trace")
        .and_then(|v| serde_json::from_value::<SpanWire>(v).ok())
        .unwrap_or_default();
    let invalid = |message: &str| FormatError::Invalid {
        format: Format::SentryEventJson,
        message: format!("transaction: {message}"),
    };
    let trace_id = trace_ctx
        .trace_id
        .0
        .as_deref()
        .and_then(|s| ids::trace_id(s).ok())
        .ok_or_else(|| invalid("contexts.trace.trace_id is missing or not a trace id"))?;
    let root_id = trace_ctx
        .span_id
        .0
        .as_deref()
        .and_then(|s| ids::span_id(s).ok())
        .ok_or_else(|| invalid("contexts.trace.span_id is missing or not a span id"))?;
    let service = service(&t);
    let resource: Arc<[KeyValue]> = vec![KeyValue::str("service.name", service.clone())].into();
    let root_name = t
        .transaction
        .clone()
        .non_empty()
        .or_else(|| trace_ctx.op.clone().non_empty())
        .unwrap_or_default();
    let mut out = Vec::with_capacity(t.spans.len() + 1);
    let mut root = span_of(&trace_ctx, trace_id, root_id, &service, &resource);
    root.name = root_name.into();
    root.start_ns = t.start_timestamp.0.unwrap_or(0);
    root.end_ns = t.timestamp.0.unwrap_or(root.start_ns);
    if root.kind == SpanKind::Internal && trace_ctx.parent_span_id.0.is_none() {
        root.kind = SpanKind::Server;
    }
    out.push(root);
    for s in std::mem::take(&mut t.spans) {
        let Some(span_id) = s.span_id.0.as_deref().and_then(|v| ids::span_id(v).ok()) else {
            continue;
        };
        let trace = s
            .trace_id
            .0
            .as_deref()
            .and_then(|v| ids::trace_id(v).ok())
            .unwrap_or(trace_id);
        let mut span = span_of(&s, trace, span_id, &service, &resource);
        span.start_ns = s.start_timestamp.0.unwrap_or(0);
        span.end_ns = s.timestamp.0.unwrap_or(span.start_ns);
        if span.parent_span_id.is_none() {
            span.parent_span_id = Some(root_id);
        }
        out.push(span);
    }
    Ok(out)
}

/// A span from the fields a transaction's trace context and its spans share.
fn span_of(
    s: &SpanWire,
    trace_id: TraceId,
    span_id: SpanId,
    service: &str,
    resource: &Arc<[KeyValue]>,
) -> Span {
    let op = s.op.0.clone().filter(|o| !o.is_empty());
    let mut attributes = Vec::new();
    if let Some(op) = &op {
        attributes.push(KeyValue::str("sentry.op", op.clone()));
    }
    if let Some(origin) = s.origin.0.clone().filter(|o| !o.is_empty()) {
        attributes.push(KeyValue::str("sentry.origin", origin));
    }
    for (k, v) in &s.tags.0 {
        attributes.push(KeyValue::str(k.clone(), v.clone()));
    }
    for (k, v) in &s.data {
        attributes.push(KeyValue {
            key: k.as_str().into(),
            value: attr_value(v),
        });
    }
    let status = match s.status.0.as_deref() {
        None | Some("") => SpanStatus::default(),
        Some("ok") => SpanStatus {
            code: StatusCode::Ok,
            message: None,
        },
        Some(other) => SpanStatus {
            code: StatusCode::Error,
            message: Some(other.to_owned()),
        },
    };
    Span {
        trace_id,
        span_id,
        parent_span_id: s
            .parent_span_id
            .0
            .as_deref()
            .and_then(|v| ids::parent_span_id(v).ok().flatten()),
        service: super::intern::text(service),
        name: s
            .description
            .0
            .clone()
            .filter(|d| !d.is_empty())
            .or_else(|| op.clone())
            .unwrap_or_default()
            .into(),
        kind: kind_of(op.as_deref()),
        start_ns: 0,
        end_ns: 0,
        status,
        attributes: thin_list(attributes),
        events: ThinVec::new(),
        links: ThinVec::new(),
        resource: Arc::clone(resource),
        scope: Some(Arc::from("sentry")),
    }
}

fn kind_of(op: Option<&str>) -> SpanKind {
    match op {
        Some(o) if o.ends_with(".server") || o == "http.server" => SpanKind::Server,
        Some(o) if o.ends_with(".client") || o.starts_with("db") || o.starts_with("http") => {
            SpanKind::Client
        }
        Some(o) if o.starts_with("queue.publish") => SpanKind::Producer,
        Some(o) if o.starts_with("queue.process") => SpanKind::Consumer,
        _ => SpanKind::Internal,
    }
}

fn attr_value(v: &Value) -> AttrValue {
    match v {
        Value::String(s) => AttrValue::Str(super::intern::text(s)),
        Value::Bool(b) => AttrValue::Bool(*b),
        Value::Number(n) => n
            .as_i64()
            .map(AttrValue::Int)
            .or_else(|| n.as_f64().map(AttrValue::Float))
            .unwrap_or_else(|| AttrValue::Str(n.to_string().into())),
        Value::Array(items) => AttrValue::Array(items.iter().map(attr_value).collect()),
        Value::Null => AttrValue::Str("".into()),
        Value::Object(_) => AttrValue::Str(v.to_string().into()),
    }
}

/// The service a transaction came from.
fn service(t: &TransactionWire) -> String {
    let otel_resource = t
        .contexts
        .get("otel")
        .and_then(|o| o.get("resource"))
        .and_then(|r| r.get("service.name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let tag = t
        .tags
        .0
        .iter()
        .find(|(k, _)| k == "service" || k == "service.name")
        .map(|(_, v)| v.clone());
    let release = t
        .release
        .0
        .as_deref()
        .and_then(|r| r.split_once('@'))
        .map(|(svc, _)| svc.to_owned());
    let server = t
        .server_name
        .0
        .as_deref()
        .map(|s| s.strip_suffix("-host").unwrap_or(s).to_owned());
    [otel_resource, tag, release, server]
        .into_iter()
        .flatten()
        .find(|s| !s.trim().is_empty())
        .unwrap_or_else(|| UNKNOWN_SERVICE.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_becomes_spans() {
        let body = br#"{"type":"transaction","transaction":"POST /checkout","release":"checkout-api@1.4.2",
          "start_timestamp":1700000000.0,"timestamp":1700000000.5,
          "contexts":{"trace":{"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331","op":"http.server","status":"internal_error"}},
          "spans":[{"span_id":"b7ad6b7169203332","parent_span_id":"b7ad6b7169203331","op":"db","description":"SELECT 1",
                    "start_timestamp":1700000000.1,"timestamp":1700000000.2,"data":{"rows":3}},
                   {"span_id":"zz","op":"bad"}]}"#;
        let spans = decode(body).expect("decodes");
        assert_eq!(spans.len(), 2);
        let root = &spans[0];
        assert_eq!(&*root.name, "POST /checkout");
        assert_eq!(&*root.service, "checkout-api");
        assert_eq!(root.kind, SpanKind::Server);
        assert!(root.is_error());
        assert_eq!(root.end_ns - root.start_ns, 500_000_000);
        let db = &spans[1];
        assert_eq!(&*db.name, "SELECT 1");
        assert_eq!(db.parent_span_id, Some(root.span_id));
        assert_eq!(db.kind, SpanKind::Client);
        assert_eq!(db.attr("rows"), Some(&AttrValue::Int(3)));
        assert!(decode(br#"{"type":"transaction"}"#).is_err());
    }
}
