//! How much of one span or one event tracepin keeps.
//!
//! A payload may carry a span with a million attributes or an event with a million breadcrumbs; kept
//! whole, one request costs gigabytes and renders a page nobody can read. Decoders keep the first
//! [`MAX_ITEMS`] attributes, span events, links, tags, exceptions and frames (OpenTelemetry SDKs keep
//! 128 attributes by default, so real spans are never cut), and the *last* [`MAX_ITEMS`] breadcrumbs
//! (the most recent are the ones that explain the error). What was cut is counted, so the page can say
//! so. Pages then show fewer still (`view`), with "N more" and the export for the rest.

use crate::domain::{ErrorEvent, Span, ThinVec};

/// Items of one list kept per span or event.
pub const MAX_ITEMS: usize = 1_000;

/// A list that keeps its first items when cut: `Vec` and the spans' `ThinVec`.
trait List {
    fn len(&self) -> usize;
    fn truncate(&mut self, len: usize);
}

impl<T> List for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

impl<T> List for ThinVec<T> {
    fn len(&self) -> usize {
        ThinVec::len(self)
    }
    fn truncate(&mut self, len: usize) {
        ThinVec::truncate(self, len);
    }
}

fn cut_front(v: &mut impl List) -> usize {
    let n = v.len().saturating_sub(MAX_ITEMS);
    v.truncate(MAX_ITEMS);
    n
}

fn cut_back<T>(v: &mut Vec<T>) -> usize {
    let n = v.len().saturating_sub(MAX_ITEMS);
    v.drain(..n);
    n
}

/// Caps a span's lists; returns how many items were dropped.
pub fn cap_span(s: &mut Span) -> usize {
    let mut dropped =
        cut_front(&mut s.attributes) + cut_front(&mut s.events) + cut_front(&mut s.links);
    for e in &mut s.events {
        dropped += cut_front(&mut e.attributes);
    }
    dropped
}

/// Caps an event's lists; returns how many items were dropped.
pub fn cap_event(e: &mut ErrorEvent) -> usize {
    let mut dropped =
        cut_front(&mut e.tags) + cut_back(&mut e.breadcrumbs) + cut_back(&mut e.exceptions);
    for x in &mut e.exceptions {
        // Sentry lists frames oldest call first; the innermost (last) frames are where it failed.
        dropped += cut_back(&mut x.frames);
    }
    dropped
}

/// Caps every span; a sentence for the page when anything was dropped.
pub fn cap_spans(spans: &mut [Span]) -> Option<String> {
    let (mut spans_cut, mut items) = (0usize, 0usize);
    for s in spans {
        let n = cap_span(s);
        if n > 0 {
            spans_cut += 1;
            items += n;
        }
    }
    (spans_cut > 0).then(|| {
        format!(
            "{spans_cut} span(s) carried more than {MAX_ITEMS} attributes, events or links; tracepin kept the first {MAX_ITEMS} of each and dropped {items} item(s)."
        )
    })
}

/// Caps every event; returns how many items were dropped in all.
pub fn cap_events(events: &mut [ErrorEvent]) -> usize {
    events.iter_mut().map(cap_event).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Breadcrumb, KeyValue, SpanKind, SpanStatus};

    fn span() -> Span {
        Span {
            trace_id: "0af7651916cd43dd8448eb211c80319c".parse().expect("id"),
            span_id: "b7ad6b7169203331".parse().expect("id"),
            parent_span_id: None,
            service: "svc".into(),
            name: "op".into(),
            kind: SpanKind::Server,
            start_ns: 1,
            end_ns: 2,
            status: SpanStatus::default(),
            attributes: thin_vec::thin_vec![],
            events: thin_vec::thin_vec![],
            links: thin_vec::thin_vec![],
            resource: Default::default(),
            scope: None,
        }
    }

    #[test]
    fn a_span_with_a_million_attributes_keeps_the_first_thousand() {
        let mut s = span();
        s.attributes = (0..1_000_000)
            .map(|i| KeyValue::str(format!("k{i}"), "v"))
            .collect();
        let note = cap_spans(std::slice::from_mut(&mut s)).expect("a note");
        assert_eq!(s.attributes.len(), MAX_ITEMS);
        assert_eq!(&*s.attributes[0].key, "k0");
        assert!(note.contains("dropped 999000 item(s)"), "{note}");
        assert_eq!(cap_spans(std::slice::from_mut(&mut s)), None);
    }

    #[test]
    fn an_event_keeps_its_latest_breadcrumbs() {
        let mut e = ErrorEvent {
            breadcrumbs: (0..5_000)
                .map(|i| Breadcrumb {
                    message: Some(format!("b{i}")),
                    ..Breadcrumb::default()
                })
                .collect(),
            ..ErrorEvent::default()
        };
        assert_eq!(cap_events(std::slice::from_mut(&mut e)), 4_000);
        assert_eq!(e.breadcrumbs.len(), MAX_ITEMS);
        assert_eq!(e.breadcrumbs[0].message.as_deref(), Some("b4000"));
        assert_eq!(
            e.breadcrumbs.last().and_then(|b| b.message.as_deref()),
            Some("b4999")
        );
    }
}
