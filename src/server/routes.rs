//! The router: pages, server functions, assets, `/healthz`, `/readyz`, all behind the auth layer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use super::auth::{require_auth, AuthPolicy};
use super::state::AppState;
use crate::ui::{shell, App};

/// Builds the complete application router for a state. Tests drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let policy = AuthPolicy::new(&state.config.auth);
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .leptos_routes(&state, routes, {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(policy, require_auth))
}

async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.readiness.check().await)
}
