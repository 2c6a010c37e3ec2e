//! Ingest: tracepin as the collector. OTLP/HTTP traces and Sentry SDK traffic go into the local
//! store, which every page reads like any other trace backend and event source.
//!
//! Endpoints (all `POST`): `/v1/traces` (OTLP/HTTP, protobuf or JSON, gzip), Sentry's
//! `/api/{project_id}/envelope/`, the legacy `/api/{project_id}/store/`, Sentry's OTLP path
//! `/api/{project_id}/integration/otlp/v1/traces`, and the Spotlight sidecar's `/stream`. They form a
//! router of their own ([`router`]) that the application merges *outside* the dashboard's access
//! control: SDKs authenticate with DSN keys (`auth`), never with the dashboard's password.
//!
//! Answers follow each protocol: OTLP gets an `ExportTraceServiceResponse` (with `partial_success`
//! when spans were rejected) or a `google.rpc.Status`; Sentry gets `{"id": …}` or `{"detail": …}`.
//! A body over the size limit is a 413, one that does not decode a 400 naming what is wrong, a store
//! that is behind a 429 with `Retry-After`, a store that cannot write a 503 with `Retry-After`.
//! `load` holds what happens after HTTP (decode, store), shared with seeding and `tracepin import`.

mod auth;
mod body;
pub mod load;
mod otlp;
mod sentry;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::post;
use axum::Router;

pub use auth::{AuthError, DsnAuth, Project};

use super::config::Config;
use super::data::DataStore;
use super::state::AppState;
use crate::connectors::store::Store;

/// Default request body limit in MB.
pub const DEFAULT_MAX_BODY_MB: u64 = 20;

/// What the ingest handlers share.
#[derive(Clone)]
pub(crate) struct IngestState {
    store: Store,
    data: Arc<DataStore>,
    auth: Arc<DsnAuth>,
    /// Largest body read, in bytes.
    max_body: usize,
}

impl IngestState {
    fn new(state: &AppState) -> Option<IngestState> {
        let store = state.data.store()?.clone();
        let mb = state
            .config
            .ingest
            .max_body_mb
            .unwrap_or(DEFAULT_MAX_BODY_MB)
            .max(1);
        Some(IngestState {
            store,
            data: Arc::clone(&state.data),
            auth: Arc::new(DsnAuth::new(&state.config.ingest)),
            max_body: usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
        })
    }

    /// Drops cached timelines of traces that received data, so a reload shows it.
    async fn stored(&self, traces: &[crate::domain::TraceId]) {
        self.data.forget(traces).await;
    }
}

/// Every ingest endpoint; `None` when the local store is off.
pub fn router(state: &AppState) -> Option<Router> {
    let s = IngestState::new(state)?;
    Some(
        Router::new()
            .route("/v1/traces", post(otlp::traces))
            .route("/v1/traces/", post(otlp::traces))
            .route(
                "/api/{project_id}/integration/otlp/v1/traces",
                post(otlp::project_traces),
            )
            .route(
                "/api/{project_id}/integration/otlp/v1/traces/",
                post(otlp::project_traces),
            )
            .route("/api/{project_id}/envelope/", post(sentry::envelope))
            .route("/api/{project_id}/envelope", post(sentry::envelope))
            .route("/api/{project_id}/store/", post(sentry::store))
            .route("/api/{project_id}/store", post(sentry::store))
            .route("/stream", post(sentry::stream))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(s),
    )
}

/// `/v1/traces` alone, for the second OTLP address; `None` when the local store is off.
pub fn otlp_router(state: &AppState) -> Option<Router> {
    let s = IngestState::new(state)?;
    Some(
        Router::new()
            .route("/v1/traces", post(otlp::traces))
            .route("/v1/traces/", post(otlp::traces))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(s),
    )
}

/// Refuses to serve ingest on a non-loopback address without DSN keys: anyone who can reach the
/// address could write into the store.
pub fn startup_check(config: &Config, addrs: &[SocketAddr]) -> Result<(), String> {
    if config.store_dir().is_none() || config.ingest.has_keys() {
        return Ok(());
    }
    match addrs.iter().find(|a| !a.ip().is_loopback()) {
        Some(a) => Err(format!(
            "refusing to listen on {a} with ingest open: no DSN key is configured, so anyone who \
             can reach {a} could write into the local store. Set [ingest] keys (or \
             TRACEPIN_INGEST_KEYS), or listen on a loopback address such as 127.0.0.1"
        )),
        None => Ok(()),
    }
}

/// The lines printed at startup: where the store is, its limits, the DSN and OTLP endpoint to use.
/// Keys are never printed.
pub fn startup_lines(
    config: &Config,
    store: &Store,
    addr: SocketAddr,
    otlp: Option<SocketAddr>,
) -> Vec<String> {
    let project = config
        .ingest
        .projects
        .first()
        .map_or("1", |p| p.id.as_str());
    let base = format!("http://{addr}");
    let mut lines = vec![format!(
        "tracepin: local store in {} (keeps {})",
        store.dir().display(),
        store.limits().describe()
    )];
    if config.ingest.has_keys() {
        lines.push(format!(
            "tracepin: Sentry DSN      http://<key>@{addr}/{project}   (a key from [ingest])"
        ));
    } else {
        lines.push(format!(
            "tracepin: Sentry DSN      http://public@{addr}/{project}   (loopback and no [ingest] keys: any key is accepted)"
        ));
    }
    lines.push(format!(
        "tracepin: OTLP endpoint   {base}/v1/traces   (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; protobuf or JSON)"
    ));
    if let Some(o) = otlp {
        lines.push(format!(
            "tracepin: OTLP endpoint   http://{o}/v1/traces   (OTEL_EXPORTER_OTLP_ENDPOINT=http://{o})"
        ));
    }
    lines.push(format!(
        "tracepin: Spotlight       {base}/stream   (sentry_sdk.init(spotlight=\"{base}/stream\"))"
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_ingest_only_on_loopback() {
        let mut c = Config::default();
        c.store.path = Some("/tmp/x".into());
        let lo: SocketAddr = "127.0.0.1:3000".parse().expect("addr");
        let any: SocketAddr = "0.0.0.0:3000".parse().expect("addr");
        assert!(startup_check(&c, &[lo]).is_ok());
        let err = startup_check(&c, &[lo, any]).expect_err("refused");
        assert!(err.contains("no DSN key is configured"), "{err}");
        c.ingest.keys = vec![secrecy::SecretString::from("k")];
        assert!(startup_check(&c, &[any]).is_ok());
        let no_store = Config::default();
        assert!(startup_check(&no_store, &[any]).is_ok());
    }
}
