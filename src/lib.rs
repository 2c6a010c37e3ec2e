//! tracepin: one timeline for Sentry errors and OpenTelemetry traces.
//!
//! Data flows one way: `connectors` (the only code that knows an upstream's wire format) produce
//! domain values; `correlate` (pure, no I/O, cannot fail) assembles traces and pins errors to spans;
//! `server` and `api` (the only code that knows HTTP) serve compact view data; `ui` renders it. See
//! ARCHITECTURE.md for the code map and the invariants.

#![recursion_limit = "512"]

pub mod api;
pub mod correlate;
pub mod domain;
pub mod ui;
pub mod view;

#[cfg(feature = "ssr")]
pub mod app;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod connectors;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The WebAssembly memory, so the browser benchmark can report it next to the JS heap.
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"tracepinWasmMemory".into(), &wasm_bindgen::memory());
    }
    leptos::mount::hydrate_body(ui::App);
}
