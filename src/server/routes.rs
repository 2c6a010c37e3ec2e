//! The router: pages, server functions, assets, `/healthz`, `/readyz`, all behind the auth layer.

use axum::extract::{Path, State};
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
        .route("/api/export/{trace_id}", get(export))
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
    Json(super::ready::check(&state.data).await)
}

/// The joined timeline of one trace as JSON: the CLI's report plus the Sentry events of the trace.
async fn export(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
) -> axum::response::Response {
    let id = match trace_id
        .trim()
        .to_ascii_lowercase()
        .parse::<crate::domain::TraceId>()
    {
        Ok(id) => id,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("`{trace_id}` is not a trace id: {e}\n"),
            )
                .into_response();
        }
    };
    let loaded = match state.data.timeline(id, None).await {
        Ok(l) => l,
        Err(e) => {
            let status = match e {
                crate::api::AppError::NotFound(_) => StatusCode::NOT_FOUND,
                crate::api::AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
                _ => StatusCode::BAD_GATEWAY,
            };
            return (status, format!("{e}\n")).into_response();
        }
    };
    let c = &loaded.correlation;
    let Some(tl) = loaded.timeline() else {
        return (StatusCode::NOT_FOUND, format!("trace {id} not found\n")).into_response();
    };
    let one = crate::correlate::Correlation {
        timelines: vec![tl.clone()],
        unplaced: Vec::new(),
        events: c.events.clone(),
    };
    let mut report = crate::correlate::report::to_json(&one);
    let mine: Vec<&crate::domain::ErrorEvent> = tl
        .pins
        .iter()
        .map(|p| p.event)
        .chain(tl.unplaced.iter().map(|u| u.event))
        .filter_map(|i| c.events.get(i))
        .collect();
    if let Some(obj) = report.as_object_mut() {
        obj.insert(
            "events".into(),
            serde_json::to_value(mine).unwrap_or_default(),
        );
    }
    let mut res = Json(report).into_response();
    if let Ok(v) =
        axum::http::HeaderValue::from_str(&format!("attachment; filename=\"tracepin-{id}.json\""))
    {
        res.headers_mut()
            .insert(axum::http::header::CONTENT_DISPOSITION, v);
    }
    res
}
