//! HTTP for the Sentry connector: URL building, bearer auth, body size cap, rate-limit bookkeeping
//! (`X-Sentry-Rate-Limit-*`, 429 with a JSON string body), `Link` pagination and the response caches.
//!
//! Responses are cached as raw bodies keyed by URL: a short-lived cache (lists, issues, trace lookups) and
//! a long-lived one (full events, which are immutable). Both use moka's `try_get_with`, so concurrent
//! identical requests share one upstream call; errors are not cached.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use moka::future::Cache;
use reqwest::{header, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};

use super::error::SentryError;
use super::SentryConfig;

/// A successful response body and its next-page cursor.
#[derive(Debug)]
pub(super) struct Raw {
    /// The body bytes.
    pub body: Vec<u8>,
    /// Cursor of the next page, when the `Link` header has `rel="next"` with `results="true"`.
    pub next_cursor: Option<String>,
}

/// Which cache a request goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CacheClass {
    /// Lists, issues and trace lookups (seconds).
    Short,
    /// Full events (immutable).
    Long,
    /// Not cached (token checks).
    None,
}

/// Rate-limit window last reported for one endpoint.
#[derive(Debug, Clone, Copy)]
struct Window {
    remaining: u64,
    reset_epoch_s: u64,
}

pub(super) struct Transport {
    http: reqwest::Client,
    base: Url,
    token: SecretString,
    timeout: Duration,
    max_wait: Duration,
    max_body: usize,
    windows: Mutex<HashMap<String, Window>>,
    short: Cache<String, Arc<Raw>>,
    long: Cache<String, Arc<Raw>>,
    /// Upstream requests sent (for tests and `/readyz` diagnostics).
    sent: std::sync::atomic::AtomicU64,
}

/// The scope an endpoint needs, from the Web API's per-endpoint security table.
pub(super) fn scope_for(path: &str) -> &'static str {
    if path.contains("/projects/") {
        "project:read"
    } else if path.contains("/issues/") || path.contains("/shortids/") {
        "event:read"
    } else {
        "org:read"
    }
}

fn now_epoch_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The endpoint a rate-limit window belongs to: ids replaced by `{id}`.
fn endpoint_key(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let idish = seg.len() >= 6
                && seg.chars().any(|c| c.is_ascii_digit())
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if idish {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Parses a `Link` header and returns the cursor of `rel="next"` when it has `results="true"`.
pub(super) fn next_cursor(link: &str) -> Option<String> {
    for part in link.split(',') {
        let mut rel = None;
        let mut results = None;
        let mut cursor = None;
        let mut url = None;
        for (i, item) in part.split(';').enumerate() {
            let item = item.trim();
            if i == 0 {
                url = item.strip_prefix('<').and_then(|s| s.strip_suffix('>'));
                continue;
            }
            if let Some((k, v)) = item.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim() {
                    "rel" => rel = Some(v),
                    "results" => results = Some(v),
                    "cursor" => cursor = Some(v),
                    _ => {}
                }
            }
        }
        if rel == Some("next") && results == Some("true") {
            let from_url = || {
                let url = Url::parse(url?).ok()?;
                let c = url.query_pairs().find(|(k, _)| k == "cursor")?.1;
                Some(c.into_owned())
            };
            return cursor.map(str::to_owned).or_else(from_url);
        }
    }
    None
}

/// The user-facing message Sentry put in an error body: `{"detail": …}`, a JSON string, or text.
fn detail(body: &[u8], token: &str) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => match o.get("detail") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => serde_json::Value::Object(o).to_string(),
        },
        Ok(v) => v.to_string(),
        Err(_) => String::from_utf8_lossy(body).trim().to_owned(),
    };
    let mut text = if token.is_empty() {
        text
    } else {
        text.replace(token, "[redacted]")
    };
    if text.is_empty() {
        text = "(empty body)".to_owned();
    }
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    format!("{text:?}")
}

impl Transport {
    pub(super) fn new(config: &SentryConfig, base: Url) -> Result<Self, SentryError> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("tracepin/", env!("CARGO_PKG_VERSION")))
            .gzip(true)
            .build()
            .map_err(|e| SentryError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Transport {
            http,
            base,
            token: config.token.clone(),
            timeout: config.timeout,
            max_wait: config.max_rate_limit_wait,
            max_body: config.max_body_bytes,
            windows: Mutex::new(HashMap::new()),
            short: Cache::builder()
                .max_capacity(2_000)
                .time_to_live(config.list_cache_ttl)
                .build(),
            long: Cache::builder()
                .max_capacity(20_000)
                .time_to_live(config.event_cache_ttl)
                .build(),
            sent: std::sync::atomic::AtomicU64::new(0),
        })
    }

    pub(super) fn base(&self) -> &Url {
        &self.base
    }

    pub(super) fn requests_sent(&self) -> u64 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(super) fn token_url(&self) -> String {
        format!(
            "{}/settings/account/api/auth-tokens/",
            super::ui_base(&self.base)
        )
    }

    /// `{base}/api/0/{segments…}/?{query}` with every segment percent-encoded.
    pub(super) fn url(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Url, SentryError> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                SentryError::Config(format!("base URL {} cannot carry a path", self.base))
            })?;
            path.pop_if_empty()
                .extend(["api", "0"])
                .extend(segments)
                .push("");
        }
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// GETs `url` through the cache of `class`.
    pub(super) async fn get(&self, url: Url, class: CacheClass) -> Result<Arc<Raw>, SentryError> {
        let cache = match class {
            CacheClass::Short => &self.short,
            CacheClass::Long => &self.long,
            CacheClass::None => return self.fetch(&url).await.map(Arc::new),
        };
        let name = match class {
            CacheClass::Long => "sentry_events",
            _ => "sentry_lists",
        };
        let filled = std::sync::atomic::AtomicBool::new(false);
        let result = cache
            .try_get_with(url.to_string(), async {
                filled.store(true, std::sync::atomic::Ordering::Relaxed);
                let raw = self.fetch(&url).await?;
                crate::connectors::telemetry::cache_filled(name, raw.body.len());
                Ok(Arc::new(raw))
            })
            .await
            .map_err(|e: Arc<SentryError>| (*e).clone());
        crate::connectors::telemetry::cache_lookup(
            name,
            !filled.load(std::sync::atomic::Ordering::Relaxed),
        );
        result
    }

    /// Waits for, or refuses, a request whose endpoint window is exhausted.
    async fn respect_window(&self, path: &str) -> Result<(), SentryError> {
        let key = endpoint_key(path);
        let window = self
            .windows
            .lock()
            .map(|w| w.get(&key).copied())
            .unwrap_or(None);
        if let Some(w) = window {
            if w.remaining == 0 {
                let wait = w.reset_epoch_s as f64 - now_epoch_s();
                if wait > 0.0 {
                    self.wait_or_fail(path, wait).await?;
                }
            }
        }
        Ok(())
    }

    async fn wait_or_fail(&self, path: &str, wait_s: f64) -> Result<(), SentryError> {
        let wait = Duration::from_secs_f64(wait_s.max(0.0));
        if wait <= self.max_wait {
            tracing::info!(
                path,
                wait_ms = wait.as_millis() as u64,
                "Sentry rate limit: waiting for the window to reset"
            );
            tokio::time::sleep(wait).await;
            Ok(())
        } else {
            Err(SentryError::RateLimited {
                path: path.to_owned(),
                retry_in_s: wait_s.ceil() as u64,
            })
        }
    }

    fn note_window(&self, path: &str, headers: &header::HeaderMap) {
        let num = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        if let (Some(remaining), Some(reset)) = (
            num("x-sentry-rate-limit-remaining"),
            num("x-sentry-rate-limit-reset"),
        ) {
            if let Ok(mut w) = self.windows.lock() {
                w.insert(
                    endpoint_key(path),
                    Window {
                        remaining: remaining.max(0.0) as u64,
                        reset_epoch_s: reset.max(0.0).ceil() as u64,
                    },
                );
            }
        }
    }

    /// Seconds to wait after a 429: `Retry-After`, else `X-Sentry-Rate-Limit-Reset`, else a minute.
    fn retry_wait(headers: &header::HeaderMap) -> f64 {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        if let Some(s) = get("retry-after") {
            return s.max(0.0);
        }
        if let Some(reset) = get("x-sentry-rate-limit-reset") {
            return (reset - now_epoch_s()).max(0.0);
        }
        60.0
    }

    async fn fetch(&self, url: &Url) -> Result<Raw, SentryError> {
        let started = std::time::Instant::now();
        let result = self.fetch_uncounted(url).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(SentryError::RateLimited { .. }) => "rate_limited",
            Err(SentryError::Timeout { .. }) => "timeout",
            Err(SentryError::Connect { .. }) => "connect",
            Err(SentryError::Status { status, .. }) => {
                crate::connectors::telemetry::status_outcome(*status)
            }
            Err(
                SentryError::Unauthorized { .. }
                | SentryError::Forbidden { .. }
                | SentryError::MissingScopes { .. }
                | SentryError::NotFound { .. },
            ) => "4xx",
            Err(_) => "error",
        };
        crate::connectors::telemetry::upstream_call("sentry", outcome, started.elapsed());
        result
    }

    async fn fetch_uncounted(&self, url: &Url) -> Result<Raw, SentryError> {
        let path = url.path().to_owned();
        let token = self.token.expose_secret();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.respect_window(&path).await?;
            self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::debug!(path, "GET Sentry");
            let sent = self
                .http
                .get(url.clone())
                .bearer_auth(token)
                .header(header::ACCEPT, "application/json")
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                // A pooled connection the server closed while idle ("connection closed before
                // message completed"): a GET is safe to send once more, on a new connection.
                Err(e) if attempt == 1 && !e.is_timeout() && !e.is_connect() => {
                    tracing::debug!(path, error = %e, "Sentry request failed on a reused connection; retrying once");
                    continue;
                }
                Err(e) => return Err(self.transport_error(&path, e)),
            };
            self.note_window(&path, resp.headers());
            let status = resp.status();
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = Self::retry_wait(resp.headers());
                if attempt >= 3 {
                    return Err(SentryError::RateLimited {
                        path,
                        retry_in_s: wait.ceil().max(1.0) as u64,
                    });
                }
                self.wait_or_fail(&path, wait).await?;
                continue;
            }
            let link = resp
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = self.read_capped(&path, resp).await?;
            if !status.is_success() {
                return Err(self.status_error(path, status, &body));
            }
            // Malformed JSON is an error here, so it is never cached.
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&body) {
                return Err(SentryError::Decode {
                    path,
                    message: format!("not JSON: {e}"),
                });
            }
            return Ok(Raw {
                body,
                next_cursor: link.as_deref().and_then(next_cursor),
            });
        }
    }

    async fn read_capped(
        &self,
        path: &str,
        mut resp: reqwest::Response,
    ) -> Result<Vec<u8>, SentryError> {
        let too_large = || SentryError::TooLarge {
            path: path.to_owned(),
            limit: self.max_body,
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(path, e))?
        {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, path: &str, e: reqwest::Error) -> SentryError {
        if e.is_timeout() {
            return SentryError::Timeout {
                path: path.to_owned(),
                after_ms: u64::try_from(self.timeout.as_millis()).unwrap_or(u64::MAX),
            };
        }
        let e = e.without_url();
        let mut message = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        let token = self.token.expose_secret();
        if !token.is_empty() {
            message = message.replace(token, "[redacted]");
        }
        SentryError::Connect {
            path: path.to_owned(),
            message,
        }
    }

    fn status_error(&self, path: String, status: StatusCode, body: &[u8]) -> SentryError {
        let detail = detail(body, self.token.expose_secret());
        match status {
            StatusCode::UNAUTHORIZED => SentryError::Unauthorized {
                path,
                detail,
                token_url: self.token_url(),
            },
            StatusCode::FORBIDDEN => SentryError::Forbidden {
                scope: scope_for(&path),
                path,
                detail,
                token_url: self.token_url(),
            },
            StatusCode::NOT_FOUND => SentryError::NotFound { path, detail },
            _ => SentryError::Status {
                path,
                status: status.as_u16(),
                detail,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_follows_next_only_with_results() {
        let h = r#"<https://sentry.io/api/0/organizations/acme/issues/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/organizations/acme/issues/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0""#;
        assert_eq!(next_cursor(h).as_deref(), Some("0:100:0"));
        let last = h.replace(r#"results="true""#, r#"results="false""#);
        assert_eq!(next_cursor(&last), None);
        let no_cursor_param = r#"<https://x/api/0/?cursor=9:1:0>; rel="next"; results="true""#;
        assert_eq!(next_cursor(no_cursor_param).as_deref(), Some("9:1:0"));
    }

    #[test]
    fn endpoint_keys_and_scopes() {
        assert_eq!(
            endpoint_key("/api/0/projects/acme/shop/events/d16af5b2a92045b69b74581fc624615c/"),
            "/api/0/projects/acme/shop/events/{id}/"
        );
        assert_eq!(
            scope_for("/api/0/projects/acme/shop/events/x/"),
            "project:read"
        );
        assert_eq!(scope_for("/api/0/organizations/acme/issues/"), "event:read");
        assert_eq!(
            scope_for("/api/0/organizations/acme/eventids/x/"),
            "org:read"
        );
    }

    #[test]
    fn detail_reads_string_and_object_bodies_and_redacts() {
        assert_eq!(detail(br#""slow down""#, "tok"), "\"slow down\"");
        assert_eq!(
            detail(br#"{"detail":"bad tok here"}"#, "tok"),
            "\"bad [redacted] here\""
        );
        assert_eq!(detail(b"", "tok"), "\"(empty body)\"");
    }
}
