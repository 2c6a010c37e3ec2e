//! The waterfall filter grammar: `view::filter::Filter::parse` and `parse_duration` on any text, and
//! the parsed filter matched against a few spans. Parsing never fails, so every piece of the text
//! becomes a term or a problem; an empty filter matches nothing in particular.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

use tracepin::domain::{KeyValue, Span, SpanKind, SpanStatus, StatusCode};
use tracepin::view::filter::{parse_duration, Filter};

fn spans() -> Vec<Span> {
    let ok = Span {
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736"
            .parse()
            .expect("trace id"),
        span_id: "00f067aa0ba902b7".parse().expect("span id"),
        parent_span_id: None,
        service: "inventory".into(),
        name: "GET /stock".into(),
        kind: SpanKind::Server,
        start_ns: 1_000,
        end_ns: 101_000_000,
        status: SpanStatus::default(),
        attributes: tracepin::domain::thin_vec![
            KeyValue::str("http.route", "/stock"),
            KeyValue::str("sku", "SKU-42"),
        ],
        events: tracepin::domain::ThinVec::new(),
        links: tracepin::domain::ThinVec::new(),
        resource: Arc::from(vec![KeyValue::str("service.name", "inventory")]),
        scope: None,
    };
    let failed = Span {
        status: SpanStatus {
            code: StatusCode::Error,
            message: Some("only 0 of 1 units".to_owned()),
        },
        ..ok.clone()
    };
    let backwards = Span {
        start_ns: u64::MAX,
        end_ns: 0,
        ..ok.clone()
    };
    vec![ok, failed, backwards]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_duration(text);
    let f = Filter::parse(text);
    if text.trim().is_empty() {
        assert!(
            f.is_empty() && f.problems.is_empty(),
            "blank text parsed to {f:?}"
        );
    }
    for span in spans() {
        let matched = f.matches(&span);
        assert!(!(matched && f.is_empty()), "an empty filter matched");
    }
});
