//! Merging two records that carry the same span id: identical copies, fragments, or a true conflict.
//!
//! A span split across OTLP requests (or re-sent by a retrying exporter) arrives as several records
//! with the same id. Records that agree wherever both have a value are fragments of one span and are
//! merged field by field; records that disagree are different spans reusing an id and must be kept
//! apart. Used only by `assemble`.

use crate::domain::{thin_list, KeyValue, Span, SpanKind, StatusCode, ThinVec};

/// What happened when merging one record into another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOutcome {
    /// Both records were equal; nothing changed.
    Identical,
    /// The second record filled in fields of the first.
    Merged,
    /// The records disagree on the named field; the first is unchanged.
    Conflict(&'static str),
}

fn opt_conflict<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x != y)
}

fn nonzero_conflict(a: u64, b: u64) -> bool {
    a != 0 && b != 0 && a != b
}

fn str_conflict(a: &str, b: &str) -> bool {
    !a.is_empty() && !b.is_empty() && a != b
}

fn attrs_conflict(a: &[KeyValue], b: &[KeyValue]) -> bool {
    b.iter()
        .any(|kb| a.iter().any(|ka| ka.key == kb.key && ka.value != kb.value))
}

fn conflict_field(a: &Span, b: &Span) -> Option<&'static str> {
    if opt_conflict(&a.parent_span_id, &b.parent_span_id) {
        return Some("parent");
    }
    if str_conflict(&a.service, &b.service) {
        return Some("service");
    }
    if str_conflict(&a.name, &b.name) {
        return Some("name");
    }
    if a.kind != SpanKind::Unspecified && b.kind != SpanKind::Unspecified && a.kind != b.kind {
        return Some("kind");
    }
    if nonzero_conflict(a.start_ns, b.start_ns) {
        return Some("start time");
    }
    if nonzero_conflict(a.end_ns, b.end_ns) {
        return Some("end time");
    }
    if a.status.code != StatusCode::Unset
        && b.status.code != StatusCode::Unset
        && a.status.code != b.status.code
    {
        return Some("status");
    }
    if opt_conflict(&a.status.message, &b.status.message) {
        return Some("status message");
    }
    if opt_conflict(&a.scope, &b.scope) {
        return Some("instrumentation scope");
    }
    if attrs_conflict(&a.attributes, &b.attributes) {
        return Some("attributes");
    }
    if attrs_conflict(&a.resource, &b.resource) {
        return Some("resource");
    }
    None
}

fn union_attrs(into: &mut Vec<KeyValue>, from: impl IntoIterator<Item = KeyValue>) {
    for kv in from {
        if !into.iter().any(|k| k.key == kv.key) {
            into.push(kv);
        }
    }
}

fn union_eq<T: PartialEq>(into: &mut ThinVec<T>, from: ThinVec<T>) {
    for item in from {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

/// Merges `b` into `a` when they are copies or fragments of the same span.
pub fn merge_fragment(a: &mut Span, b: Span) -> MergeOutcome {
    if *a == b {
        return MergeOutcome::Identical;
    }
    if let Some(field) = conflict_field(a, &b) {
        return MergeOutcome::Conflict(field);
    }
    if a.parent_span_id.is_none() {
        a.parent_span_id = b.parent_span_id;
    }
    if a.service.is_empty() {
        a.service = b.service;
    }
    if a.name.is_empty() {
        a.name = b.name;
    }
    if a.kind == SpanKind::Unspecified {
        a.kind = b.kind;
    }
    if a.start_ns == 0 {
        a.start_ns = b.start_ns;
    }
    if a.end_ns == 0 {
        a.end_ns = b.end_ns;
    }
    if a.status.code == StatusCode::Unset {
        a.status.code = b.status.code;
    }
    if a.status.message.is_none() {
        a.status.message = b.status.message;
    }
    if a.scope.is_none() {
        a.scope = b.scope;
    }
    let mut attributes = Vec::from(std::mem::take(&mut a.attributes));
    union_attrs(&mut attributes, b.attributes);
    a.attributes = thin_list(attributes);
    let mut resource = a.resource.to_vec();
    union_attrs(&mut resource, b.resource.to_vec());
    a.resource = resource.into();
    union_eq(&mut a.events, b.events);
    union_eq(&mut a.links, b.links);
    a.events.sort_by_key(|e| e.time_ns);
    MergeOutcome::Merged
}
