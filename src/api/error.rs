//! [`AppError`]: the one error type that crosses to the browser.
//!
//! Serializable and user-safe: connector errors are logged once, server-side, where they are converted;
//! the browser only sees a message a person can act on. It knows its HTTP status, so every page and
//! handler answers the same status for the same error.

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

impl AppError {
    /// The HTTP status this error is answered with: 404, 400, 502 or 500.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::BadRequest(_) => 400,
            AppError::Upstream(_) => 502,
            AppError::Internal(_) => 500,
        }
    }

    /// A short title for an error page about `what` ("trace", "event"…).
    pub fn title(&self, what: &str) -> String {
        match self {
            AppError::NotFound(_) => format!("{} not found", capitalise(what)),
            AppError::BadRequest(_) => format!("That is not a {what} id"),
            AppError::Upstream(_) | AppError::Internal(_) => {
                format!("The {what} could not be loaded")
            }
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The arguments did not decode (a malformed id, a missing field): the caller's fault.
            ServerFnErrorErr::Args(m)
            | ServerFnErrorErr::MissingArg(m)
            | ServerFnErrorErr::Deserialization(m) => AppError::BadRequest(format!(
                "The request's arguments are not valid: {}",
                m.chars().take(300).collect::<String>()
            )),
            ServerFnErrorErr::UnsupportedRequestMethod(m) => AppError::BadRequest(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Server functions answer every error with 500; this layer gives an [`AppError`] its own status
/// (400 for bad arguments, 404 for not found, 502 for an upstream failure), so clients, logs and
/// metrics see client errors as client errors. It reads only error bodies (small, JSON).
#[cfg(feature = "ssr")]
pub async fn status_from_error(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let res = next.run(req).await;
    if res.status() != http::StatusCode::INTERNAL_SERVER_ERROR
        || !res
            .headers()
            .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 1 << 20).await else {
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(s) = http::StatusCode::from_u16(e.status()) {
            parts.status = s;
        }
    }
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(feature = "ssr")]
impl From<crate::server::DataError> for AppError {
    fn from(e: crate::server::DataError) -> Self {
        use crate::server::DataError;
        match e {
            DataError::NotFound(m) => AppError::NotFound(m),
            DataError::Upstream(m) => AppError::Upstream(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_title() {
        assert_eq!(AppError::NotFound("x".into()).status(), 404);
        assert_eq!(AppError::BadRequest("x".into()).status(), 400);
        assert_eq!(AppError::Upstream("x".into()).status(), 502);
        assert_eq!(AppError::Internal("x".into()).status(), 500);
        assert_eq!(
            AppError::NotFound("x".into()).title("trace"),
            "Trace not found"
        );
        assert_eq!(
            AppError::BadRequest("x".into()).title("trace"),
            "That is not a trace id"
        );
    }
}
