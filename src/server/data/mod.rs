//! The data a server serves: the built-in demo incident, or live sources — trace backends (Tempo,
//! Jaeger, a files directory) and event sources (Sentry, files) — fetched per trace, correlated and
//! cached briefly.
//!
//! Pages only see [`DataStore`]: [`DataStore::timeline`] gives a [`Loaded`] timeline with where its
//! spans and errors came from and what went wrong upstream. A failing side degrades the page (a
//! notice) instead of blanking it: a trace whose Sentry side failed still renders, and Sentry errors of
//! a trace no backend has are listed with the reason. Errors are this module's own [`DataError`];
//! `api` maps them for the browser.
//!
//! Split by purpose: `trace` (loading one trace, with its single-flight cache), `compare` (healthy
//! baselines found and fetched, boundedly, and the diff), `home` (the overview
//! lists), `issues` (Sentry's issue list and an issue's latest event).

mod compare;
mod home;
mod issues;
mod trace;

pub use compare::{Compared, BASELINES, FETCH_AT_ONCE, WINDOW_NS};

use std::collections::HashMap;
use std::sync::Arc;

use crate::connectors::demo;
use crate::connectors::events::EventSource;
use crate::connectors::sentry::SentryClient;
use crate::connectors::store::Store;
use crate::connectors::traces::{Backends, TimeHint, TraceBackend};
use crate::correlate::{self, Correlation, Timeline};
use crate::domain::{ErrorEvent, EventId, TraceId};
use crate::view::types::{LiveState, Notice, Overview};

use super::config::Config;

/// Why data could not be served. Each message is a sentence a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    /// Nothing has it; the message says where tracepin looked.
    #[error("{0}")]
    NotFound(String),
    /// An upstream failed; the message names it and what it answered.
    #[error("{0}")]
    Upstream(String),
}

/// One trace's correlated timeline, ready for the page.
#[derive(Debug)]
pub struct Loaded {
    /// The timeline: spans, pins, unplaced errors, skew, critical path.
    pub timeline: Timeline,
    /// The events the timeline's pins and unplaced entries index (`Pin::event`, `Unplaced::event`).
    pub events: Arc<[ErrorEvent]>,
    /// Where spans and errors came from.
    pub sources: Vec<String>,
    /// Upstream problems and partial-trace notices.
    pub notices: Vec<Notice>,
    /// Every row in columnar form, built once on first use and shared by the page's requests (the
    /// first screen and each chunk of rows).
    pub rows: std::sync::OnceLock<Arc<crate::view::types::Rows>>,
    /// [`Loaded::approx_bytes`], worked out once (the cache's weigher and the large-trace notice
    /// both ask).
    bytes: std::sync::OnceLock<u64>,
}

impl Loaded {
    /// A loaded timeline (its rows are built on first use).
    pub fn new(
        timeline: Timeline,
        events: Arc<[ErrorEvent]>,
        sources: Vec<String>,
        notices: Vec<Notice>,
    ) -> Self {
        Loaded {
            timeline,
            events,
            sources,
            notices,
            rows: std::sync::OnceLock::new(),
            bytes: std::sync::OnceLock::new(),
        }
    }

    /// Builds the columnar rows and weighs the timeline now, the two side by side on two threads
    /// (CPU work on a large trace: call it on the blocking pool). Loading does this before the
    /// timeline is cached, so neither the cache's weigher nor the first page request waits for it.
    pub fn prepare(&self) {
        std::thread::scope(|s| {
            s.spawn(|| self.rows());
            self.approx_bytes();
        });
    }

    /// Every row, columnar (CPU work on a large trace: call it on the blocking pool).
    pub fn rows(&self) -> Arc<crate::view::types::Rows> {
        self.rows
            .get_or_init(|| Arc::new(crate::view::timeline::rows_of(&self.timeline)))
            .clone()
    }

    /// Memory the timeline holds, estimated: spans and what they own, tree rows, skew and
    /// critical path per row, pins, and a flat 4 KiB per event. What the timeline cache weighs.
    pub fn approx_bytes(&self) -> u64 {
        *self.bytes.get_or_init(|| self.weigh())
    }

    fn weigh(&self) -> u64 {
        let t = &self.timeline;
        let spans: u64 = t
            .trace
            .spans
            .iter()
            .map(crate::domain::Span::approx_bytes)
            .sum();
        let per_row = std::mem::size_of::<crate::domain::Node>() + std::mem::size_of::<i64>();
        let rows = (t.trace.nodes.len() * per_row + t.critical_path.len() * 8) as u64;
        let pins = (t.pins.len() * std::mem::size_of::<correlate::Pin>()) as u64;
        spans + rows + pins + self.events.len() as u64 * 4096
    }

    /// True when a side failed: the page is served, but a retry soon may show more.
    pub fn is_degraded(&self) -> bool {
        self.notices.iter().any(|n| n.kind == "degraded")
    }
}

struct Demo {
    source: String,
    correlation: Arc<Correlation>,
    notices: Vec<String>,
    by_trace: HashMap<TraceId, Arc<Loaded>>,
    /// Healthy runs kept for comparison only: not listed in the overview.
    baselines: std::collections::HashSet<TraceId>,
}

struct Live {
    trace_period: String,
    backends: Backends,
    /// Files first (local, fast), then Sentry.
    event_sources: Vec<EventSource>,
    sentry: Option<Arc<SentryClient>>,
    sentry_problem: Option<String>,
    /// Why the configured local store could not be opened.
    store_problem: Option<String>,
    opts: correlate::Options,
    cache: trace::LoadedCache,
    /// Comparisons with healthy traces, for a minute.
    compares: compare::CompareCache,
    /// The trace each looked-up event belongs to (searches by correlation value are not free).
    event_traces: moka::future::Cache<EventId, Option<TraceId>>,
    /// Each issue's trace badge (its latest event's trace, none, or no such issue), for a minute.
    issue_traces: moka::future::Cache<String, crate::view::types::IssueTrace>,
}

/// Correlated data plus a description of where it came from.
pub struct DataStore {
    inner: Inner,
}

enum Inner {
    Demo(Demo),
    Live(Box<Live>),
}

impl std::fmt::Debug for DataStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source())
    }
}

impl DataStore {
    /// Builds the store for the configured source: the demo incident when nothing is configured.
    pub fn load(config: &Config) -> Self {
        let opts = correlate_options(config);
        if config.uses_demo() {
            let d = demo::load();
            let mut store = Self::from_correlation(
                "built-in demo incident (real Sentry and OpenTelemetry SDK payloads)".into(),
                correlate::correlate(d.spans, d.events, &opts),
                d.problems,
            );
            if let Inner::Demo(demo) = &mut store.inner {
                demo.baselines = d.baselines.into_iter().collect();
            }
            return store;
        }
        let (sentry, sentry_problem) = match config.sentry.client() {
            Some(Ok(c)) => (Some(Arc::new(c)), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let mut backends = Backends::from_config(
            &config.tempo,
            &config.jaeger,
            &config.files,
            &opts.correlation_tags,
        );
        let mut store_problem = None;
        let mut event_sources = Vec::new();
        if let Some(dir) = config.store_dir() {
            match Store::open(dir, &config.store, &opts.correlation_tags) {
                Ok(store) => {
                    event_sources.push(EventSource::Store(store.clone()));
                    backends = backends.with_store(store);
                }
                Err(e) => store_problem = Some(e),
            }
        }
        if let Some(f) = backends.files() {
            event_sources.push(EventSource::Files(f.clone()));
        }
        if let Some(c) = &sentry {
            event_sources.push(EventSource::Sentry(c.clone()));
        }
        DataStore {
            inner: Inner::Live(Box::new(Live {
                trace_period: config
                    .sentry
                    .trace_stats_period
                    .clone()
                    .unwrap_or_else(|| "30d".into()),
                backends,
                event_sources,
                sentry,
                sentry_problem,
                store_problem,
                opts,
                cache: trace::LoadedCache::new(config.server.cache_bytes()),
                compares: compare::new_cache(),
                event_traces: moka::future::Cache::builder()
                    .max_capacity(4096)
                    .time_to_live(std::time::Duration::from_secs(60))
                    .build(),
                issue_traces: moka::future::Cache::builder()
                    .max_capacity(4096)
                    .time_to_live(std::time::Duration::from_secs(60))
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
        let events: Arc<[ErrorEvent]> = correlation.events.clone().into();
        let by_trace = correlation
            .timelines
            .iter()
            .map(|t| {
                let loaded =
                    Loaded::new(t.clone(), events.clone(), vec![source.clone()], Vec::new());
                (t.trace.trace_id, Arc::new(loaded))
            })
            .collect();
        DataStore {
            inner: Inner::Demo(Demo {
                source,
                correlation: Arc::new(correlation),
                notices,
                by_trace,
                baselines: std::collections::HashSet::new(),
            }),
        }
    }

    /// Where the data comes from, in words.
    pub fn source(&self) -> String {
        match &self.inner {
            Inner::Demo(s) => s.source.clone(),
            Inner::Live(l) => {
                let mut parts: Vec<String> = l
                    .backends
                    .backends()
                    .iter()
                    .map(|b| match b {
                        TraceBackend::Store(s) => format!("local store in {}", s.dir().display()),
                        _ => format!("{} {}", b.kind(), b.name()),
                    })
                    .collect();
                if l.sentry.is_some() {
                    parts.push("Sentry".into());
                }
                if let Some(p) = &l.store_problem {
                    parts.push(format!("local store (unusable: {p})"));
                }
                parts.join(", ")
            }
        }
    }

    /// The trace backends (`None` for the demo).
    pub fn backends(&self) -> Option<&Backends> {
        match &self.inner {
            Inner::Live(l) => Some(&l.backends),
            Inner::Demo(_) => None,
        }
    }

    /// The local store, when it is on and open.
    pub fn store(&self) -> Option<&Store> {
        self.backends().and_then(Backends::store)
    }

    /// Why the configured local store could not be opened, if it could not.
    pub fn store_problem(&self) -> Option<&str> {
        match &self.inner {
            Inner::Live(l) => l.store_problem.as_deref(),
            Inner::Demo(_) => None,
        }
    }

    /// Forgets the loaded timelines of these traces (they received data).
    pub async fn forget(&self, ids: &[TraceId]) {
        if let Inner::Live(l) = &self.inner {
            for id in ids {
                l.cache.forget(*id).await;
            }
        }
    }

    /// Drops expired entries from the caches that hold traces (timelines, comparisons, the
    /// backends' spans), so their memory comes back while the server is idle. `app::run` calls it
    /// every few seconds.
    pub async fn housekeep(&self) {
        if let Inner::Live(l) = &self.inner {
            l.cache.housekeep().await;
            l.compares.run_pending_tasks().await;
            l.backends.housekeep().await;
        }
    }

    /// The Sentry client, when configured.
    pub fn sentry(&self) -> Option<&SentryClient> {
        match &self.inner {
            Inner::Live(l) => l.sentry.as_deref(),
            Inner::Demo(_) => None,
        }
    }

    /// The cache of issue trace badges (live data only).
    fn issue_trace_cache(
        &self,
    ) -> Option<&moka::future::Cache<String, crate::view::types::IssueTrace>> {
        match &self.inner {
            Inner::Live(l) => Some(&l.issue_traces),
            Inner::Demo(_) => None,
        }
    }

    /// Why the configured Sentry cannot be used, if it cannot.
    pub fn sentry_problem(&self) -> Option<&str> {
        match &self.inner {
            Inner::Live(l) => l.sentry_problem.as_deref(),
            Inner::Demo(_) => None,
        }
    }

    /// Correlation options (for events shown alone).
    pub fn options(&self) -> correlate::Options {
        match &self.inner {
            Inner::Live(l) => l.opts.clone(),
            Inner::Demo(_) => correlate::Options::default(),
        }
    }

    /// Loads one trace's timeline. Concurrent calls for one trace share one load; a full answer is
    /// kept for 30 s, a degraded one (a side failed) for 3 s, a failure not at all.
    pub async fn timeline(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<Arc<Loaded>, DataError> {
        match &self.inner {
            Inner::Demo(s) => s.by_trace.get(&id).cloned().ok_or_else(|| {
                DataError::NotFound(format!(
                    "Trace {id} was not found. Looked in: {}.",
                    s.source
                ))
            }),
            Inner::Live(l) => l.cache.get(id, trace::load(l, id, hint)).await,
        }
    }

    /// Finds a Sentry event by id (demo data, then each event source in turn) and the trace it
    /// belongs to: the trace that pins it, else its OpenTelemetry ids, else `contexts.trace`.
    pub async fn find_event(
        &self,
        id: EventId,
    ) -> Result<Option<(ErrorEvent, Option<TraceId>)>, DataError> {
        match &self.inner {
            Inner::Demo(s) => {
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
                    .map(|e| (e.clone(), owner.or_else(|| trace_of_event(e)))))
            }
            Inner::Live(l) => {
                let mut failures = Vec::new();
                for source in &l.event_sources {
                    match source.find_event(id).await {
                        Ok(Some((e, _))) => {
                            let t = self.trace_for_event(&e).await;
                            return Ok(Some((e, t)));
                        }
                        Ok(None) => {}
                        Err(e) => failures.push(e),
                    }
                }
                if failures.is_empty() {
                    Ok(None)
                } else {
                    Err(DataError::Upstream(failures.join(" ")))
                }
            }
        }
    }

    /// The trace an event belongs to, the OpenTelemetry one first: its OTel ids (`contexts.otel_trace`,
    /// the `otel.trace_id` tag); else the trace whose spans carry one of its correlation tags
    /// (`transaction_id=…`), searched in the trace backends around the event's time; else Sentry's
    /// `contexts.trace` (equal to the OTel id with Sentry's OpenTelemetry integration).
    /// Cached per event id for a minute; concurrent look-ups of one event share one search.
    pub async fn trace_for_event(&self, e: &ErrorEvent) -> Option<TraceId> {
        if let Some(t) = correlate::event::otel_trace_id(e) {
            return Some(t);
        }
        match (&self.inner, e.event_id) {
            (Inner::Live(l), Some(id)) => {
                l.event_traces
                    .get_with(id, self.search_trace_for_event(e))
                    .await
            }
            _ => self.search_trace_for_event(e).await,
        }
    }

    async fn search_trace_for_event(&self, e: &ErrorEvent) -> Option<TraceId> {
        if let Inner::Live(l) = &self.inner {
            let service = correlate::event::event_service(e, |_| true).map(|(s, _)| s);
            let hint = (e.timestamp_ns > 0).then_some(TimeHint {
                around_ns: e.timestamp_ns,
            });
            for key in &l.opts.correlation_tags {
                let Some(value) = e.tag(key).filter(|v| !v.is_empty()) else {
                    continue;
                };
                let (found, errors) = l
                    .backends
                    .search_attribute(key, value, service.as_deref(), hint)
                    .await;
                for err in &errors {
                    tracing::warn!(key = %key, error = %err, "trace search by correlation tag failed");
                }
                if let Some(t) = found.first() {
                    return Some(*t);
                }
            }
        }
        trace_of_event(e)
    }

    /// Every place a lookup asks, in words, with its time window.
    pub async fn looked_in(&self) -> Vec<String> {
        match &self.inner {
            Inner::Demo(s) => vec![format!("{} (nothing else is configured)", s.source)],
            Inner::Live(l) => {
                let mut out = Vec::new();
                for b in l.backends.backends() {
                    out.push(match b {
                        TraceBackend::Tempo(_) => format!(
                            "Tempo `{}`: trace by id over everything it retains",
                            b.name()
                        ),
                        TraceBackend::Jaeger(_) => format!(
                            "Jaeger `{}`: trace by id over everything its storage retains",
                            b.name()
                        ),
                        TraceBackend::Store(s) => format!(
                            "the local store in {}: traces and events tracepin received",
                            s.dir().display()
                        ),
                        TraceBackend::Files(f) => format!(
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

    /// What the local store holds now (all `None` without a store).
    pub async fn live(&self, trace: Option<TraceId>) -> LiveState {
        let Some(store) = self.store() else {
            return LiveState::default();
        };
        let growth = match trace {
            Some(t) => store.growth(t).await.ok(),
            None => None,
        };
        LiveState {
            generation: Some(store.generation()),
            spans: growth.map(|g| g.spans),
            events: growth.map(|g| g.events),
        }
    }

    /// The home page's lists.
    pub async fn overview(&self) -> Overview {
        match &self.inner {
            Inner::Demo(s) => home::overview_of(
                &s.correlation,
                s.source.clone(),
                s.notices.clone(),
                &s.baselines,
            ),
            Inner::Live(l) => home::live_overview(l, self.source()).await,
        }
    }
}

/// The trace an event names: its OpenTelemetry ids first, else `contexts.trace`.
pub fn trace_of_event(e: &ErrorEvent) -> Option<TraceId> {
    correlate::event::otel_trace_id(e).or_else(|| correlate::event::named_trace_ids(e).next())
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
