//! `tracepin compare` on the SDK scenarios: each failing trace of scenarios a1, b, c, d and e against
//! healthy runs of the same scenario made by the same generator (`tests/fixtures/sdk-healthy/`), through
//! `run_compare`. The summary must name the span where each exported error was raised (the generator's
//! ground truth in `expected.json`), a happy trace must show no failure, and scenario e must name the
//! payment retries and the email error.
#![cfg(feature = "ssr")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracepin::cli::{run_compare, CompareArgs, OutputFormat};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn compare(scenario: &str, trace_id: &str, format: OutputFormat) -> (i32, String, String) {
    let args = CompareArgs {
        traces: vec![fixture(&format!("sdk/{scenario}/otlp.json"))],
        baselines: vec![fixture(&format!("sdk-healthy/{scenario}/otlp.json"))],
        trace_id: Some(trace_id.to_owned()),
        format,
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_compare(&args, &mut out, &mut err);
    (
        code,
        String::from_utf8(out).expect("utf8"),
        String::from_utf8(err).expect("utf8"),
    )
}

fn report(scenario: &str, trace_id: &str) -> Value {
    let (code, out, err) = compare(scenario, trace_id, OutputFormat::Json);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "", "healthy runs have no error span");
    serde_json::from_str(&out).expect("json")
}

fn findings(r: &Value) -> Vec<(String, String, String)> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_owned(),
                f["name"].as_str().unwrap_or_default().to_owned(),
                f["text"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_summary_names_the_span_where_each_error_was_raised() {
    for scenario in [
        "a1_otlp_integration",
        "b_manual_context",
        "c_custom_correlation_id",
        "d_dedupe_record_exception",
        "e_nasty_multi_error",
    ] {
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("sdk/{scenario}/expected.json")))
                .expect("expected.json"),
        )
        .expect("json");
        let healthy: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture(&format!("sdk-healthy/{scenario}/runs.json")))
                .expect("runs.json"),
        )
        .expect("json");
        let baselines = healthy["runs"].as_u64().expect("runs");
        for t in expected["traces"].as_array().expect("traces") {
            let id = t["trace_id"].as_str().expect("id");
            let r = report(scenario, id);
            assert_eq!(r["baselines"]["count"].as_u64(), Some(baselines));
            let found = findings(&r);
            let raised: Vec<&str> = expected["events"]
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["trace_id"] == t["trace_id"] && e["span_exported"] == true)
                .filter_map(|e| e["span_name"].as_str())
                .collect();
            for span in &raised {
                assert!(
                    found.iter().any(|(k, n, _)| k == "errored" && n == span),
                    "{scenario} {id}: no failure named on {span:?}: {found:#?}"
                );
            }
            if raised.is_empty() {
                assert!(
                    found.iter().all(|(k, _, _)| k != "errored"),
                    "{scenario} {id}: a trace without errors shows a failure: {found:#?}"
                );
            } else {
                let first = r["first_divergence"]["text"].as_str().unwrap_or_default();
                assert!(
                    raised.iter().any(|s| first.contains(&format!("'{s}'"))),
                    "{scenario} {id}: first divergence {first:?} names none of {raised:?}"
                );
            }
        }
    }
}

#[test]
fn scenario_e_names_the_payment_retries_and_the_email_error() {
    let r = report("e_nasty_multi_error", "d623a6d859f6f10504aae53c873bafc5");
    let texts: Vec<String> = findings(&r).into_iter().map(|(_, _, t)| t).collect();
    let has = |s: &str| texts.iter().any(|t| t.contains(s));
    assert!(
        has("payments 'POST /charge' ran 3 times (healthy: once)"),
        "{texts:#?}"
    );
    assert!(
        has("payments 'POST' failed 2 of 3 times (healthy: never): gateway timeout"),
        "{texts:#?}"
    );
    assert!(
        has("checkout-api 'retry backoff' is new: it ran twice"),
        "{texts:#?}"
    );
    assert!(
        has("order-worker 'send confirmation email' failed (healthy: never): email failed"),
        "{texts:#?}"
    );
    // The inventory call that waited on the dropped, failing cache lookup is the one slow call.
    assert!(has("inventory 'GET /stock/SKU-77' took"), "{texts:#?}");
    // Marked rows carry their marks; the repeated ones say which call they are.
    let rows = r["rows"].as_array().expect("rows");
    let repeated = rows
        .iter()
        .filter(|x| {
            x["marks"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m == "repeated"))
        })
        .count();
    assert_eq!(repeated, 8, "two extra attempts of four spans each");
}

#[test]
fn an_out_of_stock_order_misses_the_payment_and_the_email() {
    let r = report("a1_otlp_integration", "c0da5e3a99c6a9d849d8831a0ca3340c");
    let ghosts: Vec<(String, String)> = r["ghosts"]
        .as_array()
        .expect("ghosts")
        .iter()
        .map(|g| {
            (
                g["service"].as_str().unwrap_or_default().to_owned(),
                g["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for want in [
        ("checkout-api", "POST"),
        ("payments", "POST /charge"),
        ("checkout-api", "publish orders"),
        ("order-worker", "process orders"),
        ("order-worker", "send confirmation email"),
    ] {
        assert!(
            ghosts.iter().any(|(s, n)| s == want.0 && n == want.1),
            "{want:?} not among {ghosts:?}"
        );
    }
    // Text output: the ghost rows sit in the waterfall, under the checkout server span.
    let (code, text, _) = compare(
        "a1_otlp_integration",
        "c0da5e3a99c6a9d849d8831a0ca3340c",
        OutputFormat::Text,
    );
    assert_eq!(code, 0);
    assert!(
        text.contains("First divergence: inventory 'reserve stock' failed"),
        "{text}"
    );
    assert!(
        text.contains("      - checkout-api POST (missing; in 12 of 12 healthy"),
        "{text}"
    );
}

#[test]
fn ambiguous_or_missing_input_is_refused_with_a_reason() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args = CompareArgs {
        traces: vec![fixture("sdk/a1_otlp_integration/otlp.json")],
        baselines: vec![fixture("sdk-healthy/a1_otlp_integration/otlp.json")],
        trace_id: None,
        format: OutputFormat::Text,
    };
    assert_eq!(run_compare(&args, &mut out, &mut err), 2);
    let err = String::from_utf8(err).expect("utf8");
    assert!(
        err.contains("name the failing one with --trace-id"),
        "{err}"
    );
    let mut err = Vec::new();
    let args = CompareArgs {
        baselines: Vec::new(),
        trace_id: Some("c0da5e3a99c6a9d849d8831a0ca3340c".into()),
        ..args
    };
    assert_eq!(run_compare(&args, &mut out, &mut err), 2);
    assert!(String::from_utf8(err)
        .expect("utf8")
        .contains("no baseline"));
}
