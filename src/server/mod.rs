//! Server: configuration, shared state, access control, readiness and routes (server only).
//!
//! The only code besides `api` that knows HTTP. `router(state)` is a plain function so tests can drive
//! it; `run` binds the address from the Leptos options and shuts down gracefully on SIGTERM/Ctrl-C.

pub mod auth;
pub mod config;
pub mod data;
pub mod links;
pub mod lookup;
pub mod ready;
pub mod routes;
pub mod state;
pub mod telemetry;
pub mod timeline;

pub use routes::router;
pub use state::AppState;

use leptos::prelude::LeptosOptions;

use config::{Config, Overrides};

/// Loads `LeptosOptions` and tracepin's config from the same file (`Leptos.toml` by default).
pub fn load(config_path: &str, overrides: &Overrides) -> Result<(LeptosOptions, Config), String> {
    let text = match std::fs::read_to_string(config_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("cannot read {config_path}: {e}")),
    };
    let leptos_options = match &text {
        Some(t) if t.contains("[package.metadata.leptos]") => {
            leptos::config::get_config_from_str(t)
                .map_err(|e| format!("{config_path}: Leptos options: {e}"))?
        }
        _ => {
            leptos::config::get_configuration(None)
                .map_err(|e| format!("Leptos options from environment: {e}"))?
                .leptos_options
        }
    };
    let env = |k: &str| std::env::var(k).ok();
    let config = Config::load(text.as_deref().map(|t| (config_path, t)), &env, overrides)
        .map_err(|e| e.to_string())?;
    Ok((leptos_options, config))
}

/// Serves until SIGTERM or Ctrl-C.
pub async fn run(leptos_options: LeptosOptions, config: Config) -> std::io::Result<()> {
    let addr = leptos_options.site_addr;
    let state = AppState::new(leptos_options, config);
    let app = router(state.clone());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(
        source = %state.data.source(),
        "tracepin listening on http://{local}"
    );
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
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("tracepin stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing in-flight requests");
}
