//! Resolving what a person pasted (or an `/issue/…`, `/event/…` link) to a page.
//!
//! [`crate::domain::recognise::recognise`] says what the text *is*; this module asks the configured
//! sources where it *leads*: a trace id opens its trace; a 32-hex id that could be a trace or a Sentry
//! event is looked up on both sides at once (both found: the reader chooses); an issue opens its latest
//! event on its trace; an event without a trace is shown alone with the reason. Nothing found: a page
//! that lists every place asked and its time window. Pasted URLs are only parsed: no host in the input
//! is ever contacted.

use crate::api::types::{LookupChoice, LookupOutcome, LookupPage};
use crate::api::AppError;
use crate::correlate;
use crate::domain::recognise::{recognise, Lookup, ACCEPTED_FORMS};
use crate::domain::{ErrorEvent, EventId, SpanId, TraceId};

use super::data::{trace_of_event, DataStore};

/// `/trace/{id}` with the span and event selected.
pub fn trace_url(trace: TraceId, span: Option<SpanId>, event: Option<EventId>) -> String {
    let mut u = format!("/trace/{trace}?v=1");
    if let Some(s) = span {
        u.push_str(&format!("&span={s}"));
    }
    if let Some(e) = event {
        u.push_str(&format!("&event={e}"));
    }
    u
}

/// Resolves pasted text.
pub async fn resolve(data: &DataStore, public_url: Option<&str>, input: &str) -> LookupPage {
    let query: String = input.chars().take(4096).collect();
    match recognise(input) {
        Err(u) => LookupPage {
            query,
            form: None,
            outcome: unrecognised(u.message),
        },
        Ok(r) => LookupPage {
            query,
            form: Some(r.form.describe().to_owned()),
            outcome: resolve_lookup(data, public_url, r.lookup).await,
        },
    }
}

/// Resolves `/issue/{id_or_short_id}`.
pub async fn resolve_issue(data: &DataStore, public_url: Option<&str>, id: &str) -> LookupPage {
    let form = Some("tracepin issue link".to_owned());
    let lookup = match recognise(id) {
        Ok(r) => match r.lookup {
            l @ (Lookup::Issue { .. } | Lookup::ShortId { .. }) => l,
            _ => {
                return LookupPage {
                    query: id.to_owned(),
                    form,
                    outcome: unrecognised(format!(
                        "`{}` is not a Sentry issue id (digits) or short id (like SHOP-12).",
                        clip(id)
                    )),
                }
            }
        },
        Err(u) => {
            return LookupPage {
                query: id.to_owned(),
                form,
                outcome: unrecognised(u.message),
            }
        }
    };
    LookupPage {
        query: id.to_owned(),
        form,
        outcome: resolve_lookup(data, public_url, lookup).await,
    }
}

/// Resolves `/event/{event_id}`.
pub async fn resolve_event(data: &DataStore, public_url: Option<&str>, id: &str) -> LookupPage {
    let compact: String = id
        .trim()
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    let form = Some("tracepin event link".to_owned());
    match compact.parse::<EventId>() {
        Ok(event_id) => LookupPage {
            query: id.to_owned(),
            form,
            outcome: resolve_lookup(
                data,
                public_url,
                Lookup::Event {
                    event_id,
                    issue_id: None,
                },
            )
            .await,
        },
        Err(_) => LookupPage {
            query: id.to_owned(),
            form,
            outcome: unrecognised(format!(
                "`{}` is not a Sentry event id: 32 hex digits, dashes allowed.",
                clip(id)
            )),
        },
    }
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if s.chars().count() > 80 {
        out.push('…');
    }
    out
}

fn unrecognised(message: String) -> LookupOutcome {
    LookupOutcome::Unrecognised {
        message,
        accepted: ACCEPTED_FORMS
            .iter()
            .map(|(f, e)| ((*f).to_owned(), (*e).to_owned()))
            .collect(),
    }
}

async fn resolve_lookup(data: &DataStore, public_url: Option<&str>, l: Lookup) -> LookupOutcome {
    match l {
        Lookup::Trace {
            trace_id,
            span_id,
            event_id,
        } => LookupOutcome::Go {
            url: trace_url(trace_id, span_id, event_id),
        },
        Lookup::TraceOrEvent { id } => trace_or_event(data, public_url, &id).await,
        Lookup::Event { event_id, .. } => match data.find_event(event_id).await {
            Ok(Some((ev, trace))) => event_outcome(data, public_url, ev, trace, None),
            Ok(None) => not_found(data, format!("Sentry event {event_id}")).await,
            Err(e) => failed(e),
        },
        Lookup::Issue { issue_id: id } | Lookup::ShortId { short_id: id } => {
            match data.issue_event(&id).await {
                Ok((issue, ev)) => {
                    let trace = trace_of_event(&ev);
                    let brief = Some((
                        issue.short_id.clone(),
                        issue.title.clone(),
                        crate::domain::links::safe_url(&issue.permalink),
                    ));
                    event_outcome(data, public_url, ev, trace, brief)
                }
                Err(AppError::NotFound(m)) => {
                    let mut out = not_found(data, format!("Sentry issue {id}")).await;
                    if let LookupOutcome::NotFound { suggestions, .. } = &mut out {
                        suggestions.insert(0, m);
                    }
                    out
                }
                Err(e) => failed(e),
            }
        }
    }
}

fn failed(e: AppError) -> LookupOutcome {
    LookupOutcome::Failed {
        message: e.to_string(),
    }
}

/// An event with a trace opens it there; one without is shown alone with the reason.
fn event_outcome(
    data: &DataStore,
    public_url: Option<&str>,
    ev: ErrorEvent,
    trace: Option<TraceId>,
    issue: Option<(String, String, Option<String>)>,
) -> LookupOutcome {
    if let (Some(t), Some(e)) = (trace, ev.event_id) {
        return LookupOutcome::Go {
            url: trace_url(t, None, Some(e)),
        };
    }
    match event_alone(ev, &data.options(), public_url) {
        Some((event, reason)) => LookupOutcome::EventAlone {
            issue,
            event: Box::new(event),
            reason,
        },
        None => LookupOutcome::Failed {
            message: "The event has no event id, so it cannot be shown.".into(),
        },
    }
}

/// The detail view of an event that belongs to no trace, and why it cannot be placed.
pub fn event_alone(
    ev: ErrorEvent,
    opts: &correlate::Options,
    public_url: Option<&str>,
) -> Option<(crate::api::EventDetail, String)> {
    let event_id = ev.event_id?.to_string();
    let at = ev.timestamp_ns;
    let c = correlate::correlate(Vec::new(), vec![ev], opts);
    let reason = c
        .unplaced
        .first()
        .map(|u| u.reason.to_string())
        .unwrap_or_else(|| "The event names no trace.".into());
    // A timeline with no spans: only the event's time and its unplaced reason matter here.
    let mut placeholder = [0u8; 16];
    placeholder[15] = 1;
    let tl = correlate::Timeline::without_spans(
        TraceId::from_bytes(placeholder)?,
        at,
        at,
        c.unplaced.clone(),
    );
    let detail = super::timeline::event_detail(&c, &tl, &event_id, public_url)?;
    Some((detail, reason))
}

/// A 32-hex id: ask the trace side and the event side at once.
async fn trace_or_event(data: &DataStore, public_url: Option<&str>, id: &str) -> LookupOutcome {
    let trace_id = id.parse::<TraceId>().ok();
    let event_id = id.parse::<EventId>().ok();
    let trace_side = async {
        match trace_id {
            Some(t) => Some(data.timeline(t, None).await),
            None => None,
        }
    };
    let event_side = async {
        match event_id {
            Some(e) => Some(data.find_event(e).await),
            None => None,
        }
    };
    let (trace, event) = tokio::join!(trace_side, event_side);
    let mut problems = Vec::new();
    let trace_choice = match (trace_id, trace) {
        (Some(t), Some(Ok(loaded))) => loaded.timeline().map(|tl| {
            let spans = tl.trace.span_count();
            let root = tl
                .trace
                .spans
                .first()
                .map(|s| format!("{} {}", s.service, s.name))
                .unwrap_or_else(|| "errors only".into());
            LookupChoice {
                kind: "trace".into(),
                title: format!("Trace {t}: {root}"),
                detail: format!(
                    "{spans} span(s), {} error(s); {}",
                    tl.pins.len() + tl.unplaced.len(),
                    loaded.sources.join(", ")
                ),
                url: trace_url(t, None, None),
            }
        }),
        (_, Some(Err(AppError::NotFound(_)))) | (_, None) | (None, _) => None,
        (_, Some(Err(e))) => {
            problems.push(format!("trace side: {e}"));
            None
        }
    };
    let event_found = match event {
        Some(Ok(Some(found))) => Some(found),
        Some(Ok(None)) | None => None,
        Some(Err(e)) => {
            problems.push(format!("Sentry: {e}"));
            None
        }
    };
    match (trace_choice, event_found) {
        (Some(tc), Some((ev, trace))) => {
            let event_url = match (trace, ev.event_id) {
                (Some(t), Some(e)) => trace_url(t, None, Some(e)),
                _ => format!("/event/{id}"),
            };
            LookupOutcome::Choices {
                id: id.to_owned(),
                choices: vec![
                    tc,
                    LookupChoice {
                        kind: "event".into(),
                        title: format!("Sentry event: {}", ev.title),
                        detail: match trace {
                            Some(t) => format!(
                                "{}{} — on trace {t}",
                                ev.project
                                    .as_deref()
                                    .map(|p| format!("project {p}, "))
                                    .unwrap_or_default(),
                                super::data::format_ns(ev.timestamp_ns)
                            ),
                            None => "carries no trace id; shown alone".into(),
                        },
                        url: event_url,
                    },
                ],
            }
        }
        (Some(tc), None) => LookupOutcome::Go { url: tc.url },
        (None, Some((ev, trace))) => event_outcome(data, public_url, ev, trace, None),
        (None, None) => {
            let mut out = not_found(data, format!("trace or Sentry event {id}")).await;
            if let LookupOutcome::NotFound { looked_in, .. } = &mut out {
                for p in problems.into_iter().rev() {
                    looked_in.insert(0, format!("failed — {p}"));
                }
            }
            out
        }
    }
}

async fn not_found(data: &DataStore, what: String) -> LookupOutcome {
    LookupOutcome::NotFound {
        what,
        looked_in: data.looked_in().await,
        suggestions: vec![
            "Check that the id is complete: trace and event ids are 32 hex digits (16 for Jaeger)."
                .into(),
            "Traces are often kept for days only: an older trace may have expired from the backend."
                .into(),
            "A trace may still be arriving: try again in a minute if the error just happened.".into(),
            "Paste the Sentry event's URL or its trace id instead (Sentry shows it under Trace)."
                .into(),
        ],
    }
}
