//! Resolving what a person pasted (or an `/issue/…`, `/event/…` link) to a page.
//!
//! [`crate::domain::recognise::recognise`] says what the text *is*; this module asks the configured
//! sources where it *leads*: a trace id opens its trace; a 32-hex id that could be a trace or a Sentry
//! event is looked up on both sides at once (both found: the reader chooses); an issue opens its latest
//! event on its trace; an event without a trace is shown alone with the reason. Nothing found: a page
//! that lists every place asked and its time window. Pasted URLs are only parsed: no host in the input
//! is ever contacted.

use crate::correlate;
use crate::domain::recognise::{recognise, Lookup};
use crate::domain::{ErrorEvent, EventId, TraceId};
use crate::view::format_ns;
use crate::view::state::trace_url_at as trace_url;
use crate::view::types::{EventDetail, LookupChoice, LookupOutcome, LookupPage};

use super::data::{DataError, DataStore};

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
pub async fn resolve_event(
    data: &DataStore,
    public_url: Option<&str>,
    event_id: EventId,
) -> LookupPage {
    LookupPage {
        query: event_id.to_string(),
        form: Some("tracepin event link".to_owned()),
        outcome: resolve_lookup(
            data,
            public_url,
            Lookup::Event {
                event_id,
                issue_id: None,
            },
        )
        .await,
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
    LookupOutcome::unrecognised(message)
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
            Err(e) => {
                nothing_found(
                    data,
                    format!("Sentry event {event_id}"),
                    vec![e.to_string()],
                )
                .await
            }
        },
        Lookup::Issue { issue_id: id } | Lookup::ShortId { short_id: id } => {
            match data.issue_event(&id).await {
                Ok((issue, ev)) => {
                    let trace = data.trace_for_event(&ev).await;
                    let brief = Some((
                        issue.short_id.clone(),
                        issue.title.clone(),
                        crate::domain::links::safe_url(&issue.permalink),
                    ));
                    event_outcome(data, public_url, ev, trace, brief)
                }
                Err(DataError::NotFound(m)) => {
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

fn failed(e: DataError) -> LookupOutcome {
    LookupOutcome::Failed {
        message: e.to_string(),
        looked_in: Vec::new(),
    }
}

/// Nothing was found: a 404 listing where tracepin looked, unless a place that could have it
/// failed, which makes it a 502 naming the failure (the id may well exist).
async fn nothing_found(data: &DataStore, what: String, problems: Vec<String>) -> LookupOutcome {
    if problems.is_empty() {
        return not_found(data, what).await;
    }
    let mut looked_in: Vec<String> = problems.iter().map(|p| format!("failed — {p}")).collect();
    looked_in.extend(data.looked_in().await);
    LookupOutcome::Failed {
        message: format!(
            "{what} could not be looked up everywhere: {}",
            problems.join(" ")
        ),
        looked_in,
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
            looked_in: Vec::new(),
        },
    }
}

/// The detail view of an event that belongs to no trace, and why it cannot be placed.
pub fn event_alone(
    ev: ErrorEvent,
    opts: &correlate::Options,
    public_url: Option<&str>,
) -> Option<(EventDetail, String)> {
    let event_id = ev.event_id?;
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
    let detail = crate::view::timeline::event_detail(&tl, &c.events, event_id, public_url)?;
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
        (Some(t), Some(Ok(loaded))) => Some(&loaded.timeline).map(|tl| {
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
        (_, Some(Err(DataError::NotFound(_)))) | (_, None) | (None, _) => None,
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
                                format_ns(ev.timestamp_ns)
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
        (None, None) => nothing_found(data, format!("Trace or Sentry event {id}"), problems).await,
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
