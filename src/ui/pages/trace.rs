//! The timeline page, `/trace/{id}`: header, minimap, virtualized waterfall with error pins, and the
//! detail panel. The view state lives in the URL (see `ui::waterfall::state`); the server renders the
//! first screen for that state, then the browser fetches every row in compact form.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{get_timeline, AppError, TimelineView};
use crate::ui::components::detail::DetailPanel;
use crate::ui::components::minimap::Minimap;
use crate::ui::components::timeline_header::TimelineHeader;
use crate::ui::components::waterfall::Waterfall;
use crate::ui::waterfall::geometry::Window;
use crate::ui::waterfall::rows::{visible, with_ancestors};
use crate::ui::waterfall::state::ViewState;

use crate::api::types::Rows;

/// Shared state of one timeline page, provided as context to its components.
#[derive(Clone, Copy)]
pub struct TraceCtx {
    /// The page data from the server (header, pins, first rows).
    pub view: StoredValue<Arc<TimelineView>>,
    /// The rows known so far: the first-screen window, then all rows.
    pub rows: RwSignal<Arc<Rows>>,
    /// True once all rows arrived.
    pub full: RwSignal<bool>,
    /// The URL state.
    pub vs: RwSignal<ViewState>,
    /// Rows matching the filter (absolute), when filtering.
    pub matches: RwSignal<Option<Arc<Vec<u32>>>>,
    /// Visible rows (absolute), in display order.
    pub visible: Memo<Arc<Vec<u32>>>,
    /// Position of `visible[0]` in the whole visible list (non-zero only for a window).
    pub offset: Memo<u32>,
    /// The zoom window, ns from trace start.
    pub window: Memo<Window>,
    /// The selected row, from the selected span or event.
    pub selected_row: Memo<Option<u32>>,
    /// Highlight the critical path.
    pub show_critical: RwSignal<bool>,
    /// Pin indices per row.
    pub pins_by_row: StoredValue<HashMap<u32, Vec<usize>>>,
    /// Rows holding pins, sorted (with repeats: one per pin).
    pub pin_rows: StoredValue<Vec<u32>>,
    /// Keyboard help shown.
    pub show_help: RwSignal<bool>,
    /// Show clock-skew-adjusted times.
    pub adjusted: Memo<bool>,
    /// The whole trace in display time (adjusted or raw), ns from trace start.
    pub full_window: Memo<Window>,
    /// Markdown of the selection, for "Copy as Markdown".
    pub markdown: RwSignal<String>,
    /// Breadcrumbs of the selected error: (ns from trace start, label).
    pub breadcrumbs: RwSignal<Vec<(i64, String)>>,
}

impl TraceCtx {
    /// The context of the current page.
    pub fn get() -> Self {
        expect_context::<TraceCtx>()
    }

    /// Writes the state into the URL: a new history entry for selections, a replacement otherwise.
    pub fn commit(&self, push: bool) {
        let q = self.vs.with_untracked(ViewState::to_query);
        let id = self.view.with_value(|v| v.trace_id.clone());
        let url = format!("/trace/{id}?{q}");
        #[cfg(feature = "hydrate")]
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            let null = wasm_bindgen::JsValue::NULL;
            let _ = if push {
                h.push_state_with_url(&null, "", Some(&url))
            } else {
                h.replace_state_with_url(&null, "", Some(&url))
            };
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (url, push);
    }

    /// Selects a row (and shows its span rather than an error).
    pub fn select_row(&self, row: u32) {
        let span = self
            .rows
            .with_untracked(|r| r.pos(row).map(|p| r.span_hex(p)));
        self.vs.update(|v| {
            v.span = span;
            v.event = None;
        });
        self.commit(true);
    }

    /// Selects an error (and its row).
    pub fn select_event(&self, event_id: &str) {
        let row = self.view.with_value(|v| {
            v.pins
                .iter()
                .find(|p| p.event_id == event_id)
                .map(|p| p.row)
        });
        let span = row.and_then(|r| {
            self.rows
                .with_untracked(|rows| rows.pos(r).map(|p| rows.span_hex(p)))
        });
        // Expand collapsed ancestors so the pin's row is visible.
        if let Some(r) = row {
            self.expand_to(r);
        }
        self.vs.update(|v| {
            v.event = Some(event_id.to_owned());
            v.span = span;
        });
        self.commit(true);
    }

    /// Uncollapses every ancestor of `row`.
    pub fn expand_to(&self, row: u32) {
        let ancestors: Vec<u32> = self.rows.with_untracked(|r| {
            (0..r.len())
                .filter(|&i| r.index[i] < row && r.subtree_end[i] > row)
                .map(|i| r.short_id(i))
                .collect()
        });
        self.vs
            .update(|v| v.collapsed.retain(|c| !ancestors.contains(c)));
    }

    /// Collapses or expands a row's subtree.
    pub fn toggle(&self, row: u32) {
        let Some(short) = self
            .rows
            .with_untracked(|r| r.pos(row).map(|p| r.short_id(p)))
        else {
            return;
        };
        self.vs.update(|v| match v.collapsed.binary_search(&short) {
            Ok(i) => {
                v.collapsed.remove(i);
            }
            Err(i) => v.collapsed.insert(i, short),
        });
        self.commit(false);
    }

    /// Is a row collapsed?
    pub fn is_collapsed(&self, row: u32) -> bool {
        let short = self.rows.with(|r| r.pos(row).map(|p| r.short_id(p)));
        short.is_some_and(|s| self.vs.with(|v| v.collapsed.binary_search(&s).is_ok()))
    }
}

/// The route component.
#[component]
pub fn TracePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let trace_id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let initial = query.with_untracked(|q| {
        let vs = ViewState::from_pairs(q.into_iter().map(|(k, v)| (k.as_ref(), v)));
        vs.to_query()
    });
    let page = Resource::new(
        move || trace_id.get(),
        move |id| get_timeline(id, initial.clone()),
    );
    view! {
        <Suspense fallback=|| view! { <p class="p-6 text-slate-500">"Loading trace…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(v) => Either::Left(view! { <TimelinePage view=v/> }),
                    Err(e) => Either::Right(view! { <TraceProblem error=e/> }),
                }
            })}
        </Suspense>
    }
}

/// A trace that cannot be shown: not found (HTTP 404) or a bad id (HTTP 400), with what was searched.
#[component]
fn TraceProblem(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(match &error {
            AppError::NotFound(_) => axum::http::StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => axum::http::StatusCode::BAD_REQUEST,
            _ => axum::http::StatusCode::BAD_GATEWAY,
        });
    }
    let title = match &error {
        AppError::NotFound(_) => "Trace not found",
        AppError::BadRequest(_) => "That is not a trace id",
        _ => "The trace could not be loaded",
    };
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

/// The page once data is there.
#[component]
fn TimelinePage(view: TimelineView) -> impl IntoView {
    let query = use_query_map();
    let vs0 = query
        .with_untracked(|q| ViewState::from_pairs(q.into_iter().map(|(k, v)| (k.as_ref(), v))));
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
    let trace_id = view.trace_id.clone();

    let view_sv = StoredValue::new(Arc::new(view));
    let rows = RwSignal::new(window_rows);
    let full = RwSignal::new(false);
    let vs = RwSignal::new(vs0);
    let matches = RwSignal::new(matches0);
    let pins_by_row = StoredValue::new(pins_by_row);
    let pin_rows = StoredValue::new(pin_rows);

    let visible_memo = Memo::new(move |_| {
        if !full.get() {
            return window_visible.clone();
        }
        let (collapsed_ids, errors_only) = vs.with(|v| (v.collapsed.clone(), v.errors_only));
        let m = matches.get();
        rows.with(|r| {
            let collapsed: Vec<bool> = (0..r.len())
                .map(|i| collapsed_ids.binary_search(&r.short_id(i)).is_ok())
                .collect();
            let keep = match (&m, errors_only) {
                (Some(m), _) => Some(with_ancestors(r, m)),
                (None, true) => Some(pin_rows.with_value(|p| with_ancestors(r, p))),
                (None, false) => None,
            };
            Arc::new(visible(r, &collapsed, keep.as_deref()))
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
        let (event, span) = vs.with(|v| (v.event.clone(), v.span.clone()));
        if let Some(e) = event {
            if let Some(r) =
                view_sv.with_value(|v| v.pins.iter().find(|p| p.event_id == e).map(|p| p.row))
            {
                return Some(r);
            }
        }
        let span = span?;
        let want = u64::from_str_radix(&span, 16).ok()?;
        rows.with(|r| {
            r.span_id
                .iter()
                .position(|s| *s == want)
                .map(|p| r.index[p])
        })
    });

    let ctx = TraceCtx {
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
    };
    provide_context(ctx);

    // After hydration: fetch every row, and follow back/forward through the URL.
    #[cfg(feature = "hydrate")]
    {
        let id = trace_id.clone();
        Effect::new(move |prev: Option<()>| {
            if prev.is_some() {
                return;
            }
            let id = id.clone();
            leptos::task::spawn_local(async move {
                if let Ok(all) = crate::api::get_timeline_rows(id).await {
                    rows.set(Arc::new(all));
                    full.set(true);
                }
            });
        });
        Effect::new(move |_| {
            let parsed =
                query.with(|q| ViewState::from_pairs(q.into_iter().map(|(k, v)| (k.as_ref(), v))));
            if vs.with_untracked(|v| *v != parsed) {
                vs.set(parsed);
            }
        });
        let id = trace_id.clone();
        Effect::new(move |prev: Option<String>| {
            let q = vs.with(|v| v.filter.clone());
            if prev.as_ref().is_some_and(|p| *p != q) {
                if q.trim().is_empty() {
                    matches.set(None);
                } else {
                    let id = id.clone();
                    let q2 = q.clone();
                    leptos::task::spawn_local(async move {
                        let asked = q2.clone();
                        if let Ok(m) = crate::api::get_filter_matches(id, q2).await {
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
        crate::ui::components::keys::install(ctx);
    }
    let _ = &trace_id;

    view! {
        <div class="flex flex-col gap-3" data-testid="timeline-page">
            <TimelineHeader/>
            <Minimap/>
            <div class="flex min-h-0 flex-col gap-3 xl:flex-row">
                <div class="min-w-0 flex-1">
                    <Waterfall/>
                </div>
                <DetailPanel/>
            </div>
        </div>
    }
}
