//! `GET /api/export/{trace_id}`: the joined timeline of one trace as JSON, the CLI's report plus the
//! Sentry events of the trace, as a download. With `?cmp=auto` (or trace ids) the comparison with
//! healthy traces is added under `"comparison"` (the CLI's `tracepin compare` JSON).

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
    /// Add the comparison with healthy traces: `auto` or trace ids.
    #[serde(default)]
    pub cmp: Option<String>,
}

/// The handler.
pub async fn export(
    State(state): State<AppState>,
    Path(trace_id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<ExportQuery>,
) -> Response {
    match joined(&state, &trace_id, q.snap.as_deref(), q.cmp.as_deref()).await {
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
    cmp: Option<&str>,
) -> Result<(crate::domain::TraceId, serde_json::Value), AppError> {
    let id = trace_id_lenient(raw).map_err(|e| AppError::BadRequest(e.to_string()))?;
    if let (Some(c), None) = (cmp.filter(|c| !c.is_empty()), snap) {
        let with = crate::view::state::CompareWith::parse(c).ok_or_else(|| {
            AppError::BadRequest(
                "cmp: `auto` or trace ids (32 hex digits) separated by commas.".into(),
            )
        })?;
        let c = state.data.compare(id, &with).await?;
        let mut json = crate::view::timeline::export_json(&c.loaded.timeline, &c.loaded.events);
        if let Some(obj) = json.as_object_mut() {
            let mut report = crate::correlate::compare::report::to_json(
                &c.loaded.timeline.trace,
                &c.comparison,
                &c.baseline_ids,
            );
            if let Some(r) = report.as_object_mut() {
                r.insert("searched".into(), serde_json::json!(c.view.searched));
                r.insert("problems".into(), serde_json::json!(c.view.problems));
            }
            obj.insert("comparison".into(), report);
        }
        return Ok((id, json));
    }
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
