//! `tracepin correlate` end to end on the recorded fixtures, through `run_correlate`.
#![cfg(feature = "ssr")]

use std::path::{Path, PathBuf};

use serde_json::Value;
use tracepin::cli::{run_correlate, CorrelateArgs, OutputFormat};

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    // A leftover from an earlier run may or may not exist.
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run(args: &CorrelateArgs) -> Run {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = run_correlate(args, &mut out, &mut err);
    Run {
        code,
        out: String::from_utf8(out).expect("utf8 out"),
        err: String::from_utf8(err).expect("utf8 err"),
    }
}

fn args(traces: &[PathBuf], events: &[PathBuf], format: OutputFormat) -> CorrelateArgs {
    CorrelateArgs {
        traces: traces.to_vec(),
        events: events.to_vec(),
        format,
        correlation_tags: Vec::new(),
    }
}

fn event_count(report: &Value) -> usize {
    let timelines = report["timelines"].as_array().expect("timelines");
    let in_timelines: usize = timelines
        .iter()
        .map(|t| {
            t["pins"].as_array().map_or(0, Vec::len) + t["unplaced"].as_array().map_or(0, Vec::len)
        })
        .sum();
    in_timelines + report["unplaced"].as_array().map_or(0, Vec::len)
}

#[test]
fn json_output_shape() {
    let r = run(&args(
        &[fixture("sdk/a1_otlp_integration/otlp.json")],
        &[fixture("sdk/a1_otlp_integration/sentry-envelopes")],
        OutputFormat::Json,
    ));
    assert_eq!(r.code, 0, "stderr: {}", r.err);
    assert_eq!(r.err, "");
    let report: Value = serde_json::from_str(&r.out).expect("JSON report");
    let timelines = report["timelines"].as_array().expect("timelines");
    assert_eq!(timelines.len(), 4);
    for t in timelines {
        assert!(t["trace_id"].as_str().is_some_and(|id| id.len() == 32));
        assert!(t["span_count"].as_u64().is_some_and(|n| n > 0));
        assert!(t["pins"].is_array() && t["unplaced"].is_array());
    }
    let spans: u64 = timelines
        .iter()
        .filter_map(|t| t["span_count"].as_u64())
        .sum();
    assert_eq!(spans, 57);
    assert_eq!(event_count(&report), 3, "every event appears exactly once");
}

#[test]
fn text_output_and_directory_walk() {
    // A whole scenario directory: OTLP from both exporters, raw requests, envelopes, and the
    // generator's expected.json and hops.jsonl, which are not payloads.
    let dir = fixture("sdk/b_manual_context");
    let r = run(&args(std::slice::from_ref(&dir), &[], OutputFormat::Text));
    assert_eq!(r.code, 1, "expected.json and hops.jsonl are reported");
    assert!(
        r.err
            .contains("expected.json: unknown format: found a JSON object with keys"),
        "{}",
        r.err
    );
    assert!(r.err.contains("hops.jsonl: "), "{}", r.err);
    assert!(!r.out.is_empty(), "the readable files still give a report");
    assert!(r.out.contains("3b05bbdd9ca4a959b02b7bbdedd5130c") || r.out.contains("3b05bbdd"));
}

#[test]
fn bad_file_among_good_ones() {
    let dir = scratch("bad-among-good");
    std::fs::copy(
        fixture("sdk/a1_otlp_integration/otlp.json"),
        dir.join("a-otlp.json"),
    )
    .expect("copy");
    std::fs::write(
        dir.join("b-broken.json"),
        "{\n  \"resourceSpans\": [\n    {,\n  ]\n}\n",
    )
    .expect("write");
    std::fs::write(dir.join("c-empty.json"), "").expect("write");
    std::fs::write(dir.join(".hidden.json"), "garbage").expect("write");
    let sub = dir.join("z-sub");
    std::fs::create_dir_all(&sub).expect("subdir");
    std::fs::copy(
        fixture("sdk/a1_otlp_integration/sentry-envelopes/0001-event-b4d92335ab0448378e9c43d3ca223c7f.envelope"),
        sub.join("event.envelope"),
    )
    .expect("copy");

    let r = run(&args(std::slice::from_ref(&dir), &[], OutputFormat::Json));
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r.err.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.err);
    assert_eq!(
        lines[0],
        format!(
            "{}: invalid JSON at line 3, column 6 (reading OTLP JSON): key must be a string",
            dir.join("b-broken.json").display()
        )
    );
    assert_eq!(
        lines[1],
        format!("{}: the input is empty", dir.join("c-empty.json").display())
    );
    let report: Value = serde_json::from_str(&r.out).expect("report despite bad files");
    assert_eq!(report["timelines"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        event_count(&report),
        1,
        "the envelope in the subdirectory was read"
    );
}

#[test]
fn unknown_format_is_reported_with_accepted_formats() {
    let r = run(&args(
        &[fixture("sdk/a1_otlp_integration/otlp.json")],
        &[fixture("sdk/a1_otlp_integration/expected.json")],
        OutputFormat::Text,
    ));
    assert_eq!(r.code, 1);
    assert!(
        r.err.contains("expected.json: unknown format: "),
        "{}",
        r.err
    );
    assert!(r.err.contains("expected one of: OTLP JSON"), "{}", r.err);
}

#[test]
fn no_input_at_all() {
    let r = run(&CorrelateArgs::default());
    assert_eq!(r.code, 2);
    assert!(r.err.starts_with("no input"), "{}", r.err);
    assert_eq!(r.out, "");

    let missing = fixture("does-not-exist.json");
    let r = run(&args(
        std::slice::from_ref(&missing),
        &[],
        OutputFormat::Json,
    ));
    assert_eq!(r.code, 2);
    assert!(
        r.err.starts_with(&format!("{}: ", missing.display())),
        "{}",
        r.err
    );
    assert!(r.err.ends_with("no input could be read\n"), "{}", r.err);
    assert_eq!(r.out, "");

    let dir = scratch("only-bad");
    std::fs::write(dir.join("x.json"), "[1, 2").expect("write");
    let r = run(&args(&[dir], &[], OutputFormat::Json));
    assert_eq!(r.code, 2);
    assert!(r.err.contains("x.json: invalid JSON"), "{}", r.err);
}

#[test]
fn protobuf_requests_and_gzip_files() {
    let dir = scratch("pb-gz");
    let raw = std::fs::read(fixture("sdk/c_custom_correlation_id/otlp.json")).expect("read");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &raw).expect("gzip");
    std::fs::write(dir.join("otlp.json.gz"), enc.finish().expect("gzip")).expect("write");
    let r = run(&args(
        &[dir, fixture("sdk/c_custom_correlation_id/otlp-requests")],
        &[fixture("sdk/c_custom_correlation_id/sentry-envelopes")],
        OutputFormat::Json,
    ));
    assert_eq!(r.code, 0, "{}", r.err);
    let report: Value = serde_json::from_str(&r.out).expect("report");
    assert_eq!(event_count(&report), 3);
    let spans: u64 = report["timelines"]
        .as_array()
        .expect("timelines")
        .iter()
        .filter_map(|t| t["span_count"].as_u64())
        .sum();
    assert_eq!(spans, 57, "duplicates from the three sources are merged");
}

/// Text from the data cannot drive the reader's terminal or forge lines in `--format text`.
#[test]
fn text_output_strips_control_characters() {
    let dir = scratch("controls");
    let trace = dir.join("hostile.json");
    let span = serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api\u{1b}[31m"}}]},
            "scopeSpans": [{"spans": [{
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": "b7ad6b7169203331",
                "name": "GET /x\u{1b}]0;owned\u{7}\nunplaced forged line\r\u{202e}",
                "kind": 2,
                "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": "1700000000100000000",
                "status": {"code": 2}
            }]}]
        }]
    });
    std::fs::write(&trace, serde_json::to_vec(&span).expect("json")).expect("write");
    let r = run(&args(&[trace], &[], OutputFormat::Text));
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        !r.out
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{:?}",
        r.out
    );
    assert!(!r.out.contains("\nunplaced forged"), "{}", r.out);
    assert!(r.out.contains("GET /x?]0;owned?"), "{}", r.out);
}
