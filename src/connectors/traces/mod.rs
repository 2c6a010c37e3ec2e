//! Trace backends: Grafana Tempo, Jaeger and a directory of files, behind one [`Backends`] set.
//!
//! [`Backends::fetch`] asks every configured backend for a trace at once and returns the first answer
//! that has spans, naming the backend; when none has it, every backend's [`FetchError`] is returned, each
//! a sentence a person can act on (which backend, which URL path, what it answered; never a token).
//! HTTP backends cache fetched traces (moka, keyed by trace id per backend, with a TTL) and make
//! concurrent requests for one trace share one upstream call (`try_get_with` is single-flight).
//! Payloads are decoded by [`crate::connectors::formats`]; this module only knows paths, statuses and
//! not-found rules.

mod files;
mod jaeger;
mod tempo;

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use moka::future::Cache;

use crate::connectors::http::{HttpError, HttpOptions, HttpResponse};
use crate::connectors::store::{ReadError, Store};
use crate::domain::{Span, TraceId};

pub use files::{FileProblem, FilesConfig, FilesSource};
pub use jaeger::{JaegerClient, JaegerConfig};
pub use tempo::{TempoClient, TempoConfig};

/// A time near the trace, e.g. a Sentry event's timestamp, used to narrow a backend's search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeHint {
    /// Unix nanoseconds.
    pub around_ns: u64,
}

/// Which kind of backend answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Grafana Tempo.
    Tempo,
    /// Jaeger's query service.
    Jaeger,
    /// A directory of files.
    Files,
    /// The local store (what tracepin received itself).
    Store,
}

impl BackendKind {
    /// `tempo`, `jaeger`, `files` or `store`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Tempo => "tempo",
            BackendKind::Jaeger => "jaeger",
            BackendKind::Files => "files",
            BackendKind::Store => "store",
        }
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A trace found by a backend.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedTrace {
    /// The configured name of the backend that had it.
    pub backend: String,
    /// Which kind of backend it is.
    pub kind: BackendKind,
    /// The spans of the requested trace, in payload order.
    pub spans: Vec<Span>,
    /// Set when the backend said the trace is incomplete: its message.
    pub partial: Option<String>,
}

/// One row of [`Backends::search_errors`]: a recent trace with at least one error span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceSummaryRow {
    /// Configured name of the backend.
    pub backend: String,
    /// Which kind of backend it is.
    pub kind: BackendKind,
    /// Trace id (Tempo's trimmed ids padded back to 32 hex digits).
    pub trace_id: TraceId,
    /// Service of the root span, when known.
    pub root_service: Option<String>,
    /// Name of the root span, when known.
    pub root_name: Option<String>,
    /// Start, Unix nanoseconds (0 when unknown).
    pub start_ns: u64,
    /// Duration in milliseconds, when known.
    pub duration_ms: Option<u64>,
    /// Number of spans, when known.
    pub span_count: Option<usize>,
    /// Number of error spans, when known.
    pub error_span_count: Option<usize>,
}

/// What healthy traces to look for (compare mode): the same root service and root span name, no
/// error span, started inside a time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineQuery {
    /// Service of the root span.
    pub service: String,
    /// Name of the root span.
    pub name: String,
    /// Window start, Unix ns.
    pub from_ns: u64,
    /// Window end, Unix ns.
    pub to_ns: u64,
    /// At most this many candidates per backend.
    pub limit: usize,
}

impl BaselineQuery {
    /// The window in whole seconds, widened outwards (`start`, `end`).
    pub fn window_secs(&self) -> (u64, u64) {
        (
            self.from_ns / 1_000_000_000,
            self.to_ns.div_ceil(1_000_000_000),
        )
    }

    /// Does a trace with this root and start qualify (errors aside)?
    pub fn fits(&self, service: Option<&str>, name: Option<&str>, start_ns: u64) -> bool {
        service == Some(self.service.as_str())
            && name == Some(self.name.as_str())
            && (self.from_ns..=self.to_ns).contains(&start_ns)
    }
}

/// What one backend found for a [`BaselineQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaselineFound {
    /// Healthy candidates: (trace, start in Unix ns, 0 when unknown).
    pub traces: Vec<(TraceId, u64)>,
    /// Traces of the same root left out because they had an error.
    pub with_errors: usize,
    /// What was asked, in words (the query and window), for "where it looked".
    pub asked: String,
}

/// Why a backend did not return a trace. The message names the backend and the URL path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The backend answered that it does not have the trace.
    #[error("{backend}: trace not found ({path})")]
    NotFound {
        /// Configured backend name.
        backend: String,
        /// URL path (or file directory) asked.
        path: String,
    },
    /// Tempo refused the trace as larger than its `max_bytes_per_trace`.
    #[error("{backend}: the trace is larger than the backend allows{}; raise max_bytes_per_trace there or open the trace in its own UI", .limit_bytes.map(|n| format!(" (max bytes: {n})")).unwrap_or_default())]
    TooLarge {
        /// Configured backend name.
        backend: String,
        /// The backend's limit, when it said.
        limit_bytes: Option<u64>,
    },
    /// The answer was bigger than tracepin's `max_response_mb`.
    #[error("{backend}: the trace is larger than {max_mb} MB (max_response_mb); raise max_response_mb to load it")]
    Oversized {
        /// Configured backend name.
        backend: String,
        /// The cap in MB.
        max_mb: u64,
    },
    /// No answer within the timeout.
    #[error("{backend}: GET {path} timed out after {after_ms} ms; the backend is slow or unreachable (timeout_ms)")]
    Timeout {
        /// Configured backend name.
        backend: String,
        /// URL path.
        path: String,
        /// The timeout in milliseconds.
        after_ms: u64,
    },
    /// The connection could not be made.
    #[error("{backend}: cannot connect to {host} (GET {path}): {message}; check the url")]
    Connect {
        /// Configured backend name.
        backend: String,
        /// `host:port`.
        host: String,
        /// URL path.
        path: String,
        /// The cause.
        message: String,
    },
    /// The backend rejected the credentials.
    #[error("{backend}: GET {path} answered {status} (not allowed); check the token, tenant or authorization configured for it")]
    Unauthorized {
        /// Configured backend name.
        backend: String,
        /// URL path.
        path: String,
        /// 401 or 403.
        status: u16,
    },
    /// Any other unexpected status.
    #[error("{backend}: GET {path} answered {status}: {body_excerpt}")]
    Status {
        /// Configured backend name.
        backend: String,
        /// URL path.
        path: String,
        /// HTTP status.
        status: u16,
        /// The start of the body, one line.
        body_excerpt: String,
    },
    /// The answer arrived but could not be decoded.
    #[error("{backend}: {path} could not be decoded: {message}")]
    Decode {
        /// Configured backend name.
        backend: String,
        /// URL path (or file).
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The connection broke while the answer was read.
    #[error("{backend}: the answer to GET {path} was cut off: {message}")]
    Interrupted {
        /// Configured backend name.
        backend: String,
        /// URL path.
        path: String,
        /// The cause.
        message: String,
    },
    /// The backend's configuration is unusable (bad URL or header value).
    #[error("{backend}: {message}")]
    Config {
        /// Configured backend name.
        backend: String,
        /// What is wrong.
        message: String,
    },
}

impl FetchError {
    /// True when the backend answered that it has no such trace.
    pub fn is_not_found(&self) -> bool {
        matches!(self, FetchError::NotFound { .. })
    }

    /// Maps a transport error of `backend`.
    pub(crate) fn from_http(backend: &str, e: HttpError) -> Self {
        let backend = backend.to_owned();
        match e {
            HttpError::Config { message, .. } => FetchError::Config { backend, message },
            HttpError::Timeout { path, after, .. } => FetchError::Timeout {
                backend,
                path,
                after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            },
            HttpError::Connect {
                host,
                path,
                message,
                ..
            } => FetchError::Connect {
                backend,
                host,
                path,
                message,
            },
            HttpError::TooLarge { max_bytes, .. } => FetchError::Oversized {
                backend,
                max_mb: max_bytes / (1024 * 1024),
            },
            HttpError::Body { path, message, .. } => FetchError::Interrupted {
                backend,
                path,
                message,
            },
        }
    }

    /// Maps an unexpected status (401/403 become [`FetchError::Unauthorized`]).
    pub(crate) fn from_status(backend: &str, path: &str, resp: &HttpResponse) -> Self {
        let status = resp.status.as_u16();
        if status == 401 || status == 403 {
            return FetchError::Unauthorized {
                backend: backend.to_owned(),
                path: path.to_owned(),
                status,
            };
        }
        FetchError::Status {
            backend: backend.to_owned(),
            path: path.to_owned(),
            status,
            body_excerpt: resp.excerpt(200),
        }
    }
}

/// Settings shared by the HTTP backends, from a `[[tempo]]` / `[[jaeger]]` table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub http: HttpOptions,
    pub window: Duration,
    pub cache_ttl: Duration,
}

impl Limits {
    pub(crate) fn new(
        timeout_ms: Option<u64>,
        max_response_mb: Option<u64>,
        window_secs: Option<u64>,
        cache_ttl_secs: Option<u64>,
    ) -> Self {
        let defaults = HttpOptions::default();
        Limits {
            http: HttpOptions {
                timeout: timeout_ms
                    .map(Duration::from_millis)
                    .unwrap_or(defaults.timeout),
                connect_timeout: timeout_ms
                    .map(|t| Duration::from_millis(t).min(defaults.connect_timeout))
                    .unwrap_or(defaults.connect_timeout),
                max_body_bytes: max_response_mb
                    .map(|mb| mb.saturating_mul(1024 * 1024))
                    .unwrap_or(defaults.max_body_bytes),
                ..defaults
            },
            window: Duration::from_secs(window_secs.unwrap_or(3600)),
            cache_ttl: Duration::from_secs(cache_ttl_secs.unwrap_or(300)),
        }
    }

    /// `(start, end)` in Unix seconds around the hint.
    pub(crate) fn window_secs(&self, hint: TimeHint) -> (u64, u64) {
        let at = hint.around_ns / 1_000_000_000;
        let w = self.window.as_secs();
        (at.saturating_sub(w), at.saturating_add(w).saturating_add(1))
    }
}

/// Whether a fetch may use the backend's cache of fetched traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// Use it, and fill it: for traces fetched again and again (comparison baselines).
    Reuse,
    /// Go to the backend and keep nothing: the caller caches what it builds from the spans (the
    /// timeline cache), so the spans are not held twice.
    Fresh,
}

/// Memory the backend caches of fetched spans may hold, per backend (estimated, see
/// [`Span::approx_bytes`]).
pub const TRACE_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// Per-backend cache of fetched traces with single-flight loading, weighed by the estimated bytes of
/// its spans.
#[derive(Debug, Clone)]
pub(crate) struct TraceCache {
    cache: Option<Cache<TraceId, Arc<FetchedTrace>>>,
}

impl TraceCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        if ttl.is_zero() {
            return Self { cache: None };
        }
        let cache = Cache::builder()
            .time_to_live(ttl)
            // Weighed in KiB of estimated span memory.
            .weigher(|_k, v: &Arc<FetchedTrace>| {
                let bytes: u64 = v.spans.iter().map(Span::approx_bytes).sum();
                u32::try_from(bytes / 1024 + 1).unwrap_or(u32::MAX)
            })
            .max_capacity(TRACE_CACHE_BYTES / 1024)
            .build();
        Self { cache: Some(cache) }
    }

    /// Drops expired entries now (moka otherwise does it only on later cache operations, so an idle
    /// server would keep them).
    pub(crate) async fn housekeep(&self) {
        if let Some(c) = &self.cache {
            c.run_pending_tasks().await;
        }
    }

    /// Returns the cached trace or runs `load` once for all concurrent callers; with
    /// [`Caching::Fresh`], runs `load` and keeps nothing.
    pub(crate) async fn get<F>(
        &self,
        id: TraceId,
        load: F,
        caching: Caching,
    ) -> Result<FetchedTrace, FetchError>
    where
        F: std::future::Future<Output = Result<FetchedTrace, FetchError>>,
    {
        match &self.cache {
            None => load.await,
            Some(_) if caching == Caching::Fresh => load.await,
            Some(cache) => {
                let filled = std::sync::atomic::AtomicBool::new(false);
                let result = cache
                    .try_get_with(id, async {
                        filled.store(true, std::sync::atomic::Ordering::Relaxed);
                        load.await.map(Arc::new)
                    })
                    .await
                    .map(|t| (*t).clone())
                    .map_err(|e: Arc<FetchError>| (*e).clone());
                crate::connectors::telemetry::cache_lookup(
                    "traces",
                    !filled.load(std::sync::atomic::Ordering::Relaxed),
                );
                result
            }
        }
    }
}

/// One configured trace backend.
#[derive(Debug)]
pub enum TraceBackend {
    /// A Grafana Tempo query endpoint.
    Tempo(TempoClient),
    /// A Jaeger query service.
    Jaeger(JaegerClient),
    /// A directory of trace and event files.
    Files(FilesSource),
    /// The local store.
    Store(Store),
}

impl TraceBackend {
    /// The configured name.
    pub fn name(&self) -> &str {
        match self {
            TraceBackend::Tempo(c) => c.name(),
            TraceBackend::Jaeger(c) => c.name(),
            TraceBackend::Files(f) => f.name(),
            TraceBackend::Store(_) => STORE_NAME,
        }
    }

    /// `tempo`, `jaeger`, `files` or `store`.
    pub fn kind(&self) -> BackendKind {
        match self {
            TraceBackend::Tempo(_) => BackendKind::Tempo,
            TraceBackend::Jaeger(_) => BackendKind::Jaeger,
            TraceBackend::Files(_) => BackendKind::Files,
            TraceBackend::Store(_) => BackendKind::Store,
        }
    }

    /// Fetches one trace, through the backend's cache or around it.
    pub async fn fetch(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
        caching: Caching,
    ) -> Result<FetchedTrace, FetchError> {
        match self {
            TraceBackend::Tempo(c) => c.fetch(id, hint, caching).await,
            TraceBackend::Jaeger(c) => c.fetch(id, hint, caching).await,
            TraceBackend::Files(f) => f.fetch(id).await,
            TraceBackend::Store(s) => fetch_stored(s, id).await,
        }
    }

    /// Recent traces with errors.
    pub async fn search_errors(
        &self,
        period_secs: u64,
        limit: usize,
    ) -> Result<Vec<TraceSummaryRow>, FetchError> {
        match self {
            TraceBackend::Tempo(c) => c.search_errors(period_secs, limit).await,
            TraceBackend::Jaeger(c) => c.search_errors(period_secs, limit).await,
            TraceBackend::Files(f) => Ok(f.search_errors(limit).await),
            TraceBackend::Store(s) => s.search_errors(limit).await.map_err(store_error),
        }
    }

    /// Traces with a span whose attribute `key` is `value` (at most `limit`), near the hint.
    /// `service` narrows Jaeger's search, which cannot search without one.
    pub async fn search_attribute(
        &self,
        key: &str,
        value: &str,
        service: Option<&str>,
        hint: Option<TimeHint>,
        limit: usize,
    ) -> Result<Vec<TraceId>, FetchError> {
        match self {
            TraceBackend::Tempo(c) => c.search_attribute(key, value, hint, limit).await,
            TraceBackend::Jaeger(c) => c.search_attribute(key, value, service, hint, limit).await,
            TraceBackend::Files(f) => {
                let mut ids = f.traces_with_attribute(key, value).await;
                ids.truncate(limit.max(1));
                Ok(ids)
            }
            TraceBackend::Store(s) => s
                .traces_with_attribute(key, value, limit.max(1))
                .await
                .map_err(store_error),
        }
    }

    /// Healthy traces of the same root as a failing one (compare mode).
    pub async fn search_baselines(&self, q: &BaselineQuery) -> Result<BaselineFound, FetchError> {
        match self {
            TraceBackend::Tempo(c) => c.search_baselines(q).await,
            TraceBackend::Jaeger(c) => c.search_baselines(q).await,
            TraceBackend::Files(f) => Ok(f.search_baselines(q).await),
            TraceBackend::Store(s) => s.search_baselines(q).await.map_err(store_error),
        }
    }

    /// A cheap probe: `Ok(detail)` when the backend answers.
    pub async fn ready(&self) -> Result<String, String> {
        match self {
            TraceBackend::Tempo(c) => c.ready().await,
            TraceBackend::Jaeger(c) => c.ready().await,
            TraceBackend::Files(f) => f.ready().await,
            TraceBackend::Store(s) => match s.stats().await {
                Ok(st) => Ok(format!(
                    "{} traces, {} spans, {} events in {}; {} MB stored, limits {}; {} traces evicted since start",
                    st.traces,
                    st.spans,
                    st.events,
                    s.dir().display(),
                    st.bytes / (1024 * 1024),
                    s.limits().describe(),
                    st.evicted
                )),
                Err(e) => Err(e.to_string()),
            },
        }
    }
}

/// The name the local store is shown under.
pub const STORE_NAME: &str = "local store";

fn store_error(e: ReadError) -> FetchError {
    FetchError::Decode {
        backend: STORE_NAME.to_owned(),
        path: "the database".to_owned(),
        message: e.0,
    }
}

async fn fetch_stored(s: &Store, id: TraceId) -> Result<FetchedTrace, FetchError> {
    match s.fetch(id).await.map_err(store_error)? {
        Some(spans) => Ok(FetchedTrace {
            backend: STORE_NAME.to_owned(),
            kind: BackendKind::Store,
            spans,
            partial: None,
        }),
        None => Err(FetchError::NotFound {
            backend: STORE_NAME.to_owned(),
            path: s.dir().display().to_string(),
        }),
    }
}

/// What [`Backends::search_baselines`] found.
#[derive(Debug, Clone, Default)]
pub struct BaselineSearch {
    /// Candidates, nearest in time first: (trace, name of the backend that found it).
    pub traces: Vec<(TraceId, String)>,
    /// What each backend was asked, one sentence each.
    pub asked: Vec<String>,
    /// Traces of the same root left out because they had an error.
    pub with_errors: usize,
    /// Backends that failed.
    pub failures: Vec<FetchError>,
}

/// Every configured trace backend.
#[derive(Debug, Default)]
pub struct Backends {
    backends: Vec<TraceBackend>,
    /// Backends that could not be built, with why (reported by `fetch` and `ready`).
    broken: Vec<FetchError>,
}

impl Backends {
    /// Builds the backends the configuration names (Tempo, Jaeger, then files). A backend whose URL
    /// or header is unusable is kept as an error that `fetch` and `ready` report.
    ///
    /// The files source starts its background indexing task when a Tokio runtime is running, else on
    /// first use.
    /// `correlation_keys` are the span attributes whose values the files index keeps, for
    /// [`Backends::search_attribute`].
    pub fn from_config(
        tempo: &[TempoConfig],
        jaeger: &[JaegerConfig],
        files: &FilesConfig,
        correlation_keys: &[String],
    ) -> Backends {
        let mut out = Backends::default();
        for t in tempo {
            match TempoClient::new(t) {
                Ok(c) => out.backends.push(TraceBackend::Tempo(c)),
                Err(e) => out.broken.push(e),
            }
        }
        for j in jaeger {
            match JaegerClient::new(j) {
                Ok(c) => out.backends.push(TraceBackend::Jaeger(c)),
                Err(e) => out.broken.push(e),
            }
        }
        if let Some(dir) = &files.dir {
            out.backends
                .push(TraceBackend::Files(FilesSource::with_attribute_keys(
                    dir.clone(),
                    Duration::from_secs(files.rescan_secs.unwrap_or(5).max(1)),
                    correlation_keys.to_vec(),
                )));
        }
        out
    }

    /// Wraps already-built backends.
    pub fn new(backends: Vec<TraceBackend>) -> Backends {
        Backends {
            backends,
            broken: Vec::new(),
        }
    }

    /// True when no trace backend is configured.
    pub fn is_empty(&self) -> bool {
        self.backends.is_empty() && self.broken.is_empty()
    }

    /// The backends, in configuration order.
    pub fn backends(&self) -> &[TraceBackend] {
        &self.backends
    }

    /// Adds the local store, first: it is local and answers fastest.
    pub fn with_store(mut self, store: Store) -> Backends {
        self.backends.insert(0, TraceBackend::Store(store));
        self
    }

    /// The local store, if one is on.
    pub fn store(&self) -> Option<&Store> {
        self.backends.iter().find_map(|b| match b {
            TraceBackend::Store(s) => Some(s),
            _ => None,
        })
    }

    /// The files source, if one is configured (it also holds file-based Sentry events).
    pub fn files(&self) -> Option<&FilesSource> {
        self.backends.iter().find_map(|b| match b {
            TraceBackend::Files(f) => Some(f),
            _ => None,
        })
    }

    /// Asks every backend at once; returns the first trace found, or every backend's error.
    pub async fn fetch(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<FetchedTrace, Vec<FetchError>> {
        self.fetch_with(id, hint, Caching::Reuse).await
    }

    /// Drops the expired entries of every backend's cache now.
    pub async fn housekeep(&self) {
        for b in &self.backends {
            match b {
                TraceBackend::Tempo(c) => c.housekeep().await,
                TraceBackend::Jaeger(c) => c.housekeep().await,
                TraceBackend::Files(_) | TraceBackend::Store(_) => {}
            }
        }
    }

    /// [`Backends::fetch`], through the backends' caches or around them.
    pub async fn fetch_with(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
        caching: Caching,
    ) -> Result<FetchedTrace, Vec<FetchError>> {
        let mut pending: FuturesUnordered<_> = self
            .backends
            .iter()
            .map(|b| b.fetch(id, hint, caching))
            .collect();
        let mut errors = self.broken.clone();
        while let Some(result) = pending.next().await {
            match result {
                Ok(trace) => return Ok(trace),
                Err(e) => errors.push(e),
            }
        }
        // Real failures first: "not found" from one backend matters less than "unreachable" from another.
        errors.sort_by_key(FetchError::is_not_found);
        Err(errors)
    }

    /// Recent traces with at least one error span, from every backend (newest first, at most `limit`).
    /// A backend that fails is logged and skipped.
    pub async fn search_errors(&self, period_secs: u64, limit: usize) -> Vec<TraceSummaryRow> {
        let results = futures::future::join_all(
            self.backends
                .iter()
                .map(|b| b.search_errors(period_secs, limit)),
        )
        .await;
        let mut rows = Vec::new();
        for (b, r) in self.backends.iter().zip(results) {
            match r {
                Ok(mut r) => rows.append(&mut r),
                Err(e) => tracing::warn!(backend = b.name(), error = %e, "trace search failed"),
            }
        }
        rows.sort_by_key(|r| std::cmp::Reverse(r.start_ns));
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.trace_id));
        rows.truncate(limit);
        rows
    }

    /// The traces whose spans carry attribute `key` = `value`, asking every backend at once: the
    /// traces found (first backend first, de-duplicated) and the backends that failed.
    pub async fn search_attribute(
        &self,
        key: &str,
        value: &str,
        service: Option<&str>,
        hint: Option<TimeHint>,
    ) -> (Vec<TraceId>, Vec<FetchError>) {
        let results = futures::future::join_all(
            self.backends
                .iter()
                .map(|b| b.search_attribute(key, value, service, hint, 5)),
        )
        .await;
        let mut ids = Vec::new();
        let mut errors = self.broken.clone();
        for r in results {
            match r {
                Ok(found) => {
                    for id in found {
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        (ids, errors)
    }

    /// Healthy traces of the same root around a failing one, from every backend at once: the
    /// candidates (nearest in time first, de-duplicated, each with the backend that found it), what
    /// each backend was asked, how many were left out for errors, and the backends that failed.
    pub async fn search_baselines(&self, q: &BaselineQuery, center_ns: u64) -> BaselineSearch {
        let results =
            futures::future::join_all(self.backends.iter().map(|b| b.search_baselines(q))).await;
        let mut out = BaselineSearch {
            failures: self.broken.clone(),
            ..BaselineSearch::default()
        };
        let mut found: Vec<(TraceId, u64, String)> = Vec::new();
        for (b, r) in self.backends.iter().zip(results) {
            match r {
                Ok(f) => {
                    out.asked
                        .push(format!("{} `{}`: {}", b.kind(), b.name(), f.asked));
                    out.with_errors += f.with_errors;
                    for (id, start) in f.traces {
                        // A backend that ignored the window (a known start outside it) is not trusted.
                        let outside = start != 0 && !(q.from_ns..=q.to_ns).contains(&start);
                        if !outside && !found.iter().any(|(x, _, _)| *x == id) {
                            found.push((id, start, b.name().to_owned()));
                        }
                    }
                }
                Err(e) => out.failures.push(e),
            }
        }
        found.sort_by_key(|(id, start, _)| (start.abs_diff(center_ns), *id));
        out.traces = found.into_iter().map(|(id, _, b)| (id, b)).collect();
        out
    }

    /// Probes every backend: `(name, Ok(detail) | Err(why))`.
    pub async fn ready(&self) -> Vec<(String, Result<String, String>)> {
        let results = futures::future::join_all(self.backends.iter().map(|b| b.ready())).await;
        let mut out: Vec<(String, Result<String, String>)> = self
            .backends
            .iter()
            .zip(results)
            .map(|(b, r)| (b.name().to_owned(), r))
            .collect();
        for e in &self.broken {
            let name = match e {
                FetchError::Config { backend, .. } => backend.clone(),
                _ => String::new(),
            };
            out.push((name, Err(e.to_string())));
        }
        out
    }
}

/// Unix seconds as RFC 3339 UTC (to the second), for messages.
pub(crate) fn unix_rfc3339(secs: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| secs.to_string())
}

/// Keeps the spans of `id` (a backend may answer with more than one trace).
pub(crate) fn only_trace(mut spans: Vec<Span>, id: TraceId) -> Vec<Span> {
    spans.retain(|s| s.trace_id == id);
    spans
}

/// Pads a hex trace id with leading zeros trimmed (Tempo search) or a 64-bit one (Jaeger) to 32 digits.
pub(crate) fn padded_trace_id(hex: &str) -> Option<TraceId> {
    let hex = hex.trim();
    if hex.is_empty() || hex.len() > 32 {
        return None;
    }
    format!("{hex:0>32}").to_ascii_lowercase().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_trimmed_ids() {
        assert_eq!(
            padded_trace_id("d6e9329d67b6146a")
                .map(|t| t.to_string())
                .as_deref(),
            Some("0000000000000000d6e9329d67b6146a")
        );
        assert_eq!(padded_trace_id(""), None);
        assert_eq!(padded_trace_id("xyz"), None);
    }

    #[test]
    fn window_around_hint() {
        let l = Limits::new(None, None, Some(60), None);
        assert_eq!(
            l.window_secs(TimeHint {
                around_ns: 1_000_000_000_000
            }),
            (940, 1061)
        );
    }

    #[test]
    fn messages_are_actionable() {
        let e = FetchError::TooLarge {
            backend: "prod".into(),
            limit_bytes: Some(5_000_000),
        };
        assert_eq!(e.to_string(), "prod: the trace is larger than the backend allows (max bytes: 5000000); raise max_bytes_per_trace there or open the trace in its own UI");
        let e = FetchError::Unauthorized {
            backend: "prod".into(),
            path: "/api/v2/traces/01".into(),
            status: 401,
        };
        assert!(e.to_string().contains("check the token"));
    }
}
