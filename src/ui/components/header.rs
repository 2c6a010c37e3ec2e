//! The page header: product name, the lookup box, the theme toggle.

use leptos::prelude::*;

use super::theme::ThemeToggle;

/// Header shown on every page.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="sticky top-0 z-20 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-950/90">
            <div class="mx-auto flex w-full max-w-screen-2xl items-center gap-4 px-4 py-2">
                <a href="/" class="flex items-center gap-2 font-semibold tracking-tight" data-testid="brand">
                    <span class="inline-block h-3 w-3 rounded-full bg-rose-500 ring-4 ring-rose-500/20"></span>
                    "tracepin"
                </a>
                <form action="/lookup" method="get" class="flex flex-1 items-center" role="search">
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
                    />
                </form>
                <ThemeToggle/>
            </div>
        </header>
    }
}
