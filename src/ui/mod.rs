//! User interface: the Leptos app shell, pages and components.
//!
//! Renders compact view data from `api`; the waterfall's row selection and bar geometry are pure
//! functions in `ui::waterfall` so they can be tested without a browser. Owns no data fetching beyond
//! calling server functions.

pub mod components;
pub mod pages;
pub mod trace_ctx;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use components::header::Header;
use pages::resolve::{EventRoute, IssueRoute, LookupRoute};
use pages::{home::HomePage, not_found::NotFound, trace::TracePage};

/// Sets the theme before first paint: the stored choice, else the system preference.
const THEME_SCRIPT: &str = "(function(){try{var t=localStorage.getItem('tracepin-theme');var d=t==='dark'||(t!=='light'&&window.matchMedia('(prefers-color-scheme: dark)').matches);document.documentElement.classList.toggle('dark',d);}catch(e){}})();";

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <script nonce=leptos::nonce::use_nonce()>{THEME_SCRIPT}</script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-white text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// The root component: header, routes, 404.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();

    view! {
        <Stylesheet id="leptos" href="/pkg/tracepin.css"/>
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml"/>
        <Meta name="color-scheme" content="light dark"/>
        <Title text="tracepin"/>
        <Router>
            <Header/>
            <main class="mx-auto w-full max-w-screen-2xl px-4 py-6">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/trace/:id") view=TracePage ssr=SsrMode::Async/>
                    <Route path=path!("/lookup") view=LookupRoute ssr=SsrMode::Async/>
                    <Route path=path!("/issue/:id") view=IssueRoute ssr=SsrMode::Async/>
                    <Route path=path!("/event/:id") view=EventRoute ssr=SsrMode::Async/>
                    <Route path=path!("/s/:id") view=pages::snapshot::SnapshotRoute ssr=SsrMode::Async/>
                    <Route path=path!("/snapshots") view=pages::snapshot::SnapshotsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}

/// Marks `<html data-hydrated="true">` once the WebAssembly app runs, so tests (and people debugging)
/// can tell a hydrated page from server-rendered HTML.
fn mark_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = el.set_attribute("data-hydrated", "true");
        }
    });
}
