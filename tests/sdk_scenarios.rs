//! Real SDK scenarios: decode what the Sentry and OpenTelemetry Python SDKs sent, correlate it, and
//! check every event against the generator's ground truth (`expected.json`).
//!
//! Per event: when the span that raised the error was exported, the event is pinned exactly there;
//! an event is never pinned to a span of another service; when the raise span was not exported (e1,
//! e5), it is pinned to a span of its own service by `enclosing_span` or unplaced with a reason that
//! says so. A per-scenario summary of `matched_by` counts is printed (`-- --nocapture`).

#![cfg(feature = "ssr")]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracepin::connectors::formats::{decode, Decoded};
use tracepin::correlate::{correlate, Correlation, MatchedBy, Options};
use tracepin::domain::{ErrorEvent, EventId, Span};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk")
}

fn load(dir: &Path) -> (Vec<Span>, Vec<ErrorEvent>) {
    let bytes = fs::read(dir.join("otlp.json")).expect("otlp.json");
    let spans = match decode(&bytes).expect("decode otlp.json") {
        Decoded::Trace(t) => t.spans,
        Decoded::Events { .. } => panic!("otlp.json decoded as events"),
    };
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join("sentry-envelopes"))
        .expect("sentry-envelopes")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "envelope"))
        .collect();
    files.sort();
    let mut events = Vec::new();
    for f in files {
        let bytes = fs::read(&f).expect("envelope");
        match decode(&bytes).unwrap_or_else(|e| panic!("decode {}: {e}", f.display())) {
            Decoded::Events { events: evs, .. } => events.extend(evs),
            Decoded::Trace(_) => panic!("{} decoded as a trace", f.display()),
        }
    }
    (spans, events)
}

/// Where one event ended up: (trace index, row) when pinned, else the reason code.
enum Outcome<'a> {
    Pinned {
        timeline: usize,
        pin: &'a tracepin::correlate::Pin,
    },
    Unplaced(&'static str),
}

fn outcome(c: &Correlation, event: usize) -> Outcome<'_> {
    for (ti, t) in c.timelines.iter().enumerate() {
        if let Some(pin) = t.pins.iter().find(|p| p.event == event) {
            return Outcome::Pinned { timeline: ti, pin };
        }
        if let Some(u) = t.unplaced.iter().find(|u| u.event == event) {
            return Outcome::Unplaced(u.reason.code());
        }
    }
    match c.unplaced.iter().find(|u| u.event == event) {
        Some(u) => Outcome::Unplaced(u.reason.code()),
        None => panic!("event {event} appears nowhere"),
    }
}

fn check_scenario(dir: &Path) -> String {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("?")
        .to_owned();
    let expected: Value =
        serde_json::from_slice(&fs::read(dir.join("expected.json")).expect("expected.json"))
            .expect("expected.json parses");
    let (spans, events) = load(dir);
    let c = correlate(spans, events, &Options::default());

    // Traces: one timeline per expected trace, with the expected span count.
    let want_traces = expected["traces"].as_array().expect("traces");
    assert_eq!(c.timelines.len(), want_traces.len(), "{name}: trace count");
    for wt in want_traces {
        let id = wt["trace_id"].as_str().expect("trace_id");
        let t = c
            .timelines
            .iter()
            .find(|t| t.trace.trace_id.to_string() == id)
            .unwrap_or_else(|| panic!("{name}: trace {id} missing"));
        assert_eq!(
            t.trace.span_count() as u64,
            wt["span_count"].as_u64().expect("span_count"),
            "{name}: span count of {id}"
        );
    }

    // Every event appears exactly once.
    let mut seen = vec![0usize; c.events.len()];
    for t in &c.timelines {
        t.pins.iter().for_each(|p| seen[p.event] += 1);
        t.unplaced.iter().for_each(|u| seen[u.event] += 1);
    }
    c.unplaced.iter().for_each(|u| seen[u.event] += 1);
    assert!(
        seen.iter().all(|&n| n == 1),
        "{name}: events placed once: {seen:?}"
    );

    let want_events = expected["events"].as_array().expect("events");
    assert_eq!(
        c.events.len(),
        want_events.len(),
        "{name}: decoded event count"
    );
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut notes: Vec<String> = Vec::new();
    for we in want_events {
        let eid: EventId = we["event_id"]
            .as_str()
            .expect("event_id")
            .parse()
            .expect("hex id");
        let idx = c
            .events
            .iter()
            .position(|e| e.event_id == Some(eid))
            .unwrap_or_else(|| panic!("{name}: event {eid} not decoded"));
        let service = we["service"].as_str().expect("service");
        let raise_span = we["span_id"].as_str();
        let exported = we["span_exported"].as_bool().unwrap_or(false);
        match outcome(&c, idx) {
            Outcome::Pinned { timeline, pin } => {
                let t = &c.timelines[timeline];
                let span = &t.trace.spans[pin.row];
                *counts.entry(pin.matched_by.code().to_owned()).or_default() += 1;
                assert_eq!(
                    t.trace.trace_id.to_string(),
                    we["trace_id"].as_str().expect("trace_id"),
                    "{name}: {eid} pinned in the wrong trace"
                );
                assert_eq!(
                    &*span.service, service,
                    "{name}: {eid} pinned to {} \"{}\" of another service",
                    span.span_id, span.name
                );
                if exported {
                    assert_eq!(
                        Some(span.span_id.to_string().as_str()),
                        raise_span,
                        "{name}: {eid} ({service}) pinned to \"{}\" by {}, not to the raise span",
                        span.name,
                        pin.matched_by
                    );
                } else {
                    assert_eq!(
                        pin.matched_by,
                        MatchedBy::EnclosingSpan,
                        "{name}: {eid} has no exported span; only enclosing_span may place it"
                    );
                    notes.push(format!(
                        "{} ({service}) -> \"{}\" by {}",
                        &we["event_id"].as_str().unwrap_or("")[..8],
                        span.name,
                        pin.matched_by
                    ));
                }
            }
            Outcome::Unplaced(code) => {
                notes.push(format!(
                    "{} ({service}) unplaced: {code}",
                    &we["event_id"].as_str().unwrap_or("")[..8]
                ));
                *counts.entry(format!("unplaced:{code}")).or_default() += 1;
                assert!(
                    !exported,
                    "{name}: {eid} ({service}) unplaced ({code}) though its span was exported"
                );
                assert!(
                    matches!(
                        code,
                        "span_not_exported" | "no_enclosing_span" | "other_service_span"
                    ),
                    "{name}: {eid} unplaced for the wrong reason: {code}"
                );
            }
        }
    }

    // Clock skew as the generator set it (e: payments +250 ms).
    if let Some(skews) = expected["clock_skew_ms"].as_object() {
        for (svc, ms) in skews {
            let want = ms.as_f64().expect("ms") * 1e6;
            let t = c
                .timelines
                .iter()
                .find(|t| t.skew.services.iter().any(|s| &s.service == svc))
                .unwrap_or_else(|| panic!("{name}: no skew estimated for {svc}"));
            let got = t.skew.offset_of(svc) as f64;
            assert!(
                (got - want).abs() < 5e6,
                "{name}: skew of {svc} is {:.1} ms, expected {ms} ms",
                got / 1e6
            );
        }
    }

    // OTel exception events: merged with their Sentry event when one was sent, else left visible.
    let merged: usize = c
        .timelines
        .iter()
        .map(|t| t.pins.iter().filter(|p| p.span_event.is_some()).count())
        .sum();
    let with_otel = want_events
        .iter()
        .filter(|e| !e["otel_exception_span_event"].is_null())
        .count();
    assert_eq!(merged, with_otel, "{name}: merged OTel exception markers");

    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let skew: Vec<String> = c
        .timelines
        .iter()
        .flat_map(|t| t.skew.services.iter())
        .map(|s| format!("{} {:+.1} ms", s.service, s.offset_ns as f64 / 1e6))
        .collect();
    let mut line = format!(
        "{name:<28} traces={} events={} {}",
        c.timelines.len(),
        c.events.len(),
        summary.join(" ")
    );
    if !skew.is_empty() {
        line.push_str(&format!(" skew[{}]", skew.join(", ")));
    }
    for n in notes {
        line.push_str(&format!("\n      {n}"));
    }
    line
}

#[test]
fn every_sdk_scenario_matches_ground_truth() {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures())
        .expect("fixtures/sdk")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    dirs.sort();
    assert_eq!(dirs.len(), 7, "scenarios a1, a2, b, c, d, e, f");
    let mut lines = Vec::new();
    for dir in &dirs {
        lines.push(check_scenario(dir));
    }
    println!("SDK scenarios (matched_by counts):");
    for l in lines {
        println!("  {l}");
    }
}
