//! What a trace offers to find its errors by, besides its id: the Sentry event ids its spans claim
//! (`sentry.event_id` / `sentry.event.id` attributes on spans and span events) and the values of the
//! configured correlation keys its spans carry (`transaction_id`, `x-request-id`…). Event sources
//! search by these; the pinning rules then place what they find. Pure: one pass over the spans.

use std::collections::{BTreeMap, BTreeSet};

use super::event::parse_event_id_attr;
use crate::domain::{EventId, Span};

/// Span attributes that name the Sentry event a span reported.
pub const EVENT_ID_ATTRS: [&str; 2] = ["sentry.event_id", "sentry.event.id"];

/// The keys of one trace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceKeys {
    /// Sentry event ids claimed by spans or span events.
    pub event_ids: BTreeSet<EventId>,
    /// Correlation key → the values spans carry for it.
    pub tags: BTreeMap<String, BTreeSet<String>>,
}

impl TraceKeys {
    /// True when there is nothing to search by.
    pub fn is_empty(&self) -> bool {
        self.event_ids.is_empty() && self.tags.values().all(BTreeSet::is_empty)
    }

    /// Number of correlation values.
    pub fn tag_value_count(&self) -> usize {
        self.tags.values().map(BTreeSet::len).sum()
    }
}

/// Collects the keys of a trace's spans; `tag_keys` are the configured correlation keys (span
/// attributes with string values, as the pinning rule matches them).
pub fn trace_keys(spans: &[Span], tag_keys: &[String]) -> TraceKeys {
    let mut keys = TraceKeys::default();
    for s in spans {
        let span_events = s.events.iter().flat_map(|e| e.attributes.iter());
        for kv in s.attributes.iter().chain(span_events) {
            if EVENT_ID_ATTRS.contains(&&*kv.key) {
                if let Some(id) = kv.value.as_str().and_then(parse_event_id_attr) {
                    keys.event_ids.insert(id);
                }
            }
        }
        for kv in &s.attributes {
            if tag_keys.iter().any(|t| **t == *kv.key) {
                if let Some(v) = kv.value.as_str().filter(|v| !v.is_empty()) {
                    keys.tags
                        .entry(kv.key.to_string())
                        .or_default()
                        .insert(v.to_owned());
                }
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AttrValue, KeyValue, SpanEvent, SpanId, SpanKind, SpanStatus, TraceId};

    fn kv(k: &str, v: &str) -> KeyValue {
        KeyValue {
            key: k.into(),
            value: AttrValue::Str(v.into()),
        }
    }

    fn span(attributes: Vec<KeyValue>, events: Vec<SpanEvent>) -> Span {
        Span {
            trace_id: TraceId::from_bytes([1; 16]).expect("id"),
            span_id: SpanId::from_bytes([2; 8]).expect("id"),
            parent_span_id: None,
            service: "svc".into(),
            name: "op".into(),
            kind: SpanKind::Internal,
            start_ns: 1,
            end_ns: 2,
            status: SpanStatus::default(),
            attributes: attributes.into(),
            events: events.into(),
            links: crate::domain::ThinVec::new(),
            resource: Vec::new().into(),
            scope: None,
        }
    }

    #[test]
    fn keys_from_spans_and_span_events() {
        let a = span(
            vec![
                kv("sentry.event_id", "e3de285b-d47c-404c-9a4e-8c0a4d2a7b3b"),
                kv("transaction_id", "txn-1"),
                kv("other", "x"),
            ],
            Vec::new(),
        );
        let b = span(
            vec![kv("transaction_id", "txn-1"), kv("x-request-id", "r 2")],
            vec![SpanEvent {
                name: "exception".into(),
                time_ns: 0,
                attributes: vec![kv("sentry.event.id", "0af7651916cd43dd8448eb211c80319c")],
            }],
        );
        let tags = ["transaction_id".to_owned(), "x-request-id".to_owned()];
        let k = trace_keys(&[a, b], &tags);
        let ids: Vec<String> = k.event_ids.iter().map(ToString::to_string).collect();
        assert_eq!(
            ids,
            [
                "0af7651916cd43dd8448eb211c80319c",
                "e3de285bd47c404c9a4e8c0a4d2a7b3b"
            ]
        );
        assert_eq!(k.tag_value_count(), 2, "txn-1 once, r 2 once");
        assert_eq!(
            k.tags
                .get("transaction_id")
                .map(|s| s.iter().cloned().collect::<Vec<_>>()),
            Some(vec!["txn-1".to_owned()])
        );
        assert!(!k.is_empty());
        assert!(trace_keys(&[], &tags).is_empty());
    }
}
