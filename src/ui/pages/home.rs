//! The home page: Sentry issues with filters in the URL when Sentry is configured; otherwise the local
//! store's issues and recent traces with errors from the trace backends (refreshed by polling the
//! store while the page is open), or the demo incident served from memory.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{get_issue_traces, get_issues, get_overview, AppError};
use crate::view::state::{encode, trace_url_with};
use crate::view::types::LocalIssueRow;
use crate::view::types::{
    ErrorSummary, IssueFilters, IssueRow, IssueTrace, IssuesPage, Overview, TraceSummary,
};

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
enum Home {
    Issues(IssuesPage),
    Overview(Overview),
}

async fn load_home(f: IssueFilters) -> Result<Home, AppError> {
    match get_issues(f).await? {
        Some(page) => Ok(Home::Issues(page)),
        None => Ok(Home::Overview(get_overview().await?)),
    }
}

/// Issues (with Sentry), or traces and errors (without).
#[component]
pub fn HomePage() -> impl IntoView {
    let query = use_query_map();
    let filters = move || {
        query.with(|q| {
            let g = |k: &str| q.get(k).unwrap_or_default().trim().to_owned();
            IssueFilters {
                project: g("project"),
                environment: g("environment"),
                period: g("period"),
                query: g("query"),
                sort: g("sort"),
                cursor: g("cursor"),
            }
        })
    };
    // Bumped when the local store received data: the lists are read again (the old ones stay on
    // screen meanwhile, `Transition`).
    let tick = RwSignal::new(0u64);
    let home = Resource::new(move || (filters(), tick.get()), |(f, _)| load_home(f));
    #[cfg(feature = "hydrate")]
    {
        let shown = move || {
            home.with_untracked(|h| match h {
                Some(Ok(Home::Overview(o))) => o.generation,
                _ => None,
            })
        };
        Effect::new(move |prev: Option<()>| {
            if prev.is_some() || shown().is_none() {
                return;
            }
            let handle = set_interval_with_handle(
                move || {
                    leptos::task::spawn_local(async move {
                        let Ok(live) = crate::api::get_live(None).await else {
                            return;
                        };
                        if let (Some(now), Some(seen)) = (live.generation, shown()) {
                            if now != seen {
                                tick.update(|t| *t += 1);
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
    view! {
        <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
            {move || {
                home
                    .get()
                    .map(|res| match res {
                        Ok(Home::Issues(page)) => view! { <IssuesView page/> }.into_any(),
                        Ok(Home::Overview(data)) => view! { <OverviewView data/> }.into_any(),
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
        </Transition>
    }
}

const PERIODS: [(&str, &str); 6] = [
    ("1h", "Last hour"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    ("14d", "Last 14 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
];
const SORTS: [(&str, &str); 5] = [
    ("date", "Last seen"),
    ("new", "First seen"),
    ("freq", "Events"),
    ("user", "Users"),
    ("trends", "Trends"),
];

fn filter_href(f: &IssueFilters, cursor: Option<&str>) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("project", &f.project),
        ("environment", &f.environment),
        ("period", &f.period),
        ("query", &f.query),
        ("sort", &f.sort),
    ] {
        if !v.is_empty() {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    if let Some(c) = cursor {
        parts.push(format!("cursor={}", encode(c)));
    }
    if parts.is_empty() {
        "/".into()
    } else {
        format!("/?{}", parts.join("&"))
    }
}

#[component]
fn IssuesView(page: IssuesPage) -> impl IntoView {
    let IssuesPage {
        filters,
        issues,
        next_cursor,
        projects,
        problem,
    } = page;
    let ids: Vec<String> = issues.iter().map(|i| i.id.clone()).collect();
    // Whether each latest event carries a trace id: asked from the browser once the list is on screen
    // (one request per issue upstream, so it must not hold the list back). Effects only run there.
    let traces: RwSignal<Option<Vec<IssueTrace>>> = RwSignal::new(None);
    Effect::new(move |_| {
        let ids = ids.clone();
        leptos::task::spawn_local(async move {
            let got = get_issue_traces(ids.clone()).await.unwrap_or_else(|e| {
                ids.into_iter()
                    .map(|id| IssueTrace {
                        issue_id: id,
                        state: "unknown".into(),
                        trace_id: None,
                        event_id: None,
                        detail: Some(e.to_string()),
                    })
                    .collect()
            });
            traces.set(Some(got));
        });
    });
    let state_of = move |id: String| {
        move || -> Option<IssueTrace> {
            traces.with(|t| {
                t.as_ref()
                    .and_then(|v| v.iter().find(|t| t.issue_id == id).cloned())
            })
        }
    };
    let next = next_cursor.map(|c| filter_href(&filters, Some(&c)));
    let first = (!filters.cursor.is_empty()).then(|| filter_href(&filters, None));
    let count = issues.len();
    view! {
        <div class="space-y-4">
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <h1 class="text-xl font-semibold">"Sentry issues"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400" data-testid="data-source">
                    "Open an issue to see its latest error on its trace."
                </p>
            </div>
            <IssueFilterForm filters=filters.clone() projects/>
            {problem.map(|p| view! {
                <p role="alert" data-testid="issues-problem" class="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">{p}</p>
            })}
            <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
                <table class="w-full text-left text-sm" data-testid="issues">
                    <thead class="bg-slate-50 text-xs uppercase text-slate-500 dark:bg-slate-900">
                        <tr>
                            <th class="px-3 py-2">"Issue"</th>
                            <th class="px-3 py-2">"Project"</th>
                            <th class="px-3 py-2">"Trace"</th>
                            <th class="px-3 py-2 text-right">"Events"</th>
                            <th class="px-3 py-2 text-right">"Users"</th>
                            <th class="px-3 py-2">"Last seen"</th>
                            <th class="px-3 py-2">"First seen"</th>
                        </tr>
                    </thead>
                    <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                        {issues.into_iter().map(|i| view! { <IssueLine i=i.clone() trace=Signal::derive(state_of(i.id.clone()))/> }).collect_view()}
                    </tbody>
                </table>
                {(count == 0).then(|| view! {
                    <p class="p-4 text-sm text-slate-500" data-testid="no-issues">"No issues match these filters."</p>
                })}
            </div>
            <nav class="flex gap-3 text-sm">
                {first.map(|h| view! { <a class="text-sky-700 hover:underline dark:text-sky-400" href=h data-testid="first-page">"← First page"</a> })}
                {next.map(|h| view! { <a class="text-sky-700 hover:underline dark:text-sky-400" href=h data-testid="next-page">"Next page →"</a> })}
            </nav>
        </div>
    }
}

#[component]
fn IssueFilterForm(filters: IssueFilters, projects: Vec<String>) -> impl IntoView {
    let input = "rounded-md border border-slate-300 bg-white px-2 py-1 text-sm dark:border-slate-700 dark:bg-slate-900";
    let period = filters.period.clone();
    let sort = filters.sort.clone();
    view! {
        <form method="get" action="/" class="flex flex-wrap items-end gap-3 text-sm" data-testid="issue-filters">
            <label class="flex flex-col gap-1">
                <span class="text-xs text-slate-500">"Project"</span>
                <input name="project" list="projects" value=filters.project.clone() placeholder="all" class=input size="12"/>
                <datalist id="projects">
                    {projects.into_iter().map(|p| view! { <option value=p.clone()></option> }).collect_view()}
                </datalist>
            </label>
            <label class="flex flex-col gap-1">
                <span class="text-xs text-slate-500">"Environment"</span>
                <input name="environment" value=filters.environment.clone() placeholder="all" class=input size="10"/>
            </label>
            <label class="flex flex-col gap-1">
                <span class="text-xs text-slate-500">"Period"</span>
                <select name="period" class=input>
                    {PERIODS.iter().map(|(v, l)| view! { <option value=*v selected=period == *v>{*l}</option> }).collect_view()}
                </select>
            </label>
            <label class="flex min-w-64 flex-1 flex-col gap-1">
                <span class="text-xs text-slate-500">"Sentry search"</span>
                <input name="query" value=filters.query.clone() placeholder="is:unresolved" class=format!("{input} font-mono")/>
            </label>
            <label class="flex flex-col gap-1">
                <span class="text-xs text-slate-500">"Sort"</span>
                <select name="sort" class=input>
                    {SORTS.iter().map(|(v, l)| view! { <option value=*v selected=sort == *v>{*l}</option> }).collect_view()}
                </select>
            </label>
            <button type="submit" class="btn" data-testid="apply-filters">"Apply"</button>
        </form>
    }
}

/// `2026-11-21T11:11:08Z` → `2026-11-21 11:11 UTC` (the full time is in the cell's tooltip).
fn short_time(t: Option<&str>) -> String {
    match t {
        Some(t) => match (t.get(..10), t.get(11..16)) {
            (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
            _ => t.to_owned(),
        },
        None => "—".into(),
    }
}

#[component]
fn IssueLine(i: IssueRow, trace: Signal<Option<IssueTrace>>) -> impl IntoView {
    let href = format!("/issue/{}", i.id);
    view! {
        <tr data-testid="issue-row" data-issue-id=i.id.clone() data-short-id=i.short_id.clone()>
            <td class="px-3 py-2 align-top">
                <span class=format!("mr-2 rounded px-1.5 py-0.5 text-xs font-medium {}", level_class(&i.level))>{i.level.clone()}</span>
                <a class="font-medium text-sky-700 hover:underline dark:text-sky-400" rel="external" href=href data-testid="issue-link">{i.title.clone()}</a>
                <div class="mt-0.5 text-xs text-slate-500">
                    <span class="font-mono">{i.short_id.clone()}</span>
                    {i.culprit.clone().map(|c| view! { " · " <span data-testid="issue-culprit">{c}</span> })}
                    {i.permalink.clone().map(|p| view! { " · " <a class="hover:underline" href=p target="_blank" rel="noopener noreferrer">"Sentry"</a> })}
                </div>
            </td>
            <td class="whitespace-nowrap px-3 py-2 align-top">{i.project.clone()}</td>
            <td class="whitespace-nowrap px-3 py-2 align-top">
                {move || match trace.get() {
                    Some(t) => {
                        let (label, cls) = match t.state.as_str() {
                            "trace" => ("trace", "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200"),
                            "none" => ("no trace", "bg-slate-100 text-slate-600 dark:bg-slate-800 dark:text-slate-300"),
                            _ => ("unknown", "bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200"),
                        };
                        view! {
                            <span data-testid="issue-trace" data-state=t.state.clone() title=t.detail.clone().or(t.trace_id.clone()).unwrap_or_default()
                                class=format!("rounded px-1.5 py-0.5 text-xs font-medium {cls}")>{label}</span>
                        }.into_any()
                    }
                    None => view! { <span data-testid="issue-trace" data-state="checking" class="text-xs text-slate-400">"checking…"</span> }.into_any(),
                }}
            </td>
            <td class="px-3 py-2 text-right align-top tabular-nums" data-testid="issue-count">{i.count}</td>
            <td class="px-3 py-2 text-right align-top tabular-nums" data-testid="issue-users">{i.user_count}</td>
            <td class="whitespace-nowrap px-3 py-2 align-top font-mono text-xs" title=i.last_seen.clone().unwrap_or_default()>{short_time(i.last_seen.as_deref())}</td>
            <td class="whitespace-nowrap px-3 py-2 align-top font-mono text-xs" title=i.first_seen.clone().unwrap_or_default()>{short_time(i.first_seen.as_deref())}</td>
        </tr>
    }
}

#[component]
fn OverviewView(data: Overview) -> impl IntoView {
    let Overview {
        source,
        traces,
        errors,
        notices,
        issues,
        generation,
    } = data;
    let local = generation.is_some();
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
            {local.then(|| view! {
                <section data-testid="local-issues">
                    <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                        "Issues (" {issues.len()} ")"
                    </h2>
                    <LocalIssueTable issues=issues.clone()/>
                </section>
            })}
            {(!local || !errors.is_empty()).then(|| view! {
                <section>
                    <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-500">
                        "Sentry errors (" {errors.len()} ")"
                    </h2>
                    <ErrorTable errors=errors.clone()/>
                </section>
            })}
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
                                                    href=trace_url_with(t, None, Some(&e.event_id))>{e.title.clone()}</a>
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
fn LocalIssueTable(issues: Vec<LocalIssueRow>) -> impl IntoView {
    let empty = issues.is_empty();
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 dark:border-slate-800">
            <table class="w-full text-left text-sm">
                <thead class="bg-slate-50 text-xs uppercase text-slate-500 dark:bg-slate-900">
                    <tr>
                        <th class="px-3 py-2">"Issue"</th>
                        <th class="px-3 py-2">"Service"</th>
                        <th class="px-3 py-2">"Trace"</th>
                        <th class="px-3 py-2 text-right">"Events"</th>
                        <th class="px-3 py-2">"Last seen"</th>
                        <th class="px-3 py-2">"First seen"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                    {issues
                        .into_iter()
                        .map(|i| {
                            let href = match &i.trace_id {
                                Some(t) => trace_url_with(t, None, Some(&i.event_id)),
                                None => format!("/event/{}", i.event_id),
                            };
                            let grouped = if i.by_fingerprint { "grouped by fingerprint" } else { "grouped by type and frame" };
                            view! {
                                <tr data-testid="local-issue" data-event-id=i.event_id.clone()>
                                    <td class="px-3 py-2 align-top">
                                        <span class=format!("mr-2 rounded px-1.5 py-0.5 text-xs font-medium {}", level_class(&i.level))>{i.level.clone()}</span>
                                        <a class="font-medium text-sky-700 hover:underline dark:text-sky-400" rel="external" href=href data-testid="local-issue-link">{i.title.clone()}</a>
                                        <div class="mt-0.5 text-xs text-slate-500">
                                            {i.project.clone().map(|p| view! { <span>"project " {p}</span> " · " })}
                                            <span>{grouped}</span>
                                        </div>
                                    </td>
                                    <td class="whitespace-nowrap px-3 py-2 align-top">{i.service.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="whitespace-nowrap px-3 py-2 align-top">
                                        {match &i.trace_id {
                                            Some(t) => view! {
                                                <span data-testid="local-issue-trace" data-state="trace" title=t.clone()
                                                    class="rounded bg-emerald-100 px-1.5 py-0.5 text-xs font-medium text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200">"trace"</span>
                                            }.into_any(),
                                            None => view! {
                                                <span data-testid="local-issue-trace" data-state="none"
                                                    class="rounded bg-slate-100 px-1.5 py-0.5 text-xs font-medium text-slate-600 dark:bg-slate-800 dark:text-slate-300">"no trace"</span>
                                            }.into_any(),
                                        }}
                                    </td>
                                    <td class="px-3 py-2 text-right align-top tabular-nums" data-testid="local-issue-count">{i.count}</td>
                                    <td class="whitespace-nowrap px-3 py-2 align-top font-mono text-xs" title=i.last_seen.clone()>{short_time(Some(&i.last_seen))}</td>
                                    <td class="whitespace-nowrap px-3 py-2 align-top font-mono text-xs" title=i.first_seen.clone()>{short_time(Some(&i.first_seen))}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            {empty.then(|| view! {
                <p class="p-4 text-sm text-slate-500" data-testid="no-local-issues">
                    "No errors received yet. Point an SDK's DSN at this server (the DSN and OTLP endpoint are printed at startup)."
                </p>
            })}
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
                                        <a class="hover:underline" href=trace_url_with(&t.trace_id, None, None) data-testid="trace-link">
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
