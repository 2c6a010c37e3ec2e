//! Grafana Tempo: trace by id (`/api/v2/traces/{id}`, falling back to v1 `/api/traces/{id}`), TraceQL
//! search for error traces (`/api/search`) and the `/api/echo` probe.
//!
//! Protobuf is asked for (`Accept: application/protobuf`) because Tempo's JSON changed shape across
//! versions; a JSON answer is read too, by its content type. Not-found rules: v2 answers 200 with an
//! empty trace (or 404 behind an access policy); v1 answers 404. A v2 404 is retried on v1 for older
//! Tempo. `422 trace exceeds max size (max bytes: N)` becomes [`FetchError::TooLarge`]; v2
//! `status: PARTIAL` is kept as [`FetchedTrace::partial`]. With a time hint the lookup is limited to
//! the configured window around it first, then retried unbounded.

use secrecy::ExposeSecret;
use secrecy::SecretString;
use serde::Deserialize;

use super::{
    only_trace, padded_trace_id, BackendKind, BaselineFound, BaselineQuery, Caching, FetchError,
    FetchedTrace, Limits, TimeHint, TraceCache, TraceSummaryRow,
};
use crate::connectors::formats::{self, Decoded, Format};
use crate::connectors::http::{HttpClient, HttpResponse};
use crate::domain::TraceId;

/// `[[tempo]]`: one Grafana Tempo query endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TempoConfig {
    /// Name shown in the UI, e.g. `production`.
    #[serde(default = "default_tempo_name")]
    pub name: String,
    /// Base URL, e.g. `http://tempo:3200`.
    pub url: String,
    /// `X-Scope-OrgID` tenant.
    pub tenant: Option<String>,
    /// Bearer token.
    pub token: Option<SecretString>,
    /// Path prefix configured as Tempo's `http_api_prefix`.
    pub http_api_prefix: Option<String>,
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

impl TempoConfig {
    /// A Tempo at `url` with every other setting at its default.
    pub fn new(url: String) -> Self {
        Self {
            name: default_tempo_name(),
            url,
            tenant: None,
            token: None,
            http_api_prefix: None,
            timeout_ms: None,
            max_response_mb: None,
            time_hint_window_secs: None,
            cache_ttl_secs: None,
        }
    }
}

fn default_tempo_name() -> String {
    "tempo".to_owned()
}

const PROTOBUF: &str = "application/protobuf";
const JSON: &str = "application/json";

/// A client for one `[[tempo]]` endpoint.
#[derive(Debug)]
pub struct TempoClient {
    name: String,
    http: HttpClient,
    prefix: String,
    limits: Limits,
    cache: TraceCache,
}

enum Answer {
    Found(FetchedTrace),
    NotFound(String),
    /// v2 does not exist on this Tempo (404 without a body): try v1.
    NoV2,
}

impl TempoClient {
    /// Builds the client from its config table.
    pub fn new(cfg: &TempoConfig) -> Result<Self, FetchError> {
        let limits = Limits::new(
            cfg.timeout_ms,
            cfg.max_response_mb,
            cfg.time_hint_window_secs,
            cfg.cache_ttl_secs,
        );
        let token = cfg
            .token
            .as_ref()
            .map(|t| format!("Bearer {}", t.expose_secret()));
        let mut headers: Vec<(&str, &str, bool)> = Vec::new();
        if let Some(t) = cfg.tenant.as_deref() {
            headers.push(("X-Scope-OrgID", t, false));
        }
        if let Some(t) = token.as_deref() {
            headers.push(("Authorization", t, true));
        }
        let http = HttpClient::new(&cfg.name, &cfg.url, &headers, limits.http)
            .map_err(|e| FetchError::from_http(&cfg.name, e))?;
        let prefix = cfg
            .http_api_prefix
            .as_deref()
            .map(|p| p.trim().trim_matches('/'))
            .filter(|p| !p.is_empty())
            .map(|p| format!("/{p}"))
            .unwrap_or_default();
        Ok(Self {
            name: cfg.name.clone(),
            http,
            prefix,
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
        let windows: Vec<Option<(u64, u64)>> = match hint {
            Some(h) => vec![Some(self.limits.window_secs(h)), None],
            None => vec![None],
        };
        let mut last_path = String::new();
        for window in windows {
            let query: Vec<(&str, String)> = window
                .map(|(s, e)| vec![("start", s.to_string()), ("end", e.to_string())])
                .unwrap_or_default();
            let v2 = format!("{}/api/v2/traces/{id}", self.prefix);
            match self.get_trace(&v2, &query, id, Format::TempoV2).await? {
                Answer::Found(t) => return Ok(t),
                Answer::NotFound(p) => last_path = p,
                Answer::NoV2 => {
                    let v1 = format!("{}/api/traces/{id}", self.prefix);
                    match self.get_trace(&v1, &query, id, Format::TempoV1).await? {
                        Answer::Found(t) => return Ok(t),
                        Answer::NotFound(p) => last_path = p,
                        Answer::NoV2 => last_path = v1,
                    }
                }
            }
        }
        Err(FetchError::NotFound {
            backend: self.name.clone(),
            path: last_path,
        })
    }

    async fn get_trace(
        &self,
        path: &str,
        query: &[(&str, String)],
        id: TraceId,
        json_format: Format,
    ) -> Result<Answer, FetchError> {
        let mut accept = PROTOBUF;
        let decoded = loop {
            // A JSON answer is decoded while it downloads; protobuf is collected, then decoded.
            let (chunks, decoder) = stream_decoder(json_format);
            let resp = self
                .http
                .get_streamed(path, query, accept, chunks)
                .await
                .map_err(|e| FetchError::from_http(&self.name, e))?;
            if resp.streamed {
                break decoder.await.map_err(|message| FetchError::Decode {
                    backend: self.name.clone(),
                    path: path.to_owned(),
                    message,
                })?;
            }
            let status = resp.status.as_u16();
            let was_protobuf = resp.content_type.contains("protobuf");
            match status {
                200 => {}
                // A Tempo (or proxy) that will not serve protobuf: ask for JSON.
                406 | 415 if accept == PROTOBUF => {
                    accept = JSON;
                    continue;
                }
                404 if json_format == Format::TempoV2 => return Ok(Answer::NoV2),
                404 => return Ok(Answer::NotFound(path.to_owned())),
                422 => {
                    return Err(FetchError::TooLarge {
                        backend: self.name.clone(),
                        limit_bytes: max_bytes(&String::from_utf8_lossy(&resp.body)),
                    })
                }
                _ => return Err(FetchError::from_status(&self.name, path, &resp)),
            }
            match decode_body(resp, json_format).await {
                Ok(d) => break d,
                // Protobuf this client cannot read: the JSON rendering of the same trace may do.
                Err(message) if was_protobuf && accept == PROTOBUF => {
                    tracing::debug!(backend = %self.name, %message, "protobuf unreadable, asking for JSON");
                    accept = JSON;
                }
                Err(message) => {
                    return Err(FetchError::Decode {
                        backend: self.name.clone(),
                        path: path.to_owned(),
                        message,
                    })
                }
            }
        };
        let spans = only_trace(decoded.spans, id);
        if spans.is_empty() {
            return Ok(Answer::NotFound(path.to_owned()));
        }
        Ok(Answer::Found(FetchedTrace {
            backend: self.name.clone(),
            kind: BackendKind::Tempo,
            spans,
            partial: decoded.partial,
        }))
    }

    /// Recent traces with an error span: TraceQL `{ status = error }` over the last `period_secs`.
    pub async fn search_errors(
        &self,
        period_secs: u64,
        limit: usize,
    ) -> Result<Vec<TraceSummaryRow>, FetchError> {
        let path = format!("{}/api/search", self.prefix);
        let now = chrono::Utc::now().timestamp().max(0).unsigned_abs();
        let query = [
            ("q", "{ status = error }".to_owned()),
            ("start", now.saturating_sub(period_secs).to_string()),
            ("end", now.to_string()),
            ("limit", limit.to_string()),
        ];
        let body = self.search(&path, &query).await?;
        Ok(body
            .traces
            .into_iter()
            .filter_map(|t| {
                let trace_id = padded_trace_id(&t.trace_id)?;
                let error_spans = t
                    .span_sets
                    .iter()
                    .map(|s| s.matched.unwrap_or(s.spans.len() as u64))
                    .sum::<u64>();
                Some(TraceSummaryRow {
                    backend: self.name.clone(),
                    kind: BackendKind::Tempo,
                    trace_id,
                    root_service: t.root_service_name,
                    root_name: t.root_trace_name,
                    start_ns: t
                        .start_time_unix_nano
                        .as_deref()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0),
                    duration_ms: t.duration_ms,
                    span_count: None,
                    error_span_count: (error_spans > 0)
                        .then(|| usize::try_from(error_spans).unwrap_or(usize::MAX)),
                })
            })
            .collect())
    }

    /// `GET {prefix}/api/search` with a TraceQL query, decoded.
    async fn search(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<SearchResponse, FetchError> {
        let resp = self
            .http
            .get(path, query, JSON)
            .await
            .map_err(|e| FetchError::from_http(&self.name, e))?;
        if resp.status.as_u16() != 200 {
            return Err(FetchError::from_status(&self.name, path, &resp));
        }
        serde_json::from_slice(&resp.body).map_err(|e| FetchError::Decode {
            backend: self.name.clone(),
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Traces with a span (or resource) attribute `key` equal to `value`: TraceQL
    /// `{ .key = "value" }` (any scope) around the hint, at most `limit` traces.
    pub async fn search_attribute(
        &self,
        key: &str,
        value: &str,
        hint: Option<TimeHint>,
        limit: usize,
    ) -> Result<Vec<TraceId>, FetchError> {
        let path = format!("{}/api/search", self.prefix);
        let mut query = vec![
            ("q", attribute_query(key, value)),
            ("limit", limit.max(1).to_string()),
            ("spss", "1".to_owned()),
        ];
        if let Some(h) = hint {
            let (start, end) = self.limits.window_secs(h);
            query.push(("start", start.to_string()));
            query.push(("end", end.to_string()));
        }
        let body = self.search(&path, &query).await?;
        // Search results trim leading zeros of trace ids: pad them back.
        Ok(body
            .traces
            .iter()
            .filter_map(|t| padded_trace_id(&t.trace_id))
            .collect())
    }

    /// Healthy traces of one root (compare mode): TraceQL `{ trace:rootService = … && trace:rootName
    /// = … }` over the window, at most `limit`, minus those that also match `… && { status = error }`
    /// (TraceQL cannot say "no span failed" in one query).
    pub async fn search_baselines(&self, q: &BaselineQuery) -> Result<BaselineFound, FetchError> {
        let path = format!("{}/api/search", self.prefix);
        let (start, end) = q.window_secs();
        let root = format!(
            "{{ trace:rootService = {} && trace:rootName = {} }}",
            go_string(&q.service),
            go_string(&q.name)
        );
        let failing = format!("{root} && {{ status = error }}");
        let ask = |traceql: String, limit: usize| {
            vec![
                ("q", traceql),
                ("start", start.to_string()),
                ("end", end.to_string()),
                ("limit", limit.max(1).to_string()),
                ("spss", "1".to_owned()),
            ]
        };
        let all = self.search(&path, &ask(root.clone(), q.limit)).await?;
        let with_errors = self.search(&path, &ask(failing, q.limit)).await?;
        let bad: std::collections::HashSet<TraceId> = with_errors
            .traces
            .iter()
            .filter_map(|t| padded_trace_id(&t.trace_id))
            .collect();
        let mut found = BaselineFound {
            asked: format!(
                "TraceQL `{root}` without `{{ status = error }}`, {} to {}, limit {}",
                super::unix_rfc3339(start),
                super::unix_rfc3339(end),
                q.limit.max(1)
            ),
            ..BaselineFound::default()
        };
        for t in &all.traces {
            let Some(id) = padded_trace_id(&t.trace_id) else {
                continue;
            };
            if bad.contains(&id) {
                found.with_errors += 1;
                continue;
            }
            let start_ns = t
                .start_time_unix_nano
                .as_deref()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            found.traces.push((id, start_ns));
        }
        Ok(found)
    }

    /// Probes `/api/echo`.
    pub async fn ready(&self) -> Result<String, String> {
        let path = format!("{}/api/echo", self.prefix);
        let started = std::time::Instant::now();
        match self.http.get(&path, &[], "text/plain").await {
            Ok(r) if r.status.is_success() => Ok(format!(
                "GET {path} answered {} in {} ms",
                r.status.as_u16(),
                started.elapsed().as_millis()
            )),
            Ok(r) => Err(FetchError::from_status(&self.name, &path, &r).to_string()),
            Err(e) => Err(FetchError::from_http(&self.name, e).to_string()),
        }
    }
}

/// `N` from Tempo's `trace exceeds max size (max bytes: N)`.
fn max_bytes(body: &str) -> Option<u64> {
    let rest = &body[body.find("max bytes:")? + "max bytes:".len()..];
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Decodes a trace body by its content type (protobuf, else the expected JSON format), off the runtime.
/// A decoder for a body streamed by [`crate::connectors::http::HttpClient::get_streamed`]: the chunks
/// go to a blocking thread that decodes `format` as they arrive ([`formats::SpanStream`]), so a large
/// answer is decoded while it downloads and never held whole. Await the decoded trace once the call
/// has returned; a body with nothing in it is an empty trace, as for [`decode_body`].
pub(crate) fn stream_decoder(
    format: Format,
) -> (
    crate::connectors::http::BodyChunks,
    impl std::future::Future<Output = Result<formats::DecodedTrace, String>>,
) {
    // A few chunks in flight: the download waits for the decoder rather than piling up in memory.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(32);
    let task = tokio::task::spawn_blocking(move || {
        let Some(mut stream) = formats::SpanStream::new(format) else {
            return Err(format!("{format} cannot be read as it arrives"));
        };
        while let Some(chunk) = rx.blocking_recv() {
            stream.push(&chunk);
        }
        match stream.finish() {
            Ok(t) => Ok(t),
            Err(formats::FormatError::Empty) => Ok(formats::DecodedTrace {
                format,
                spans: Vec::new(),
                partial: None,
            }),
            Err(e) => Err(e.to_string()),
        }
    });
    let decoded = async move {
        task.await
            .map_err(|e| format!("decoding stopped: {e}"))
            .and_then(|r| r)
    };
    (tx, decoded)
}

pub(crate) async fn decode_body(
    resp: HttpResponse,
    json_format: Format,
) -> Result<formats::DecodedTrace, String> {
    let task = tokio::task::spawn_blocking(move || {
        let body = resp.body;
        // An all-default protobuf message (Tempo v2's "no such trace") is zero bytes long.
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(formats::DecodedTrace {
                format: json_format,
                spans: Vec::new(),
                partial: None,
            });
        }
        let protobuf = resp.content_type.contains("protobuf")
            || resp.content_type == "application/octet-stream"
            || (resp.content_type.is_empty()
                && !body.first().is_some_and(|b| *b == b'{' || *b == b'['));
        if protobuf {
            let decoded = if json_format == formats::Format::TempoV2 {
                formats::decode_tempo_v2_protobuf(&body)
            } else {
                formats::decode_otlp_protobuf(&body)
            };
            return decoded.map_err(|e| e.to_string());
        }
        match formats::decode_as(json_format, &body) {
            Ok(Decoded::Trace(t)) => Ok(t),
            Ok(Decoded::Events { format, .. }) => Err(format!("expected spans, got {format}")),
            Err(e) => Err(e.to_string()),
        }
    });
    task.await
        .map_err(|e| format!("decoding stopped: {e}"))
        .and_then(|r| r)
}

#[derive(Debug, Default, Deserialize)]
struct SearchResponse {
    #[serde(default)]
    traces: Vec<SearchTrace>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchTrace {
    #[serde(rename = "traceID", default)]
    trace_id: String,
    #[serde(default)]
    root_service_name: Option<String>,
    #[serde(default)]
    root_trace_name: Option<String>,
    #[serde(default)]
    start_time_unix_nano: Option<String>,
    #[serde(default)]
    duration_ms: Option<u64>,
    #[serde(default)]
    span_sets: Vec<SpanSet>,
}

#[derive(Debug, Default, Deserialize)]
struct SpanSet {
    #[serde(default)]
    spans: Vec<serde_json::Value>,
    #[serde(default)]
    matched: Option<u64>,
}

/// `{ .key = "value" }` in TraceQL: the name quoted when it holds a character that ends an unquoted
/// attribute name (whitespace or `{}()=~!<>&|^,`), the value a Go-quoted string.
pub(crate) fn attribute_query(key: &str, value: &str) -> String {
    let plain = !key.is_empty()
        && !key
            .chars()
            .any(|c| c.is_whitespace() || "{}()=~!<>&|^,\"\\".contains(c));
    let name = if plain {
        key.to_owned()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    };
    format!("{{ .{name} = {} }}", go_string(value))
}

fn go_string(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_max_bytes() {
        assert_eq!(
            max_bytes("trace exceeds max size (max bytes: 5000000)\n"),
            Some(5_000_000)
        );
        assert_eq!(max_bytes("something else"), None);
    }

    #[test]
    fn traceql_attribute_queries_quote_what_needs_it() {
        assert_eq!(
            attribute_query("transaction_id", "txn-1"),
            r#"{ .transaction_id = "txn-1" }"#
        );
        assert_eq!(
            attribute_query("http.request.header.x-request-id", "a\"b\\c\nd"),
            r#"{ .http.request.header.x-request-id = "a\"b\\c\nd" }"#
        );
        assert_eq!(
            attribute_query("odd key=1", "v"),
            r#"{ ."odd key=1" = "v" }"#
        );
    }
}
