//! `GET /api/export/{trace_id}`: the joined timeline of one trace as JSON, the CLI's report plus the
//! Sentry events of the trace, as a download.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::AppError;
use crate::domain::trace_id_lenient;
use crate::server::AppState;

/// `?snap=<id>`: export the frozen copy of a snapshot instead of asking the upstreams.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ExportQuery {
    /// The snapshot id.
    #[serde(default)]
    pub snap: Option<String>,
}

/// The handler.
pub async fn export(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ExportQuery>,
) -> Response {
    match joined(&state, &trace_id, q.snap.as_deref()).await {
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
    snap: Option<&str>,
) -> Result<(crate::domain::TraceId, serde_json::Value), AppError> {
    let id = trace_id_lenient(raw).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let l = match snap {
        Some(s) => {
            let l = super::snapshots::loaded(state, s).await?;
            if l.timeline.trace.trace_id != id {
                return Err(AppError::NotFound(
                    "That snapshot is of another trace.".into(),
                ));
            }
            l
        }
        None => state.data.timeline(id, None).await?,
    };
    Ok((
        id,
        crate::view::timeline::export_json(&l.timeline, &l.events),
    ))
}
