//! The home page's lists: recent traces with errors, the local store's issues and Sentry's latest
//! issues (live), or the traces and errors of the demo incident.

use super::Live;
use crate::connectors::sentry::IssueQuery;
use crate::connectors::traces::BackendKind;
use crate::correlate::{self, Correlation};
use crate::domain::{ErrorEvent, RowOrigin};
use crate::view::format_ns;
use crate::view::types::{ErrorSummary, LocalIssueRow, Overview, TraceSummary};

pub(super) async fn live_overview(l: &Live, source: String) -> Overview {
    let mut notices = Vec::new();
    if let Some(p) = &l.sentry_problem {
        notices.push(format!("Sentry is configured but unusable: {p}"));
    }
    let store = l.backends.store();
    let generation = store.map(|s| s.generation());
    let local_fut = async {
        match store {
            Some(s) => Some(s.issues(50).await),
            None => None,
        }
    };
    let traces_fut = l.backends.search_errors(24 * 3600, 50);
    let issues_fut = async {
        match &l.sentry {
            Some(c) => Some(
                c.list_issues(&IssueQuery {
                    stats_period: Some("24h".into()),
                    limit: Some(25),
                    ..IssueQuery::default()
                })
                .await,
            ),
            None => None,
        }
    };
    let (rows, issues, local) = tokio::join!(traces_fut, issues_fut, local_fut);
    let local_issues = match local {
        Some(Ok(list)) => list
            .into_iter()
            .map(|i| LocalIssueRow {
                title: i.title,
                level: i.level,
                service: i.service,
                project: i.project,
                count: i.count,
                first_seen: format_ns(i.first_seen_ns),
                last_seen: format_ns(i.last_seen_ns),
                event_id: i.latest_event.to_string(),
                trace_id: i.trace.map(|t| t.to_string()),
                by_fingerprint: i.by_fingerprint,
            })
            .collect(),
        Some(Err(e)) => {
            notices.push(format!("Local store: issues not shown ({e})."));
            Vec::new()
        }
        None => Vec::new(),
    };
    let traces = rows
        .into_iter()
        .map(|r| TraceSummary {
            trace_id: r.trace_id.to_string(),
            root_service: r.root_service.unwrap_or_default(),
            root_name: r.root_name.unwrap_or_default(),
            start: if r.start_ns == 0 {
                String::new()
            } else {
                format_ns(r.start_ns)
            },
            duration_ms: r.duration_ms.unwrap_or(0) as f64,
            span_count: r.span_count.unwrap_or(0),
            services: vec![match r.kind {
                BackendKind::Store => r.backend.clone(),
                kind => format!("{kind} {}", r.backend),
            }],
            error_count: r.error_span_count.unwrap_or(0),
        })
        .collect();
    let mut errors = Vec::new();
    match issues {
        Some(Ok(page)) => {
            for i in page.items {
                errors.push(ErrorSummary {
                    event_id: i.short_id.clone(),
                    title: i.title.clone(),
                    level: i.level.clone(),
                    service: Some(i.project.clone()),
                    timestamp: i
                        .last_seen
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_default(),
                    trace_id: None,
                    span_name: None,
                    span_id: None,
                    matched_by: None,
                    unplaced_reason: Some(format!(
                        "{} events, {} users — open an event's trace from Sentry or paste its id",
                        i.count, i.user_count
                    )),
                });
            }
        }
        Some(Err(e)) => notices.push(format!("Sentry unavailable: issues not shown ({e}).")),
        None => {}
    }
    if let Some(f) = l.backends.files() {
        for p in f.problems().await {
            notices.push(format!("{}: {}", p.path.display(), p.message));
        }
    }
    Overview {
        source,
        traces,
        errors,
        notices,
        issues: local_issues,
        generation,
    }
}

pub(super) fn overview_of(
    c: &Correlation,
    source: String,
    notices: Vec<String>,
    hidden: &std::collections::HashSet<crate::domain::TraceId>,
) -> Overview {
    let mut errors: Vec<ErrorSummary> = Vec::new();
    let mut traces = Vec::new();
    for tl in &c.timelines {
        let t = &tl.trace;
        if hidden.contains(&t.trace_id) {
            continue;
        }
        let Some((root, _)) = t
            .spans
            .iter()
            .zip(&t.nodes)
            .find(|(_, n)| n.origin == RowOrigin::Span)
        else {
            continue;
        };
        let mut services: Vec<String> = t.spans.iter().map(|s| s.service.to_string()).collect();
        services.sort();
        services.dedup();
        traces.push(TraceSummary {
            trace_id: t.trace_id.to_string(),
            root_service: root.service.to_string(),
            root_name: root.name.to_string(),
            start: format_ns(t.start_ns),
            duration_ms: t.end_ns.saturating_sub(t.start_ns) as f64 / 1e6,
            span_count: t.span_count(),
            services,
            error_count: tl.pins.len() + tl.unplaced.len(),
        });
        for pin in &tl.pins {
            if let Some(ev) = c.events.get(pin.event) {
                errors.push(ErrorSummary {
                    span_name: t.spans.get(pin.row).map(|s| s.name.to_string()),
                    span_id: Some(pin.span_id.to_string()),
                    matched_by: Some(pin.matched_by.describe().to_owned()),
                    unplaced_reason: None,
                    trace_id: Some(t.trace_id.to_string()),
                    ..summary(ev)
                });
            }
        }
        for u in &tl.unplaced {
            if let Some(ev) = c.events.get(u.event) {
                errors.push(ErrorSummary {
                    unplaced_reason: Some(u.reason.to_string()),
                    trace_id: Some(t.trace_id.to_string()),
                    ..summary(ev)
                });
            }
        }
    }
    for u in &c.unplaced {
        if let Some(ev) = c.events.get(u.event) {
            errors.push(ErrorSummary {
                unplaced_reason: Some(u.reason.to_string()),
                ..summary(ev)
            });
        }
    }
    errors.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
    traces.sort_by(|a, b| b.start.cmp(&a.start));
    Overview {
        source,
        traces,
        errors,
        notices,
        issues: Vec::new(),
        generation: None,
    }
}

fn summary(ev: &ErrorEvent) -> ErrorSummary {
    ErrorSummary {
        event_id: ev.event_id.map(|e| e.to_string()).unwrap_or_default(),
        title: ev.title.clone(),
        level: ev.level.clone(),
        service: correlate::event::event_service(ev, |_| true).map(|(s, _)| s),
        timestamp: format_ns(ev.timestamp_ns),
        trace_id: None,
        span_name: None,
        span_id: None,
        matched_by: None,
        unplaced_reason: None,
    }
}
