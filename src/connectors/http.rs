//! Shared HTTP client for upstream calls (Tempo, Jaeger, Sentry): one place for timeouts, retries,
//! a streaming response-size cap and per-call tracing.
//!
//! [`HttpClient::get`] sends one GET, retrying connect errors and 5xx answers with jittered exponential
//! backoff (4xx and timeouts are never retried, and the whole call, retries included, ends within the
//! timeout), and reads the body chunk by chunk so a body
//! over the cap is abandoned without being buffered. Every call runs in a `tracing` span named
//! `upstream` with the upstream's name, the URL path, the status and the duration. Header values passed
//! as secret are marked sensitive; neither they nor the query string appear in logs or errors
//! ([`HttpError`] carries the path only).

use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing::Instrument;

/// Client-wide settings; every field has a sensible default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (headers and body).
    pub timeout: Duration,
    /// Largest body read, in bytes.
    pub max_body_bytes: u64,
    /// Attempts in all for connect errors and 5xx answers (1 = no retry).
    pub max_attempts: u32,
    /// Base of the exponential backoff between attempts (jittered ±50 %).
    pub backoff: Duration,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_body_bytes: 256 * 1024 * 1024,
            max_attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// One upstream's HTTP client: a base URL, fixed headers and [`HttpOptions`].
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    upstream: String,
    base: reqwest::Url,
    headers: HeaderMap,
    options: HttpOptions,
    secrets: std::sync::Arc<[String]>,
}

/// Where [`HttpClient::get_streamed`] sends a body's chunks.
pub type BodyChunks = tokio::sync::mpsc::Sender<bytes::Bytes>;

/// A complete (size-capped) response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status.
    pub status: reqwest::StatusCode,
    /// `Content-Type` without parameters, lowercase (empty when absent).
    pub content_type: String,
    /// The body (empty when it was streamed: see [`HttpClient::get_streamed`]).
    pub body: Vec<u8>,
    /// True when the body went to a stream as it arrived instead of into [`HttpResponse::body`].
    pub streamed: bool,
    /// Secret header values sent with the request (and their credentials without the scheme), blanked
    /// out of every excerpt: an upstream that echoes the request in an error body must not leak them.
    pub secrets: std::sync::Arc<[String]>,
}

impl HttpResponse {
    /// The start of the body as text, for error messages (at most `max` characters, one line).
    pub fn excerpt(&self, max: usize) -> String {
        let mut text = String::from_utf8_lossy(&self.body).into_owned();
        for secret in self.secrets.iter() {
            text = text.replace(secret.as_str(), "[redacted]");
        }
        let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if one_line.chars().count() > max {
            let cut: String = one_line.chars().take(max).collect();
            format!("{cut}…")
        } else {
            one_line
        }
    }
}

/// Why a call produced no response. Messages name the upstream and the path, never a header or query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The configured base URL or a header is unusable.
    #[error("{upstream}: {message}")]
    Config {
        /// Upstream name.
        upstream: String,
        /// What is wrong.
        message: String,
    },
    /// No answer in time.
    #[error("{upstream}: GET {path} timed out after {} ms", .after.as_millis())]
    Timeout {
        /// Upstream name.
        upstream: String,
        /// URL path.
        path: String,
        /// The timeout that expired.
        after: Duration,
    },
    /// The connection could not be made.
    #[error("{upstream}: cannot connect to {host} for GET {path}: {message}")]
    Connect {
        /// Upstream name.
        upstream: String,
        /// `host:port` (no credentials).
        host: String,
        /// URL path.
        path: String,
        /// The cause.
        message: String,
    },
    /// The body is larger than the cap.
    #[error("{upstream}: the answer to GET {path} is larger than {} MB", .max_bytes / (1024 * 1024))]
    TooLarge {
        /// Upstream name.
        upstream: String,
        /// URL path.
        path: String,
        /// The cap in bytes.
        max_bytes: u64,
    },
    /// The connection broke while the body was read (truncated answer).
    #[error("{upstream}: the answer to GET {path} was cut off: {message}")]
    Body {
        /// Upstream name.
        upstream: String,
        /// URL path.
        path: String,
        /// The cause.
        message: String,
    },
}

impl HttpClient {
    /// Builds a client for `base_url`. Fixed headers are `(name, value, secret)`; secret values are
    /// marked sensitive. Fails with a message that names the upstream (never a header value).
    pub fn new(
        upstream: &str,
        base_url: &str,
        headers: &[(&str, &str, bool)],
        options: HttpOptions,
    ) -> Result<Self, HttpError> {
        let config_err = |message: String| HttpError::Config {
            upstream: upstream.to_owned(),
            message,
        };
        let mut base = reqwest::Url::parse(base_url.trim())
            .map_err(|e| config_err(format!("invalid base URL: {e}")))?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let mut map = HeaderMap::new();
        let mut secrets: Vec<String> = Vec::new();
        for (name, value, secret) in headers {
            if *secret {
                let value = value.trim();
                secrets.push(value.to_owned());
                // `Bearer abc` → also `abc`; `Basic dXNlcjpwYXNz` → also the encoded pair.
                if let Some((_, credentials)) = value.split_once(' ') {
                    secrets.push(credentials.trim().to_owned());
                }
            }
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| config_err(format!("invalid header name `{name}`")))?;
            let mut value = HeaderValue::from_str(value.trim())
                .map_err(|_| config_err(format!("the value of header `{name}` is not valid")))?;
            value.set_sensitive(*secret);
            map.insert(name, value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .gzip(true)
            .user_agent(concat!("tracepin/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_err(format!("cannot build the HTTP client: {}", chain(&e))))?;
        Ok(Self {
            client,
            upstream: upstream.to_owned(),
            base,
            headers: map,
            options,
            secrets: secrets
                .into_iter()
                .filter(|s| s.len() >= 4)
                .collect::<Vec<_>>()
                .into(),
        })
    }

    /// The upstream name given at construction.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The options in force.
    pub fn options(&self) -> HttpOptions {
        self.options
    }

    /// `host:port` of the base URL, without credentials, for messages.
    pub fn host(&self) -> String {
        match (self.base.host_str(), self.base.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => "?".to_owned(),
        }
    }

    /// GET `path` (relative to the base URL; a leading `/` is allowed) with query pairs and an `Accept`
    /// header. Retries connect errors and 5xx; returns the last answer whatever its status.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
    ) -> Result<HttpResponse, HttpError> {
        self.get_inner(path, query, accept, None).await
    }

    /// [`HttpClient::get`], but a successful (200) JSON answer's body is sent to `to` chunk by chunk
    /// as it arrives (and [`HttpResponse::streamed`] is set) instead of being collected: a large trace
    /// is decoded while it downloads, and never held whole. Any other answer is collected as by `get`.
    /// The body cap and the timeout apply as for `get`; `to` is dropped when the call returns, which
    /// ends the stream. A receiver that stops early ends the download.
    pub async fn get_streamed(
        &self,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
        to: BodyChunks,
    ) -> Result<HttpResponse, HttpError> {
        self.get_inner(path, query, accept, Some(&to)).await
    }

    async fn get_inner(
        &self,
        path: &str,
        query: &[(&str, String)],
        accept: &str,
        to: Option<&BodyChunks>,
    ) -> Result<HttpResponse, HttpError> {
        let full_path = format!(
            "{}{}",
            self.base.path().trim_end_matches('/'),
            if path.starts_with('/') {
                path.to_owned()
            } else {
                format!("/{path}")
            }
        );
        let mut url = self.base.clone();
        url.set_path(&full_path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let span = tracing::info_span!(
            "upstream",
            upstream = %self.upstream,
            path = %full_path,
            status = tracing::field::Empty,
            attempts = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let result = self
            .get_with_retries(&url, &full_path, accept, to)
            .instrument(span.clone())
            .await;
        span.record(
            "elapsed_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        crate::connectors::telemetry::upstream_call(
            &self.upstream,
            match &result {
                Ok((resp, _)) => crate::connectors::telemetry::status_outcome(resp.status.as_u16()),
                Err(HttpError::Timeout { .. }) => "timeout",
                Err(HttpError::Connect { .. }) => "connect",
                Err(_) => "error",
            },
            started.elapsed(),
        );
        match &result {
            Ok((resp, attempts)) => {
                span.record("status", resp.status.as_u16());
                span.record("attempts", attempts);
                tracing::debug!(parent: &span, bytes = resp.body.len(), "upstream answered");
            }
            Err(e) => {
                span.record("status", "error");
                tracing::debug!(parent: &span, error = %e, "upstream call failed");
            }
        }
        result.map(|(r, _)| r)
    }

    /// Sends the request, retrying connect errors and 5xx answers, all within one budget: the whole
    /// call, retries and backoff included, ends by `options.timeout`. A timed-out attempt has used the
    /// budget up, so it is never retried; a retry is only started when its backoff leaves time for it.
    async fn get_with_retries(
        &self,
        url: &reqwest::Url,
        path: &str,
        accept: &str,
        to: Option<&BodyChunks>,
    ) -> Result<(HttpResponse, u32), HttpError> {
        let max_attempts = self.options.max_attempts.max(1);
        let budget = self.options.timeout;
        let deadline = Instant::now() + budget;
        let timed_out = || HttpError::Timeout {
            upstream: self.upstream.clone(),
            path: path.to_owned(),
            after: budget,
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            let outcome =
                match tokio::time::timeout(left, self.get_once(url, path, accept, to)).await {
                    Ok(o) => o,
                    Err(_) => Err(timed_out()),
                };
            let retry = match &outcome {
                Ok(resp) => resp.status.is_server_error(),
                Err(HttpError::Connect { .. }) => true,
                Err(_) => false,
            };
            if !retry || attempt >= max_attempts {
                return outcome.map(|r| (r, attempt)).map_err(|e| match e {
                    HttpError::Timeout { .. } => timed_out(),
                    e => e,
                });
            }
            let base = self
                .options
                .backoff
                .saturating_mul(1u32 << (attempt - 1).min(8));
            let base_ms = u64::try_from(base.as_millis()).unwrap_or(u64::MAX);
            let jittered = Duration::from_millis(
                rand::rng().random_range(base_ms / 2..=base_ms.saturating_add(base_ms / 2)),
            );
            if Instant::now() + jittered >= deadline {
                // No time left for another attempt: the last answer stands.
                return outcome.map(|r| (r, attempt));
            }
            tracing::debug!(attempt, wait_ms = %jittered.as_millis(), "retrying upstream call");
            tokio::time::sleep(jittered).await;
        }
    }

    async fn get_once(
        &self,
        url: &reqwest::Url,
        path: &str,
        accept: &str,
        to: Option<&BodyChunks>,
    ) -> Result<HttpResponse, HttpError> {
        let request = self
            .client
            .get(url.clone())
            .headers(self.headers.clone())
            .header(reqwest::header::ACCEPT, accept);
        let mut resp = request.send().await.map_err(|e| self.map_err(&e, path))?;
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let max = self.options.max_body_bytes;
        let too_large = || HttpError::TooLarge {
            upstream: self.upstream.clone(),
            path: path.to_owned(),
            max_bytes: max,
        };
        if resp.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        // Only a 200 answer that says it is JSON is streamed: without a content type it may be
        // protobuf.
        let stream_to =
            to.filter(|_| status == reqwest::StatusCode::OK && content_type.contains("json"));
        let capacity = match stream_to {
            Some(_) => 0,
            None => resp
                .content_length()
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(0),
        };
        let mut body = Vec::with_capacity(capacity);
        let mut read: u64 = 0;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    read = read.saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
                    if read > max {
                        return Err(too_large());
                    }
                    match stream_to {
                        Some(to) => {
                            if to.send(chunk).await.is_err() {
                                // The reader stopped (it met an error it will report): stop here.
                                break;
                            }
                        }
                        None => body.extend_from_slice(&chunk),
                    }
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(self.map_err(&e, path)),
                Err(e) => {
                    return Err(HttpError::Body {
                        upstream: self.upstream.clone(),
                        path: path.to_owned(),
                        message: chain(&e),
                    })
                }
            }
        }
        Ok(HttpResponse {
            secrets: self.secrets.clone(),
            status,
            content_type,
            body,
            streamed: stream_to.is_some(),
        })
    }

    fn map_err(&self, e: &reqwest::Error, path: &str) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout {
                upstream: self.upstream.clone(),
                path: path.to_owned(),
                after: self.options.timeout,
            }
        } else if e.is_connect() {
            HttpError::Connect {
                upstream: self.upstream.clone(),
                host: self.host(),
                path: path.to_owned(),
                message: chain(e),
            }
        } else {
            HttpError::Body {
                upstream: self.upstream.clone(),
                path: path.to_owned(),
                message: chain(e),
            }
        }
    }
}

/// The error and its causes, without the URL (which could carry a query string).
fn chain(e: &reqwest::Error) -> String {
    let mut parts = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    if parts.is_empty() {
        // reqwest's own Display names the URL; describe the kind instead.
        parts.push(if e.is_body() || e.is_decode() {
            "the body could not be read".to_owned()
        } else {
            "the request failed".to_owned()
        });
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_header_value_does_not_echo_it() {
        let err = HttpClient::new(
            "tempo",
            "http://127.0.0.1:1",
            &[("Authorization", "Bearer s3cr3t\u{7}", true)],
            HttpOptions::default(),
        )
        .expect_err("newline is invalid");
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }

    #[test]
    fn excerpt_is_one_short_line() {
        let r = HttpResponse {
            status: reqwest::StatusCode::OK,
            content_type: String::new(),
            body: b"line one\nline two   and more".to_vec(),
            streamed: false,
            secrets: Vec::new().into(),
        };
        assert_eq!(r.excerpt(12), "line one lin…");
        let echo = HttpResponse {
            status: reqwest::StatusCode::UNAUTHORIZED,
            content_type: String::new(),
            body: b"bad header Authorization: Bearer tok-123456 (tok-123456)".to_vec(),
            streamed: false,
            secrets: vec!["Bearer tok-123456".to_owned(), "tok-123456".to_owned()].into(),
        };
        assert_eq!(
            echo.excerpt(200),
            "bad header Authorization: [redacted] ([redacted])"
        );
    }
}
