//! Text around ids: labelled fields (`trace_id=…`, `traceparent: …`, `"event_id": "…"`, log lines,
//! JSON) and, for prose, the one id or link inside it.
//!
//! Owns field names and how several fields combine into one [`Lookup`]. Must not interpret a value
//! itself: each value goes through [`super::values`], each link through [`super::links`].

use super::links::{parse_link, recognise_link};
use super::values::{id_problem, issue_ref, parse_event_id, recognise_value};
use super::{no, snippet, strip_noise, trace};
use super::{Form, Lookup, Recognised, Unrecognised};
use crate::domain::ids::{EventId, SpanId, TraceId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Label {
    Trace,
    Span,
    Event,
    Issue,
}

/// The kind of id a field name announces (`trace_id`, `traceId`, `X-Trace-Id`, `otel.trace_id`, …).
pub(super) fn label_kind(name: &str) -> Option<Label> {
    let n: String = name
        .chars()
        .filter(|c| *c != '"' && *c != '\'')
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let n = n.trim_matches('_');
    if n.contains("parent") && n != "traceparent" {
        return None;
    }
    match n {
        "traceparent" | "sentry_trace" | "trace" => Some(Label::Trace),
        "span" => Some(Label::Span),
        "event" => Some(Label::Event),
        "issue" | "issue_id" | "issueid" | "short_id" | "shortid" => Some(Label::Issue),
        _ if n.ends_with("trace_id") || n.ends_with("traceid") => Some(Label::Trace),
        _ if n.ends_with("span_id") || n.ends_with("spanid") => Some(Label::Span),
        _ if n.ends_with("event_id") || n.ends_with("eventid") => Some(Label::Event),
        _ => None,
    }
}

/// What labelled fields said; the first valid value of each kind wins.
#[derive(Default)]
pub(super) struct Fields {
    trace: Option<(TraceId, Option<SpanId>, Form)>,
    span: Option<SpanId>,
    event: Option<EventId>,
    issue: Option<Lookup>,
    error: Option<Unrecognised>,
    any: bool,
}

impl Fields {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(no(message));
        }
    }

    pub(super) fn add(&mut self, label: Label, name: &str, raw: &str) {
        let name = snippet(name.trim_matches(|c| c == '"' || c == '\''));
        let value = strip_noise(raw);
        // A bare word ("Stack trace: at …", `?trace=true`) is a label only when a digit follows.
        let bare_word = matches!(
            name.to_ascii_lowercase().as_str(),
            "trace" | "span" | "event" | "issue"
        );
        if bare_word && !value.contains(|c: char| c.is_ascii_digit()) {
            return;
        }
        self.any = true;
        match label {
            Label::Trace => match recognise_value(value) {
                Ok((
                    Lookup::Trace {
                        trace_id, span_id, ..
                    },
                    form,
                )) => {
                    let form = match form {
                        Form::Traceparent | Form::SentryTrace | Form::UberTraceId => form,
                        _ => Form::Labelled,
                    };
                    self.trace.get_or_insert((trace_id, span_id, form));
                }
                Ok((Lookup::TraceOrEvent { id }, _)) => match id.parse::<TraceId>() {
                    Ok(t) => {
                        self.trace.get_or_insert((t, None, Form::Labelled));
                    }
                    Err(e) => self.fail(format!("{name}: {e}")),
                },
                Ok(_) => self.fail(format!(
                    "{name} holds `{}`, which is not a trace id",
                    snippet(value)
                )),
                Err(e) => self.fail(format!("{name}: {}", e.message)),
            },
            Label::Span => match value.parse::<SpanId>() {
                Ok(s) => {
                    self.span.get_or_insert(s);
                }
                Err(_) => self.fail(format!("{name} {}", id_problem(value, "16"))),
            },
            Label::Event => match parse_event_id(value) {
                Ok(e) => {
                    self.event.get_or_insert(e);
                }
                Err(why) => self.fail(format!("{name} {why}")),
            },
            Label::Issue => match issue_ref(value) {
                Some(issue) => {
                    self.issue.get_or_insert(issue);
                }
                None => self.fail(format!(
                    "{name} holds `{}`, which is neither an issue number nor a short id",
                    snippet(value)
                )),
            },
        }
    }

    /// `None` when no field had a known label.
    pub(super) fn finish(self) -> Option<Result<Recognised, Unrecognised>> {
        if !self.any {
            return None;
        }
        if let Some((trace_id, span_id, form)) = self.trace {
            return Some(Ok(Recognised {
                lookup: trace(trace_id, span_id.or(self.span), self.event),
                form,
            }));
        }
        if let Some(event_id) = self.event {
            let issue_id = match self.issue {
                Some(Lookup::Issue { issue_id }) => Some(issue_id),
                _ => None,
            };
            return Some(Ok(Recognised {
                lookup: Lookup::Event { event_id, issue_id },
                form: Form::Labelled,
            }));
        }
        if let Some(lookup) = self.issue {
            return Some(Ok(Recognised {
                lookup,
                form: Form::Labelled,
            }));
        }
        if let Some(e) = self.error {
            return Some(Err(e));
        }
        Some(Err(no(
            "a span id alone does not name a trace: paste the trace id or a traceparent",
        )))
    }
}

/// Finds `name=value` / `name: value` / `"name": "value"` fields with a known name.
pub(super) fn scan_labels(text: &str) -> Option<Result<Recognised, Unrecognised>> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let is_value = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | ':');
    let mut fields = Fields::default();
    let mut i = 0;
    while i < chars.len() {
        let prev_is_name = i.checked_sub(1).and_then(at).is_some_and(is_name);
        if prev_is_name || !at(i).is_some_and(is_name) {
            i += 1;
            continue;
        }
        let mut j = i;
        while at(j).is_some_and(is_name) {
            j += 1;
        }
        let name: String = chars.get(i..j).unwrap_or_default().iter().collect();
        let mut k = j;
        while at(k).is_some_and(|c| c == '"' || c == '\'') {
            k += 1;
        }
        while at(k).is_some_and(|c| c == ' ' || c == '\t') {
            k += 1;
        }
        let label = label_kind(&name);
        if let (Some(label), true) = (label, at(k).is_some_and(|c| c == '=' || c == ':')) {
            k += 1;
            while at(k).is_some_and(|c| c.is_whitespace() || c == '"' || c == '\'') {
                k += 1;
            }
            let start = k;
            while at(k).is_some_and(is_value) {
                k += 1;
            }
            let value: String = chars.get(start..k).unwrap_or_default().iter().collect();
            fields.add(label, &name, &value);
            i = k.max(j);
        } else {
            i = j;
        }
    }
    fields.finish()
}

/// In text with spaces: the one link or hex id inside it. `Err` when there are several different ones.
pub(super) fn extract_from_text(text: &str, depth: u8) -> Result<Option<Recognised>, Unrecognised> {
    let mut found: Vec<Recognised> = Vec::new();
    let mut keep = |r: Recognised| {
        if !found.iter().any(|f| f.lookup == r.lookup) {
            found.push(r);
        }
    };
    for token in text.split(char::is_whitespace) {
        let token = strip_noise(token);
        if token.is_empty() {
            continue;
        }
        if let Some(link) = parse_link(token) {
            if let Ok(r) = link.and_then(|l| recognise_link(&l, depth)) {
                keep(r);
            }
            continue;
        }
        for part in token.split(['=', ',', ';', '|', '"', '\'']) {
            if let Ok((lookup, form)) = recognise_value(part) {
                if matches!(lookup, Lookup::Trace { .. } | Lookup::TraceOrEvent { .. }) {
                    keep(Recognised { lookup, form });
                }
            }
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(no(format!(
            "{n} different ids in this text: paste just the one to open"
        ))),
    }
}
