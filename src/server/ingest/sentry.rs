//! Sentry SDK endpoints: `POST /api/{project_id}/envelope/`, the legacy `POST /api/{project_id}/store/`
//! and the Spotlight sidecar's `POST /stream`.
//!
//! Success is 200 with `{"id": "<first event id>"}`, plus what was dropped (attachments, sessions,
//! client reports: accepted and counted) and which items were rejected (one broken item never drops
//! its siblings). Failures are `{"detail": "…"}` with 400, 401/403, 413, 415, or 429/503 and
//! `Retry-After` (SDKs back off on both).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auth::{dsn_key, request_key};
use super::body::{self, BodyError};
use super::load::{self, IngestError, SentryBody};
use super::IngestState;
use crate::connectors::store::WriteError;

fn detail(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "detail": message }))).into_response()
}

fn retry_after(mut res: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// `POST /api/{project_id}/envelope/`.
pub(super) async fn envelope(
    State(s): State<IngestState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(s, Some(project), query, headers, body, SentryBody::Envelope).await
}

/// `POST /api/{project_id}/store/`: one event JSON.
pub(super) async fn store(
    State(s): State<IngestState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(s, Some(project), query, headers, body, SentryBody::Event).await
}

/// `POST /stream`: envelopes as the Spotlight sidecar takes them (`spotlight=True` in the SDK).
pub(super) async fn stream(
    State(s): State<IngestState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(s, None, query, headers, body, SentryBody::Envelope).await
}

async fn handle(
    s: IngestState,
    path_project: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
    kind: SentryBody,
) -> Response {
    let mut key = request_key(&headers, query.as_deref());
    // Refuse a missing or unknown header/query key before reading the body, when there is one.
    if let Some(k) = &key {
        if let Err(e) = s.auth.check(path_project.as_deref(), Some(k)) {
            return detail(e.status(), &e.to_string());
        }
    }
    let bytes = match body::read(&headers, body, s.max_body).await {
        Ok(b) => b,
        Err(BodyError { status, message }) => return detail(status, &message),
    };
    let batch = match load::decode_sentry(bytes, kind).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "Sentry body refused");
            return detail(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };
    if key.is_none() {
        key = batch.dsn.as_deref().and_then(dsn_key);
    }
    // The envelope's own DSN names the project when the URL does not (`/stream`).
    let dsn_project = batch
        .dsn
        .as_deref()
        .and_then(|d| d.rsplit('/').find(|p| !p.is_empty()))
        .filter(|p| !p.contains('@') && !p.contains(':'))
        .map(str::to_owned);
    let asked = path_project.or(dsn_project);
    let project = match s.auth.check(asked.as_deref(), key.as_deref()) {
        Ok(p) => p,
        Err(e) => return detail(e.status(), &e.to_string()),
    };
    let name = project
        .name
        .or_else(|| (kind == SentryBody::Envelope).then(|| "spotlight".to_owned()));
    match load::sentry(&s.store, batch, name.as_deref()).await {
        Ok(stored) => {
            s.stored(&stored.traces).await;
            if !stored.rejected.is_empty() {
                tracing::warn!(
                    rejected = stored.rejected.len(),
                    first = %stored.rejected[0],
                    "Sentry items rejected"
                );
            }
            let dropped: serde_json::Map<String, serde_json::Value> = stored
                .dropped
                .iter()
                .map(|(t, n)| (t.clone(), serde_json::Value::from(*n)))
                .collect();
            Json(serde_json::json!({
                "id": stored.first_event.map(|e| e.to_string()),
                "stored": {
                    "events": stored.report.events_new,
                    "events_already_stored": stored.report.events_existing,
                    "spans": stored.report.spans_new,
                    "spans_already_stored": stored.report.spans_existing,
                },
                "dropped": dropped,
                "rejected": stored.rejected,
            }))
            .into_response()
        }
        Err(IngestError::Store(e)) => {
            let secs = match &e {
                WriteError::Busy {
                    retry_after_secs, ..
                } => *retry_after_secs,
                WriteError::Unavailable(_) => 5,
            };
            let status = match e {
                WriteError::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
                WriteError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            };
            retry_after(detail(status, &e.to_string()), secs)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Sentry body refused");
            detail(StatusCode::BAD_REQUEST, &e.to_string())
        }
    }
}
