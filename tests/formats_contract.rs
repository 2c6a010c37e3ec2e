//! Contract tests of the payload decoders against recorded real payloads.
//!
//! Every format decodes a real sample: the SDK captures in `tests/fixtures/sdk/` (OTLP JSON from both
//! exporters, raw protobuf requests, Sentry envelopes) checked against each scenario's `expected.json`;
//! upstream samples in `tests/fixtures/upstream/`; and our Tempo, Jaeger v1 and Sentry Web API fixtures
//! in `tests/fixtures/formats/`, which must decode to the same domain values as the SDK payloads they
//! were made from. Then one named test per quirk, and malformed inputs.
#![cfg(feature = "ssr")]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracepin::connectors::formats::{
    decode, decode_as, decode_otlp_protobuf, decode_sentry_web_event, detect, Decoded,
    DecodedTrace, Format, FormatError,
};
use tracepin::domain::{AttrValue, ErrorEvent, KeyValue, Span, SpanKind, StatusCode};

const SCENARIOS: [&str; 7] = [
    "a1_otlp_integration",
    "a2_legacy_span_processor",
    "b_manual_context",
    "c_custom_correlation_id",
    "d_dedupe_record_exception",
    "e_nasty_multi_error",
    "f_large_trace",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    let path = fixtures().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files_in(rel: &str, suffix: &str) -> Vec<PathBuf> {
    let dir = fixtures().join(rel);
    let mut out: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(suffix))
            .collect(),
        Err(_) => Vec::new(),
    };
    out.sort();
    out
}

fn as_trace(d: Decoded, what: &str) -> DecodedTrace {
    match d {
        Decoded::Trace(t) => t,
        Decoded::Events { format, .. } => panic!("{what}: expected spans, got events ({format})"),
    }
}

fn as_events(d: Decoded, what: &str) -> (Format, Vec<ErrorEvent>) {
    match d {
        Decoded::Events { format, events } => (format, events),
        Decoded::Trace(t) => panic!("{what}: expected events, got spans ({})", t.format),
    }
}

fn trace(rel: &str) -> DecodedTrace {
    let d = decode(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    as_trace(d, rel)
}

fn events(rel: &str) -> (Format, Vec<ErrorEvent>) {
    let d = decode(&read(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    as_events(d, rel)
}

fn expected(scenario: &str) -> Value {
    serde_json::from_slice(&read(&format!("sdk/{scenario}/expected.json"))).expect("expected.json")
}

fn expected_span_count(exp: &Value) -> usize {
    exp["traces"]
        .as_array()
        .expect("traces")
        .iter()
        .map(|t| t["span_count"].as_u64().expect("span_count") as usize)
        .sum()
}

fn hex_opt<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

fn sorted(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by_key(|s| (s.trace_id, s.span_id));
    spans
}

/// The spans of one trace from an SDK scenario's `otlp.json`.
fn sdk_trace(scenario: &str, trace_id: &str) -> Vec<Span> {
    let all = trace(&format!("sdk/{scenario}/otlp.json")).spans;
    all.into_iter()
        .filter(|s| s.trace_id.to_string() == trace_id)
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip write");
    enc.finish().expect("gzip finish")
}

fn one_span(json: &str) -> Span {
    let t = as_trace(decode(json.as_bytes()).expect("decodes"), "inline");
    assert_eq!(t.spans.len(), 1, "{:?}", t.spans);
    t.spans.into_iter().next().expect("one span")
}

/// Wraps span JSON into a minimal OTLP document.
fn otlp(spans: &str) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{spans}]}}]}}]}}"#
    )
}

const IDS: &str = r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174""#;

// ---------------------------------------------------------------------------------------------
// SDK captures
// ---------------------------------------------------------------------------------------------

#[test]
fn sdk_otlp_json_matches_expected_traces() {
    for scenario in SCENARIOS {
        let exp = expected(scenario);
        let t = trace(&format!("sdk/{scenario}/otlp.json"));
        assert_eq!(t.format, Format::OtlpJson, "{scenario}");
        assert_eq!(t.partial, None);
        assert_eq!(t.spans.len(), expected_span_count(&exp), "{scenario}");
        let mut per_trace: BTreeMap<String, usize> = BTreeMap::new();
        for s in &t.spans {
            *per_trace.entry(s.trace_id.to_string()).or_default() += 1;
        }
        for et in exp["traces"].as_array().expect("traces") {
            let id = et["trace_id"].as_str().expect("trace_id");
            assert_eq!(
                per_trace.get(id).copied(),
                et["span_count"].as_u64().map(|n| n as usize),
                "{scenario} trace {id}"
            );
            let services: BTreeSet<&str> = t
                .spans
                .iter()
                .filter(|s| s.trace_id.to_string() == id)
                .map(|s| &*s.service)
                .collect();
            let want: BTreeSet<&str> = et["services"]
                .as_array()
                .expect("services")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert_eq!(services, want, "{scenario} trace {id} services");
        }
        let span_ids: BTreeSet<String> = t.spans.iter().map(|s| s.span_id.to_string()).collect();
        for ev in exp["events"].as_array().expect("events") {
            if ev["span_exported"].as_bool() == Some(true) {
                let id = ev["span_id"].as_str().expect("span_id");
                assert!(span_ids.contains(id), "{scenario}: span {id} of an event");
            }
        }
        // Roots have no parent; every other span's parent is in the data or a remote parent.
        assert!(
            t.spans.iter().any(|s| s.parent_span_id.is_none()),
            "{scenario}: a root"
        );
    }
}

#[test]
fn sdk_otlp_from_protobuf_json_equals_otlp_json() {
    for scenario in SCENARIOS {
        let rel = format!("sdk/{scenario}/otlp-from-protobuf.json");
        if !fixtures().join(&rel).exists() {
            continue;
        }
        let a = sorted(trace(&format!("sdk/{scenario}/otlp.json")).spans);
        let b = sorted(trace(&rel).spans);
        assert_eq!(a.len(), b.len(), "{scenario}");
        assert_eq!(
            a, b,
            "{scenario}: both exporters give the same domain spans"
        );
    }
}

#[test]
fn sdk_otlp_requests_protobuf_and_json_bodies() {
    for scenario in SCENARIOS {
        let dir = format!("sdk/{scenario}/otlp-requests");
        let pbs = files_in(&dir, ".pb");
        if pbs.is_empty() {
            continue;
        }
        let exp = expected(scenario);
        let mut from_pb = Vec::new();
        for pb in &pbs {
            let bytes = std::fs::read(pb).expect("read pb");
            assert_eq!(
                detect(&bytes).ok(),
                Some(Format::OtlpProtobuf),
                "{}",
                pb.display()
            );
            let t =
                decode_otlp_protobuf(&bytes).unwrap_or_else(|e| panic!("{}: {e}", pb.display()));
            assert_eq!(t.format, Format::OtlpProtobuf);
            let auto = as_trace(decode(&bytes).expect("decode"), "pb");
            assert_eq!(auto.spans, t.spans);
            from_pb.extend(t.spans);
        }
        let mut from_json = Vec::new();
        for js in files_in(&dir, ".json") {
            let d = decode(&std::fs::read(&js).expect("read json")).expect("json request");
            from_json.extend(as_trace(d, "json request").spans);
        }
        assert_eq!(from_pb.len(), expected_span_count(&exp), "{scenario}");
        assert_eq!(
            sorted(from_pb),
            sorted(from_json),
            "{scenario}: protobuf = JSON requests"
        );
    }
}

#[test]
fn sdk_sentry_otlp_protobuf_to_sentry() {
    let pbs = files_in("sdk/a1_otlp_integration/sentry-otlp", ".pb");
    assert!(!pbs.is_empty());
    let mut n = 0;
    for pb in pbs {
        let bytes = std::fs::read(&pb).expect("read");
        let t = decode_otlp_protobuf(&bytes).expect("decodes");
        let json_twin = pb.with_extension("json");
        let twin = as_trace(
            decode(&std::fs::read(json_twin).expect("twin")).expect("json"),
            "twin",
        );
        assert_eq!(sorted(t.spans.clone()), sorted(twin.spans));
        n += t.spans.len();
    }
    assert!(n > 0);
}

fn check_event_against_expected(scenario: &str, ev: &ErrorEvent, exp: &Value) {
    let id = exp["event_id"].as_str().expect("event_id");
    let obs = &exp["observed"];
    // contexts.trace
    let tc = &obs["contexts.trace"];
    if tc.is_null() {
        assert!(
            ev.trace_context.is_none(),
            "{scenario} {id}: no contexts.trace"
        );
    } else {
        let got = ev.trace_context.as_ref().expect("trace context");
        assert_eq!(
            hex_opt(got.trace_id),
            tc["trace_id"].as_str().map(str::to_owned),
            "{id}"
        );
        assert_eq!(
            hex_opt(got.span_id),
            tc["span_id"].as_str().map(str::to_owned),
            "{id}"
        );
        assert_eq!(
            hex_opt(got.parent_span_id),
            tc["parent_span_id"].as_str().map(str::to_owned),
            "{id}"
        );
        assert_eq!(got.origin.as_deref(), tc["origin"].as_str(), "{id}");
    }
    // contexts.otel_trace
    let oc = &obs["contexts.otel_trace"];
    if oc.is_null() {
        assert!(ev.otel_context.is_none(), "{scenario} {id}: no otel_trace");
    } else {
        let got = ev.otel_context.as_ref().expect("otel context");
        assert_eq!(
            hex_opt(got.trace_id),
            oc["trace_id"].as_str().map(str::to_owned)
        );
        assert_eq!(
            hex_opt(got.span_id),
            oc["span_id"].as_str().map(str::to_owned)
        );
        assert_eq!(got.service_name.as_deref(), oc["service_name"].as_str());
    }
    // tags
    for (k, v) in obs["tags"].as_object().expect("tags") {
        assert_eq!(ev.tag(k), v.as_str(), "{scenario} {id}: tag {k}");
    }
    // dynamic sampling context from the envelope header
    let dsc = &obs["envelope_header.trace"];
    assert_eq!(
        hex_opt(ev.dsc_trace_id),
        dsc["trace_id"].as_str().map(str::to_owned),
        "{scenario} {id}: DSC"
    );
    // what the error is
    assert_eq!(Some(ev.level.as_str()), exp["level"].as_str(), "{id}");
    match exp["exception_type"].as_str() {
        Some(ty) => {
            let main = ev.main_exception().expect("exception");
            assert_eq!(main.ty.as_deref(), Some(ty), "{id}");
            assert_eq!(main.value.as_deref(), exp["message"].as_str(), "{id}");
            assert_eq!(
                ev.title,
                format!("{ty}: {}", main.value.as_deref().unwrap_or(""))
            );
            assert_eq!(
                main.mechanism.as_ref().and_then(|m| m.kind.as_deref()),
                exp["mechanism"].as_str(),
                "{id}"
            );
            assert!(!main.frames.is_empty(), "{id}: frames");
            assert!(main
                .frames
                .iter()
                .any(|f| f.in_app && f.context_line.is_some()));
        }
        None => {
            assert!(ev.exceptions.is_empty(), "{id}");
            assert_eq!(ev.message.as_deref(), exp["message"].as_str(), "{id}");
            assert_eq!(Some(ev.title.as_str()), exp["message"].as_str(), "{id}");
        }
    }
    assert!(
        ev.timestamp_ns > 1_700_000_000_000_000_000,
        "{id}: timestamp"
    );
    assert!(
        ev.release.as_deref().is_some_and(|r| r.ends_with("@1.4.2")),
        "{id}"
    );
    assert_eq!(ev.environment.as_deref(), Some("demo"));
    assert_eq!(ev.platform.as_deref(), Some("python"));
}

#[test]
fn sdk_sentry_envelopes_match_expected_events() {
    for scenario in SCENARIOS {
        let exp = expected(scenario);
        let mut by_id: BTreeMap<String, ErrorEvent> = BTreeMap::new();
        for env in files_in(&format!("sdk/{scenario}/sentry-envelopes"), ".envelope") {
            let bytes = std::fs::read(&env).expect("read");
            assert_eq!(
                detect(&bytes).ok(),
                Some(Format::SentryEnvelope),
                "{}",
                env.display()
            );
            let (format, evs) = as_events(decode(&bytes).expect("decodes"), "envelope");
            assert_eq!(format, Format::SentryEnvelope);
            let name = env
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.contains("-event-") {
                assert_eq!(evs.len(), 1, "{name}");
            } else {
                // transaction and client_report envelopes are skipped, not errors
                assert!(evs.is_empty(), "{name}");
            }
            for ev in evs {
                let id = ev.event_id.map(|e| e.to_string()).expect("event id");
                assert!(name.contains(&id), "{name} holds event {id}");
                by_id.insert(id, ev);
            }
        }
        let want: BTreeSet<String> = exp["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["event_id"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(
            by_id.keys().cloned().collect::<BTreeSet<_>>(),
            want,
            "{scenario}"
        );
        for e in exp["events"].as_array().expect("events") {
            let id = e["event_id"].as_str().expect("id");
            check_event_against_expected(scenario, &by_id[id], e);
        }
    }
}

#[test]
fn sdk_a2_and_b_carry_the_dsc_trace_id() {
    let (_, evs) = events("sdk/a2_legacy_span_processor/sentry-envelopes/0010-event-e75822423f234dad9beedbab6a607da3.envelope");
    assert_eq!(
        hex_opt(evs[0].dsc_trace_id).as_deref(),
        Some("fa43e32a915b84682ad2835e028db39c")
    );
    let (_, evs) = events("sdk/b_manual_context/sentry-envelopes/0010-event-182c00df4ab44a9ca531f2d7e81156f5.envelope");
    assert_eq!(
        hex_opt(evs[0].dsc_trace_id).as_deref(),
        Some("f931d452341942159dd20cd5e654b6ca")
    );
    let oc = evs[0].otel_context.as_ref().expect("otel_trace");
    assert_eq!(
        hex_opt(oc.trace_id).as_deref(),
        Some("3b05bbdd9ca4a959b02b7bbdedd5130c")
    );
    assert_eq!(evs[0].tag("otel.span_id"), Some("1cbc6263650e709c"));
}

#[test]
fn sdk_plain_event_json_equals_the_envelope_payload() {
    let rel = "sdk/b_manual_context/sentry-envelopes/0011-event-677149818e4749bfa6da932173affaef.envelope";
    let raw = read(rel);
    let payload = raw.split(|b| *b == b'\n').nth(2).expect("payload line");
    assert_eq!(detect(payload).ok(), Some(Format::SentryEventJson));
    let (format, plain) = as_events(decode(payload).expect("plain event"), "plain");
    assert_eq!(format, Format::SentryEventJson);
    let (_, mut from_envelope) = events(rel);
    // Only the envelope header knows the dynamic sampling context.
    assert!(from_envelope[0].dsc_trace_id.is_some());
    from_envelope[0].dsc_trace_id = None;
    assert_eq!(plain, from_envelope);
}

// ---------------------------------------------------------------------------------------------
// Upstream samples
// ---------------------------------------------------------------------------------------------

#[test]
fn upstream_opentelemetry_proto_example() {
    let t = trace("upstream/opentelemetry-proto/trace.json");
    assert_eq!(t.format, Format::OtlpJson);
    let s = &t.spans[0];
    assert_eq!(s.trace_id.to_string(), "5b8efff798038103d269b633813fc60c");
    assert_eq!(
        hex_opt(s.parent_span_id).as_deref(),
        Some("eee19b7ec3c1b173")
    );
    assert_eq!(&*s.service, "my.service");
    assert_eq!(s.scope.as_deref(), Some("my.library"));
    assert_eq!(s.kind, SpanKind::Server);
    assert_eq!(s.duration_ns(), 1_000_000_000);
    assert_eq!(
        s.attr("my.span.attr"),
        Some(&AttrValue::Str("some value".into()))
    );
}

#[test]
fn upstream_jaeger_api_v3_get_trace() {
    let t = trace("upstream/jaeger/api_v3_GetTrace.json");
    assert_eq!(t.format, Format::JaegerV3);
    let s = &t.spans[0];
    assert_eq!(s.trace_id.to_string(), "00000000000000000000000000000001");
    assert_eq!(s.span_id.to_string(), "0000000000000002");
    assert_eq!(
        (s.kind, s.status.code),
        (SpanKind::Server, StatusCode::Error)
    );
    assert_eq!(&*s.service, "unknown_service");
}

#[test]
fn upstream_jaeger_transform_output_matches_its_otlp_input() {
    let input = trace("upstream/jaeger/otlp2jaeger-in.otlp.json");
    let output = trace("upstream/jaeger/otlp2jaeger-out.api_v1_envelope.json");
    assert_eq!(output.format, Format::JaegerV1);
    assert_eq!(input.spans.len(), output.spans.len());
    for (a, b) in input.spans.iter().zip(&output.spans) {
        assert_eq!(
            (a.trace_id, a.span_id, a.parent_span_id),
            (b.trace_id, b.span_id, b.parent_span_id)
        );
        assert_eq!((a.start_ns, a.end_ns), (b.start_ns, b.end_ns));
        assert_eq!((&a.service, &a.name, a.kind), (&b.service, &b.name, b.kind));
        assert_eq!(a.scope, b.scope);
    }
}

#[test]
fn upstream_jaeger_ui_trace_with_references_and_typed_tags() {
    let t = trace("upstream/jaeger/uimodel_ui_01.trace.json");
    assert_eq!(t.format, Format::JaegerV1);
    assert_eq!(t.spans.len(), 5);
    let first = &t.spans[0];
    assert_eq!(
        first.trace_id.to_string(),
        "00000000000000000000000000000001"
    );
    assert_eq!(first.events.len(), 2);
    assert_eq!(first.events[0].name, "some-event");
    assert_eq!(first.events[1].name, "log");
    assert_eq!(first.events[1].attributes, [KeyValue::str("x", "y")]);
    let tagged = &t.spans[1];
    assert_eq!(tagged.status.code, StatusCode::Error, "error=true tag");
    assert_eq!(tagged.attr("peer.ipv4"), Some(&AttrValue::Int(23456)));
    assert_eq!(tagged.attr("temperature"), Some(&AttrValue::Float(72.5)));
    assert_eq!(
        tagged.attr("javascript_limit"),
        Some(&AttrValue::Int(9_223_372_036_854_775_222))
    );
    assert_eq!(
        tagged.attr("blob"),
        Some(&AttrValue::Str("AAAwOQ==".into()))
    );
    assert_eq!(&*tagged.service, "service-x");
    let refs = &t.spans[3];
    assert_eq!(&*refs.name, "reference-test");
    assert_eq!(
        hex_opt(refs.parent_span_id).as_deref(),
        Some("0000000000000002")
    );
    assert_eq!(
        refs.links.len(),
        2,
        "other-trace CHILD_OF and FOLLOWS_FROM become links"
    );
    assert_eq!(
        refs.links[0].trace_id.to_string(),
        "000000000000000000000000000000ff"
    );
    assert_eq!(&*refs.service, "service-y");
}

#[test]
fn upstream_jaeger_memory_store_otlp_with_errors_events_links() {
    let t = trace("upstream/jaeger/memory_otel_traces_01.otlp.json");
    assert_eq!(t.spans.len(), 4);
    for s in &t.spans {
        assert_eq!(s.status.code, StatusCode::Error);
        assert_eq!(s.events.len(), 2);
        assert_eq!(s.links.len(), 2);
        assert_eq!(&*s.service, "service-x");
    }
    let kinds: Vec<SpanKind> = t.spans.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer
        ]
    );
}

#[test]
fn upstream_tempo_batches_test_input() {
    let t = trace("upstream/tempo/tempopb_trace.v1_batches.json");
    assert_eq!(t.format, Format::TempoV1);
    assert_eq!(t.spans.len(), 1);
    assert_eq!(&*t.spans[0].service, "my.service");
}

#[test]
fn upstream_spotlight_envelopes() {
    // PHP: item header without `length`, float timestamp, breadcrumbs with float timestamps.
    let (_, php) = events("upstream/sentry-spotlight/envelope_php_error.txt");
    assert_eq!(php.len(), 1);
    let e = &php[0];
    assert_eq!(e.platform.as_deref(), Some("php"));
    assert_eq!(e.timestamp_ns, 1_701_074_659_818_557_000);
    assert_eq!(
        e.breadcrumbs[0].timestamp_ns,
        Some(1_700_655_103_172_407_000)
    );
    assert!(e
        .trace_context
        .as_ref()
        .is_some_and(|t| t.trace_id.is_some() && t.span_id.is_some()));
    assert_eq!(
        hex_opt(e.dsc_trace_id).as_deref(),
        Some("8de90173d2384222a69492908d2e0649")
    );
    assert_eq!(
        e.project.as_deref(),
        Some("4505549139935232"),
        "project id from the DSN"
    );
    // Android: session and attachment items are skipped; ISO timestamp.
    let (_, java) =
        events("upstream/sentry-spotlight/application_x_sentry_envelope-1706290053204.txt");
    assert_eq!(java.len(), 1);
    assert_eq!(java[0].timestamp_ns, 1_706_290_051_414_000_000);
    assert_eq!(
        java[0].title,
        "RuntimeException: Uncaught Exception from Java."
    );
    // Angular: `{"type":"event"}` item header with no length.
    let (_, ng) = events("upstream/sentry-spotlight/envelope_angular.txt");
    assert_eq!(ng.len(), 1);
    assert!(
        ng[0].title.starts_with("Error: Http failure response"),
        "{}",
        ng[0].title
    );
    // Java message event: `message` is an object; the title is the formatted message.
    let (_, msg) = events("upstream/sentry-spotlight/envelope_java_formatted_message.txt");
    assert_eq!(
        msg[0].title,
        "Started SentryDemoApplication in 2.652 seconds (process running for 2.796)"
    );
    assert!(msg[0].exceptions.is_empty());
    // Python transaction only: no error events.
    let (_, tx) = events("upstream/sentry-spotlight/envelope_python.txt");
    assert!(tx.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Our fixtures in upstream shapes (tests/fixtures/formats, made from the SDK captures)
// ---------------------------------------------------------------------------------------------

const D2_TRACE: &str = "dc663458cb5f811324ea1b4570b82e0c";

#[test]
fn tempo_v1_gogo_jsonpb_equals_the_sdk_spans() {
    let t = trace("formats/tempo-v1.d2-inventory.json");
    assert_eq!(t.format, Format::TempoV1);
    assert_eq!(t.partial, None);
    let want = sorted(sdk_trace("d_dedupe_record_exception", D2_TRACE));
    assert_eq!(want.len(), 9);
    assert_eq!(
        sorted(t.spans),
        want,
        "base64 ids and enum names decode to the same spans"
    );
}

#[test]
fn tempo_v1_legacy_instrumentation_library_spans() {
    let t = trace("formats/tempo-v1.legacy-instrumentation-library.json");
    assert_eq!(t.format, Format::TempoV1);
    let want = sorted(sdk_trace("d_dedupe_record_exception", D2_TRACE));
    assert_eq!(sorted(t.spans), want);
}

#[test]
fn tempo_v2_partial_trace() {
    let t = trace("formats/tempo-v2.partial.json");
    assert_eq!(t.format, Format::TempoV2);
    assert_eq!(t.spans.len(), 10);
    assert_eq!(
        t.partial.as_deref(),
        Some("Trace exceeds maximum size of 5000000 bytes, a partial trace is returned")
    );
    let all = sdk_trace(
        "d_dedupe_record_exception",
        "161a70caf10a2da99cc5714755c7eab3",
    );
    for s in &t.spans {
        assert!(all.contains(s), "span {} as in the SDK capture", s.span_id);
    }
}

#[test]
fn tempo_v2_empty_trace_is_zero_spans() {
    let t = trace("formats/tempo-v2.empty.json");
    assert_eq!(t.format, Format::TempoV2);
    assert!(t.spans.is_empty());
    assert_eq!(t.partial, None);
}

#[test]
fn jaeger_v1_from_sdk_spans() {
    let t = trace("formats/jaeger-v1.d2-inventory.json");
    assert_eq!(t.format, Format::JaegerV1);
    let want = sorted(sdk_trace("d_dedupe_record_exception", D2_TRACE));
    let got = sorted(t.spans);
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        let id = w.span_id;
        assert_eq!(
            (g.trace_id, g.span_id, g.parent_span_id),
            (w.trace_id, w.span_id, w.parent_span_id)
        );
        assert_eq!(
            (&g.service, &g.name, g.kind),
            (&w.service, &w.name, w.kind),
            "{id}"
        );
        assert_eq!(
            g.status, w.status,
            "{id}: status from otel.status_code/error + description"
        );
        assert_eq!(g.scope, w.scope, "{id}");
        assert_eq!(g.start_ns, w.start_ns / 1_000 * 1_000, "{id}: µs precision");
        assert_eq!(g.attributes, w.attributes, "{id}: special tags consumed");
        assert_eq!(g.events.len(), w.events.len(), "{id}");
        for (ge, we) in g.events.iter().zip(&w.events) {
            assert_eq!(ge.name, we.name);
            assert_eq!(ge.attributes, we.attributes);
        }
        assert_eq!(
            g.resource.len(),
            w.resource.len(),
            "{id}: process tags + service.name"
        );
    }
    assert!(got
        .iter()
        .any(|s| s.events.iter().any(|e| e.name == "exception")));
}

#[test]
fn sentry_web_event_equals_the_envelope_event() {
    let web = decode_sentry_web_event(&read("formats/sentry-web.d2-inventory.json")).expect("web");
    let (_, env) = events("sdk/d_dedupe_record_exception/sentry-envelopes/0002-event-791753e0f0b348148b243fa1bd2c2925.envelope");
    let env = &env[0];
    assert_eq!(web.event_id, env.event_id);
    assert_eq!(web.issue_id.as_deref(), Some("6012345002"));
    assert_eq!(web.project.as_deref(), Some("inventory"));
    assert_eq!(web.title, env.title);
    assert_eq!(web.culprit, env.culprit);
    assert_eq!(web.level, env.level);
    assert_eq!(
        web.timestamp_ns, env.timestamp_ns,
        "dateCreated with microseconds"
    );
    assert_eq!(web.release, env.release, "release object's version");
    assert_eq!(web.environment, env.environment);
    assert_eq!(web.server_name, env.server_name);
    assert_eq!(web.platform, env.platform);
    assert_eq!(web.trace_context, env.trace_context);
    assert_eq!(
        web.exceptions, env.exceptions,
        "camelCase frames, context split by lineNo"
    );
    assert_eq!(web.tag("transaction"), Some("GET /stock/SKU-42"));
    // decode() detects the shape too
    let (format, evs) = events("formats/sentry-web.d2-inventory.json");
    assert_eq!(format, Format::SentryWebEvent);
    assert_eq!(evs.len(), 1);
}

#[test]
fn sentry_web_log_event_uses_the_message_entry() {
    let web =
        decode_sentry_web_event(&read("formats/sentry-web.e5-checkout-log.json")).expect("web");
    let (_, env) = events("sdk/e_nasty_multi_error/sentry-envelopes/0004-event-4127dcbcc46d4f4cb6dc352122c8bd38.envelope");
    assert_eq!(web.title, env[0].title);
    assert_eq!(web.message, env[0].message);
    assert_eq!(
        web.title,
        "order ord-3001 confirmation took 1834 ms (SLO 500 ms)"
    );
    assert_eq!(web.trace_context, env[0].trace_context);
    assert_eq!(web.timestamp_ns, env[0].timestamp_ns);
}

// ---------------------------------------------------------------------------------------------
// Quirks, one named test each
// ---------------------------------------------------------------------------------------------

#[test]
fn quirk_otlp_hex_ids_any_case() {
    let upper = one_span(&otlp(
        r#"{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"EeE19b7eC3C1B173"}"#,
    ));
    let lower = one_span(&otlp(
        r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173"}"#,
    ));
    assert_eq!(
        (upper.trace_id, upper.span_id, upper.parent_span_id),
        (lower.trace_id, lower.span_id, lower.parent_span_id)
    );
}

#[test]
fn quirk_otlp_int64_as_string_or_number() {
    let s = one_span(&otlp(&format!(
        r#"{{{IDS},"startTimeUnixNano":"1795259463172556539","endTimeUnixNano":1795259463175169061,
          "events":[{{"timeUnixNano":1795259463173000000,"name":"e"}}],
          "attributes":[{{"key":"a","value":{{"intValue":"8080"}}}},{{"key":"b","value":{{"intValue":8080}}}}]}}"#
    )));
    assert_eq!(s.start_ns, 1_795_259_463_172_556_539);
    assert_eq!(s.end_ns, 1_795_259_463_175_169_061);
    assert_eq!(s.events[0].time_ns, 1_795_259_463_173_000_000);
    assert_eq!(s.attr("a"), s.attr("b"));
}

#[test]
fn quirk_otlp_enum_ints_or_names() {
    let by_int = one_span(&otlp(&format!(
        r#"{{{IDS},"kind":3,"status":{{"code":2,"message":"m"}}}}"#
    )));
    let by_name = one_span(&otlp(&format!(
        r#"{{{IDS},"kind":"SPAN_KIND_CLIENT","status":{{"code":"STATUS_CODE_ERROR","message":"m"}}}}"#
    )));
    assert_eq!(by_int.kind, SpanKind::Client);
    assert_eq!(by_int.status.code, StatusCode::Error);
    assert_eq!(by_int, by_name);
}

#[test]
fn quirk_otlp_empty_status() {
    let s = one_span(&otlp(&format!(r#"{{{IDS},"status":{{}}}}"#)));
    assert_eq!(s.status.code, StatusCode::Unset);
    assert_eq!(s.status.message, None);
    let missing = one_span(&otlp(&format!("{{{IDS}}}")));
    assert_eq!(missing.status, s.status);
}

#[test]
fn quirk_otlp_root_parent_absent_or_empty() {
    let absent = one_span(&otlp(&format!("{{{IDS}}}")));
    let empty = one_span(&otlp(&format!(r#"{{{IDS},"parentSpanId":""}}"#)));
    let null = one_span(&otlp(&format!(r#"{{{IDS},"parentSpanId":null}}"#)));
    assert_eq!(absent.parent_span_id, None);
    assert_eq!(empty.parent_span_id, None);
    assert_eq!(null.parent_span_id, None);
}

#[test]
fn quirk_otlp_scope_spans_or_instrumentation_library_spans() {
    let new = format!(
        r#"{{"resourceSpans":[{{"scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{{{IDS}}}]}}]}}]}}"#
    );
    let old = format!(
        r#"{{"resourceSpans":[{{"instrumentationLibrarySpans":[{{"instrumentationLibrary":{{"name":"lib"}},"spans":[{{{IDS}}}]}}]}}]}}"#
    );
    let a = one_span(&new);
    let b = one_span(&old);
    assert_eq!(a, b);
    assert_eq!(b.scope.as_deref(), Some("lib"));
}

#[test]
fn quirk_otlp_any_value_arrays_kvlists_bytes() {
    let s = one_span(&otlp(&format!(
        r#"{{{IDS},"attributes":[
          {{"key":"arr","value":{{"arrayValue":{{"values":[{{"stringValue":"a"}},{{"boolValue":false}},{{"doubleValue":0.5}}]}}}}}},
          {{"key":"kv","value":{{"kvlistValue":{{"values":[{{"key":"x","value":{{"intValue":"1"}}}},{{"key":"y","value":{{"stringValue":"z"}}}}]}}}}}},
          {{"key":"bytes","value":{{"bytesValue":"3q2+7w=="}}}},
          {{"key":"empty_array","value":{{"arrayValue":{{}}}}}}
        ]}}"#
    )));
    assert_eq!(
        s.attr("arr"),
        Some(&AttrValue::Array(vec![
            AttrValue::Str("a".into()),
            AttrValue::Bool(false),
            AttrValue::Float(0.5)
        ]))
    );
    assert_eq!(s.attr("kv"), Some(&AttrValue::Str("{x=1, y=z}".into())));
    assert_eq!(s.attr("bytes"), Some(&AttrValue::Str("3q2+7w==".into())));
    assert_eq!(s.attr("empty_array"), Some(&AttrValue::Array(Vec::new())));
}

#[test]
fn quirk_otlp_base64_ids_from_tempo_or_message_to_dict() {
    // 24-character base64 for 16 bytes, 12-character for 8 bytes.
    let b64 = one_span(&otlp(
        r#"{"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","parentSpanId":"7uGbfsPBsXM="}"#,
    ));
    let hex = one_span(&otlp(
        r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","parentSpanId":"eee19b7ec3c1b173"}"#,
    ));
    assert_eq!(
        (b64.trace_id, b64.span_id, b64.parent_span_id),
        (hex.trace_id, hex.span_id, hex.parent_span_id)
    );
}

#[test]
fn quirk_otlp_service_name_fallback() {
    let doc = format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}}"#);
    assert_eq!(&*one_span(&doc).service, "unknown_service");
    assert_eq!(&*one_span(&otlp(&format!("{{{IDS}}}"))).service, "svc");
}

#[test]
fn quirk_otlp_json_lines() {
    let one = otlp(&format!("{{{IDS}}}"));
    let t = as_trace(
        decode(format!("{one}\n{one}\n").as_bytes()).expect("jsonl"),
        "jsonl",
    );
    assert_eq!(t.spans.len(), 2);
}

#[test]
fn quirk_utf8_byte_order_mark_is_skipped() {
    let doc = otlp(&format!("{{{IDS}}}"));
    let with_bom = [&b"\xEF\xBB\xBF"[..], doc.as_bytes()].concat();
    assert_eq!(detect(&with_bom).ok(), Some(Format::OtlpJson));
    assert_eq!(
        one_span(&doc),
        as_trace(decode(&with_bom).expect("bom"), "bom").spans[0]
    );
}

#[test]
fn quirk_unreadable_link_ids_drop_the_link_not_the_span() {
    let s = one_span(&otlp(&format!(
        r#"{{{IDS},"links":[{{"traceId":"","spanId":"eee19b7ec3c1b174"}},{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","attributes":[{{"key":"k","value":{{"stringValue":"v"}}}}]}}]}}"#
    )));
    assert_eq!(s.links.len(), 1);
    assert_eq!(s.links[0].span_id.to_string(), "eee19b7ec3c1b175");
    assert_eq!(s.links[0].attributes, [KeyValue::str("k", "v")]);
}

#[test]
fn quirk_tempo_v2_status_and_message() {
    let body = format!(
        r#"{{"trace":{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}},"status":"PARTIAL","message":"q filtered spans"}}"#
    );
    let t = as_trace(decode(body.as_bytes()).expect("v2"), "v2");
    assert_eq!(t.format, Format::TempoV2);
    assert_eq!(t.partial.as_deref(), Some("q filtered spans"));
    let complete = format!(
        r#"{{"trace":{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{{IDS}}}]}}]}}]}},"metrics":{{}}}}"#
    );
    assert_eq!(
        as_trace(decode(complete.as_bytes()).expect("v2"), "v2").partial,
        None
    );
}

#[test]
fn quirk_jaeger_v1_list_single_trace_and_envelope() {
    let one = String::from_utf8(read("upstream/jaeger/uimodel_ui_01.trace.json")).expect("utf8");
    for body in [
        format!("[{one}]"),
        one.clone(),
        format!(r#"{{"data":[{one}]}}"#),
    ] {
        let t = as_trace(decode(body.as_bytes()).expect("jaeger"), "jaeger");
        assert_eq!(t.format, Format::JaegerV1);
        assert_eq!(t.spans.len(), 5);
    }
}

#[test]
fn quirk_jaeger_v1_64bit_trace_id_left_padded() {
    let t = trace("upstream/jaeger/uimodel_ui_01.trace.json");
    assert!(t
        .spans
        .iter()
        .all(|s| s.trace_id.to_string() == "00000000000000000000000000000001"));
}

#[test]
fn quirk_jaeger_v1_error_tag_logs_and_process_tags() {
    let body = r#"{"data":[{"traceID":"83a9efd15c1c98a977e0711cc93ee28b","spans":[
      {"traceID":"83a9efd15c1c98a977e0711cc93ee28b","spanID":"e127af99e3b3e074","operationName":"charge",
       "references":[],"startTime":1706678909209712,"duration":123,
       "tags":[{"key":"otel.status_code","type":"string","value":"ERROR"},{"key":"error","type":"bool","value":true},
               {"key":"otel.status_description","type":"string","value":"card declined"},
               {"key":"span.kind","type":"string","value":"client"}],
       "logs":[{"timestamp":1706678909209800,"fields":[{"key":"event","type":"string","value":"exception"},
               {"key":"exception.type","type":"string","value":"CardDeclined"},
               {"key":"exception.message","type":"string","value":"card declined"}]}],
       "processID":"p1","warnings":null}],
      "processes":{"p1":{"serviceName":"payments","tags":[{"key":"host.name","type":"string","value":"payments-host"}]}}}]}"#;
    let t = as_trace(decode(body.as_bytes()).expect("jaeger"), "jaeger");
    let s = &t.spans[0];
    assert_eq!(s.status.code, StatusCode::Error);
    assert_eq!(s.status.message.as_deref(), Some("card declined"));
    assert_eq!(s.kind, SpanKind::Client);
    assert!(s.attributes.is_empty());
    assert_eq!(s.events[0].name, "exception");
    assert_eq!(s.events[0].time_ns, 1_706_678_909_209_800_000);
    assert_eq!(
        s.events[0].attributes[0],
        KeyValue::str("exception.type", "CardDeclined")
    );
    assert_eq!(&*s.service, "payments");
    assert_eq!(
        *s.resource,
        [
            KeyValue::str("service.name", "payments"),
            KeyValue::str("host.name", "payments-host")
        ]
    );
    assert_eq!(s.end_ns - s.start_ns, 123_000);
}

#[test]
fn quirk_envelope_length_present_or_absent() {
    let payload = r#"{"exception":{"values":[{"type":"E","value":"v"}]}}"#;
    let with = format!(
        "{{}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    );
    let without = format!("{{}}\n{{\"type\":\"event\"}}\n{payload}");
    let (_, a) = as_events(decode(with.as_bytes()).expect("with"), "with");
    let (_, b) = as_events(decode(without.as_bytes()).expect("without"), "without");
    assert_eq!(a, b);
    assert_eq!(a[0].title, "E: v");
}

#[test]
fn quirk_envelope_non_event_items_skipped() {
    let text = "{\"event_id\":\"9353246b542f4a3191adb238f3d602ba\"}\n\
        {\"type\":\"attachment\",\"length\":7,\"filename\":\"a.bin\"}\n\x00\x01\n{}\n\x02\n\
        {\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n\
        {\"type\":\"transaction\",\"length\":2}\n{}\n\
        {\"type\":\"event\"}\n{\"message\":\"hello\"}\n";
    let (_, evs) = as_events(decode(text.as_bytes()).expect("decodes"), "env");
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].title, "hello");
    assert_eq!(
        hex_opt(evs[0].event_id).as_deref(),
        Some("9353246b542f4a3191adb238f3d602ba"),
        "header event id fills in"
    );
}

#[test]
fn quirk_event_tags_object_or_list_of_pairs() {
    let a = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"tags":{"transaction_id":"txn-1"}}"#,
        )
        .expect("obj"),
        "a",
    )
    .1;
    let b = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"tags":[["transaction_id","txn-1"]]}"#,
        )
        .expect("list"),
        "b",
    )
    .1;
    assert_eq!(a[0].tags, b[0].tags);
    assert_eq!(a[0].tag("transaction_id"), Some("txn-1"));
}

#[test]
fn quirk_event_breadcrumbs_values_or_list_float_or_iso() {
    let a = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"breadcrumbs":{"values":[{"timestamp":1592432815.266586,"message":"m"}]}}"#,
        )
        .expect("values"),
        "a",
    )
    .1;
    let b = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"breadcrumbs":[{"timestamp":"2020-06-17T22:26:55.266586Z","message":"m"}]}"#,
        )
        .expect("list"),
        "b",
    )
    .1;
    assert_eq!(a[0].breadcrumbs, b[0].breadcrumbs);
    assert_eq!(
        a[0].breadcrumbs[0].timestamp_ns,
        Some(1_592_432_815_266_586_000)
    );
}

#[test]
fn quirk_event_timestamp_float_or_iso() {
    let a = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"timestamp":1795259371.512345}"#,
        )
        .expect("f"),
        "a",
    )
    .1;
    let b = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"timestamp":"2026-11-21T11:09:31.512345Z"}"#,
        )
        .expect("s"),
        "b",
    )
    .1;
    assert_eq!(a[0].timestamp_ns, 1_795_259_371_512_345_000);
    assert_eq!(a[0].timestamp_ns, b[0].timestamp_ns);
}

#[test]
fn quirk_event_dashed_uuid_event_id() {
    let evs = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"event_id":"791753E0-F0B3-4814-8B24-3A1BD2C2925F"}"#,
        )
        .expect("d"),
        "d",
    )
    .1;
    assert_eq!(
        hex_opt(evs[0].event_id).as_deref(),
        Some("791753e0f0b348148b243a1bd2c2925f")
    );
}

#[test]
fn quirk_event_invalid_trace_context_ids_are_ignored() {
    let evs = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"contexts":{"trace":{"trace_id":"not-a-trace","span_id":"0000000000000000","op":"http.server"}}}"#,
        )
        .expect("decodes"),
        "e",
    )
    .1;
    let tc = evs[0].trace_context.as_ref().expect("kept");
    assert_eq!((tc.trace_id, tc.span_id), (None, None));
    assert_eq!(tc.op.as_deref(), Some("http.server"));
}

#[test]
fn quirk_event_title_sentry_style() {
    let chained = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"exception":{"values":[{"type":"KeyError","value":"'sku'"},{"type":"GatewayTimeout","value":"upstream timed out"}]}}"#,
        )
        .expect("decodes"),
        "c",
    )
    .1;
    assert_eq!(
        chained[0].title, "GatewayTimeout: upstream timed out",
        "the last value is the main one"
    );
    let log = as_events(
        decode_as(
            Format::SentryEventJson,
            br#"{"logentry":{"formatted":"order ord-1 slow"}}"#,
        )
        .expect("l"),
        "l",
    )
    .1;
    assert_eq!(log[0].title, "order ord-1 slow");
}

#[test]
fn quirk_web_release_string_or_object() {
    let s = decode_sentry_web_event(
        br#"{"eventID":"9fac2ceed9344f2bbfdd1fdacb0ed9b1","release":"shop@1.0"}"#,
    )
    .expect("s");
    let o = decode_sentry_web_event(br#"{"eventID":"9fac2ceed9344f2bbfdd1fdacb0ed9b1","release":{"version":"shop@1.0","dateCreated":"2020-06-17T18:45:31.042157Z"}}"#).expect("o");
    assert_eq!(s.release.as_deref(), Some("shop@1.0"));
    assert_eq!(s.release, o.release);
}

#[test]
fn quirk_web_context_lines_split_by_line_number() {
    let ev = decode_sentry_web_event(
        br#"{"eventID":"9fac2ceed9344f2bbfdd1fdacb0ed9b1","entries":[{"type":"exception","data":{"values":[{"type":"E","value":"v",
          "stacktrace":{"frames":[{"function":"f","lineNo":71,"colNo":23,"inApp":false,"absPath":"webpack:///h.js",
            "context":[[66,"a"],[70,"b"],[71,"c"],[72,"d"],[76,"e"]]}]}}]}}]}"#,
    )
    .expect("decodes");
    let f = &ev.exceptions[0].frames[0];
    assert_eq!(f.pre_context, ["a", "b"]);
    assert_eq!(f.context_line.as_deref(), Some("c"));
    assert_eq!(f.post_context, ["d", "e"]);
    assert_eq!((f.lineno, f.colno, f.in_app), (Some(71), Some(23), false));
}

#[test]
fn quirk_web_tags_list_give_level_and_environment() {
    let ev = decode_sentry_web_event(
        br#"{"eventID":"9fac2ceed9344f2bbfdd1fdacb0ed9b1","dateCreated":"2020-06-17T22:26:56.098086Z",
            "tags":[{"key":"environment","value":"prod"},{"key":"level","value":"warning"}]}"#,
    )
    .expect("decodes");
    assert_eq!(ev.environment.as_deref(), Some("prod"));
    assert_eq!(ev.level, "warning");
    assert_eq!(ev.timestamp_ns, 1_592_432_816_098_086_000);
}

#[test]
fn gzip_is_accepted_everywhere() {
    let raw = read("sdk/a1_otlp_integration/otlp.json");
    let gz = gzip(&raw);
    let a = as_trace(decode(&raw).expect("raw"), "raw");
    let b = as_trace(decode(&gz).expect("gz"), "gz");
    assert_eq!(a, b);
    let c = as_trace(decode_as(Format::OtlpJson, &gz).expect("gz as"), "gz as");
    assert_eq!(a, c);
    let pb = read("sdk/a1_otlp_integration/otlp-requests/0004-proto.pb");
    assert_eq!(
        decode_otlp_protobuf(&gzip(&pb)).expect("pb gz"),
        decode_otlp_protobuf(&pb).expect("pb")
    );
    let env = read("sdk/a2_legacy_span_processor/sentry-envelopes/0010-event-e75822423f234dad9beedbab6a607da3.envelope");
    assert_eq!(
        decode(&gzip(&env)).expect("env gz"),
        decode(&env).expect("env")
    );
    let web = read("formats/sentry-web.d2-inventory.json");
    assert_eq!(
        decode_sentry_web_event(&gzip(&web)).expect("web gz"),
        decode_sentry_web_event(&web).expect("web")
    );
}

#[test]
fn decode_as_skips_sniffing() {
    // An OTLP document read as Tempo v1 (the `batches` alias accepts `resourceSpans` too).
    let raw = read("upstream/opentelemetry-proto/trace.json");
    let t = as_trace(
        decode_as(Format::TempoV1, &raw).expect("as tempo"),
        "as tempo",
    );
    assert_eq!(t.format, Format::TempoV1);
    assert_eq!(t.spans.len(), 1);
    // A Jaeger body read as OTLP has no resourceSpans: zero spans, no error.
    let j = as_trace(
        decode_as(
            Format::OtlpJson,
            &read("upstream/jaeger/uimodel_ui_01.trace.json"),
        )
        .expect("as otlp"),
        "x",
    );
    assert!(j.spans.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_invalid_json_names_line_and_column() {
    let mut bad = read("sdk/a1_otlp_integration/otlp.json");
    // Break the document on line 3 by replacing its first `[` with `?`.
    let pos = bad.iter().position(|b| *b == b'[').expect("a list");
    bad[pos] = b'?';
    let err = decode(&bad).expect_err("broken");
    match &err {
        FormatError::Json {
            line,
            column,
            syntax,
            ..
        } => {
            assert!(*syntax);
            assert_eq!((*line, *column), (2, 19));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "invalid JSON at line 2, column 19 (reading OTLP JSON): expected value"
    );
    let err = decode(b"{\"foo\": [1, 2,, 3]}").expect_err("syntax");
    assert_eq!(
        err.to_string(),
        "invalid JSON at line 1, column 15: expected value"
    );
}

#[test]
fn malformed_wrong_shape_names_position() {
    let err = decode(otlp(r#"{"traceId":"xyz","spanId":"eee19b7ec3c1b174"}"#).as_bytes())
        .expect_err("bad id");
    let text = err.to_string();
    assert!(
        text.starts_with("unexpected OTLP JSON content at line 1, column "),
        "{text}"
    );
    assert!(text.contains(r#"trace id "xyz" is neither hex"#), "{text}");
    let err = decode(otlp(r#"{"spanId":"eee19b7ec3c1b174"}"#).as_bytes()).expect_err("missing");
    assert!(err.to_string().contains("missing field `traceId`"), "{err}");
}

#[test]
fn malformed_unknown_shape_lists_accepted_formats() {
    let err = decode(&read("sdk/a1_otlp_integration/expected.json")).expect_err("unknown");
    let text = err.to_string();
    assert!(matches!(err, FormatError::UnknownFormat { .. }));
    assert!(
        text.starts_with(
            r#"unknown format: found a JSON object with keys "scenario", "description""#
        ),
        "{text}"
    );
    for f in Format::ALL {
        assert!(text.contains(f.name()), "lists {f}: {text}");
    }
}

#[test]
fn malformed_truncated_gzip() {
    let gz = gzip(&read("sdk/a1_otlp_integration/otlp.json"));
    let err = decode(&gz[..gz.len() / 2]).expect_err("truncated");
    assert!(matches!(err, FormatError::Gzip(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("gzip data is truncated or corrupt: "),
        "{err}"
    );
    let err = decode(&[0x1f, 0x8b, 0x08]).expect_err("header only");
    assert!(matches!(err, FormatError::Gzip(_)));
}

#[test]
fn malformed_empty_file() {
    for bytes in [&b""[..], b"   \n\t ", b"\xEF\xBB\xBF\n"] {
        let err = decode(bytes).expect_err("empty");
        assert!(matches!(err, FormatError::Empty), "{err:?}");
        assert_eq!(err.to_string(), "the input is empty");
        assert!(matches!(
            decode_as(Format::OtlpJson, bytes),
            Err(FormatError::Empty)
        ));
    }
    assert!(matches!(decode(&gzip(b"")), Err(FormatError::Empty)));
}

#[test]
fn malformed_truncated_envelope_and_protobuf() {
    let env = read("sdk/a1_otlp_integration/sentry-envelopes/0002-event-d16af5b2a92045b69b74581fc624615c.envelope");
    let err = decode(&env[..env.len() - 100]).expect_err("truncated envelope");
    assert!(
        err.to_string()
            .contains("line 2: item \"event\" declares length"),
        "{err}"
    );
    let pb = read("sdk/a1_otlp_integration/otlp-requests/0004-proto.pb");
    let err = decode_otlp_protobuf(&pb[..pb.len() - 10]).expect_err("truncated protobuf");
    assert!(
        err.to_string().starts_with("invalid OTLP protobuf"),
        "{err}"
    );
}

/// A trace repeats its services, span names and attribute values on thousands of spans: each
/// decoder keeps one copy of each per payload (and the payload's table goes with the decode).
#[test]
fn repeated_services_names_and_values_are_one_copy_per_payload() {
    use std::sync::Arc;
    use tracepin::domain::AttrValue;
    let span = |id: &str| {
        format!(
            r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{id}","name":"SELECT orders","attributes":[{{"key":"db.system","value":{{"stringValue":"postgresql"}}}}]}}"#
        )
    };
    let doc = otlp(&format!(
        "{},{}",
        span("eee19b7ec3c1b174"),
        span("eee19b7ec3c1b175")
    ));
    let jaeger = r#"{"data":[{"traceID":"5b8efff798038103d269b633813fc60c","spans":[
        {"traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b174","operationName":"SELECT orders","processID":"p1","startTime":1,"duration":1,"tags":[{"key":"db.system","type":"string","value":"postgresql"}]},
        {"traceID":"5b8efff798038103d269b633813fc60c","spanID":"eee19b7ec3c1b175","operationName":"SELECT orders","processID":"p1","startTime":1,"duration":1,"tags":[{"key":"db.system","type":"string","value":"postgresql"}]}],
        "processes":{"p1":{"serviceName":"svc","tags":[]}}}]}"#;
    for (what, payload) in [("OTLP JSON", doc.as_str()), ("Jaeger v1", jaeger)] {
        let t = as_trace(decode(payload.as_bytes()).expect("decodes"), what);
        let [a, b] = &t.spans[..] else {
            panic!("{what}: two spans, got {:?}", t.spans)
        };
        assert_eq!((&*a.name, &*a.service), ("SELECT orders", "svc"), "{what}");
        assert!(Arc::ptr_eq(&a.service, &b.service), "{what}: service");
        assert!(Arc::ptr_eq(&a.name, &b.name), "{what}: name");
        match (a.attr("db.system"), b.attr("db.system")) {
            (Some(AttrValue::Str(x)), Some(AttrValue::Str(y))) => {
                assert_eq!(&**x, "postgresql");
                assert!(Arc::ptr_eq(x, y), "{what}: value");
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    // Two payloads do not share: nothing is kept once a decode ends.
    let first = as_trace(decode(doc.as_bytes()).expect("decodes"), "first");
    let second = as_trace(decode(doc.as_bytes()).expect("decodes"), "second");
    assert!(!Arc::ptr_eq(&first.spans[0].name, &second.spans[0].name));
}
