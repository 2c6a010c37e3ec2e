//! The data a server serves: the built-in demo incident, or live sources (trace backends — Tempo,
//! Jaeger, a files directory — and Sentry), fetched per trace, correlated and cached briefly.
//!
//! Pages only see [`DataStore`]: `load(trace_id)` gives a [`Loaded`] timeline with where its spans and
//! errors came from and what went wrong upstream. A failing side degrades the page (a notice) instead of
//! blanking it: a trace whose Sentry side failed still renders, and Sentry errors of a trace no backend
//! has are listed with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use crate::api::types::Notice;
use crate::api::{AppError, ErrorSummary, Overview, TraceSummary};
use crate::connectors::demo;
use crate::connectors::sentry::{IssueQuery, SentryClient, SentryConfig};
use crate::connectors::traces::{Backends, TimeHint};
use crate::correlate::{self, Correlation, Timeline};
use crate::domain::{DiagnosticKind, ErrorEvent, EventId, RowOrigin, TraceId};

use super::config::Config;

/// Formats Unix nanoseconds as RFC 3339 UTC with milliseconds.
pub fn format_ns(ns: u64) -> String {
    let secs = i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX);
    let nanos = u32::try_from(ns % 1_000_000_000).unwrap_or(0);
    DateTime::<Utc>::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ns.to_string())
}

/// One trace's correlated timeline, ready for the page.
#[derive(Debug)]
pub struct Loaded {
    /// The correlation holding the timeline (for the demo, all demo traces).
    pub correlation: Arc<Correlation>,
    /// Index of the timeline in `correlation.timelines`.
    pub index: usize,
    /// Where spans and errors came from.
    pub sources: Vec<String>,
    /// Upstream problems and partial-trace notices.
    pub notices: Vec<Notice>,
}

impl Loaded {
    /// The timeline.
    pub fn timeline(&self) -> Option<&Timeline> {
        self.correlation.timelines.get(self.index)
    }
}

struct Static {
    source: String,
    correlation: Arc<Correlation>,
    notices: Vec<String>,
    by_trace: HashMap<TraceId, usize>,
}

struct Live {
    trace_period: String,
    backends: Backends,
    sentry: Option<SentryClient>,
    sentry_problem: Option<String>,
    opts: correlate::Options,
    cache: moka::future::Cache<TraceId, Arc<Loaded>>,
}

/// Correlated data plus a description of where it came from.
pub struct DataStore {
    inner: Inner,
}

enum Inner {
    Static(Static),
    Live(Box<Live>),
}

impl std::fmt::Debug for DataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source())
    }
}

/// Builds the Sentry client from the configuration, if Sentry is configured.
pub fn sentry_client(config: &Config) -> Option<Result<SentryClient, String>> {
    let s = &config.sentry;
    let (Some(url), Some(org), Some(token)) = (&s.url, &s.org, &s.token) else {
        return None;
    };
    let mut c = SentryConfig::new(
        url.clone(),
        org.clone(),
        secrecy::SecretString::from(token.expose_secret().to_owned()),
    );
    if let Some(t) = s.timeout_secs {
        c.timeout = Duration::from_secs(t);
    }
    if let Some(w) = s.max_rate_limit_wait_secs {
        c.max_rate_limit_wait = Duration::from_secs(w);
    }
    if let Some(p) = &s.trace_stats_period {
        c.trace_stats_period = p.clone();
    }
    Some(SentryClient::new(c).map_err(|e| e.to_string()))
}

impl DataStore {
    /// Builds the store for the configured source: the demo incident when nothing is configured.
    pub fn load(config: &Config) -> Self {
        let opts = correlate_options(config);
        if config.uses_demo() {
            let d = demo::load();
            return Self::from_correlation(
                "built-in demo incident (real Sentry and OpenTelemetry SDK payloads)".into(),
                correlate::correlate(d.spans, d.events, &opts),
                d.problems,
            );
        }
        let (sentry, sentry_problem) = match sentry_client(config) {
            Some(Ok(c)) => (Some(c), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        DataStore {
            inner: Inner::Live(Box::new(Live {
                trace_period: config
                    .sentry
                    .trace_stats_period
                    .clone()
                    .unwrap_or_else(|| "30d".into()),
                backends: Backends::from_config(config),
                sentry,
                sentry_problem,
                opts,
                cache: moka::future::Cache::builder()
                    .max_capacity(64)
                    .time_to_live(Duration::from_secs(30))
                    .build(),
            })),
        }
    }

    /// Wraps an already correlated data set (the demo, tests).
    pub fn from_correlation(
        source: String,
        correlation: Correlation,
        notices: Vec<String>,
    ) -> Self {
        let by_trace = correlation
            .timelines
            .iter()
            .enumerate()
            .map(|(i, t)| (t.trace.trace_id, i))
            .collect();
        DataStore {
            inner: Inner::Static(Static {
                source,
                correlation: Arc::new(correlation),
                notices,
                by_trace,
            }),
        }
    }

    /// Where the data comes from, in words.
    pub fn source(&self) -> String {
        match &self.inner {
            Inner::Static(s) => s.source.clone(),
            Inner::Live(l) => {
                let mut parts: Vec<String> = l
                    .backends
                    .backends()
                    .iter()
                    .map(|b| format!("{} {}", b.kind(), b.name()))
                    .collect();
                if l.sentry.is_some() {
                    parts.push("Sentry".into());
                }
                parts.join(", ")
            }
        }
    }

    /// The trace backends (empty for the demo).
    pub fn backends(&self) -> Option<&Backends> {
        match &self.inner {
            Inner::Live(l) => Some(&l.backends),
            Inner::Static(_) => None,
        }
    }

    /// The Sentry client, when configured.
    pub fn sentry(&self) -> Option<&SentryClient> {
        match &self.inner {
            Inner::Live(l) => l.sentry.as_ref(),
            Inner::Static(_) => None,
        }
    }

    /// Loads one trace's timeline.
    pub async fn timeline(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<Arc<Loaded>, AppError> {
        match &self.inner {
            Inner::Static(s) => match s.by_trace.get(&id) {
                Some(i) => Ok(Arc::new(Loaded {
                    correlation: s.correlation.clone(),
                    index: *i,
                    sources: vec![s.source.clone()],
                    notices: Vec::new(),
                })),
                None => Err(AppError::NotFound(format!(
                    "Trace {id} was not found. Looked in: {}.",
                    s.source
                ))),
            },
            Inner::Live(l) => {
                if let Some(hit) = l.cache.get(&id).await {
                    return Ok(hit);
                }
                let loaded = Arc::new(load_live(l, id, hint).await?);
                l.cache.insert(id, loaded.clone()).await;
                Ok(loaded)
            }
        }
    }

    /// Finds a Sentry event by id (demo data, the files directory, then Sentry's event-id resolver) and
    /// the trace it belongs to: the trace that pins it, else its OpenTelemetry ids, else `contexts.trace`.
    pub async fn find_event(
        &self,
        id: EventId,
    ) -> Result<Option<(ErrorEvent, Option<TraceId>)>, AppError> {
        let trace_of = trace_of_event;
        match &self.inner {
            Inner::Static(s) => {
                let c = &s.correlation;
                let Some(idx) = c.events.iter().position(|e| e.event_id == Some(id)) else {
                    return Ok(None);
                };
                let owner = c
                    .timelines
                    .iter()
                    .find(|t| {
                        t.pins.iter().any(|p| p.event == idx)
                            || t.unplaced.iter().any(|u| u.event == idx)
                    })
                    .map(|t| t.trace.trace_id);
                Ok(c.events
                    .get(idx)
                    .map(|e| (e.clone(), owner.or_else(|| trace_of(e)))))
            }
            Inner::Live(l) => {
                if let Some(f) = l.backends.files() {
                    if let Some((e, t)) = f.event(id).await {
                        let t = t.or_else(|| trace_of(&e));
                        return Ok(Some((e, t)));
                    }
                }
                match &l.sentry {
                    Some(c) => match c.resolve_event_id(&id.to_string()).await {
                        Ok(Some((_, e))) => {
                            let t = trace_of(&e);
                            Ok(Some((e, t)))
                        }
                        Ok(None) => Ok(None),
                        Err(e) => Err(AppError::Upstream(e.to_string())),
                    },
                    None => Ok(None),
                }
            }
        }
    }

    /// Every place a lookup asks, in words, with its time window.
    pub async fn looked_in(&self) -> Vec<String> {
        match &self.inner {
            Inner::Static(s) => vec![format!("{} (nothing else is configured)", s.source)],
            Inner::Live(l) => {
                let mut out = Vec::new();
                for b in l.backends.backends() {
                    out.push(match b {
                        crate::connectors::traces::TraceBackend::Tempo(_) => format!(
                            "Tempo `{}`: trace by id over everything it retains",
                            b.name()
                        ),
                        crate::connectors::traces::TraceBackend::Jaeger(_) => format!(
                            "Jaeger `{}`: trace by id over everything its storage retains",
                            b.name()
                        ),
                        crate::connectors::traces::TraceBackend::Files(f) => format!(
                            "files in {}: {} trace(s) and their events indexed",
                            f.dir().display(),
                            f.trace_ids().await.len()
                        ),
                    });
                }
                if l.backends.is_empty() {
                    out.push("no trace backend is configured".into());
                }
                match (&l.sentry, &l.sentry_problem) {
                    (Some(c), _) => out.push(format!(
                        "Sentry org `{}` at {}: event ids, issue ids and short ids in every project, \
                         and the errors of a trace id over the last {}",
                        c.org(),
                        c.base_url(),
                        l.trace_period
                    )),
                    (None, Some(p)) => out.push(format!("Sentry is configured but unusable: {p}")),
                    (None, None) => out.push("Sentry is not configured".into()),
                }
                out
            }
        }
    }

    /// One page of Sentry issues, or why there is none (`None` when Sentry is not configured).
    pub async fn issues(
        &self,
        f: &crate::api::types::IssueFilters,
    ) -> Option<crate::api::types::IssuesPage> {
        use crate::api::types::{IssueRow, IssuesPage};
        use crate::connectors::sentry::IssueSort;
        let Inner::Live(l) = &self.inner else {
            return None;
        };
        let c = match (&l.sentry, &l.sentry_problem) {
            (Some(c), _) => c,
            (None, Some(p)) => {
                return Some(IssuesPage {
                    filters: f.clone(),
                    issues: Vec::new(),
                    next_cursor: None,
                    projects: Vec::new(),
                    problem: Some(format!("Sentry is configured but unusable: {p}")),
                })
            }
            (None, None) => return None,
        };
        let mut filters = f.clone();
        if filters.period.is_empty() {
            filters.period = "14d".into();
        }
        if filters.sort.is_empty() {
            filters.sort = "date".into();
        }
        let sort = match filters.sort.as_str() {
            "new" => IssueSort::New,
            "freq" => IssueSort::Freq,
            "user" => IssueSort::User,
            "trends" => IssueSort::Trends,
            _ => IssueSort::Date,
        };
        let projects = c.projects().await;
        let mut problem = None;
        let project_ids: Vec<String> = if filters.project.trim().is_empty() {
            Vec::new()
        } else {
            let want = filters.project.trim().to_owned();
            let want = want.as_str();
            match &projects {
                _ if want.bytes().all(|b| b.is_ascii_digit()) => vec![want.to_owned()],
                Ok(list) => match list.iter().find(|(_, slug)| slug == want) {
                    Some((id, _)) => vec![id.clone()],
                    None => {
                        return Some(IssuesPage {
                            filters,
                            issues: Vec::new(),
                            next_cursor: None,
                            projects: list.iter().map(|(_, s)| s.clone()).collect(),
                            problem: Some(format!(
                                "Sentry org `{}` has no project `{want}`.",
                                c.org()
                            )),
                        })
                    }
                },
                Err(e) => {
                    problem = Some(format!(
                        "Projects could not be listed ({e}); the project filter is ignored."
                    ));
                    Vec::new()
                }
            }
        };
        let q = IssueQuery {
            query: Some(if filters.query.trim().is_empty() {
                "is:unresolved".to_owned()
            } else {
                filters.query.trim().to_owned()
            }),
            stats_period: Some(filters.period.clone()),
            project: project_ids,
            environment: if filters.environment.trim().is_empty() {
                Vec::new()
            } else {
                vec![filters.environment.trim().to_owned()]
            },
            sort: Some(sort),
            limit: Some(25),
            cursor: (!filters.cursor.is_empty()).then(|| filters.cursor.clone()),
            ..IssueQuery::default()
        };
        let fmt = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        let (issues, next_cursor) = match c.list_issues(&q).await {
            Ok(page) => (
                page.items
                    .into_iter()
                    .map(|i| IssueRow {
                        permalink: crate::domain::links::safe_url(&i.permalink),
                        first_seen: fmt(i.first_seen),
                        last_seen: fmt(i.last_seen),
                        id: i.id,
                        short_id: i.short_id,
                        title: i.title,
                        culprit: i.culprit,
                        level: i.level,
                        project: i.project,
                        count: i.count,
                        user_count: i.user_count,
                    })
                    .collect(),
                page.next_cursor,
            ),
            Err(e) if e.is_not_found() && !filters.environment.trim().is_empty() => {
                problem = Some(format!(
                    "No issues: Sentry knows no environment `{}` in these projects.",
                    filters.environment.trim()
                ));
                (Vec::new(), None)
            }
            Err(e) => {
                problem = Some(format!("Sentry issues could not be listed: {e}"));
                (Vec::new(), None)
            }
        };
        Some(IssuesPage {
            filters,
            issues,
            next_cursor,
            projects: projects
                .map(|l| l.into_iter().map(|(_, s)| s).collect())
                .unwrap_or_default(),
            problem,
        })
    }

    /// For each issue, whether its latest event carries a trace id (four requests at a time).
    pub async fn issue_traces(&self, ids: &[String]) -> Vec<crate::api::types::IssueTrace> {
        use crate::api::types::IssueTrace;
        use futures::stream::StreamExt;
        let Some(c) = self.sentry() else {
            return Vec::new();
        };
        futures::stream::iter(ids.iter().take(100).cloned())
            .map(|id| async move {
                match c.latest_event_only(&id).await {
                    Ok(ev) => {
                        let trace = trace_of_event(&ev);
                        IssueTrace {
                            issue_id: id,
                            state: if trace.is_some() { "trace" } else { "none" }.into(),
                            trace_id: trace.map(|t| t.to_string()),
                            event_id: ev.event_id.map(|e| e.to_string()),
                            detail: trace.is_none().then(|| {
                                "The latest event carries no trace id (no contexts.trace, otel_trace or otel.trace_id)."
                                    .to_owned()
                            }),
                        }
                    }
                    Err(e) => IssueTrace {
                        issue_id: id,
                        state: "unknown".into(),
                        trace_id: None,
                        event_id: None,
                        detail: Some(e.to_string()),
                    },
                }
            })
            .buffered(4)
            .collect()
            .await
    }

    /// A Sentry issue (numeric id or short id) and its latest event.
    pub async fn issue_event(
        &self,
        id_or_short_id: &str,
    ) -> Result<(crate::connectors::sentry::IssueSummary, ErrorEvent), AppError> {
        let Some(c) = self.sentry() else {
            return Err(AppError::NotFound(match self.sentry_problem() {
                Some(p) => format!("Sentry is configured but unusable: {p}"),
                None => "Sentry is not configured, so issue ids and short ids cannot be resolved."
                    .into(),
            }));
        };
        let issue = c.issue(id_or_short_id).await.map_err(|e| {
            if e.is_not_found() {
                AppError::NotFound(format!(
                    "Sentry org `{}` has no issue `{id_or_short_id}`.",
                    c.org()
                ))
            } else {
                AppError::Upstream(e.to_string())
            }
        })?;
        let ev = c
            .latest_event(&issue.id)
            .await
            .map_err(|e| AppError::Upstream(e.to_string()))?;
        Ok((issue, ev))
    }

    /// Why the configured Sentry cannot be used, if it cannot.
    pub fn sentry_problem(&self) -> Option<&str> {
        match &self.inner {
            Inner::Live(l) => l.sentry_problem.as_deref(),
            Inner::Static(_) => None,
        }
    }

    /// Correlation options (for events shown alone).
    pub fn options(&self) -> correlate::Options {
        match &self.inner {
            Inner::Live(l) => l.opts.clone(),
            Inner::Static(_) => correlate::Options::default(),
        }
    }

    /// The home page's lists.
    pub async fn overview(&self) -> Overview {
        match &self.inner {
            Inner::Static(s) => overview_of(&s.correlation, s.source.clone(), s.notices.clone()),
            Inner::Live(l) => live_overview(l, self.source()).await,
        }
    }
}

/// The trace an event names: its OpenTelemetry ids first, else `contexts.trace`.
pub fn trace_of_event(e: &ErrorEvent) -> Option<TraceId> {
    correlate::event::otel_trace_id(e).or_else(|| correlate::event::named_trace_ids(e).next())
}

async fn load_live(l: &Live, id: TraceId, hint: Option<TimeHint>) -> Result<Loaded, AppError> {
    let sentry_events = async {
        match &l.sentry {
            Some(c) => Some(
                c.events_for_trace(&id.to_string())
                    .await
                    .map_err(|e| e.to_string()),
            ),
            None => None,
        }
    };
    let file_events = async {
        match l.backends.files() {
            Some(f) => f.events_for_trace(id).await,
            None => Vec::new(),
        }
    };
    let (fetched, sentry_events, file_events) =
        tokio::join!(l.backends.fetch(id, hint), sentry_events, file_events);

    let mut notices = Vec::new();
    let mut sources = Vec::new();
    let mut events = file_events;
    if !events.is_empty() {
        sources.push("errors: files".to_owned());
    }
    if let Some(p) = &l.sentry_problem {
        notices.push(Notice {
            kind: "degraded".into(),
            text: format!("Sentry unavailable: errors not shown ({p})."),
        });
    }
    match sentry_events {
        Some(Ok(mut evs)) => {
            sources.push(format!("errors: Sentry ({} event(s))", evs.len()));
            events.append(&mut evs);
        }
        Some(Err(e)) => {
            tracing::warn!(trace_id = %id, error = %e, "Sentry failed for trace");
            notices.push(Notice {
                kind: "degraded".into(),
                text: format!("Sentry unavailable: errors not shown ({e})."),
            });
        }
        None => {}
    }
    let fetched = match fetched {
        Ok(f) => f,
        Err(errors) => {
            let all_missing = errors.iter().all(|e| e.is_not_found());
            let detail: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let sentry_note = if events.is_empty() {
                String::new()
            } else {
                let titles: Vec<&str> = events.iter().take(5).map(|e| e.title.as_str()).collect();
                format!(
                    " Sentry has {} error(s) for this trace id: {}.",
                    events.len(),
                    titles.join("; ")
                )
            };
            let looked = if detail.is_empty() {
                "no trace backend is configured".to_owned()
            } else {
                detail.join(" ")
            };
            if !events.is_empty() {
                // The trace side failed but Sentry knows errors of this trace: show them, unplaced,
                // with what the trace backends answered.
                tracing::warn!(trace_id = %id, errors = %looked, "trace unavailable, showing Sentry errors only");
                notices.push(Notice {
                    kind: "degraded".into(),
                    text: format!("Trace unavailable: spans not shown ({looked}). The errors below are Sentry's."),
                });
                return Ok(errors_only(id, events, sources, notices));
            }
            return Err(if all_missing {
                AppError::NotFound(format!(
                    "Trace {id} was not found. Looked in: {looked}.{sentry_note}"
                ))
            } else {
                tracing::warn!(trace_id = %id, errors = %looked, "trace backends failed");
                AppError::Upstream(format!(
                    "Trace {id} could not be loaded: {looked}.{sentry_note}"
                ))
            });
        }
    };
    sources.insert(0, format!("spans: {} {}", fetched.kind, fetched.backend));
    if let Some(p) = &fetched.partial {
        notices.push(Notice {
            kind: "partial".into(),
            text: format!("Partial trace from {}: {p}", fetched.backend),
        });
    }
    let mut c = correlate::correlate(fetched.spans, events, &l.opts);
    let index = c
        .timelines
        .iter()
        .position(|t| t.trace.trace_id == id)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "Trace {id} was not found in what {} returned.",
                fetched.backend
            ))
        })?;
    // Events that belong to no loaded trace are this trace's unplaced errors here (e.g. a decoy id).
    let stray = std::mem::take(&mut c.unplaced);
    if let Some(t) = c.timelines.get_mut(index) {
        t.unplaced.extend(stray);
    }
    Ok(Loaded {
        correlation: Arc::new(c),
        index,
        sources,
        notices,
    })
}

/// A timeline without spans: every event of the trace listed as unplaced because the trace is missing.
fn errors_only(
    id: TraceId,
    events: Vec<ErrorEvent>,
    sources: Vec<String>,
    notices: Vec<Notice>,
) -> Loaded {
    let start = events.iter().map(|e| e.timestamp_ns).min().unwrap_or(0);
    let end = events.iter().map(|e| e.timestamp_ns).max().unwrap_or(start);
    let unplaced = events
        .iter()
        .enumerate()
        .map(|(i, e)| correlate::Unplaced {
            event: i,
            event_id: e.event_id,
            reason: correlate::UnplacedReason::TraceNotLoaded { trace_id: id },
        })
        .collect();
    let timeline = Timeline::without_spans(id, start, end, unplaced);
    Loaded {
        correlation: Arc::new(Correlation {
            timelines: vec![timeline],
            unplaced: Vec::new(),
            events,
        }),
        index: 0,
        sources,
        notices,
    }
}

async fn live_overview(l: &Live, source: String) -> Overview {
    let mut notices = Vec::new();
    if let Some(p) = &l.sentry_problem {
        notices.push(format!("Sentry is configured but unusable: {p}"));
    }
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
    let (rows, issues) = tokio::join!(traces_fut, issues_fut);
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
            services: vec![format!("{} {}", r.kind, r.backend)],
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
    }
}

fn overview_of(c: &Correlation, source: String, notices: Vec<String>) -> Overview {
    let mut errors: Vec<ErrorSummary> = Vec::new();
    let mut traces = Vec::new();
    for tl in &c.timelines {
        let t = &tl.trace;
        let Some((root, _)) = t
            .spans
            .iter()
            .zip(&t.nodes)
            .find(|(_, n)| n.origin == RowOrigin::Span)
        else {
            continue;
        };
        let mut services: Vec<String> = t.spans.iter().map(|s| s.service.clone()).collect();
        services.sort();
        services.dedup();
        traces.push(TraceSummary {
            trace_id: t.trace_id.to_string(),
            root_service: root.service.clone(),
            root_name: root.name.clone(),
            start: format_ns(t.start_ns),
            duration_ms: t.end_ns.saturating_sub(t.start_ns) as f64 / 1e6,
            span_count: t.span_count(),
            services,
            error_count: tl.pins.len() + tl.unplaced.len(),
        });
        for pin in &tl.pins {
            if let Some(ev) = c.events.get(pin.event) {
                errors.push(ErrorSummary {
                    span_name: t.spans.get(pin.row).map(|s| s.name.clone()),
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

/// Pinning options from the `[correlate]` section.
pub fn correlate_options(config: &Config) -> correlate::Options {
    let mut opts = correlate::Options::default();
    if let Some(tags) = &config.correlate.correlation_tags {
        opts.correlation_tags = tags.clone();
    }
    if let Some(ms) = config.correlate.enclosing_window_ms {
        opts.enclosing_window_ns = ms.saturating_mul(1_000_000);
    }
    opts
}

/// True when a diagnostic belongs on a trace page (input-level notes are left out).
pub fn page_diagnostic(kind: DiagnosticKind) -> bool {
    kind != DiagnosticKind::MixedTraceIds
}
