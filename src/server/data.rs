//! The data a server serves: the built-in demo incident or a directory of files, correlated once.
//!
//! Live Sentry/Tempo/Jaeger fetching plugs in here as further sources; pages only see [`DataStore`].

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::api::{ErrorSummary, Overview, TraceSummary};
use crate::connectors::{demo, formats};
use crate::correlate::Timeline;
use crate::correlate::{self, Correlation};
use crate::domain::{ErrorEvent, RowOrigin, Span, TraceId};

use super::config::Config;

/// Correlated data plus a description of where it came from.
#[derive(Debug)]
pub struct DataStore {
    source: String,
    correlation: Correlation,
    notices: Vec<String>,
    by_trace: HashMap<TraceId, usize>,
}

/// Formats Unix nanoseconds as RFC 3339 UTC with milliseconds.
pub fn format_ns(ns: u64) -> String {
    let secs = i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX);
    let nanos = u32::try_from(ns % 1_000_000_000).unwrap_or(0);
    DateTime::<Utc>::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ns.to_string())
}

impl DataStore {
    /// Loads the source the configuration names.
    pub fn load(config: &Config) -> Self {
        let opts = correlate_options(config);
        if config.uses_demo() {
            let d = demo::load();
            let notices = d.problems.clone();
            return Self::new(
                "built-in demo incident (real Sentry and OpenTelemetry SDK payloads)".into(),
                correlate::correlate(d.spans, d.events, &opts),
                notices,
            );
        }
        let mut spans = Vec::new();
        let mut events = Vec::new();
        let mut notices = Vec::new();
        let mut source = Vec::new();
        if let Some(dir) = &config.files.dir {
            source.push(format!("files in {}", dir.display()));
            load_dir(dir, &mut spans, &mut events, &mut notices);
        }
        if config.sentry_configured() || !config.tempo.is_empty() || !config.jaeger.is_empty() {
            notices.push(
                "Sentry, Tempo and Jaeger are configured but live browsing is not built yet: only file data is listed here."
                    .into(),
            );
        }
        Self::new(
            source.join(", "),
            correlate::correlate(spans, events, &opts),
            notices,
        )
    }

    /// Wraps a correlation, indexing its traces.
    pub fn new(source: String, correlation: Correlation, notices: Vec<String>) -> Self {
        let by_trace = correlation
            .timelines
            .iter()
            .enumerate()
            .map(|(i, t)| (t.trace.trace_id, i))
            .collect();
        Self {
            source,
            correlation,
            notices,
            by_trace,
        }
    }

    /// The timeline of a trace, if loaded.
    pub fn timeline(&self, id: TraceId) -> Option<&Timeline> {
        self.by_trace
            .get(&id)
            .and_then(|i| self.correlation.timelines.get(*i))
    }

    /// Where spans and errors of a trace came from, for the trace header.
    pub fn sources(&self) -> Vec<String> {
        vec![self.source.clone()]
    }

    /// Where the data comes from, in words.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The correlated data.
    pub fn correlation(&self) -> &Correlation {
        &self.correlation
    }

    /// The home page's lists.
    pub fn overview(&self) -> Overview {
        let c = &self.correlation;
        let mut errors: Vec<ErrorSummary> = Vec::new();
        let mut traces = Vec::new();
        for tl in &c.timelines {
            let t = &tl.trace;
            let Some((root, _)) = t
                .spans
                .iter()
                .zip(&t.nodes)
                .find(|(_, n)| n.origin == RowOrigin::Span)
            else {
                continue;
            };
            let mut services: Vec<String> = t.spans.iter().map(|s| s.service.clone()).collect();
            services.sort();
            services.dedup();
            traces.push(TraceSummary {
                trace_id: t.trace_id.to_string(),
                root_service: root.service.clone(),
                root_name: root.name.clone(),
                start: format_ns(t.start_ns),
                duration_ms: t.end_ns.saturating_sub(t.start_ns) as f64 / 1e6,
                span_count: t.span_count(),
                services,
                error_count: tl.pins.len() + tl.unplaced.len(),
            });
            for pin in &tl.pins {
                if let Some(ev) = c.events.get(pin.event) {
                    let span: Option<&Span> = t.spans.get(pin.row);
                    errors.push(ErrorSummary {
                        span_name: span.map(|s| s.name.clone()),
                        span_id: Some(pin.span_id.to_string()),
                        matched_by: Some(pin.matched_by.describe().to_owned()),
                        unplaced_reason: None,
                        trace_id: Some(t.trace_id.to_string()),
                        ..summary(ev)
                    });
                }
            }
            for u in &tl.unplaced {
                if let Some(ev) = c.events.get(u.event) {
                    errors.push(ErrorSummary {
                        unplaced_reason: Some(u.reason.to_string()),
                        trace_id: Some(t.trace_id.to_string()),
                        ..summary(ev)
                    });
                }
            }
        }
        for u in &c.unplaced {
            if let Some(ev) = c.events.get(u.event) {
                errors.push(ErrorSummary {
                    unplaced_reason: Some(u.reason.to_string()),
                    ..summary(ev)
                });
            }
        }
        errors.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
        traces.sort_by(|a, b| b.start.cmp(&a.start));
        Overview {
            source: self.source.clone(),
            traces,
            errors,
            notices: self.notices.clone(),
        }
    }
}

fn summary(ev: &ErrorEvent) -> ErrorSummary {
    ErrorSummary {
        event_id: ev.event_id.map(|e| e.to_string()).unwrap_or_default(),
        title: ev.title.clone(),
        level: ev.level.clone(),
        service: correlate::event::event_service(ev, |_| true).map(|(s, _)| s),
        timestamp: format_ns(ev.timestamp_ns),
        trace_id: None,
        span_name: None,
        span_id: None,
        matched_by: None,
        unplaced_reason: None,
    }
}

fn load_dir(
    dir: &Path,
    spans: &mut Vec<Span>,
    events: &mut Vec<ErrorEvent>,
    notices: &mut Vec<String>,
) {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        match std::fs::read_dir(&d) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let p = entry.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        files.push(p);
                    }
                }
            }
            Err(e) => notices.push(format!("{}: {e}", d.display())),
        }
    }
    files.sort();
    for f in files {
        match std::fs::read(&f)
            .map_err(|e| e.to_string())
            .and_then(|b| formats::decode(&b).map_err(|e| e.to_string()))
        {
            Ok(formats::Decoded::Trace(t)) => spans.extend(t.spans),
            Ok(formats::Decoded::Events { events: e, .. }) => events.extend(e),
            Err(e) => notices.push(format!("{}: {e}", f.display())),
        }
    }
}

/// Pinning options from the `[correlate]` section.
pub fn correlate_options(config: &Config) -> correlate::Options {
    let mut opts = correlate::Options::default();
    if let Some(tags) = &config.correlate.correlation_tags {
        opts.correlation_tags = tags.clone();
    }
    if let Some(ms) = config.correlate.enclosing_window_ms {
        opts.enclosing_window_ns = ms.saturating_mul(1_000_000);
    }
    opts
}
