//! Grafana Tempo trace-by-id JSON: v1 `{"batches":[…]}` and v2 `{"trace":{…},"status","message"}`.
//!
//! Both carry OTLP spans in gogo-jsonpb spelling (base64 ids, enum names, nanoseconds as strings),
//! which [`super::otlp_json`] reads. v2 answers a missing trace with 200 and an empty trace: that
//! decodes to zero spans, and the HTTP connector treats it as not-found. `status: "PARTIAL"` (too large,
//! filtered or pruned) is kept as [`super::DecodedTrace::partial`] with Tempo's message.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::json::{for_each_value, nullable};
use super::otlp_json::{self, TracesDataWire};
use super::{DecodedTrace, Format, FormatError};
use crate::domain::Span;

/// Decodes a Tempo v1 body (`batches`, or `resourceSpans` from older or re-encoded payloads).
pub(super) fn decode_v1(bytes: &[u8]) -> Result<Vec<Span>, FormatError> {
    otlp_json::decode_as_format(bytes, Format::TempoV1)
}

/// `tempopb.TraceByIDResponse` in JSON.
#[derive(Debug, Default, Deserialize)]
struct TraceByIdResponseWire {
    #[serde(default, deserialize_with = "nullable")]
    trace: TracesDataWire,
    #[serde(default)]
    status: PartialStatus,
    #[serde(default, deserialize_with = "nullable")]
    message: String,
}

/// `PartialStatus` as a name (`COMPLETE`, `PARTIAL`) or a number (0, 1).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct PartialStatus(bool);

impl<'de> Deserialize<'de> for PartialStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PartialStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#""COMPLETE", "PARTIAL", 0 or 1"#)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PartialStatus, E> {
                Ok(PartialStatus(v == 1))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PartialStatus, E> {
                Ok(PartialStatus(v == 1))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PartialStatus, E> {
                Ok(PartialStatus(
                    v.trim().eq_ignore_ascii_case("PARTIAL") || v.trim() == "1",
                ))
            }
            fn visit_unit<E: de::Error>(self) -> Result<PartialStatus, E> {
                Ok(PartialStatus(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// Message used when Tempo says PARTIAL without saying why.
const PARTIAL_WITHOUT_MESSAGE: &str = "Tempo returned a partial trace";

/// Decodes a Tempo v2 body. An empty or absent `trace` gives zero spans.
pub(super) fn decode_v2(bytes: &[u8]) -> Result<DecodedTrace, FormatError> {
    let mut spans = Vec::new();
    let mut partial: Option<String> = None;
    for_each_value::<TraceByIdResponseWire, _>(bytes, Format::TempoV2, |resp| {
        resp.trace.into_spans(&mut spans);
        let message = resp.message.trim().to_owned();
        if resp.status.0 {
            partial = Some(if message.is_empty() {
                PARTIAL_WITHOUT_MESSAGE.to_owned()
            } else {
                message
            });
        }
        Ok(())
    })?;
    Ok(DecodedTrace {
        format: Format::TempoV2,
        spans,
        partial,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{SpanKind, StatusCode};

    const SPAN: &str = r#"{"traceId":"6Lbf+fjUSyjxsivDvS9naA==","spanId":"wa5s6jmo/Es=","parentSpanId":"KJg4Ps+hpCE=","name":"pg.query:INSERT","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1658325672000000000","endTimeUnixNano":"1658325672100000000","status":{"message":"null value","code":"STATUS_CODE_ERROR"}}"#;

    #[test]
    fn tempo_v1_batches_base64_ids_and_enum_names() {
        let body = format!(
            r#"{{"batches":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"db"}}}}]}},"scopeSpans":[{{"scope":{{"name":"pg"}},"spans":[{SPAN}]}}]}}]}}"#
        );
        let spans = decode_v1(body.as_bytes()).expect("decodes");
        let s = &spans[0];
        assert_eq!(s.trace_id.to_string(), "e8b6dff9f8d44b28f1b22bc3bd2f6768");
        assert_eq!(s.span_id.to_string(), "c1ae6cea39a8fc4b");
        assert_eq!(
            s.parent_span_id.map(|p| p.to_string()).as_deref(),
            Some("2898383ecfa1a421")
        );
        assert_eq!(s.kind, SpanKind::Client);
        assert_eq!(s.status.code, StatusCode::Error);
        assert_eq!(&*s.service, "db");
        assert_eq!(s.scope.as_deref(), Some("pg"));
        assert_eq!(s.duration_ns(), 100_000_000);
    }

    #[test]
    fn tempo_v2_partial_keeps_message() {
        let body = format!(
            r#"{{"trace":{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{SPAN}]}}]}}]}},"metrics":{{"inspectedBytes":"1"}},"status":"PARTIAL","message":"Trace exceeds maximum size"}}"#
        );
        let t = decode_v2(body.as_bytes()).expect("decodes");
        assert_eq!(t.spans.len(), 1);
        assert_eq!(t.partial.as_deref(), Some("Trace exceeds maximum size"));
    }

    #[test]
    fn tempo_v2_empty_trace_is_zero_spans() {
        for body in [
            r#"{"trace":{},"metrics":{}}"#,
            r#"{"metrics":{"inspectedBytes":"0"}}"#,
        ] {
            let t = decode_v2(body.as_bytes()).expect("decodes");
            assert!(t.spans.is_empty());
            assert_eq!(t.partial, None);
        }
    }

    #[test]
    fn tempo_v2_partial_without_message() {
        let t = decode_v2(br#"{"trace":{},"status":1}"#).expect("decodes");
        assert_eq!(t.partial.as_deref(), Some(PARTIAL_WITHOUT_MESSAGE));
    }
}
