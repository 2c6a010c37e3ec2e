//! The page header: product name, the lookup box, the theme toggle.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

use super::theme::ThemeToggle;
use crate::domain::recognise::{recognise, ACCEPTED_FORMS};

/// Header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    let query = use_query_map();
    let path = use_location().pathname;
    // On the lookup page the box keeps what was pasted, so nothing is lost.
    let initial = move || {
        if path.get_untracked() == "/lookup" {
            query.with_untracked(|q| q.get("q").unwrap_or_default())
        } else {
            String::new()
        }
    };
    let text = RwSignal::new(initial());
    let tried = RwSignal::new(false);
    let verdict = Memo::new(move |_| {
        let t = text.get();
        (!t.trim().is_empty()).then(|| {
            recognise(&t)
                .map(|r| r.form.describe())
                .map_err(|u| u.message)
        })
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        // Recognised in the browser first: text that is no id never leaves the page, and the message
        // with the accepted forms appears right under the box.
        if matches!(verdict.get_untracked(), Some(Err(_)) | None) {
            ev.prevent_default();
            tried.set(true);
        }
    };
    view! {
        <header class="sticky top-0 z-20 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
            <div class="mx-auto flex w-full max-w-screen-2xl items-center gap-4 px-4 py-2">
                <a href="/" class="flex items-center gap-2 font-semibold tracking-tight" data-testid="brand">
                    <span class="inline-block h-3 w-3 rounded-full bg-rose-500 ring-4 ring-rose-500/20"></span>
                    "tracepin"
                </a>
                <form action="/lookup" method="get" class="relative flex flex-1 items-center" role="search" on:submit=on_submit>
                    <label for="lookup" class="sr-only">"Trace id, event id, short id or link"</label>
                    <input
                        id="lookup"
                        name="q"
                        type="search"
                        autocomplete="off"
                        spellcheck="false"
                        placeholder="Paste a trace id, traceparent, Sentry event id, SHOP-12 or a Sentry/Grafana/Jaeger link"
                        class="w-full max-w-2xl rounded-md border border-slate-300 bg-slate-50 px-3 py-1.5 font-mono text-sm placeholder:font-sans placeholder:text-slate-400 focus:border-sky-500 focus:outline-none focus:ring-2 focus:ring-sky-500/30 dark:border-slate-700 dark:bg-slate-900"
                        data-testid="lookup-input"
                        value=initial()
                        on:input=move |ev| {
                            text.set(event_target_value(&ev));
                            tried.set(false);
                        }
                    />
                    <LookupHint verdict tried/>
                </form>
                <a href="/snapshots" class="text-sm text-slate-600 hover:underline dark:text-slate-300" data-testid="nav-snapshots">"Snapshots"</a>
                <ThemeToggle/>
            </div>
        </header>
    }
}

/// Under the box: what the text is recognised as while typing; on a refused submit, why and what the
/// box accepts.
#[component]
fn LookupHint(
    verdict: Memo<Option<Result<&'static str, String>>>,
    tried: RwSignal<bool>,
) -> impl IntoView {
    move || {
        match (verdict.get(), tried.get()) {
        (Some(Ok(form)), _) => view! {
            <p class="absolute left-0 top-full mt-1 rounded bg-emerald-50 px-2 py-0.5 text-xs text-emerald-900 shadow dark:bg-emerald-950 dark:text-emerald-100" data-testid="lookup-hint">
                "Enter opens: " {form}
            </p>
        }
        .into_any(),
        (Some(Err(message)), false) => view! {
            <p class="absolute left-0 top-full mt-1 rounded bg-amber-50 px-2 py-0.5 text-xs text-amber-900 shadow dark:bg-amber-950 dark:text-amber-100" data-testid="lookup-hint">
                {message}
            </p>
        }
        .into_any(),
        (v, true) => {
            let message = match v {
                Some(Err(m)) => m,
                _ => "Paste an id or a link first.".to_owned(),
            };
            view! {
                <div role="alert" class="absolute left-0 top-full z-30 mt-1 w-full max-w-2xl rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 shadow-lg dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                    <p class="font-semibold" data-testid="lookup-message">{message}</p>
                    <p class="mt-2 text-xs">"The box accepts:"</p>
                    <ul class="mt-1 space-y-0.5 text-xs" data-testid="accepted-forms">
                        {ACCEPTED_FORMS.iter().map(|(f, ex)| view! {
                            <li class="flex flex-wrap justify-between gap-2"><span>{*f}</span><code class="break-all font-mono opacity-70">{*ex}</code></li>
                        }).collect_view()}
                    </ul>
                </div>
            }
            .into_any()
        }
        (None, false) => ().into_any(),
    }
    }
}
