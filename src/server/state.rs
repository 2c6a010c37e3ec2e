//! Shared server state: configuration, Leptos options, and the loaded data.

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
}

impl AppState {
    /// Builds the state: loads data for the configured source.
    pub fn new(leptos_options: LeptosOptions, config: Config) -> Self {
        let config = Arc::new(config);
        let data = Arc::new(DataStore::load(&config));
        Self {
            leptos_options,
            config,
            data,
            ready: ReadyCache::new(),
        }
    }
}
