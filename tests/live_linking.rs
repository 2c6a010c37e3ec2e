//! Every way teams link errors to traces, through live upstreams, both directions.
//!
//! The fake upstreams of the end-to-end tests (`end2end/fake-upstreams.mjs`: Grafana Tempo, Jaeger
//! and the Sentry Web API, serving all seven real SDK scenarios and evaluating Sentry's search and
//! TraceQL the way the real servers do) run as a child process on 127.0.0.1:0; tracepin's router
//! reads them over HTTP. For every scenario and every trace, `/api/export/{trace_id}` must pin
//! exactly what `tracepin correlate` pins on the scenario's files, and every `/event/{id}` must land
//! on the trace that pins the event, with the event selected. Sentry's request count per trace is
//! printed (`-- --nocapture`).

#![cfg(feature = "ssr")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::Value;

use common::{app, get, Backend, Fake};
use tracepin::connectors::formats::{decode, Decoded};
use tracepin::correlate::{correlate, Options};

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/sdk")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("expected.json").is_file())
        .collect();
    out.sort();
    assert_eq!(out.len(), 7, "seven SDK scenarios");
    out
}

/// What `tracepin correlate` makes of a scenario's files.
struct Truth {
    /// trace id → (event id → (span id, matched_by)) of its pins.
    pins: BTreeMap<String, BTreeMap<String, (String, String)>>,
    /// trace id → event ids listed as its unplaced errors.
    unplaced: BTreeMap<String, Vec<String>>,
    /// event id → the trace whose timeline holds it.
    owner: BTreeMap<String, String>,
    /// Events of the scenario that no trace holds.
    elsewhere: Vec<String>,
}

fn truth(dir: &Path) -> Truth {
    let spans = match decode(&std::fs::read(dir.join("otlp.json")).expect("otlp.json"))
        .expect("decode otlp.json")
    {
        Decoded::Trace(t) => t.spans,
        Decoded::Events { .. } => panic!("otlp.json decoded as events"),
    };
    let mut events = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("sentry-envelopes"))
        .expect("envelopes")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files {
        if let Ok(Decoded::Events { events: e, .. }) = decode(&std::fs::read(&f).expect("read")) {
            events.extend(e);
        }
    }
    let c = correlate(spans, events, &Options::default());
    let mut t = Truth {
        pins: BTreeMap::new(),
        unplaced: BTreeMap::new(),
        owner: BTreeMap::new(),
        elsewhere: c
            .unplaced
            .iter()
            .filter_map(|u| u.event_id.map(|e| e.to_string()))
            .collect(),
    };
    for tl in &c.timelines {
        let id = tl.trace.trace_id.to_string();
        let pins = t.pins.entry(id.clone()).or_default();
        for p in &tl.pins {
            let eid = p.event_id.map(|e| e.to_string()).unwrap_or_default();
            pins.insert(
                eid.clone(),
                (p.span_id.to_string(), p.matched_by.code().to_owned()),
            );
            t.owner.insert(eid, id.clone());
        }
        let un = t.unplaced.entry(id.clone()).or_default();
        for u in &tl.unplaced {
            let eid = u.event_id.map(|e| e.to_string()).unwrap_or_default();
            un.push(eid.clone());
            t.owner.insert(eid, id.clone());
        }
        un.sort();
    }
    t
}

fn exported(json: &Value) -> (BTreeMap<String, (String, String)>, Vec<String>) {
    let tl = &json["timelines"][0];
    let pins = tl["pins"]
        .as_array()
        .expect("pins")
        .iter()
        .map(|p| {
            (
                p["event_id"].as_str().unwrap_or_default().to_owned(),
                (
                    p["span_id"].as_str().unwrap_or_default().to_owned(),
                    p["matched_by"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect();
    let mut unplaced: Vec<String> = tl["unplaced"]
        .as_array()
        .expect("unplaced")
        .iter()
        .map(|u| u["event_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    unplaced.sort();
    (pins, unplaced)
}

async fn every_scenario_through(backend: Backend) {
    let fake = Fake::start();
    let mut report = Vec::new();
    for dir in scenarios() {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_owned();
        let t = truth(&dir);
        for (trace, want_pins) in &t.pins {
            // A fresh tracepin per trace, so that the request count is what one cold trace costs.
            let app = app(&fake, backend);
            fake.take_requests().await;
            let (status, _, body) = get(&app, &format!("/api/export/{trace}")).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{name} {backend:?}: export of {trace}: {body}"
            );
            let json: Value = serde_json::from_str(&body).expect("export is JSON");
            // The fake's org also holds events written for other tests (e.g. an event whose id is
            // a trace id, on scenario e's trace): compare the scenario's own events.
            let (mut pins, mut unplaced) = exported(&json);
            pins.retain(|e, _| t.owner.contains_key(e) || t.elsewhere.contains(e));
            unplaced.retain(|e| t.owner.contains_key(e) || t.elsewhere.contains(e));
            assert_eq!(
                &pins, want_pins,
                "{name} {backend:?}: trace {trace} pins what `tracepin correlate` pins on the files"
            );
            assert_eq!(
                Some(&unplaced),
                t.unplaced.get(trace),
                "{name} {backend:?}: trace {trace} lists the same unplaced errors"
            );
            let sentry = fake
                .take_requests()
                .await
                .into_iter()
                .filter(|(u, _)| u == "sentry")
                .count();
            report.push(format!(
                "{name:28} {trace} {:>2} pin(s) {:>2} Sentry request(s)",
                pins.len(),
                sentry
            ));
        }
        // Event → its trace, with the event selected.
        let app = app(&fake, backend);
        for (event, trace) in &t.owner {
            let (status, location, body) = get(&app, &format!("/event/{event}")).await;
            assert_eq!(
                status,
                StatusCode::FOUND,
                "{name} {backend:?}: /event/{event} redirects: {body}"
            );
            let location = location.unwrap_or_default();
            assert!(
                location.starts_with(&format!("/trace/{trace}?"))
                    && location.contains(&format!("event={event}")),
                "{name} {backend:?}: /event/{event} lands on trace {trace} with the event selected, not {location}"
            );
            let (status, _, html) = get(&app, &location).await;
            assert_eq!(status, StatusCode::OK, "{name}: {location}");
            if let Some((span, _)) = t.pins.get(trace).and_then(|p| p.get(event)) {
                assert!(
                    html.contains(&format!("data-span-id=\"{span}\"")),
                    "{name} {backend:?}: the page of {location} shows span {span}"
                );
            }
            assert!(
                !html.contains("is not among the errors of this trace"),
                "{name} {backend:?}: {location} knows its event"
            );
        }
    }
    eprintln!(
        "{backend:?} + Sentry, one cold trace each:\n  {}",
        report.join("\n  ")
    );
}

// One test for both backends: two Leptos renders from two test runtimes at once can stall a page
// render in this process (Leptos's task spawner is process-wide), so the backends run in turn.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_scenario_through_tempo_then_jaeger_with_sentry() {
    every_scenario_through(Backend::Tempo).await;
    every_scenario_through(Backend::Jaeger).await;
}
