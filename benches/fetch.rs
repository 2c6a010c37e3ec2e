//! Criterion bench of a trace fetch over loopback: HTTP + body read + decode, through [`Backends`].
//!
//! A fake Tempo (protobuf `TraceByIDResponse` on `/api/v2/traces/{id}`) and a fake Jaeger (api_v3 JSON
//! `{"result":…}` on `/api/v3/traces/{id}`) on 127.0.0.1 serve generated traces of 10k and 100k spans;
//! the cache is disabled (`cache_ttl_secs = 0`) so every iteration is a real fetch.
//!
//! Run: `cargo bench --features ssr --bench fetch -- --warm-up-time 1 --measurement-time 5`.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use axum::Router;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use prost::Message;

use tracepin::connectors::traces::{Backends, Caching};
use tracepin::domain::TraceId;
use tracepin::server::config::{Config, Overrides};

const BASE_NS: u64 = 1_800_000_000_000_000_000;
const TRACE: [u8; 16] = [
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
];

fn span_id(i: usize) -> [u8; 8] {
    ((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1).to_be_bytes()
}

fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn str_kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.to_owned())),
        }),
        ..Default::default()
    }
}

/// Spans of one trace spread over 10 services; a parent is an earlier span.
fn resource_spans(n: usize) -> Vec<ResourceSpans> {
    let mut per_service: Vec<Vec<Span>> = vec![Vec::new(); 10];
    for i in 0..n {
        let start = BASE_NS + i as u64 * 1_000;
        per_service[i % 10].push(Span {
            trace_id: TRACE.to_vec(),
            span_id: span_id(i).to_vec(),
            parent_span_id: if i == 0 {
                Vec::new()
            } else {
                span_id((i - 1) / 4).to_vec()
            },
            name: format!("op-{}", i % 50),
            kind: 2,
            start_time_unix_nano: start,
            end_time_unix_nano: start + 500_000,
            attributes: vec![
                str_kv("http.route", "/api/items/{id}"),
                str_kv("db.system", "postgresql"),
            ],
            status: Some(Status {
                code: if i % 1000 == 7 { 2 } else { 0 },
                message: String::new(),
            }),
            ..Default::default()
        });
    }
    per_service
        .into_iter()
        .enumerate()
        .map(|(s, spans)| ResourceSpans {
            resource: Some(Resource {
                attributes: vec![str_kv("service.name", &format!("svc-{s}"))],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "bench".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect()
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
}

fn protobuf_body(rs: &[ResourceSpans]) -> Vec<u8> {
    TraceByIdResponse {
        trace: Some(TempoTrace {
            batches: rs.to_vec(),
        }),
    }
    .encode_to_vec()
}

/// Jaeger api_v3 JSON (OTLP/JSON: hex ids, integer enums, nanoseconds as strings).
fn json_body(rs: &[ResourceSpans]) -> Vec<u8> {
    let mut out = String::from(r#"{"result":{"resourceSpans":["#);
    for (ri, r) in rs.iter().enumerate() {
        if ri > 0 {
            out.push(',');
        }
        let service = format!("svc-{ri}");
        let _ = write!(
            out,
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"bench"}},"spans":["#
        );
        for (si, s) in r.scope_spans[0].spans.iter().enumerate() {
            if si > 0 {
                out.push(',');
            }
            let code = s.status.as_ref().map_or(0, |st| st.code);
            let _ = write!(
                out,
                r#"{{"traceId":"{}","spanId":"{}","parentSpanId":"{}","name":"{}","kind":2,"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/api/items/{{id}}"}}}},{{"key":"db.system","value":{{"stringValue":"postgresql"}}}}],"status":{{"code":{code}}}}}"#,
                hex(&s.trace_id),
                hex(&s.span_id),
                hex(&s.parent_span_id),
                s.name,
                s.start_time_unix_nano,
                s.end_time_unix_nano
            );
        }
        out.push_str("]}]}");
    }
    out.push_str("]}}");
    out.into_bytes()
}

struct Bodies {
    protobuf: Vec<u8>,
    json: Vec<u8>,
}

async fn handle(State(bodies): State<Arc<Bodies>>, uri: Uri) -> Response {
    let (ct, body) = if uri.path().starts_with("/api/v2/") {
        ("application/protobuf", bodies.protobuf.clone())
    } else {
        ("application/json", bodies.json.clone())
    };
    Response::builder()
        .header("content-type", ct)
        .body(Body::from(body))
        .unwrap_or_default()
}

fn bench_fetch(c: &mut Criterion) {
    let Ok(rt) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let id = TraceId(TRACE);
    for n in [10_000usize, 100_000] {
        let rs = resource_spans(n);
        let bodies = Arc::new(Bodies {
            protobuf: protobuf_body(&rs),
            json: json_body(&rs),
        });
        let (pb_len, json_len) = (bodies.protobuf.len(), bodies.json.len());
        let Ok(addr) = rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let app = Router::new().fallback(handle).with_state(bodies);
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            Ok::<_, std::io::Error>(addr)
        }) else {
            return;
        };
        let text = format!(
            "[[tempo]]\nname = \"tempo\"\nurl = \"http://{addr}\"\ncache_ttl_secs = 0\n\
             [[jaeger]]\nname = \"jaeger\"\nurl = \"http://{addr}\"\ncache_ttl_secs = 0\n"
        );
        let Ok(cfg) = Config::load(
            Some(("bench.toml", &text)),
            &|_| None,
            &Overrides::default(),
        ) else {
            return;
        };
        let backends =
            rt.block_on(async { Backends::from_config(&cfg.tempo, &cfg.jaeger, &cfg.files, &[]) });
        let mut group = c.benchmark_group(format!("fetch/{n}_spans"));
        group.sample_size(10);
        for (label, idx, len) in [
            ("tempo_protobuf", 0usize, pb_len),
            ("jaeger_json", 1, json_len),
        ] {
            group.throughput(Throughput::Bytes(len as u64));
            group.bench_function(label, |b| {
                b.iter(|| {
                    let backend = &backends.backends()[idx];
                    let t = rt.block_on(backend.fetch(id, None, Caching::Fresh));
                    black_box(t.map(|t| t.spans.len()).unwrap_or(0))
                })
            });
        }
        group.finish();
        eprintln!("fetch/{n}_spans: protobuf body {pb_len} bytes, JSON body {json_len} bytes");
    }
}

criterion_group!(benches, bench_fetch);
criterion_main!(benches);
