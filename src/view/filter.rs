//! The waterfall filter language, shared by server and browser.
//!
//! Space-separated terms, all of which must match: `status=error`, `service=payments`,
//! `duration>100ms` (also `<`, `>=`, `<=`; units ns, us/µs, ms, s, m), any attribute `key=value`
//! (exact, case-insensitive value), `name=text`, and bare words (case-insensitive substring of the span
//! name or service, or a span-id prefix). Quotes group words: `name="GET /stock"`.
//!
//! The cost of a filter is rows × terms, and the text comes from anyone who can open a page, so it is
//! bounded: at most [`MAX_FILTER_CHARS`] characters are read, identical terms count once, at most
//! [`MAX_TERMS`] terms are used (the rest are named in `problems`), and a span's lower-cased name and
//! service are computed once per span, not once per term.

use crate::domain::{Span, StatusCode};

/// One parsed term.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `status=error|ok|unset`.
    Status(StatusCode),
    /// `service=...`.
    Service(String),
    /// `name=...` (substring).
    Name(String),
    /// `duration<op>value`, in ns.
    Duration(Cmp, u64),
    /// `key=value` attribute (resource attributes included).
    Attr(String, String),
    /// Bare text.
    Text(String),
}

/// Comparison of a duration term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

/// A parsed filter; empty matches nothing in particular (callers treat it as "no filter").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Terms, all of which must match.
    pub terms: Vec<Term>,
    /// Terms that could not be understood, for a hint under the box.
    pub problems: Vec<String>,
}

/// Characters of filter text read; the rest is ignored with a problem saying so.
pub const MAX_FILTER_CHARS: usize = 1_000;
/// Distinct terms used; the rest are ignored with a problem saying so.
pub const MAX_TERMS: usize = 16;

fn split_terms(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Parses `100ms`, `2.5s`, `850us`, `3m`, `1500` (ns) into nanoseconds.
pub fn parse_duration(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit.trim() {
        "" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return None,
    };
    let v = n * mult;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

impl Filter {
    /// Parses filter text; never fails (unknown pieces are listed in `problems`).
    pub fn parse(q: &str) -> Filter {
        let mut f = Filter::default();
        let q = match q.char_indices().nth(MAX_FILTER_CHARS) {
            Some((cut, _)) => {
                f.problems.push(format!(
                    "the filter is longer than {MAX_FILTER_CHARS} characters; the rest is ignored"
                ));
                &q[..cut]
            }
            None => q,
        };
        let mut seen = std::collections::HashSet::new();
        let mut ignored = 0usize;
        for t in split_terms(q) {
            if !seen.insert(t.to_lowercase()) {
                continue;
            }
            if seen.len() > MAX_TERMS {
                ignored += 1;
                continue;
            }
            let lower = t.to_lowercase();
            if let Some(rest) = lower.strip_prefix("duration") {
                let (cmp, val) = if let Some(v) = rest.strip_prefix(">=") {
                    (Cmp::Ge, v)
                } else if let Some(v) = rest.strip_prefix("<=") {
                    (Cmp::Le, v)
                } else if let Some(v) = rest.strip_prefix('>') {
                    (Cmp::Gt, v)
                } else if let Some(v) = rest.strip_prefix('<') {
                    (Cmp::Lt, v)
                } else {
                    f.problems
                        .push(format!("{t}: use duration>100ms or duration<5ms"));
                    continue;
                };
                match parse_duration(val) {
                    Some(ns) => f.terms.push(Term::Duration(cmp, ns)),
                    None => f.problems.push(format!("{t}: unknown duration")),
                }
                continue;
            }
            match t.split_once(['=', ':']) {
                Some((k, v)) if !k.is_empty() && !v.is_empty() => match k.to_lowercase().as_str() {
                    "status" => match v.to_lowercase().as_str() {
                        "error" | "err" => f.terms.push(Term::Status(StatusCode::Error)),
                        "ok" => f.terms.push(Term::Status(StatusCode::Ok)),
                        "unset" => f.terms.push(Term::Status(StatusCode::Unset)),
                        _ => f
                            .problems
                            .push(format!("{t}: status is error, ok or unset")),
                    },
                    "service" => f.terms.push(Term::Service(v.to_lowercase())),
                    "name" => f.terms.push(Term::Name(v.to_lowercase())),
                    _ => f.terms.push(Term::Attr(k.to_owned(), v.to_lowercase())),
                },
                _ => f.terms.push(Term::Text(lower)),
            }
        }
        if ignored > 0 {
            f.problems.push(format!(
                "only the first {MAX_TERMS} different terms are used; {ignored} more ignored"
            ));
        }
        f
    }

    /// True when there is nothing to filter by.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Does a span match every term?
    pub fn matches(&self, span: &Span) -> bool {
        if self.terms.is_empty() {
            return false;
        }
        let lower = Lowered::new(span);
        self.terms.iter().all(|t| term_matches(t, span, &lower))
    }
}

/// A span's name and service in lower case, computed once per span.
struct Lowered {
    name: String,
    service: String,
}

impl Lowered {
    fn new(s: &Span) -> Self {
        Lowered {
            name: s.name.to_lowercase(),
            service: s.service.to_lowercase(),
        }
    }
}

fn term_matches(t: &Term, s: &Span, lower: &Lowered) -> bool {
    match t {
        Term::Status(c) => s.status.code == *c,
        Term::Service(v) => lower.service == *v,
        Term::Name(v) => lower.name.contains(v.as_str()),
        Term::Duration(cmp, ns) => {
            let d = s.duration_ns();
            match cmp {
                Cmp::Gt => d > *ns,
                Cmp::Ge => d >= *ns,
                Cmp::Lt => d < *ns,
                Cmp::Le => d <= *ns,
            }
        }
        Term::Attr(k, v) => s
            .attributes
            .iter()
            .chain(s.resource.iter())
            .any(|kv| *kv.key == **k && kv.value.as_text().to_lowercase() == *v),
        Term::Text(v) => {
            lower.name.contains(v.as_str())
                || lower.service.contains(v.as_str())
                || s.span_id.to_string().starts_with(v.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{KeyValue, SpanKind, SpanStatus};

    fn span(name: &str, service: &str, dur_ms: u64, err: bool, attrs: &[(&str, &str)]) -> Span {
        Span {
            trace_id: "0af7651916cd43dd8448eb211c80319c".parse().expect("id"),
            span_id: "b7ad6b7169203331".parse().expect("id"),
            parent_span_id: None,
            service: service.into(),
            name: name.into(),
            kind: SpanKind::Server,
            start_ns: 1_000,
            end_ns: 1_000 + dur_ms * 1_000_000,
            status: SpanStatus {
                code: if err {
                    StatusCode::Error
                } else {
                    StatusCode::Unset
                },
                message: None,
            },
            attributes: attrs.iter().map(|(k, v)| KeyValue::str(*k, *v)).collect(),
            events: thin_vec::thin_vec![],
            links: thin_vec::thin_vec![],
            resource: Default::default(),
            scope: None,
        }
    }

    #[test]
    fn terms() {
        let s = span(
            "POST /charge",
            "payments",
            150,
            true,
            &[("http.response.status_code", "504")],
        );
        for (q, want) in [
            ("status=error", true),
            ("status=ok", false),
            ("service=payments", true),
            ("service=PAYMENTS duration>100ms", true),
            ("duration<100ms", false),
            ("duration>=150ms", true),
            ("http.response.status_code=504", true),
            ("http.response.status_code=200", false),
            ("charge", true),
            ("name=\"POST /charge\"", true),
            ("b7ad6b", true),
            ("inventory", false),
        ] {
            assert_eq!(Filter::parse(q).matches(&s), want, "{q}");
        }
    }

    #[test]
    fn hostile_filters_are_bounded() {
        // 5,000 repeats of one word: one term.
        let f = Filter::parse(&"pay ".repeat(5_000));
        assert_eq!(f.terms, vec![Term::Text("pay".into())]);
        assert!(
            f.problems.iter().any(|p| p.contains("longer than 1000")),
            "{:?}",
            f.problems
        );
        // 100 different words: 16 used, the rest named.
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let f = Filter::parse(&words.join(" "));
        assert_eq!(f.terms.len(), MAX_TERMS);
        assert!(
            f.problems.iter().any(|p| p.contains("84 more ignored")),
            "{:?}",
            f.problems
        );
        // A multi-byte character at the cut does not panic.
        let f = Filter::parse(&"é".repeat(3_000));
        assert_eq!(f.terms.len(), 1);
    }

    #[test]
    fn problems_are_reported_not_fatal() {
        let f = Filter::parse("duration~5 status=maybe payments");
        assert_eq!(f.problems.len(), 2, "{:?}", f.problems);
        assert_eq!(f.terms, vec![Term::Text("payments".into())]);
        assert_eq!(parse_duration("2.5s"), Some(2_500_000_000));
        assert_eq!(parse_duration("850us"), Some(850_000));
        assert_eq!(parse_duration("abc"), None);
    }
}
