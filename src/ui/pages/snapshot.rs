//! Incident snapshots: `/s/{id}` (the frozen timeline, the same page as a live trace, with its
//! banner and notes; never contacting an upstream) and `/snapshots` (the list, delete, import).

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use super::trace::{TimelinePage, TraceProblem};
use crate::api::snapshots::{delete_snapshot, get_snapshot, list_snapshots};
use crate::api::{get_timeline, AppError};
use crate::domain::trace_id_lenient;
use crate::view::state::ViewState;
use crate::view::types::SnapshotMeta;

/// `/s/{id}`: the snapshot's view when the URL names none, else the URL's (deep links work on
/// snapshots as on live traces).
#[component]
pub fn SnapshotRoute() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let query = location.search.get_untracked();
    let page = Resource::new(
        move || id.get(),
        move |id| {
            let query = query.clone();
            async move {
                let snap = get_snapshot(id.clone()).await?;
                let trace = trace_id_lenient(&snap.meta.trace_id)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let named = !query.trim_start_matches('?').trim().is_empty();
                let vs = if named {
                    ViewState::from_query(&query)
                } else {
                    ViewState::from_query(&snap.meta.view)
                };
                let v = get_timeline(trace, vs.clone(), Some(id)).await?;
                Ok::<_, AppError>((trace, v, snap, (!named).then_some(vs)))
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <p class="p-6 text-slate-500">"Loading snapshot…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok((trace, v, snap, start)) => Either::Left(view! {
                        <div class="flex flex-col gap-3">
                            <SnapshotBanner meta=snap.meta.clone()/>
                            <TimelinePage trace=trace view=v snapshot=Some(snap) start=start/>
                        </div>
                    }),
                    Err(e) => Either::Right(view! { <TraceProblem error=e/> }),
                }
            })}
        </Suspense>
    }
}

/// "Snapshot of <time>, frozen by <who>".
#[component]
fn SnapshotBanner(meta: SnapshotMeta) -> impl IntoView {
    view! {
        <div role="note" data-testid="snapshot-banner"
            class="flex flex-wrap items-center gap-x-4 gap-y-1 rounded-md border border-violet-300 bg-violet-50 px-3 py-2 text-sm text-violet-950 dark:border-violet-800 dark:bg-violet-950 dark:text-violet-100">
            <span class="font-semibold" data-testid="snapshot-title">{meta.title.clone()}</span>
            <span data-testid="snapshot-frozen">{format!("Snapshot of {}, frozen by {}", meta.frozen_at, meta.frozen_by)}</span>
            <span class="text-xs">"A frozen copy: tracepin does not ask Sentry or the trace backend for it."</span>
            {meta.expires_at.clone().map(|e| view! { <span class="text-xs" data-testid="snapshot-expires">{format!("Expires {e}")}</span> })}
        </div>
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// `/snapshots`: every snapshot, newest first; delete; import a file.
#[component]
pub fn SnapshotsPage() -> impl IntoView {
    let query = use_query_map();
    let import_error = move || query.with(|q| q.get("import_error"));
    let version = RwSignal::new(0u32);
    let list = Resource::new(move || version.get(), |_| list_snapshots());
    let problem = RwSignal::new(None::<String>);
    let delete = move |id: String| {
        leptos::task::spawn_local(async move {
            match delete_snapshot(id).await {
                Ok(()) => {
                    problem.set(None);
                    version.update(|v| *v += 1);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="mx-auto flex max-w-5xl flex-col gap-4" data-testid="snapshots-page">
            <h1 class="text-xl font-semibold">"Snapshots"</h1>
            <p class="text-sm text-slate-600 dark:text-slate-300">
                "Frozen timelines with their errors, view and notes. They are kept until deleted or until they expire, whatever the trace store's retention. Freeze one from a trace's page."
            </p>
            {move || import_error().map(|e| view! {
                <p role="alert" class="rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100" data-testid="import-error">{e}</p>
            })}
            <span class="text-sm text-rose-600" role="alert">{move || problem.get()}</span>
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(items) if items.is_empty() => view! {
                            <p class="text-sm text-slate-500" data-testid="snapshots-empty">"No snapshots yet."</p>
                        }.into_any(),
                        Ok(items) => view! {
                            <table class="w-full text-left text-sm" data-testid="snapshots-table">
                                <thead class="text-xs text-slate-500"><tr>
                                    <th class="py-1">"Title"</th><th>"Trace"</th><th>"Frozen"</th><th>"By"</th><th>"Size"</th><th>"Expires"</th><th></th>
                                </tr></thead>
                                <tbody>
                                    {items.into_iter().map(|m| {
                                        let id = m.id.clone();
                                        view! {
                                            <tr class="border-t border-slate-200 dark:border-slate-800" data-testid="snapshot-row" data-snapshot-id=m.id.clone()>
                                                <td class="py-1.5"><a class="text-sky-700 hover:underline dark:text-sky-400" href=format!("/s/{}", m.id)>{m.title.clone()}</a></td>
                                                <td class="font-mono text-xs">{m.trace_id.clone()}</td>
                                                <td class="text-xs tabular-nums">{m.frozen_at.clone()}</td>
                                                <td class="text-xs">{m.frozen_by.clone()}</td>
                                                <td class="text-xs tabular-nums" data-testid="snapshot-size">{size(m.size_bytes)}</td>
                                                <td class="text-xs">{m.expires_at.clone().unwrap_or_else(|| "never".into())}</td>
                                                <td class="text-right">
                                                    <a class="btn" href=format!("/api/snapshots/{}/file", m.id) rel="external">"Export"</a>
                                                    " "
                                                    <button type="button" class="btn" data-testid="snapshot-delete" on:click=move |_| delete(id.clone())>"Delete"</button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="text-sm text-rose-600" role="alert" data-testid="snapshots-problem">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <form method="post" action="/api/snapshots/import" enctype="multipart/form-data" data-testid="import-form"
                class="flex flex-wrap items-center gap-2 rounded-md border border-slate-200 p-3 text-sm dark:border-slate-800">
                <label for="snapshot-file">"Import a snapshot file (.tracepin.json.gz)"</label>
                <input id="snapshot-file" type="file" name="file" accept=".gz,application/gzip" required data-testid="import-file"/>
                <button type="submit" class="btn" data-testid="import-submit">"Import"</button>
            </form>
        </section>
    }
}
