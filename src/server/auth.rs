//! Access control: one router-wide layer covering pages, server functions and assets alike.
//!
//! Off by default. `basic` checks HTTP basic credentials (constant-time); `proxy_header` trusts a
//! header set by an authenticating reverse proxy. Only `/healthz` is exempt, so load balancers can
//! probe the process. The layer is applied last in `routes::router`, so no route can escape it.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::config::{AuthMode, AuthSection};

/// Paths reachable without credentials.
pub const EXEMPT_PATHS: &[&str] = &["/healthz"];

/// The access-control policy, built once from the config.
#[derive(Clone)]
pub struct AuthPolicy {
    inner: Arc<AuthSection>,
}

impl AuthPolicy {
    /// Builds the policy from the `[auth]` section.
    pub fn new(section: &AuthSection) -> Self {
        Self {
            inner: Arc::new(section.clone()),
        }
    }

    /// True when a request with these headers may pass.
    fn allows(&self, headers: &axum::http::HeaderMap) -> bool {
        match self.inner.mode {
            AuthMode::None => true,
            AuthMode::Basic => {
                let (Some(user), Some(pass)) = (&self.inner.username, &self.inner.password) else {
                    return false;
                };
                let Some(given) = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Basic "))
                    .and_then(|b64| {
                        base64::engine::general_purpose::STANDARD
                            .decode(b64.trim())
                            .ok()
                    })
                else {
                    return false;
                };
                let expected = format!("{user}:{}", pass.expose_secret());
                bool::from(given.as_slice().ct_eq(expected.as_bytes()))
            }
            AuthMode::ProxyHeader => self
                .inner
                .header
                .as_deref()
                .and_then(|name| headers.get(name))
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| !v.trim().is_empty()),
        }
    }

    fn challenge(&self) -> Response {
        let mut res = match self.inner.mode {
            AuthMode::ProxyHeader => (
                StatusCode::UNAUTHORIZED,
                "tracepin expects an authenticating reverse proxy in front of it; the request carried no user header.\n",
            )
                .into_response(),
            _ => (StatusCode::UNAUTHORIZED, "Authentication required.\n").into_response(),
        };
        if self.inner.mode == AuthMode::Basic {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"tracepin\", charset=\"UTF-8\""),
            );
        }
        res
    }
}

/// Middleware: lets exempt paths and authenticated requests through, answers 401 otherwise.
pub async fn require_auth(
    State(policy): State<AuthPolicy>,
    req: Request<Body>,
    next: Next,
) -> Response {
    if EXEMPT_PATHS.contains(&req.uri().path()) || policy.allows(req.headers()) {
        next.run(req).await
    } else {
        policy.challenge()
    }
}

/// Who the request is from, as far as access control knows: the basic-auth user, or the proxy's
/// header value (trimmed, at most 100 characters). `None` when access control is off.
pub fn user_of(section: &AuthSection, headers: &axum::http::HeaderMap) -> Option<String> {
    match section.mode {
        AuthMode::None => None,
        AuthMode::Basic => section.username.clone(),
        AuthMode::ProxyHeader => section
            .header
            .as_deref()
            .and_then(|name| headers.get(name))
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().chars().take(100).collect::<String>())
            .filter(|v| !v.is_empty()),
    }
}
