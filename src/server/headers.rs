//! Response headers every answer carries, the page Content-Security-Policy, and the allowed-hosts
//! check against DNS rebinding.
//!
//! Pages get a CSP built around the per-response nonce Leptos puts on its hydration and streaming
//! scripts: scripts only from tracepin itself or with that nonce, WebAssembly compiled from tracepin's
//! own module, no plugins, no `<base>`, no framing. Inline `style` attributes stay allowed (the
//! waterfall positions bars with them; a style attribute cannot run code). Everything else (JSON,
//! assets, errors) gets `default-src 'none'`. All answers carry `nosniff`, `X-Frame-Options: DENY` and a
//! same-origin referrer policy, so trace URLs do not leak to the tools tracepin links to.
//!
//! The host check: a browser on the user's machine can be made to talk to a loopback tracepin through
//! an attacker's DNS name (DNS rebinding). When tracepin listens on loopback and no list is configured,
//! only loopback names are accepted; `[server] allowed_hosts` (or `TRACEPIN_ALLOWED_HOSTS`) replaces
//! that with an explicit list. `/healthz` is exempt so probes by address keep working.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy for everything that is not a page.
pub const NON_PAGE_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// The policy for a page whose inline scripts carry `nonce`.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Sets the page policy on the response being rendered (call from the page shell, on the server).
/// Leptos has already generated this response's nonce; without one the page gets the strict
/// non-page policy, which fails closed.
pub fn set_page_csp() {
    let (Some(nonce), Some(resp)) = (
        leptos::nonce::use_nonce(),
        leptos::prelude::use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(&page_csp(&nonce)) {
        resp.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// Which `Host` headers are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPolicy {
    /// Any host (tracepin listens on a public address and no list is configured).
    Any,
    /// Only these host names (lower case, without port).
    Only(Vec<String>),
}

/// Names a loopback tracepin answers to when no list is configured.
const LOOPBACK_NAMES: &[&str] = &["localhost", "127.0.0.1", "[::1]", "::1"];

impl HostPolicy {
    /// Builds the policy: the configured list (plus the public URL's host) if any; else loopback
    /// names when listening on loopback; else any host.
    pub fn new(
        configured: Option<&[String]>,
        public_url: Option<&str>,
        listen_loopback: bool,
    ) -> Self {
        let mut names: Vec<String> = match configured {
            Some(list) if !list.is_empty() => list.iter().map(|h| normalise(h)).collect(),
            _ if listen_loopback => LOOPBACK_NAMES.iter().map(|s| (*s).to_owned()).collect(),
            _ => return HostPolicy::Any,
        };
        if let Some(host) = public_url
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(normalise))
        {
            names.push(host);
        }
        HostPolicy::Only(names)
    }

    /// True when a request with this `Host` header (or none) is answered.
    pub fn allows(&self, host: Option<&str>) -> bool {
        let HostPolicy::Only(names) = self else {
            return true;
        };
        // Browsers always send Host; a request without one is not a rebinding attack.
        let Some(host) = host else {
            return true;
        };
        let host = host.trim().to_ascii_lowercase();
        let name = strip_port(&host).trim_end_matches('.');
        names
            .iter()
            .any(|n| n == name || (n == "localhost" && name.ends_with(".localhost")))
    }
}

fn normalise(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn strip_port(h: &str) -> &str {
    if let Some(rest) = h.strip_prefix('[') {
        // [::1]:3000 → [::1]
        return match rest.find(']') {
            Some(i) => &h[..i + 2],
            None => h,
        };
    }
    match h.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => h,
    }
}

/// The layer: refuses unknown hosts with 421, then adds the headers every answer carries.
pub async fn security_headers(
    State(hosts): State<Arc<HostPolicy>>,
    req: Request,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if req.uri().path() != "/healthz" && !hosts.allows(host.as_deref()) {
        let mut res =
            (
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                "tracepin does not answer to the host name `{}`. Add it to [server] allowed_hosts \
                 (or TRACEPIN_ALLOWED_HOSTS) if it is yours.\n",
                host.as_deref().unwrap_or_default().chars().take(200).collect::<String>()
            ),
            )
                .into_response();
        add_common(&mut res);
        return res;
    }
    let mut res = next.run(req).await;
    add_common(&mut res);
    res
}

fn add_common(res: &mut Response) {
    let h = res.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(NON_PAGE_CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_default_refuses_rebound_names() {
        let p = HostPolicy::new(None, None, true);
        assert!(p.allows(Some("127.0.0.1:3000")));
        assert!(p.allows(Some("localhost:3000")));
        assert!(p.allows(Some("LOCALHOST")));
        assert!(p.allows(Some("[::1]:3000")));
        assert!(p.allows(Some("app.localhost:3000")));
        assert!(p.allows(None));
        assert!(!p.allows(Some("attacker.example:3000")));
        assert!(!p.allows(Some("127.0.0.1.attacker.example")));
        assert!(!p.allows(Some("localhost.attacker.example")));
    }

    #[test]
    fn configured_list_and_public_url() {
        let list = vec!["Tracepin.Example.com".to_owned()];
        let p = HostPolicy::new(Some(&list), Some("https://pin.example.org/base"), false);
        assert!(p.allows(Some("tracepin.example.com")));
        assert!(p.allows(Some("tracepin.example.com.:443")));
        assert!(p.allows(Some("pin.example.org")));
        assert!(!p.allows(Some("127.0.0.1:3000")));
        assert_eq!(HostPolicy::new(None, None, false), HostPolicy::Any);
        assert!(HostPolicy::Any.allows(Some("anything")));
    }

    #[test]
    fn page_policy_names_the_nonce_and_forbids_framing() {
        let p = page_csp("abc");
        assert!(p.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval'"));
        assert!(p.contains("frame-ancestors 'none'"));
        let script = p
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!script
            .split_whitespace()
            .any(|t| t == "'unsafe-inline'" || t == "'unsafe-eval'"));
    }
}
