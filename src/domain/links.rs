//! Links out: a trace (and optionally a span) opened in Grafana Explore or the Jaeger UI.
//!
//! Pure string building with `url::Url` and `serde_json`, so every part is encoded correctly. The
//! result is always readable back by [`super::recognise::recognise`] (the tests check the round trip).

use serde_json::{json, Value};
use url::Url;

use super::ids::{SpanId, TraceId};

/// Only http(s) links are rendered as links; anything else (`javascript:`…) is shown as text.
pub fn safe_url(u: &str) -> Option<String> {
    let t = u.trim();
    let lower = t.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| t.to_owned())
}

/// The pane id used in Grafana's `panes` map; any key works, Grafana keeps it.
const GRAFANA_PANE: &str = "tracepin";

/// Grafana Explore on a Tempo datasource, with the span focused (panelsState.trace.spanId) when given.
///
/// `range_ms` is `(from, to)` in Unix milliseconds (padding it is the caller's job); without it the
/// range is the last hour. `None` when the base is not an http(s) URL or the datasource uid is blank.
pub fn grafana_explore_url(
    grafana_base: &str,
    datasource_uid: &str,
    trace_id: TraceId,
    span_id: Option<SpanId>,
    range_ms: Option<(i64, i64)>,
) -> Option<String> {
    let uid = datasource_uid.trim();
    if uid.is_empty() {
        return None;
    }
    let mut url = http_base(grafana_base)?;
    url.path_segments_mut().ok()?.pop_if_empty().push("explore");
    let range = match range_ms {
        Some((from, to)) => json!({ "from": from.to_string(), "to": to.to_string() }),
        None => json!({ "from": "now-1h", "to": "now" }),
    };
    let mut pane = json!({
        "datasource": uid,
        "queries": [{
            "refId": "A",
            "datasource": { "type": "tempo", "uid": uid },
            "queryType": "traceql",
            "limit": 20,
            "tableType": "traces",
            "query": trace_id.to_string(),
        }],
        "range": range,
    });
    if let (Some(span), Value::Object(fields)) = (span_id, &mut pane) {
        fields.insert(
            "panelsState".to_owned(),
            json!({ "trace": { "spanId": span.to_string() } }),
        );
    }
    let panes = json!({ GRAFANA_PANE: pane }).to_string();
    url.query_pairs_mut()
        .append_pair("schemaVersion", "1")
        .append_pair("orgId", "1")
        .append_pair("panes", &panes);
    Some(url.into())
}

/// Jaeger UI trace page, span focused with `uiFind` when given.
///
/// A 64-bit trace id (upper half zero) is written with 16 hex digits, the spelling every Jaeger
/// version accepts; others with 32. `None` when the base is not an http(s) URL.
pub fn jaeger_trace_url(
    jaeger_ui_base: &str,
    trace_id: TraceId,
    span_id: Option<SpanId>,
) -> Option<String> {
    let mut url = http_base(jaeger_ui_base)?;
    let hex = trace_id.to_string();
    let short = hex.strip_prefix("0000000000000000").unwrap_or(&hex);
    url.path_segments_mut()
        .ok()?
        .pop_if_empty()
        .extend(["trace", short]);
    if let Some(span) = span_id {
        url.query_pairs_mut()
            .append_pair("uiFind", &span.to_string());
    }
    Some(url.into())
}

/// The base as an http(s) URL with a host, query and fragment dropped; `None` otherwise.
fn http_base(base: &str) -> Option<Url> {
    let mut url = Url::parse(base.trim()).ok()?;
    let http = matches!(url.scheme(), "http" | "https");
    if !http || url.cannot_be_a_base() || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::recognise::{recognise, Form, Lookup};

    const T32: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const T64: &str = "0000000000000000a3ce929d0e0e4736";
    const TMAX: &str = "ffffffffffffffffffffffffffffffff";
    const S16: &str = "00f067aa0ba902b7";

    fn ids() -> Vec<(TraceId, Option<SpanId>)> {
        let t = |s: &str| s.parse::<TraceId>().expect("trace id");
        let s: SpanId = S16.parse().expect("span id");
        let mut out = Vec::new();
        for id in [T32, T64, TMAX] {
            out.push((t(id), None));
            out.push((t(id), Some(s)));
        }
        out
    }

    const BASES: &[&str] = &[
        "https://grafana.example.com",
        "https://grafana.example.com/",
        "https://example.com/grafana/",
        "http://localhost:3000/tools/grafana",
        "https://example.com/jaeger/ui?stale=1#frag",
    ];

    fn back(url: &str) -> (Lookup, Form) {
        let r = recognise(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (r.lookup, r.form)
    }

    #[test]
    fn grafana_links_round_trip() {
        for base in BASES {
            for (trace_id, span_id) in ids() {
                for range in [None, Some((1_700_000_000_000, 1_700_000_060_000))] {
                    let url = grafana_explore_url(base, "tempo-uid", trace_id, span_id, range)
                        .expect("http base");
                    assert!(
                        url.contains("/explore?schemaVersion=1&orgId=1&panes="),
                        "{url}"
                    );
                    let (lookup, form) = back(&url);
                    assert_eq!(form, Form::GrafanaExplore, "{url}");
                    assert_eq!(
                        lookup,
                        Lookup::Trace {
                            trace_id,
                            span_id,
                            event_id: None
                        },
                        "{url}"
                    );
                }
            }
        }
    }

    #[test]
    fn grafana_link_shape() {
        let t: TraceId = T32.parse().expect("trace");
        let s: SpanId = S16.parse().expect("span");
        let url = grafana_explore_url(
            "https://example.com/grafana/",
            "tempo-uid",
            t,
            Some(s),
            Some((1000, 2000)),
        )
        .expect("url");
        assert!(
            url.starts_with("https://example.com/grafana/explore?schemaVersion=1&orgId=1&panes=")
        );
        let parsed = Url::parse(&url).expect("parses");
        let panes = parsed
            .query_pairs()
            .find(|(k, _)| k == "panes")
            .map(|(_, v)| v.into_owned())
            .expect("panes");
        let v: Value = serde_json::from_str(&panes).expect("json");
        assert_eq!(
            v,
            json!({"tracepin": {
                "datasource": "tempo-uid",
                "queries": [{"refId": "A", "datasource": {"type": "tempo", "uid": "tempo-uid"},
                    "queryType": "traceql", "limit": 20, "tableType": "traces", "query": T32}],
                "range": {"from": "1000", "to": "2000"},
                "panelsState": {"trace": {"spanId": S16}},
            }})
        );
        let plain = grafana_explore_url("https://g.example.com", "u", t, None, None).expect("url");
        assert!(plain.contains("now-1h"), "{plain}");
        assert!(!plain.contains("panelsState"), "{plain}");
    }

    #[test]
    fn jaeger_links_round_trip() {
        for base in BASES {
            for (trace_id, span_id) in ids() {
                let url = jaeger_trace_url(base, trace_id, span_id).expect("http base");
                let (lookup, form) = back(&url);
                assert_eq!(form, Form::JaegerUi, "{url}");
                assert_eq!(
                    lookup,
                    Lookup::Trace {
                        trace_id,
                        span_id,
                        event_id: None
                    },
                    "{url}"
                );
            }
        }
    }

    #[test]
    fn jaeger_link_shape() {
        let t: TraceId = T32.parse().expect("trace");
        let s: SpanId = S16.parse().expect("span");
        assert_eq!(
            jaeger_trace_url("https://example.com/jaeger/ui/", t, Some(s)).as_deref(),
            Some("https://example.com/jaeger/ui/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=00f067aa0ba902b7")
        );
        let t64: TraceId = T64.parse().expect("trace");
        assert_eq!(
            jaeger_trace_url("http://localhost:16686", t64, None).as_deref(),
            Some("http://localhost:16686/trace/a3ce929d0e0e4736")
        );
    }

    #[test]
    fn refuses_bases_that_are_not_http() {
        let t: TraceId = T32.parse().expect("trace");
        for base in [
            "javascript:alert(1)",
            "ftp://grafana.example.com/",
            "file:///etc/grafana",
            "data:text/html,hi",
            "grafana.example.com",
            "not a url",
            "",
            "   ",
            "https://",
            "mailto:ops@example.com",
        ] {
            assert_eq!(
                grafana_explore_url(base, "uid", t, None, None),
                None,
                "{base:?}"
            );
            assert_eq!(jaeger_trace_url(base, t, None), None, "{base:?}");
        }
        assert_eq!(
            grafana_explore_url("https://g.example.com", "  ", t, None, None),
            None
        );
    }
}
