//! Decoding for ingest: what an exporter or SDK sends, item by item, so that one bad span or one
//! bad envelope item is reported and left out while everything else in the request is kept.
//!
//! - OTLP/HTTP bodies ([`decode_otlp_body`]): protobuf (`ExportTraceServiceRequest`) or JSON. A body
//!   that does not decode at all is an error (the handler answers 400); a span with an unreadable id
//!   is rejected alone, as OTLP's `partial_success` expects. JSON is first read by the fast decoder;
//!   only when that fails is the document walked span by span to find which spans are bad.
//! - Sentry envelopes ([`decode_envelope`]): `event` items become [`ErrorEvent`]s, `transaction`
//!   items become spans (see `sentry_transaction`), other item types are counted and dropped. An
//!   envelope whose header line is unreadable is an error; a broken item is reported and skipped.
//! - A legacy `/store/` body ([`decode_store_body`]): one event or transaction JSON.

use serde_json::Value;

use super::sentry_envelope;
use super::sentry_event::{decode_embedded, EnvelopeContext};
use super::sentry_transaction;
use super::{gunzip_capped, otlp_json, otlp_proto, Format, FormatError};
use crate::domain::{ErrorEvent, Span};

/// The encoding of an OTLP/HTTP body, from its `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpEncoding {
    /// `application/x-protobuf`.
    Protobuf,
    /// `application/json`.
    Json,
}

/// Spans decoded from one request, and the spans left out with why.
#[derive(Debug, Default)]
pub struct SpanBatch {
    /// The good spans.
    pub spans: Vec<Span>,
    /// One sentence per rejected span, naming where it is in the request.
    pub rejected: Vec<String>,
}

/// Decompresses a request body already known to be gzip (`Content-Encoding: gzip`), capped.
pub fn gunzip_body(bytes: &[u8], limit: u64) -> Result<Vec<u8>, FormatError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(FormatError::Gzip(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "Content-Encoding is gzip but the body has no gzip header",
        )));
    }
    gunzip_capped(bytes, limit).map(std::borrow::Cow::into_owned)
}

/// Decodes an OTLP/HTTP trace export body (already decompressed).
pub fn decode_otlp_body(bytes: &[u8], encoding: OtlpEncoding) -> Result<SpanBatch, FormatError> {
    let _sharing = super::intern::sharing();
    match encoding {
        OtlpEncoding::Protobuf => {
            let (spans, rejected) = otlp_proto::decode_export(bytes)?;
            Ok(SpanBatch { spans, rejected })
        }
        OtlpEncoding::Json => decode_otlp_json(bytes),
    }
}

fn decode_otlp_json(bytes: &[u8]) -> Result<SpanBatch, FormatError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FormatError::Empty);
    }
    let first_error = match otlp_json::decode(bytes) {
        Ok(spans) => {
            return Ok(SpanBatch {
                spans,
                rejected: Vec::new(),
            })
        }
        Err(e) => e,
    };
    // Something is wrong: find out which spans. Not JSON at all, or not OTLP's shape, is the
    // first error as the fast decoder worded it.
    let Ok(doc) = serde_json::from_slice::<Value>(bytes) else {
        return Err(first_error);
    };
    let Some(resources) = doc
        .get("resourceSpans")
        .or_else(|| doc.get("batches"))
        .and_then(Value::as_array)
    else {
        return Err(first_error);
    };
    let mut out = SpanBatch::default();
    for (ri, rs) in resources.iter().enumerate() {
        let scopes = rs
            .get("scopeSpans")
            .or_else(|| rs.get("instrumentationLibrarySpans"))
            .and_then(Value::as_array);
        let Some(scopes) = scopes else {
            if rs.get("scopeSpans").is_some() {
                out.rejected
                    .push(format!("resourceSpans[{ri}]: scopeSpans is not a list"));
            }
            continue;
        };
        for (si, ss) in scopes.iter().enumerate() {
            let Some(spans) = ss.get("spans").and_then(Value::as_array) else {
                if ss.get("spans").is_some_and(|v| !v.is_null()) {
                    out.rejected.push(format!(
                        "resourceSpans[{ri}].scopeSpans[{si}]: spans is not a list"
                    ));
                }
                continue;
            };
            for (pi, span) in spans.iter().enumerate() {
                let mut one = serde_json::Map::new();
                if let Some(r) = rs.get("resource") {
                    one.insert("resource".into(), r.clone());
                }
                let mut scope_spans = serde_json::Map::new();
                if let Some(s) = ss.get("scope") {
                    scope_spans.insert("scope".into(), s.clone());
                }
                scope_spans.insert("spans".into(), Value::Array(vec![span.clone()]));
                one.insert(
                    "scopeSpans".into(),
                    Value::Array(vec![Value::Object(scope_spans)]),
                );
                let doc = serde_json::json!({ "resourceSpans": [Value::Object(one)] });
                let decoded = serde_json::to_vec(&doc)
                    .map_err(|e| e.to_string())
                    .and_then(|b| otlp_json::decode(&b).map_err(|e| short(&e)));
                match decoded {
                    Ok(mut s) => out.spans.append(&mut s),
                    Err(why) => out.rejected.push(format!(
                        "resourceSpans[{ri}].scopeSpans[{si}].spans[{pi}]: {why}"
                    )),
                }
            }
        }
    }
    if out.spans.is_empty() && out.rejected.is_empty() {
        return Err(first_error);
    }
    Ok(out)
}

/// The reason of a one-span decode error, without the position in the re-built document.
fn short(e: &FormatError) -> String {
    match e {
        FormatError::Json { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The body of an OTLP/HTTP success answer (`ExportTraceServiceResponse`), with `partial_success`
/// set when spans were rejected.
pub fn otlp_response(rejected: &[String], encoding: OtlpEncoding) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTracePartialSuccess, ExportTraceServiceResponse,
    };
    use prost::Message;
    let message = partial_message(rejected);
    match encoding {
        OtlpEncoding::Protobuf => ExportTraceServiceResponse {
            partial_success: (!rejected.is_empty()).then(|| ExportTracePartialSuccess {
                rejected_spans: i64::try_from(rejected.len()).unwrap_or(i64::MAX),
                error_message: message,
            }),
        }
        .encode_to_vec(),
        OtlpEncoding::Json => {
            let body = if rejected.is_empty() {
                serde_json::json!({})
            } else {
                // int64 is a decimal string in OTLP/JSON.
                serde_json::json!({"partialSuccess": {
                    "rejectedSpans": rejected.len().to_string(),
                    "errorMessage": message,
                }})
            };
            body.to_string().into_bytes()
        }
    }
}

/// At most the first five reasons, and how many more there were.
fn partial_message(rejected: &[String]) -> String {
    let mut m = rejected
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if rejected.len() > 5 {
        m.push_str(&format!("; and {} more", rejected.len() - 5));
    }
    m
}

/// `google.rpc.Status`, the body of an OTLP/HTTP error answer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// The body of an OTLP/HTTP error answer: a `google.rpc.Status` with the gRPC `code` and a message.
pub fn otlp_error(code: i32, message: &str, encoding: OtlpEncoding) -> Vec<u8> {
    use prost::Message;
    match encoding {
        OtlpEncoding::Protobuf => RpcStatus {
            code,
            message: message.to_owned(),
        }
        .encode_to_vec(),
        OtlpEncoding::Json => serde_json::json!({"code": code, "message": message})
            .to_string()
            .into_bytes(),
    }
}

/// What one envelope held.
#[derive(Debug, Default)]
pub struct EnvelopeBatch {
    /// `dsn` of the envelope header, if given (it carries the public key).
    pub dsn: Option<String>,
    /// Error events.
    pub events: Vec<ErrorEvent>,
    /// Spans from transaction items.
    pub spans: Vec<Span>,
    /// Item types accepted and dropped (attachments, sessions, client reports…), with counts.
    pub dropped: Vec<(String, usize)>,
    /// Items that could not be decoded, one sentence each.
    pub rejected: Vec<String>,
}

impl EnvelopeBatch {
    fn drop_item(&mut self, ty: &str) {
        match self.dropped.iter_mut().find(|(t, _)| t == ty) {
            Some((_, n)) => *n += 1,
            None => self.dropped.push((ty.to_owned(), 1)),
        }
    }
}

/// Decodes an envelope item by item. `project` (from the URL) names the project when the DSN does not.
pub fn decode_envelope(bytes: &[u8], project: Option<&str>) -> Result<EnvelopeBatch, FormatError> {
    let _sharing = super::intern::sharing();
    let items = sentry_envelope::split(bytes)?;
    let mut ctx = items.context;
    if ctx.project.is_none() {
        ctx.project = project.map(str::to_owned);
    }
    let mut out = EnvelopeBatch {
        dsn: items.dsn,
        ..EnvelopeBatch::default()
    };
    let mut first_event = true;
    for item in items.items {
        match item {
            Err(why) => out.rejected.push(why),
            Ok(item) => match item.ty.as_str() {
                "event" => {
                    let mut c = ctx.clone();
                    if !first_event {
                        // The header's event id belongs to the first event only.
                        c.event_id = None;
                    }
                    first_event = false;
                    match decode_embedded(item.payload, Format::SentryEnvelope, item.line - 1, &c) {
                        Ok(e) => out.events.push(e),
                        Err(e) => out.rejected.push(format!("item \"event\": {e}")),
                    }
                }
                "transaction" => match sentry_transaction::decode(item.payload) {
                    Ok(mut spans) => out.spans.append(&mut spans),
                    Err(e) => out
                        .rejected
                        .push(format!("item \"transaction\" at line {}: {e}", item.line)),
                },
                other => out.drop_item(other),
            },
        }
    }
    Ok(out)
}

/// Decodes a legacy `/store/` body: one event (or transaction) JSON.
pub fn decode_store_body(
    bytes: &[u8],
    project: Option<&str>,
) -> Result<EnvelopeBatch, FormatError> {
    let is_transaction = serde_json::from_slice::<TypeOnly>(bytes)
        .map(|t| t.ty.as_deref() == Some("transaction"))
        .unwrap_or(false);
    let mut out = EnvelopeBatch::default();
    if is_transaction {
        out.spans = sentry_transaction::decode(bytes)?;
    } else {
        let ctx = EnvelopeContext {
            project: project.map(str::to_owned),
            ..EnvelopeContext::default()
        };
        out.events
            .push(decode_embedded(bytes, Format::SentryEventJson, 0, &ctx)?);
    }
    Ok(out)
}

#[derive(serde::Deserialize)]
struct TypeOnly {
    #[serde(rename = "type", default)]
    ty: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_bad_json_span_is_rejected_alone() {
        let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},
          "scopeSpans":[{"scope":{"name":"s"},"spans":[
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"good"},
            {"traceId":"nothex","spanId":"b7ad6b7169203332","name":"bad"},
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203333","name":"good2"}]}]}]}"#;
        let b = decode_otlp_body(body, OtlpEncoding::Json).expect("decodes");
        assert_eq!(b.spans.len(), 2);
        assert_eq!(&*b.spans[0].service, "api");
        assert_eq!(b.spans[1].scope.as_deref(), Some("s"));
        assert_eq!(b.rejected.len(), 1);
        assert!(
            b.rejected[0].starts_with("resourceSpans[0].scopeSpans[0].spans[1]: "),
            "{}",
            b.rejected[0]
        );
        assert!(decode_otlp_body(b"{nope", OtlpEncoding::Json).is_err());
        assert!(decode_otlp_body(b"  ", OtlpEncoding::Json).is_err());
        assert!(decode_otlp_body(br#"{"resourceSpans":5}"#, OtlpEncoding::Json).is_err());
    }

    #[test]
    fn one_bad_proto_span_is_rejected_alone() {
        use opentelemetry_proto::tonic::trace::v1::{
            ResourceSpans, ScopeSpans, Span as PbSpan, TracesData,
        };
        use prost::Message;
        let span = |id: Vec<u8>| PbSpan {
            trace_id: vec![0xab; 16],
            span_id: id,
            name: "x".into(),
            ..Default::default()
        };
        let data = TracesData {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![span(vec![1; 8]), span(vec![1; 9]), span(vec![2; 8])],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let b = decode_otlp_body(&data.encode_to_vec(), OtlpEncoding::Protobuf).expect("decodes");
        assert_eq!(b.spans.len(), 2);
        assert_eq!(
            b.rejected,
            ["resource_spans[0].scope_spans[0].spans[1]: span_id has 9 bytes, expected 8"]
        );
        assert!(decode_otlp_body(&[0x0a, 0xff, 0xff], OtlpEncoding::Protobuf).is_err());
    }

    #[test]
    fn a_broken_item_keeps_its_siblings() {
        let text = concat!(
            "{\"event_id\":\"9353246b542f4a3191adb238f3d602ba\",\"dsn\":\"https://k@h/7\"}\n",
            "{\"type\":\"event\"}\n{\"exception\": nope}\n",
            "{\"type\":\"attachment\",\"length\":3}\nabc\n",
            "{\"type\":\"event\"}\n{\"event_id\":\"0af7651916cd43dd8448eb211c80319c\",\"message\":\"hi\"}\n",
            "{\"type\":\"client_report\"}\n{}\n",
        );
        let b = decode_envelope(text.as_bytes(), Some("9")).expect("decodes");
        assert_eq!(b.events.len(), 1);
        assert_eq!(b.events[0].title, "hi");
        assert_eq!(b.events[0].project.as_deref(), Some("7"));
        assert_eq!(b.rejected.len(), 1, "{:?}", b.rejected);
        assert_eq!(
            b.dropped,
            [
                ("attachment".to_owned(), 1),
                ("client_report".to_owned(), 1)
            ]
        );
        assert_eq!(b.dsn.as_deref(), Some("https://k@h/7"));
        assert!(decode_envelope(b"not json\n", None).is_err());
    }
}
