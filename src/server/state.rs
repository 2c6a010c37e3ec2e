//! Shared server state: configuration, Leptos options, the loaded data, and the snapshots kept in the
//! data directory.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;

use super::config::Config;
use super::data::DataStore;
use super::ready::ReadyCache;

/// State shared by every handler and server function.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos options (site root, output name…).
    pub leptos_options: LeptosOptions,
    /// Validated configuration.
    pub config: Arc<Config>,
    /// Correlated data served by the pages.
    pub data: Arc<DataStore>,
    /// The last readiness report, so `/readyz` polls do not each call every upstream.
    pub ready: ReadyCache,
    /// Incident snapshots, when there is a data directory (`[store] path`, `TRACEPIN_DATA`, `--data`).
    pub snapshots: Option<Arc<super::snapshots::SnapshotService>>,
    /// The compiled site files (`/pkg/…`), kept in memory with their gzip form.
    pub assets: Arc<super::assets::Assets>,
}

impl AppState {
    /// Builds the state: loads data for the configured source.
    pub fn new(leptos_options: LeptosOptions, config: Config) -> Self {
        let config = Arc::new(config);
        let data = Arc::new(DataStore::load(&config));
        let snapshots = config.store.path.as_deref().and_then(|dir| {
            match super::snapshots::SqliteSnapshots::open(dir) {
                Ok(s) => Some(Arc::new(super::snapshots::SnapshotService::new(Arc::new(
                    s,
                )))),
                Err(e) => {
                    tracing::warn!(error = %e, "snapshots are off");
                    None
                }
            }
        });
        let assets = Arc::new(super::assets::Assets::new(
            std::path::Path::new(&*leptos_options.site_root).join(&*leptos_options.site_pkg_dir),
        ));
        Self {
            assets,
            leptos_options,
            config,
            data,
            ready: ReadyCache::new(),
            snapshots,
        }
    }
}
