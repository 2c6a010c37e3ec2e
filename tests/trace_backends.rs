//! Trace backends against fake Tempo and Jaeger servers on 127.0.0.1:0 serving recorded payloads at the
//! real paths, with faults injected per route; and the files source on a temporary directory.

#![cfg(feature = "ssr")]

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use prost::Message;

use tracepin::connectors::formats::{self, Decoded};
use tracepin::connectors::traces::{Backends, FetchError, FilesSource, TimeHint};
use tracepin::domain::TraceId;
use tracepin::server::config::{Config, Overrides};

/// The backends a configuration names.
fn backends_of(c: &Config) -> Backends {
    Backends::from_config(
        &c.tempo,
        &c.jaeger,
        &c.files,
        &tracepin::correlate::Options::default().correlation_tags,
    )
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const TOKEN: &str = "sekret-token-value";

// ---------------------------------------------------------------------------------------------
// Fixtures

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(rel)).expect("fixture")
}

/// The biggest trace of SDK scenario a1 and its span count.
fn a1_trace() -> (TraceId, usize) {
    let Decoded::Trace(t) =
        formats::decode(&read("sdk/a1_otlp_integration/otlp.json")).expect("a1")
    else {
        panic!("a1 is a trace")
    };
    let mut counts: HashMap<TraceId, usize> = HashMap::new();
    for s in &t.spans {
        *counts.entry(s.trace_id).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(id, n)| (*n, *id))
        .expect("spans")
}

fn first_trace_of(rel: &str) -> (TraceId, usize) {
    let Decoded::Trace(t) = formats::decode(&read(rel)).expect("decodes") else {
        panic!("{rel} is a trace")
    };
    let id = t.spans[0].trace_id;
    (id, t.spans.iter().filter(|s| s.trace_id == id).count())
}

#[derive(Clone, PartialEq, Message)]
struct TempoTrace {
    #[prost(message, repeated, tag = "1")]
    batches: Vec<ResourceSpans>,
}

#[derive(Clone, PartialEq, Message)]
struct TraceByIdResponse {
    #[prost(message, optional, tag = "1")]
    trace: Option<TempoTrace>,
    #[prost(int32, tag = "3")]
    status: i32,
    #[prost(string, tag = "4")]
    message: String,
}

/// Tempo v2 protobuf for trace `id`, built from the SDK's recorded OTLP protobuf requests of a1.
fn tempo_v2_protobuf(id: TraceId, status: i32, message: &str) -> Vec<u8> {
    let dir = Path::new(FIXTURES).join("sdk/a1_otlp_integration/otlp-requests");
    let mut batches = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pb"))
        .collect();
    names.sort();
    for p in names {
        let req = ExportTraceServiceRequest::decode(std::fs::read(&p).expect("pb").as_slice())
            .expect("valid request");
        for mut rs in req.resource_spans {
            for ss in &mut rs.scope_spans {
                ss.spans.retain(|s| s.trace_id == id.as_bytes());
            }
            rs.scope_spans.retain(|ss| !ss.spans.is_empty());
            if !rs.scope_spans.is_empty() {
                batches.push(rs);
            }
        }
    }
    TraceByIdResponse {
        trace: Some(TempoTrace { batches }),
        status,
        message: message.to_owned(),
    }
    .encode_to_vec()
}

fn protobuf_span_count(body: &[u8]) -> usize {
    formats::decode_otlp_protobuf(body).expect("pb").spans.len()
}

fn jaeger_v3_body() -> Vec<u8> {
    let mut body = b"{\"result\":".to_vec();
    body.extend_from_slice(&read("sdk/a1_otlp_integration/otlp.json"));
    body.extend_from_slice(b"}");
    body
}

// ---------------------------------------------------------------------------------------------
// Fake upstream

#[derive(Clone)]
struct Reply {
    status: u16,
    content_type: &'static str,
    body: Vec<u8>,
    delay: Duration,
    streamed: bool,
}

fn reply(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
    Reply {
        status,
        content_type,
        body: body.into(),
        delay: Duration::ZERO,
        streamed: false,
    }
}

fn protobuf(body: Vec<u8>) -> Reply {
    reply(200, "application/protobuf", body)
}

fn json(body: impl Into<Vec<u8>>) -> Reply {
    reply(200, "application/json", body)
}

#[derive(Default)]
struct Fake {
    routes: Mutex<HashMap<String, VecDeque<Reply>>>,
    hits: Mutex<HashMap<String, usize>>,
    requests: Mutex<Vec<(String, Option<String>, HeaderMap)>>,
}

impl Fake {
    fn route(&self, path: &str, replies: Vec<Reply>) {
        self.routes
            .lock()
            .expect("lock")
            .insert(path.to_owned(), replies.into());
    }
    fn hits(&self, path: &str) -> usize {
        self.hits
            .lock()
            .expect("lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
    fn last_request(&self) -> (String, Option<String>, HeaderMap) {
        self.requests
            .lock()
            .expect("lock")
            .last()
            .cloned()
            .expect("a request")
    }
}

async fn handle(State(fake): State<Arc<Fake>>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    *fake
        .hits
        .lock()
        .expect("lock")
        .entry(path.clone())
        .or_default() += 1;
    fake.requests.lock().expect("lock").push((
        path.clone(),
        uri.query().map(str::to_owned),
        headers,
    ));
    let reply = {
        let mut routes = fake.routes.lock().expect("lock");
        match routes.get_mut(&path) {
            Some(q) if q.len() > 1 => q.pop_front(),
            Some(q) => q.front().cloned(),
            None => None,
        }
    };
    let Some(r) = reply else {
        return (StatusCode::NOT_FOUND, "").into_response();
    };
    if !r.delay.is_zero() {
        tokio::time::sleep(r.delay).await;
    }
    let status = StatusCode::from_u16(r.status).expect("status");
    let body = if r.streamed {
        let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
            r.body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
        Body::from_stream(futures::stream::iter(chunks))
    } else {
        Body::from(r.body)
    };
    Response::builder()
        .status(status)
        .header("content-type", r.content_type)
        .body(body)
        .expect("response")
}

async fn serve() -> (String, Arc<Fake>) {
    let fake = Arc::new(Fake::default());
    let app = Router::new().fallback(handle).with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), fake)
}

/// A server that promises 100000 bytes and closes after a few.
async fn serve_truncated() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"trace\":{\"resourceSpans\":[")
                .await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}")
}

fn config(text: &str) -> Config {
    Config::load(
        Some(("Leptos.toml", text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("valid config")
}

fn tempo_config(url: &str, extra: &str) -> Config {
    config(&format!(
        "[[tempo]]\nname = \"prod\"\nurl = \"{url}\"\ntenant = \"team-a\"\ntoken = \"{TOKEN}\"\ntimeout_ms = 2000\n{extra}\n"
    ))
}

fn jaeger_config(url: &str, extra: &str) -> Config {
    config(&format!(
        "[[jaeger]]\nname = \"staging\"\nurl = \"{url}\"\nauthorization = \"Basic {TOKEN}\"\ntimeout_ms = 2000\n{extra}\n"
    ))
}

fn one_error(r: Result<tracepin::connectors::traces::FetchedTrace, Vec<FetchError>>) -> FetchError {
    let mut errors = r.expect_err("not fetched");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors.remove(0);
    assert!(!e.to_string().contains(TOKEN), "token leaked: {e}");
    e
}

fn v2(id: TraceId) -> String {
    format!("/api/v2/traces/{id}")
}

fn v1(id: TraceId) -> String {
    format!("/api/traces/{id}")
}

// ---------------------------------------------------------------------------------------------
// Tempo

#[tokio::test]
async fn tempo_v2_protobuf_found_with_tenant_and_token() {
    let (id, n) = a1_trace();
    let (url, fake) = serve().await;
    let body = tempo_v2_protobuf(id, 0, "");
    assert_eq!(
        protobuf_span_count(&body),
        n,
        "fixture holds the whole trace"
    );
    fake.route(&v2(id), vec![protobuf(body)]);
    let backends = backends_of(&tempo_config(&url, ""));
    let t = backends.fetch(id, None).await.expect("found");
    assert_eq!((t.backend.as_str(), t.kind.as_str()), ("prod", "tempo"));
    assert_eq!(t.spans.len(), n);
    assert_eq!(t.partial, None);
    let (path, query, headers) = fake.last_request();
    assert_eq!(path, v2(id));
    assert_eq!(query, None);
    assert_eq!(headers["accept"], "application/protobuf");
    assert_eq!(headers["x-scope-orgid"], "team-a");
    assert_eq!(headers["authorization"], format!("Bearer {TOKEN}").as_str());
    assert_eq!(fake.hits(&v1(id)), 0);
}

#[tokio::test]
async fn tempo_time_hint_sends_window_and_prefix() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &format!("/tempo/api/v2/traces/{id}"),
        vec![protobuf(tempo_v2_protobuf(id, 0, ""))],
    );
    let cfg = tempo_config(
        &url,
        "http_api_prefix = \"/tempo/\"\ntime_hint_window_secs = 60",
    );
    let backends = backends_of(&cfg);
    let hint = TimeHint {
        around_ns: 1_700_000_000_500_000_000,
    };
    backends.fetch(id, Some(hint)).await.expect("found");
    let (_, query, _) = fake.last_request();
    assert_eq!(query.as_deref(), Some("start=1699999940&end=1700000061"));
}

#[tokio::test]
async fn tempo_v2_json_partial_keeps_message() {
    let (id, n) = first_trace_of("formats/tempo-v2.partial.json");
    let (url, fake) = serve().await;
    fake.route(&v2(id), vec![json(read("formats/tempo-v2.partial.json"))]);
    let t = backends_of(&tempo_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found");
    assert_eq!(t.spans.len(), n);
    assert_eq!(
        t.partial.as_deref(),
        Some("Trace exceeds maximum size of 5000000 bytes, a partial trace is returned")
    );
}

#[tokio::test]
async fn tempo_v2_protobuf_partial() {
    let (id, n) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &v2(id),
        vec![protobuf(tempo_v2_protobuf(id, 1, "spans pruned"))],
    );
    let t = backends_of(&tempo_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found");
    assert_eq!(t.spans.len(), n);
    assert_eq!(t.partial.as_deref(), Some("spans pruned"));
}

#[tokio::test]
async fn tempo_v2_200_empty_is_not_found_without_v1() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(&v2(id), vec![json(read("formats/tempo-v2.empty.json"))]);
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert_eq!(
        e,
        FetchError::NotFound {
            backend: "prod".into(),
            path: v2(id)
        }
    );
    assert_eq!(e.to_string(), format!("prod: trace not found ({})", v2(id)));
    assert_eq!(fake.hits(&v1(id)), 0);
}

#[tokio::test]
async fn tempo_v2_protobuf_empty_is_not_found() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(&v2(id), vec![protobuf(Vec::new())]);
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert!(e.is_not_found(), "{e}");
    assert_eq!(fake.hits(&v1(id)), 0);
}

#[tokio::test]
async fn tempo_unreadable_protobuf_or_406_falls_back_to_json() {
    let (id, n) = first_trace_of("formats/tempo-v2.partial.json");
    for first in [
        protobuf(vec![0xff, 0xff, 0xff, 0x01]),
        reply(406, "text/plain", "not acceptable"),
    ] {
        let (url, fake) = serve().await;
        fake.route(
            &v2(id),
            vec![first, json(read("formats/tempo-v2.partial.json"))],
        );
        let t = backends_of(&tempo_config(&url, ""))
            .fetch(id, None)
            .await
            .expect("found as JSON");
        assert_eq!(t.spans.len(), n);
        let (_, _, headers) = fake.last_request();
        assert_eq!(headers["accept"], "application/json");
        assert_eq!(fake.hits(&v2(id)), 2);
    }
}

#[tokio::test]
async fn tempo_v2_404_falls_back_to_v1() {
    let (id, n) = first_trace_of("formats/tempo-v1.d2-inventory.json");
    let (url, fake) = serve().await;
    fake.route(
        &v1(id),
        vec![json(read("formats/tempo-v1.d2-inventory.json"))],
    );
    let t = backends_of(&tempo_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found on v1");
    assert_eq!(t.spans.len(), n);
    assert_eq!(fake.hits(&v2(id)), 1);
    assert_eq!(fake.hits(&v1(id)), 1);
}

#[tokio::test]
async fn tempo_404_everywhere_is_not_found() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert!(e.is_not_found(), "{e}");
    assert_eq!(e.to_string(), format!("prod: trace not found ({})", v1(id)));
    assert_eq!(fake.hits(&v2(id)), 1);
}

#[tokio::test]
async fn tempo_422_is_too_large_with_limit() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &v2(id),
        vec![reply(
            422,
            "text/plain",
            "trace exceeds max size (max bytes: 5000000)\n",
        )],
    );
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert_eq!(
        e,
        FetchError::TooLarge {
            backend: "prod".into(),
            limit_bytes: Some(5_000_000)
        }
    );
    assert!(e.to_string().contains("(max bytes: 5000000)"), "{e}");
}

#[tokio::test]
async fn tempo_500_then_success_is_retried() {
    let (id, n) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &v2(id),
        vec![
            reply(500, "text/plain", "boom"),
            reply(503, "text/plain", "busy"),
            protobuf(tempo_v2_protobuf(id, 0, "")),
        ],
    );
    let t = backends_of(&tempo_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found after retries");
    assert_eq!(t.spans.len(), n);
    assert_eq!(fake.hits(&v2(id)), 3);
}

#[tokio::test]
async fn tempo_persistent_500_gives_status_after_three_attempts() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &v2(id),
        vec![reply(
            500,
            "text/plain",
            "internal error: querier unavailable\n",
        )],
    );
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert_eq!(
        e.to_string(),
        format!(
            "prod: GET {} answered 500: internal error: querier unavailable",
            v2(id)
        )
    );
    assert_eq!(fake.hits(&v2(id)), 3);
}

#[tokio::test]
async fn tempo_401_and_403_are_unauthorized_and_not_retried() {
    for status in [401u16, 403] {
        let (id, _) = a1_trace();
        let (url, fake) = serve().await;
        fake.route(&v2(id), vec![reply(status, "text/plain", "no org id")]);
        let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
        assert_eq!(
            e,
            FetchError::Unauthorized {
                backend: "prod".into(),
                path: v2(id),
                status
            }
        );
        assert!(e.to_string().contains("check the token, tenant"), "{e}");
        assert_eq!(fake.hits(&v2(id)), 1);
    }
}

#[tokio::test]
async fn tempo_timeout_is_not_retried_past_the_budget() {
    // The whole call, retries included, fits in `timeout_ms`: a timed-out attempt used the budget up,
    // so a hanging Tempo costs one timeout, not two.
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    let mut slow = protobuf(tempo_v2_protobuf(id, 0, ""));
    slow.delay = Duration::from_secs(3);
    fake.route(&v2(id), vec![slow]);
    let cfg = config(&format!(
        "[[tempo]]\nname = \"prod\"\nurl = \"{url}\"\ntimeout_ms = 300\n"
    ));
    let e = one_error(backends_of(&cfg).fetch(id, None).await);
    assert_eq!(
        e,
        FetchError::Timeout {
            backend: "prod".into(),
            path: v2(id),
            after_ms: 300
        }
    );
    assert!(e.to_string().contains("timed out after 300 ms"), "{e}");
    assert_eq!(fake.hits(&v2(id)), 1, "a timeout is not retried");
}

#[tokio::test]
async fn tempo_connection_refused() {
    let (id, _) = a1_trace();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let e = one_error(
        backends_of(&tempo_config(&format!("http://{addr}"), ""))
            .fetch(id, None)
            .await,
    );
    let FetchError::Connect { host, path, .. } = &e else {
        panic!("expected Connect, got {e}")
    };
    assert_eq!(host, &addr.to_string());
    assert_eq!(path, &v2(id));
    assert!(
        e.to_string()
            .starts_with(&format!("prod: cannot connect to {addr} (GET {})", v2(id))),
        "{e}"
    );
}

#[tokio::test]
async fn tempo_malformed_json_is_decode_error() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(&v2(id), vec![json(r#"{"trace":{"resourceSpans":[{"#)]);
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    let FetchError::Decode { path, message, .. } = &e else {
        panic!("expected Decode, got {e}")
    };
    assert_eq!(path, &v2(id));
    assert!(message.contains("invalid JSON"), "{message}");
}

#[tokio::test]
async fn tempo_truncated_body_is_interrupted() {
    let (id, _) = a1_trace();
    let url = serve_truncated().await;
    let e = one_error(backends_of(&tempo_config(&url, "")).fetch(id, None).await);
    assert!(
        matches!(&e, FetchError::Interrupted { path, .. } if *path == v2(id)),
        "{e:?}"
    );
    assert!(e.to_string().contains("was cut off"), "{e}");
}

#[tokio::test]
async fn oversized_body_is_capped_with_and_without_length() {
    for streamed in [false, true] {
        let (id, _) = a1_trace();
        let (url, fake) = serve().await;
        let mut big = json(vec![b' '; 3 * 1024 * 1024]);
        big.streamed = streamed;
        fake.route(&v2(id), vec![big]);
        let e = one_error(
            backends_of(&tempo_config(&url, "max_response_mb = 1"))
                .fetch(id, None)
                .await,
        );
        assert_eq!(
            e,
            FetchError::Oversized {
                backend: "prod".into(),
                max_mb: 1
            }
        );
        assert_eq!(
            e.to_string(),
            "prod: the trace is larger than 1 MB (max_response_mb); raise max_response_mb to load it"
        );
    }
}

#[tokio::test]
async fn two_hundred_concurrent_fetches_make_one_upstream_call() {
    let (id, n) = a1_trace();
    let (url, fake) = serve().await;
    let mut slow = protobuf(tempo_v2_protobuf(id, 0, ""));
    slow.delay = Duration::from_millis(300);
    fake.route(&v2(id), vec![slow]);
    let backends = Arc::new(backends_of(&tempo_config(&url, "")));
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let b = Arc::clone(&backends);
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let t = b.fetch(id, None).await.expect("found");
                assert_eq!(t.spans.len(), n);
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    assert_eq!(done.load(Ordering::SeqCst), 200);
    assert_eq!(fake.hits(&v2(id)), 1);
    // And later calls are served from the cache.
    backends.fetch(id, None).await.expect("cached");
    assert_eq!(fake.hits(&v2(id)), 1);
}

#[tokio::test]
async fn tempo_search_pads_trimmed_ids_and_echo_probe() {
    let (url, fake) = serve().await;
    fake.route(
        "/api/search",
        vec![json(
            r#"{"traces":[{"traceID":"d6e9329d67b6146a","rootServiceName":"shop-backend","rootTraceName":"update-billing","startTimeUnixNano":"1684778327699392724","durationMs":557,"spanSets":[{"spans":[{"spanID":"563d623c76514f8e"}],"matched":1}]}],"metrics":{"totalBlocks":13}}"#,
        )],
    );
    fake.route("/api/echo", vec![reply(200, "text/plain", "echo")]);
    let backends = backends_of(&tempo_config(&url, ""));
    let rows = backends.search_errors(3600, 20).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].trace_id.to_string(),
        "0000000000000000d6e9329d67b6146a"
    );
    assert_eq!(rows[0].root_service.as_deref(), Some("shop-backend"));
    assert_eq!(rows[0].error_span_count, Some(1));
    let (_, query, _) = fake.last_request();
    let query = query.expect("query");
    assert!(
        query.starts_with("q=%7B+status+%3D+error+%7D&start="),
        "{query}"
    );
    assert!(query.ends_with("&limit=20"), "{query}");
    let ready = backends.ready().await;
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].0, "prod");
    assert!(ready[0].1.is_ok(), "{ready:?}");
}

// ---------------------------------------------------------------------------------------------
// Jaeger

#[tokio::test]
async fn jaeger_v3_found_with_authorization() {
    let (id, n) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &format!("/api/v3/traces/{id}"),
        vec![json(jaeger_v3_body())],
    );
    let t = backends_of(&jaeger_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found");
    assert_eq!((t.backend.as_str(), t.kind.as_str()), ("staging", "jaeger"));
    assert_eq!(t.spans.len(), n);
    let (_, _, headers) = fake.last_request();
    assert_eq!(headers["authorization"], format!("Basic {TOKEN}").as_str());
}

/// Jaeger api_v3 answers are decoded while they download (`HttpClient::get_streamed`): a 4 MB answer
/// in 64 KB chunks gives the spans the whole-body decoder gives, and the cap, a broken body and a
/// cut-off connection are reported as for a collected body.
#[tokio::test]
async fn jaeger_v3_answer_is_decoded_as_it_downloads() {
    let rel = "sdk/f_large_trace/otlp.json";
    let (id, n) = first_trace_of(rel);
    let mut body = b"{\"result\":".to_vec();
    body.extend_from_slice(&read(rel));
    body.extend_from_slice(b"}");
    assert!(body.len() > 1024 * 1024, "{}", body.len());
    let Decoded::Trace(whole) = formats::decode(&read(rel)).expect("decodes") else {
        panic!("a trace")
    };
    let expected: Vec<_> = whole
        .spans
        .into_iter()
        .filter(|s| s.trace_id == id)
        .collect();
    let path = format!("/api/v3/traces/{id}");
    for streamed in [false, true] {
        let (url, fake) = serve().await;
        let mut r = json(body.clone());
        r.streamed = streamed;
        fake.route(&path, vec![r]);
        let t = backends_of(&jaeger_config(&url, ""))
            .fetch(id, None)
            .await
            .expect("found");
        assert_eq!(t.spans.len(), n);
        assert_eq!(t.spans, expected, "chunked: {streamed}");
    }

    // Over the cap while streaming: refused, with or without a length.
    for streamed in [false, true] {
        let (url, fake) = serve().await;
        let mut r = json(body.clone());
        r.streamed = streamed;
        fake.route(&path, vec![r]);
        let e = one_error(
            backends_of(&jaeger_config(&url, "max_response_mb = 1"))
                .fetch(id, None)
                .await,
        );
        assert_eq!(
            e,
            FetchError::Oversized {
                backend: "staging".into(),
                max_mb: 1
            }
        );
    }

    // Broken in the middle: a decode error naming the path and the line.
    let (url, fake) = serve().await;
    let mut broken = body.clone();
    let at = broken.len() / 2;
    let quote = at
        + broken[at..]
            .iter()
            .position(|b| *b == b'"')
            .expect("a string");
    broken[quote] = b'}';
    let mut r = json(broken.clone());
    r.streamed = true;
    fake.route(&path, vec![r]);
    let e = one_error(backends_of(&jaeger_config(&url, "")).fetch(id, None).await);
    let FetchError::Decode {
        path: p, message, ..
    } = &e
    else {
        panic!("expected Decode, got {e}")
    };
    assert_eq!(p, &path);
    let formats::FormatError::Json { line, .. } =
        formats::decode_as(formats::Format::JaegerV3, &broken).expect_err("broken")
    else {
        panic!("a JSON error")
    };
    assert!(
        message.contains("invalid JSON") && message.contains(&format!("at line {line},")),
        "{message}"
    );

    // Cut off: interrupted, not a decode error.
    let url = serve_truncated().await;
    let e = one_error(backends_of(&jaeger_config(&url, "")).fetch(id, None).await);
    assert!(matches!(&e, FetchError::Interrupted { .. }), "{e:?}");
}

#[tokio::test]
async fn jaeger_v3_404_with_error_body_is_not_found() {
    let (id, _) = a1_trace();
    let (url, fake) = serve().await;
    fake.route(
        &format!("/api/v3/traces/{id}"),
        vec![reply(
            404,
            "text/plain; charset=utf-8",
            "{\"error\":{\"httpCode\":404,\"message\":\"No traces found\"}}\n",
        )],
    );
    let e = one_error(backends_of(&jaeger_config(&url, "")).fetch(id, None).await);
    assert_eq!(
        e.to_string(),
        format!("staging: trace not found (/api/v3/traces/{id})")
    );
    assert_eq!(fake.hits(&v1(id)), 0);
}

#[tokio::test]
async fn jaeger_without_v3_falls_back_to_v1_with_64_bit_ids() {
    let body = read("formats/jaeger-v1.d2-inventory.json");
    let (id, n) = first_trace_of("formats/jaeger-v1.d2-inventory.json");
    let (url, fake) = serve().await;
    fake.route(&v1(id), vec![json(body)]);
    let t = backends_of(&jaeger_config(&url, ""))
        .fetch(id, None)
        .await
        .expect("found on v1");
    assert_eq!(t.spans.len(), n);
    assert_eq!(fake.hits(&format!("/api/v3/traces/{id}")), 1);

    // A 16-hex (64-bit) trace id from a v1 body is padded to 32.
    let short = br#"{"data":[{"traceID":"00000000000000a1","spans":[{"traceID":"00000000000000a1","spanID":"00000000000000b2","operationName":"op","references":[],"startTime":1706678909209712,"duration":123,"tags":[],"logs":[],"processID":"p1"}],"processes":{"p1":{"serviceName":"svc","tags":[]}}}]}"#;
    let padded: TraceId = "000000000000000000000000000000a1".parse().expect("id");
    fake.route(&v1(padded), vec![json(short.to_vec())]);
    let t = backends_of(&jaeger_config(&url, ""))
        .fetch(padded, None)
        .await
        .expect("found");
    assert_eq!(t.spans.len(), 1);
    assert_eq!(t.spans[0].trace_id, padded);
}

#[tokio::test]
async fn jaeger_search_and_ready() {
    let (url, fake) = serve().await;
    fake.route(
        "/api/v3/services",
        vec![json(r#"{"services":["checkout-api"]}"#)],
    );
    fake.route("/api/v3/traces", vec![json(jaeger_v3_body())]);
    let backends = backends_of(&jaeger_config(&url, ""));
    let rows = backends.search_errors(3600, 50).await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.error_span_count.unwrap_or(0) > 0));
    let ready = backends.ready().await;
    assert_eq!(
        ready[0].1.as_deref(),
        Ok("GET /api/v3/services listed 1 services")
    );
}

// ---------------------------------------------------------------------------------------------
// Several backends

#[tokio::test]
async fn first_backend_that_has_it_wins_and_errors_are_listed() {
    let (id, n) = a1_trace();
    let (tempo_url, _tempo) = serve().await;
    let (jaeger_url, jaeger) = serve().await;
    let text = format!(
        "[[tempo]]\nname = \"prod\"\nurl = \"{tempo_url}\"\n[[jaeger]]\nname = \"staging\"\nurl = \"{jaeger_url}\"\n"
    );
    let backends = backends_of(&config(&text));
    assert!(!backends.is_empty());
    let errors = backends.fetch(id, None).await.expect_err("nowhere");
    assert_eq!(errors.len(), 2);
    assert!(errors.iter().all(FetchError::is_not_found));

    jaeger.route(
        &format!("/api/v3/traces/{id}"),
        vec![json(jaeger_v3_body())],
    );
    let t = backends.fetch(id, None).await.expect("jaeger has it");
    assert_eq!(t.backend, "staging");
    assert_eq!(t.spans.len(), n);
    assert!(backends_of(&Config::default()).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Files

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tracepin-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn files_index_traces_and_events_and_sees_new_files() {
    let dir = TempDir::new("files");
    let (id, n) = a1_trace();
    std::fs::write(
        dir.0.join("a1.otlp.json"),
        read("sdk/a1_otlp_integration/otlp.json"),
    )
    .expect("write");
    let envelopes = Path::new(FIXTURES).join("sdk/a1_otlp_integration/sentry-envelopes");
    std::fs::create_dir_all(dir.0.join("sentry")).expect("mkdir");
    for e in std::fs::read_dir(&envelopes).expect("dir").flatten() {
        std::fs::copy(e.path(), dir.0.join("sentry").join(e.file_name())).expect("copy");
    }
    std::fs::write(dir.0.join("broken.json"), b"{\"resourceSpans\": [").expect("write");

    let files = FilesSource::new(dir.0.clone(), Duration::from_secs(3600));
    let backends = Backends::new(vec![tracepin::connectors::traces::TraceBackend::Files(
        files.clone(),
    )]);
    let t = backends.fetch(id, None).await.expect("found in files");
    assert_eq!((t.backend.as_str(), t.kind.as_str()), ("files", "files"));
    assert_eq!(t.spans.len(), n);

    let problems = files.problems().await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].path.ends_with("broken.json"));
    assert!(problems[0].message.contains("invalid JSON"), "{problems:?}");

    let all_events: usize = {
        let mut total = 0;
        for tid in files.trace_ids().await {
            total += files.events_for_trace(tid).await.len();
        }
        total
    };
    assert!(
        all_events > 0,
        "the a1 envelopes hold errors of a1's traces"
    );
    let some_event = {
        let mut found = None;
        for tid in files.trace_ids().await {
            if let Some(e) = files.events_for_trace(tid).await.into_iter().next() {
                found = Some((e, tid));
                break;
            }
        }
        found.expect("an event")
    };
    let (event, trace) = files
        .event(some_event.0.event_id.expect("event id"))
        .await
        .expect("by id");
    assert_eq!(event, some_event.0);
    assert_eq!(trace, Some(some_event.1));

    let rows = backends.search_errors(u64::MAX, 100).await;
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.kind.as_str() == "files"));

    // A file added later is seen after a rescan.
    let (late, late_n) = first_trace_of("formats/tempo-v1.d2-inventory.json");
    assert!(files.fetch(late).await.expect_err("not yet").is_not_found());
    std::fs::write(
        dir.0.join("later.json"),
        read("formats/tempo-v1.d2-inventory.json"),
    )
    .expect("write");
    files.rescan().await;
    let t = files.fetch(late).await.expect("found after rescan");
    assert_eq!(t.spans.len(), late_n);

    let ready = backends.ready().await;
    assert!(
        ready[0]
            .1
            .as_ref()
            .is_ok_and(|s| s.contains("1 unreadable")),
        "{ready:?}"
    );
}

#[tokio::test]
async fn files_background_poll_picks_up_changes() {
    let dir = TempDir::new("poll");
    let cfg = config(&format!(
        "[files]\ndir = \"{}\"\nrescan_secs = 1\n",
        dir.0.display().to_string().replace('\\', "/")
    ));
    let backends = backends_of(&cfg);
    let files = backends.files().expect("files source");
    files.wait_indexed().await;
    let (late, _) = first_trace_of("formats/jaeger-v1.d2-inventory.json");
    std::fs::write(
        dir.0.join("jaeger.json"),
        read("formats/jaeger-v1.d2-inventory.json"),
    )
    .expect("write");
    let mut found = false;
    for _ in 0..40 {
        if backends.fetch(late, None).await.is_ok() {
            found = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(found, "the poll loop indexed the new file");
}

#[tokio::test]
async fn files_index_a_thousand_files_and_rescans_only_changes() {
    let dir = TempDir::new("many");
    for i in 0..1000u32 {
        let body = format!(
            r#"{{"data":[{{"traceID":"{i:032x}","spans":[{{"traceID":"{i:032x}","spanID":"{:016x}","operationName":"op","references":[],"startTime":1706678909209712,"duration":123,"tags":[{{"key":"error","type":"bool","value":{}}}],"logs":[],"processID":"p1"}}],"processes":{{"p1":{{"serviceName":"svc","tags":[]}}}}}}]}}"#,
            i + 1,
            i % 2 == 0
        );
        std::fs::write(dir.0.join(format!("t{i:04}.json")), body).expect("write");
    }
    let files = FilesSource::new(dir.0.clone(), Duration::from_secs(3600));
    let started = std::time::Instant::now();
    files.wait_indexed().await;
    let first = started.elapsed();
    // id 0 is all zeros (invalid), so 999 traces.
    assert_eq!(files.trace_ids().await.len(), 999);
    assert!(
        files.problems().await.len() == 1,
        "the all-zero id file is reported"
    );
    let started = std::time::Instant::now();
    assert_eq!(files.rescan().await, 1000);
    let again = started.elapsed();
    eprintln!("1000 files: first scan {first:?}, unchanged rescan {again:?}");
    let id: TraceId = format!("{:032x}", 500).parse().expect("id");
    assert_eq!(files.fetch(id).await.expect("found").spans.len(), 1);
    assert_eq!(files.search_errors(10_000).await.len(), 499);
}

/// A symlink loop used to hang the index walk (and then exhaust memory); a link to outside the
/// directory used to be followed and its content served. Now: the index finishes, a linked
/// subdirectory inside is read once, nothing outside is read, and problems name relative paths.
#[cfg(unix)]
#[tokio::test]
async fn files_index_survives_symlink_loops_and_ignores_links_outside() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new("links");
    let outside = TempDir::new("outside");
    let (id, n) = a1_trace();
    std::fs::create_dir_all(dir.0.join("traces")).expect("mkdir");
    std::fs::write(
        dir.0.join("traces/a1.otlp.json"),
        read("sdk/a1_otlp_integration/otlp.json"),
    )
    .expect("write");
    // Loops: the directory itself, twice, and a subdirectory pointing at its parent.
    symlink(".", dir.0.join("a")).expect("symlink");
    symlink(".", dir.0.join("b")).expect("symlink");
    symlink("..", dir.0.join("traces/up")).expect("symlink");
    // Outside: a file with an event and a directory.
    let envelope =
        std::fs::read_dir(Path::new(FIXTURES).join("sdk/e_nasty_multi_error/sentry-envelopes"))
            .expect("dir")
            .flatten()
            .next()
            .expect("an envelope")
            .path();
    std::fs::copy(&envelope, outside.0.join("secret.envelope")).expect("copy");
    symlink(
        outside.0.join("secret.envelope"),
        dir.0.join("linked.envelope"),
    )
    .expect("symlink");
    symlink(&outside.0, dir.0.join("elsewhere")).expect("symlink");

    let files = FilesSource::new(dir.0.clone(), Duration::from_secs(3600));
    let scanned = tokio::time::timeout(Duration::from_secs(30), files.rescan())
        .await
        .expect("the walk finishes");
    assert_eq!(
        scanned,
        1 + 2,
        "one trace file, and two refused links: {scanned}"
    );
    let ids = files.trace_ids().await;
    assert_eq!(ids.len(), 4, "a1's four traces, once each: {ids:?}");
    assert!(ids.contains(&id));
    let t = Backends::new(vec![tracepin::connectors::traces::TraceBackend::Files(
        files.clone(),
    )])
    .fetch(id, None)
    .await
    .expect("found");
    assert_eq!(
        t.spans.len(),
        n,
        "the trace is read once, not once per loop"
    );
    let mut all = 0;
    for tid in files.trace_ids().await {
        all += files.events_for_trace(tid).await.len();
    }
    assert_eq!(all, 0, "no event from outside the directory");
    let problems = files.problems().await;
    let paths: Vec<String> = problems
        .iter()
        .map(|p| p.path.display().to_string())
        .collect();
    assert_eq!(paths, ["elsewhere", "linked.envelope"], "{problems:?}");
    assert!(problems
        .iter()
        .all(|p| p.message.contains("outside the directory")));
}
