//! The CLI's stable JSON report of a [`Correlation`].
//!
//! Shape (stable; extra fields may be added, these are not renamed):
//! `{"timelines":[{"trace_id","span_count","pins":[{"event_id","span_id","matched_by",…}],
//! "unplaced":[{"event_id","reason",…}],…}],"unplaced":[{"event_id","reason",…}]}`.
//! `reason` is the sentence; `reason_code` the snake_case code. Times are Unix ns, raw and adjusted.

use serde_json::{json, Value};

use super::types::{Correlation, Pin, Timeline, Unplaced};
use crate::domain::ErrorEvent;

fn unplaced_json(u: &Unplaced, events: &[ErrorEvent]) -> Value {
    json!({
        "event_id": u.event_id.map(|id| id.to_string()),
        "reason": u.reason.to_string(),
        "reason_code": u.reason.code(),
        "title": events.get(u.event).map(|e| e.title.as_str()),
    })
}

fn pin_json(t: &Timeline, p: &Pin, events: &[ErrorEvent]) -> Value {
    let span = t.trace.spans.get(p.row);
    let mut v = json!({
        "event_id": p.event_id.map(|id| id.to_string()),
        "span_id": p.span_id.to_string(),
        "matched_by": p.matched_by,
        "matched_by_text": p.matched_by.describe(),
        "span_name": span.map(|s| &*s.name),
        "span_service": span.map(|s| &*s.service),
        "service": p.service,
        "service_source": p.service_source,
        "row": p.row,
        "time_ns": p.time_ns,
        "adjusted_time_ns": p.adjusted_time_ns,
        "title": events.get(p.event).map(|e| e.title.as_str()),
    });
    if let (Some(anchor), Some(obj)) = (&p.anchor, v.as_object_mut()) {
        obj.insert(
            "anchor".to_owned(),
            json!({
                "span_id": anchor.span_id.to_string(),
                "matched_by": anchor.matched_by,
            }),
        );
    }
    if let (Some(ev), Some(obj)) = (p.span_event, v.as_object_mut()) {
        obj.insert("merged_span_event".to_owned(), json!(ev));
    }
    v
}

fn timeline_json(t: &Timeline, events: &[ErrorEvent]) -> Value {
    let critical: Vec<String> = t
        .critical_path
        .iter()
        .filter_map(|&r| t.trace.spans.get(r))
        .map(|s| s.span_id.to_string())
        .collect();
    json!({
        "trace_id": t.trace.trace_id.to_string(),
        "span_count": t.trace.span_count(),
        "start_ns": t.trace.start_ns,
        "end_ns": t.trace.end_ns,
        "pins": t.pins.iter().map(|p| pin_json(t, p, events)).collect::<Vec<_>>(),
        "unplaced": t.unplaced.iter().map(|u| unplaced_json(u, events)).collect::<Vec<_>>(),
        "clock_skew": t.skew.services.iter().map(|s| json!({
            "service": s.service,
            "offset_ns": s.offset_ns,
            "reference": s.reference,
            "pairs": s.pairs,
        })).collect::<Vec<_>>(),
        "critical_path": critical,
        "diagnostics": t.trace.diagnostics,
    })
}

/// The stable JSON report.
pub fn to_json(c: &Correlation) -> Value {
    json!({
        "timelines": c.timelines.iter().map(|t| timeline_json(t, &c.events)).collect::<Vec<_>>(),
        "unplaced": c.unplaced.iter().map(|u| unplaced_json(u, &c.events)).collect::<Vec<_>>(),
    })
}
