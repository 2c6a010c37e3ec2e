//! Readiness: a probe of every configured upstream, reported by `/readyz` as JSON.
//!
//! Trace backends are probed by their connectors (Tempo `/api/echo`, Jaeger `/api/v3/services`, the
//! files directory) and Sentry by its token check (token valid, scopes sufficient, organization
//! visible). tracepin keeps serving whatever it can while an upstream is down, so `/readyz` answers 200
//! with `"status":"degraded"` and names the failing upstream; tokens never appear in the report.
//! A report is reused for 10 seconds (concurrent probes share one round), so a probe that polls
//! every second costs the upstreams one check per 10 s, not one per poll.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::data::DataStore;

/// One upstream's state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpstreamStatus {
    /// `sentry`, `tempo`, `jaeger` or `files`.
    pub kind: String,
    /// Configured name.
    pub name: String,
    /// `ok` or `error`.
    pub status: &'static str,
    /// What the upstream answered, for people.
    pub detail: String,
    /// Probe duration in milliseconds.
    pub elapsed_ms: u64,
}

/// The `/readyz` body.
#[derive(Debug, Clone, Serialize)]
pub struct ReadyReport {
    /// `ready` when every upstream answered, `degraded` otherwise.
    pub status: &'static str,
    /// Serving the built-in demo incident.
    pub demo: bool,
    /// Each configured upstream.
    pub upstreams: Vec<UpstreamStatus>,
    /// The local store and its retention limits, when it is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<StoreReport>,
}

/// The local store in `/readyz`.
#[derive(Debug, Clone, Serialize)]
pub struct StoreReport {
    /// The data directory.
    pub path: String,
    /// Data is kept this many hours after its trace last received anything.
    pub max_age_hours: u64,
    /// At most this many megabytes are kept (whole traces are evicted, oldest first).
    pub max_mb: u64,
    /// Megabytes counted now.
    pub stored_mb: f64,
    /// Spans and events waiting for the writer.
    pub queued: usize,
}

/// How long a readiness report is reused.
pub const READY_TTL: Duration = Duration::from_secs(10);

/// The last readiness report, shared by concurrent probes.
#[derive(Clone)]
pub struct ReadyCache {
    cache: moka::future::Cache<(), Arc<ReadyReport>>,
}

impl ReadyCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(1)
                .time_to_live(READY_TTL)
                .build(),
        }
    }

    /// The current report: reused if younger than [`READY_TTL`], else probed once for all callers.
    pub async fn get(&self, data: &DataStore) -> Arc<ReadyReport> {
        self.cache
            .get_with((), async { Arc::new(check(data).await) })
            .await
    }
}

impl Default for ReadyCache {
    fn default() -> Self {
        Self::new()
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Probes every upstream concurrently.
pub async fn check(data: &DataStore) -> ReadyReport {
    let started = Instant::now();
    let backends = async {
        match data.backends() {
            Some(b) => {
                let kinds: Vec<(String, &'static str)> = b
                    .backends()
                    .iter()
                    .map(|x| (x.name().to_owned(), x.kind().as_str()))
                    .collect();
                b.ready()
                    .await
                    .into_iter()
                    .map(|(name, r)| {
                        let kind = kinds
                            .iter()
                            .find(|(n, _)| *n == name)
                            .map_or("trace backend", |(_, k)| *k)
                            .to_owned();
                        let (status, detail) = match r {
                            Ok(d) => ("ok", d),
                            Err(e) => ("error", e),
                        };
                        UpstreamStatus {
                            kind,
                            name,
                            status,
                            detail,
                            elapsed_ms: elapsed_ms(started),
                        }
                    })
                    .collect()
            }
            None => Vec::new(),
        }
    };
    let sentry = async {
        let c = data.sentry()?;
        let (status, detail) = match c.check().await {
            Ok(t) => (
                "ok",
                match (t.org_name, t.scopes) {
                    (Some(o), Some(s)) => format!("token valid for {o}; scopes {}", s.join(" ")),
                    (Some(o), None) => format!("token valid for {o}"),
                    _ => "token valid".to_owned(),
                },
            ),
            Err(e) => ("error", e.to_string()),
        };
        Some(UpstreamStatus {
            kind: "sentry".into(),
            name: "sentry".into(),
            status,
            detail,
            elapsed_ms: elapsed_ms(started),
        })
    };
    let (mut upstreams, sentry): (Vec<UpstreamStatus>, Option<UpstreamStatus>) =
        tokio::join!(backends, sentry);
    upstreams.extend(sentry);
    let status = if upstreams.iter().all(|u| u.status == "ok") {
        "ready"
    } else {
        "degraded"
    };
    let store = data.store().map(|s| {
        let limits = s.limits();
        StoreReport {
            path: s.dir().display().to_string(),
            max_age_hours: limits.max_age.as_secs() / 3600,
            max_mb: limits.max_bytes / (1024 * 1024),
            stored_mb: (s.usage().0 as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0,
            queued: s.queued(),
        }
    });
    ReadyReport {
        status,
        demo: data.backends().is_none(),
        upstreams,
        store,
    }
}
