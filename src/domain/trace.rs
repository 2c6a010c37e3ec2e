//! Spans and assembled traces.
//!
//! A [`Span`] is what a trace backend or file gave us, converted to strict types. A [`Trace`] is the
//! assembled tree: spans stored in depth-first pre-order (siblings by start time) with `depth` and
//! `subtree_end` per row, so "is row X inside collapsed row Y" is `Y < X < subtree_end(Y)` and the
//! visible rows are one linear pass. Assembly lives in `correlate::assemble`; this module only holds data.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
pub use thin_vec::{thin_vec, ThinVec};

use super::diagnostic::Diagnostic;
use super::ids::{SpanId, TraceId};

/// An attribute value, as OpenTelemetry's `AnyValue`, reduced to what a person reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    /// A string; decoders share one copy of a value that repeats within a payload
    /// (`connectors::formats::intern`).
    Str(Arc<str>),
    /// A boolean.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A double.
    Float(f64),
    /// An array of values.
    Array(Vec<AttrValue>),
}

impl AttrValue {
    /// The value as text, for display and for comparing with Sentry tags (which are strings).
    pub fn as_text(&self) -> String {
        match self {
            AttrValue::Str(s) => s.to_string(),
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Float(f) => f.to_string(),
            AttrValue::Array(items) => {
                let parts: Vec<String> = items.iter().map(AttrValue::as_text).collect();
                format!("[{}]", parts.join(", "))
            }
        }
    }

    /// The string inside, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Heap bytes this value owns (an estimate: lengths, not allocator rounding; a string shared by
    /// several values counts its share).
    pub fn heap_bytes(&self) -> usize {
        match self {
            AttrValue::Str(s) => shared_len(s),
            AttrValue::Array(items) => items
                .iter()
                .map(|v| std::mem::size_of::<AttrValue>() + v.heap_bytes())
                .sum(),
            AttrValue::Bool(_) | AttrValue::Int(_) | AttrValue::Float(_) => 0,
        }
    }
}

/// One key/value attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Attribute key, e.g. `http.request.method`. Shared: decoders give every span using a key the
    /// same copy (a trace repeats a few dozen keys on every span).
    pub key: Arc<str>,
    /// Attribute value.
    pub value: AttrValue,
}

impl KeyValue {
    /// A string attribute.
    pub fn str(key: impl Into<Arc<str>>, value: impl Into<Arc<str>>) -> Self {
        Self {
            key: key.into(),
            value: AttrValue::Str(value.into()),
        }
    }
}

/// Looks up an attribute by key in a list.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AttrValue> {
    attrs.iter().find(|kv| &*kv.key == key).map(|kv| &kv.value)
}

/// OpenTelemetry span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanKind {
    /// Not specified by the producer.
    #[default]
    Unspecified,
    /// In-process operation.
    Internal,
    /// Handles an incoming request.
    Server,
    /// Makes an outgoing request.
    Client,
    /// Sends a message.
    Producer,
    /// Receives a message.
    Consumer,
}

/// OpenTelemetry status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCode {
    /// Not set.
    #[default]
    Unset,
    /// Explicitly OK.
    Ok,
    /// The operation failed.
    Error,
}

/// A span's status: code and optional message.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpanStatus {
    /// The status code.
    pub code: StatusCode,
    /// The description set with the status, if any.
    pub message: Option<String>,
}

/// A timestamped event recorded on a span (for example an OTel `exception` event).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEvent {
    /// Unix time in nanoseconds.
    pub time_ns: u64,
    /// Event name, e.g. `exception`.
    pub name: String,
    /// Event attributes, e.g. `exception.type`.
    pub attributes: Vec<KeyValue>,
}

/// A link from a span to a span of (possibly) another trace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanLink {
    /// Linked trace.
    pub trace_id: TraceId,
    /// Linked span.
    pub span_id: SpanId,
    /// Link attributes.
    pub attributes: Vec<KeyValue>,
}

/// One span, with strict ids and Unix-nanosecond times.
///
/// `start_ns == 0` means the producer gave no start time; assembly reports it as a diagnostic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// Trace the span belongs to.
    pub trace_id: TraceId,
    /// The span's id.
    pub span_id: SpanId,
    /// Parent span, `None` for a root.
    pub parent_span_id: Option<SpanId>,
    /// `service.name` of the span's resource (or Jaeger process); shared by the spans of a resource.
    pub service: Arc<str>,
    /// Operation name; decoders share one copy of a name that repeats within a payload.
    pub name: Arc<str>,
    /// Span kind.
    pub kind: SpanKind,
    /// Start, Unix nanoseconds.
    pub start_ns: u64,
    /// End, Unix nanoseconds.
    pub end_ns: u64,
    /// Status code and message.
    pub status: SpanStatus,
    /// Span attributes. This and the other two lists are one pointer each in the span (most spans
    /// have no events or links; an empty list allocates nothing).
    pub attributes: ThinVec<KeyValue>,
    /// Span events (logs).
    pub events: ThinVec<SpanEvent>,
    /// Links to other spans.
    pub links: ThinVec<SpanLink>,
    /// Resource attributes, shared by all spans of a process: decoders build the list once per
    /// resource and every span holds a reference to it, so cloning or moving a span does not copy it.
    /// Serialized as a plain list.
    #[serde(with = "shared_attrs")]
    pub resource: Arc<[KeyValue]>,
    /// Instrumentation scope name, when known; shared by the spans of a scope like `resource`.
    /// Serialized as a plain string or `null`.
    #[serde(with = "shared_str")]
    pub scope: Option<Arc<str>>,
}

/// Serde for a shared attribute list: the same JSON list as a `Vec<KeyValue>`.
mod shared_attrs {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::KeyValue;

    pub(super) fn serialize<S: Serializer>(v: &Arc<[KeyValue]>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<[KeyValue]>, D::Error> {
        Vec::<KeyValue>::deserialize(d).map(Arc::from)
    }
}

/// Serde for an optional shared string: the same JSON as an `Option<String>`.
mod shared_str {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Arc<str>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<str>>, D::Error> {
        Option::<String>::deserialize(d).map(|s| s.map(Arc::from))
    }
}

/// A shared string's share of its bytes: its length over the number of holders.
fn shared_len(s: &Arc<str>) -> usize {
    s.len() / Arc::strong_count(s).max(1)
}

fn attrs_bytes(attrs: &[KeyValue]) -> usize {
    attrs
        .iter()
        .map(|kv| std::mem::size_of::<KeyValue>() + kv.value.heap_bytes())
        .sum()
}

/// A span's list allocated at its exact length (collecting into a `ThinVec`, or converting a `Vec`,
/// leaves room for at least 4 items, and every span keeps its lists as long as its trace is held).
pub fn thin_list<T>(items: impl IntoIterator<Item = T>) -> ThinVec<T> {
    let items = items.into_iter();
    match items.size_hint() {
        (lo, Some(hi)) if lo == hi => {
            let mut out = ThinVec::with_capacity(lo);
            out.extend(items);
            out
        }
        _ => {
            let all: Vec<T> = items.collect();
            let mut out = ThinVec::with_capacity(all.len());
            out.extend(all);
            out
        }
    }
}

/// The length and capacity a non-empty [`ThinVec`] keeps in front of its items.
const THIN_HEADER: usize = 2 * std::mem::size_of::<usize>();

impl Span {
    /// Memory this span holds, estimated: the struct and what it owns alone (resource attributes
    /// and the scope are shared by many spans and not counted). What caches weigh entries by.
    pub fn approx_bytes(&self) -> u64 {
        let own = std::mem::size_of::<Span>()
            + shared_len(&self.service)
            + shared_len(&self.name)
            + self.status.message.as_ref().map_or(0, String::len)
            + [
                self.attributes.is_empty(),
                self.events.is_empty(),
                self.links.is_empty(),
            ]
            .iter()
            .filter(|empty| !**empty)
            .count()
                * THIN_HEADER
            + attrs_bytes(&self.attributes)
            + self
                .events
                .iter()
                .map(|e| {
                    std::mem::size_of::<SpanEvent>() + e.name.len() + attrs_bytes(&e.attributes)
                })
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| std::mem::size_of::<SpanLink>() + attrs_bytes(&l.attributes))
                .sum::<usize>();
        own as u64
    }

    /// Duration in nanoseconds (0 when end is before start).
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }

    /// Looks up a span attribute.
    pub fn attr(&self, key: &str) -> Option<&AttrValue> {
        attr(&self.attributes, key)
    }

    /// True when the span's status is an error (or Jaeger's `error=true` tag was mapped to it).
    pub fn is_error(&self) -> bool {
        self.status.code == StatusCode::Error
    }
}

/// Where an assembled row came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowOrigin {
    /// A real span from the input.
    Span,
    /// A marker standing in for a parent that is referenced but not present.
    MissingParent,
}

/// Tree position of one row of an assembled trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Index of the parent row, `None` for a top-level row.
    pub parent: Option<u32>,
    /// Nesting depth, 0 for top-level rows.
    pub depth: u32,
    /// One past the last row of this row's subtree (pre-order), so descendants are `i+1..subtree_end`.
    pub subtree_end: u32,
    /// Real span or a placeholder.
    pub origin: RowOrigin,
}

/// An assembled trace: spans in depth-first pre-order, siblings by start time.
///
/// `spans[i]` and `nodes[i]` describe row `i`. Placeholder rows (missing parents) carry a synthetic span
/// whose `span_id` is the missing id, whose times cover its orphans, and whose service is the orphans'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    /// The trace id.
    pub trace_id: TraceId,
    /// Rows in pre-order.
    pub spans: Vec<Span>,
    /// Tree position of each row, parallel to `spans`.
    pub nodes: Vec<Node>,
    /// Repairs and problems found while assembling.
    pub diagnostics: Vec<Diagnostic>,
    /// Earliest start over all rows, Unix ns.
    pub start_ns: u64,
    /// Latest end over all rows, Unix ns.
    pub end_ns: u64,
}

impl Trace {
    /// Number of real spans (placeholders excluded).
    pub fn span_count(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.origin == RowOrigin::Span)
            .count()
    }

    /// Row index of a span id (first match), if present.
    pub fn index_of(&self, span_id: SpanId) -> Option<usize> {
        self.spans
            .iter()
            .zip(&self.nodes)
            .position(|(s, n)| s.span_id == span_id && n.origin == RowOrigin::Span)
    }

    /// Is row `descendant` inside the subtree of row `ancestor` (strictly)?
    pub fn is_descendant(&self, descendant: usize, ancestor: usize) -> bool {
        self.nodes
            .get(ancestor)
            .is_some_and(|n| descendant > ancestor && descendant < n.subtree_end as usize)
    }

    /// Indices from the top-level row down to `row`, inclusive.
    pub fn path_to(&self, row: usize) -> Vec<usize> {
        let mut path = Vec::new();
        let mut cur = Some(row);
        while let Some(i) = cur {
            path.push(i);
            cur = self.nodes.get(i).and_then(|n| n.parent.map(|p| p as usize));
            if path.len() > self.nodes.len() {
                break;
            }
        }
        path.reverse();
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every span of a trace is moved at least twice on its way to the page (joined in document
    /// order, then moved into pre-order): at a million spans each byte here is a megabyte.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn a_span_stays_small() {
        assert!(
            std::mem::size_of::<Span>() <= 176,
            "{}",
            std::mem::size_of::<Span>()
        );
    }
}
