//! The application: the one place that assembles every layer into a router and serves it.
//!
//! `router(state)` joins the server's probes, the JSON export (`api`), the Leptos pages and server
//! functions (`ui`, `api`), the compiled site files (`/pkg/`, from memory) and the other static files, behind the server's layers (auth outermost); the
//! ingest endpoints (when the local store is on) are merged *outside* those layers, since SDKs
//! authenticate with DSN keys. It is a plain function, so tests drive it with `oneshot` or bind it on
//! `127.0.0.1:0`. `run` refuses unsafe ingest settings, seeds a new default store with the demo,
//! binds the address from the Leptos options (and `[ingest] otlp_addr`), prints where to send data,
//! serves with the connection limits of `server::serve`, and shuts down gracefully on SIGTERM/Ctrl-C.
//! Every page goes through [`page_shell`], which sets the page's Content-Security-Policy with the
//! nonce Leptos puts on its scripts.

use axum::routing::get;
use axum::Router;
use leptos::prelude::LeptosOptions;
use leptos_axum::{generate_route_list, LeptosRoutes};

use crate::server::config::Config;
use crate::server::{ingest, ready, routes, AppState};
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
        .route("/pkg/{file}", get(crate::server::assets::serve))
        .route("/api/export/{trace_id}", get(crate::api::export::export))
        .route(
            "/api/snapshots/{id}/file",
            get(crate::api::snapshots::export_file),
        )
        .route(
            "/api/snapshots/import",
            axum::routing::post(crate::api::snapshots::import_file).layer(
                axum::extract::DefaultBodyLimit::max(
                    crate::server::snapshots::MAX_FILE_BYTES + 64 * 1024,
                ),
            ),
        )
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
    let app = routes::with_layers(app, &state);
    // Ingest has its own DSN-key auth: it is merged outside the dashboard's auth layer.
    match ingest::router(&state) {
        Some(ingest) => ingest.merge(app),
        None => app,
    }
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn run(leptos_options: LeptosOptions, config: Config) -> std::io::Result<()> {
    let addr = leptos_options.site_addr;
    let otlp_addr = match config.ingest.otlp_addr.as_deref().map(str::parse) {
        Some(Ok(a)) => Some(a),
        Some(Err(e)) => return Err(other(format!("[ingest] otlp_addr: {e}"))),
        None => None,
    };
    let addrs: Vec<std::net::SocketAddr> = std::iter::once(addr).chain(otlp_addr).collect();
    ingest::startup_check(&config, &addrs).map_err(other)?;
    let state = AppState::new(leptos_options, config);
    if let Some(p) = state.data.store_problem() {
        return Err(other(format!("the local store cannot be opened: {p}")));
    }
    if let Some(store) = state.data.store() {
        if state.config.seed_demo && store.was_created() {
            let problems = ingest::load::seed_demo(store).await;
            for p in &problems {
                tracing::warn!("demo seed: {p}");
            }
            println!("tracepin: new local store seeded with the demo incident");
        }
    }
    let app = router(state.clone());
    // The site files are read and gzipped once, before the first page asks for them.
    tokio::spawn(std::sync::Arc::clone(&state.assets).warm());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let otlp_listener = match otlp_addr {
        Some(a) => Some(tokio::net::TcpListener::bind(a).await?),
        None => None,
    };
    let otlp_local = match &otlp_listener {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    tracing::info!(source = %state.data.source(), "tracepin listening on http://{local}");
    println!("tracepin is serving on http://{local}");
    if let Some(store) = state.data.store() {
        for line in ingest::startup_lines(&state.config, store, local, otlp_local) {
            println!("{line}");
        }
    }
    let limits = state.config.server.limits();
    if let (Some(l), Some(r)) = (otlp_listener, ingest::otlp_router(&state)) {
        tokio::spawn(async move {
            if let Err(e) =
                crate::server::serve::serve(l, r, limits, crate::server::shutdown_signal()).await
            {
                tracing::error!(error = %e, "the OTLP listener stopped");
            }
        });
    }
    // Expired traces leave the caches even when no request comes to trigger it.
    let data = state.data.clone();
    let snapshots = state.snapshots.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            tick.tick().await;
            data.housekeep().await;
            if let Some(s) = &snapshots {
                s.housekeep().await;
            }
        }
    });
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
    tracing::info!(
        max_connections = limits.max_connections,
        header_timeout_s = limits.header_read_timeout.as_secs(),
        "connection limits"
    );
    crate::server::serve::serve(listener, app, limits, crate::server::shutdown_signal()).await?;
    if let Some(store) = state.data.store() {
        // Let the writer commit what is queued before the process ends.
        let store = store.clone();
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
    }
    tracing::info!("tracepin stopped");
    Ok(())
}

fn other(message: String) -> std::io::Error {
    std::io::Error::other(message)
}
