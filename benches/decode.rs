//! Criterion bench of the streaming OTLP/JSON decoder alone: a generated document of canonical spans
//! (the shape exporters write) fed in 256 KB pieces to [`SpanStream`], as a file is read.
//!
//! Run: `cargo bench --features ssr --bench decode -- --warm-up-time 1 --measurement-time 5`.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use tracepin::connectors::formats::{Format, SpanStream};

/// A document of `n` spans: ids, a parent, a name, kind, times, three attributes and a status.
fn document(n: usize) -> Vec<u8> {
    let mut doc = String::from(
        r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},"scopeSpans":[{"scope":{"name":"bench"},"spans":["#,
    );
    for i in 0..n {
        if i > 0 {
            doc.push(',');
        }
        let parent = if i == 0 { 0 } else { (i - 1) / 4 + 1 };
        let start = 1_763_700_000_000_000_000u64 + i as u64 * 1_000;
        let _ = write!(
            doc,
            r#"{{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"{:016x}","parentSpanId":"{:016x}","name":"GET /op/{}","kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/op/{}"}}}},{{"key":"http.response.status_code","value":{{"intValue":"200"}}}},{{"key":"sampled","value":{{"boolValue":true}}}}],"status":{{}}}}"#,
            i + 1,
            parent,
            i % 50,
            1 + i % 3,
            start,
            start + 500,
            i % 50
        );
    }
    doc.push_str("]}]}]}");
    doc.into_bytes()
}

fn bench_decode(c: &mut Criterion) {
    for n in [10_000usize, 100_000] {
        let doc = document(n);
        let mut group = c.benchmark_group(format!("decode/{n}_spans"));
        group.sample_size(10);
        group.throughput(Throughput::Bytes(doc.len() as u64));
        group.bench_function("otlp_json_streamed", |b| {
            b.iter(|| {
                let Some(mut stream) = SpanStream::new(Format::OtlpJson) else {
                    panic!("OTLP JSON streams");
                };
                for piece in doc.chunks(256 << 10) {
                    stream.push(piece);
                }
                let trace = stream.finish().expect("decodes");
                assert_eq!(trace.spans.len(), n);
                black_box(trace)
            });
        });
        group.finish();
    }
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
