//! The recogniser's tables of real-shaped inputs and refusals, and its property tests.

use super::values::parse_trace_id;
use super::*;
use proptest::prelude::*;

const T32: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const S16: &str = "00f067aa0ba902b7";
const E32: &str = "0af7651916cd43dd8448eb211c80319c";
const J16: &str = "a3ce929d0e0e4736";

fn tid(s: &str) -> TraceId {
    parse_trace_id(s).expect("test trace id")
}
fn sid(s: &str) -> SpanId {
    s.parse().expect("test span id")
}
fn eid(s: &str) -> EventId {
    s.parse().expect("test event id")
}
fn tr(t: &str) -> Lookup {
    trace(tid(t), None, None)
}
fn trs(t: &str, s: &str) -> Lookup {
    trace(tid(t), Some(sid(s)), None)
}
fn tre(t: &str, s: Option<&str>, e: &str) -> Lookup {
    trace(tid(t), s.map(sid), Some(eid(e)))
}
fn either(id: &str) -> Lookup {
    Lookup::TraceOrEvent { id: id.to_owned() }
}
fn ev(e: &str, issue: Option<&str>) -> Lookup {
    Lookup::Event {
        event_id: eid(e),
        issue_id: issue.map(str::to_owned),
    }
}
fn issue(i: &str) -> Lookup {
    Lookup::Issue {
        issue_id: i.to_owned(),
    }
}
fn short(s: &str) -> Lookup {
    Lookup::ShortId {
        short_id: s.to_owned(),
    }
}
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn grafana_panes(span: bool) -> String {
    let panel = if span {
        format!(r#","panelsState":{{"trace":{{"spanId":"{S16}"}}}}"#)
    } else {
        String::new()
    };
    let json = format!(
        r#"{{"x7f":{{"datasource":"tempo-uid","queries":[{{"refId":"A","datasource":{{"type":"tempo","uid":"tempo-uid"}},"queryType":"traceql","query":"{{ status = error }}"}},{{"refId":"B","datasource":{{"type":"tempo","uid":"tempo-uid"}},"queryType":"traceql","query":"{T32}"}}],"range":{{"from":"now-1h","to":"now"}}{panel}}}}}"#
    );
    format!(
        "https://grafana.example.com/explore?schemaVersion=1&panes={}&orgId=1",
        enc(&json)
    )
}

fn ok_cases() -> Vec<(String, Lookup, Form)> {
    let t32_upper = T32.to_ascii_uppercase();
    let tp = format!("00-{T32}-{S16}-01");
    let s = |x: &str| x.to_owned();
    vec![
        // bare 32 hex, with noise
        (s(T32), either(T32), Form::HexId32),
        (format!("  {T32}\n"), either(T32), Form::HexId32),
        (t32_upper.clone(), either(T32), Form::HexId32),
        (format!("\"{T32}\""), either(T32), Form::HexId32),
        (format!("'{T32}',"), either(T32), Form::HexId32),
        (format!("`{T32}`"), either(T32), Form::HexId32),
        (format!("<{T32}>."), either(T32), Form::HexId32),
        (format!("({T32});"), either(T32), Form::HexId32),
        (format!("\u{200B}{T32}\u{FEFF}"), either(T32), Form::HexId32),
        (
            s("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
            either(T32),
            Form::DashedUuid,
        ),
        (
            s("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736."),
            either(T32),
            Form::DashedUuid,
        ),
        (
            s("4bf92f35 77b34da6 a3ce929d 0e0e4736"),
            either(T32),
            Form::HexId32,
        ),
        // labels
        (format!("trace_id={T32}"), tr(T32), Form::Labelled),
        (format!("trace_id: {T32}"), tr(T32), Form::Labelled),
        (format!("\"trace_id\": \"{T32}\","), tr(T32), Form::Labelled),
        (format!("traceId={t32_upper}"), tr(T32), Form::Labelled),
        (format!("X-Trace-Id: {T32}"), tr(T32), Form::Labelled),
        (
            s("trace_id=4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
            tr(T32),
            Form::Labelled,
        ),
        (format!("event_id={E32}"), ev(E32, None), Form::Labelled),
        (
            s("{\"event_id\": \"0af76519-16cd-43dd-8448-eb211c80319c\"}"),
            ev(E32, None),
            Form::Labelled,
        ),
        (
            format!("level=error msg=\"boom\" trace_id={T32} span_id={S16}"),
            trs(T32, S16),
            Form::Labelled,
        ),
        (
            format!(r#"{{"traceId":"{T32}","spanId":"{S16}","eventId":"{E32}"}}"#),
            tre(T32, Some(S16), E32),
            Form::Labelled,
        ),
        (format!("traceparent: {tp}"), trs(T32, S16), Form::Traceparent),
        (
            format!("sentry-trace: {T32}-{S16}-1"),
            trs(T32, S16),
            Form::SentryTrace,
        ),
        (
            format!("uber-trace-id: {T32}:{S16}:0:1"),
            trs(T32, S16),
            Form::UberTraceId,
        ),
        (s("issue: shop-12"), short("SHOP-12"), Form::Labelled),
        // 16 hex (Jaeger)
        (s(J16), tr(J16), Form::JaegerId16),
        (J16.to_ascii_uppercase(), tr(J16), Form::JaegerId16),
        (s("1234567890123456"), tr("1234567890123456"), Form::JaegerId16),
        // headers
        (tp.clone(), trs(T32, S16), Form::Traceparent),
        (tp.to_ascii_uppercase(), trs(T32, S16), Form::Traceparent),
        (format!("{T32}-{S16}"), trs(T32, S16), Form::SentryTrace),
        (format!("{T32}-{S16}-0"), trs(T32, S16), Form::SentryTrace),
        (
            s("a3ce929d0e0e4736:f067aa0ba902b7:0:1"),
            trs(J16, S16),
            Form::UberTraceId,
        ),
        // Sentry issues and short ids
        (s("SHOP-12"), short("SHOP-12"), Form::ShortId),
        (s("shop-12"), short("SHOP-12"), Form::ShortId),
        (s("BACKEND-API-3F"), short("BACKEND-API-3F"), Form::ShortId),
        (s("my_app-1A."), short("MY_APP-1A"), Form::ShortId),
        (s("4509123456"), issue("4509123456"), Form::IssueNumber),
        (s(" 7 "), issue("7"), Form::IssueNumber),
        // Sentry links
        (
            s("https://acme.sentry.io/issues/4509123456/"),
            issue("4509123456"),
            Form::SentryIssueLink,
        ),
        (
            s("https://acme.sentry.io/issues/4509123456/?project=1&query=is%3Aunresolved&referrer=issue-stream"),
            issue("4509123456"),
            Form::SentryIssueLink,
        ),
        (
            format!("<https://acme.sentry.io/issues/4509123456/events/{E32}/>"),
            ev(E32, Some("4509123456")),
            Form::SentryEventLink,
        ),
        (
            s("https://acme.sentry.io/issues/123/events/latest/"),
            issue("123"),
            Form::SentryIssueLink,
        ),
        (
            s("https://acme.sentry.io/issues/123/events/recommended/?project=1"),
            issue("123"),
            Form::SentryIssueLink,
        ),
        (
            s("https://us.sentry.io/organizations/acme/issues/123/?project=1"),
            issue("123"),
            Form::SentryIssueLink,
        ),
        (
            format!("https://de.sentry.io/organizations/acme/issues/123/events/{E32}/"),
            ev(E32, Some("123")),
            Form::SentryEventLink,
        ),
        (
            s("https://acme.de.sentry.io/issues/123/"),
            issue("123"),
            Form::SentryIssueLink,
        ),
        (
            s("https://sentry.acme.internal/organizations/acme/issues/77/events/"),
            issue("77"),
            Form::SentryIssueLink,
        ),
        (
            s("https://sentry.acme.internal/acme/backend/issues/77/"),
            issue("77"),
            Form::SentryIssueLink,
        ),
        (
            s("acme.sentry.io/issues/123/"),
            issue("123"),
            Form::SentryIssueLink,
        ),
        (
            format!("https://acme.sentry.io/discover/backend:{E32}/"),
            ev(E32, None),
            Form::SentryEventLink,
        ),
        (
            format!("https://sentry.acme.internal/organizations/acme/performance/backend:{E32}/?project=1"),
            ev(E32, None),
            Form::SentryEventLink,
        ),
        (
            format!("https://acme.sentry.io/performance/trace/{T32}/?node=txn-{E32}&node=span-{S16}"),
            trs(T32, S16),
            Form::SentryTraceLink,
        ),
        (
            format!("https://acme.sentry.io/traces/trace/{T32}/"),
            tr(T32),
            Form::SentryTraceLink,
        ),
        (
            format!("https://us.sentry.io/organizations/acme/explore/traces/trace/{T32}/?targetId={S16}&eventId={E32}"),
            tre(T32, Some(S16), E32),
            Form::SentryTraceLink,
        ),
        (
            format!("https://acme.sentry.io/issues/?query=is%3Aunresolved+trace%3A{T32}"),
            tr(T32),
            Form::SentrySearchLink,
        ),
        // Grafana
        (grafana_panes(true), trs(T32, S16), Form::GrafanaExplore),
        (grafana_panes(false), tr(T32), Form::GrafanaExplore),
        (
            format!(
                "https://grafana.example.com/grafana/explore?orgId=1&left={}",
                enc(&format!(
                    r#"{{"datasource":"Tempo","queries":[{{"refId":"A","queryType":"traceId","query":"{J16}"}}],"range":{{"from":"now-1h","to":"now"}}}}"#
                ))
            ),
            tr(J16),
            Form::GrafanaExplore,
        ),
        (
            format!(
                "https://grafana.example.com/explore?orgId=1&left={}",
                enc(&format!(r#"["now-1h","now","Tempo",{{"query":"{T32}"}}]"#))
            ),
            tr(T32),
            Form::GrafanaExplore,
        ),
        (
            format!("https://grafana.example.com/a/grafana-exploretraces-app/explore?from=now-30m&to=now&var-ds=tempo&actionView=traceList&traceId={T32}&spanId={S16}"),
            trs(T32, S16),
            Form::GrafanaTracesDrilldown,
        ),
        // Jaeger, Tempo, Zipkin
        (
            format!("http://localhost:16686/trace/{T32}"),
            tr(T32),
            Form::JaegerUi,
        ),
        (
            format!("https://jaeger.example.com/trace/{J16}?uiFind={S16}"),
            trs(J16, S16),
            Form::JaegerUi,
        ),
        (
            format!("https://jaeger.example.com/trace/{T32}?uiFind=http.status_code%3D500"),
            tr(T32),
            Form::JaegerUi,
        ),
        (
            format!("https://jaeger.example.com/trace/{T32}...{E32}?cohort={T32}&cohort={E32}"),
            tr(T32),
            Form::JaegerUi,
        ),
        (
            format!("https://jaeger.example.com/search?traceID={J16}&traceID={T32}"),
            tr(J16),
            Form::JaegerSearch,
        ),
        (
            format!("https://example.com/jaeger/ui/trace/{T32}"),
            tr(T32),
            Form::JaegerUi,
        ),
        (
            format!("localhost:16686/trace/{T32}"),
            tr(T32),
            Form::JaegerUi,
        ),
        (
            format!("http://tempo:3200/api/traces/{T32}"),
            tr(T32),
            Form::TempoApi,
        ),
        (
            format!("https://tempo.example.com/api/v2/traces/{J16}?start=1&end=2"),
            tr(J16),
            Form::TempoApi,
        ),
        (
            format!("https://zipkin.example.com/zipkin/traces/{T32}"),
            tr(T32),
            Form::ZipkinUi,
        ),
        // tracepin
        (
            format!("https://tracepin.example.com/trace/{T32}?v=1&span={S16}&event={E32}"),
            tre(T32, Some(S16), E32),
            Form::TracepinTrace,
        ),
        (
            format!("/trace/{T32}?span={S16}"),
            trs(T32, S16),
            Form::TracepinTrace,
        ),
        (
            format!("https://tracepin.example.com/event/{E32}"),
            ev(E32, None),
            Form::TracepinEvent,
        ),
        (
            s("https://tracepin.example.com/tp/issue/shop-12"),
            short("SHOP-12"),
            Form::TracepinIssue,
        ),
        (s("/issue/123"), issue("123"), Form::TracepinIssue),
        (
            format!("https://tracepin.example.com/lookup?q={}", enc(&format!("traceparent: {tp}"))),
            trs(T32, S16),
            Form::Traceparent,
        ),
        // other links, prose
        (
            format!("https://app.example.com/debug?trace_id={T32}&spanId={S16}"),
            trs(T32, S16),
            Form::TraceParameterLink,
        ),
        (
            format!("https://logs.example.com/d/abc?var-traceId={J16}"),
            tr(J16),
            Form::TraceParameterLink,
        ),
        (
            format!("request failed, see {T32} in the logs."),
            either(T32),
            Form::HexId32,
        ),
        (
            format!("Stack trace: see https://acme.sentry.io/issues/{}/ please", 42),
            issue("42"),
            Form::SentryIssueLink,
        ),
    ]
}

fn err_cases() -> Vec<String> {
    let s = |x: &str| x.to_owned();
    let t31 = T32.get(..31).expect("31");
    vec![
        s(t31),
        format!("{T32}a"),
        s("4bf92f3577b34da6a3ce929d0e0e473g"),
        s("00000000000000000000000000000000"),
        s("0000000000000000"),
        s("00000000-0000-0000-0000-000000000000"),
        format!("00-{T32}-{}-01", S16.get(..15).expect("15")),
        format!("ff-{T32}-{S16}-01"),
        format!("00-{T32}-{S16}"),
        format!("00-00000000000000000000000000000000-{S16}-01"),
        format!("{T32}-{}-1", S16.get(..15).expect("15")),
        format!("{T32}-{S16}-2"),
        s(""),
        s("   \n\t "),
        s("\"\"."),
        s("SHOP-"),
        s("-12"),
        s("0"),
        s("12345678901234567890"),
        s("the quick brown fox jumps over the lazy dog"),
        s("https://example.com/"),
        s("https://acme.sentry.io/settings/"),
        s("https://acme.sentry.io/issues/"),
        s("https://acme.sentry.io/issues/123/events/notanid/"),
        s("https://o123.ingest.sentry.io/api/456/envelope/"),
        s("https://github.com/acme/app/issues/12"),
        s("ftp://"),
        format!("ftp://example.com/trace/{T32}"),
        s("javascript:alert(1)"),
        s("https://grafana.example.com/explore?schemaVersion=1&panes=%7B%22a%22%3A%7B%22queries%22%3A%5B&orgId=1"),
        format!(
            "https://grafana.example.com/explore?schemaVersion=1&panes={}&orgId=1",
            enc(r#"{"a":{"queries":[{"refId":"A","query":"{ status = error }"}]}}"#)
        ),
        s("https://grafana.example.com/a/grafana-exploretraces-app/explore?actionView=traceList"),
        s("https://jaeger.example.com/trace/not-a-hex-trace-id"),
        format!("https://jaeger.example.com/trace/{}", T32.get(..31).expect("31")),
        s("https://tracepin.example.com/event/123"),
        format!("/lookup?q={}", enc(&format!("/lookup?q={T32}"))),
        format!("event_id={J16}"),
        format!("span_id={S16}"),
        format!("trace_id={t31}"),
        format!("{T32} {E32}"),
        s("🔥✨ ünïcödé ✨🔥"),
        s("４bf92f3577b34da6a3ce929d0e0e4736"),
        "x".repeat(10 * 1024),
    ]
}

#[test]
fn recognises_real_shaped_inputs() {
    let cases = ok_cases();
    assert!(cases.len() >= 45, "{} cases", cases.len());
    for (input, lookup, form) in cases {
        let got = recognise(&input);
        assert_eq!(got, Ok(Recognised { lookup, form }), "input: {input:?}");
    }
}

#[test]
fn refuses_malformed_inputs_with_a_reason() {
    let cases = err_cases();
    assert!(cases.len() >= 22, "{} cases", cases.len());
    for input in cases {
        match recognise(&input) {
            Ok(r) => panic!("{input:?} was recognised as {r:?}"),
            Err(e) => {
                assert!(!e.message.trim().is_empty(), "empty message for {input:?}");
                assert!(
                    !e.message.contains('\n'),
                    "multi-line message for {input:?}"
                );
            }
        }
    }
}

#[test]
fn messages_say_why() {
    let msg = |s: &str| recognise(s).err().map(|e| e.message).unwrap_or_default();
    assert_eq!(
        msg(T32.get(..31).expect("31")),
        "31 hex digits: one short of a trace id"
    );
    assert_eq!(
        msg(&format!("{T32}0")),
        "33 hex digits: one more than a trace id"
    );
    assert_eq!(msg(""), "empty input");
    assert_eq!(msg(" \n "), "empty input");
    assert_eq!(
        msg("https://example.com/"),
        "a URL tracepin does not know (host example.com)"
    );
    assert!(msg("https://acme.sentry.io/settings/").contains("/settings/"));
    assert!(msg(&"x".repeat(10 * 1024)).starts_with("too long"));
    assert!(msg(&format!("ff-{T32}-{S16}-01")).contains("version ff"));
    assert!(msg("00000000000000000000000000000000").contains("all-zero"));
    assert!(msg("ftp://").contains("ftp"));
    assert_eq!(
        msg("Stack trace: at foo"),
        "no trace id, event id, Sentry issue or link found in this text"
    );
    assert_eq!(
        msg("https://app.example.com/?trace=true"),
        "a URL tracepin does not know (host app.example.com)"
    );
    assert_eq!(
        msg(&format!("trace_id={}", T32.get(..31).expect("31"))),
        "trace_id: 31 hex digits: one short of a trace id"
    );
}

#[test]
fn accepted_forms_are_all_recognised_as_their_form() {
    for (form, example) in ACCEPTED_FORMS {
        let got = recognise(example).unwrap_or_else(|e| panic!("{example}: {e}"));
        assert_eq!(got.form.describe(), *form, "{example}");
    }
    let listed: std::collections::HashSet<&str> = ACCEPTED_FORMS.iter().map(|(f, _)| *f).collect();
    assert_eq!(listed.len(), ACCEPTED_FORMS.len(), "a form is listed twice");
}

#[test]
fn serde_round_trip() {
    let r = recognise(&format!("00-{T32}-{S16}-01")).expect("traceparent");
    let json = serde_json::to_string(&r).expect("serialize");
    let back: Recognised = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, r);
    let e = recognise("SHOP-").expect_err("refused");
    let json = serde_json::to_string(&e).expect("serialize");
    assert_eq!(serde_json::from_str::<Unrecognised>(&json).expect("de"), e);
}

fn noisy_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F]{1,33}",
        Just("-".to_owned()),
        Just("/".to_owned()),
        Just(":".to_owned()),
        "[?=&%{}\"\\[\\],:.]{1,4}",
        Just("trace".to_owned()),
        Just("issues".to_owned()),
        Just("events".to_owned()),
        Just("explore".to_owned()),
        Just("panes".to_owned()),
        Just("traceparent: ".to_owned()),
        Just("trace_id=".to_owned()),
        Just("%7B%22".to_owned()),
        Just("é".to_owned()),
        Just(" ".to_owned()),
    ]
}

fn url_prefix() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("https://acme.sentry.io/".to_owned()),
        Just("https://us.sentry.io/organizations/acme/".to_owned()),
        Just("http://localhost:16686/trace/".to_owned()),
        Just("https://grafana.example.com/explore?panes=".to_owned()),
        Just("https://grafana.example.com/explore?left=".to_owned()),
        Just("https://x.example/a/grafana-exploretraces-app/explore?traceId=".to_owned()),
        Just("/lookup?q=".to_owned()),
        Just("/lookup?q=/lookup?q=".to_owned()),
        Just("/trace/".to_owned()),
        Just("ftp://".to_owned()),
    ]
}

proptest! {
    #[test]
    fn never_panics_on_anything(s in ".*") {
        let _ = recognise(&s);
    }

    #[test]
    fn never_panics_on_link_shaped_noise(
        prefix in url_prefix(),
        pieces in proptest::collection::vec(noisy_piece(), 0..24),
    ) {
        let input = format!("{prefix}{}", pieces.concat());
        if let Err(e) = recognise(&input) {
            prop_assert!(!e.message.is_empty());
        }
    }

    #[test]
    fn traceparent_round_trips(
        t in "[0-9a-fA-F]{32}",
        s in "[0-9a-fA-F]{16}",
        flags in "[0-9a-f]{2}",
        label in prop_oneof![Just(""), Just("traceparent: "), Just("traceparent=")],
    ) {
        let trace_id: Result<TraceId, _> = t.parse();
        let span_id: Result<SpanId, _> = s.parse();
        prop_assume!(trace_id.is_ok() && span_id.is_ok());
        let got = recognise(&format!(" {label}00-{t}-{s}-{flags}\n"));
        prop_assert_eq!(
            got.map(|r| r.lookup),
            Ok(Lookup::Trace { trace_id: t.parse().expect("ok"), span_id: s.parse().ok(), event_id: None })
        );
    }
}
