//! "Open in …" links for a trace, span or event, from the `[links]` configuration.
//!
//! Grafana Explore needs `grafana_url` and `grafana_tempo_datasource`; Jaeger uses `jaeger_ui_url`, else
//! the first `[[jaeger]]` query URL (the query service serves its UI at the same address). Sentry's
//! trace view is linked when Sentry is configured. Only http(s) bases produce links.

use crate::connectors::sentry::SentryClient;
use crate::correlate::Timeline;
use crate::domain::links::{grafana_explore_url, jaeger_trace_url};
use crate::domain::{SpanId, TraceId};
use crate::view::types::LinkOut;

use super::config::Config;

/// Links to a loaded timeline's trace (a span focused when given); the time range is the trace's own.
pub fn for_timeline(
    config: &Config,
    sentry: Option<&SentryClient>,
    tl: &Timeline,
    span: Option<SpanId>,
) -> Vec<LinkOut> {
    let t = &tl.trace;
    let sentry_ui = sentry.map(SentryClient::org_ui);
    let range = (!t.spans.is_empty()).then_some((t.start_ns, t.end_ns));
    for_trace(config, sentry_ui.as_deref(), t.trace_id, span, range)
}

/// Links to one trace (a span focused when given). `range_ns` is the trace's start and end (Unix ns),
/// used to narrow Grafana's time range.
pub fn for_trace(
    config: &Config,
    sentry_ui: Option<&str>,
    trace: TraceId,
    span: Option<SpanId>,
    range_ns: Option<(u64, u64)>,
) -> Vec<LinkOut> {
    let mut out = Vec::new();
    let l = &config.links;
    if let (Some(g), Some(ds)) = (&l.grafana_url, &l.grafana_tempo_datasource) {
        // A minute either side: Tempo's search by id is narrowed to the range Grafana sends.
        let range = range_ns.map(|(a, b)| {
            let ms = |ns: u64| i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX);
            (ms(a).saturating_sub(60_000), ms(b).saturating_add(60_000))
        });
        if let Some(href) = grafana_explore_url(g, ds, trace, span, range) {
            out.push(LinkOut {
                label: "Open in Grafana Explore".into(),
                href,
                tool: "grafana".into(),
            });
        }
    }
    let jaeger = l
        .jaeger_ui_url
        .as_deref()
        .or_else(|| config.jaeger.first().map(|j| j.url.as_str()));
    if let Some(href) = jaeger.and_then(|j| jaeger_trace_url(j, trace, span)) {
        out.push(LinkOut {
            label: "Open in Jaeger".into(),
            href,
            tool: "jaeger".into(),
        });
    }
    if let Some(ui) = sentry_ui {
        let href = format!("{}/performance/trace/{trace}/", ui.trim_end_matches('/'));
        if let Some(href) = crate::domain::links::safe_url(&href) {
            out.push(LinkOut {
                label: "Open trace in Sentry".into(),
                href,
                tool: "sentry".into(),
            });
        }
    }
    out
}
