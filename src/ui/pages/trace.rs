//! The timeline page, `/trace/{id}`: header, minimap, virtualized waterfall with error pins, and the
//! detail panel. The view state lives in the URL (see `view::state`); the server renders the first
//! screen for that state, then the browser fetches every row in compact form. Visible and selected
//! rows are computed by the same `view::rows` functions the server used. A trace of the local store
//! that is still receiving spans says "N new spans" and reloads on a click.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};

use crate::api::{get_timeline, AppError};
use crate::domain::{trace_id_lenient, TraceId};
use crate::ui::components::compare::ComparePanel;
use crate::ui::components::detail::DetailPanel;
use crate::ui::components::minimap::Minimap;
use crate::ui::components::notes::NotesPanel;
use crate::ui::components::timeline_header::TimelineHeader;
use crate::ui::components::waterfall::Waterfall;
use crate::ui::trace_ctx::TraceCtx;
use crate::view::geometry::Window;
use crate::view::rows::{selected_row, visible_rows};
use crate::view::state::ViewState;
use crate::view::types::{SnapshotPage, TimelineView};

/// The route component.
#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let trace_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let initial = location.search.with_untracked(|q| ViewState::from_query(q));
    let page = Resource::new(
        move || trace_id.get(),
        move |raw| {
            let vs = initial.clone();
            async move {
                // The one lenient id parser, at the edge; the server function takes a `TraceId`.
                let id = trace_id_lenient(&raw).map_err(|e| AppError::BadRequest(e.to_string()))?;
                get_timeline(id, vs, None).await.map(|v| (id, v))
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="p-6 text-slate-500">"Loading trace…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((id, v)) => Either::Left(view! { <TimelinePage trace=id view=v snapshot=None start=None/> }),
                    Err(e) => Either::Right(view! { <TraceProblem error=e/> }),
                }
            })}
        </Suspense>
    }
}

/// A trace that cannot be shown: not found (HTTP 404) or a bad id (HTTP 400), with what was searched.
#[component]
pub fn TraceProblem(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(
            axum::http::StatusCode::from_u16(error.status())
                .unwrap_or(axum::http::StatusCode::BAD_GATEWAY),
        );
    }
    let title = error.title("trace");
    view! {
        <section class="mx-auto max-w-2xl py-12" data-testid="trace-problem">
            <h1 class="text-2xl font-semibold">{title}</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-300">{error.to_string()}</p>
            <p class="mt-3 text-sm text-slate-500">
                "Check the id, widen the time window of the trace backend, or paste an event id or link in the box above."
            </p>
            <a href="/" class="mt-6 inline-block text-sky-600 hover:underline dark:text-sky-400">"← Back to the overview"</a>
        </section>
    }
}

/// The page once data is there: a live trace, or a snapshot (`snapshot`) whose frozen view is used
/// when the URL names none (`start`).
#[component]
pub fn TimelinePage(
    trace: TraceId,
    view: TimelineView,
    snapshot: Option<SnapshotPage>,
    start: Option<ViewState>,
) -> impl IntoView {
    let notes = RwSignal::new(
        snapshot
            .as_ref()
            .map(|p| p.annotations.clone())
            .unwrap_or_default(),
    );
    let is_snapshot = snapshot.is_some();
    let snapshot_page = StoredValue::new(snapshot.clone());
    let snapshot = snapshot.map(|p| p.meta.id);
    let location = use_location();
    let mut vs0 = match start {
        Some(v) => v,
        None => location.search.with_untracked(|q| ViewState::from_query(q)),
    };
    let snapshot = StoredValue::new(snapshot);
    // The link named a span the trace does not have: the server chose the pin pointing at it.
    let fell_back = view.span_fallback.is_some();
    if let Some(f) = &view.span_fallback {
        vs0.span = Some(f.clone());
    }
    let window_rows = Arc::new(view.rows.clone());
    let window_visible = Arc::new(view.window_visible.clone());
    let window_offset = view.window_offset;
    let matches0 = view.filter_matches.clone().map(Arc::new);
    let duration = i64::try_from(view.duration_ns).unwrap_or(i64::MAX).max(1);

    let mut pins_by_row: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, p) in view.pins.iter().enumerate() {
        pins_by_row.entry(p.row).or_default().push(i);
    }
    let mut pin_rows: Vec<u32> = view.pins.iter().map(|p| p.row).collect();
    pin_rows.sort_unstable();
    let view_sv = StoredValue::new(Arc::new(view));
    // Spans the local store received for this trace since the page loaded.
    let new_spans = RwSignal::new(0u64);
    let rows = RwSignal::new(window_rows);
    let full = RwSignal::new(false);
    let vs = RwSignal::new(vs0);
    let matches = RwSignal::new(matches0);
    let pins_by_row = StoredValue::new(pins_by_row);
    let pin_rows = StoredValue::new(pin_rows);

    let compare = RwSignal::new(None::<Arc<crate::view::compare::CompareView>>);
    let visible_memo = Memo::new(move |_| {
        if !full.get() {
            return window_visible.clone();
        }
        let m = matches.get();
        let cmp = compare.get();
        vs.with(|v| {
            rows.with(|r| {
                pin_rows.with_value(|p| {
                    let vis = visible_rows(r, v, m.as_deref().map(|m| m.as_slice()), p);
                    match (&cmp, v.cmp.is_some()) {
                        (Some(c), true) => Arc::new(crate::view::compare::with_compare(
                            r,
                            &vis,
                            c,
                            v.diff_only,
                            &v.collapsed,
                        )),
                        _ => Arc::new(vis),
                    }
                })
            })
        })
    });
    let offset = Memo::new(move |_| if full.get() { 0 } else { window_offset });
    let has_skew = view_sv.with_value(|v| v.skew_ns.iter().any(|o| *o != 0));
    let adj_range = view_sv.with_value(|v| v.adjusted_range);
    let adjusted = Memo::new(move |_| vs.with(|v| v.adjusted).unwrap_or(has_skew));
    let full_window = Memo::new(move |_| {
        if adjusted.get() {
            Window::new(adj_range.0.min(0), adj_range.1.max(1))
        } else {
            Window::new(0, duration)
        }
    });
    let window = Memo::new(move |_| match vs.with(|v| v.window) {
        Some((a, b)) => Window::new(
            i64::try_from(a).unwrap_or(0),
            i64::try_from(b)
                .unwrap_or(duration)
                .min(duration.saturating_mul(2)),
        ),
        None => full_window.get(),
    });
    let selected_row = Memo::new(move |_| {
        vs.with(|v| rows.with(|r| view_sv.with_value(|page| selected_row(r, &page.pins, v))))
    });

    let ctx = TraceCtx {
        trace,
        snapshot,
        snapshot_page,
        notes,
        view: view_sv,
        rows,
        full,
        vs,
        matches,
        visible: visible_memo,
        offset,
        window,
        selected_row,
        show_critical: RwSignal::new(false),
        pins_by_row,
        pin_rows,
        show_help: RwSignal::new(false),
        adjusted,
        full_window,
        markdown: RwSignal::new(String::new()),
        breadcrumbs: RwSignal::new(Vec::new()),
        compare,
        compare_loading: RwSignal::new(false),
        compare_problem: RwSignal::new(None),
        rows_arriving: RwSignal::new(None),
        rows_problem: RwSignal::new(None),
    };
    provide_context(ctx);
    if fell_back {
        ctx.commit(false);
    }

    // After hydration: fetch every row, chunk by chunk (the first screen stays until the last one is
    // in; the waterfall says how many are still arriving), and follow back/forward through the URL.
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |prev: Option<()>| {
            if prev.is_some() {
                return;
            }
            leptos::task::spawn_local(async move {
                let mut all = crate::view::types::Rows::default();
                loop {
                    let from = u32::try_from(all.len()).unwrap_or(u32::MAX);
                    match crate::api::get_timeline_rows(trace, snapshot.get_value(), from, None)
                        .await
                    {
                        Ok(chunk) => {
                            let total = chunk.total;
                            let empty = chunk.rows.is_empty();
                            if !all.append_chunk(chunk) || (empty && all.len() < total as usize) {
                                ctx.rows_problem.set(Some(
                                    "The rows changed while loading; reload the page to see them all."
                                        .into(),
                                ));
                                ctx.rows_arriving.set(None);
                                return;
                            }
                            let have = u32::try_from(all.len()).unwrap_or(u32::MAX);
                            if have >= total {
                                ctx.rows_arriving.set(None);
                                rows.set(Arc::new(all));
                                full.set(true);
                                return;
                            }
                            ctx.rows_arriving.set(Some((have, total)));
                        }
                        Err(e) => {
                            ctx.rows_arriving.set(None);
                            ctx.rows_problem.set(Some(format!(
                                "Only the first screen is shown: the other rows could not be loaded ({e}). Reload to try again."
                            )));
                            return;
                        }
                    }
                }
            });
        });
        // Back/forward: the router's location changes, the view follows. (The first run only
        // subscribes: the state was read from the same URL, or replaced by the server's fallback.)
        Effect::new(move |prev: Option<()>| {
            let parsed = location.search.with(|q| ViewState::from_query(q));
            if prev.is_some() && vs.with_untracked(|v| *v != parsed) {
                vs.set(parsed);
            }
        });
        Effect::new(move |prev: Option<String>| {
            let q = vs.with(|v| v.filter.clone());
            if prev.as_ref().is_some_and(|p| *p != q) {
                if q.trim().is_empty() {
                    matches.set(None);
                } else {
                    let q2 = q.clone();
                    leptos::task::spawn_local(async move {
                        let asked = q2.clone();
                        if let Ok(m) =
                            crate::api::get_filter_matches(trace, q2, snapshot.get_value()).await
                        {
                            // Answers can arrive out of order while typing: keep only the current one.
                            if vs.with_untracked(|v| v.filter == asked) {
                                matches.set(Some(Arc::new(m)));
                            }
                        }
                    });
                }
            }
            q
        });
        // Compare mode follows `cmp=` in the URL: fetch the comparison when it changes (snapshots are
        // frozen and never compared).
        Effect::new(move |prev: Option<Option<String>>| {
            let want = vs.with(|v| v.cmp.as_ref().map(|c| c.to_param()));
            if is_snapshot || prev.as_ref() == Some(&want) {
                return want;
            }
            match want.clone() {
                None => {
                    ctx.compare.set(None);
                    ctx.compare_problem.set(None);
                    ctx.compare_loading.set(false);
                }
                Some(param) => {
                    ctx.compare_loading.set(true);
                    ctx.compare_problem.set(None);
                    leptos::task::spawn_local(async move {
                        let result = crate::api::get_compare(trace, param.clone()).await;
                        // Only the answer for what the URL asks now counts.
                        if vs.with_untracked(|v| v.cmp.as_ref().map(|c| c.to_param()))
                            != Some(param)
                        {
                            return;
                        }
                        ctx.compare_loading.set(false);
                        match result {
                            Ok(c) => ctx.compare.set(Some(Arc::new(c))),
                            Err(e) => {
                                ctx.compare.set(None);
                                ctx.compare_problem.set(Some(e.to_string()));
                            }
                        }
                    });
                }
            }
            want
        });
        crate::ui::components::keys::install(ctx);
        let shown_spans = view_sv.with_value(|v| u64::from(v.span_count));
        Effect::new(move |prev: Option<()>| {
            // A snapshot is frozen: nothing new arrives for it.
            if prev.is_some() || is_snapshot {
                return;
            }
            let handle = set_interval_with_handle(
                move || {
                    leptos::task::spawn_local(async move {
                        if let Ok(live) = crate::api::get_live(Some(trace)).await {
                            if let Some(n) = live.spans {
                                new_spans.set(n.saturating_sub(shown_spans));
                            }
                        }
                    });
                },
                std::time::Duration::from_secs(3),
            );
            if let Ok(h) = handle {
                on_cleanup(move || h.clear());
            }
        });
    }
    let reload = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    };

    view! {
        <div class="flex flex-col gap-3" data-testid="timeline-page">
            {move || (new_spans.get() > 0).then(|| view! {
                <div role="status" data-testid="new-spans" class="flex items-center gap-3 rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-800 dark:bg-sky-950 dark:text-sky-100">
                    <span>{new_spans.get()} " new spans arrived for this trace."</span>
                    <button class="btn" data-testid="refresh-trace" on:click=reload>"Refresh"</button>
                </div>
            })}
            <TimelineHeader/>
            {(!is_snapshot).then(|| view! { <ComparePanel/> })}
            <Minimap/>
            <div class="flex min-h-0 flex-col gap-3 xl:flex-row">
                <div class="min-w-0 flex-1">
                    <Waterfall/>
                </div>
                <div class="flex flex-col gap-3 xl:w-[440px] xl:shrink-0">
                    <DetailPanel/>
                    {is_snapshot.then(|| view! { <NotesPanel/> })}
                </div>
            </div>
        </div>
    }
}
