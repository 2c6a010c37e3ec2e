//! Server functions: the public API between browser and server.
//!
//! Thin by rule: arguments arrive typed (`TraceId`, `EventId`, `ViewState` — parsed once, at the edge,
//! by `domain`'s lenient parser and `ViewState::from_query`), each function calls the server for data
//! and `view` for what the page shows, and maps errors into [`AppError`] in one place (`From`). Each
//! function has a stable `endpoint`. The JSON export (`/api/export/{trace_id}`) is the one plain HTTP
//! handler here.

pub mod error;
#[cfg(feature = "ssr")]
pub mod export;
pub mod snapshots;

pub use error::AppError;

use leptos::prelude::*;

use crate::domain::{EventId, TraceId};
use crate::view::state::ViewState;
use crate::view::types::{
    EventDetail, IssueFilters, IssueTrace, IssuesPage, LiveState, LookupPage, Overview, RowsChunk,
    SpanDetail, TimelineView,
};

#[cfg(feature = "ssr")]
mod on_server {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    use super::AppError;
    use crate::domain::{SpanId, TraceId};
    use crate::server::{AppState, Loaded};
    use crate::view::types::LinkOut;

    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>().ok_or_else(|| AppError::Internal("server state missing".into()))
    }

    /// The live trace, or the frozen one when a snapshot id is given (never contacting an upstream).
    pub async fn loaded(
        trace_id: TraceId,
        snap: Option<String>,
    ) -> Result<(AppState, Arc<Loaded>), AppError> {
        let st = state()?;
        let l = match snap {
            Some(id) => {
                let l = crate::api::snapshots::loaded(&st, &id).await?;
                if l.timeline.trace.trace_id != trace_id {
                    return Err(AppError::NotFound(format!(
                        "Snapshot {id} is of another trace."
                    )));
                }
                l
            }
            None => st.data.timeline(trace_id, None).await?,
        };
        Ok((st, l))
    }

    /// Runs CPU work over a loaded trace (view building, filtering) on the blocking pool, so a large
    /// trace or a costly filter never holds a runtime thread that other requests need.
    pub async fn blocking<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| AppError::Internal(format!("the computation stopped: {e}")))
    }

    /// "Open in …" links for a loaded trace, a span focused when given.
    pub fn links(st: &AppState, l: &Loaded, span: Option<SpanId>) -> Vec<LinkOut> {
        crate::server::links::for_timeline(&st.config, st.data.sentry(), &l.timeline, span)
    }
}

/// The home page's data: traces and errors from the configured source (or the demo incident).
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    Ok(on_server::state()?.data.overview().await)
}

/// What the local store holds now: its generation, and a trace's stored spans and events when asked.
#[server(endpoint = "live")]
pub async fn get_live(trace_id: Option<TraceId>) -> Result<LiveState, AppError> {
    Ok(on_server::state()?.data.live(trace_id).await)
}

/// The timeline page for a trace: header, pins, and the first screen of rows for the view.
#[server(endpoint = "timeline")]
pub async fn get_timeline(
    trace_id: TraceId,
    view: ViewState,
    snap: Option<String>,
) -> Result<TimelineView, AppError> {
    let live = snap.is_none();
    let (st, l) = on_server::loaded(trace_id, snap).await?;
    let lv = l.clone();
    let large_from = st.config.server.large_trace_spans();
    let mut v = on_server::blocking(move || {
        let started = std::time::Instant::now();
        let rows = lv.rows();
        let mut v = crate::view::timeline::view_with_rows(
            &lv.timeline,
            &rows,
            &lv.events,
            &view,
            &lv.sources,
            &lv.notices,
            false,
        );
        if let Some(n) = crate::view::timeline::large_trace_notice(
            lv.timeline.trace.spans.len(),
            lv.approx_bytes(),
            lv.timeline.pins.len(),
            large_from,
        ) {
            v.notices.insert(0, n);
        }
        tracing::debug!(
            trace_id = %trace_id,
            rows = rows.len(),
            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "first screen built"
        );
        v
    })
    .await?;
    if live {
        v.open_in = on_server::links(&st, &l, None);
    }
    Ok(v)
}

/// Rows of a trace, compact, for the virtualized waterfall: the chunk starting at row `from`, of
/// `limit` rows (at most and by default [`ROWS_CHUNK`](crate::view::types::ROWS_CHUNK)), so a large
/// trace streams in pieces.
#[server(endpoint = "timeline_rows")]
pub async fn get_timeline_rows(
    trace_id: TraceId,
    snap: Option<String>,
    #[server(default)] from: u32,
    #[server(default)] limit: Option<u32>,
) -> Result<RowsChunk, AppError> {
    let (_, l) = on_server::loaded(trace_id, snap).await?;
    let limit = limit
        .unwrap_or(crate::view::types::ROWS_CHUNK)
        .clamp(1, crate::view::types::ROWS_CHUNK) as usize;
    on_server::blocking(move || {
        let rows = l.rows();
        let from = from as usize;
        rows.chunk(from, from.saturating_add(limit))
    })
    .await
}

/// The trace compared with healthy traces (`cmp`: `auto`, or trace ids separated by commas): marks,
/// ghost rows, findings, and where the baselines came from or where tracepin looked for them.
#[server(endpoint = "compare")]
pub async fn get_compare(
    trace_id: TraceId,
    cmp: String,
) -> Result<crate::view::compare::CompareView, AppError> {
    let with = crate::view::state::CompareWith::parse(&cmp).ok_or_else(|| {
        AppError::BadRequest(
            "Compare with `auto` or with trace ids (32 hex digits) separated by commas.".into(),
        )
    })?;
    let st = on_server::state()?;
    let c = st.data.compare(trace_id, &with).await?;
    Ok(c.view.clone())
}

/// Rows of a trace matching a filter.
#[server(endpoint = "filter")]
pub async fn get_filter_matches(
    trace_id: TraceId,
    q: String,
    snap: Option<String>,
) -> Result<Vec<u32>, AppError> {
    let (_, l) = on_server::loaded(trace_id, snap).await?;
    on_server::blocking(move || crate::view::timeline::filter_matches(&l.timeline, &q)).await
}

/// Details of one row of a trace.
#[server(endpoint = "span")]
pub async fn get_span_detail(
    trace_id: TraceId,
    row: u32,
    snap: Option<String>,
) -> Result<SpanDetail, AppError> {
    let (st, l) = on_server::loaded(trace_id, snap).await?;
    let mut d = crate::view::timeline::span_detail(&l.timeline, row as usize)
        .ok_or_else(|| AppError::NotFound(format!("Row {row} is not in trace {trace_id}.")))?;
    let span = l.timeline.trace.spans.get(row as usize).map(|s| s.span_id);
    d.open_in = on_server::links(&st, &l, span);
    Ok(d)
}

/// Details of one Sentry event of a trace.
#[server(endpoint = "event")]
pub async fn get_event_detail(
    trace_id: TraceId,
    event_id: EventId,
    snap: Option<String>,
) -> Result<EventDetail, AppError> {
    let (st, l) = on_server::loaded(trace_id, snap).await?;
    let public_url = st.config.server.public_url.as_deref();
    let mut d = crate::view::timeline::event_detail(&l.timeline, &l.events, event_id, public_url)
        .ok_or_else(|| {
        AppError::NotFound(format!(
            "Event {event_id} is not among the errors tracepin has loaded."
        ))
    })?;
    let span = d
        .row
        .and_then(|r| l.timeline.trace.spans.get(r as usize))
        .map(|s| s.span_id);
    d.open_in = on_server::links(&st, &l, span);
    Ok(d)
}

/// What pasted text leads to (`/lookup?q=…`).
#[server(endpoint = "lookup")]
pub async fn get_lookup(q: String) -> Result<LookupPage, AppError> {
    let st = on_server::state()?;
    Ok(crate::server::resolve::resolve(&st.data, st.config.server.public_url.as_deref(), &q).await)
}

/// What `/issue/{id_or_short_id}` leads to (issue ids are Sentry's, so the text is passed as given).
#[server(endpoint = "issue")]
pub async fn get_issue(id: String) -> Result<LookupPage, AppError> {
    let st = on_server::state()?;
    Ok(
        crate::server::resolve::resolve_issue(
            &st.data,
            st.config.server.public_url.as_deref(),
            &id,
        )
        .await,
    )
}

/// What `/event/{event_id}` leads to.
#[server(endpoint = "event_link")]
pub async fn get_event_link(id: EventId) -> Result<LookupPage, AppError> {
    let st = on_server::state()?;
    Ok(
        crate::server::resolve::resolve_event(&st.data, st.config.server.public_url.as_deref(), id)
            .await,
    )
}

/// One page of Sentry issues (`None` when Sentry is not configured).
#[server(endpoint = "issues")]
pub async fn get_issues(filters: IssueFilters) -> Result<Option<IssuesPage>, AppError> {
    Ok(on_server::state()?.data.issues(&filters).await)
}

/// Whether each issue's latest event carries a trace id.
#[server(endpoint = "issue_traces")]
pub async fn get_issue_traces(ids: Vec<String>) -> Result<Vec<IssueTrace>, AppError> {
    Ok(on_server::state()?.data.issue_traces(&ids).await)
}
