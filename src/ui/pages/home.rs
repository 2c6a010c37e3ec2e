//! The home page: the traces and Sentry errors of the configured source (the demo incident by default).

use leptos::prelude::*;

use crate::api::{get_overview, ErrorSummary, Overview, TraceSummary};

/// Lists traces and errors plainly.
#[component]
pub fn HomePage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || {
                overview
                    .get()
                    .map(|res| match res {
                        Ok(data) => view! { <OverviewView data/> }.into_any(),
                        Err(e) => {
                            view! {
                                <div role="alert" class="rounded-md border border-rose-300 bg-rose-50 p-4 text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
                                    "Could not load the overview: " {e.to_string()}
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn OverviewView(data: Overview) -> impl IntoView {
    let Overview {
        source,
        traces,
        errors,
        notices,
    } = data;
    view! {
        <div class="space-y-8">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-xl font-semibold">"Errors and traces"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="data-source">
                    "Source: " {source}
                </p>
            </div>
            {(!notices.is_empty())
                .then(|| {
                    view! {
                        <ul class="space-y-1 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                            {notices.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                        </ul>
                    }
                })}
            <section>
                <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                    "Sentry errors (" {errors.len()} ")"
                </h2>
                <ErrorTable errors/>
            </section>
            <section>
                <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                    "Traces (" {traces.len()} ")"
                </h2>
                <TraceTable traces/>
            </section>
        </div>
    }
}

fn level_class(level: &str) -> &'static str {
    match level {
        "fatal" | "error" => "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200",
        "warning" => "bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200",
        _ => "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-200",
    }
}

#[component]
fn ErrorTable(errors: Vec<ErrorSummary>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
            <table class="w-full text-left text-sm">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500 dark:bg-slate-900">
                    <tr>
                        <th class="px-3 py-2">"Error"</th>
                        <th class="px-3 py-2">"Service"</th>
                        <th class="px-3 py-2">"When (UTC)"</th>
                        <th class="px-3 py-2">"Pinned to"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {errors
                        .into_iter()
                        .map(|e| {
                            let placed = e.span_name.is_some();
                            view! {
                                <tr data-testid="error-row" data-event-id=e.event_id.clone()>
                                    <td class="px-3 py-2 align-top">
                                        <span class=format!(
                                            "mr-2 rounded px-1.5 py-0.5 text-xs font-medium {}",
                                            level_class(&e.level),
                                        )>{e.level.clone()}</span>
                                        {match &e.trace_id {
                                            Some(t) => view! {
                                                <a class="font-medium text-sky-700 hover:underline dark:text-sky-400" data-testid="error-link"
                                                    href=format!("/trace/{t}?v=1&event={}", e.event_id)>{e.title.clone()}</a>
                                            }.into_any(),
                                            None => view! { <span class="font-medium">{e.title.clone()}</span> }.into_any(),
                                        }}
                                        <div class="mt-0.5 font-mono text-xs text-slate-500">{e.event_id.clone()}</div>
                                    </td>
                                    <td class="px-3 py-2 align-top">{e.service.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="px-3 py-2 align-top font-mono text-xs">{e.timestamp.clone()}</td>
                                    <td class="px-3 py-2 align-top">
                                        {if placed {
                                            view! {
                                                <span class="font-medium">{e.span_name.clone()}</span>
                                                <div class="text-xs text-slate-500">{e.matched_by.clone()}</div>
                                            }
                                                .into_any()
                                        } else {
                                            view! {
                                                <span class="text-amber-700 dark:text-amber-300">"Not placed"</span>
                                                <div class="text-xs text-slate-500">{e.unplaced_reason.clone()}</div>
                                            }
                                                .into_any()
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn TraceTable(traces: Vec<TraceSummary>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
            <table class="w-full text-left text-sm">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500 dark:bg-slate-900">
                    <tr>
                        <th class="px-3 py-2">"Root"</th>
                        <th class="px-3 py-2">"Trace id"</th>
                        <th class="px-3 py-2">"Start (UTC)"</th>
                        <th class="px-3 py-2 text-right">"Duration"</th>
                        <th class="px-3 py-2 text-right">"Spans"</th>
                        <th class="px-3 py-2 text-right">"Errors"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {traces
                        .into_iter()
                        .map(|t| {
                            view! {
                                <tr data-testid="trace-row" data-trace-id=t.trace_id.clone()>
                                    <td class="px-3 py-2">
                                        <a class="hover:underline" href=format!("/trace/{}", t.trace_id) data-testid="trace-link">
                                            <span class="font-medium">{t.root_service.clone()}</span>
                                            " "
                                            <span class="text-slate-600 dark:text-slate-400">{t.root_name.clone()}</span>
                                        </a>
                                        <div class="text-xs text-slate-500">{t.services.join(", ")}</div>
                                    </td>
                                    <td class="px-3 py-2 font-mono text-xs">{t.trace_id.clone()}</td>
                                    <td class="px-3 py-2 font-mono text-xs">{t.start.clone()}</td>
                                    <td class="px-3 py-2 text-right tabular-nums">{format!("{:.1} ms", t.duration_ms)}</td>
                                    <td class="px-3 py-2 text-right tabular-nums">{t.span_count}</td>
                                    <td class="px-3 py-2 text-right tabular-nums">
                                        {(t.error_count > 0)
                                            .then(|| {
                                                view! {
                                                    <span class="rounded bg-rose-100 px-1.5 py-0.5 text-xs font-semibold text-rose-800 dark:bg-rose-900/60 dark:text-rose-200">
                                                        {t.error_count}
                                                    </span>
                                                }
                                            })}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
