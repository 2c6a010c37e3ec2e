//! What connectors count for `/metrics`: upstream calls by upstream and outcome, with their
//! duration, and cache lookups by cache and result. Only names and small label sets go here —
//! never a URL, a query or a token — so the series stay few and nothing secret is exported.

use std::time::Duration;

/// Records one call to an upstream (its configured name: `sentry`, `tempo`, `jaeger-eu`…) and how it
/// ended: `ok`, an HTTP status class (`4xx`, `5xx`), `rate_limited`, `timeout`, `connect` or `error`.
pub fn upstream_call(upstream: &str, outcome: &'static str, took: Duration) {
    let upstream = upstream.to_owned();
    metrics::counter!("tracepin_upstream_requests_total", "upstream" => upstream.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("tracepin_upstream_request_duration_seconds", "upstream" => upstream)
        .record(took.as_secs_f64());
}

/// The outcome label for an HTTP status.
pub fn status_outcome(status: u16) -> &'static str {
    match status {
        200..=399 => "ok",
        429 => "rate_limited",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// Records a cache lookup: `hit` when the value was there (or being loaded by another caller).
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("tracepin_cache_requests_total", "cache" => cache, "result" => result)
        .increment(1);
}

/// Records bytes put into a cache when a miss was filled.
pub fn cache_filled(cache: &'static str, bytes: usize) {
    metrics::counter!("tracepin_cache_filled_bytes_total", "cache" => cache)
        .increment(u64::try_from(bytes).unwrap_or(u64::MAX));
}
