//! Ingest benchmark: the real router on 127.0.0.1, a real HTTP client, a local store in a temporary
//! directory. Prints figures; asserts nothing.
//!
//! 1. sustained spans/s for OTLP protobuf batches of 512 spans (4 concurrent exporters);
//! 2. envelopes/s (one error event each, 4 concurrent senders);
//! 3. ack latency p50/p99 at a steady 5,000 spans/s (100-span batches every 20 ms);
//! 4. peak RSS of the process after ingesting 1,000,000 spans (client included).
//!
//! `cargo bench --features ssr --bench ingest` (`-- quick` for a tenth of the volume). With
//! `TRACEPIN_URL` (and `TRACEPIN_PID` for its memory) the figures are taken against a running
//! tracepin with a local store instead, e.g. the release binary; RSS is then the server's alone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use leptos::prelude::LeptosOptions;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    status, ResourceSpans, ScopeSpans, Span, Status, TracesData,
};
use prost::Message;

use tracepin::server::config::{Config, Overrides};
use tracepin::server::AppState;

static NEXT: AtomicU64 = AtomicU64::new(1);

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// One export request of `n` spans: 16 traces of n/16 spans, realistic attributes.
fn batch(n: usize) -> Vec<u8> {
    let base = NEXT.fetch_add(1, Ordering::SeqCst);
    let per_trace = (n / 16).max(1);
    let spans: Vec<Span> = (0..n)
        .map(|i| {
            let t = base * 1000 + (i / per_trace) as u64;
            let mut trace_id = [0u8; 16];
            trace_id[..8].copy_from_slice(&t.to_be_bytes());
            trace_id[8..].copy_from_slice(&0x5eed_u64.to_be_bytes());
            let s = base * 1_000_000 + i as u64 + 1;
            let parent = if i % per_trace == 0 {
                Vec::new()
            } else {
                (base * 1_000_000 + (i - i % per_trace) as u64 + 1)
                    .to_be_bytes()
                    .to_vec()
            };
            let start = 1_700_000_000_000_000_000u64 + (i as u64) * 1_000_000;
            Span {
                trace_id: trace_id.to_vec(),
                span_id: s.to_be_bytes().to_vec(),
                parent_span_id: parent,
                name: format!("GET /api/items/{}", i % 50),
                kind: 2,
                start_time_unix_nano: start,
                end_time_unix_nano: start + 5_000_000,
                attributes: vec![
                    kv("http.request.method", "GET"),
                    kv("http.route", "/api/items/{id}"),
                    kv("url.full", "http://shop.internal:8080/api/items/42?x=1"),
                    kv("server.address", "shop.internal"),
                    kv("user_agent.original", "python-requests/2.34.2"),
                    kv("transaction_id", &format!("txn-{t}")),
                    kv("db.system", "postgresql"),
                    kv(
                        "db.statement",
                        "SELECT id, name, price FROM items WHERE id = $1",
                    ),
                ],
                status: (i % 97 == 0).then(|| Status {
                    message: "boom".into(),
                    code: status::StatusCode::Error as i32,
                }),
                ..Default::default()
            }
        })
        .collect();
    TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "checkout-api"),
                    kv("service.namespace", "shop"),
                    kv("service.version", "1.4.2"),
                    kv("service.instance.id", "checkout-api-0"),
                    kv("deployment.environment.name", "bench"),
                    kv("host.name", "checkout-api-host"),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "shop.checkout".into(),
                    version: "1.4.2".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn envelope() -> Vec<u8> {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let id = format!("{n:032x}");
    let trace = format!("{:016x}{:016x}", n * 1000, 0x5eed);
    format!(
        "{{\"event_id\":\"{id}\",\"sent_at\":\"2026-11-20T10:00:00Z\"}}\n{{\"type\":\"event\"}}\n\
         {{\"event_id\":\"{id}\",\"level\":\"error\",\"platform\":\"python\",\"release\":\"checkout-api@1.4.2\",\
         \"timestamp\":1763632800.5,\"contexts\":{{\"trace\":{{\"trace_id\":\"{trace}\",\"span_id\":\"00000000000003e9\"}}}},\
         \"tags\":{{\"transaction_id\":\"txn-{n}\"}},\"exception\":{{\"values\":[{{\"type\":\"GatewayTimeout\",\"value\":\"payments timed out\",\
         \"stacktrace\":{{\"frames\":[{{\"function\":\"charge\",\"module\":\"shop.pay\",\"lineno\":42,\"in_app\":true,\
         \"context_line\":\"raise GatewayTimeout()\"}}]}}}}]}}}}\n"
    )
    .into_bytes()
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn serve(dir: &std::path::Path) -> String {
    let text = format!(
        "[store]\npath = \"{}\"\nmax_mb = 8192\nqueue_items = 200000\n",
        dir.display()
    );
    let config = Config::load(
        Some(("Leptos.toml", &text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("config");
    let options = LeptosOptions::builder()
        .output_name("tracepin")
        .site_root("target/site")
        .build();
    let app = tracepin::app::router(AppState::new(options, config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// Posts until acknowledged (a 429 is retried after a short wait, as exporters do).
async fn post(client: &reqwest::Client, url: &str, ct: &str, body: Vec<u8>) -> (Duration, u32) {
    let started = Instant::now();
    let mut retries = 0;
    loop {
        let res = client
            .post(url)
            .header("content-type", ct)
            .body(body.clone())
            .send()
            .await
            .expect("sent");
        match res.status().as_u16() {
            200 => return (started.elapsed(), retries),
            429 | 503 => {
                retries += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            s => panic!(
                "{url} answered {s}: {}",
                res.text().await.unwrap_or_default()
            ),
        }
    }
}

async fn throughput(client: &reqwest::Client, url: &str, batches: usize) -> (f64, u32) {
    // Bodies are made before the clock starts: the figure is the server's, not the encoder's.
    let bodies: Vec<Vec<u8>> = (0..batches).map(|_| batch(512)).collect();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let retries = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (client, url, queue, retries) = (
            client.clone(),
            url.to_owned(),
            queue.clone(),
            retries.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let Some(body) = queue.lock().expect("lock").pop() else {
                    return;
                };
                let (_, r) = post(
                    &client,
                    &format!("{url}/v1/traces"),
                    "application/x-protobuf",
                    body,
                )
                .await;
                retries.fetch_add(u64::from(r), Ordering::SeqCst);
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    (
        (batches * 512) as f64 / secs,
        u32::try_from(retries.load(Ordering::SeqCst)).unwrap_or(u32::MAX),
    )
}

/// Peak and current RSS in kB: of the server process when `TRACEPIN_PID` names it, else this one.
fn memory(field: &str) -> u64 {
    match std::env::var("TRACEPIN_PID") {
        Ok(pid) => std::fs::read_to_string(format!("/proc/{}/status", pid.trim()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0),
        Err(_) => rss_kb(field),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let scale = if quick { 10 } else { 1 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("tracepin-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    rt.block_on(async {
        let url = match std::env::var("TRACEPIN_URL") {
            Ok(u) => u.trim_end_matches('/').to_owned(),
            Err(_) => serve(&dir).await,
        };
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(8)
            .build()
            .expect("client");
        // Warm-up.
        post(&client, &format!("{url}/v1/traces"), "application/x-protobuf", batch(512)).await;

        // 1. Sustained throughput, 512-span protobuf batches.
        let batches = 400 / scale;
        let (rate, retries) = throughput(&client, &url, batches).await;
        println!(
            "otlp protobuf, 512-span batches, 4 exporters: {:.0} spans/s sustained over {} spans ({} answers 429 retried)",
            rate,
            batches * 512,
            retries
        );

        // 2. Envelopes per second.
        let n = 4000 / scale;
        let left = Arc::new(AtomicU64::new(n as u64));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (client, url, left) = (client.clone(), url.clone(), left.clone());
            tasks.push(tokio::spawn(async move {
                while left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| l.checked_sub(1))
                    .is_ok()
                {
                    post(&client, &format!("{url}/api/1/envelope/"), "application/x-sentry-envelope", envelope()).await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        println!(
            "sentry envelopes (one error event each), 4 senders: {:.0} envelopes/s over {n}",
            n as f64 / started.elapsed().as_secs_f64()
        );

        // 3. Ack latency at a steady 5,000 spans/s.
        let seconds = 20 / scale.min(4);
        let mut lat = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut pending = Vec::new();
        for _ in 0..(seconds * 50) {
            tick.tick().await;
            let (client, url) = (client.clone(), url.clone());
            let body = batch(100);
            pending.push(tokio::spawn(async move {
                post(&client, &format!("{url}/v1/traces"), "application/x-protobuf", body).await.0
            }));
        }
        for p in pending {
            lat.push(p.await.expect("task"));
        }
        lat.sort();
        let pct = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
        println!(
            "ack latency at 5000 spans/s (100-span batches every 20 ms, {seconds} s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );

        // 4. Peak RSS while ingesting 1M spans.
        let before = memory("VmHWM:");
        let total = 1_000_000 / scale;
        let (rate, _) = throughput(&client, &url, total / 512).await;
        println!(
            "ingesting {} spans: {:.0} spans/s; peak RSS {} MB (before: {} MB; now {} MB){}",
            (total / 512) * 512,
            rate,
            memory("VmHWM:") / 1024,
            before / 1024,
            memory("VmRSS:") / 1024,
            if std::env::var("TRACEPIN_PID").is_ok() {
                "; the server process alone"
            } else {
                "; client in the same process"
            }
        );
        let dir = std::env::var("TRACEPIN_DATA").map(PathBuf::from).unwrap_or(dir.clone());
        let db = std::fs::metadata(dir.join("tracepin.sqlite3")).map(|m| m.len()).unwrap_or(0);
        let wal = std::fs::metadata(dir.join("tracepin.sqlite3-wal")).map(|m| m.len()).unwrap_or(0);
        let ready: serde_json::Value = client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .expect("readyz")
            .json()
            .await
            .expect("JSON");
        println!(
            "database {} MB (+ WAL {} MB); counted for retention: {} MB",
            db / (1024 * 1024),
            wal / (1024 * 1024),
            ready["store"]["stored_mb"]
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}
