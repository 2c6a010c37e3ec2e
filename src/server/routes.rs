//! The server's own HTTP endpoints (`/healthz`, `/readyz`, `/metrics`) and the layers every route goes
//! through: compression, request tracing, request metrics, a request timeout and a body read timeout,
//! then the auth layer so it covers everything, and outermost the host check and the security headers
//! (so even a 401 or a 421 carries them). The whole router — pages and server functions included — is
//! assembled in `crate::app`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};
use tower_http::trace::TraceLayer;

use super::auth::{require_auth, AuthPolicy};
use super::headers::{security_headers, HostPolicy};
use super::state::AppState;

/// `/healthz`, `/readyz` and `/metrics`.
pub fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(super::metrics::render))
}

/// Wraps a complete router in the layers every route goes through (see the module doc).
pub fn with_layers(router: Router, state: &AppState) -> Router {
    // Install the recorder before the first request is counted.
    let _ = super::metrics::handle();
    let policy = AuthPolicy::new(&state.config.auth);
    let server = &state.config.server;
    let hosts = Arc::new(HostPolicy::new(
        server.allowed_hosts.as_deref(),
        server.public_url.as_deref(),
        state.leptos_options.site_addr.ip().is_loopback(),
    ));
    router
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(super::metrics::track))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            server.request_timeout(),
        ))
        .layer(RequestBodyTimeoutLayer::new(server.body_timeout()))
        .layer(axum::middleware::from_fn_with_state(policy, require_auth))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            security_headers,
        ))
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.ready.get(&state.data).await.as_ref().clone())
}
