//! Jaeger query service: trace by id (`/api/v3/traces/{id}`, falling back to v1 `/api/traces/{id}`),
//! error-trace search through api_v3 find, and the `/api/v3/services` probe.
//!
//! api_v3 wraps OTLP/JSON in `{"result": …}` and answers a missing trace with 404 and a JSON
//! `{"error":…}` body (served as `text/plain`); a 404 without that body means api_v3 is not served
//! here (older Jaeger), so v1 is tried. 64-bit trace ids arrive as 16 hex digits and are padded by the
//! decoders. An optional `Authorization` header is sent as configured.

use std::collections::HashMap;

use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::Deserialize;

use super::tempo::{decode_body, stream_decoder};
use super::{
    only_trace, BackendKind, BaselineFound, BaselineQuery, Caching, FetchError, FetchedTrace,
    Limits, TimeHint, TraceCache, TraceSummaryRow,
};
use crate::connectors::formats::{DecodedTrace, Format};
use crate::connectors::http::{HttpClient, HttpResponse};
use crate::domain::{Span, TraceId};

/// `[[jaeger]]`: one Jaeger query endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct JaegerConfig {
    /// Name shown in the UI, e.g. `staging`.
    #[serde(default = "default_jaeger_name")]
    pub name: String,
    /// Base URL, e.g. `http://jaeger:16686`.
    pub url: String,
    /// Value of an `Authorization` header, if the query service needs one.
    pub authorization: Option<SecretString>,
    /// Whole-request timeout in milliseconds, body included (default 30000).
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Largest response body read, in MB; a larger trace is reported as too large instead of being
    /// buffered (default 256).
    #[serde(default)]
    pub max_response_mb: Option<u64>,
    /// Half-width in seconds of the time range sent around a time hint such as a Sentry event's
    /// timestamp (default 3600).
    #[serde(default)]
    pub time_hint_window_secs: Option<u64>,
    /// How long a fetched trace is kept in memory, in seconds (default 300; 0 disables the cache).
    #[serde(default)]
    pub cache_ttl_secs: Option<u64>,
}

impl JaegerConfig {
    /// A Jaeger query service at `url` with every other setting at its default.
    pub fn new(url: String) -> Self {
        Self {
            name: default_jaeger_name(),
            url,
            authorization: None,
            timeout_ms: None,
            max_response_mb: None,
            time_hint_window_secs: None,
            cache_ttl_secs: None,
        }
    }
}

fn default_jaeger_name() -> String {
    "jaeger".to_owned()
}

/// Services asked in one error search (api_v3 find needs a service name).
const MAX_SEARCH_SERVICES: usize = 20;

/// A client for one `[[jaeger]]` endpoint.
#[derive(Debug)]
pub struct JaegerClient {
    name: String,
    http: HttpClient,
    limits: Limits,
    cache: TraceCache,
}

impl JaegerClient {
    /// Builds the client from its config table.
    pub fn new(cfg: &JaegerConfig) -> Result<Self, FetchError> {
        let limits = Limits::new(
            cfg.timeout_ms,
            cfg.max_response_mb,
            cfg.time_hint_window_secs,
            cfg.cache_ttl_secs,
        );
        let auth = cfg
            .authorization
            .as_ref()
            .map(|a| a.expose_secret().to_owned());
        let mut headers: Vec<(&str, &str, bool)> = Vec::new();
        if let Some(a) = auth.as_deref() {
            headers.push(("Authorization", a, true));
        }
        let http = HttpClient::new(&cfg.name, &cfg.url, &headers, limits.http)
            .map_err(|e| FetchError::from_http(&cfg.name, e))?;
        Ok(Self {
            name: cfg.name.clone(),
            http,
            limits,
            cache: TraceCache::new(limits.cache_ttl),
        })
    }

    /// The configured name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Fetches one trace: through the cache (single-flight) or, with [`Caching::Fresh`], around it.
    pub async fn fetch(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
        caching: Caching,
    ) -> Result<FetchedTrace, FetchError> {
        self.cache
            .get(id, self.fetch_uncached(id, hint), caching)
            .await
    }

    /// Drops expired cache entries now.
    pub(crate) async fn housekeep(&self) {
        self.cache.housekeep().await;
    }

    async fn fetch_uncached(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<FetchedTrace, FetchError> {
        let window = hint.map(|h| self.limits.window_secs(h));
        let v3 = format!("/api/v3/traces/{id}");
        let v3_query: Vec<(&str, String)> = window
            .map(|(s, e)| vec![("startTime", rfc3339(s)), ("endTime", rfc3339(e))])
            .unwrap_or_default();
        // The answer is decoded while it downloads (a 100k-span trace is a 140 MB body).
        let (chunks, decoder) = stream_decoder(Format::JaegerV3);
        let resp = self
            .http
            .get_streamed(&v3, &v3_query, "application/json", chunks)
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        if resp.streamed {
            let decoded = decoder.await.map_err(|message| FetchError::Decode {
                backend: self.name.clone(),
                path: v3.clone(),
                message,
            })?;
            return self.found(decoded, &v3, id);
        }
        match resp.status.as_u16() {
            200 => return self.decode(resp, &v3, id, Format::JaegerV3).await,
            404 if String::from_utf8_lossy(&resp.body).contains("\"error\"") => {
                return Err(self.not_found(&v3))
            }
            404 => {}
            _ => return Err(FetchError::from_status(&self.name, &v3, &resp)),
        }
        // No api_v3 here: the v1 JSON API (times in microseconds).
        let v1 = format!("/api/traces/{id}");
        let v1_query: Vec<(&str, String)> = window
            .map(|(s, e)| {
                vec![
                    ("start", s.saturating_mul(1_000_000).to_string()),
                    ("end", e.saturating_mul(1_000_000).to_string()),
                ]
            })
            .unwrap_or_default();
        let resp = self
            .http
            .get(&v1, &v1_query, "application/json")
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        match resp.status.as_u16() {
            200 => self.decode(resp, &v1, id, Format::JaegerV1).await,
            404 => Err(self.not_found(&v1)),
            _ => Err(FetchError::from_status(&self.name, &v1, &resp)),
        }
    }

    fn not_found(&self, path: &str) -> FetchError {
        FetchError::NotFound {
            backend: self.name.clone(),
            path: path.to_owned(),
        }
    }

    async fn decode(
        &self,
        resp: crate::connectors::http::HttpResponse,
        path: &str,
        id: TraceId,
        format: Format,
    ) -> Result<FetchedTrace, FetchError> {
        let decoded = self.decode_answer(resp, format, path).await?;
        self.found(decoded, path, id)
    }

    /// The spans of trace `id` in a decoded answer; none is "not found".
    fn found(
        &self,
        decoded: DecodedTrace,
        path: &str,
        id: TraceId,
    ) -> Result<FetchedTrace, FetchError> {
        let spans = only_trace(decoded.spans, id);
        if spans.is_empty() {
            return Err(self.not_found(path));
        }
        Ok(FetchedTrace {
            backend: self.name.clone(),
            kind: BackendKind::Jaeger,
            spans,
            partial: decoded.partial,
        })
    }

    /// Decodes an answer body as `format`; a failure names the backend and the path.
    async fn decode_answer(
        &self,
        resp: HttpResponse,
        format: Format,
        path: &str,
    ) -> Result<DecodedTrace, FetchError> {
        decode_body(resp, format)
            .await
            .map_err(|message| FetchError::Decode {
                backend: self.name.clone(),
                path: path.to_owned(),
                message,
            })
    }

    async fn services(&self) -> Result<Vec<String>, FetchError> {
        let path = "/api/v3/services";
        let resp = self
            .http
            .get(path, &[], "application/json")
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        if resp.status.as_u16() != 200 {
            return Err(FetchError::from_status(&self.name, path, &resp));
        }
        #[derive(Deserialize)]
        struct Services {
            #[serde(default)]
            services: Option<Vec<String>>,
        }
        serde_json::from_slice::<Services>(&resp.body)
            .map(|s| s.services.unwrap_or_default())
            .map_err(|e| FetchError::Decode {
                backend: self.name.clone(),
                path: path.to_owned(),
                message: e.to_string(),
            })
    }

    /// Recent traces with an error span: api_v3 find per service (at most 20 services), filtered here.
    pub async fn search_errors(
        &self,
        period_secs: u64,
        limit: usize,
    ) -> Result<Vec<TraceSummaryRow>, FetchError> {
        let services = self.services().await?;
        let now = chrono::Utc::now().timestamp().max(0).unsigned_abs();
        let mut by_trace: HashMap<TraceId, Vec<Span>> = HashMap::new();
        for service in services.into_iter().take(MAX_SEARCH_SERVICES) {
            let query = [
                ("query.serviceName", service),
                (
                    "query.startTimeMin",
                    rfc3339(now.saturating_sub(period_secs)),
                ),
                ("query.startTimeMax", rfc3339(now.saturating_add(1))),
                ("query.searchDepth", limit.max(1).to_string()),
            ];
            for s in self.find_traces(&query).await? {
                by_trace.entry(s.trace_id).or_default().push(s);
            }
        }
        let mut rows: Vec<TraceSummaryRow> = by_trace
            .into_iter()
            .filter_map(|(id, spans)| summarize(&self.name, BackendKind::Jaeger, id, &spans))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.start_ns));
        rows.truncate(limit);
        Ok(rows)
    }

    /// api_v3 `FindTraces` (`GET /api/v3/traces`): the spans of the traces found; none on a 404
    /// (Jaeger's "No traces found").
    async fn find_traces(&self, query: &[(&str, String)]) -> Result<Vec<Span>, FetchError> {
        let path = "/api/v3/traces";
        let resp = self
            .http
            .get(path, query, "application/json")
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        match resp.status.as_u16() {
            200 => {}
            404 => return Ok(Vec::new()),
            _ => return Err(FetchError::from_status(&self.name, path, &resp)),
        }
        Ok(self
            .decode_answer(resp, Format::JaegerV3, path)
            .await?
            .spans)
    }

    /// Healthy traces of one root (compare mode): api_v3 `FindTraces` for the root's service and
    /// operation over the window (`searchDepth` = `limit`); the answer holds whole traces, so the root
    /// and the absence of error spans are checked here.
    pub async fn search_baselines(&self, q: &BaselineQuery) -> Result<BaselineFound, FetchError> {
        let (start, end) = q.window_secs();
        let query = [
            ("query.serviceName", q.service.clone()),
            ("query.operationName", q.name.clone()),
            ("query.startTimeMin", rfc3339(start)),
            ("query.startTimeMax", rfc3339(end)),
            ("query.searchDepth", q.limit.max(1).to_string()),
        ];
        let mut found = BaselineFound {
            asked: format!(
                "FindTraces service `{}`, operation `{}`, {} to {}, depth {}, root and errors checked here",
                q.service,
                q.name,
                super::unix_rfc3339(start),
                super::unix_rfc3339(end),
                q.limit.max(1)
            ),
            ..BaselineFound::default()
        };
        let mut by_trace: HashMap<TraceId, Vec<Span>> = HashMap::new();
        for s in self.find_traces(&query).await? {
            by_trace.entry(s.trace_id).or_default().push(s);
        }
        for (id, spans) in by_trace {
            let root = spans
                .iter()
                .find(|s| s.parent_span_id.is_none())
                .or_else(|| spans.iter().min_by_key(|s| s.start_ns));
            let Some(root) = root else { continue };
            if !q.fits(Some(&root.service), Some(&root.name), root.start_ns) {
                continue;
            }
            if spans.iter().any(Span::is_error) {
                found.with_errors += 1;
            } else {
                found.traces.push((id, root.start_ns));
            }
        }
        found.traces.sort_by_key(|(id, start)| (*start, *id));
        Ok(found)
    }

    /// Traces with a span whose attribute (or process tag) `key` is `value`: api_v3 `FindTraces`
    /// with `query.attributes` (Jaeger 2.19+) for `service`, or for each service it lists (at most
    /// 20) when the service is unknown; falls back to the v1 tag search (`/api/traces?tags=`) when
    /// api_v3 refuses the attribute filter (older Jaeger). Jaeger needs a time range: the hint's
    /// window, else the last two days.
    pub async fn search_attribute(
        &self,
        key: &str,
        value: &str,
        service: Option<&str>,
        hint: Option<TimeHint>,
        limit: usize,
    ) -> Result<Vec<TraceId>, FetchError> {
        // The event's own service first; the others only when it has no such span.
        let mut services: Vec<String> = service.map(|s| vec![s.to_owned()]).unwrap_or_default();
        let mut listed = false;
        let (start, end) = match hint {
            Some(h) => self.limits.window_secs(h),
            None => {
                let now = chrono::Utc::now().timestamp().max(0).unsigned_abs();
                (now.saturating_sub(48 * 3600), now.saturating_add(1))
            }
        };
        let attrs = serde_json::json!({ key: value }).to_string();
        let mut found: Vec<TraceId> = Vec::new();
        let mut i = 0;
        loop {
            if i == services.len() && found.is_empty() && !listed {
                listed = true;
                for s in self.services().await? {
                    if !services.contains(&s) {
                        services.push(s);
                    }
                }
            }
            let Some(service) = services.get(i).cloned() else {
                break;
            };
            i += 1;
            if i > MAX_SEARCH_SERVICES {
                break;
            }
            let path = "/api/v3/traces";
            let query = [
                ("query.serviceName", service.clone()),
                ("query.attributes", attrs.clone()),
                ("query.startTimeMin", rfc3339(start)),
                ("query.startTimeMax", rfc3339(end)),
                ("query.searchDepth", limit.max(1).to_string()),
            ];
            let resp = self
                .http
                .get(path, &query, "application/json")
                .await
                .map_err(|e| FetchError::from_http(&self.name, e))?;
            let spans = match resp.status.as_u16() {
                200 => {
                    self.decode_answer(resp, Format::JaegerV3, path)
                        .await?
                        .spans
                }
                // api_v3 answers "No traces found" with a 404.
                404 => Vec::new(),
                400 => {
                    self.search_attribute_v1(&service, &attrs, start, end, limit)
                        .await?
                }
                _ => return Err(FetchError::from_status(&self.name, path, &resp)),
            };
            for s in spans {
                if !found.contains(&s.trace_id) {
                    found.push(s.trace_id);
                }
            }
            if found.len() >= limit {
                break;
            }
        }
        found.truncate(limit.max(1));
        Ok(found)
    }

    /// The v1 tag search, `GET /api/traces?service=&tags={json}&start=&end=` (µs).
    async fn search_attribute_v1(
        &self,
        service: &str,
        tags: &str,
        start: u64,
        end: u64,
        limit: usize,
    ) -> Result<Vec<Span>, FetchError> {
        let path = "/api/traces";
        let query = [
            ("service", service.to_owned()),
            ("tags", tags.to_owned()),
            ("start", start.saturating_mul(1_000_000).to_string()),
            ("end", end.saturating_mul(1_000_000).to_string()),
            ("limit", limit.max(1).to_string()),
        ];
        let resp = self
            .http
            .get(path, &query, "application/json")
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        if resp.status.as_u16() != 200 {
            return Err(FetchError::from_status(&self.name, path, &resp));
        }
        Ok(self
            .decode_answer(resp, Format::JaegerV1, path)
            .await?
            .spans)
    }

    /// Probes `/api/v3/services`.
    pub async fn ready(&self) -> Result<String, String> {
        match self.services().await {
            Ok(s) => Ok(format!("GET /api/v3/services listed {} services", s.len())),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// A summary row for a trace with at least one error span (None otherwise).
pub(crate) fn summarize(
    backend: &str,
    kind: BackendKind,
    id: TraceId,
    spans: &[Span],
) -> Option<TraceSummaryRow> {
    let errors = spans.iter().filter(|s| s.is_error()).count();
    if errors == 0 {
        return None;
    }
    let root = spans
        .iter()
        .find(|s| s.parent_span_id.is_none())
        .or_else(|| spans.iter().min_by_key(|s| s.start_ns));
    let start = spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_ns).max().unwrap_or(start);
    Some(TraceSummaryRow {
        backend: backend.to_owned(),
        kind,
        trace_id: id,
        root_service: root.map(|r| r.service.to_string()),
        root_name: root.map(|r| r.name.to_string()),
        start_ns: start,
        duration_ms: Some(end.saturating_sub(start) / 1_000_000),
        span_count: Some(spans.len()),
        error_span_count: Some(errors),
    })
}

/// Unix seconds as RFC 3339 UTC.
fn rfc3339(secs: u64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
        .unwrap_or_default()
}
