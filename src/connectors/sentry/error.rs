//! [`SentryError`]: what went wrong talking to the Sentry Web API, phrased so a person can act on it.
//!
//! Every message names the endpoint path (`GET /api/0/…`) and what Sentry answered; none contains the
//! auth token (details echoed by Sentry are redacted before they are stored).

/// An error from the Sentry Web API connector.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SentryError {
    /// The connector configuration cannot be used (base URL, org slug, an id).
    #[error("Sentry connector: {0}")]
    Config(String),
    /// 401: the token is missing, revoked or wrong.
    #[error(
        "Sentry rejected the auth token (HTTP 401) on GET {path}: {detail}. Create a token with the scopes \
         org:read, project:read and event:read at {token_url} and set it as SENTRY_AUTH_TOKEN"
    )]
    Unauthorized {
        /// Endpoint path.
        path: String,
        /// What Sentry said.
        detail: String,
        /// Where to create a token.
        token_url: String,
    },
    /// 403: the token lacks a scope or access to the organization/project.
    #[error(
        "Sentry refused GET {path} (HTTP 403): {detail}. The token needs the `{scope}` scope (and membership \
         of the organization); create a token with org:read, project:read and event:read at {token_url}"
    )]
    Forbidden {
        /// Endpoint path.
        path: String,
        /// What Sentry said.
        detail: String,
        /// The scope this endpoint needs.
        scope: &'static str,
        /// Where to create a token.
        token_url: String,
    },
    /// The token works but lacks read scopes ([`super::SentryClient::check`]).
    #[error(
        "the Sentry token lacks the scope(s) {}: it has [{}]. Create a token with org:read, project:read and \
         event:read at {token_url}", missing.join(", "), have.join(", ")
    )]
    MissingScopes {
        /// Required scopes the token does not have.
        missing: Vec<String>,
        /// Scopes the token has.
        have: Vec<String>,
        /// Where to create a token.
        token_url: String,
    },
    /// 404: no such organization, project, issue or event.
    #[error(
        "Sentry has nothing at GET {path} (HTTP 404): {detail}. Check the organization slug and the id"
    )]
    NotFound {
        /// Endpoint path.
        path: String,
        /// What Sentry said.
        detail: String,
    },
    /// 429, or the rate-limit window is exhausted and resets too late to wait for.
    #[error("Sentry rate limit on GET {path}, retry in {retry_in_s} s")]
    RateLimited {
        /// Endpoint path.
        path: String,
        /// Seconds until the window resets.
        retry_in_s: u64,
    },
    /// Any other non-success status.
    #[error("Sentry answered GET {path} with HTTP {status}: {detail}")]
    Status {
        /// Endpoint path.
        path: String,
        /// HTTP status code.
        status: u16,
        /// What Sentry said.
        detail: String,
    },
    /// No answer within the configured timeout.
    #[error("Sentry did not answer GET {path} within {after_ms} ms (timeout)")]
    Timeout {
        /// Endpoint path.
        path: String,
        /// The timeout, milliseconds.
        after_ms: u64,
    },
    /// The connection failed (DNS, TLS, refused, reset).
    #[error("cannot reach Sentry for GET {path}: {message}")]
    Connect {
        /// Endpoint path.
        path: String,
        /// The transport error.
        message: String,
    },
    /// The body is not what the endpoint documents.
    #[error("Sentry answered GET {path} with a body tracepin cannot read: {message}")]
    Decode {
        /// Endpoint path.
        path: String,
        /// The decoding error.
        message: String,
    },
    /// The body exceeds the size cap.
    #[error("Sentry's answer to GET {path} exceeds {limit} bytes")]
    TooLarge {
        /// Endpoint path.
        path: String,
        /// The cap, bytes.
        limit: usize,
    },
}

impl SentryError {
    /// True for 404 (no such thing), which lookups turn into `None`.
    pub fn is_not_found(&self) -> bool {
        matches!(self, SentryError::NotFound { .. })
    }
}
