//! The 404 page, served with HTTP status 404.

use leptos::prelude::*;

/// Shown for any unknown path.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    let path = leptos_router::hooks::use_location().pathname;
    view! {
        <section class="mx-auto max-w-xl py-16 text-center" data-testid="not-found">
            <p class="text-sm font-semibold uppercase tracking-widest text-rose-500">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold">"Nothing lives at this address"</h1>
            <p class="mt-3 text-slate-600 dark:text-slate-400">
                "tracepin has no page at "
                <code class="rounded bg-slate-100 px-1 font-mono text-sm dark:bg-slate-800">{move || path.get()}</code>
                ". Paste a trace id, Sentry event id or link in the box above, or go back to the overview."
            </p>
            <a href="/" class="mt-6 inline-block rounded-md bg-slate-900 px-4 py-2 text-sm font-medium text-white hover:bg-slate-700 dark:bg-slate-100 dark:text-slate-900 dark:hover:bg-white">
                "Back to the overview"
            </a>
        </section>
    }
}
