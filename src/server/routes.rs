//! The server's own HTTP endpoints (`/healthz`, `/readyz`) and the layers every route goes through
//! (compression, request tracing, then the auth layer last so it covers everything). The whole
//! router — pages and server functions included — is assembled in `crate::app`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use super::auth::{require_auth, AuthPolicy};
use super::state::AppState;

/// `/healthz` and `/readyz`.
pub fn probes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Wraps a complete router in compression, request tracing and the auth layer (outermost).
pub fn with_layers(router: Router, state: &AppState) -> Router {
    let policy = AuthPolicy::new(&state.config.auth);
    router
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(policy, require_auth))
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    Json(super::ready::check(&state.data).await)
}
