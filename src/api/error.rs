//! [`AppError`]: the one error type that crosses to the browser.
//!
//! Serializable and user-safe: connector errors are logged once, server-side, where they are converted;
//! the browser only sees a message a person can act on.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// An error a page can show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Something asked for does not exist; the message says where tracepin looked.
    #[error("{0}")]
    NotFound(String),
    /// The input is malformed; the message says what is accepted.
    #[error("{0}")]
    BadRequest(String),
    /// An upstream failed; the message names it and what it answered.
    #[error("{0}")]
    Upstream(String),
    /// Transport or server-function plumbing failed.
    #[error("{0}")]
    Internal(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Internal(value.to_string())
    }
}
