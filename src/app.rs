//! The application: the one place that assembles every layer into a router and serves it.
//!
//! `router(state)` joins the server's probes, the JSON export (`api`), the Leptos pages and server
//! functions (`ui`, `api`) and the static files, behind the server's layers (auth outermost). It is a
//! plain function, so tests drive it with `oneshot` or bind it on `127.0.0.1:0`. `run` binds the
//! address from the Leptos options, serves with the connection limits of `server::serve`, and shuts
//! down gracefully on SIGTERM/Ctrl-C. Every page goes through [`page_shell`], which sets the page's
//! Content-Security-Policy with the nonce Leptos puts on its scripts.

use axum::routing::get;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::server::config::Config;
use crate::server::{ready, routes, AppState};
use crate::ui::{shell, App};

/// The page shell with the page Content-Security-Policy set for this response.
pub fn page_shell(options: LeptosOptions) -> impl leptos::IntoView {
    crate::server::headers::set_page_csp();
    shell(options)
}

/// Builds the complete application router for a state.
pub fn router(state: AppState) -> Router {
    let pages = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let app = routes::probes()
        .route("/api/export/{trace_id}", get(crate::api::export::export))
        .leptos_routes(&state, pages, {
            let options = leptos_options.clone();
            move || page_shell(options.clone())
        })
        .layer(axum::middleware::from_fn(
            crate::api::error::status_from_error,
        ))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            page_shell,
        ))
        .with_state(state.clone());
    routes::with_layers(app, &state)
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn run(leptos_options: LeptosOptions, config: Config) -> std::io::Result<()> {
    let addr = leptos_options.site_addr;
    let state = AppState::new(leptos_options, config);
    let app = router(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(source = %state.data.source(), "tracepin listening on http://{local}");
    println!("tracepin is serving on http://{local}");
    // Check every upstream once at startup (token scopes, reachability) and say what is wrong.
    let data = state.data.clone();
    tokio::spawn(async move {
        for u in ready::check(&data).await.upstreams {
            if u.status == "ok" {
                tracing::info!(upstream = %u.name, kind = %u.kind, "{}", u.detail);
            } else {
                tracing::warn!(upstream = %u.name, kind = %u.kind, "{}", u.detail);
            }
        }
    });
    let limits = state.config.server.limits();
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout_s = limits.header_read_timeout.as_secs(),
        "connection limits"
    );
    crate::server::serve::serve(listener, app, limits, crate::server::shutdown_signal()).await?;
    tracing::info!("tracepin stopped");
    Ok(())
}
