//! Server functions: the public API between browser and server.
//!
//! Thin by rule: parse arguments into domain types, call one server-side function, map the error into
//! [`AppError`], the one error type that reaches the browser. Each function has a stable `endpoint`.

pub mod error;
pub mod types;

pub use error::AppError;
pub use types::{ErrorSummary, Overview, TraceSummary};

use leptos::prelude::*;

/// The home page's data: traces and errors from the configured source (or the demo incident).
#[server(endpoint = "overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let state = use_context::<crate::server::state::AppState>()
        .ok_or_else(|| AppError::Internal("server state missing".into()))?;
    Ok(state.data.overview())
}
