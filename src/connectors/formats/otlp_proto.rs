//! OTLP protobuf: `ExportTraceServiceRequest`, `TracesData` and Tempo's `Trace` (the same wire: field 1
//! is repeated `ResourceSpans`), plus Tempo's v2 `TraceByIDResponse` (field 1 wraps a `Trace`; status 3,
//! message 4), decoded with the `opentelemetry-proto` prost types.
//!
//! A `TraceByIDResponse` read as `TracesData` yields no spans (its field 1 is a `Trace`, not a
//! `ResourceSpans`), so when the plain reading finds no span the wrapped reading is tried. Ids must be
//! raw bytes; shorter ids are left-padded (64-bit Jaeger trace ids), empty or all-zero ones rejected.

use std::sync::Arc;

use base64::Engine;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue as PbKeyValue};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, TracesData};
use prost::Message;

use super::otlp_json::{code_from_number, kind_from_number, service_name};
use super::{gunzip, DecodedTrace, Format, FormatError};
use crate::domain::{
    thin_list, AttrValue, KeyValue, Span, SpanEvent, SpanId, SpanLink, SpanStatus, TraceId,
};

/// Tempo `message Trace { repeated ResourceSpans batches = 1; }`.
#[derive(Clone, PartialEq, Message)]
struct TempoTrace {
    #[prost(message, repeated, tag = "1")]
    batches: Vec<ResourceSpans>,
}

/// Tempo `message TraceByIDResponse { Trace trace = 1; TraceByIDMetrics metrics = 2;
/// PartialStatus status = 3; string message = 4; }` (metrics skipped).
#[derive(Clone, PartialEq, Message)]
struct TraceByIdResponse {
    #[prost(message, optional, tag = "1")]
    trace: Option<TempoTrace>,
    #[prost(int32, tag = "3")]
    status: i32,
    #[prost(string, tag = "4")]
    message: String,
}

/// Decodes OTLP protobuf (gzip accepted) into spans.
pub fn decode_otlp_protobuf(bytes: &[u8]) -> Result<DecodedTrace, FormatError> {
    let bytes = gunzip(bytes)?;
    decode(&bytes).map(super::capped)
}

/// Decodes the body of Tempo's `GET /api/v2/traces/{id}` as protobuf: a `TraceByIDResponse` is tried
/// first (it is what v2 sends), so a large trace is decoded once, not first as `TracesData`; anything
/// else falls back to [`decode_otlp_protobuf`].
pub fn decode_tempo_v2_protobuf(bytes: &[u8]) -> Result<DecodedTrace, FormatError> {
    let bytes = gunzip(bytes)?;
    if let Some(t) = as_trace_by_id(&bytes)? {
        return Ok(super::capped(t));
    }
    decode(&bytes).map(super::capped)
}

fn as_trace_by_id(bytes: &[u8]) -> Result<Option<DecodedTrace>, FormatError> {
    let Ok(resp) = TraceByIdResponse::decode(bytes) else {
        return Ok(None);
    };
    let batches = resp.trace.map(|t| t.batches).unwrap_or_default();
    if !(has_spans(&batches) || resp.status != 0 || !resp.message.is_empty()) {
        return Ok(None);
    }
    let partial = (resp.status == 1).then(|| {
        if resp.message.is_empty() {
            "Tempo returned a partial trace".to_owned()
        } else {
            resp.message.clone()
        }
    });
    Ok(Some(DecodedTrace {
        format: Format::TempoV2,
        spans: convert(&batches)?,
        partial,
    }))
}

/// Decodes plain (not gzipped) protobuf bytes.
pub(super) fn decode(bytes: &[u8]) -> Result<DecodedTrace, FormatError> {
    if bytes.is_empty() {
        return Err(FormatError::Empty);
    }
    let plain = TracesData::decode(bytes);
    if let Ok(data) = &plain {
        if has_spans(&data.resource_spans) {
            return Ok(DecodedTrace {
                format: Format::OtlpProtobuf,
                spans: convert(&data.resource_spans)?,
                partial: None,
            });
        }
    }
    if let Some(t) = as_trace_by_id(bytes)? {
        return Ok(t);
    }
    match plain {
        Ok(_) => Ok(DecodedTrace {
            format: Format::OtlpProtobuf,
            spans: Vec::new(),
            partial: None,
        }),
        Err(e) => Err(FormatError::Protobuf(e.to_string())),
    }
}

fn has_spans(batches: &[ResourceSpans]) -> bool {
    batches
        .iter()
        .any(|rs| rs.scope_spans.iter().any(|ss| !ss.spans.is_empty()))
}

fn padded<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    if bytes.is_empty() || bytes.len() > N {
        return None;
    }
    let mut out = [0u8; N];
    out[N - bytes.len()..].copy_from_slice(bytes);
    Some(out)
}

fn trace_id(bytes: &[u8], at: &dyn Fn() -> String) -> Result<TraceId, FormatError> {
    padded::<16>(bytes)
        .and_then(TraceId::from_bytes)
        .ok_or_else(|| invalid(format!("{}: trace_id {}", at(), describe_id(bytes, 16))))
}

fn span_id(bytes: &[u8], at: &dyn Fn() -> String) -> Result<SpanId, FormatError> {
    padded::<8>(bytes)
        .and_then(SpanId::from_bytes)
        .ok_or_else(|| invalid(format!("{}: span_id {}", at(), describe_id(bytes, 8))))
}

fn describe_id(bytes: &[u8], want: usize) -> String {
    if bytes.iter().all(|b| *b == 0) && !bytes.is_empty() {
        "is all zeros".to_owned()
    } else {
        format!("has {} bytes, expected {want}", bytes.len())
    }
}

fn invalid(message: String) -> FormatError {
    FormatError::Invalid {
        format: Format::OtlpProtobuf,
        message,
    }
}

fn attr_value(v: Option<&AnyValue>) -> AttrValue {
    match v.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => AttrValue::Str(super::intern::text(s)),
        Some(any_value::Value::BoolValue(b)) => AttrValue::Bool(*b),
        Some(any_value::Value::IntValue(i)) => AttrValue::Int(*i),
        Some(any_value::Value::DoubleValue(d)) => AttrValue::Float(*d),
        Some(any_value::Value::ArrayValue(a)) => {
            AttrValue::Array(a.values.iter().map(|v| attr_value(Some(v))).collect())
        }
        Some(any_value::Value::KvlistValue(l)) => {
            let parts: Vec<String> = l
                .values
                .iter()
                .map(|kv| format!("{}={}", kv.key, attr_value(kv.value.as_ref()).as_text()))
                .collect();
            AttrValue::Str(format!("{{{}}}", parts.join(", ")).into())
        }
        Some(any_value::Value::BytesValue(b)) => {
            AttrValue::Str(base64::engine::general_purpose::STANDARD.encode(b).into())
        }
        Some(any_value::Value::StringValueStrindex(_)) | None => {
            AttrValue::Str(super::intern::text(""))
        }
    }
}

fn kvs(list: &[PbKeyValue]) -> Vec<KeyValue> {
    list.iter()
        .map(|kv| KeyValue {
            key: super::intern::key(&kv.key),
            value: attr_value(kv.value.as_ref()),
        })
        .collect()
}

fn convert(batches: &[ResourceSpans]) -> Result<Vec<Span>, FormatError> {
    let mut out = Vec::new();
    let mut first_error = None;
    convert_each(batches, &mut out, &mut |e| {
        first_error.get_or_insert(e);
        false
    });
    match first_error {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Decodes an OTLP/HTTP protobuf export body (not gzipped) span by span: a span with an unreadable
/// id is reported (where it is and why) and left out while the others are kept. A body that is not
/// protobuf at all is an error.
pub(super) fn decode_export(bytes: &[u8]) -> Result<(Vec<Span>, Vec<String>), FormatError> {
    let data = TracesData::decode(bytes).map_err(|e| FormatError::Protobuf(e.to_string()))?;
    let mut spans = Vec::new();
    let mut rejected = Vec::new();
    convert_each(&data.resource_spans, &mut spans, &mut |e| {
        rejected.push(match e {
            FormatError::Invalid { message, .. } => message,
            other => other.to_string(),
        });
        true
    });
    Ok((spans, rejected))
}

/// Converts every span, pushing good ones to `out`; a bad one goes to `on_error`, which says whether
/// to go on.
fn convert_each(
    batches: &[ResourceSpans],
    out: &mut Vec<Span>,
    on_error: &mut dyn FnMut(FormatError) -> bool,
) {
    let _sharing = super::intern::sharing();
    for (ri, rs) in batches.iter().enumerate() {
        let resource = rs
            .resource
            .as_ref()
            .map(|r| kvs(&r.attributes))
            .unwrap_or_default();
        let service: Arc<str> = Arc::from(service_name(&resource));
        let resource: Arc<[KeyValue]> = resource.into();
        for (si, ss) in rs.scope_spans.iter().enumerate() {
            let scope: Option<Arc<str>> = ss
                .scope
                .as_ref()
                .map(|s| s.name.as_str())
                .filter(|n| !n.is_empty())
                .map(Arc::from);
            for (pi, s) in ss.spans.iter().enumerate() {
                let at = || format!("resource_spans[{ri}].scope_spans[{si}].spans[{pi}]");
                match convert_span(s, &at, &service, &resource, &scope) {
                    Ok(span) => out.push(span),
                    Err(e) => {
                        if !on_error(e) {
                            return;
                        }
                    }
                }
            }
        }
    }
}

fn convert_span(
    s: &opentelemetry_proto::tonic::trace::v1::Span,
    at: &dyn Fn() -> String,
    service: &Arc<str>,
    resource: &Arc<[KeyValue]>,
    scope: &Option<Arc<str>>,
) -> Result<Span, FormatError> {
    let parent_span_id = if s.parent_span_id.is_empty() {
        None
    } else {
        padded::<8>(&s.parent_span_id)
            .ok_or_else(|| {
                invalid(format!(
                    "{}: parent_span_id has {} bytes, expected 8",
                    at(),
                    s.parent_span_id.len()
                ))
            })
            .map(SpanId::from_bytes)?
    };
    // A link with an unreadable id is dropped rather than failing the span.
    let links: Vec<SpanLink> = s
        .links
        .iter()
        .filter_map(|l| {
            Some(SpanLink {
                trace_id: padded::<16>(&l.trace_id).and_then(TraceId::from_bytes)?,
                span_id: padded::<8>(&l.span_id).and_then(SpanId::from_bytes)?,
                attributes: kvs(&l.attributes),
            })
        })
        .collect();
    let status = s.status.as_ref();
    Ok(Span {
        trace_id: trace_id(&s.trace_id, at)?,
        span_id: span_id(&s.span_id, at)?,
        parent_span_id,
        service: Arc::clone(service),
        name: super::intern::text(&s.name),
        kind: kind_from_number(i64::from(s.kind)),
        start_ns: s.start_time_unix_nano,
        end_ns: s.end_time_unix_nano,
        status: SpanStatus {
            code: code_from_number(status.map_or(0, |st| i64::from(st.code))),
            message: status
                .map(|st| st.message.clone())
                .filter(|m| !m.is_empty()),
        },
        attributes: thin_list(kvs(&s.attributes)),
        events: thin_list(s.events.iter().map(|e| SpanEvent {
            time_ns: e.time_unix_nano,
            name: e.name.clone(),
            attributes: kvs(&e.attributes),
        })),
        links: thin_list(links),
        resource: Arc::clone(resource),
        scope: scope.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ScopeSpans, Span as PbSpan};

    fn data() -> TracesData {
        TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![PbSpan {
                        trace_id: vec![0xab; 16],
                        span_id: vec![0xcd; 8],
                        name: "x".into(),
                        kind: 2,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn traces_data_round_trip() {
        let bytes = data().encode_to_vec();
        let t = decode(&bytes).expect("decodes");
        assert_eq!(t.format, Format::OtlpProtobuf);
        assert_eq!(t.spans.len(), 1);
        assert_eq!(&*t.spans[0].service, "unknown_service");
        assert_eq!(t.spans[0].span_id.to_string(), "cdcdcdcdcdcdcdcd");
    }

    #[test]
    fn tempo_v2_trace_by_id_response() {
        let resp = TraceByIdResponse {
            trace: Some(TempoTrace {
                batches: data().resource_spans,
            }),
            status: 1,
            message: "too big".into(),
        };
        let t = decode(&resp.encode_to_vec()).expect("decodes");
        assert_eq!(t.format, Format::TempoV2);
        assert_eq!(t.spans.len(), 1);
        assert_eq!(t.partial.as_deref(), Some("too big"));
    }

    #[test]
    fn bad_span_id_names_the_span() {
        let mut d = data();
        d.resource_spans[0].scope_spans[0].spans[0].span_id = vec![1, 2, 3, 4, 5, 6, 7, 8, 9];
        let err = decode(&d.encode_to_vec()).expect_err("bad id");
        assert_eq!(
            err.to_string(),
            "invalid OTLP protobuf: resource_spans[0].scope_spans[0].spans[0]: span_id has 9 bytes, expected 8"
        );
    }

    #[test]
    fn garbage_is_a_protobuf_error() {
        let err = decode(&[0x0a, 0xff, 0xff]).expect_err("garbage");
        assert!(
            err.to_string().starts_with("invalid OTLP protobuf"),
            "{err}"
        );
    }
}
