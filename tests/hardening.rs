//! Hostile clients and hostile data against the real server: trickling connections, costly filters,
//! huge lists and gzip bombs. No test asserts a duration; each bounds its waits so a regression
//! fails with a message instead of hanging.

#![cfg(feature = "ssr")]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use leptos::prelude::LeptosOptions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use tracepin::app::router;
use tracepin::server::config::{Config, Overrides};
use tracepin::server::serve::{serve, ServeLimits};
use tracepin::server::AppState;

fn options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("tracepin")
        .site_root("target/site")
        .build()
}

fn config_from(text: &str) -> Config {
    Config::load(
        Some(("Leptos.toml", text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("valid config")
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "tracepin-hard-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).expect("mkdir");
        TempDir(p)
    }

    fn config(&self) -> Config {
        config_from(&format!(
            "[files]\ndir = \"{}\"\n",
            self.0.display().to_string().replace('\\', "/")
        ))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Serves `app` on 127.0.0.1:0 with `limits`; returns the address.
async fn spawn(app: Router, limits: ServeLimits) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve(listener, app, limits, std::future::pending()));
    addr
}

/// A raw HTTP/1.1 GET; the whole answer as text.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

/// Clients that open connections and trickle their headers (slowloris) are cut off by the header
/// read timeout, and the connection cap keeps them from exhausting descriptors: `/healthz` keeps
/// being answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_clients_do_not_take_the_server_down() {
    let limits = ServeLimits {
        max_connections: 4,
        header_read_timeout: Duration::from_secs(1),
        shutdown_grace: Duration::from_secs(1),
    };
    let addr = spawn(router(AppState::new(options(), Config::default())), limits).await;
    // Three times as many trickling clients as connection slots.
    let mut slow = Vec::new();
    for _ in 0..12 {
        let mut s = TcpStream::connect(addr).await.expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHo")
            .await
            .expect("write");
        slow.push(s);
    }
    let answer = tokio::time::timeout(Duration::from_secs(60), raw_get(addr, "/healthz"))
        .await
        .expect("/healthz answered while slow clients held every slot");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");
    // The server closed the first slow connections (408 or a plain close), it did not wait forever.
    let mut closed = 0;
    for s in slow.iter_mut().take(4) {
        let mut buf = Vec::new();
        if let Ok(Ok(_)) =
            tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await
        {
            closed += 1;
        }
    }
    assert_eq!(closed, 4, "every slow connection holding a slot was closed");
}

fn otlp_span(trace: &str, i: usize, parent: Option<usize>, attrs: usize) -> serde_json::Value {
    let attributes: Vec<serde_json::Value> = (0..attrs)
        .map(|a| serde_json::json!({"key": format!("attr.{a}"), "value": {"stringValue": "v"}}))
        .collect();
    let mut span = serde_json::json!({
        "traceId": trace,
        "spanId": format!("{:016x}", i + 1),
        "name": format!("op-{}", i % 50),
        "kind": 2,
        "startTimeUnixNano": (1_700_000_000_000_000_000u64 + i as u64 * 1_000).to_string(),
        "endTimeUnixNano": (1_700_000_000_000_000_000u64 + i as u64 * 1_000 + 500).to_string(),
        "attributes": attributes,
        "status": {"code": if i % 97 == 0 { 2 } else { 0 }},
    });
    if let Some(p) = parent {
        span["parentSpanId"] = serde_json::json!(format!("{:016x}", p + 1));
    }
    span
}

fn otlp_file(_trace: &str, spans: Vec<serde_json::Value>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]},
            "scopeSpans": [{"spans": spans}]
        }]
    }))
    .expect("json")
}

async fn post_form(app: &Router, path: &str, form: String) -> (u16, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let res = tokio::time::timeout(
        Duration::from_secs(120),
        app.clone().oneshot(
            axum::http::Request::builder()
                .method("POST")
                .uri(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(axum::body::Body::from(form))
                .expect("request"),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("POST {path} did not answer"))
    .expect("router never fails");
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A 12 KB filter on a 20,000-span trace: the terms are capped and de-duplicated, the work runs off
/// the async workers, and `/healthz` is answered while two such filters run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_costly_filter_is_bounded_and_does_not_block_healthz() {
    let dir = TempDir::new("filter");
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let spans = (0..20_000)
        .map(|i| otlp_span(trace, i, (i > 0).then(|| (i - 1) / 4), 2))
        .collect();
    std::fs::write(dir.0.join("big.json"), otlp_file(trace, spans)).expect("write");
    let app = router(AppState::new(options(), dir.config()));
    let addr = spawn(app.clone(), ServeLimits::default()).await;
    // Load it once.
    let (status, body) = post_form(&app, "/api/timeline_rows", format!("trace_id={trace}")).await;
    assert_eq!(status, 200, "{body}");

    let words: Vec<String> = (0..1_500).map(|i| format!("word{i}")).collect();
    let q = words.join(" ");
    assert!(q.len() > 12_000);
    let form = format!("trace_id={trace}&q={}", enc(&q));
    let filters = futures::future::join(
        post_form(&app, "/api/filter", form.clone()),
        post_form(&app, "/api/filter", form),
    );
    let health = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        raw_get(addr, "/healthz").await
    };
    let ((a, b), h) = tokio::join!(filters, health);
    assert!(h.starts_with("HTTP/1.1 200"), "{h}");
    for (status, body) in [a, b] {
        assert_eq!(status, 200, "{body}");
        // No span is named word0..word1499: nothing matches, and the answer is a list.
        assert_eq!(body.trim(), "[]", "{body}");
    }
    // The same bound in the parser the page uses to explain itself.
    let f = tracepin::view::filter::Filter::parse(&q);
    assert_eq!(f.terms.len(), tracepin::view::filter::MAX_TERMS);
    assert!(!f.problems.is_empty());
}

/// A span with 200,000 attributes and an event with 100,000 breadcrumbs: tracepin keeps 1,000 of
/// each and shows 200, saying how many more there are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_lists_are_kept_and_shown_bounded() {
    let dir = TempDir::new("lists");
    let trace = "5b8efff798038103d269b633813fc60c";
    let spans = vec![
        otlp_span(trace, 0, None, 200_000),
        otlp_span(trace, 1, Some(0), 1),
    ];
    std::fs::write(dir.0.join("spans.json"), otlp_file(trace, spans)).expect("write");
    let event_id = "a9c2e7d4b1f04e6d8c3b2a1f0e9d8c7b";
    let crumbs: Vec<serde_json::Value> = (0..100_000)
        .map(|i| serde_json::json!({"category": "log", "message": format!("crumb {i}"), "timestamp": 1_700_000_000.0 + f64::from(i) / 1000.0}))
        .collect();
    let event = serde_json::json!({
        "event_id": event_id,
        "timestamp": 1_700_000_000.5,
        "level": "error",
        "platform": "python",
        "exception": {"values": [{"type": "ValueError", "value": "boom"}]},
        "contexts": {"trace": {"trace_id": trace, "span_id": format!("{:016x}", 1)}},
        "breadcrumbs": {"values": crumbs},
    });
    let header = serde_json::json!({"event_id": event_id});
    let item = serde_json::to_vec(&event).expect("json");
    let mut envelope = Vec::new();
    writeln!(envelope, "{header}").expect("w");
    writeln!(envelope, "{{\"type\":\"event\",\"length\":{}}}", item.len()).expect("w");
    envelope.extend_from_slice(&item);
    envelope.push(b'\n');
    std::fs::write(dir.0.join("event.envelope"), envelope).expect("write");

    let app = router(AppState::new(options(), dir.config()));
    let (status, body) = post_form(&app, "/api/span", format!("trace_id={trace}&row=0")).await;
    assert_eq!(status, 200, "{body}");
    let span: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(span["attributes"].as_array().map(Vec::len), Some(200));
    assert_eq!(
        span["hidden"][0], "800 more attributes",
        "{}",
        span["hidden"]
    );
    assert!(body.len() < 200_000, "span detail is {} bytes", body.len());

    let (status, body) = post_form(
        &app,
        "/api/event",
        format!("trace_id={trace}&event_id={event_id}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ev: serde_json::Value = serde_json::from_str(&body).expect("json");
    let crumbs = ev["breadcrumbs"].as_array().expect("breadcrumbs");
    assert_eq!(crumbs.len(), 200);
    // The latest ones are kept and shown.
    assert_eq!(crumbs[199][2], "crumb 99999", "{}", crumbs[199]);
    assert_eq!(
        ev["hidden"][0], "800 earlier breadcrumbs",
        "{}",
        ev["hidden"]
    );

    // The page itself stays small.
    let (status, page) = {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let res = app
            .clone()
            .oneshot(
                axum::http::Request::builder()
                    .uri(format!("/trace/{trace}?event={event_id}"))
                    .body(axum::body::Body::empty())
                    .expect("request"),
            )
            .await
            .expect("router never fails");
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    };
    assert_eq!(status, 200);
    assert!(page.len() < 2_000_000, "page is {} bytes", page.len());
    assert!(
        page.contains("earlier breadcrumbs"),
        "the page says what it left out"
    );
}

/// 1 MB of zeros, gzip-compressed, repeated as `members` gzip members: a small file that expands
/// to `members` MB.
fn gzip_bomb(members: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(&vec![0u8; 1024 * 1024]).expect("gzip");
    let one = enc.finish().expect("gzip");
    one.repeat(members)
}

/// A gzip bomb in the files directory is refused with the limit named; the rest of the directory is
/// served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_file_is_refused_with_the_limit_named() {
    let dir = TempDir::new("bomb");
    let bomb = gzip_bomb(600);
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
    std::fs::write(dir.0.join("bomb.json.gz"), bomb).expect("write");
    let trace = "0af7651916cd43dd8448eb211c80319c";
    std::fs::write(
        dir.0.join("ok.json"),
        otlp_file(trace, vec![otlp_span(trace, 0, None, 1)]),
    )
    .expect("write");
    let cfg = dir.config();
    let backends = tracepin::connectors::traces::Backends::from_config(
        &cfg.tempo,
        &cfg.jaeger,
        &cfg.files,
        &tracepin::correlate::Options::default().correlation_tags,
    );
    let files = backends.files().expect("files");
    files.wait_indexed().await;
    let problems = files.problems().await;
    let p = problems
        .iter()
        .find(|p| p.path.ends_with("bomb.json.gz"))
        .unwrap_or_else(|| panic!("the bomb is reported: {problems:?}"));
    assert!(p.message.contains("512 MB"), "{}", p.message);
    assert!(
        backends
            .fetch(trace.parse().expect("id"), None)
            .await
            .is_ok(),
        "the other file is served"
    );
}

/// `mb` MB of zeros as one gzip member (what HTTP `Content-Encoding: gzip` carries).
fn gzip_bomb_one_member(mb: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..mb {
        enc.write_all(&zeros).expect("gzip");
    }
    enc.finish().expect("gzip")
}

/// A trace backend answering with a gzip bomb (`Content-Encoding: gzip`): reading stops at
/// `max_response_mb` and the page names the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_from_a_backend_stops_at_the_limit() {
    use axum::routing::any;
    let bomb = gzip_bomb_one_member(64);
    assert!(bomb.len() < 256 * 1024, "{}", bomb.len());
    let tempo = Router::new().fallback(any(move || {
        let bomb = bomb.clone();
        async move {
            (
                [
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                ],
                bomb,
            )
        }
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, tempo).await;
    });
    let cfg = config_from(&format!(
        "[[tempo]]\nname = \"t\"\nurl = \"{url}\"\nmax_response_mb = 2\n"
    ));
    let backends = tracepin::connectors::traces::Backends::from_config(
        &cfg.tempo,
        &cfg.jaeger,
        &cfg.files,
        &tracepin::correlate::Options::default().correlation_tags,
    );
    let err = backends
        .fetch(
            "0af7651916cd43dd8448eb211c80319c".parse().expect("id"),
            None,
        )
        .await
        .expect_err("too large");
    let text: String = err.iter().map(ToString::to_string).collect();
    assert!(text.contains("larger than 2 MB"), "{text}");
}

/// A trace over `[server] large_trace_spans` says so on its page (spans and memory, nothing cut),
/// and its rows stream in chunks that add up to exactly every row, in order, names included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_trace_says_so_and_streams_every_row_in_chunks() {
    let dir = TempDir::new("large");
    let trace = "6c8efff798038103d269b633813fc61d";
    let spans = (0..2_500)
        .map(|i| otlp_span(trace, i, (i > 0).then(|| (i - 1) / 3), 1))
        .collect();
    std::fs::write(dir.0.join("large.json"), otlp_file(trace, spans)).expect("write");
    let config = config_from(&format!(
        "[server]\nlarge_trace_spans = 2000\n[files]\ndir = \"{}\"\n",
        dir.0.display().to_string().replace('\\', "/")
    ));
    let app = router(AppState::new(options(), config));

    let (status, body) = post_form(&app, "/api/timeline", format!("trace_id={trace}&view=")).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let large = v["notices"]
        .as_array()
        .expect("notices")
        .iter()
        .find(|n| n["kind"] == "large")
        .unwrap_or_else(|| panic!("no large-trace notice in {}", v["notices"]));
    let text = large["text"].as_str().expect("text");
    assert!(
        text.starts_with("Large trace: 2,500 spans, about "),
        "{text}"
    );
    assert!(text.contains("Nothing is left out"), "{text}");
    // The first screen is a window, not the whole trace.
    assert!(v["rows"]["index"].as_array().expect("rows").len() < 200);

    // Every row at once, then the same in chunks of 1,000.
    let chunk = |from: usize, limit: usize| {
        let app = app.clone();
        async move {
            let (status, body) = post_form(
                &app,
                "/api/timeline_rows",
                format!("trace_id={trace}&from={from}&limit={limit}"),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            serde_json::from_str::<tracepin::view::types::RowsChunk>(&body).expect("chunk")
        }
    };
    let whole = chunk(0, 100_000).await;
    assert_eq!(whole.total, 2_500);
    assert_eq!(whole.rows.len(), 2_500);
    // 2,500 spans named op-0 … op-49: 50 names sent once each.
    assert_eq!(whole.rows.names.len(), 50);
    let mut acc = tracepin::view::types::Rows::default();
    let mut parts = 0;
    while acc.len() < 2_500 {
        let c = chunk(acc.len(), 1_000).await;
        assert_eq!(c.total, 2_500);
        assert!(c.rows.len() <= 1_000);
        assert!(
            acc.append_chunk(c),
            "chunk {parts} follows the previous one"
        );
        parts += 1;
    }
    assert_eq!(parts, 3);
    assert_eq!(acc, whole.rows);
    // Past the end: an empty chunk that still says how many rows there are.
    let past = chunk(2_500, 1_000).await;
    assert!(past.rows.is_empty());
    assert_eq!(past.total, 2_500);
    // A limit above the chunk size is clamped, not refused.
    assert_eq!(chunk(0, 10_000_000).await.rows.len(), 2_500);
}
