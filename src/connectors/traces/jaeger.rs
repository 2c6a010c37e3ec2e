//! Jaeger query service: trace by id (`/api/v3/traces/{id}`, falling back to v1 `/api/traces/{id}`),
//! error-trace search through api_v3 find, and the `/api/v3/services` probe.
//!
//! api_v3 wraps OTLP/JSON in `{"result": …}` and answers a missing trace with 404 and a JSON
//! `{"error":…}` body (served as `text/plain`); a 404 without that body means api_v3 is not served
//! here (older Jaeger), so v1 is tried. 64-bit trace ids arrive as 16 hex digits and are padded by the
//! decoders. An optional `Authorization` header is sent as configured.

use std::collections::HashMap;

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::tempo::decode_body;
use super::{only_trace, FetchError, FetchedTrace, Limits, TimeHint, TraceCache, TraceSummaryRow};
use crate::connectors::formats::Format;
use crate::connectors::http::HttpClient;
use crate::domain::{Span, TraceId};
use crate::server::config::JaegerSection;

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
    pub fn new(cfg: &JaegerSection) -> Result<Self, FetchError> {
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

    /// Fetches one trace (cached, single-flight).
    pub async fn fetch(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<FetchedTrace, FetchError> {
        self.cache.get(id, self.fetch_uncached(id, hint)).await
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
        let resp = self
            .http
            .get(&v3, &v3_query, "application/json")
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
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
        let decoded = decode_body(resp, format)
            .await
            .map_err(|message| FetchError::Decode {
                backend: self.name.clone(),
                path: path.to_owned(),
                message,
            })?;
        let spans = only_trace(decoded.spans, id);
        if spans.is_empty() {
            return Err(self.not_found(path));
        }
        Ok(FetchedTrace {
            backend: self.name.clone(),
            kind: "jaeger",
            spans,
            partial: decoded.partial,
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
        let path = "/api/v3/traces";
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
            let resp = self
                .http
                .get(path, &query, "application/json")
                .await
                .map_err(|e| FetchError::from_http(&self.name, e))?;
            match resp.status.as_u16() {
                200 => {}
                404 => continue,
                _ => return Err(FetchError::from_status(&self.name, path, &resp)),
            }
            let decoded = decode_body(resp, Format::JaegerV3)
                .await
                .map_err(|message| FetchError::Decode {
                    backend: self.name.clone(),
                    path: path.to_owned(),
                    message,
                })?;
            for s in decoded.spans {
                by_trace.entry(s.trace_id).or_default().push(s);
            }
        }
        let mut rows: Vec<TraceSummaryRow> = by_trace
            .into_iter()
            .filter_map(|(id, spans)| summarize(&self.name, "jaeger", id, &spans))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.start_ns));
        rows.truncate(limit);
        Ok(rows)
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
    kind: &'static str,
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
        root_service: root.map(|r| r.service.clone()),
        root_name: root.map(|r| r.name.clone()),
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
