//! Server functions: the public API between browser and server.
//!
//! Thin by rule: parse arguments into domain types, call one server-side function, map the error into
//! [`AppError`], the one error type that reaches the browser. Each function has a stable `endpoint`.

pub mod error;
pub mod types;

pub use error::AppError;
pub use types::{ErrorSummary, Overview, TraceSummary};

use leptos::prelude::*;

/// The home page's data: traces and errors from the configured source (or the demo incident).
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let state = use_context::<crate::server::state::AppState>()
        .ok_or_else(|| AppError::Internal("server state missing".into()))?;
    Ok(state.data.overview().await)
}

pub use types::{EventDetail, Rows, SpanDetail, TimelineView};

#[cfg(feature = "ssr")]
fn state() -> Result<crate::server::state::AppState, AppError> {
    use_context::<crate::server::state::AppState>()
        .ok_or_else(|| AppError::Internal("server state missing".into()))
}

#[cfg(feature = "ssr")]
fn parse_trace_id(id: &str) -> Result<crate::domain::TraceId, AppError> {
    let compact: String = id.trim().chars().filter(|c| *c != '-').collect();
    let padded = if compact.len() == 16 {
        format!("{compact:0>32}")
    } else {
        compact
    };
    padded.to_ascii_lowercase().parse().map_err(|e| {
        AppError::BadRequest(format!(
            "`{}` is not a trace id ({e}): a trace id is 32 hex digits (16 for Jaeger 64-bit ids).",
            id.chars().take(80).collect::<String>()
        ))
    })
}

#[cfg(feature = "ssr")]
async fn loaded(trace_id: &str) -> Result<std::sync::Arc<crate::server::data::Loaded>, AppError> {
    let st = state()?;
    let id = parse_trace_id(trace_id)?;
    st.data.timeline(id, None).await
}

#[cfg(feature = "ssr")]
fn with_loaded<T>(
    l: &crate::server::data::Loaded,
    f: impl FnOnce(&crate::correlate::Correlation, &crate::correlate::Timeline) -> T,
) -> Result<T, AppError> {
    l.timeline()
        .map(|tl| f(&l.correlation, tl))
        .ok_or_else(|| AppError::Internal("timeline missing".into()))
}

/// The timeline page for a trace: header, pins, and the first screen of rows for the view in `query`.
#[server(endpoint = "timeline")]
pub async fn get_timeline(trace_id: String, query: String) -> Result<TimelineView, AppError> {
    let vs = crate::ui::waterfall::state::ViewState::from_pairs(
        query.split('&').filter_map(|kv| kv.split_once('=')),
    );
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |c, tl| {
        crate::server::timeline::view(c, tl, &vs, &l.sources, &l.notices, false)
    })
}

/// Every row of a trace, compact, for the virtualized waterfall.
#[server(endpoint = "timeline_rows")]
pub async fn get_timeline_rows(trace_id: String) -> Result<Rows, AppError> {
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |_, tl| crate::server::timeline::rows_of(tl))
}

/// Rows of a trace matching a filter.
#[server(endpoint = "filter")]
pub async fn get_filter_matches(trace_id: String, q: String) -> Result<Vec<u32>, AppError> {
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |_, tl| crate::server::timeline::filter_matches(tl, &q))
}

/// Details of one row of a trace.
#[server(endpoint = "span")]
pub async fn get_span_detail(trace_id: String, row: u32) -> Result<SpanDetail, AppError> {
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |_, tl| {
        crate::server::timeline::span_detail(tl, row as usize)
    })?
    .ok_or_else(|| AppError::NotFound(format!("Row {row} is not in trace {trace_id}.")))
}

/// Details of one Sentry event of a trace.
#[server(endpoint = "event")]
pub async fn get_event_detail(trace_id: String, event_id: String) -> Result<EventDetail, AppError> {
    let public_url = state()?.config.server.public_url.clone();
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |c, tl| {
        crate::server::timeline::event_detail(c, tl, &event_id, public_url.as_deref())
    })?
    .ok_or_else(|| {
        AppError::NotFound(format!(
            "Event {event_id} is not among the errors tracepin has loaded."
        ))
    })
}
