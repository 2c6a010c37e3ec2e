//! OTLP/JSON, leniently: the spec spelling plus every dialect met in practice.
//!
//! Reads `resourceSpans` (or Tempo's `batches`), `scopeSpans` (or the pre-1.0
//! `instrumentationLibrarySpans`), ids in hex of any case or base64, 64-bit integers as strings or
//! numbers, `kind` and `status.code` as integers or enum names, `status: {}`, roots whose
//! `parentSpanId` is absent or `""`, and every `AnyValue` variant. Several documents in a row (JSON
//! Lines) are concatenated. The wire structs deserialize straight into domain pieces (ids, attribute
//! values) so the only work left per span is moving fields and sharing the resource.
//!
//! [`TracesDataWire`] is reused by the Tempo and Jaeger api_v3 wrappers.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ids::{LenientSpanId, LenientTraceId, WireParentId, WireSpanId, WireTraceId};
use super::json::{for_each_value, nullable, Nanos};
use super::{Format, FormatError};
use crate::domain::{
    AttrValue, KeyValue, Span, SpanEvent, SpanKind, SpanLink, SpanStatus, StatusCode,
};

/// The service name OpenTelemetry prescribes when a resource has no `service.name`.
pub(super) const UNKNOWN_SERVICE: &str = "unknown_service";

/// `TracesData` / `ExportTraceServiceRequest` / Tempo `Trace`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TracesDataWire {
    #[serde(default, alias = "batches", deserialize_with = "nullable")]
    resource_spans: Vec<ResourceSpansWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpansWire {
    #[serde(default, deserialize_with = "nullable")]
    resource: ResourceWire,
    #[serde(
        default,
        alias = "instrumentationLibrarySpans",
        deserialize_with = "nullable"
    )]
    scope_spans: Vec<ScopeSpansWire>,
}

#[derive(Debug, Default, Deserialize)]
struct ResourceWire {
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KvWire>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScopeSpansWire {
    #[serde(
        default,
        alias = "instrumentationLibrary",
        deserialize_with = "nullable"
    )]
    scope: ScopeWire,
    #[serde(default, deserialize_with = "nullable")]
    spans: Vec<SpanWire>,
}

#[derive(Debug, Default, Deserialize)]
struct ScopeWire {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpanWire {
    trace_id: WireTraceId,
    span_id: WireSpanId,
    #[serde(default)]
    parent_span_id: WireParentId,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default)]
    kind: KindWire,
    #[serde(default)]
    start_time_unix_nano: Nanos,
    #[serde(default)]
    end_time_unix_nano: Nanos,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KvWire>,
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<EventWire>,
    #[serde(default, deserialize_with = "nullable")]
    links: Vec<LinkWire>,
    #[serde(default, deserialize_with = "nullable")]
    status: StatusWire,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    #[serde(default)]
    time_unix_nano: Nanos,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KvWire>,
}

/// A link; one with an unreadable id is dropped rather than failing the span.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkWire {
    #[serde(default)]
    trace_id: LenientTraceId,
    #[serde(default)]
    span_id: LenientSpanId,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KvWire>,
}

#[derive(Debug, Default, Deserialize)]
struct StatusWire {
    #[serde(default)]
    code: CodeWire,
    #[serde(default)]
    message: Option<String>,
}

/// One attribute; the value is decoded straight into the domain's [`AttrValue`].
#[derive(Debug, Deserialize)]
pub(super) struct KvWire {
    #[serde(default, deserialize_with = "nullable")]
    key: String,
    #[serde(default)]
    value: AnyValueWire,
}

impl From<KvWire> for KeyValue {
    fn from(kv: KvWire) -> Self {
        KeyValue {
            key: kv.key,
            value: kv.value.0,
        }
    }
}

fn convert_kvs(kvs: Vec<KvWire>) -> Vec<KeyValue> {
    kvs.into_iter().map(KeyValue::from).collect()
}

/// `SPAN_KIND_*` as an integer or an enum name (`SPAN_KIND_CLIENT`, or just `client`).
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct KindWire(pub SpanKind);

/// Span kind from an OTLP enum name, case-insensitive, with or without the `SPAN_KIND_` prefix.
pub(super) fn kind_from_name(name: &str) -> SpanKind {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("SPAN_KIND_").unwrap_or(&upper) {
        "INTERNAL" => SpanKind::Internal,
        "SERVER" => SpanKind::Server,
        "CLIENT" => SpanKind::Client,
        "PRODUCER" => SpanKind::Producer,
        "CONSUMER" => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

/// Span kind from its OTLP number; unknown numbers are `Unspecified`.
pub(super) fn kind_from_number(n: i64) -> SpanKind {
    match n {
        1 => SpanKind::Internal,
        2 => SpanKind::Server,
        3 => SpanKind::Client,
        4 => SpanKind::Producer,
        5 => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

/// Status code from an OTLP enum name (`STATUS_CODE_ERROR`, or just `error`), case-insensitive.
pub(super) fn code_from_name(name: &str) -> StatusCode {
    let upper = name.trim().to_ascii_uppercase();
    match upper.strip_prefix("STATUS_CODE_").unwrap_or(&upper) {
        "OK" => StatusCode::Ok,
        "ERROR" => StatusCode::Error,
        _ => StatusCode::Unset,
    }
}

/// Status code from its OTLP number; unknown numbers are `Unset`.
pub(super) fn code_from_number(n: i64) -> StatusCode {
    match n {
        1 => StatusCode::Ok,
        2 => StatusCode::Error,
        _ => StatusCode::Unset,
    }
}

/// A protobuf enum written as a number or a name.
struct EnumVisitor<T> {
    from_number: fn(i64) -> T,
    from_name: fn(&str) -> T,
    default: T,
}

impl<T> Visitor<'_> for EnumVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum as an integer or a name")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok((self.from_number)(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok((self.from_number)(i64::try_from(v).unwrap_or(-1)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match v.trim().parse::<i64>() {
            Ok(n) => Ok((self.from_number)(n)),
            Err(_) => Ok((self.from_name)(v)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(self.default)
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(self.default)
    }
}

impl<'de> Deserialize<'de> for KindWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EnumVisitor {
            from_number: kind_from_number,
            from_name: kind_from_name,
            default: SpanKind::Unspecified,
        })
        .map(KindWire)
    }
}

/// `STATUS_CODE_*` as an integer or an enum name.
#[derive(Debug, Default, Clone, Copy)]
struct CodeWire(StatusCode);

impl<'de> Deserialize<'de> for CodeWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EnumVisitor {
            from_number: code_from_number,
            from_name: code_from_name,
            default: StatusCode::Unset,
        })
        .map(CodeWire)
    }
}

/// OTLP `AnyValue`, decoded into the domain [`AttrValue`].
///
/// `kvlistValue` becomes a string `{k=v, …}` and `bytesValue` keeps its base64 text, since the domain
/// keeps only what a person reads. A bare JSON scalar is accepted too; `{}` is the empty string.
#[derive(Debug)]
struct AnyValueWire(AttrValue);

impl Default for AnyValueWire {
    fn default() -> Self {
        AnyValueWire(AttrValue::Str(String::new()))
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum AnyField {
    StringValue,
    BoolValue,
    IntValue,
    DoubleValue,
    ArrayValue,
    KvlistValue,
    BytesValue,
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ArrayWire {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<AnyValueWire>,
}

#[derive(Deserialize)]
struct KvListWire {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<KvWire>,
}

/// An `int64` written as a string or a number.
struct Int64(i64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Int64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a 64-bit integer as a decimal string or a number")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int64, E> {
                Ok(Int64(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int64, E> {
                i64::try_from(v)
                    .map(Int64)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int64, E> {
                if v.fract() == 0.0 && v.is_finite() {
                    Ok(Int64(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Int64, E> {
                v.trim()
                    .parse()
                    .map(Int64)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A double written as a number or a string (`"NaN"`, `"Infinity"` per proto3 JSON).
struct Double(f64);

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Double;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a double as a number or a string")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Double, E> {
                Ok(Double(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Double, E> {
                Ok(Double(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Double, E> {
                Ok(Double(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Double, E> {
                v.trim()
                    .parse()
                    .map(Double)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

/// A bool written as a JSON bool or `"true"`/`"false"`.
struct Bool(bool);

impl<'de> Deserialize<'de> for Bool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Bool, E> {
                Ok(Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bool, E> {
                match v.trim() {
                    "true" | "True" | "TRUE" => Ok(Bool(true)),
                    "false" | "False" | "FALSE" => Ok(Bool(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

fn render_kvlist(values: Vec<KvWire>) -> String {
    let parts: Vec<String> = values
        .into_iter()
        .map(|kv| format!("{}={}", kv.key, kv.value.0.as_text()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

impl<'de> Deserialize<'de> for AnyValueWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AnyValueWire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an OTLP AnyValue object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<AnyValueWire, A::Error> {
                let mut out: Option<AttrValue> = None;
                while let Some(field) = a.next_key::<AnyField>()? {
                    let v = match field {
                        AnyField::StringValue => {
                            AttrValue::Str(a.next_value::<Option<String>>()?.unwrap_or_default())
                        }
                        AnyField::BoolValue => AttrValue::Bool(a.next_value::<Bool>()?.0),
                        AnyField::IntValue => AttrValue::Int(a.next_value::<Int64>()?.0),
                        AnyField::DoubleValue => AttrValue::Float(a.next_value::<Double>()?.0),
                        AnyField::ArrayValue => {
                            let arr = a.next_value::<Option<ArrayWire>>()?;
                            let values = arr.map(|x| x.values).unwrap_or_default();
                            AttrValue::Array(values.into_iter().map(|v| v.0).collect())
                        }
                        AnyField::KvlistValue => {
                            let list = a.next_value::<Option<KvListWire>>()?;
                            AttrValue::Str(render_kvlist(
                                list.map(|x| x.values).unwrap_or_default(),
                            ))
                        }
                        AnyField::BytesValue => {
                            AttrValue::Str(a.next_value::<Option<String>>()?.unwrap_or_default())
                        }
                        AnyField::Other => {
                            a.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    out = Some(v);
                }
                Ok(out.map_or_else(AnyValueWire::default, AnyValueWire))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Str(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Str(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Bool(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Int(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(match i64::try_from(v) {
                    Ok(i) => AttrValue::Int(i),
                    Err(_) => AttrValue::Str(v.to_string()),
                }))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Float(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<AnyValueWire, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = a.next_element::<AnyValueWire>()? {
                    items.push(v.0);
                }
                Ok(AnyValueWire(AttrValue::Array(items)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// `service.name` of a resource, or `unknown_service`.
pub(super) fn service_name(resource: &[KeyValue]) -> String {
    resource
        .iter()
        .find(|kv| kv.key == "service.name")
        .and_then(|kv| kv.value.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(UNKNOWN_SERVICE)
        .to_owned()
}

impl TracesDataWire {
    /// Converts to domain spans, appending to `out`.
    pub(super) fn into_spans(self, out: &mut Vec<Span>) {
        for rs in self.resource_spans {
            let resource = convert_kvs(rs.resource.attributes);
            let service = service_name(&resource);
            for ss in rs.scope_spans {
                let scope = Some(ss.scope.name).filter(|s| !s.is_empty());
                out.reserve(ss.spans.len());
                for s in ss.spans {
                    out.push(Span {
                        trace_id: s.trace_id.0,
                        span_id: s.span_id.0,
                        parent_span_id: s.parent_span_id.0,
                        service: service.clone(),
                        name: s.name,
                        kind: s.kind.0,
                        start_ns: s.start_time_unix_nano.0,
                        end_ns: s.end_time_unix_nano.0,
                        status: SpanStatus {
                            code: s.status.code.0,
                            message: s.status.message.filter(|m| !m.is_empty()),
                        },
                        attributes: convert_kvs(s.attributes),
                        events: s
                            .events
                            .into_iter()
                            .map(|e| SpanEvent {
                                time_ns: e.time_unix_nano.0,
                                name: e.name,
                                attributes: convert_kvs(e.attributes),
                            })
                            .collect(),
                        links: s
                            .links
                            .into_iter()
                            .filter_map(|l| {
                                Some(SpanLink {
                                    trace_id: l.trace_id.0?,
                                    span_id: l.span_id.0?,
                                    attributes: convert_kvs(l.attributes),
                                })
                            })
                            .collect(),
                        resource: resource.clone(),
                        scope: scope.clone(),
                    });
                }
            }
        }
    }
}

/// Decodes OTLP/JSON (one document or JSON Lines) into spans.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Span>, FormatError> {
    decode_as_format(bytes, Format::OtlpJson)
}

/// Decodes OTLP-shaped JSON (`resourceSpans` or `batches`), naming `format` in errors.
pub(super) fn decode_as_format(bytes: &[u8], format: Format) -> Result<Vec<Span>, FormatError> {
    let mut spans = Vec::new();
    for_each_value::<TracesDataWire, _>(bytes, format, |doc| {
        doc.into_spans(&mut spans);
        Ok(())
    })?;
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(json: &str) -> Span {
        let spans = decode(json.as_bytes()).expect("decodes");
        assert_eq!(spans.len(), 1, "{spans:?}");
        spans.into_iter().next().expect("one span")
    }

    const IDS: &str = r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174""#;

    #[test]
    fn enum_names_and_numbers() {
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS},"kind":"SPAN_KIND_CLIENT","status":{{"code":"STATUS_CODE_ERROR","message":"boom"}}}}]}}]}}]}}"#
        ));
        assert_eq!(s.kind, SpanKind::Client);
        assert_eq!(s.status.code, StatusCode::Error);
        assert_eq!(s.status.message.as_deref(), Some("boom"));
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS},"kind":4,"status":{{"code":1}}}}]}}]}}]}}"#
        ));
        assert_eq!(s.kind, SpanKind::Producer);
        assert_eq!(s.status.code, StatusCode::Ok);
    }

    #[test]
    fn any_value_variants() {
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS},"attributes":[
              {{"key":"s","value":{{"stringValue":"x"}}}},
              {{"key":"i","value":{{"intValue":"42"}}}},
              {{"key":"n","value":{{"intValue":7}}}},
              {{"key":"d","value":{{"doubleValue":1.5}}}},
              {{"key":"b","value":{{"boolValue":true}}}},
              {{"key":"a","value":{{"arrayValue":{{"values":[{{"stringValue":"p"}},{{"intValue":"1"}}]}}}}}},
              {{"key":"kv","value":{{"kvlistValue":{{"values":[{{"key":"k","value":{{"stringValue":"v"}}}}]}}}}}},
              {{"key":"by","value":{{"bytesValue":"AAAwOQ=="}}}},
              {{"key":"empty","value":{{}}}}
            ]}}]}}]}}]}}"#
        ));
        let get = |k: &str| s.attr(k).cloned();
        assert_eq!(get("s"), Some(AttrValue::Str("x".into())));
        assert_eq!(get("i"), Some(AttrValue::Int(42)));
        assert_eq!(get("n"), Some(AttrValue::Int(7)));
        assert_eq!(get("d"), Some(AttrValue::Float(1.5)));
        assert_eq!(get("b"), Some(AttrValue::Bool(true)));
        assert_eq!(
            get("a"),
            Some(AttrValue::Array(vec![
                AttrValue::Str("p".into()),
                AttrValue::Int(1)
            ]))
        );
        assert_eq!(get("kv"), Some(AttrValue::Str("{k=v}".into())));
        assert_eq!(get("by"), Some(AttrValue::Str("AAAwOQ==".into())));
        assert_eq!(get("empty"), Some(AttrValue::Str(String::new())));
    }

    #[test]
    fn service_falls_back_to_unknown_service() {
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#
        ));
        assert_eq!(s.service, UNKNOWN_SERVICE);
    }

    #[test]
    fn json_lines_are_concatenated() {
        let doc = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#);
        let text = format!("{doc}\n{doc}\n");
        assert_eq!(decode(text.as_bytes()).expect("jsonl").len(), 2);
    }
}
