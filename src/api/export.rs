//! `GET /api/export/{trace_id}`: the joined timeline of one trace as JSON, the CLI's report plus the
//! Sentry events of the trace, as a download.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AppError;
use crate::domain::trace_id_lenient;
use crate::server::AppState;

/// The handler.
pub async fn export(State(state): State<AppState>, Path(trace_id): Path<String>) -> Response {
    match joined(&state, &trace_id).await {
        Ok((id, json)) => {
            let mut res = Json(json).into_response();
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"tracepin-{id}.json\""))
            {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(e) => (
            StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY),
            format!("{e}\n"),
        )
            .into_response(),
    }
}

async fn joined(
    state: &AppState,
    raw: &str,
) -> Result<(crate::domain::TraceId, serde_json::Value), AppError> {
    let id = trace_id_lenient(raw).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let l = state.data.timeline(id, None).await?;
    Ok((
        id,
        crate::view::timeline::export_json(&l.timeline, &l.events),
    ))
}
