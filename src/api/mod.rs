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
    Ok(state.data.overview())
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
fn with_timeline<T>(
    trace_id: &str,
    f: impl FnOnce(&crate::server::data::DataStore, &crate::correlate::Timeline) -> T,
) -> Result<T, AppError> {
    let st = state()?;
    let id = parse_trace_id(trace_id)?;
    let data = &st.data;
    match data.timeline(id) {
        Some(tl) => Ok(f(data, tl)),
        None => Err(AppError::NotFound(format!(
            "Trace {id} was not found. Looked in: {}.",
            data.sources().join(", ")
        ))),
    }
}

/// The timeline page for a trace: header, pins, and the first screen of rows for the view in `query`.
#[server(endpoint = "timeline")]
pub async fn get_timeline(trace_id: String, query: String) -> Result<TimelineView, AppError> {
    let vs = crate::ui::waterfall::state::ViewState::from_pairs(
        query.split('&').filter_map(|kv| kv.split_once('=')),
    );
    with_timeline(&trace_id, |data, tl| {
        crate::server::timeline::view(data.correlation(), tl, &vs, &data.sources(), false)
    })
}

/// Every row of a trace, compact, for the virtualized waterfall.
#[server(endpoint = "timeline_rows")]
pub async fn get_timeline_rows(trace_id: String) -> Result<Rows, AppError> {
    with_timeline(&trace_id, |_, tl| crate::server::timeline::rows_of(tl))
}

/// Rows of a trace matching a filter.
#[server(endpoint = "filter")]
pub async fn get_filter_matches(trace_id: String, q: String) -> Result<Vec<u32>, AppError> {
    with_timeline(&trace_id, |_, tl| {
        crate::server::timeline::filter_matches(tl, &q)
    })
}

/// Details of one row of a trace.
#[server(endpoint = "span")]
pub async fn get_span_detail(trace_id: String, row: u32) -> Result<SpanDetail, AppError> {
    with_timeline(&trace_id, |_, tl| {
        crate::server::timeline::span_detail(tl, row as usize)
    })?
    .ok_or_else(|| AppError::NotFound(format!("Row {row} is not in trace {trace_id}.")))
}

/// Details of one Sentry event of a trace.
#[server(endpoint = "event")]
pub async fn get_event_detail(trace_id: String, event_id: String) -> Result<EventDetail, AppError> {
    let public_url = state()?.config.server.public_url.clone();
    with_timeline(&trace_id, |data, tl| {
        crate::server::timeline::event_detail(
            data.correlation(),
            tl,
            &event_id,
            public_url.as_deref(),
        )
    })?
    .ok_or_else(|| {
        AppError::NotFound(format!(
            "Event {event_id} is not among the errors tracepin has loaded."
        ))
    })
}
