//! Readiness: a probe of every configured upstream, reported by `/readyz` as JSON.
//!
//! Probes are cheap, read-only calls (Tempo `/api/echo`, Jaeger `/api/v3/services`, Sentry's
//! organization endpoint with the token) with a short timeout. tracepin keeps serving whatever it can
//! while an upstream is down, so `/readyz` answers 200 with `"status":"degraded"` and names the failing
//! upstream; tokens never appear in the report.

use std::time::{Duration, Instant};

use secrecy::ExposeSecret;
use serde::Serialize;

use super::config::Config;

/// One upstream's state.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UpstreamStatus {
    /// `sentry`, `tempo`, `jaeger`, `files` or `demo`.
    pub kind: &'static str,
    /// Configured name.
    pub name: String,
    /// Base URL or directory (never a token).
    pub target: String,
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
}

enum Probe {
    Http {
        kind: &'static str,
        name: String,
        base: String,
        path: String,
        headers: Vec<(String, String)>,
    },
    Dir {
        name: String,
        dir: std::path::PathBuf,
    },
}

/// Knows how to probe the configured upstreams.
pub struct Readiness {
    probes: Vec<Probe>,
    demo: bool,
    client: reqwest::Client,
}

impl Readiness {
    /// Builds the probe list from the configuration.
    pub fn new(config: &Config) -> Self {
        let mut probes = Vec::new();
        let demo = config.uses_demo();
        if !config.demo {
            if let (Some(url), Some(org), Some(token)) =
                (&config.sentry.url, &config.sentry.org, &config.sentry.token)
            {
                probes.push(Probe::Http {
                    kind: "sentry",
                    name: "sentry".into(),
                    base: url.trim_end_matches('/').to_owned(),
                    path: format!("/api/0/organizations/{org}/"),
                    headers: vec![(
                        "Authorization".into(),
                        format!("Bearer {}", token.expose_secret()),
                    )],
                });
            }
            for t in &config.tempo {
                let prefix = t
                    .http_api_prefix
                    .as_deref()
                    .unwrap_or("")
                    .trim_end_matches('/');
                let mut headers = Vec::new();
                if let Some(tenant) = &t.tenant {
                    headers.push(("X-Scope-OrgID".into(), tenant.clone()));
                }
                if let Some(tok) = &t.token {
                    headers.push((
                        "Authorization".into(),
                        format!("Bearer {}", tok.expose_secret()),
                    ));
                }
                probes.push(Probe::Http {
                    kind: "tempo",
                    name: t.name.clone(),
                    base: t.url.trim_end_matches('/').to_owned(),
                    path: format!("{prefix}/api/echo"),
                    headers,
                });
            }
            for j in &config.jaeger {
                let headers = j
                    .authorization
                    .iter()
                    .map(|a| ("Authorization".to_owned(), a.expose_secret().to_owned()))
                    .collect();
                probes.push(Probe::Http {
                    kind: "jaeger",
                    name: j.name.clone(),
                    base: j.url.trim_end_matches('/').to_owned(),
                    path: "/api/v3/services".into(),
                    headers,
                });
            }
            if let Some(dir) = &config.files.dir {
                probes.push(Probe::Dir {
                    name: "files".into(),
                    dir: dir.clone(),
                });
            }
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(3))
            .user_agent(concat!("tracepin/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            probes,
            demo,
            client,
        }
    }

    /// Probes every upstream concurrently.
    pub async fn check(&self) -> ReadyReport {
        let futures = self.probes.iter().map(|p| self.probe(p));
        let upstreams: Vec<UpstreamStatus> = futures::future::join_all(futures).await;
        let status = if upstreams.iter().all(|u| u.status == "ok") {
            "ready"
        } else {
            "degraded"
        };
        ReadyReport {
            status,
            demo: self.demo,
            upstreams,
        }
    }

    async fn probe(&self, p: &Probe) -> UpstreamStatus {
        let started = Instant::now();
        match p {
            Probe::Dir { name, dir } => {
                let (status, detail) = match std::fs::read_dir(dir) {
                    Ok(rd) => ("ok", format!("{} entries", rd.count())),
                    Err(e) => ("error", format!("cannot read directory: {e}")),
                };
                UpstreamStatus {
                    kind: "files",
                    name: name.clone(),
                    target: dir.display().to_string(),
                    status,
                    detail,
                    elapsed_ms: elapsed_ms(started),
                }
            }
            Probe::Http {
                kind,
                name,
                base,
                path,
                headers,
            } => {
                let mut req = self.client.get(format!("{base}{path}"));
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let (status, detail) = match req.send().await {
                    Ok(res) if res.status().is_success() => {
                        ("ok", format!("GET {path} answered {}", res.status()))
                    }
                    Ok(res) => {
                        let hint = match res.status().as_u16() {
                            401 => " (token missing or invalid)",
                            403 => " (token lacks a scope: org:read, project:read and event:read are needed)",
                            _ => "",
                        };
                        (
                            "error",
                            format!("GET {path} answered {}{hint}", res.status()),
                        )
                    }
                    Err(e) if e.is_timeout() => ("error", format!("GET {path} timed out")),
                    Err(e) if e.is_connect() => ("error", format!("GET {path}: connection failed")),
                    Err(_) => ("error", format!("GET {path} failed")),
                };
                UpstreamStatus {
                    kind,
                    name: name.clone(),
                    target: base.clone(),
                    status,
                    detail,
                    elapsed_ms: elapsed_ms(started),
                }
            }
        }
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
