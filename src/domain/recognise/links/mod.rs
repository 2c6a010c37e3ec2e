//! Links: turns a URL (absolute, scheme-less `host/path`, or a bare `/path`) into the parts ids are read
//! from, and hands it to the page family that knows it: Sentry ([`sentry`]), Grafana ([`grafana`]),
//! tracepin's own event, issue and lookup links ([`tracepin`]), trace pages of Jaeger, Tempo, Zipkin and
//! tracepin, and any link with a `trace_id` parameter ([`trace_pages`]).
//!
//! Parses with the `url` crate only; must never fetch, resolve or follow a link.

mod grafana;
mod sentry;
mod trace_pages;
mod tracepin;

use url::Url;

use super::{is_digits, no, snippet};
use super::{Form, Recognised, Unrecognised};
use grafana::grafana_link;
use sentry::{not_sentry_page, sentry_link};
use trace_pages::{jaeger_search_link, trace_parameter_link, trace_path_link};
use tracepin::tracepin_link;

/// The parts of a link that ids are read from.
pub(super) struct Link {
    /// Lowercase host; `None` for a bare path such as `/trace/…`.
    host: Option<String>,
    /// The path as written, for messages.
    path: String,
    /// Percent-decoded, non-empty path segments.
    segments: Vec<String>,
    /// Decoded query pairs, in order.
    query: Vec<(String, String)>,
}

impl Link {
    fn from_url(url: &Url, relative: bool) -> Self {
        Link {
            host: if relative {
                None
            } else {
                url.host_str().map(str::to_ascii_lowercase)
            },
            path: url.path().to_owned(),
            segments: url
                .path_segments()
                .map(|segs| segs.filter(|s| !s.is_empty()).map(percent_decode).collect())
                .unwrap_or_default(),
            query: url.query_pairs().into_owned().collect(),
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn segment(&self, i: usize) -> Option<&str> {
        self.segments.get(i).map(String::as_str)
    }

    fn not_known(&self) -> Unrecognised {
        match &self.host {
            Some(host) => no(format!("a URL tracepin does not know (host {host})")),
            None => no(format!(
                "a path tracepin does not know ({})",
                snippet(&self.path)
            )),
        }
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex);
            let lo = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `scheme` of a `scheme://…` text.
fn leading_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// `host.tld/path` or `localhost:16686/path` without a scheme.
fn looks_like_host_path(text: &str) -> bool {
    let Some((host, _)) = text.split_once('/') else {
        return false;
    };
    let host = match host.split_once(':') {
        Some((h, port)) if is_digits(port) => h,
        Some(_) => return false,
        None => host,
    };
    let chars_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    let tld_ok = host
        .rsplit_once('.')
        .is_some_and(|(_, tld)| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    chars_ok && (host.eq_ignore_ascii_case("localhost") || tld_ok)
}

/// `Some` when the whole text is a link (absolute, scheme-less `host/path`, or a bare `/path`).
pub(super) fn parse_link(text: &str) -> Option<Result<Link, Unrecognised>> {
    if text.contains(char::is_whitespace) {
        return None;
    }
    let parse = |s: &str| {
        Url::parse(s)
            .map(|u| Link::from_url(&u, false))
            .map_err(|e| no(format!("a link that does not parse as a URL ({e})")))
    };
    if let Some(scheme) = leading_scheme(text) {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Some(Err(no(format!(
                "a link with scheme {}: tracepin reads only http and https links",
                snippet(&scheme)
            ))));
        }
        return Some(parse(text));
    }
    if text.starts_with("//") {
        return Some(parse(&format!("https:{text}")));
    }
    if text.starts_with('/') {
        return Some(
            Url::parse("http://relative.invalid")
                .and_then(|base| base.join(text))
                .map(|u| Link::from_url(&u, true))
                .map_err(|e| no(format!("a path that does not parse ({e})"))),
        );
    }
    if looks_like_host_path(text) {
        return Some(parse(&format!("https://{text}")));
    }
    None
}

pub(super) fn recognise_link(link: &Link, depth: u8) -> Result<Recognised, Unrecognised> {
    let host = link.host.as_deref().unwrap_or_default();
    if host == "sentry.io" || host.ends_with(".sentry.io") {
        if host.contains("ingest") {
            return Err(no(
                "a Sentry DSN or ingest address, not a link to an issue, event or trace",
            ));
        }
        return sentry_link(link, true).unwrap_or_else(|| Err(not_sentry_page(link)));
    }
    if let Some(found) = sentry_link(link, false) {
        return found;
    }
    if let Some(found) = grafana_link(link) {
        return found;
    }
    if let Some(found) = tracepin_link(link, depth) {
        return found;
    }
    if let Some(found) = trace_path_link(link) {
        return found;
    }
    if let Some(found) = jaeger_search_link(link) {
        return found;
    }
    if let Some(found) = trace_parameter_link(link) {
        return found;
    }
    Err(link.not_known())
}

fn in_link(form: Form, what: &str, why: &str) -> Unrecognised {
    no(format!("a {} whose {what} {why}", form.describe()))
}
