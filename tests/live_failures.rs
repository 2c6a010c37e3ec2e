//! Honest failures against live upstreams (the fake Tempo and Sentry of `end2end/fake-upstreams.mjs`
//! with injected faults): a failing Sentry is named, never a 404; a failure is not remembered after
//! the upstream recovers; a hanging Tempo costs one timeout, not two; a link to a span the trace does
//! not have says so and selects the error that points at it.

#![cfg(feature = "ssr")]

mod common;

use axum::http::StatusCode;
use serde_json::json;

use common::{app, app_with, get, Backend, Fake};

/// Scenario e's checkout trace and its payments GatewayTimeout.
const E_TRACE: &str = "d623a6d859f6f10504aae53c873bafc5";
/// An id no upstream has.
const NOWHERE: &str = "9f0e1d2c3b4a59687766554433221100";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sentry_is_a_502_that_names_it_for_every_kind_of_answer() {
    let fake = Fake::start();
    let cases = [
        json!({"match": "/eventids/", "status": 500, "body": "{\"detail\":\"Internal Error\"}"}),
        json!({"match": "/eventids/", "status": 429, "retry_after": 60, "body": "\"You are attempting to use this endpoint too frequently.\""}),
        json!({"match": "/eventids/", "status": 401, "body": "{\"detail\":\"Invalid token\"}"}),
        json!({"match": "/eventids/", "status": 200, "content_type": "application/json", "body": "<html>not json"}),
    ];
    for fault in cases {
        let app = app(&fake, Backend::Tempo);
        fake.faults(json!([fault.clone()])).await;
        for uri in [format!("/lookup?q={NOWHERE}"), format!("/event/{NOWHERE}")] {
            let (status, _, html) = get(&app, &uri).await;
            assert_eq!(
                status,
                StatusCode::BAD_GATEWAY,
                "{uri} with {fault}: {html}"
            );
            assert!(html.contains("lookup-failed"), "{uri}: the failure page");
            assert!(html.contains("Sentry"), "{uri}: names Sentry: {html}");
            assert!(
                html.contains("Where tracepin looked") && html.contains("Tempo"),
                "{uri}: still lists every place asked"
            );
        }
    }
    fake.clear_faults().await;
    // Without a fault the same id is an honest 404.
    let app = app(&fake, Backend::Tempo);
    let (status, _, html) = get(&app, &format!("/lookup?q={NOWHERE}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_is_not_remembered_once_the_upstream_recovers() {
    let fake = Fake::start();
    let app = app(&fake, Backend::Tempo);
    let export = format!("/api/export/{E_TRACE}");

    // Tempo down, Sentry up: the errors are shown without spans, marked degraded.
    fake.faults(json!([{"match": "/api/v2/traces/", "status": 503, "body": "unavailable"}]))
        .await;
    let (status, _, body) = get(&app, &export).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(
        json["timelines"][0]["span_count"], 0,
        "no spans while Tempo is down"
    );
    fake.clear_faults().await;
    // A degraded answer is kept 3 s at most (it absorbs a burst of reloads).
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    let (status, _, body) = get(&app, &export).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert!(
        json["timelines"][0]["span_count"].as_u64().unwrap_or(0) > 0,
        "spans are back"
    );
    // Scenario e's five errors, and the fixture's OrderTotalMismatch on `validate cart`.
    assert_eq!(
        json["timelines"][0]["pins"].as_array().map(Vec::len),
        Some(6)
    );

    // Both down: a 502 that is not cached at all — the next request after recovery succeeds.
    let app = common::app(&fake, Backend::Tempo);
    fake.faults(json!([
        {"match": "/api/v2/traces/", "status": 500, "body": "boom"},
        {"match": "/api/0/", "status": 500, "body": "{\"detail\":\"boom\"}"}
    ]))
    .await;
    let (status, _, _) = get(&app, &export).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    fake.clear_faults().await;
    let (status, _, body) = get(&app, &export).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_tempo_costs_one_timeout() {
    let fake = Fake::start();
    let app = app_with(&fake, Backend::Tempo, "timeout_ms = 500");
    fake.faults(json!([{"match": "/api/v2/traces/", "hang": true}]))
        .await;
    fake.take_requests().await;
    let (status, _, body) = get(&app, &format!("/api/export/{E_TRACE}")).await;
    // Sentry answered, so the errors are there; the spans are not, with the reason.
    assert_eq!(status, StatusCode::OK, "{body}");
    let tempo: Vec<String> = fake
        .take_requests()
        .await
        .into_iter()
        .filter(|(u, _)| u == "tempo")
        .map(|(_, p)| p)
        .collect();
    assert_eq!(
        tempo.len(),
        1,
        "the timed-out request is not retried: {tempo:?}"
    );
    let (_, _, html) = get(&app, &format!("/trace/{E_TRACE}")).await;
    assert!(html.contains("timed out after 500 ms"), "the page says why");
    fake.clear_faults().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_span_the_trace_lacks_says_so_and_selects_the_error_pointing_there() {
    // Scenario e: the PriceCacheCorrupted error was raised in `cache.lookup`, a span the SDK dropped;
    // Sentry's `contexts.trace.span_id` names it, and the error is pinned to an enclosing span.
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/sdk/e_nasty_multi_error/expected.json"),
        )
        .expect("expected.json"),
    )
    .expect("JSON");
    let dropped = expected["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["exception_type"] == "PriceCacheCorrupted")
        .expect("an event raised in a span that was not exported");
    let missing = dropped["observed"]["contexts.trace"]["span_id"]
        .as_str()
        .expect("contexts.trace.span_id");
    let fake = Fake::start();
    let app = app(&fake, Backend::Tempo);
    let (status, _, export) = get(&app, &format!("/api/export/{E_TRACE}")).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&export).expect("JSON");
    let event_id = dropped["event_id"].as_str().expect("id");
    let pin = json["timelines"][0]["pins"]
        .as_array()
        .expect("pins")
        .iter()
        .find(|p| p["event_id"] == event_id)
        .expect("the event is pinned to an enclosing span");
    let instead = pin["span_id"].as_str().expect("span");

    let (status, _, html) = get(&app, &format!("/trace/{E_TRACE}?v=1&span={missing}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("data-kind=\"span_missing\"") && html.contains(missing),
        "the page says the span is not in the trace"
    );
    assert_eq!(
        selected_span(&html).as_deref(),
        Some(instead),
        "the pin of the error pointing at the span is selected"
    );

    // A span nothing points at: said, nothing selected.
    let (_, _, html) = get(&app, &format!("/trace/{E_TRACE}?v=1&span=0123456789abcdef")).await;
    assert!(
        html.contains("no error of the trace points at it"),
        "{}",
        html.len()
    );
    assert_eq!(selected_span(&html), None);
}

/// The span id of the row rendered as selected.
fn selected_span(html: &str) -> Option<String> {
    html.split("<div")
        .find(|tag| {
            tag.contains("data-testid=\"waterfall-row\"") && tag.contains("data-selected=\"true\"")
        })
        .and_then(|tag| tag.split("data-span-id=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
}
