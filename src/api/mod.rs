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
    let st = state()?;
    with_loaded(&l, |c, tl| {
        let mut v = crate::server::timeline::view(c, tl, &vs, &l.sources, &l.notices, false);
        v.open_in = trace_links(&st, tl, None);
        v
    })
}

/// "Open in …" links for a trace of a loaded timeline, a span focused when given.
#[cfg(feature = "ssr")]
fn trace_links(
    st: &crate::server::state::AppState,
    tl: &crate::correlate::Timeline,
    span: Option<crate::domain::SpanId>,
) -> Vec<types::LinkOut> {
    let t = &tl.trace;
    let sentry_ui = st.data.sentry().map(|c| c.org_ui());
    let range = (!t.spans.is_empty()).then_some((t.start_ns, t.end_ns));
    crate::server::links::for_trace(&st.config, sentry_ui.as_deref(), t.trace_id, span, range)
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
    let st = state()?;
    with_loaded(&l, |_, tl| {
        crate::server::timeline::span_detail(tl, row as usize).map(|mut d| {
            let span = tl.trace.spans.get(row as usize).map(|s| s.span_id);
            d.open_in = trace_links(&st, tl, span);
            d
        })
    })?
    .ok_or_else(|| AppError::NotFound(format!("Row {row} is not in trace {trace_id}.")))
}

/// Details of one Sentry event of a trace.
#[server(endpoint = "event")]
pub async fn get_event_detail(trace_id: String, event_id: String) -> Result<EventDetail, AppError> {
    let st = state()?;
    let public_url = st.config.server.public_url.clone();
    let l = loaded(&trace_id).await?;
    with_loaded(&l, |c, tl| {
        crate::server::timeline::event_detail(c, tl, &event_id, public_url.as_deref()).map(
            |mut d| {
                let span = d
                    .row
                    .and_then(|r| tl.trace.spans.get(r as usize))
                    .map(|s| s.span_id);
                d.open_in = trace_links(&st, tl, span);
                d
            },
        )
    })?
    .ok_or_else(|| {
        AppError::NotFound(format!(
            "Event {event_id} is not among the errors tracepin has loaded."
        ))
    })
}

pub use types::{IssueFilters, IssueTrace, IssuesPage, LookupOutcome, LookupPage};

/// What pasted text leads to (`/lookup?q=…`).
#[server(endpoint = "lookup")]
pub async fn get_lookup(q: String) -> Result<LookupPage, AppError> {
    let st = state()?;
    Ok(crate::server::lookup::resolve(&st.data, st.config.server.public_url.as_deref(), &q).await)
}

/// What `/issue/{id_or_short_id}` leads to.
#[server(endpoint = "issue")]
pub async fn get_issue(id: String) -> Result<LookupPage, AppError> {
    let st = state()?;
    Ok(
        crate::server::lookup::resolve_issue(&st.data, st.config.server.public_url.as_deref(), &id)
            .await,
    )
}

/// What `/event/{event_id}` leads to.
#[server(endpoint = "event_link")]
pub async fn get_event_link(id: String) -> Result<LookupPage, AppError> {
    let st = state()?;
    Ok(
        crate::server::lookup::resolve_event(&st.data, st.config.server.public_url.as_deref(), &id)
            .await,
    )
}

/// One page of Sentry issues (`None` when Sentry is not configured).
#[server(endpoint = "issues")]
pub async fn get_issues(filters: IssueFilters) -> Result<Option<IssuesPage>, AppError> {
    Ok(state()?.data.issues(&filters).await)
}

/// Whether each issue's latest event carries a trace id.
#[server(endpoint = "issue_traces")]
pub async fn get_issue_traces(ids: Vec<String>) -> Result<Vec<IssueTrace>, AppError> {
    Ok(state()?.data.issue_traces(&ids).await)
}
