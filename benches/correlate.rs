//! Criterion benches of the correlation core and the payload decoders.
//!
//! `correlate/*`: assemble + pin + skew + critical path for generated traces of 1k, 10k and 100k spans
//! with 1k events (a mix of every pinning rule). `assemble/*`: assembly alone. `parse/*`: decoder
//! throughput in bytes per second: the real SDK `otlp.json` of `f_large_trace`, all real Sentry
//! envelopes, and a generated OTLP JSON of 100k spans.
//!
//! Run: `cargo bench --features ssr --bench correlate -- --warm-up-time 1 --measurement-time 3`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use tracepin::connectors::formats::decode;
use tracepin::correlate::{assemble::assemble, correlate, Options};
use tracepin::domain::{
    ErrorEvent, EventId, ExceptionValue, KeyValue, Span, SpanEvent, SpanId, SpanKind, SpanStatus,
    StatusCode, TraceContext, TraceId,
};

const BASE_NS: u64 = 1_800_000_000_000_000_000;

/// A deterministic id stream (splitmix64).
struct Ids(u64);

impl Ids {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) | 1
    }
    fn span(&mut self) -> SpanId {
        SpanId(self.next().to_be_bytes())
    }
}

fn resource(service: &str) -> Vec<KeyValue> {
    vec![
        KeyValue::str("service.name", service),
        KeyValue::str("service.namespace", "shop"),
        KeyValue::str("host.name", format!("{service}-host")),
    ]
}

#[expect(clippy::too_many_arguments, reason = "a span has that many parts")]
fn span(
    trace_id: TraceId,
    span_id: SpanId,
    parent: Option<SpanId>,
    service: &str,
    name: &str,
    kind: SpanKind,
    start: u64,
    end: u64,
) -> Span {
    Span {
        trace_id,
        span_id,
        parent_span_id: parent,
        service: service.into(),
        name: name.into(),
        kind,
        start_ns: BASE_NS + start,
        end_ns: BASE_NS + end,
        status: SpanStatus::default(),
        attributes: tracepin::domain::thin_vec![KeyValue::str("code.function", name)],
        events: tracepin::domain::ThinVec::new(),
        links: tracepin::domain::ThinVec::new(),
        resource: resource(service).into(),
        scope: Some(format!("shop.{service}").into()),
    }
}

/// One trace of about `n_spans` spans (14 per order, like the SDK's `f_large_trace`) in export order,
/// and `n_events` events spread over the orders, exercising every pinning rule.
fn generate(n_spans: usize, n_events: usize) -> (Vec<Span>, Vec<ErrorEvent>) {
    let mut ids = Ids(42);
    let trace_id = TraceId([7; 16]);
    let orders = (n_spans.saturating_sub(1) / 14).max(1);
    let mut spans = Vec::with_capacity(orders * 14 + 1);
    let root = ids.span();
    let step = 100_000u64; // 100 µs per order
    let total = orders as u64 * step + 10_000;
    spans.push(span(
        trace_id,
        root,
        None,
        "frontend",
        "POST /bulk-import",
        SpanKind::Server,
        0,
        total,
    ));
    // Per order: the spans events point at: (reserve, psp, email, server of inventory).
    let mut targets: Vec<[(SpanId, &'static str); 4]> = Vec::with_capacity(orders);
    for o in 0..orders {
        let t0 = o as u64 * step + 1_000;
        let mut s =
            |parent: SpanId, svc: &'static str, name: &str, kind: SpanKind, a: u64, b: u64| {
                let id = ids.span();
                spans.push(span(
                    trace_id,
                    id,
                    Some(parent),
                    svc,
                    name,
                    kind,
                    t0 + a,
                    t0 + b,
                ));
                id
            };
        let fe = s(root, "frontend", "POST", SpanKind::Client, 0, 90_000);
        let api = s(
            fe,
            "checkout-api",
            "POST /api/checkout",
            SpanKind::Server,
            1_000,
            89_000,
        );
        s(
            api,
            "checkout-api",
            "validate cart",
            SpanKind::Internal,
            2_000,
            8_000,
        );
        let inv_c = s(api, "checkout-api", "GET", SpanKind::Client, 10_000, 30_000);
        let inv = s(
            inv_c,
            "inventory",
            "GET /stock",
            SpanKind::Server,
            11_000,
            29_000,
        );
        let reserve = s(
            inv,
            "inventory",
            "reserve stock",
            SpanKind::Internal,
            12_000,
            28_000,
        );
        let pay_c = s(
            api,
            "checkout-api",
            "POST",
            SpanKind::Client,
            32_000,
            70_000,
        );
        let pay = s(
            pay_c,
            "payments",
            "POST /charge",
            SpanKind::Server,
            33_000,
            69_000,
        );
        s(
            pay,
            "payments",
            "fraud check",
            SpanKind::Internal,
            34_000,
            40_000,
        );
        let psp = s(pay, "payments", "POST", SpanKind::Client, 41_000, 68_000);
        let publish = s(
            api,
            "checkout-api",
            "publish orders",
            SpanKind::Producer,
            72_000,
            73_000,
        );
        let consume = s(
            publish,
            "order-worker",
            "process orders",
            SpanKind::Consumer,
            74_000,
            88_000,
        );
        let email = s(
            consume,
            "order-worker",
            "send confirmation email",
            SpanKind::Internal,
            75_000,
            87_000,
        );
        s(
            email,
            "order-worker",
            "render email template",
            SpanKind::Internal,
            76_000,
            80_000,
        );
        targets.push([
            (reserve, "inventory"),
            (psp, "payments"),
            (email, "order-worker"),
            (inv, "inventory"),
        ]);
        if let Some(api_span) = spans.iter_mut().rev().find(|x| x.span_id == api) {
            api_span
                .attributes
                .push(KeyValue::str("transaction_id", format!("txn-{o}")));
        }
    }
    let index: std::collections::HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut events = Vec::with_capacity(n_events);
    for k in 0..n_events {
        let o = k * orders / n_events.max(1);
        let t_order = o as u64 * step + 1_000;
        let variant = k % 10;
        let (target, service) = targets[o][k % 3];
        let mut ev = ErrorEvent {
            event_id: EventId::from_bytes((ids.next() as u128 | 1).to_be_bytes()),
            title: format!("GatewayTimeout: attempt {k}"),
            level: "error".to_owned(),
            timestamp_ns: BASE_NS + t_order + 20_000,
            release: Some(format!("{service}@1.4.2")),
            server_name: Some(format!("{service}-host")),
            ..ErrorEvent::default()
        };
        let ctx = |span_id| {
            Some(TraceContext {
                trace_id: Some(trace_id),
                span_id: Some(span_id),
                ..TraceContext::default()
            })
        };
        match variant {
            // Rule 6: the span was dropped.
            7 => {
                ev.release = Some("inventory@1.4.2".to_owned());
                ev.trace_context = ctx(ids.span());
            }
            // Rule 4: captured at inventory's server span, raised in `reserve stock`.
            8 => {
                let (reserve, _) = targets[o][0];
                let (server, _) = targets[o][3];
                ev.release = Some("inventory@1.4.2".to_owned());
                ev.trace_context = ctx(server);
                ev.exceptions.push(ExceptionValue {
                    ty: Some("InsufficientStock".to_owned()),
                    module: Some("__main__".to_owned()),
                    value: Some(format!("none left for order {o}")),
                    ..ExceptionValue::default()
                });
                if let Some(&i) = index.get(&reserve) {
                    let sp = &mut spans[i];
                    sp.status.code = StatusCode::Error;
                    sp.events.push(SpanEvent {
                        time_ns: sp.start_ns + 1_000,
                        name: "exception".to_owned(),
                        attributes: vec![
                            KeyValue::str("exception.type", "__main__.InsufficientStock"),
                            KeyValue::str("exception.message", format!("none left for order {o}")),
                        ],
                    });
                }
            }
            // Rule 5: only a business id.
            9 => {
                ev.release = Some("checkout-api@1.4.2".to_owned());
                ev.timestamp_ns = BASE_NS + t_order + 5_000;
                ev.tags
                    .push(("transaction_id".to_owned(), format!("txn-{o}")));
            }
            // Rule 1.
            _ => ev.trace_context = ctx(target),
        }
        events.push(ev);
    }
    // Export order, as an OTel SDK sends it: spans as they end (children before parents), in batches
    // of 512, each batch grouped by service (one resourceSpans per service).
    spans.sort_by_key(|s| s.end_ns);
    for batch in spans.chunks_mut(512) {
        batch.sort_by(|a, b| a.service.cmp(&b.service));
    }
    (spans, events)
}

/// Spans as an OTLP/JSON `ExportTraceServiceRequest`, one resourceSpans per service.
fn to_otlp_json(spans: &[Span]) -> String {
    let mut by_service: std::collections::BTreeMap<&str, Vec<&Span>> = Default::default();
    for s in spans {
        by_service.entry(&*s.service).or_default().push(s);
    }
    let mut out = String::from("{\"resourceSpans\":[");
    for (i, (service, list)) in by_service.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"resource\":{{\"attributes\":[{{\"key\":\"service.name\",\"value\":{{\"stringValue\":\"{service}\"}}}},\
             {{\"key\":\"host.name\",\"value\":{{\"stringValue\":\"{service}-host\"}}}}]}},\
             \"scopeSpans\":[{{\"scope\":{{\"name\":\"shop.{service}\",\"version\":\"1.4.2\"}},\"spans\":["
        );
        for (j, s) in list.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            let parent = s
                .parent_span_id
                .map(|p| format!("\"parentSpanId\":\"{p}\","))
                .unwrap_or_default();
            let _ = write!(
                out,
                "{{\"traceId\":\"{}\",\"spanId\":\"{}\",{parent}\"flags\":256,\"name\":\"{}\",\"kind\":{},\
                 \"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[\
                 {{\"key\":\"code.function\",\"value\":{{\"stringValue\":\"{}\"}}}},\
                 {{\"key\":\"http.response.status_code\",\"value\":{{\"intValue\":\"200\"}}}}],\"status\":{{}}}}",
                s.trace_id,
                s.span_id,
                s.name,
                s.kind as u8,
                s.start_ns,
                s.end_ns,
                s.name
            );
        }
        out.push_str("]}]}");
    }
    out.push_str("]}");
    out
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdk")
}

fn bench_correlate(c: &mut Criterion) {
    let opts = Options::default();
    let mut group = c.benchmark_group("correlate");
    group.sample_size(20);
    for n in [1_000usize, 10_000, 100_000] {
        let (spans, events) = generate(n, 1_000);
        group.throughput(Throughput::Elements(spans.len() as u64));
        group.bench_function(format!("{}k_spans_1k_events", n / 1000), |b| {
            b.iter_batched(
                || (spans.clone(), events.clone()),
                |(s, e)| black_box(correlate(s, e, &opts)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("assemble");
    group.sample_size(20);
    for n in [1_000usize, 10_000, 100_000] {
        let (spans, _) = generate(n, 0);
        group.throughput(Throughput::Elements(spans.len() as u64));
        group.bench_function(format!("{}k_spans", n / 1000), |b| {
            b.iter_batched(
                || spans.clone(),
                |s| black_box(assemble(s)),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.sample_size(20);

    let otlp = std::fs::read(fixtures().join("f_large_trace/otlp.json")).unwrap_or_default();
    if !otlp.is_empty() {
        group.throughput(Throughput::Bytes(otlp.len() as u64));
        group.bench_function("otlp_json_sdk_f_large_trace", |b| {
            b.iter(|| black_box(decode(&otlp).is_ok()));
        });
    }

    let mut envelopes: Vec<Vec<u8>> = Vec::new();
    if let Ok(dirs) = std::fs::read_dir(fixtures()) {
        for dir in dirs.flatten() {
            if let Ok(files) = std::fs::read_dir(dir.path().join("sentry-envelopes")) {
                for f in files.flatten() {
                    if let Ok(bytes) = std::fs::read(f.path()) {
                        envelopes.push(bytes);
                    }
                }
            }
        }
    }
    let total: usize = envelopes.iter().map(Vec::len).sum();
    if total > 0 {
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_function(format!("sentry_envelopes_all_{}", envelopes.len()), |b| {
            b.iter(|| {
                for e in &envelopes {
                    black_box(decode(e).is_ok());
                }
            });
        });
    }

    let (spans, _) = generate(100_000, 0);
    let generated = to_otlp_json(&spans).into_bytes();
    match decode(&generated) {
        Ok(tracepin::connectors::formats::Decoded::Trace(t)) => {
            assert_eq!(
                t.spans.len(),
                spans.len(),
                "generated OTLP JSON decodes span for span"
            );
        }
        Ok(_) => panic!("generated OTLP JSON decoded as events"),
        Err(e) => panic!("generated OTLP JSON does not decode: {e}"),
    }
    group.throughput(Throughput::Bytes(generated.len() as u64));
    group.bench_function("otlp_json_generated_100k_spans", |b| {
        b.iter(|| black_box(decode(&generated).is_ok()));
    });
    group.finish();
}

/// Per-phase timings of one 100k-span correlation (minimum over runs), printed when `PHASES` is set;
/// `PHASES_SPANS` sets another size.
fn phases() {
    use std::time::Instant;
    let n = std::env::var("PHASES_SPANS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let (spans, events) = generate(n, 1_000);
    let opts = Options::default();
    let names = [
        "assemble",
        "span ids",
        "skew",
        "pin",
        "critical_path",
        "sum",
        "correlate()",
    ];
    let mut best = [f64::MAX; 7];
    for _ in 0..15 {
        let s = spans.clone();
        let t0 = Instant::now();
        let traces = tracepin::correlate::assemble::assemble_with_services(s);
        let t1 = Instant::now();
        let Some((trace, services)) = traces.into_iter().next() else {
            return;
        };
        let mut look = tracepin::correlate::span_finder::SpanFinder::with_services(
            &trace,
            services,
            &opts.correlation_tags,
        );
        look.index_span_ids(
            events
                .iter()
                .flat_map(tracepin::correlate::pin::named_span_ids),
        );
        let t2 = Instant::now();
        let (skew, _) = tracepin::correlate::skew::estimate_with(&trace, &look.services);
        let t3 = Instant::now();
        for (i, e) in events.iter().enumerate() {
            black_box(tracepin::correlate::pin::place(&look, &skew, i, e, &opts));
        }
        let t4 = Instant::now();
        black_box(tracepin::correlate::critical_path::critical_path(
            &trace, &skew,
        ));
        let t5 = Instant::now();
        drop(look);
        drop(trace);
        let (s, e) = (spans.clone(), events.clone());
        let t6 = Instant::now();
        let c = black_box(correlate(s, e, &opts));
        let t7 = Instant::now();
        drop(c);
        let ts = [t0, t1, t2, t3, t4, t5];
        for k in 0..5 {
            best[k] = best[k].min((ts[k + 1] - ts[k]).as_secs_f64() * 1e3);
        }
        best[5] = best[5].min((t5 - t0).as_secs_f64() * 1e3);
        best[6] = best[6].min((t7 - t6).as_secs_f64() * 1e3);
    }
    let parts: Vec<String> = names
        .iter()
        .zip(best)
        .map(|(n, b)| format!("{n} {b:.2}"))
        .collect();
    eprintln!(
        "phases, {n} spans, min ms over 15 runs: {}",
        parts.join(" | ")
    );
}

fn bench_phases(_c: &mut Criterion) {
    if std::env::var_os("PHASES").is_some() {
        phases();
    }
}

/// A snapshot of a 100k-span trace with 1,000 errors: the file's size (printed) and the time to
/// write and to read it back (checks included).
fn bench_snapshot(c: &mut Criterion) {
    use tracepin::server::snapshots::{decode, encode, new_id, Snapshot};
    use tracepin::view::types::SnapshotMeta;
    let (spans, events) = generate(100_000, 1_000);
    let corr = correlate(spans, events, &Options::default());
    let Some(timeline) = corr.timelines.into_iter().next() else {
        return;
    };
    let snap = Snapshot {
        meta: SnapshotMeta {
            id: new_id(),
            title: "bench".into(),
            trace_id: timeline.trace.trace_id.to_string(),
            frozen_at: "2026-12-05T08:00:00Z".into(),
            frozen_by: "bench".into(),
            expires_at: None,
            size_bytes: 0,
            view: String::new(),
        },
        timeline,
        events: corr.events,
        sources: vec!["bench".into()],
        notices: Vec::new(),
        annotations: Vec::new(),
    };
    let file = encode(&snap);
    eprintln!(
        "snapshot of 100k spans + 1,000 errors: {} bytes ({:.1} MiB) gzip",
        file.len(),
        file.len() as f64 / 1048576.0
    );
    let mut g = c.benchmark_group("snapshot_100k");
    g.sample_size(10);
    g.bench_function("encode", |b| b.iter(|| black_box(encode(&snap))));
    g.bench_function("decode", |b| b.iter(|| black_box(decode(&file))));
    g.finish();
}

/// Compare mode: a 10k-span failing trace against 20 baselines of 10k spans each (durations varied
/// per baseline). The failing trace never validates a cart (ghost rows), makes one
/// inventory call twice (repeated) and carries 200 errors. Prints what it found.
fn bench_compare(c: &mut Criterion) {
    use tracepin::correlate::compare::{compare, compare_with, Baseline, CompareOptions};
    let opts = CompareOptions::default();
    let baselines: Vec<_> = (0..20u64)
        .filter_map(|k| {
            let (mut spans, _) = generate(10_000, 0);
            for (i, s) in spans.iter_mut().enumerate() {
                let d = s.end_ns - s.start_ns;
                s.end_ns = s.start_ns + d + d * ((i as u64 + k * 7) % 11) / 100;
            }
            assemble(spans).into_iter().next()
        })
        .collect();
    let refs: Vec<_> = baselines.iter().collect();
    let (mut spans, events) = generate(10_000, 200);
    spans.retain(|s| &*s.name != "validate cart");
    if let Some(extra) = spans.iter().find(|s| &*s.name == "GET").cloned() {
        let mut again = extra;
        again.span_id = SpanId([0xfe; 8]);
        spans.push(again);
    }
    let corr = correlate(spans, events, &Options::default());
    let Some(failing) = corr.timelines.into_iter().next() else {
        return;
    };
    let result = compare(&failing, &refs, &opts);
    eprintln!(
        "compare 10k spans with 20 × 10k: {} ghost row(s), {} marked row(s), {} finding(s); first divergence: {}",
        result.ghosts.len(),
        result.rows.iter().filter(|r| r.marks != 0).count(),
        result.findings.len(),
        result
            .first_divergence
            .as_ref()
            .map(|d| d.text.as_str())
            .unwrap_or("none")
    );
    let mut g = c.benchmark_group("compare_10k_x20");
    g.sample_size(10);
    g.bench_function("aggregate_and_diff", |b| {
        b.iter(|| black_box(compare(&failing, &refs, &opts)))
    });
    let base = Baseline::of(&refs);
    g.bench_function("diff_only", |b| {
        b.iter(|| black_box(compare_with(&failing, &base, &opts)))
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_phases,
    bench_correlate,
    bench_parse,
    bench_snapshot,
    bench_compare
);
criterion_main!(benches);
