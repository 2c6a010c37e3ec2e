//! Jaeger v1 / UI JSON: `{"data":[trace…]}` (the `/api/traces/{id}` body), `{"data":{trace}}`, a plain
//! list of traces, or one trace object, as the Jaeger UI's file upload accepts.
//!
//! Mapping back to OpenTelemetry follows the collector's Jaeger translator: the parent is the first
//! `CHILD_OF` reference within the same trace (else the first `FOLLOWS_FROM`), other references become
//! links; `startTime`/`duration` are microseconds; 16-hex 64-bit trace ids are left-padded to 32;
//! `span.kind` gives the kind; `otel.status_code` or `error=true` gives status Error with
//! `otel.status_description` as message; `otel.scope.name` gives the scope (those tags are consumed);
//! logs become span events named by their `event` field (`log` when there is none); the process's
//! `serviceName` and tags become the resource.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, value::MapAccessDeserializer, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ids::{LenientSpanId, LenientTraceId, WireParentId, WireSpanId, WireTraceId};
use super::json::{for_each_value, nullable, Nanos, Text};
use super::otlp_json::{code_from_name, kind_from_name, UNKNOWN_SERVICE};
use super::{Format, FormatError};
use crate::domain::{
    thin_list, AttrValue, KeyValue, Span, SpanEvent, SpanId, SpanKind, SpanLink, SpanStatus,
    StatusCode, TraceId,
};

/// One JSON document: a list of traces or an object (envelope or single trace).
enum TopWire {
    List(Vec<TraceWire>),
    Object(Box<TopObjectWire>),
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopObjectWire {
    #[serde(default)]
    data: Option<DataWire>,
    #[serde(default, deserialize_with = "nullable")]
    errors: Vec<ErrorWire>,
    /// `spans` of a bare trace object.
    #[serde(default, deserialize_with = "nullable")]
    spans: Vec<SpanWire>,
    /// `processes` of a bare trace object.
    #[serde(default, deserialize_with = "nullable")]
    processes: HashMap<String, ProcessWire>,
}

#[derive(Debug, Deserialize)]
struct ErrorWire {
    #[serde(default)]
    code: Text,
    #[serde(default)]
    msg: Text,
}

/// `data`: a list of traces or a single trace.
#[derive(Debug)]
struct DataWire(Vec<TraceWire>);

#[derive(Debug, Default, Deserialize)]
struct TraceWire {
    #[serde(default, deserialize_with = "nullable")]
    spans: Vec<SpanWire>,
    #[serde(default, deserialize_with = "nullable")]
    processes: HashMap<String, ProcessWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpanWire {
    #[serde(rename = "traceID")]
    trace_id: WireTraceId,
    #[serde(rename = "spanID")]
    span_id: WireSpanId,
    #[serde(rename = "parentSpanID", default)]
    parent_span_id: WireParentId,
    #[serde(default, deserialize_with = "nullable")]
    operation_name: String,
    #[serde(default, deserialize_with = "nullable")]
    references: Vec<RefWire>,
    /// Microseconds since the epoch.
    #[serde(default)]
    start_time: Nanos,
    /// Microseconds.
    #[serde(default)]
    duration: Nanos,
    #[serde(default, deserialize_with = "nullable")]
    tags: Vec<TagWire>,
    #[serde(default, deserialize_with = "nullable")]
    logs: Vec<LogWire>,
    #[serde(rename = "processID", default, deserialize_with = "nullable")]
    process_id: String,
    #[serde(default)]
    process: Option<ProcessWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefWire {
    #[serde(default, deserialize_with = "nullable")]
    ref_type: String,
    #[serde(rename = "traceID", default)]
    trace_id: LenientTraceId,
    #[serde(rename = "spanID", default)]
    span_id: LenientSpanId,
}

#[derive(Debug, Deserialize)]
struct LogWire {
    /// Microseconds since the epoch.
    #[serde(default)]
    timestamp: Nanos,
    #[serde(default, deserialize_with = "nullable")]
    fields: Vec<TagWire>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProcessWire {
    #[serde(default, deserialize_with = "nullable")]
    service_name: String,
    #[serde(default, deserialize_with = "nullable")]
    tags: Vec<TagWire>,
}

/// A typed tag `{key, type, value}`; the value is read by its JSON type, then fixed by `type`.
#[derive(Debug, Clone, Deserialize)]
struct TagWire {
    #[serde(default, deserialize_with = "nullable")]
    key: String,
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    ty: String,
    #[serde(default)]
    value: ScalarWire,
}

#[derive(Debug, Clone)]
struct ScalarWire(AttrValue);

impl Default for ScalarWire {
    fn default() -> Self {
        ScalarWire(AttrValue::Str(super::intern::text("")))
    }
}

impl<'de> Deserialize<'de> for ScalarWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScalarWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ScalarWire, E> {
                Ok(ScalarWire(AttrValue::Str(super::intern::text(v))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<ScalarWire, E> {
                Ok(ScalarWire(AttrValue::Str(super::intern::text(&v))))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ScalarWire, E> {
                Ok(ScalarWire(AttrValue::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ScalarWire, E> {
                Ok(ScalarWire(AttrValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ScalarWire, E> {
                Ok(ScalarWire(match i64::try_from(v) {
                    Ok(i) => AttrValue::Int(i),
                    Err(_) => AttrValue::Str(v.to_string().into()),
                }))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ScalarWire, E> {
                Ok(ScalarWire(AttrValue::Float(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ScalarWire, E> {
                Ok(ScalarWire::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ScalarWire, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = a.next_element::<ScalarWire>()? {
                    items.push(v.0);
                }
                Ok(ScalarWire(AttrValue::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<ScalarWire, A::Error> {
                let v = serde_json::Value::deserialize(MapAccessDeserializer::new(a))?;
                Ok(ScalarWire(AttrValue::Str(v.to_string().into())))
            }
        }
        d.deserialize_any(V)
    }
}

impl TagWire {
    /// The value with the declared `type` applied (int64 beyond 2^53 arrives as a string, etc.).
    fn into_kv(self) -> KeyValue {
        let value = match (self.ty.as_str(), self.value.0) {
            ("int64", AttrValue::Str(s)) => match s.trim().parse::<i64>() {
                Ok(i) => AttrValue::Int(i),
                Err(_) => AttrValue::Str(s),
            },
            ("float64", AttrValue::Str(s)) => match s.trim().parse::<f64>() {
                Ok(f) => AttrValue::Float(f),
                Err(_) => AttrValue::Str(s),
            },
            ("float64", AttrValue::Int(i)) => AttrValue::Float(i as f64),
            ("bool", AttrValue::Str(s)) => match s.trim() {
                "true" => AttrValue::Bool(true),
                "false" => AttrValue::Bool(false),
                _ => AttrValue::Str(s),
            },
            ("string", v @ (AttrValue::Int(_) | AttrValue::Float(_) | AttrValue::Bool(_))) => {
                AttrValue::Str(super::intern::text(&v.as_text()))
            }
            (_, v) => v,
        };
        KeyValue {
            key: super::intern::key(&self.key),
            value,
        }
    }
}

impl<'de> Deserialize<'de> for DataWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DataWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of Jaeger traces or one trace")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<DataWire, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = a.next_element::<TraceWire>()? {
                    out.push(t);
                }
                Ok(DataWire(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<DataWire, A::Error> {
                Ok(DataWire(vec![TraceWire::deserialize(
                    MapAccessDeserializer::new(a),
                )?]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<DataWire, E> {
                Ok(DataWire(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for TopWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"{"data":[…]}, a list of Jaeger traces, or one trace object"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<TopWire, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = a.next_element::<TraceWire>()? {
                    out.push(t);
                }
                Ok(TopWire::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, a: A) -> Result<TopWire, A::Error> {
                Ok(TopWire::Object(Box::new(TopObjectWire::deserialize(
                    MapAccessDeserializer::new(a),
                )?)))
            }
        }
        d.deserialize_any(V)
    }
}

fn us_to_ns(us: u64) -> u64 {
    us.saturating_mul(1_000)
}

/// Takes the tag `key` out of `tags`, if present.
fn take(tags: &mut Vec<KeyValue>, key: &str) -> Option<AttrValue> {
    let i = tags.iter().position(|kv| &*kv.key == key)?;
    Some(tags.remove(i).value)
}

fn truthy(v: &AttrValue) -> bool {
    match v {
        AttrValue::Bool(b) => *b,
        AttrValue::Str(s) => s.eq_ignore_ascii_case("true"),
        AttrValue::Int(i) => *i != 0,
        _ => false,
    }
}

fn resource_of(process: &ProcessWire) -> (Arc<str>, Arc<[KeyValue]>) {
    let service: Arc<str> = if process.service_name.is_empty() {
        Arc::from(UNKNOWN_SERVICE)
    } else {
        Arc::from(process.service_name.as_str())
    };
    let mut resource = Vec::with_capacity(process.tags.len() + 1);
    if !process.tags.iter().any(|t| t.key == "service.name") {
        resource.push(KeyValue::str("service.name", Arc::clone(&service)));
    }
    resource.extend(process.tags.iter().cloned().map(TagWire::into_kv));
    (service, resource.into())
}

fn convert_trace(trace: TraceWire, out: &mut Vec<Span>) {
    let resources: HashMap<String, (Arc<str>, Arc<[KeyValue]>)> = trace
        .processes
        .iter()
        .map(|(id, p)| (id.clone(), resource_of(p)))
        .collect();
    let unknown: (Arc<str>, Arc<[KeyValue]>) = (Arc::from(UNKNOWN_SERVICE), Arc::default());
    out.reserve(trace.spans.len());
    for s in trace.spans {
        let inline;
        let (service, resource) = match (resources.get(&s.process_id), &s.process) {
            (Some(r), _) => r,
            (None, Some(p)) => {
                inline = resource_of(p);
                &inline
            }
            (None, None) => &unknown,
        };
        out.push(convert_span(s, Arc::clone(service), Arc::clone(resource)));
    }
}

fn convert_span(s: SpanWire, service: Arc<str>, resource: Arc<[KeyValue]>) -> Span {
    let trace_id: TraceId = s.trace_id.0;
    // References with an unreadable id are dropped.
    let refs: Vec<(TraceId, SpanId, &str)> = s
        .references
        .iter()
        .filter_map(|r| Some((r.trace_id.0?, r.span_id.0?, r.ref_type.as_str())))
        .collect();
    let ref_of = |ty: &str| {
        refs.iter()
            .position(|(t, _, rt)| *t == trace_id && rt.eq_ignore_ascii_case(ty))
    };
    let parent_ref = ref_of("CHILD_OF").or_else(|| ref_of("FOLLOWS_FROM"));
    let parent_span_id = match parent_ref.and_then(|i| refs.get(i)) {
        Some((_, span, _)) => Some(*span),
        None => s.parent_span_id.0,
    };
    let links: Vec<_> = refs
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != parent_ref)
        .map(|(_, (t, span, rt))| SpanLink {
            trace_id: *t,
            span_id: *span,
            attributes: vec![KeyValue::str("jaeger.ref_type", *rt)],
        })
        .collect();

    let mut attributes: Vec<KeyValue> = s.tags.into_iter().map(TagWire::into_kv).collect();
    let kind = take(&mut attributes, "span.kind")
        .map(|v| kind_from_name(&v.as_text()))
        .unwrap_or(SpanKind::Unspecified);
    let error = take(&mut attributes, "error").is_some_and(|v| truthy(&v));
    let otel_code = take(&mut attributes, "otel.status_code").map(|v| code_from_name(&v.as_text()));
    let description = take(&mut attributes, "otel.status_description").map(|v| v.as_text());
    let scope = take(&mut attributes, "otel.scope.name")
        .or_else(|| take(&mut attributes, "otel.library.name"))
        .map(|v| v.as_text())
        .filter(|s| !s.is_empty())
        .map(Arc::from);
    take(&mut attributes, "otel.scope.version");
    take(&mut attributes, "otel.library.version");
    let code = match otel_code {
        Some(c) if c != StatusCode::Unset => c,
        _ if error => StatusCode::Error,
        _ => StatusCode::Unset,
    };

    let events: Vec<_> = s
        .logs
        .into_iter()
        .map(|log| {
            let mut fields: Vec<KeyValue> = log.fields.into_iter().map(TagWire::into_kv).collect();
            let name = take(&mut fields, "event")
                .map(|v| v.as_text())
                .unwrap_or_else(|| "log".to_owned());
            SpanEvent {
                time_ns: us_to_ns(log.timestamp.0),
                name,
                attributes: fields,
            }
        })
        .collect();

    let start_ns = us_to_ns(s.start_time.0);
    Span {
        trace_id,
        span_id: s.span_id.0,
        parent_span_id,
        service,
        name: super::intern::text(&s.operation_name),
        kind,
        start_ns,
        end_ns: start_ns.saturating_add(us_to_ns(s.duration.0)),
        status: SpanStatus {
            code,
            message: description.filter(|d| !d.is_empty()),
        },
        attributes: thin_list(attributes),
        events: thin_list(events),
        links: thin_list(links),
        resource,
        scope,
    }
}

/// Decodes a Jaeger v1 body, trace list or trace object into spans.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Span>, FormatError> {
    let mut spans = Vec::new();
    for_each_value::<TopWire, _>(bytes, Format::JaegerV1, |top| {
        match top {
            TopWire::List(traces) => {
                for t in traces {
                    convert_trace(t, &mut spans);
                }
            }
            TopWire::Object(obj) => {
                let obj = *obj;
                match obj.data {
                    Some(DataWire(traces)) if !traces.is_empty() => {
                        for t in traces {
                            convert_trace(t, &mut spans);
                        }
                    }
                    _ if !obj.errors.is_empty() => {
                        let parts: Vec<String> = obj
                            .errors
                            .into_iter()
                            .map(|e| {
                                let code = e.code.0.map(|c| format!("{c} ")).unwrap_or_default();
                                format!("{code}{}", e.msg.0.unwrap_or_default())
                            })
                            .collect();
                        return Err(FormatError::Upstream {
                            format: Format::JaegerV1,
                            message: parts.join("; "),
                        });
                    }
                    _ => convert_trace(
                        TraceWire {
                            spans: obj.spans,
                            processes: obj.processes,
                        },
                        &mut spans,
                    ),
                }
            }
        }
        Ok(())
    })?;
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = r#"{"traceID":"00000000000000aa","spans":[
      {"traceID":"00000000000000aa","spanID":"0000000000000001","operationName":"root","references":[],
       "startTime":1700000000000000,"duration":5000,"tags":[{"key":"span.kind","type":"string","value":"server"}],
       "processID":"p1"},
      {"traceID":"00000000000000aa","spanID":"0000000000000002","operationName":"charge",
       "references":[{"refType":"FOLLOWS_FROM","traceID":"00000000000000aa","spanID":"0000000000000009"},
                     {"refType":"CHILD_OF","traceID":"00000000000000bb","spanID":"0000000000000008"},
                     {"refType":"CHILD_OF","traceID":"00000000000000aa","spanID":"0000000000000001"}],
       "startTime":1700000000001000,"duration":2000,
       "tags":[{"key":"error","type":"bool","value":true},{"key":"otel.status_description","type":"string","value":"declined"},
               {"key":"big","type":"int64","value":"9223372036854775222"},{"key":"span.kind","type":"string","value":"client"}],
       "logs":[{"timestamp":1700000000002000,"fields":[{"key":"event","type":"string","value":"exception"},
               {"key":"exception.type","type":"string","value":"CardDeclined"}]}],
       "processID":"p2"}],
     "processes":{"p1":{"serviceName":"frontend","tags":[{"key":"host.name","type":"string","value":"h1"}]},
                  "p2":{"serviceName":"payments","tags":[]}}}"#;

    #[test]
    fn single_trace_object() {
        let spans = decode(TRACE.as_bytes()).expect("decodes");
        assert_eq!(spans.len(), 2);
        let root = &spans[0];
        assert_eq!(
            root.trace_id.to_string(),
            "000000000000000000000000000000aa"
        );
        assert_eq!(root.kind, SpanKind::Server);
        assert_eq!(root.parent_span_id, None);
        assert_eq!(&*root.service, "frontend");
        assert_eq!(root.start_ns, 1_700_000_000_000_000_000);
        assert_eq!(root.duration_ns(), 5_000_000);
        assert_eq!(
            *root.resource,
            [
                KeyValue::str("service.name", "frontend"),
                KeyValue::str("host.name", "h1")
            ]
        );
        assert!(root.attributes.is_empty(), "span.kind is consumed");
    }

    #[test]
    fn child_of_same_trace_wins_and_others_become_links() {
        let spans = decode(TRACE.as_bytes()).expect("decodes");
        let child = &spans[1];
        assert_eq!(
            child.parent_span_id.map(|p| p.to_string()).as_deref(),
            Some("0000000000000001")
        );
        assert_eq!(child.links.len(), 2);
        assert_eq!(child.kind, SpanKind::Client);
    }

    #[test]
    fn error_tag_and_logs() {
        let spans = decode(TRACE.as_bytes()).expect("decodes");
        let child = &spans[1];
        assert_eq!(child.status.code, StatusCode::Error);
        assert_eq!(child.status.message.as_deref(), Some("declined"));
        assert_eq!(
            child.attr("big"),
            Some(&AttrValue::Int(9_223_372_036_854_775_222))
        );
        assert_eq!(child.events.len(), 1);
        assert_eq!(child.events[0].name, "exception");
        assert_eq!(child.events[0].time_ns, 1_700_000_000_002_000_000);
        assert_eq!(
            child.events[0].attributes,
            [KeyValue::str("exception.type", "CardDeclined")]
        );
    }

    #[test]
    fn otel_status_code_tag() {
        let body = r#"[{"traceID":"1","spans":[{"traceID":"1","spanID":"2","operationName":"x",
          "tags":[{"key":"otel.status_code","type":"string","value":"ERROR"}],"processID":"p"}],
          "processes":{"p":{"serviceName":"s"}}}]"#;
        let spans = decode(body.as_bytes()).expect("decodes");
        assert_eq!(spans[0].status.code, StatusCode::Error);
    }

    #[test]
    fn envelope_list_and_object_data() {
        let list = format!(r#"{{"data":[{TRACE}],"total":0,"limit":0,"offset":0,"errors":null}}"#);
        assert_eq!(decode(list.as_bytes()).expect("list").len(), 2);
        let obj = format!(r#"{{"data":{TRACE}}}"#);
        assert_eq!(decode(obj.as_bytes()).expect("object").len(), 2);
        let arr = format!("[{TRACE},{TRACE}]");
        assert_eq!(decode(arr.as_bytes()).expect("array").len(), 4);
    }

    #[test]
    fn not_found_is_upstream_error() {
        let body = br#"{"data":null,"total":0,"limit":0,"offset":0,"errors":[{"code":404,"msg":"trace not found"}]}"#;
        let err = decode(body).expect_err("not found");
        assert!(err.to_string().contains("404 trace not found"), "{err}");
    }
}
