//! Ingest over HTTP, driven through the real router: OTLP and Sentry endpoints, every bad-input
//! case with its status, DSN auth, idempotency, and that stored data reaches the pages.

#![cfg(feature = "ssr")]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as PbSpan, TracesData,
};
use prost::Message;
use tower::ServiceExt;

use tracepin::app::router;
use tracepin::server::config::{Config, Overrides};
use tracepin::server::AppState;

const SDK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sdk");

static N: AtomicUsize = AtomicUsize::new(0);

struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "tracepin-ingest-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&d);
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn app(dir: &TempDir, extra: &str) -> Router {
    let text = format!("[store]\npath = \"{}\"\n{extra}\n", dir.0.display());
    let config = Config::load(
        Some(("Leptos.toml", &text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("valid config");
    let options = LeptosOptions::builder()
        .output_name("tracepin")
        .site_root("target/site")
        .build();
    router(AppState::new(options, config))
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn post(app: &Router, uri: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let mut req = Request::builder().method("POST").uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.clone()
            .oneshot(req.body(Body::from(body)).expect("request")),
    )
    .await
    .unwrap_or_else(|_| panic!("POST {uri} did not answer within 30 s"))
    .expect("router never fails");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// One page render at a time across the tests of this binary: Leptos's task spawner is
/// process-wide, and two renders from two test runtimes at once can stall one of them (as in
/// `tests/common`).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn get(app: &Router, uri: &str) -> Answer {
    let _turn = ONE_AT_A_TIME.lock().await;
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("router never fails");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(format!("{SDK}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

const PROTO: (&str, &str) = ("content-type", "application/x-protobuf");
const JSON: (&str, &str) = ("content-type", "application/json");
const ENVELOPE: (&str, &str) = ("content-type", "application/x-sentry-envelope");

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn pb_batch(trace: u8, spans: &[Vec<u8>]) -> Vec<u8> {
    TracesData {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: spans
                    .iter()
                    .map(|id| PbSpan {
                        trace_id: vec![trace; 16],
                        span_id: id.clone(),
                        name: "op".into(),
                        start_time_unix_nano: 1_700_000_000_000_000_000,
                        end_time_unix_nano: 1_700_000_000_100_000_000,
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_protobuf_json_and_gzip_reach_the_timeline() {
    let dir = TempDir::new();
    let app = app(&dir, "");
    let a1 = "a1_otlp_integration";
    let mut total = 0;
    for name in [
        "0004-proto.pb",
        "0007-proto.pb",
        "0010-proto.pb",
        "0013-proto.pb",
        "0016-proto.pb",
    ] {
        let bytes = fixture(&format!("{a1}/otlp-requests/{name}"));
        let body = if name.starts_with("0007") {
            gzip(&bytes)
        } else {
            bytes
        };
        let enc = if name.starts_with("0007") {
            vec![PROTO, ("content-encoding", "gzip")]
        } else {
            vec![PROTO]
        };
        let a = post(&app, "/v1/traces", &enc, body).await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.text());
        assert_eq!(a.headers[header::CONTENT_TYPE], "application/x-protobuf");
        let resp = ExportTraceServiceResponse::decode(a.body.as_slice()).expect("response");
        assert!(resp.partial_success.is_none(), "{resp:?}");
        total += 1;
    }
    assert_eq!(total, 5);
    for name in [
        "0001-event-b4d92335ab0448378e9c43d3ca223c7f",
        "0002-event-d16af5b2a92045b69b74581fc624615c",
        "0003-event-184efe8dd81a498ebaa1771f69648bed",
    ] {
        let a = post(
            &app,
            "/api/1/envelope/",
            &[
                ENVELOPE,
                (
                    "x-sentry-auth",
                    "Sentry sentry_key=anything, sentry_version=7",
                ),
            ],
            fixture(&format!("{a1}/sentry-envelopes/{name}.envelope")),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        assert_eq!(a.json()["stored"]["events"], 1);
    }
    // The ground truth of the capture: each error on its span.
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{a1}/expected.json"))).expect("expected");
    let events = expected["events"].as_array().expect("events");
    for e in events {
        let eid = e["event_id"].as_str().expect("id");
        let trace = e["trace_id"].as_str().expect("trace");
        let a = get(&app, &format!("/api/export/{trace}")).await;
        assert_eq!(a.status, StatusCode::OK, "{trace}: {}", a.text());
        let export = a.json();
        let pins = export["timelines"][0]["pins"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let pin = pins
            .iter()
            .find(|p| p["event_id"] == eid)
            .unwrap_or_else(|| panic!("{eid} pinned in {trace}: {export}"));
        assert_eq!(pin["span_id"], e["span_id"], "{eid}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_bad_input_gets_precise_answers() {
    let dir = TempDir::new();
    let app = app(&dir, "[ingest]\nmax_body_mb = 1\n");
    // Not protobuf.
    let a = post(&app, "/v1/traces", &[PROTO], vec![0x0a, 0xff, 0xff]).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/x-protobuf");
    // Not JSON, with the JSON status body.
    let a = post(&app, "/v1/traces", &[JSON], b"{nope".to_vec()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("invalid JSON"),
        "{}",
        a.text()
    );
    assert_eq!(a.json()["code"], 3);
    // Another media type.
    let a = post(
        &app,
        "/v1/traces",
        &[("content-type", "text/plain")],
        b"x".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Corrupt gzip.
    let a = post(
        &app,
        "/v1/traces",
        &[PROTO, ("content-encoding", "gzip")],
        vec![0x1f, 0x8b, 0, 1, 2],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // Unknown encoding.
    let a = post(
        &app,
        "/v1/traces",
        &[PROTO, ("content-encoding", "br")],
        vec![1],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Over the size limit, declared or not.
    let big = vec![b' '; 2 * 1024 * 1024];
    let a = post(&app, "/v1/traces", &[JSON], big.clone()).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(a.text().contains("1 MB"), "{}", a.text());
    // A gzip body that expands past ten times the limit.
    let bomb = gzip(&vec![b' '; 12 * 1024 * 1024]);
    let a = post(
        &app,
        "/v1/traces",
        &[JSON, ("content-encoding", "gzip")],
        bomb,
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text());
    // A malformed span among good ones: partial success, the others stored.
    let body = pb_batch(0x21, &[vec![1; 8], vec![2; 9], vec![3; 8]]);
    let a = post(&app, "/v1/traces", &[PROTO], body).await;
    assert_eq!(a.status, StatusCode::OK);
    let resp = ExportTraceServiceResponse::decode(a.body.as_slice()).expect("response");
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(
        partial.error_message.contains("span_id has 9 bytes"),
        "{}",
        partial.error_message
    );
    let ready = get(&app, "/readyz").await.json();
    let detail = ready["upstreams"][0]["detail"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(detail.starts_with("1 traces, 2 spans"), "{detail}");
    // The same with JSON: partialSuccess, int64 as a string.
    let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"22222222222222222222222222222222","spanId":"0101010101010101","name":"a"},
        {"traceId":"22222222222222222222222222222222","spanId":"xx","name":"b"}]}]}]}"#;
    let a = post(&app, "/v1/traces", &[JSON], body.to_vec()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["partialSuccess"]["rejectedSpans"], "1");
    // Every span bad: nothing to keep, a 400.
    let a = post(&app, "/v1/traces", &[PROTO], pb_batch(0x23, &[vec![1; 12]])).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // Limits are on /readyz.
    assert_eq!(ready["store"]["max_mb"], 1024);
    assert_eq!(ready["store"]["max_age_hours"], 168);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_delivered_twice_is_stored_once() {
    let dir = TempDir::new();
    let app = app(&dir, "");
    let body = pb_batch(0x31, &[vec![1; 8], vec![2; 8]]);
    for _ in 0..2 {
        let a = post(&app, "/v1/traces", &[PROTO], body.clone()).await;
        assert_eq!(a.status, StatusCode::OK);
    }
    let env = fixture(
        "a1_otlp_integration/sentry-envelopes/0001-event-b4d92335ab0448378e9c43d3ca223c7f.envelope",
    );
    let first = post(&app, "/api/1/envelope/", &[ENVELOPE], env.clone())
        .await
        .json();
    let second = post(&app, "/api/1/envelope/", &[ENVELOPE], env)
        .await
        .json();
    assert_eq!(first["stored"]["events"], 1);
    assert_eq!(second["stored"]["events"], 0);
    assert_eq!(second["stored"]["events_already_stored"], 1);
    let ready = get(&app, "/readyz").await.json();
    let detail = ready["upstreams"][0]["detail"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(detail.contains(" 2 spans, 1 events"), "{detail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_keep_good_items_and_count_dropped_ones() {
    let dir = TempDir::new();
    let app = app(&dir, "");
    let text = concat!(
        "{\"event_id\":\"9353246b542f4a3191adb238f3d602ba\"}\n",
        "{\"type\":\"event\"}\n{\"exception\": nope}\n",
        "{\"type\":\"attachment\",\"length\":3}\nabc\n",
        "{\"type\":\"session\"}\n{\"sid\":\"x\"}\n",
        "{\"type\":\"event\"}\n{\"event_id\":\"0af7651916cd43dd8448eb211c80319c\",\"message\":\"kept\"}\n",
    );
    let a = post(
        &app,
        "/api/5/envelope/",
        &[ENVELOPE],
        text.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let j = a.json();
    assert_eq!(j["stored"]["events"], 1);
    assert_eq!(j["dropped"]["attachment"], 1);
    assert_eq!(j["dropped"]["session"], 1);
    assert_eq!(j["rejected"].as_array().map(Vec::len), Some(1));
    // The kept event is findable by id, filed under project 5.
    let page = get(&app, "/event/0af7651916cd43dd8448eb211c80319c").await;
    assert!(
        page.status.is_success() || page.status.is_redirection(),
        "{}",
        page.status
    );
    // An envelope whose header is not JSON: 400.
    let a = post(
        &app,
        "/api/5/envelope/",
        &[ENVELOPE],
        b"garbage\n{}\n".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.json()["detail"].as_str().is_some());
    // Only broken items: 400.
    let a = post(
        &app,
        "/api/5/envelope/",
        &[ENVELOPE],
        b"{}\n{\"type\":\"event\"}\n{nope}\n".to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // The legacy store endpoint takes one event JSON; gzip too.
    let ev =
        br#"{"event_id":"1af7651916cd43dd8448eb211c80319c","message":"legacy","level":"warning"}"#;
    let a = post(
        &app,
        "/api/5/store/",
        &[JSON, ("content-encoding", "gzip")],
        gzip(ev),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["id"], "1af7651916cd43dd8448eb211c80319c");
    // Spotlight's stream.
    let a = post(
        &app,
        "/stream",
        &[ENVELOPE],
        b"{}\n{\"type\":\"event\"}\n{\"event_id\":\"2af7651916cd43dd8448eb211c80319c\",\"message\":\"spot\"}\n"
            .to_vec(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dsn_keys_are_checked() {
    let dir = TempDir::new();
    let app = app(
        &dir,
        "[ingest]\nkeys = [\"global-key\"]\n\n[[ingest.projects]]\nid = \"2\"\nname = \"payments\"\nkeys = [\"pay-key\"]\n\n[[ingest.projects]]\nid = \"3\"\nkeys = [\"shop-key\"]\n",
    );
    let env = b"{}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n".to_vec();
    // No key.
    let a = post(&app, "/api/2/envelope/", &[ENVELOPE], env.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.json()["detail"]
        .as_str()
        .unwrap_or("")
        .starts_with("no DSN key"));
    // Wrong key.
    let a = post(
        &app,
        "/api/2/envelope/?sentry_key=nope",
        &[ENVELOPE],
        env.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(!a.text().contains("nope"), "keys are never echoed");
    // Key of another project.
    let a = post(
        &app,
        "/api/2/envelope/",
        &[ENVELOPE, ("x-sentry-auth", "Sentry sentry_key=shop-key")],
        env.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    // The project's key, from the envelope header's DSN.
    let with_dsn = b"{\"dsn\":\"http://pay-key@127.0.0.1:3000/2\"}\n{\"type\":\"event\"}\n{\"message\":\"hi\"}\n".to_vec();
    let a = post(&app, "/api/2/envelope/", &[ENVELOPE], with_dsn).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    // A global key works for any project; OTLP takes keys too.
    let a = post(
        &app,
        "/api/9/envelope/",
        &[ENVELOPE, ("x-sentry-auth", "Sentry sentry_key=global-key")],
        env,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let body = pb_batch(0x41, &[vec![1; 8]]);
    let a = post(&app, "/v1/traces", &[PROTO], body.clone()).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let a = post(
        &app,
        "/v1/traces",
        &[PROTO, ("authorization", "Bearer pay-key")],
        body.clone(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = post(
        &app,
        "/api/3/integration/otlp/v1/traces/",
        &[PROTO, ("x-sentry-auth", "Sentry sentry_key=pay-key")],
        body,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_is_outside_the_dashboard_password() {
    let dir = TempDir::new();
    let app = app(&dir, "[auth]\npassword = \"s3cret\"\n");
    let a = get(&app, "/").await;
    assert_eq!(
        a.status,
        StatusCode::UNAUTHORIZED,
        "pages need the password"
    );
    let a = post(&app, "/v1/traces", &[PROTO], pb_batch(0x51, &[vec![1; 8]])).await;
    assert_eq!(a.status, StatusCode::OK, "SDKs do not: {}", a.text());
}
