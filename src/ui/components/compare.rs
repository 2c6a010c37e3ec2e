//! Compare mode's summary panel: what the trace was compared with, where it first went wrong, the
//! findings as sentences linking to their rows, "Only differences", and — when no healthy trace was
//! found — where tracepin looked and a field to name baseline traces.

use leptos::prelude::*;

use crate::ui::trace_ctx::TraceCtx;
use crate::view::compare::{FindingView, GHOST_BASE};
use crate::view::state::CompareWith;

/// The panel, shown while `cmp=` is in the URL.
#[component]
pub fn ComparePanel() -> impl IntoView {
    let ctx = TraceCtx::get();
    let active = move || ctx.vs.with(|v| v.cmp.is_some());
    move || {
        active().then(|| {
            view! {
                <section class="rounded-lg border border-indigo-200 bg-indigo-50/60 p-4 text-sm dark:border-indigo-900 dark:bg-indigo-950/40" data-testid="compare-panel" aria-live="polite">
                    <div class="flex flex-wrap items-center justify-between gap-2">
                        <h2 class="font-semibold text-indigo-900 dark:text-indigo-100" data-testid="compare-title">{move || title(ctx)}</h2>
                        <div class="flex flex-wrap items-center gap-3 text-xs">
                            <label class="flex items-center gap-1">
                                <input type="checkbox" data-testid="diff-only"
                                    prop:checked=move || ctx.vs.with(|v| v.diff_only)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        ctx.vs.update(|v| v.diff_only = on);
                                        ctx.commit(false);
                                    }/>
                                "Only differences"
                            </label>
                            <button type="button" class="btn" data-testid="compare-close" on:click=move |_| {
                                ctx.vs.update(|v| { v.cmp = None; v.diff_only = false; });
                                ctx.commit(true);
                            }>"Close comparison"</button>
                        </div>
                    </div>
                    <Body/>
                    <NameBaselines/>
                </section>
            }
        })
    }
}

fn title(ctx: TraceCtx) -> String {
    if ctx.compare_loading.get() {
        return "Comparing with healthy traces…".into();
    }
    match ctx.compare.get() {
        Some(c) if c.baselines.is_empty() => "No healthy trace to compare with".into(),
        Some(c) => {
            let named = ctx
                .vs
                .with(|v| matches!(v.cmp, Some(CompareWith::Traces(_))));
            format!(
                "Compared with {} {} trace{}",
                c.baselines.len(),
                if named { "named" } else { "healthy" },
                if c.baselines.len() == 1 { "" } else { "s" }
            )
        }
        None => "Compare with healthy traces".into(),
    }
}

/// Goes to what a finding is about: its first row, or the row its ghost hangs under.
fn go_to(ctx: TraceCtx, f: &FindingView) {
    if let Some(r) = f.rows.first() {
        ctx.expand_to(*r);
        ctx.select_row(*r);
        return;
    }
    let Some(g) = f.ghost else { return };
    let parent = ctx.compare.with_untracked(|c| {
        let c = c.as_ref()?;
        let mut g = c.ghosts.get(g as usize)?;
        loop {
            match (g.parent_row, g.parent_ghost) {
                (Some(r), _) => return Some(r),
                (None, Some(pg)) => g = c.ghosts.get(pg as usize)?,
                (None, None) => return None,
            }
        }
    });
    if let Some(r) = parent {
        ctx.expand_to(r);
        ctx.select_row(r);
    }
}

#[component]
fn Body() -> impl IntoView {
    let ctx = TraceCtx::get();
    move || {
        if let Some(p) = ctx.compare_problem.get() {
            return view! { <p class="mt-2 text-rose-700 dark:text-rose-300" role="alert" data-testid="compare-problem">{p}</p> }.into_any();
        }
        let Some(c) = ctx.compare.get() else {
            return view! { <p class="mt-2 text-slate-500">"Searching the trace backends for healthy traces of the same request…"</p> }.into_any();
        };
        let problems = c.problems.clone();
        let problem_list = (!problems.is_empty()).then(|| view! {
            <ul class="mt-2 space-y-0.5 text-xs text-amber-800 dark:text-amber-200" data-testid="compare-problems">
                {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
            </ul>
        });
        let searched = c.searched.clone();
        if c.baselines.is_empty() {
            let skipped = c.skipped_with_errors;
            return view! {
                <div data-testid="compare-none">
                    <p class="mt-2">
                        "No trace of the same root service and span name without errors was found within an hour of this one"
                        {(skipped > 0).then(|| format!(" ({skipped} of the same root had errors)"))}
                        ". Looked in:"
                    </p>
                    <ul class="mt-1 list-disc space-y-0.5 pl-5 text-xs" data-testid="compare-searched">
                        {searched.into_iter().map(|s| view! { <li class="break-all">{s}</li> }).collect_view()}
                    </ul>
                    <p class="mt-2 text-xs">"Name healthy traces below to compare with them instead."</p>
                    {problem_list}
                </div>
            }
            .into_any();
        }
        let divergence = c.divergence.clone().map(|d| {
            let d2 = d.clone();
            view! {
                <p class="mt-2" data-testid="compare-divergence">
                    <span class="font-semibold">"First divergence: "</span>
                    <button type="button" class="text-left underline decoration-dotted" on:click=move |_| go_to(ctx, &d2)>{d.text.clone()}</button>
                </p>
            }
        });
        let findings = c.findings.clone();
        let none = findings.is_empty().then(|| view! {
            <p class="mt-2 text-emerald-700 dark:text-emerald-300" data-testid="compare-same">"Nothing differs from the healthy traces: same calls, same counts, usual durations."</p>
        });
        let baselines = c.baselines.clone();
        view! {
            <div>
                {divergence}
                {none}
                <ul class="mt-2 space-y-1" data-testid="compare-findings">
                    {findings.into_iter().map(|f| {
                        let kind = f.kind.clone();
                        let f2 = f.clone();
                        let badge = match kind.as_str() {
                            "errored" => "bg-rose-600",
                            "repeated" => "bg-orange-500",
                            "missing" => "bg-slate-500",
                            "new" => "bg-violet-600",
                            "slower" => "bg-amber-500",
                            _ => "bg-sky-600",
                        };
                        view! {
                            <li class="flex items-start gap-2" data-testid="compare-finding" data-kind=kind.clone()>
                                <span class=format!("mt-0.5 shrink-0 rounded px-1 text-[10px] font-semibold uppercase text-white {badge}")>{kind.clone()}</span>
                                <button type="button" class="text-left hover:underline" on:click=move |_| go_to(ctx, &f2)>{f.text.clone()}</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <details class="mt-2 text-xs text-slate-600 dark:text-slate-300">
                    <summary class="cursor-pointer">"Baselines and where they came from"</summary>
                    <ul class="mt-1 space-y-0.5 font-mono" data-testid="compare-baselines">
                        {baselines.into_iter().map(|b| {
                            let href = format!("/trace/{}", b.trace_id);
                            view! { <li><a class="text-sky-700 hover:underline dark:text-sky-300" href=href>{b.trace_id.clone()}</a>" · "{b.backend.clone()}</li> }
                        }).collect_view()}
                    </ul>
                    <ul class="mt-1 list-disc pl-5">
                        {searched.into_iter().map(|s| view! { <li class="break-all">{s}</li> }).collect_view()}
                    </ul>
                </details>
                {problem_list}
            </div>
        }
        .into_any()
    }
}

/// A field to compare with named traces instead (`cmp=<id>,<id>`).
#[component]
fn NameBaselines() -> impl IntoView {
    let ctx = TraceCtx::get();
    let text = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match CompareWith::parse(&text.get_untracked()) {
            Some(CompareWith::Traces(ids)) => {
                problem.set(None);
                ctx.vs.update(|v| v.cmp = Some(CompareWith::Traces(ids)));
                ctx.commit(true);
            }
            Some(CompareWith::Auto) => {
                problem.set(None);
                ctx.vs.update(|v| v.cmp = Some(CompareWith::Auto));
                ctx.commit(true);
            }
            None => problem.set(Some(
                "Name trace ids (32 hex digits), separated by commas or spaces.".into(),
            )),
        }
    };
    view! {
        <form class="mt-3 flex flex-wrap items-center gap-2 text-xs" data-testid="compare-name-form" on:submit=submit>
            <label for="baseline-ids" class="text-slate-600 dark:text-slate-300">"Compare with these traces instead:"</label>
            <input id="baseline-ids" type="text" data-testid="compare-ids" autocomplete="off" spellcheck="false"
                class="w-96 rounded border border-slate-300 bg-white px-1 py-0.5 font-mono dark:border-slate-700 dark:bg-slate-900"
                placeholder="trace ids, or auto"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            <button type="submit" class="btn" data-testid="compare-ids-submit">"Compare"</button>
            <span class="text-rose-600" role="alert">{move || problem.get()}</span>
        </form>
    }
}

/// The ghost index of a visible-row number.
pub fn ghost_index(row: u32) -> usize {
    row.saturating_sub(GHOST_BASE) as usize
}
