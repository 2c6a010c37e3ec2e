//! Trace pages by path and parameter: `…/trace/{id}` (Jaeger UI, tracepin), `…/api/traces/{id}` and
//! `…/api/v2/traces/{id}` (Tempo), `…/traces/{id}` (Zipkin), Jaeger's `…/search?traceID=`, and any other
//! link with a `trace_id`-like query parameter.
//!
//! Takes a span only when a parameter holds exactly one span id. Must not guess from free text in a
//! parameter (`uiFind` may be a search).

use super::{in_link, Link};
use crate::domain::recognise::text::{label_kind, Fields, Label};
use crate::domain::recognise::values::{parse_event_id, parse_trace_id};
use crate::domain::recognise::{no, trace};
use crate::domain::recognise::{Form, Recognised, Unrecognised};

/// `…/trace/{id}` (Jaeger UI, tracepin; compare view `{id}...{id}`), `…/api/traces/{id}`,
/// `…/api/v2/traces/{id}` (Tempo) and `…/traces/{id}` (Zipkin).
pub(super) fn trace_path_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    let pos = (0..link.segments.len()).rev().find(|&i| {
        matches!(link.segment(i), Some("trace" | "traces")) && link.segment(i + 1).is_some()
    })?;
    let word = link.segment(pos)?;
    let id = link.segment(pos + 1)?;
    let before = |back: usize| pos.checked_sub(back).and_then(|i| link.segment(i));
    let form = if word == "traces" {
        if before(1) == Some("api") || (before(1) == Some("v2") && before(2) == Some("api")) {
            Form::TempoApi
        } else {
            Form::ZipkinUi
        }
    } else if ["v", "span", "event"]
        .iter()
        .any(|k| link.param(k).is_some())
    {
        Form::TracepinTrace
    } else {
        Form::JaegerUi
    };
    let first = id.split("...").next().unwrap_or(id);
    let trace_id = match parse_trace_id(first) {
        Ok(t) => t,
        Err(why) => return Some(Err(in_link(form, "trace id", &why))),
    };
    // `uiFind` may also be a list of span ids or free text: only a single span id is taken.
    let span_id = ["span", "uiFind"]
        .iter()
        .find_map(|k| link.param(k)?.trim().parse().ok());
    let event_id = link.param("event").and_then(|e| parse_event_id(e).ok());
    Some(Ok(Recognised {
        lookup: trace(trace_id, span_id, event_id),
        form,
    }))
}

/// Jaeger UI `…/search?traceID=…` (the first one).
pub(super) fn jaeger_search_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    if link.segments.last().map(String::as_str) != Some("search") {
        return None;
    }
    let raw = link.param("traceID")?;
    let first = raw
        .split([',', ' '])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let form = Form::JaegerSearch;
    Some(
        parse_trace_id(first)
            .map(|t| Recognised {
                lookup: trace(t, None, None),
                form,
            })
            .map_err(|why| in_link(form, "traceID", &why)),
    )
}

/// Any other link with a `trace_id` / `traceId` / `traceID` / `trace` (or `traceparent`) parameter,
/// and optionally a span parameter.
pub(super) fn trace_parameter_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    let mut fields = Fields::default();
    let mut saw_trace = false;
    for (name, value) in &link.query {
        match label_kind(name) {
            Some(Label::Trace) => {
                saw_trace = true;
                fields.add(Label::Trace, name, value);
            }
            Some(Label::Span) => fields.add(Label::Span, name, value),
            _ => {}
        }
    }
    if !saw_trace {
        return None;
    }
    let host = link.host.as_deref().unwrap_or("this path");
    Some(match fields.finish()? {
        Ok(found) => Ok(Recognised {
            form: Form::TraceParameterLink,
            ..found
        }),
        Err(e) => Err(no(format!("{} (in a link on {host})", e.message))),
    })
}
