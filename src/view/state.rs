//! The view's state, kept in the URL so a link reopens the same view.
//!
//! `?v=1&span=<16hex>&event=<32hex>&w=<from_us>-<to_us>&q=<filter>&c=<8hex>.<8hex>&t=adj&path=errors`
//! `&cmp=auto|<32hex>,<32hex>&diff=only` (compare with healthy traces, found or named; only differences).
//! `v` is the format version: links without it are read as version 1; unknown keys are ignored so old
//! links keep working. Collapsed subtrees are the first 8 hex digits of their span ids, `.`-separated.

use crate::domain::{event_id_lenient, span_id_lenient, trace_id_lenient};

/// Baselines a link may name (`cmp=<id>,…`); more are ignored.
pub const MAX_NAMED_BASELINES: usize = 20;

/// What the failing trace is compared with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompareWith {
    /// Healthy traces of the same root found by the trace backends' search (`cmp=auto`).
    Auto,
    /// These traces (`cmp=<32hex>,<32hex>`, lowercase, de-duplicated, at most [`MAX_NAMED_BASELINES`]).
    Traces(Vec<String>),
}

impl CompareWith {
    /// Reads `auto` or a list of trace ids (commas or whitespace; any spelling the lenient parser
    /// takes). `None` when nothing usable is named.
    pub fn parse(v: &str) -> Option<CompareWith> {
        if v.trim().eq_ignore_ascii_case("auto") {
            return Some(CompareWith::Auto);
        }
        let mut ids: Vec<String> = Vec::new();
        for part in v.split(|c: char| c == ',' || c.is_whitespace()) {
            if let Ok(id) = trace_id_lenient(part) {
                let id = id.to_string();
                if !ids.contains(&id) && ids.len() < MAX_NAMED_BASELINES {
                    ids.push(id);
                }
            }
        }
        (!ids.is_empty()).then_some(CompareWith::Traces(ids))
    }

    /// The query value: `auto` or the ids joined by commas.
    pub fn to_param(&self) -> String {
        match self {
            CompareWith::Auto => "auto".to_owned(),
            CompareWith::Traces(ids) => ids.join(","),
        }
    }
}

/// Current format version.
pub const VERSION: u32 = 1;

/// Everything needed to reopen the same view of a trace.
///
/// It crosses to the server as its own query string (`serde` goes through [`ViewState::to_query`] and
/// [`ViewState::from_query`]), so a server function receives exactly what a link says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", from = "String")]
pub struct ViewState {
    /// Selected span (16 hex).
    pub span: Option<String>,
    /// Selected Sentry event (32 hex).
    pub event: Option<String>,
    /// Zoom window in nanoseconds from the trace start.
    pub window: Option<(u64, u64)>,
    /// Filter text.
    pub filter: String,
    /// Collapsed rows, by the first 8 hex digits of their span id.
    pub collapsed: Vec<u32>,
    /// Clock-skew-adjusted (`Some(true)`, `t=adj`) or raw (`Some(false)`, `t=raw`) times; `None` is the
    /// default: adjusted when skew was detected.
    pub adjusted: Option<bool>,
    /// Show only the paths from the root to errors.
    pub errors_only: bool,
    /// Compare with healthy traces (`cmp=`).
    pub cmp: Option<CompareWith>,
    /// In compare mode, show only the rows that differ and their ancestors (`diff=only`).
    pub diff_only: bool,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A zoom window `<from_us>-<to_us>` in nanoseconds; `None` unless it is non-empty and both ends fit
/// in nanoseconds (a window that only fit by saturating would be empty and would not survive its link).
fn parse_window(v: &str) -> Option<(u64, u64)> {
    let (a, b) = v.split_once('-')?;
    let ns = |us: &str| us.parse::<u64>().ok()?.checked_mul(1000);
    let (a, b) = (ns(a)?, ns(b)?);
    (b > a).then_some((a, b))
}

impl From<ViewState> for String {
    fn from(v: ViewState) -> String {
        v.to_query()
    }
}

impl From<String> for ViewState {
    fn from(q: String) -> ViewState {
        ViewState::from_query(&q)
    }
}

impl ViewState {
    /// Reads the state from a raw query string (with or without the leading `?`), percent-decoding
    /// every value (`+` is a space, as in forms). The one parser of links: server and page both use it.
    pub fn from_query(query: &str) -> Self {
        let query = query.strip_prefix('?').unwrap_or(query);
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    /// Reads the state from already decoded query pairs (unknown keys and malformed values are ignored).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut s = ViewState::default();
        for (k, v) in pairs {
            match k {
                "span" => s.span = span_id_lenient(v).ok().map(|id| id.to_string()),
                "event" => s.event = event_id_lenient(v).ok().map(|id| id.to_string()),
                "w" => {
                    if let Some(window) = parse_window(v) {
                        s.window = Some(window);
                    }
                }
                "q" => s.filter = v.to_owned(),
                "c" => {
                    s.collapsed = v
                        .split('.')
                        .filter(|p| is_hex(p, 8))
                        .filter_map(|p| u32::from_str_radix(p, 16).ok())
                        .collect();
                    s.collapsed.sort_unstable();
                    s.collapsed.dedup();
                }
                "t" if v == "adj" || v == "raw" => s.adjusted = Some(v == "adj"),
                "path" => s.errors_only = v == "errors",
                "cmp" => s.cmp = CompareWith::parse(v),
                "diff" => s.diff_only = v == "only",
                _ => {}
            }
        }
        s
    }

    /// The query string (without `?`), always starting with the version.
    pub fn to_query(&self) -> String {
        let mut parts = vec![format!("v={VERSION}")];
        if let Some(e) = &self.event {
            parts.push(format!("event={e}"));
        }
        if let Some(s) = &self.span {
            parts.push(format!("span={s}"));
        }
        if let Some((a, b)) = self.window {
            parts.push(format!("w={}-{}", a / 1000, b.div_ceil(1000)));
        }
        if !self.filter.is_empty() {
            parts.push(format!("q={}", encode(&self.filter)));
        }
        if !self.collapsed.is_empty() {
            let ids: Vec<String> = self.collapsed.iter().map(|c| format!("{c:08x}")).collect();
            parts.push(format!("c={}", ids.join(".")));
        }
        match self.adjusted {
            Some(true) => parts.push("t=adj".into()),
            Some(false) => parts.push("t=raw".into()),
            None => {}
        }
        if self.errors_only {
            parts.push("path=errors".into());
        }
        if let Some(c) = &self.cmp {
            parts.push(format!("cmp={}", c.to_param()));
        }
        if self.diff_only {
            parts.push("diff=only".into());
        }
        parts.join("&")
    }
}

/// The one builder of `/trace/{id}` links: the trace with the view in the query (`?v=1&…`). The
/// trace is a `TraceId` or its text as the server sent it.
pub fn trace_url(trace: impl std::fmt::Display, vs: &ViewState) -> String {
    format!("/trace/{trace}?{}", vs.to_query())
}

/// `/s/{id}?…`: a snapshot with a view, built like [`trace_url`].
pub fn snapshot_url(id: &str, vs: &ViewState) -> String {
    format!("/s/{id}?{}", vs.to_query())
}

/// `/trace/{id}` with a span (16 hex) and an event (32 hex) selected, when given, as text.
pub fn trace_url_with(trace: &str, span: Option<&str>, event: Option<&str>) -> String {
    trace_url(
        trace,
        &ViewState {
            span: span.map(str::to_owned),
            event: event.map(str::to_owned),
            ..ViewState::default()
        },
    )
}

/// `/trace/{id}` with a span and an event selected, when given.
pub fn trace_url_at(
    trace: crate::domain::TraceId,
    span: Option<crate::domain::SpanId>,
    event: Option<crate::domain::EventId>,
) -> String {
    trace_url(
        trace,
        &ViewState {
            span: span.map(|s| s.to_string()),
            event: event.map(|e| e.to_string()),
            ..ViewState::default()
        },
    )
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The short id used in links: the first 8 hex digits of a span id.
pub fn short_id(span_id_hex: &str) -> Option<u32> {
    span_id_hex
        .get(..8)
        .and_then(|p| u32::from_str_radix(p, 16).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = ViewState {
            span: Some("00f067aa0ba902b7".into()),
            event: Some("e3de285bd47c404c9a4e8c0a4d2a7b3b".into()),
            window: Some((1_000_000, 25_000_000)),
            filter: "service=payments status=error".into(),
            collapsed: vec![0x0102_0304, 0xdead_beef],
            adjusted: Some(false),
            errors_only: true,
            cmp: Some(CompareWith::Traces(vec![
                "0af7651916cd43dd8448eb211c80319c".into(),
            ])),
            diff_only: true,
        };
        let q = s.to_query();
        assert!(q.starts_with("v=1&"), "{q}");
        assert_eq!(ViewState::from_query(&q), s);
        assert_eq!(ViewState::from_query(&format!("?{q}")), s);
    }

    #[test]
    fn shared_filter_links_are_decoded() {
        // The link a person copies from the address bar after typing `service=payments`.
        let s = ViewState::from_query("v=1&q=service%3Dpayments");
        assert_eq!(s.filter, "service=payments");
        // Forms encode spaces as `+`; `%2B` stays a plus.
        let s = ViewState::from_query("q=duration%3E100ms+status%3Derror&x=1%2B1");
        assert_eq!(s.filter, "duration>100ms status=error");
        assert_eq!(ViewState::from_query("q=a%2Bb").filter, "a+b");
    }

    #[test]
    fn serde_is_the_query_string() {
        let s = ViewState {
            filter: "http.route=/checkout & more".into(),
            window: Some((2_000, 9_000)),
            ..ViewState::default()
        };
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(json, format!("\"{}\"", s.to_query()));
        let back: ViewState = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
    }

    proptest::proptest! {
        #[test]
        fn any_view_round_trips_through_its_link(
            filter in "\\PC{0,40}",
            window in proptest::option::of((0u64..10_000_000, 1u64..10_000_000)),
            collapsed in proptest::collection::btree_set(proptest::prelude::any::<u32>(), 0..6),
            span in proptest::option::of("[0-9a-f]{16}"),
            event in proptest::option::of("[0-9a-f]{32}"),
            adjusted in proptest::option::of(proptest::prelude::any::<bool>()),
            errors_only in proptest::prelude::any::<bool>(),
            cmp in proptest::option::of(proptest::collection::btree_set("[0-9a-f]{31}[1-9a-f]", 0..4)),
            diff_only in proptest::prelude::any::<bool>(),
        ) {
            let cmp = cmp.map(|ids| {
                let ids: Vec<String> = ids.into_iter().collect();
                if ids.is_empty() { CompareWith::Auto } else { CompareWith::Traces(ids) }
            });
            let s = ViewState {
                span,
                event,
                // Windows travel in whole microseconds.
                window: window.map(|(a, len)| (a * 1000, (a + len) * 1000)),
                filter,
                collapsed: collapsed.into_iter().collect(),
                adjusted,
                errors_only,
                cmp,
                diff_only,
            };
            let q = s.to_query();
            proptest::prop_assert_eq!(ViewState::from_query(&q), s.clone());
            let url = trace_url(crate::domain::TraceId::from_bytes([7; 16]).expect("id"), &s);
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or_default();
            proptest::prop_assert_eq!(ViewState::from_query(query), s);
        }
    }

    #[test]
    fn old_and_hostile_links_degrade_gracefully() {
        // No version, dashed event id, junk values, unknown keys.
        let s = ViewState::from_pairs([
            ("event", "e3de285b-d47c-404c-9a4e-8c0a4d2a7b3b"),
            ("span", "<script>"),
            ("w", "50-10"),
            ("c", "zzzzzzzz.0000000a"),
            ("future", "x"),
        ]);
        assert_eq!(s.event.as_deref(), Some("e3de285bd47c404c9a4e8c0a4d2a7b3b"));
        assert_eq!(s.span, None);
        assert_eq!(s.window, None);
        assert_eq!(s.collapsed, vec![10]);
    }

    #[test]
    fn comparisons_travel_in_the_link() {
        let s = ViewState::from_query("v=1&cmp=AUTO&diff=only");
        assert_eq!(s.cmp, Some(CompareWith::Auto));
        assert!(s.diff_only);
        // Any spelling of an id, junk dropped, duplicates once, at most 20.
        let dashed = "0af76519-16cd-43dd-8448-eb211c80319c";
        let s = ViewState::from_query(&format!(
            "cmp={dashed}%2C+0AF7651916CD43DD8448EB211C80319C,nope,{}",
            "4bf92f3577b34da6a3ce929d0e0e4736"
        ));
        assert_eq!(
            s.cmp,
            Some(CompareWith::Traces(vec![
                "0af7651916cd43dd8448eb211c80319c".into(),
                "4bf92f3577b34da6a3ce929d0e0e4736".into()
            ]))
        );
        assert_eq!(
            s.to_query(),
            "v=1&cmp=0af7651916cd43dd8448eb211c80319c,4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(ViewState::from_query("cmp=nothing,here").cmp, None);
        let many: Vec<String> = (1..=30).map(|i| format!("{i:032x}")).collect();
        match ViewState::from_query(&format!("cmp={}", many.join(","))).cmp {
            Some(CompareWith::Traces(ids)) => assert_eq!(ids.len(), MAX_NAMED_BASELINES),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_window_past_the_nanosecond_range_is_ignored() {
        // The view_state fuzz target's round trip: both ends used to saturate to u64::MAX, an empty
        // window whose link read back as a different one.
        let s = ViewState::from_query("w=100000000000000000-200000000000000000");
        assert_eq!(s.window, None);
        assert_eq!(ViewState::from_query(&s.to_query()), s);
        let max_us = u64::MAX / 1000;
        let s = ViewState::from_query(&format!("w={}-{max_us}", max_us - 1));
        assert_eq!(s.window, Some(((max_us - 1) * 1000, max_us * 1000)));
        assert_eq!(ViewState::from_query(&s.to_query()), s);
        assert_eq!(
            ViewState::from_query(&format!("w=1-2&w={}-{}", max_us, max_us + 1)).window,
            Some((1000, 2000))
        );
    }
}
