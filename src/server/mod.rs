//! Server: the compiled site files, configuration (composing each connector's own config), shared state, data loading,
//! resolving what a person pasted, "Open in …" links, access control, response headers, readiness,
//! metrics, the server's own routes, the connection-limited accept loop, and ingest (OTLP and Sentry
//! SDK traffic into the local store) (server only).
//!
//! Imports `domain`, `correlate`, `connectors` and `view`; never `api` or `ui` (the router that joins
//! them all is `crate::app`).

pub mod assets;
pub mod auth;
pub mod config;
pub mod data;
pub mod headers;
pub mod ingest;
pub mod links;
pub mod metrics;
pub mod ready;
pub mod resolve;
pub mod routes;
pub mod serve;
pub mod snapshots;
pub mod state;
pub mod telemetry;

pub use data::{DataError, DataStore, Loaded};
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
        .map_err(|e| e.to_string())?
        .with_default_store(default_data_dir(&env));
    Ok((leptos_options, config))
}

/// Where the local store lives when nothing says: `$XDG_DATA_HOME/tracepin`, else
/// `~/.local/share/tracepin`, else `./tracepin-data`.
pub fn default_data_dir(env: &dyn Fn(&str) -> Option<String>) -> std::path::PathBuf {
    let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(x) = nonempty("XDG_DATA_HOME") {
        return std::path::PathBuf::from(x).join("tracepin");
    }
    if let Some(h) = nonempty("HOME") {
        return std::path::PathBuf::from(h).join(".local/share/tracepin");
    }
    std::path::PathBuf::from("tracepin-data")
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
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
