//! Snapshot server functions (freeze, open, list, delete, annotate) and the file export/import
//! handlers. Thin like the rest of `api`: the server's `SnapshotService` does the work.

use leptos::prelude::*;

use super::AppError;
use crate::domain::TraceId;
use crate::view::state::ViewState;
use crate::view::types::{Annotation, SnapshotMeta, SnapshotPage};

#[cfg(feature = "ssr")]
mod on_server {
    use std::sync::Arc;

    use super::AppError;
    use crate::server::snapshots::SnapshotService;
    use crate::server::{AppState, Loaded};

    pub fn service(st: &AppState) -> Result<Arc<SnapshotService>, AppError> {
        st.snapshots.clone().ok_or_else(|| {
            AppError::NotFound(
                "Snapshots need a data directory: set [store] path, TRACEPIN_DATA or --data."
                    .into(),
            )
        })
    }

    pub fn not_found(id: &str) -> AppError {
        AppError::NotFound(format!(
            "There is no snapshot `{}` (it may have expired or been deleted).",
            id.chars().take(40).collect::<String>()
        ))
    }

    /// The author of a change: the authenticated user, else the typed name, else `anonymous`.
    pub async fn author(st: &AppState, typed: &str) -> String {
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        if let Some(u) = crate::server::auth::user_of(&st.config.auth, &headers) {
            return u;
        }
        let t: String = typed
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(60)
            .collect();
        if t.is_empty() {
            "anonymous".to_owned()
        } else {
            t
        }
    }

    pub async fn user(st: &AppState) -> Option<String> {
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        crate::server::auth::user_of(&st.config.auth, &headers)
    }

    pub async fn loaded_snapshot(st: &AppState, id: &str) -> Result<Arc<Loaded>, AppError> {
        service(st)?
            .loaded(id)
            .await
            .map_err(AppError::Internal)?
            .ok_or_else(|| not_found(id))
    }
}

/// The frozen timeline of snapshot `id` (for the other server functions of the page).
#[cfg(feature = "ssr")]
pub async fn loaded(
    st: &crate::server::AppState,
    id: &str,
) -> Result<std::sync::Arc<crate::server::Loaded>, AppError> {
    on_server::loaded_snapshot(st, id).await
}

/// Freezes a trace as it is now, with the view, under a new unguessable id (`POST /api/snapshots`).
#[server(endpoint = "snapshots")]
pub async fn freeze_snapshot(
    trace_id: TraceId,
    view: ViewState,
    title: String,
    name: String,
    expires_days: Option<u32>,
) -> Result<SnapshotMeta, AppError> {
    use crate::server::snapshots::SnapshotService;
    let expires_at =
        match expires_days {
            None | Some(0) => None,
            Some(d) if d <= 3_650 => Some(crate::server::snapshots::rfc3339(
                chrono::Utc::now() + chrono::Duration::days(i64::from(d)),
            )),
            Some(_) => return Err(AppError::BadRequest(
                "Expiry is at most 3650 days; leave it empty to keep the snapshot until deleted."
                    .into(),
            )),
        };
    let st = super::on_server::state()?;
    let svc = on_server::service(&st)?;
    let l = st.data.timeline(trace_id, None).await?;
    let author = on_server::author(&st, &name).await;
    let title = match title.trim() {
        "" => l
            .timeline
            .trace
            .spans
            .first()
            .map(|s| format!("{} {}", s.service, s.name))
            .unwrap_or_else(|| format!("trace {trace_id}")),
        t => t.chars().filter(|c| !c.is_control()).take(200).collect(),
    };
    let snap = SnapshotService::freeze(&l, view.to_query(), title, author, expires_at);
    svc.put(snap).await.map_err(AppError::Internal)
}

/// A snapshot's metadata and notes.
#[server(endpoint = "snapshot")]
pub async fn get_snapshot(id: String) -> Result<SnapshotPage, AppError> {
    let st = super::on_server::state()?;
    let svc = on_server::service(&st)?;
    let s = svc
        .get(&id)
        .await
        .map_err(AppError::Internal)?
        .ok_or_else(|| on_server::not_found(&id))?;
    Ok(SnapshotPage {
        meta: s.meta,
        annotations: s.annotations,
        user: on_server::user(&st).await,
    })
}

/// Every snapshot, newest first.
#[server(endpoint = "snapshot_list")]
pub async fn list_snapshots() -> Result<Vec<SnapshotMeta>, AppError> {
    let st = super::on_server::state()?;
    on_server::service(&st)?
        .list()
        .await
        .map_err(AppError::Internal)
}

/// Deletes a snapshot.
#[server(endpoint = "snapshot_delete")]
pub async fn delete_snapshot(id: String) -> Result<(), AppError> {
    let st = super::on_server::state()?;
    if on_server::service(&st)?
        .delete(&id)
        .await
        .map_err(AppError::Internal)?
    {
        Ok(())
    } else {
        Err(on_server::not_found(&id))
    }
}

/// Adds a note to a snapshot: on a span, an error, or a time range (ns from the trace start).
#[server(endpoint = "annotate")]
pub async fn annotate(
    id: String,
    span_id: Option<String>,
    event_id: Option<String>,
    start_ns: Option<i64>,
    end_ns: Option<i64>,
    text: String,
    name: String,
) -> Result<Annotation, AppError> {
    use crate::view::types::AnnotationTarget;
    let st = super::on_server::state()?;
    let svc = on_server::service(&st)?;
    let l = on_server::loaded_snapshot(&st, &id).await?;
    let text = crate::server::snapshots::clean_note(&text).map_err(AppError::BadRequest)?;
    let target = match (span_id, event_id, start_ns, end_ns) {
        (Some(s), None, None, None) => {
            let span = crate::domain::span_id_lenient(&s)
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            if l.timeline.trace.index_of(span).is_none() {
                return Err(AppError::BadRequest(format!(
                    "Span {span} is not in this snapshot."
                )));
            }
            AnnotationTarget::Span {
                span_id: span.to_string(),
            }
        }
        (None, Some(e), None, None) => {
            let ev = crate::domain::event_id_lenient(&e)
                .map_err(|e| AppError::BadRequest(e.to_string()))?;
            if !l.events.iter().any(|x| x.event_id == Some(ev)) {
                return Err(AppError::BadRequest(format!(
                    "Event {ev} is not in this snapshot."
                )));
            }
            AnnotationTarget::Event {
                event_id: ev.to_string(),
            }
        }
        (None, None, Some(a), Some(b)) if a <= b => AnnotationTarget::Range {
            start_ns: a,
            end_ns: b,
        },
        _ => {
            return Err(AppError::BadRequest(
                "A note is attached to one span, one error, or a time range (start ≤ end).".into(),
            ))
        }
    };
    let note = Annotation {
        id: crate::server::snapshots::new_id()[..12].to_owned(),
        author: on_server::author(&st, &name).await,
        created_at: crate::server::snapshots::rfc3339(chrono::Utc::now()),
        updated_at: None,
        target,
        text,
    };
    svc.annotate(&id, note.clone())
        .await
        .map_err(AppError::Internal)?;
    Ok(note)
}

/// Changes the text of a note; only its author may.
#[server(endpoint = "annotation_edit")]
pub async fn edit_annotation(
    id: String,
    note: String,
    text: String,
    name: String,
) -> Result<(), AppError> {
    let st = super::on_server::state()?;
    let svc = on_server::service(&st)?;
    let text = crate::server::snapshots::clean_note(&text).map_err(AppError::BadRequest)?;
    let author = on_server::author(&st, &name).await;
    if svc
        .edit(&id, &note, &author, &text)
        .await
        .map_err(AppError::Internal)?
    {
        Ok(())
    } else {
        Err(AppError::BadRequest(format!(
            "Only the author of a note can change it, and `{author}` did not write note {note}."
        )))
    }
}

/// `GET /api/snapshots/{id}/file`: the snapshot as a `.tracepin.json.gz` file, notes included.
#[cfg(feature = "ssr")]
pub async fn export_file(
    axum::extract::State(st): axum::extract::State<crate::server::AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> axum::response::Response {
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    let svc = match on_server::service(&st) {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    match svc.get(&id).await {
        Ok(Some(s)) => {
            let name = format!("tracepin-snapshot-{}.tracepin.json.gz", s.meta.id);
            (
                [
                    (header::CONTENT_TYPE, "application/gzip".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                crate::server::snapshots::encode(&s),
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, on_server::not_found(&id).to_string()).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

/// `POST /api/snapshots/import`: a `.tracepin.json.gz` file as the body, or as the `file` field of
/// the upload form (`multipart/form-data`). The snapshot keeps its id and notes; an id already present
/// is refused (409). Nothing is stored from a bad file (400 with the reason). The form gets a redirect:
/// to the imported snapshot, or back to `/snapshots` with the reason shown.
#[cfg(feature = "ssr")]
pub async fn import_file(
    axum::extract::State(st): axum::extract::State<crate::server::AppState>,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::extract::FromRequest;
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Redirect};
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let body: Result<axum::body::Bytes, (StatusCode, String)> = if is_form {
        read_form_file(req, &st).await
    } else {
        axum::body::Bytes::from_request(req, &st)
            .await
            .map_err(|e| (e.status(), e.body_text()))
    };
    let outcome = match body {
        Ok(b) => import_bytes(&st, b).await,
        Err(e) => Err(e),
    };
    match (outcome, is_form) {
        (Ok(meta), false) => (StatusCode::CREATED, axum::Json(meta)).into_response(),
        (Ok(meta), true) => Redirect::to(&format!("/s/{}", meta.id)).into_response(),
        (Err((code, msg)), false) => (code, format!("{msg}\n")).into_response(),
        (Err((_, msg)), true) => Redirect::to(&format!(
            "/snapshots?import_error={}",
            crate::view::state::encode(&msg)
        ))
        .into_response(),
    }
}

#[cfg(feature = "ssr")]
async fn read_form_file(
    req: axum::extract::Request,
    st: &crate::server::AppState,
) -> Result<axum::body::Bytes, (axum::http::StatusCode, String)> {
    use axum::extract::FromRequest;
    use axum::http::StatusCode;
    let too_big = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "Not imported: the file is larger than {} MiB.",
                crate::server::snapshots::MAX_FILE_BYTES >> 20
            ),
        )
    };
    let mut form = axum::extract::Multipart::from_request(req, st)
        .await
        .map_err(|e| {
            (
                StatusCode::BAD_REQUEST,
                format!("Not imported: {}.", e.body_text()),
            )
        })?;
    loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                return field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        too_big()
                    } else {
                        (e.status(), format!("Not imported: {}.", e.body_text()))
                    }
                });
            }
            Ok(Some(_)) => continue,
            Ok(None) => {
                return Err((
                    StatusCode::BAD_REQUEST,
                    "Not imported: the form had no file.".into(),
                ))
            }
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(e) => return Err((e.status(), format!("Not imported: {}.", e.body_text()))),
        }
    }
}

/// Decodes and stores one snapshot file (off the runtime); the reason when it is refused.
#[cfg(feature = "ssr")]
async fn import_bytes(
    st: &crate::server::AppState,
    body: axum::body::Bytes,
) -> Result<SnapshotMeta, (axum::http::StatusCode, String)> {
    use axum::http::StatusCode;
    let internal = |e: String| (StatusCode::INTERNAL_SERVER_ERROR, e);
    let svc = on_server::service(st).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    let snap = tokio::task::spawn_blocking(move || crate::server::snapshots::decode(&body))
        .await
        .map_err(|e| internal(e.to_string()))?
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("Not imported: {e}.")))?;
    if svc.get(&snap.meta.id).await.map_err(internal)?.is_some() {
        return Err((
            StatusCode::CONFLICT,
            format!("Not imported: snapshot {} is already here.", snap.meta.id),
        ));
    }
    svc.put(snap).await.map_err(internal)
}
