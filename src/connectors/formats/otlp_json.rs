//! OTLP/JSON, leniently: the spec spelling plus every dialect met in practice.
//!
//! Reads `resourceSpans` (or Tempo's `batches`), `scopeSpans` (or the pre-1.0
//! `instrumentationLibrarySpans`), ids in hex of any case or base64, 64-bit integers as strings or
//! numbers, `kind` and `status.code` as integers or enum names, `status: {}`, roots whose
//! `parentSpanId` is absent or `""`, and every `AnyValue` variant. Several documents in a row (JSON
//! Lines) are concatenated.
//!
//! This is the hot path of a 100 MB trace file, so the document is not materialised as wire structs:
//! hand-written serde visitors walk `resourceSpans → scopeSpans → spans` and push each span straight
//! into the output list as a domain [`Span`]. Ids, times, enums and attribute values are decoded from
//! the borrowed input text without intermediate allocations; the resource's attributes are built once
//! and shared by its spans (`Arc`). JSON does not fix the order of keys, so a `resource` (or `scope`)
//! that comes after its spans is filled into the spans already pushed when it is read. The visitors
//! accept what serde's derived structs did (objects, or fields by position in a list) and keep their
//! error wording (`missing field`, `duplicate field`, `invalid type`) and the JSON position of the
//! offending value.
//!
//! [`TracesDataWire`] is reused by the Tempo and Jaeger api_v3 wrappers.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::{
    self, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;
use smallvec::SmallVec;
use thin_vec::ThinVec;

use super::ids::{LenientSpanId, LenientTraceId, WireParentId, WireSpanId, WireTraceId};
use super::intern::{text, SharedText};
use super::json::{for_each_value, nullable, Nanos};
use super::{Format, FormatError};
use crate::domain::{
    thin_list, AttrValue, KeyValue, Span, SpanEvent, SpanId, SpanKind, SpanLink, SpanStatus,
    StatusCode, TraceId,
};

/// The service name OpenTelemetry prescribes when a resource has no `service.name`.
pub(super) const UNKNOWN_SERVICE: &str = "unknown_service";

/// `TracesData` / `ExportTraceServiceRequest` / Tempo `Trace`, already converted to domain spans.
#[derive(Debug, Default)]
pub(super) struct TracesDataWire {
    spans: Vec<Span>,
}

impl<'de> Deserialize<'de> for TracesDataWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut spans = Vec::new();
        d.deserialize_struct(
            "TracesDataWire",
            &["resourceSpans"],
            TracesVisitor { out: &mut spans },
        )?;
        Ok(TracesDataWire { spans })
    }
}

/// Returns an error when a field was already read (serde's derived structs refuse duplicates too).
fn first<E: de::Error>(seen: &mut bool, field: &'static str) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        return Err(E::duplicate_field(field));
    }
    Ok(())
}

/// A seed that accepts `null` as "nothing" (the [`nullable`] rule for seeds that push into a list).
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> DeserializeSeed<'de> for Nullable<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Nullable<S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}

/// A seed that can be used again for the next element of a list (it pushes into the same output).
trait Reborrow<'de> {
    type Seed<'s>: DeserializeSeed<'de, Value = ()>
    where
        Self: 's;
    fn reborrow(&mut self) -> Self::Seed<'_>;
}

/// A JSON list whose elements are each read with a reborrow of the seed.
struct Each<S>(S);

impl<'de, S: Reborrow<'de>> DeserializeSeed<'de> for Each<S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, S: Reborrow<'de>> Visitor<'de> for Each<S> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut a: A) -> Result<(), A::Error> {
        while a.next_element_seed(self.0.reborrow())?.is_some() {}
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum TracesField {
    #[serde(alias = "batches")]
    ResourceSpans,
    #[serde(other)]
    Other,
}

struct TracesVisitor<'o> {
    out: &'o mut Vec<Span>,
}

impl<'de> Visitor<'de> for TracesVisitor<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct TracesDataWire")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let out = self.out;
        let mut seen = false;
        while let Some(field) = a.next_key::<TracesField>()? {
            match field {
                TracesField::ResourceSpans => {
                    first(&mut seen, "resourceSpans")?;
                    a.next_value_seed(Nullable(Each(ResourceSpansSeed { out: &mut *out })))?;
                }
                TracesField::Other => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
    /// The fields by position, as serde's derived structs accept them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        a.next_element_seed(Nullable(Each(ResourceSpansSeed { out: self.out })))?;
        Ok(())
    }
}

/// What the spans of one resource and scope share.
struct SpanContext<'a> {
    service: &'a Arc<str>,
    resource: &'a Arc<[KeyValue]>,
    scope: Option<&'a Arc<str>>,
}

/// A resource's attributes (shared by its spans, like the scope name) and its `service.name`.
struct ResourceInfo {
    service: Arc<str>,
    attributes: Arc<[KeyValue]>,
}

impl ResourceInfo {
    fn new(attributes: Vec<KeyValue>) -> Self {
        ResourceInfo {
            service: Arc::from(service_name(&attributes)),
            attributes: attributes.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ResourceSpansField {
    Resource,
    #[serde(alias = "instrumentationLibrarySpans")]
    ScopeSpans,
    #[serde(other)]
    Other,
}

struct ResourceSpansSeed<'o> {
    out: &'o mut Vec<Span>,
}

impl<'de> Reborrow<'de> for ResourceSpansSeed<'_> {
    type Seed<'s>
        = ResourceSpansSeed<'s>
    where
        Self: 's;
    fn reborrow(&mut self) -> ResourceSpansSeed<'_> {
        ResourceSpansSeed { out: self.out }
    }
}

impl<'de> DeserializeSeed<'de> for ResourceSpansSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("ResourceSpansWire", &["resource", "scopeSpans"], self)
    }
}

impl<'de> Visitor<'de> for ResourceSpansSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ResourceSpansWire")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let out = self.out;
        let start = out.len();
        let placed = super::stream::placed();
        let mut resource: Option<ResourceInfo> = None;
        let (mut seen_resource, mut seen_scope_spans) = (false, false);
        // Spans read before the resource carry the "no resource" defaults until it is read.
        let mut spans_before_resource = false;
        while let Some(field) = a.next_key::<ResourceSpansField>()? {
            match field {
                ResourceSpansField::Resource => {
                    first(&mut seen_resource, "resource")?;
                    let r = a.next_value::<Option<ResourceWire>>()?;
                    resource = Some(ResourceInfo::new(
                        r.map(|r| exact(r.attributes.0)).unwrap_or_default(),
                    ));
                }
                ResourceSpansField::ScopeSpans => {
                    first(&mut seen_scope_spans, "scopeSpans")?;
                    let fallback;
                    let res = match &resource {
                        Some(r) => r,
                        None => {
                            spans_before_resource = true;
                            fallback = ResourceInfo::new(Vec::new());
                            &fallback
                        }
                    };
                    a.next_value_seed(Nullable(Each(ScopeSpansSeed {
                        out: &mut *out,
                        resource: res,
                    })))?;
                }
                ResourceSpansField::Other => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let (true, Some(r)) = (spans_before_resource, resource) {
            super::stream::refill_resource(placed, &r.service, &r.attributes);
            for s in out.iter_mut().skip(start) {
                s.service = Arc::clone(&r.service);
                s.resource = Arc::clone(&r.attributes);
            }
        }
        Ok(())
    }
    /// The fields by position, as serde's derived structs accept them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let r = a.next_element::<Option<ResourceWire>>()?.flatten();
        let resource = ResourceInfo::new(r.map(|r| exact(r.attributes.0)).unwrap_or_default());
        a.next_element_seed(Nullable(Each(ScopeSpansSeed {
            out: self.out,
            resource: &resource,
        })))?;
        Ok(())
    }
}

#[derive(Default, Deserialize)]
struct ResourceWire {
    #[serde(default, deserialize_with = "nullable")]
    attributes: Attributes,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ScopeSpansField {
    #[serde(alias = "instrumentationLibrary")]
    Scope,
    Spans,
    #[serde(other)]
    Other,
}

struct ScopeSpansSeed<'o, 'r> {
    out: &'o mut Vec<Span>,
    resource: &'r ResourceInfo,
}

impl<'de, 'r> Reborrow<'de> for ScopeSpansSeed<'_, 'r> {
    type Seed<'s>
        = ScopeSpansSeed<'s, 'r>
    where
        Self: 's;
    fn reborrow(&mut self) -> ScopeSpansSeed<'_, 'r> {
        ScopeSpansSeed {
            out: self.out,
            resource: self.resource,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ScopeSpansSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("ScopeSpansWire", &["scope", "spans"], self)
    }
}

impl<'de> Visitor<'de> for ScopeSpansSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct ScopeSpansWire")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let out = self.out;
        let start = out.len();
        let placed = super::stream::placed();
        // `None` until read; then the scope name, `None` when empty.
        let mut scope: Option<Option<Arc<str>>> = None;
        let (mut seen_scope, mut seen_spans) = (false, false);
        let mut spans_before_scope = false;
        while let Some(field) = a.next_key::<ScopeSpansField>()? {
            match field {
                ScopeSpansField::Scope => {
                    first(&mut seen_scope, "scope")?;
                    let s = a.next_value::<Option<ScopeWire>>()?;
                    scope = Some(s.map(|s| s.name).filter(|n| !n.is_empty()).map(Arc::from));
                }
                ScopeSpansField::Spans => {
                    first(&mut seen_spans, "spans")?;
                    spans_before_scope = scope.is_none();
                    let context = SpanContext {
                        service: &self.resource.service,
                        resource: &self.resource.attributes,
                        scope: scope.as_ref().and_then(Option::as_ref),
                    };
                    let context = &context;
                    if super::stream::active() {
                        a.next_value_seed(StreamedSpans {
                            out: &mut *out,
                            context,
                        })?;
                    } else {
                        a.next_value_seed(Nullable(Each(SpanSeed {
                            out: &mut *out,
                            context,
                        })))?;
                    }
                }
                ScopeSpansField::Other => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        if let (true, Some(Some(name))) = (spans_before_scope, scope) {
            super::stream::refill_scope(placed, &name);
            for s in out.iter_mut().skip(start) {
                s.scope = Some(Arc::clone(&name));
            }
        }
        Ok(())
    }
    /// The fields by position, as serde's derived structs accept them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let scope = a.next_element::<Option<ScopeWire>>()?.flatten();
        let scope: Option<Arc<str>> = scope
            .map(|s| s.name)
            .filter(|n| !n.is_empty())
            .map(Arc::from);
        let context = SpanContext {
            service: &self.resource.service,
            resource: &self.resource.attributes,
            scope: scope.as_ref(),
        };
        a.next_element_seed(Nullable(Each(SpanSeed {
            out: self.out,
            context: &context,
        })))?;
        Ok(())
    }
}

/// A scope's `spans` while a stream's skeleton is decoded ([`super::stream`]): the marker of a list
/// already decoded, or (where the stream did not recognise the list) the list itself.
struct StreamedSpans<'o, 'c> {
    out: &'o mut Vec<Span>,
    context: &'c SpanContext<'c>,
}

impl<'de> DeserializeSeed<'de> for StreamedSpans<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StreamedSpans<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let context = self.context;
        while a
            .next_element_seed(SpanSeed {
                out: &mut *self.out,
                context,
            })?
            .is_some()
        {}
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let c = self.context;
        match super::stream::take(v, self.out.len(), c.service, c.resource, c.scope) {
            super::stream::Taken::Placed => Ok(()),
            super::stream::Taken::Failed => Err(E::custom("a span list could not be decoded")),
            super::stream::Taken::NotMarker => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
        }
    }
}

/// Decodes one span, a JSON value on its own, into `out` with the given service and resource and no
/// scope (the stream decoder sets them when it places the span's list), then checks the input ends.
pub(super) fn decode_span<'de, R: serde_json::de::Read<'de>>(
    de: &mut serde_json::Deserializer<R>,
    out: &mut Vec<Span>,
    service: &Arc<str>,
    resource: &Arc<[KeyValue]>,
) -> Result<(), serde_json::Error> {
    let context = SpanContext {
        service,
        resource,
        scope: None,
    };
    SpanSeed {
        out,
        context: &context,
    }
    .deserialize(&mut *de)?;
    de.end()
}

#[derive(Debug, Default, Deserialize)]
struct ScopeWire {
    #[serde(default, deserialize_with = "nullable")]
    name: String,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum SpanField {
    TraceId,
    SpanId,
    ParentSpanId,
    Name,
    Kind,
    StartTimeUnixNano,
    EndTimeUnixNano,
    Attributes,
    Events,
    Links,
    Status,
    #[serde(other)]
    Other,
}

/// One span, pushed to `out` as a domain [`Span`].
struct SpanSeed<'o, 'c> {
    out: &'o mut Vec<Span>,
    context: &'c SpanContext<'c>,
}

impl<'de, 'c> Reborrow<'de> for SpanSeed<'_, 'c> {
    type Seed<'s>
        = SpanSeed<'s, 'c>
    where
        Self: 's;
    fn reborrow(&mut self) -> SpanSeed<'_, 'c> {
        SpanSeed {
            out: self.out,
            context: self.context,
        }
    }
}

impl<'de> DeserializeSeed<'de> for SpanSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("SpanWire", SPAN_FIELDS, self)
    }
}

const SPAN_FIELDS: &[&str] = &[
    "traceId",
    "spanId",
    "parentSpanId",
    "name",
    "kind",
    "startTimeUnixNano",
    "endTimeUnixNano",
    "attributes",
    "events",
    "links",
    "status",
];

/// Reads one field of a span, refusing a second occurrence.
fn field<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    a: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(A::Error::duplicate_field(name));
    }
    *slot = Some(a.next_value()?);
    Ok(())
}

/// The optional fields of one span read by position, before the defaults.
struct SpanParts {
    parent: Option<WireParentId>,
    name: Option<SharedText>,
    kind: Option<KindWire>,
    start: Option<Nanos>,
    end: Option<Nanos>,
    attributes: Option<Option<Attributes>>,
    events: Option<Option<Events>>,
    links: Option<Option<Links>>,
    status: Option<Option<StatusWire>>,
}

impl SpanSeed<'_, '_> {
    /// Pushes a span read by position (the ids were checked by the caller). The map reading, the hot
    /// path, builds its span from locals instead: measurably faster than moving a `SpanParts`.
    fn push(self, trace_id: TraceId, span_id: SpanId, p: SpanParts) {
        let status = p.status.flatten().unwrap_or_default();
        let context = self.context;
        self.out.push(Span {
            trace_id,
            span_id,
            parent_span_id: p.parent.and_then(|p| p.0),
            service: Arc::clone(context.service),
            name: p.name.map_or_else(|| text(""), |n| n.0),
            kind: p.kind.unwrap_or_default().0,
            start_ns: p.start.unwrap_or_default().0,
            end_ns: p.end.unwrap_or_default().0,
            status: SpanStatus {
                code: status.code.0,
                message: status.message.filter(|m| !m.is_empty()),
            },
            attributes: p.attributes.flatten().unwrap_or_default().0,
            events: p.events.flatten().unwrap_or_default().0,
            links: p.links.flatten().unwrap_or_default().0,
            resource: Arc::clone(context.resource),
            scope: context.scope.cloned(),
        });
    }
}

impl<'de> Visitor<'de> for SpanSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct SpanWire")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let mut trace_id: Option<WireTraceId> = None;
        let mut span_id: Option<WireSpanId> = None;
        let mut parent: Option<WireParentId> = None;
        let mut name: Option<SharedText> = None;
        let mut kind: Option<KindWire> = None;
        let mut start: Option<Nanos> = None;
        let mut end: Option<Nanos> = None;
        let mut attributes: Option<Option<Attributes>> = None;
        let mut events: Option<Option<Events>> = None;
        let mut links: Option<Option<Links>> = None;
        let mut status: Option<Option<StatusWire>> = None;
        while let Some(key) = a.next_key::<SpanField>()? {
            match key {
                SpanField::TraceId => field(&mut a, &mut trace_id, "traceId")?,
                SpanField::SpanId => field(&mut a, &mut span_id, "spanId")?,
                SpanField::ParentSpanId => field(&mut a, &mut parent, "parentSpanId")?,
                SpanField::Name => field(&mut a, &mut name, "name")?,
                SpanField::Kind => field(&mut a, &mut kind, "kind")?,
                SpanField::StartTimeUnixNano => field(&mut a, &mut start, "startTimeUnixNano")?,
                SpanField::EndTimeUnixNano => field(&mut a, &mut end, "endTimeUnixNano")?,
                SpanField::Attributes => field(&mut a, &mut attributes, "attributes")?,
                SpanField::Events => field(&mut a, &mut events, "events")?,
                SpanField::Links => field(&mut a, &mut links, "links")?,
                SpanField::Status => field(&mut a, &mut status, "status")?,
                SpanField::Other => {
                    a.next_value::<IgnoredAny>()?;
                }
            }
        }
        let trace_id: TraceId = trace_id
            .ok_or_else(|| A::Error::missing_field("traceId"))?
            .0;
        let span_id: SpanId = span_id.ok_or_else(|| A::Error::missing_field("spanId"))?.0;
        let status = status.flatten().unwrap_or_default();
        let context = self.context;
        self.out.push(Span {
            trace_id,
            span_id,
            parent_span_id: parent.and_then(|p| p.0),
            service: Arc::clone(context.service),
            name: name.map_or_else(|| text(""), |n| n.0),
            kind: kind.unwrap_or_default().0,
            start_ns: start.unwrap_or_default().0,
            end_ns: end.unwrap_or_default().0,
            status: SpanStatus {
                code: status.code.0,
                message: status.message.filter(|m| !m.is_empty()),
            },
            attributes: attributes.flatten().unwrap_or_default().0,
            events: events.flatten().unwrap_or_default().0,
            links: links.flatten().unwrap_or_default().0,
            resource: Arc::clone(context.resource),
            scope: context.scope.cloned(),
        });
        Ok(())
    }
    /// The fields by position, as serde's derived structs accept them.
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        const EXPECTED: &str = "struct SpanWire with 11 elements";
        let trace_id = a
            .next_element::<WireTraceId>()?
            .ok_or_else(|| A::Error::invalid_length(0, &EXPECTED))?;
        let span_id = a
            .next_element::<WireSpanId>()?
            .ok_or_else(|| A::Error::invalid_length(1, &EXPECTED))?;
        let p = SpanParts {
            parent: a.next_element()?,
            name: a.next_element()?,
            kind: a.next_element()?,
            start: a.next_element()?,
            end: a.next_element()?,
            attributes: a.next_element()?,
            events: a.next_element()?,
            links: a.next_element()?,
            status: a.next_element()?,
        };
        self.push(trace_id.0, span_id.0, p);
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventWire {
    #[serde(default)]
    time_unix_nano: Nanos,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Attributes,
}

/// A link; one with an unreadable id is dropped rather than failing the span.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LinkWire {
    #[serde(default)]
    trace_id: LenientTraceId,
    #[serde(default)]
    span_id: LenientSpanId,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Attributes,
}

#[derive(Debug, Default, Deserialize)]
struct StatusWire {
    #[serde(default)]
    code: CodeWire,
    #[serde(default)]
    message: Option<String>,
}

/// A wire element and the domain value it becomes (`None`: left out of the list).
trait ToDomain {
    type Domain;
    fn to_domain(self) -> Option<Self::Domain>;
}

/// A JSON list decoded element by element as `W` and converted on the fly into the domain type.
struct ListOf<W: ToDomain>(ThinVec<W::Domain>);

impl<W: ToDomain> Default for ListOf<W> {
    fn default() -> Self {
        ListOf(ThinVec::new())
    }
}

impl<'de, W: Deserialize<'de> + ToDomain> Deserialize<'de> for ListOf<W> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<W>(PhantomData<W>);
        impl<'de, W: Deserialize<'de> + ToDomain> Visitor<'de> for V<W> {
            type Value = ListOf<W>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<ListOf<W>, A::Error> {
                // Collected on the stack, then allocated once at its exact length: every span holds
                // its lists for as long as the trace is kept, and a list grown to room for 4 (or 8,
                // 16…) and then trimmed costs an allocation and a reallocation per span.
                let mut here: SmallVec<[W::Domain; 8]> = SmallVec::new();
                while let Some(w) = a.next_element::<W>()? {
                    here.extend(w.to_domain());
                }
                Ok(ListOf(thin_list(here)))
            }
        }
        d.deserialize_seq(V(PhantomData))
    }
}

/// A decoded list as a `Vec` of its exact length (collecting would leave room for at least 4).
fn exact<T>(list: ThinVec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(list.len());
    out.extend(list);
    out
}

/// Attribute lists, decoded straight into [`KeyValue`]s.
type Attributes = ListOf<KvWire>;
/// Span events.
type Events = ListOf<EventWire>;
/// Span links; a link with an unreadable id is left out.
type Links = ListOf<LinkWire>;

impl ToDomain for KvWire {
    type Domain = KeyValue;
    fn to_domain(self) -> Option<KeyValue> {
        Some(self.into())
    }
}

impl ToDomain for EventWire {
    type Domain = SpanEvent;
    fn to_domain(self) -> Option<SpanEvent> {
        Some(SpanEvent {
            time_ns: self.time_unix_nano.0,
            name: self.name,
            attributes: exact(self.attributes.0),
        })
    }
}

impl ToDomain for LinkWire {
    type Domain = SpanLink;
    fn to_domain(self) -> Option<SpanLink> {
        Some(SpanLink {
            trace_id: self.trace_id.0?,
            span_id: self.span_id.0?,
            attributes: exact(self.attributes.0),
        })
    }
}

/// One attribute; the value is decoded straight into the domain's [`AttrValue`].
#[derive(Debug, Deserialize)]
pub(super) struct KvWire {
    #[serde(default, deserialize_with = "super::intern::deserialize_key")]
    key: Arc<str>,
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
        AnyValueWire(AttrValue::Str(text("")))
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
                        AnyField::StringValue => AttrValue::Str(a.next_value::<SharedText>()?.0),
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
                            AttrValue::Str(
                                render_kvlist(list.map(|x| x.values).unwrap_or_default()).into(),
                            )
                        }
                        AnyField::BytesValue => AttrValue::Str(a.next_value::<SharedText>()?.0),
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
                Ok(AnyValueWire(AttrValue::Str(text(v))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AnyValueWire, E> {
                Ok(AnyValueWire(AttrValue::Str(text(&v))))
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
                    Err(_) => AttrValue::Str(v.to_string().into()),
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
        .find(|kv| &*kv.key == "service.name")
        .and_then(|kv| kv.value.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or(UNKNOWN_SERVICE)
        .to_owned()
}

impl TracesDataWire {
    /// Hands over the spans, appending to `out`.
    pub(super) fn into_spans(self, out: &mut Vec<Span>) {
        if out.is_empty() {
            *out = self.spans;
        } else {
            out.extend(self.spans);
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
        assert_eq!(get("empty"), Some(AttrValue::Str("".into())));
    }

    /// A span keeps its lists for as long as the trace is cached: no spare room in them.
    #[test]
    fn attribute_lists_hold_no_spare_room() {
        let attrs = |n: usize| {
            (0..n)
                .map(|i| format!(r#"{{"key":"k{i}","value":{{"intValue":{i}}}}}"#))
                .collect::<Vec<_>>()
                .join(",")
        };
        for n in [1, 3, 5, 17] {
            let s = one(&format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS},"attributes":[{}],"events":[{{"name":"e","attributes":[{}]}}]}}]}}]}}]}}"#,
                attrs(n),
                attrs(n)
            ));
            assert_eq!(s.attributes.len(), n);
            assert_eq!(s.attributes.capacity(), n, "{n} attributes");
            assert_eq!(s.events.capacity(), 1);
            assert_eq!(s.events[0].attributes.capacity(), n);
        }
    }

    #[test]
    fn service_falls_back_to_unknown_service() {
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"resource":{{}},"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#
        ));
        assert_eq!(&*s.service, UNKNOWN_SERVICE);
    }

    #[test]
    fn json_lines_are_concatenated() {
        let doc = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#);
        let text = format!("{doc}\n{doc}\n");
        assert_eq!(decode(text.as_bytes()).expect("jsonl").len(), 2);
    }

    #[test]
    fn resource_and_scope_after_their_spans_still_apply() {
        let doc = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}},{{{IDS}}}],"scope":{{"name":"late-scope"}}}}],
              "resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"late"}}}}]}}}},
              {{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#
        );
        let spans = decode(doc.as_bytes()).expect("decodes");
        assert_eq!(spans.len(), 3);
        for s in &spans[..2] {
            assert_eq!(&*s.service, "late");
            assert_eq!(s.scope.as_deref(), Some("late-scope"));
            assert_eq!(*s.resource, [KeyValue::str("service.name", "late")]);
        }
        assert_eq!(&*spans[2].service, UNKNOWN_SERVICE);
        assert_eq!(spans[2].scope, None);
        assert!(spans[2].resource.is_empty());
    }

    #[test]
    fn spans_of_a_resource_share_its_attributes() {
        let doc = format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"a"}}}}]}},
              "scopeSpans":[{{"spans":[{{{IDS}}}]}},{{"spans":[{{{IDS}}}]}}]}}]}}"#
        );
        let spans = decode(doc.as_bytes()).expect("decodes");
        assert!(Arc::ptr_eq(&spans[0].resource, &spans[1].resource));
    }

    #[test]
    fn nulls_are_empty_and_repeated_fields_are_refused() {
        let s = one(&format!(
            r#"{{"resourceSpans":[{{"resource":null,"scopeSpans":[{{"scope":null,"spans":[{{{IDS},"name":null,"attributes":null,"events":null,"links":null,"status":null}}]}},{{"spans":null}}]}},{{"scopeSpans":null}}]}}"#
        ));
        assert_eq!((&*s.name, &*s.service), ("", UNKNOWN_SERVICE));
        assert!(s.attributes.is_empty() && s.events.is_empty() && s.links.is_empty());
        let err = decode(
            format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS},{IDS}}}]}}]}}]}}"#)
                .as_bytes(),
        )
        .expect_err("twice");
        assert!(
            err.to_string().contains("duplicate field `traceId`"),
            "{err}"
        );
    }

    #[test]
    fn fields_by_position_as_derived_structs_accept_them() {
        // `[resourceSpans]`, `[resource, scopeSpans]`, `[scope, spans]`, `[traceId, spanId, …]`.
        let doc = r#"[[[{"attributes":[{"key":"service.name","value":{"stringValue":"p"}}]},
            [[{"name":"sc"},[["5b8efff798038103d269b633813fc60c","eee19b7ec3c1b174",null,"n",2,"1","2"]]]]]]]"#;
        let spans = decode(doc.as_bytes()).expect("decodes");
        assert_eq!(spans.len(), 1);
        let s = &spans[0];
        assert_eq!(
            (&*s.service, &*s.name, s.kind),
            ("p", "n", SpanKind::Server)
        );
        assert_eq!(
            (s.start_ns, s.end_ns, s.scope.as_deref()),
            (1, 2, Some("sc"))
        );
        let err = decode(br#"[[[null,[[null,[["5b8efff798038103d269b633813fc60c"]]]]]]]"#)
            .expect_err("no span id");
        assert!(
            err.to_string()
                .contains("invalid length 1, expected struct SpanWire with 11 elements"),
            "{err}"
        );
    }
}
