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
        .route("/event/{event_id}", get(event_link))
        .route("/lookup", get(lookup))
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

/// `/event/{event_id}`: a stable link (e.g. from Sentry) that opens the event on its trace.
async fn event_link(
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> axum::response::Response {
    let compact: String = event_id.trim().chars().filter(|c| *c != '-').collect();
    let Ok(id) = compact
        .to_ascii_lowercase()
        .parse::<crate::domain::EventId>()
    else {
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "`{}` is not a Sentry event id: 32 hex digits, dashes allowed.\n",
                event_id.chars().take(80).collect::<String>()
            ),
        )
            .into_response();
    };
    match state.data.find_event(id).await {
        Ok(Some((_, Some(trace)))) => {
            axum::response::Redirect::to(&format!("/trace/{trace}?v=1&event={id}")).into_response()
        }
        Ok(Some((e, None))) => (
            StatusCode::NOT_FOUND,
            format!(
                "Event {id} ({}) carries no trace id, so it cannot be placed on a trace.\n",
                e.title
            ),
        )
            .into_response(),
        Ok(None) => (
            StatusCode::NOT_FOUND,
            format!(
                "Event {id} was not found. Looked in: {}.\n",
                state.data.source()
            ),
        )
            .into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, format!("{e}\n")).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct LookupQuery {
    #[serde(default)]
    q: String,
}

/// What a pasted text names, for the first version of the lookup box: a trace id (32 hex, or 16 for
/// Jaeger), a W3C `traceparent` or a `sentry-trace` header value, or an event id. URLs and short ids are
/// not recognised yet.
fn recognise(q: &str) -> Option<(String, Option<String>)> {
    let t = q
        .trim()
        .trim_matches(|c: char| c == '"' || c == '\'' || c == '<' || c == '>' || c.is_whitespace());
    let t = t
        .strip_prefix("traceparent:")
        .or_else(|| t.strip_prefix("sentry-trace:"))
        .unwrap_or(t)
        .trim();
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = t.split('-').collect();
    match parts.as_slice() {
        // traceparent: 00-<trace>-<span>-<flags>
        [v, trace, span, flags]
            if hex(v, 2) && hex(trace, 32) && hex(span, 16) && hex(flags, 2) =>
        {
            Some((trace.to_ascii_lowercase(), Some(span.to_ascii_lowercase())))
        }
        // sentry-trace: <trace>-<span>[-<sampled>]
        [trace, span] if hex(trace, 32) && hex(span, 16) => {
            Some((trace.to_ascii_lowercase(), Some(span.to_ascii_lowercase())))
        }
        [trace, span, s] if hex(trace, 32) && hex(span, 16) && (*s == "0" || *s == "1") => {
            Some((trace.to_ascii_lowercase(), Some(span.to_ascii_lowercase())))
        }
        _ => {
            let compact: String = t.chars().filter(|c| *c != '-').collect();
            if hex(&compact, 32) {
                Some((compact.to_ascii_lowercase(), None))
            } else if hex(&compact, 16) {
                Some((format!("{:0>32}", compact.to_ascii_lowercase()), None))
            } else {
                None
            }
        }
    }
}

/// `/lookup?q=…`: opens what a pasted id names, or says which forms are accepted.
async fn lookup(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<LookupQuery>,
) -> axum::response::Response {
    let Some((id, span)) = recognise(&q.q) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::response::Html(format!(
                "<!DOCTYPE html><meta charset=utf-8><title>tracepin: not recognised</title>\
                 <p>tracepin did not recognise <code>{}</code>.</p>\
                 <p>Accepted: a trace id (32 hex digits, or 16 for Jaeger), a W3C <code>traceparent</code> \
                 (<code>00-&lt;trace&gt;-&lt;span&gt;-01</code>), a <code>sentry-trace</code> value \
                 (<code>&lt;trace&gt;-&lt;span&gt;-1</code>) or a Sentry event id (32 hex, dashes allowed).</p>\
                 <p><a href=\"/\">Back to the overview</a></p>",
                html_escape(&q.q.chars().take(200).collect::<String>())
            )),
        )
            .into_response();
    };
    if let Some(span) = span {
        return axum::response::Redirect::to(&format!("/trace/{id}?v=1&span={span}"))
            .into_response();
    }
    // 32 hex is a trace id or a Sentry event id: an event that is known wins, else the trace.
    if let Ok(event_id) = id.parse::<crate::domain::EventId>() {
        if let Ok(Some((_, Some(trace)))) = state.data.find_event(event_id).await {
            return axum::response::Redirect::to(&format!("/trace/{trace}?v=1&event={event_id}"))
                .into_response();
        }
    }
    axum::response::Redirect::to(&format!("/trace/{id}")).into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
