//! The trace header: what the trace is, where it came from, notices, the filter and actions.

use leptos::prelude::*;

use super::service_color;
use crate::ui::trace_ctx::TraceCtx;
use crate::view::geometry::format_duration;

fn utc(ns: u64) -> String {
    let secs = i64::try_from(ns / 1_000_000_000).unwrap_or(0);
    let nanos = u32::try_from(ns % 1_000_000_000).unwrap_or(0);
    chrono::DateTime::<chrono::Utc>::from_timestamp(secs, nanos)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_default()
}

/// Header with facts, notices, filter and actions.
#[component]
pub fn TimelineHeader() -> impl IntoView {
    let ctx = TraceCtx::get();
    let v = ctx.view.get_value();
    let local = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    {
        let ms = (v.start_ns / 1_000_000) as f64;
        Effect::new(move |_| {
            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
            let text = d.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED);
            local.set(format!("{} (local)", String::from(text)));
        });
    }
    let error_count = v.pins.len() + v.unplaced.len();
    let has_skew = v.skew_ns.iter().any(|o| *o != 0);
    let vs = ctx.vs;
    let trace_id = v.trace_id.clone();
    let snap_id = ctx.snapshot.get_value();
    let export_base = match &snap_id {
        Some(id) => format!("/api/export/{}?snap={id}", v.trace_id),
        None => format!("/api/export/{}", v.trace_id),
    };
    // In compare mode the download carries the comparison too.
    let export = move || match vs.with(|v| v.cmp.as_ref().map(|c| c.to_param())) {
        Some(c) if !export_base.contains('?') => format!("{export_base}?cmp={c}"),
        _ => export_base.clone(),
    };
    let freezing = RwSignal::new(false);
    let copied = RwSignal::new("");

    let filter_count = move || ctx.matches.with(|m| m.as_ref().map(|m| m.len()));
    let step_match = move |dir: i32| {
        let Some(list) = ctx.matches.get_untracked() else {
            return;
        };
        if list.is_empty() {
            return;
        }
        let cur = ctx.selected_row.get_untracked();
        let next = match (cur, dir > 0) {
            (Some(c), true) => list.iter().copied().find(|r| *r > c).unwrap_or(list[0]),
            (Some(c), false) => list
                .iter()
                .rev()
                .copied()
                .find(|r| *r < c)
                .unwrap_or(list[list.len() - 1]),
            (None, true) => list[0],
            (None, false) => list[list.len() - 1],
        };
        ctx.select_row(next);
    };

    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-testid="trace-header">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <h1 class="truncate text-lg font-semibold">
                        <span style=format!("color:{}", service_color(0))>{v.root_service.clone()}</span>
                        " "
                        <span class="font-normal text-slate-600 dark:text-slate-300">{v.root_name.clone()}</span>
                    </h1>
                    <p class="mt-0.5 font-mono text-xs text-slate-500" data-testid="trace-id">{trace_id.clone()}</p>
                </div>
                <div class="flex flex-wrap items-center gap-2 text-sm">
                    <button type="button" class="btn" data-testid="copy-link" on:click=move |_| {
                        copy_text(current_url());
                        copied.set("Link copied");
                    }>"Copy link"</button>
                    <button type="button" class="btn" data-testid="copy-markdown" title="Copy the selected error (or the trace) as Markdown"
                        on:click=move |_| {
                            let mut md = ctx.markdown.get_untracked();
                            if let Some(page) = ctx.snapshot_page.get_value() {
                                let link = format!("{}/s/{}", current_origin(), page.meta.id);
                                let notes = ctx.notes.get_untracked();
                                md.push_str("\n\n");
                                md.push_str(&crate::view::notes::markdown(&page.meta, &link, &notes, |t| super::notes::label(ctx, t)));
                            }
                            if let Some(c) = ctx.compare.get_untracked() {
                                md.push_str(&crate::view::compare::markdown(&c));
                            }
                            copy_text(md);
                            copied.set("Markdown copied");
                        }>"Copy as Markdown"</button>
                    <super::OpenIn links=v.open_in.clone()/>
                    <a class="btn" href=export download=format!("tracepin-{trace_id}.json") rel="external" data-testid="download-json">"Download JSON"</a>
                    {match snap_id.clone() {
                        Some(id) => view! {
                            <a class="btn" href=format!("/api/snapshots/{id}/file") rel="external" data-testid="download-snapshot"
                                title="One .tracepin.json.gz file with the trace, its errors, the view and the notes; another tracepin imports it">"Export snapshot"</a>
                            <a class="btn" href="/snapshots" data-testid="all-snapshots">"All snapshots"</a>
                        }.into_any(),
                        None => view! {
                            <button type="button" class="btn" data-testid="compare"
                                title="Find healthy traces of the same request (same root service and span, no error, within an hour) and show what is different"
                                aria-pressed=move || vs.with(|v| v.cmp.is_some()).to_string()
                                on:click=move |_| {
                                    vs.update(|v| {
                                        if v.cmp.is_some() {
                                            v.cmp = None;
                                            v.diff_only = false;
                                        } else {
                                            v.cmp = Some(crate::view::state::CompareWith::Auto);
                                        }
                                    });
                                    ctx.commit(true);
                                }>{move || if vs.with(|v| v.cmp.is_some()) { "Exit comparison" } else { "Compare with healthy traces" }}</button>
                            <button type="button" class="btn" data-testid="freeze" title="Keep this trace, its errors and this view in tracepin's store, with a link that outlives upstream retention"
                                on:click=move |_| freezing.update(|f| *f = !*f)>"Freeze snapshot"</button>
                        }.into_any(),
                    }}
                    <button type="button" class="btn" on:click=move |_| ctx.show_help.update(|h| *h = !*h) title="Keyboard shortcuts (?)">"?"</button>
                    <span class="text-xs text-emerald-600" aria-live="polite">{move || copied.get()}</span>
                </div>
            </div>
            <dl class="mt-3 grid grid-cols-2 gap-x-6 gap-y-1 text-sm sm:grid-cols-3 lg:grid-cols-6">
                <div><dt class="text-xs text-slate-500">"Start"</dt>
                    <dd class="tabular-nums" title=move || local.get()>{utc(v.start_ns)}</dd>
                    <dd class="text-xs text-slate-500" data-testid="local-time">{move || local.get()}</dd></div>
                <div><dt class="text-xs text-slate-500">"Duration"</dt><dd class="tabular-nums">{format_duration(i64::try_from(v.duration_ns).unwrap_or(0))}</dd></div>
                <div><dt class="text-xs text-slate-500">"Spans"</dt><dd class="tabular-nums" data-testid="span-count">{v.span_count}</dd></div>
                <div><dt class="text-xs text-slate-500">"Errors"</dt><dd class="tabular-nums text-rose-600 dark:text-rose-400" data-testid="error-count">{error_count}</dd></div>
                <div class="col-span-2"><dt class="text-xs text-slate-500">"Sources"</dt><dd class="text-xs">{v.sources.join(" · ")}</dd></div>
            </dl>
            <ul class="mt-2 flex flex-wrap gap-x-3 gap-y-1 text-xs" aria-label="Services">
                {v.services.iter().enumerate().map(|(i, s)| view! {
                    <li class="flex items-center gap-1">
                        <span class="inline-block h-2.5 w-2.5 rounded-sm" style=format!("background:{}", service_color(i as u16))></span>
                        {s.clone()}
                    </li>
                }).collect_view()}
            </ul>
            {move || freezing.get().then(|| view! { <FreezeForm/> })}
            <Notices/>
            <div class="mt-3 flex flex-wrap items-center gap-2 text-sm">
                <label class="sr-only" for="filter">"Filter spans"</label>
                <input id="filter" type="search" data-testid="filter-input" autocomplete="off" spellcheck="false"
                    class="w-80 rounded-md border border-slate-300 bg-slate-50 px-2 py-1 font-mono text-xs focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/30 dark:border-slate-700 dark:bg-slate-950"
                    placeholder="Filter: name, service=…, status=error, duration>100ms, key=value  ( / )"
                    value=vs.get_untracked().filter
                    prop:value=move || vs.with(|v| v.filter.clone())
                    on:input=move |ev| {
                        let q = event_target_value(&ev);
                        vs.update(|v| v.filter = q);
                        ctx.commit(false);
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            ev.prevent_default();
                            step_match(if ev.shift_key() { -1 } else { 1 });
                        }
                    }
                />
                <span class="text-xs tabular-nums text-slate-500" data-testid="filter-count">
                    {move || filter_count().map(|n| format!("{n} match{}", if n == 1 { "" } else { "es" })).unwrap_or_default()}
                </span>
                <button type="button" class="btn" title="Previous match (Shift+Enter)" on:click=move |_| step_match(-1)>"↑"</button>
                <button type="button" class="btn" title="Next match (Enter)" on:click=move |_| step_match(1)>"↓"</button>
                <label class="ml-2 flex items-center gap-1 text-xs">
                    <input type="checkbox" data-testid="errors-only" checked=vs.with_untracked(|v| v.errors_only) prop:checked=move || vs.with(|v| v.errors_only)
                        on:change=move |ev| { let on = event_target_checked(&ev); vs.update(|v| v.errors_only = on); ctx.commit(false); }/>
                    "Only the path to errors"
                </label>
                <label class="flex items-center gap-1 text-xs">
                    <input type="checkbox" prop:checked=move || ctx.show_critical.get()
                        on:change=move |ev| ctx.show_critical.set(event_target_checked(&ev))/>
                    "Critical path"
                </label>
                {has_skew.then(|| view! {
                    <label class="flex items-center gap-1 text-xs" title="Shift each service by its estimated clock offset">
                        <input type="checkbox" data-testid="adjusted-toggle" checked=ctx.adjusted.get_untracked() prop:checked=move || ctx.adjusted.get()
                            on:change=move |ev| { let on = event_target_checked(&ev); vs.update(|v| v.adjusted = Some(on)); ctx.commit(false); }/>
                        "Adjust for clock skew"
                    </label>
                })}
            </div>
            <Help/>
        </section>
    }
}

#[component]
fn Notices() -> impl IntoView {
    let ctx = TraceCtx::get();
    let v = ctx.view.get_value();
    let notices = v.notices.clone();
    let unplaced = v.unplaced.clone();
    (!notices.is_empty() || !unplaced.is_empty()).then(|| view! {
        <div class="mt-3 space-y-2 text-sm" data-testid="notices">
            {notices.into_iter().map(|n| {
                let cls = match n.kind.as_str() {
                    "event_missing" | "degraded" | "partial" => "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100",
                    "skew" => "border-sky-300 bg-sky-50 text-sky-900 dark:border-sky-700 dark:bg-sky-950 dark:text-sky-100",
                    _ => "border-slate-300 bg-slate-50 text-slate-700 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-200",
                };
                view! { <p class=format!("rounded-md border px-3 py-1.5 {cls}") data-kind=n.kind.clone() data-testid="notice">{n.text}</p> }
            }).collect_view()}
            {(!unplaced.is_empty()).then(|| view! {
                <details class="rounded-md border border-amber-300 bg-amber-50 px-3 py-1.5 text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" open data-testid="unplaced">
                    <summary class="cursor-pointer font-medium">{format!("{} error(s) could not be placed on a span", unplaced.len())}</summary>
                    <ul class="mt-1 space-y-1">
                        {unplaced.into_iter().map(|u| {
                            let id = u.event_id.clone();
                            view! {
                                <li>
                                    <button type="button" class="font-medium underline decoration-dotted" on:click=move |_| ctx.select_event(&id)>{u.title}</button>
                                    ": " <span class="text-xs">{u.reason}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </details>
            })}
        </div>
    })
}

#[component]
fn Help() -> impl IntoView {
    let ctx = TraceCtx::get();
    move || {
        ctx.show_help.get().then(|| view! {
        <div class="mt-3 rounded-md border border-slate-200 p-3 text-xs dark:border-slate-700" data-testid="help">
            <p class="mb-1 font-semibold">"Keyboard"</p>
            <ul class="grid grid-cols-2 gap-1 sm:grid-cols-4">
                <li><kbd>"↑ ↓"</kbd>" or "<kbd>"j k"</kbd>" rows"</li>
                <li><kbd>"← →"</kbd>" collapse / expand"</li>
                <li><kbd>"n"</kbd>" / "<kbd>"N"</kbd>" next / previous error"</li>
                <li><kbd>"/"</kbd>" filter"</li>
                <li><kbd>"Esc"</kbd>" clear selection"</li>
                <li><kbd>"?"</kbd>" this list"</li>
                <li>"Drag on the minimap to zoom, double-click to reset"</li>
            </ul>
        </div>
    })
    }
}

/// The form that freezes the trace as shown now, then opens the snapshot.
#[component]
fn FreezeForm() -> impl IntoView {
    let ctx = TraceCtx::get();
    let title = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let days = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(n) = web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item("tracepin.name").ok().flatten())
        {
            name.set(n);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let expires = match days.get_untracked().trim() {
            "" => None,
            d => match d.parse::<u32>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problem.set(Some(
                        "Expiry is a whole number of days, or empty to keep it until deleted."
                            .into(),
                    ));
                    return;
                }
            },
        };
        let vs = ctx.vs.get_untracked();
        let (t, n) = (title.get_untracked(), name.get_untracked());
        #[cfg(feature = "hydrate")]
        if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = s.set_item("tracepin.name", &n);
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::snapshots::freeze_snapshot(ctx.trace, vs, t, n, expires).await {
                Ok(meta) => {
                    #[cfg(feature = "hydrate")]
                    if let Some(w) = web_sys::window() {
                        let _ = w.location().set_href(&format!("/s/{}", meta.id));
                    }
                    #[cfg(not(feature = "hydrate"))]
                    let _ = meta;
                }
                Err(e) => {
                    problem.set(Some(e.to_string()));
                    busy.set(false);
                }
            }
        });
    };
    view! {
        <form class="mt-3 flex flex-wrap items-end gap-2 rounded-md border border-violet-300 bg-violet-50 p-3 text-sm dark:border-violet-800 dark:bg-violet-950" data-testid="freeze-form" on:submit=submit>
            <label class="flex flex-col text-xs">"Title"
                <input type="text" maxlength="200" class="w-72 rounded border border-slate-300 bg-white px-1 py-0.5 text-sm dark:border-slate-700 dark:bg-slate-900" placeholder="the trace's root span"
                    data-testid="freeze-title" prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/></label>
            <label class="flex flex-col text-xs">"Your name"
                <input type="text" maxlength="60" class="w-40 rounded border border-slate-300 bg-white px-1 py-0.5 text-sm dark:border-slate-700 dark:bg-slate-900" placeholder="used when sign-in is off"
                    data-testid="freeze-name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/></label>
            <label class="flex flex-col text-xs">"Expires after (days)"
                <input type="text" inputmode="numeric" class="w-24 rounded border border-slate-300 bg-white px-1 py-0.5 text-sm dark:border-slate-700 dark:bg-slate-900" placeholder="never"
                    data-testid="freeze-days" prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/></label>
            <button type="submit" class="btn" data-testid="freeze-submit" disabled=move || busy.get()>"Freeze"</button>
            <span class="text-xs text-rose-600" role="alert" data-testid="freeze-problem">{move || problem.get()}</span>
        </form>
    }
}

fn current_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

fn current_url() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.location().href().ok())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

/// Writes text to the clipboard (browser only).
pub fn copy_text(text: String) {
    #[cfg(feature = "hydrate")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(&text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}
