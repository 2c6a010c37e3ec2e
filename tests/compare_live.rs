//! "Compare with healthy traces" through live upstreams: the fake Tempo (TraceQL search) and the fake
//! Jaeger (api_v3 FindTraces) serve scenario e's failing checkout next to the healthy runs of the same
//! generator (`tests/fixtures/sdk-healthy/`). The export with `?cmp=auto` must find baselines through
//! each backend's search, bounded (at most 2 × 20 candidates asked, at most 20 kept), name the payment
//! retries and the email error, say where it looked when nothing fits, and degrade when the search
//! fails. Named baselines (`cmp=<id>,<id>`) are used as given, and a bad `cmp` is a 400.

#![cfg(feature = "ssr")]

mod common;

use axum::http::StatusCode;
use serde_json::Value;

use common::{app, get, Backend, Fake};

/// Scenario e's failing checkout (payment retries, the email error).
const FAILING: &str = "d623a6d859f6f10504aae53c873bafc5";
/// The large trace of scenario f: no healthy run of it exists.
const LONELY: &str = "a99591a8f070a44dfa4d0cf8534c49ec";

fn healthy_ids() -> Vec<String> {
    let mut out = Vec::new();
    for s in ["e_nasty_multi_error", "a1_otlp_integration"] {
        let runs: Value = serde_json::from_str(
            &std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(format!("tests/fixtures/sdk-healthy/{s}/runs.json")),
            )
            .expect("runs.json"),
        )
        .expect("json");
        for t in runs["traces"].as_array().expect("traces") {
            out.push(t["trace_id"].as_str().expect("id").to_owned());
        }
    }
    out
}

async fn export(app: &axum::Router, trace: &str, cmp: &str) -> (StatusCode, Value, String) {
    let (status, _, body) = get(app, &format!("/api/export/{trace}?cmp={cmp}")).await;
    let json = serde_json::from_str(&body).unwrap_or(Value::Null);
    (status, json, body)
}

/// A logged path+query with the query percent-decoded.
fn decode(p: &str) -> String {
    match p.split_once('?') {
        Some((path, q)) => {
            let pairs: Vec<String> = url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => p.to_owned(),
    }
}

fn texts(c: &Value) -> Vec<String> {
    c["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["text"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn finds_healthy_baselines_and_names_the_differences(backend: Backend) {
    let fake = Fake::start();
    let app = app(&fake, backend);
    fake.take_requests().await;
    let (status, json, body) = export(&app, FAILING, "auto").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = &json["comparison"];
    let ids: Vec<String> = c["baselines"]["trace_ids"]
        .as_array()
        .expect("trace_ids")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let searched = c["searched"].to_string();
    let healthy = healthy_ids();
    assert_eq!(ids.len(), 20, "20 baselines, the default: {ids:?}");
    // Healthy: the generator's healthy runs, and the checkouts of the failing runs that went well
    // (no error span, no Sentry error). Never a trace with an error.
    let fine = [
        "550d810d86026bb5ede14f0c0a1f207d",
        "0000000000000000ede14f0c0a1f207d",
        "b55ac5e1710a97e035c6e3ee46211e10",
    ];
    assert!(
        ids.iter()
            .all(|i| healthy.contains(i) || fine.contains(&i.as_str())),
        "only healthy traces are baselines: {ids:?}"
    );
    for errored in [
        FAILING,
        "0618ec0a97592499eb52cffdb09d275d",
        "bfd9c399efb7cfc274cd611bb3c66aa8",
        "c0da5e3a99c6a9d849d8831a0ca3340c",
    ] {
        assert!(
            !ids.contains(&errored.to_owned()),
            "{errored} has errors: {ids:?}"
        );
    }
    assert!(
        searched.contains("Sentry: errors of the"),
        "candidates are checked against Sentry: {searched}"
    );
    let t = texts(c);
    let has = |s: &str| t.iter().any(|x| x.contains(s));
    assert!(has("payments 'POST /charge' ran 3 times"), "{t:#?}");
    assert!(
        has("order-worker 'send confirmation email' failed (healthy: never)"),
        "{t:#?}"
    );
    assert!(
        c["first_divergence"]["text"].as_str().is_some(),
        "a first divergence: {c}"
    );
    let requests = fake.take_requests().await;
    let decoded: Vec<String> = requests.iter().map(|(_, p)| decode(p)).collect();
    let paths: Vec<&str> = decoded.iter().map(String::as_str).collect();
    match backend {
        Backend::Tempo => {
            assert!(searched.contains("trace:rootService"), "{searched}");
            let searches: Vec<&&str> = paths
                .iter()
                .filter(|p| p.starts_with("/api/search") && p.contains("trace:rootService"))
                .collect();
            assert_eq!(
                searches.len(),
                2,
                "one search for the root, one for its errors: {searches:?}"
            );
            assert!(
                searches
                    .iter()
                    .all(|p| p.contains("limit=40") && p.contains("start=") && p.contains("end=")),
                "bounded to 2 × 20 candidates in a window: {searches:?}"
            );
            let fetched = paths
                .iter()
                .filter(|p| p.starts_with("/api/v2/traces/"))
                .count();
            assert!(
                (20..=40).contains(&fetched),
                "the failing trace plus at most the baselines needed: {fetched} in {paths:?}"
            );
        }
        Backend::Jaeger => {
            assert!(searched.contains("FindTraces"), "{searched}");
            let finds: Vec<&&str> = paths
                .iter()
                .filter(|p| p.starts_with("/api/v3/traces?") && p.contains("query.operationName"))
                .collect();
            assert_eq!(finds.len(), 1, "{finds:?}");
            assert!(
                finds[0].contains("query.operationName=")
                    && finds[0].contains("query.searchDepth=40"),
                "{finds:?}"
            );
        }
    }
    // Named baselines: exactly those, in any spelling.
    let named = format!("{},{}", healthy[0], healthy[1].to_uppercase());
    let (status, json, body) = export(&app, FAILING, &named).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json["comparison"]["baselines"]["count"], 2, "{body}");
    // The same comparison is served from the cache: no second search.
    fake.take_requests().await;
    let (status, _, _) = export(&app, FAILING, "auto").await;
    assert_eq!(status, StatusCode::OK);
    let again: Vec<String> = fake
        .take_requests()
        .await
        .iter()
        .map(|(_, p)| decode(p))
        .collect();
    assert!(
        again
            .iter()
            .all(|p| !p.contains("trace:rootService") && !p.contains("query.operationName")),
        "{again:?}"
    );
}

#[tokio::test]
async fn tempo_search_finds_healthy_baselines() {
    finds_healthy_baselines_and_names_the_differences(Backend::Tempo).await;
}

#[tokio::test]
async fn jaeger_search_finds_healthy_baselines() {
    finds_healthy_baselines_and_names_the_differences(Backend::Jaeger).await;
}

#[tokio::test]
async fn no_healthy_trace_says_where_it_looked_and_a_failing_search_degrades() {
    let fake = Fake::start();
    let app = app(&fake, Backend::Tempo);
    let (status, json, body) = export(&app, LONELY, "auto").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = &json["comparison"];
    assert_eq!(c["baselines"]["count"], 0, "{c}");
    assert!(c["findings"].as_array().is_some_and(Vec::is_empty), "{c}");
    let searched = c["searched"].to_string();
    assert!(
        searched.contains("tempo") && searched.contains("TraceQL"),
        "{searched}"
    );

    // The search fails: the comparison still answers, empty, naming the failure.
    fake.faults(serde_json::json!([{ "match": "/api/search", "status": 500, "body": "boom" }]))
        .await;
    let (status, json, body) = export(&app, FAILING, "auto").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let c = &json["comparison"];
    assert_eq!(c["baselines"]["count"], 0, "{c}");
    assert!(c["problems"].to_string().contains("500"), "{c}");
    fake.clear_faults().await;

    // A `cmp` that names nothing usable is the client's mistake.
    let (status, _, body) = get(&app, &format!("/api/export/{FAILING}?cmp=nothing")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A named trace nobody has is reported, not fatal.
    let (status, json, body) = export(&app, FAILING, "0123456789abcdef0123456789abcdef").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json["comparison"]["baselines"]["count"], 0);
    assert!(
        json["comparison"]["problems"]
            .to_string()
            .contains("0123456789abcdef0123456789abcdef cannot be used"),
        "{body}"
    );
}
