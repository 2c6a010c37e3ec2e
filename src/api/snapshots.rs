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
) -> Result<SnapshotMeta, AppError> {
    use crate::server::snapshots::SnapshotService;
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
    let snap = SnapshotService::freeze(&l, view.to_query(), title, author, None);
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

/// `POST /api/snapshots/import`: a `.tracepin.json.gz` file as the body. The snapshot keeps its id
/// and notes; an id already present is refused (409). Nothing is stored from a bad file (400 with
/// the reason).
#[cfg(feature = "ssr")]
pub async fn import_file(
    axum::extract::State(st): axum::extract::State<crate::server::AppState>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let svc = match on_server::service(&st) {
        Ok(s) => s,
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let parsed = tokio::task::spawn_blocking(move || crate::server::snapshots::decode(&body)).await;
    let snap = match parsed {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return (StatusCode::BAD_REQUEST, format!("Not imported: {e}.\n")).into_response()
        }
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    match svc.get(&snap.meta.id).await {
        Ok(Some(_)) => {
            return (
                StatusCode::CONFLICT,
                format!("Not imported: snapshot {} is already here.\n", snap.meta.id),
            )
                .into_response()
        }
        Ok(None) => {}
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
    match svc.put(snap).await {
        Ok(meta) => (StatusCode::CREATED, axum::Json(meta)).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}
