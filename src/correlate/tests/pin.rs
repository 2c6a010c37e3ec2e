//! Pinning: each rule, the decoy trace id, the other-service span, and every unplaced reason.

use expect_test::expect;

use super::{check, check_with, kit};
use crate::correlate::{event::event_service, Options, ServiceSource};

/// A checkout: frontend → checkout → inventory and payments, with a correlation id on entry spans.
const SHOP: &str = "
frontend POST /checkout 0..100 kind=server #root
  frontend POST 2..98 kind=client #fe-call
    checkout POST /api/checkout 5..90 kind=server #api attr transaction_id=txn-1
      checkout validate cart 6..10
      checkout GET 12..30 kind=client #get-stock
        inventory GET /stock 14..28 kind=server #stock attr transaction_id=txn-1
          inventory reserve stock 16..26 #reserve !err exc __main__.InsufficientStock: none left @25
      checkout POST 35..80 kind=client #charge-call
        payments POST /charge 38..78 kind=server #charge attr transaction_id=txn-1
          payments fraud check 40..45 #fraud exc __main__.FraudRuleError: rule timed out @44
          payments POST 50..76 kind=client #psp !err attr sentry.event_id=@e-attr
";

#[test]
fn rule1_span_id_merges_the_otel_exception_on_the_same_span() {
    check(
        SHOP,
        "e-span @25.5 svc=inventory ctx=reserve exc InsufficientStock: none left",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err
                            ^ 25.5 e-span [span_id] +otel exception
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err

        "#]],
    );
}

#[test]
fn rule2_otel_context_wins_over_a_decoy_contexts_trace() {
    check(
        SHOP,
        "
e-otel @60 svc=payments ctx=sentry:s1 parent dsc=sentry otel=psp otelsvc=payments
e-otag @61 server=payments-host otag=psp
",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
                            ^ 60.0 e-otel [otel_context]
                            ^ 61.0 e-otag [otel_context]

        "#]],
    );
}

#[test]
fn rule3_sentry_event_id_attribute() {
    check(
        SHOP,
        "e-attr @70 svc=payments",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
                            ^ 70.0 e-attr [sentry_event_id_attribute]

        "#]],
    );
}

#[test]
fn rule4_exception_event_refines_to_the_raising_descendant() {
    // Captured at the framework boundary (the SERVER span), raised in `reserve stock`.
    check(
        SHOP,
        "e-d2 @27.5 svc=inventory ctx=stock exc __main__.InsufficientStock: none left",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err
                            ^ 27.5 e-d2 [exception_event] from row 5 (span_id) +otel exception
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err

        "#]],
    );
}

#[test]
fn rule5_correlation_tag_then_time_or_exception_refinement() {
    check(
        SHOP,
        "
e-tag @60 svc=payments tag:transaction_id=txn-1
e-tag-exc @44.5 svc=payments ctx=sentry:s2 parent tag:transaction_id=txn-1 exc FraudRuleError: rule timed out
e-tag-entry @8 svc=checkout tag:transaction_id=txn-1
",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
                        ^ 8.0 e-tag-entry [correlation_tag] from row 2 (correlation_tag)
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0
                            ^ 44.5 e-tag-exc [exception_event] from row 8 (correlation_tag) +otel exception
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
                            ^ 60.0 e-tag [correlation_tag] from row 8 (correlation_tag)

        "#]],
    );
}

#[test]
fn rule5_custom_tag_keys() {
    let opts = Options {
        correlation_tags: vec!["order".to_owned()],
        ..Options::default()
    };
    check_with(
        &opts,
        "
api POST /order 0..50 attr order=ord-7
  db INSERT 10..20
",
        "
e-order @15 svc=api tag:order=ord-7
e-default-key @15 svc=api tag:transaction_id=txn-1
",
        expect![[r#"
            trace 00000000000000000000000000000054  2 spans  50.0 ms
              0 * api POST /order                    |========================================| 0.0..50.0
                  ^ 15.0 e-order [correlation_tag]
              1 *   db INSERT                        |        ========                        | 10.0..20.0

            unplaced e-default-key: The event carries no trace id, no OpenTelemetry context and no correlation tag, so it cannot be linked to any trace.
        "#]],
    );
}

#[test]
fn rule6_enclosing_span_for_a_span_that_was_not_exported() {
    // `cache.lookup` was dropped by the sampler; the event still names its id.
    check(
        SHOP,
        "
e-dropped @20 svc=inventory ctx=cache-lookup exc PriceCacheCorrupted: bad checksum
e-far @400 svc=inventory ctx=cache-lookup
",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
                            ^ 20.0 e-dropped [enclosing_span]
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
            unplaced e-far (span_not_exported): The event's span 6eddb788c0fc9d10 is not in the trace (dropped or not sampled), and no span of inventory was running at the event's time.

        "#]],
    );
}

#[test]
fn rule1_span_of_another_service_falls_through_to_the_events_service() {
    // A log after checkout's server span ended: contexts.trace is frontend's CLIENT span.
    check(
        SHOP,
        "
e-late @93 svc=checkout ctx=fe-call
e-late-far @500 svc=checkout ctx=fe-call
e-no-service @93 ctx=fe-call
",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
                    ^ 93.0 e-no-service [span_id]
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
                      ^ 93.0 e-late [enclosing_span] from row 1 (span_id)
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
            unplaced e-late-far (other_service_span): The event points at span 0066652d63616c6c of frontend, but it was sent by checkout, and no span of checkout was running at the event's time.

        "#]],
    );
}

#[test]
fn unplaced_reasons() {
    check(
        SHOP,
        "
e-nothing @50 svc=payments
e-not-loaded @50 svc=payments ctx=other:x1
e-decoy @50 svc=payments ctx=sentry:s3 parent dsc=sentry
e-decoy-dsc @50 svc=payments ctx=sentry2:s3 dsc=sentry2
e-legacy-not-loaded @50 svc=payments ctx=other:x2 parent dsc=other origin=auto.otel
e-tag-missing @50 svc=payments tag:request_id=r-9
e-otel-not-loaded @50 otel=other:x3
e-service-unknown @50 ctx-trace=T svc=mystery
e-no-enclosing @900 ctx-trace=T svc=payments
e-unknown-span @50 ctx=ghost
",
        expect![[r#"
            trace 00000000000000000000000000000054  11 spans  100.0 ms
              0 * frontend POST /checkout            |========================================| 0.0..100.0
              1 *   frontend POST                    |======================================= | 2.0..98.0
              2 *     checkout POST /api/checkout    |  ==================================    | 5.0..90.0
              3 *       checkout validate cart       |  ==                                    | 6.0..10.0
              4 *       checkout GET                 |    ========                            | 12.0..30.0
              5 *         inventory GET /stock       |     ======                             | 14.0..28.0
              6 *           inventory reserve stock  |      ####                              | 16.0..26.0 !err exc=1
              7 *       checkout POST                |              ==================        | 35.0..80.0
              8 *         payments POST /charge      |               ================         | 38.0..78.0
              9 *           payments fraud check     |                ==                      | 40.0..45.0 exc=1
             10 *           payments POST            |                    ##########          | 50.0..76.0 !err
            unplaced e-service-unknown (service_unknown): The event belongs to this trace, but neither its span nor its service (release, server name, service tag) can be found in it.
            unplaced e-no-enclosing (no_enclosing_span): The event belongs to this trace, but no span of payments was running at the event's time.
            unplaced e-unknown-span (span_not_exported): The event's span 00000067686f7374 is not in the trace (dropped or not sampled), and the event's service is unknown, so no enclosing span can be chosen.

            unplaced e-nothing: The event carries no trace id, no OpenTelemetry context and no correlation tag, so it cannot be linked to any trace.
            unplaced e-not-loaded: The event belongs to trace 00000000000000000000006f74686572, which is not among the loaded traces.
            unplaced e-decoy: The event's trace id 0000000000000000000073656e747279 is Sentry's own id (the Sentry SDK is not linked to OpenTelemetry), so it matches no OpenTelemetry trace.
            unplaced e-decoy-dsc: The event's trace id 00000000000000000073656e74727932 is Sentry's own id (the Sentry SDK is not linked to OpenTelemetry), so it matches no OpenTelemetry trace.
            unplaced e-legacy-not-loaded: The event belongs to trace 00000000000000000000006f74686572, which is not among the loaded traces.
            unplaced e-tag-missing: The event's tag request_id=r-9 matches no span attribute in the loaded traces.
            unplaced e-otel-not-loaded: The event belongs to trace 00000000000000000000006f74686572, which is not among the loaded traces.
        "#]],
    );
}

#[test]
fn pins_are_ordered_by_adjusted_time() {
    let c = crate::correlate::correlate(
        kit::spans(SHOP),
        kit::events(
            "
late @70 svc=payments ctx=psp
early @20 svc=inventory ctx=reserve
mid @27 svc=inventory ctx=stock
",
        ),
        &Options::default(),
    );
    let order: Vec<usize> = c.timelines[0].pins.iter().map(|p| p.event).collect();
    assert_eq!(order, vec![1, 2, 0]);
    assert!(c.unplaced.is_empty());
}

#[test]
fn service_of_an_event_in_order_of_sources() {
    let exists = |s: &str| ["payments", "inventory", "checkout"].contains(&s);
    let cases = [
        (
            "x @1 otelsvc=inventory stag=checkout svc=payments",
            "inventory",
            ServiceSource::OtelContext,
        ),
        (
            "x @1 stag=checkout svc=payments",
            "checkout",
            ServiceSource::Tag,
        ),
        (
            "x @1 svc=payments server=inventory-host",
            "payments",
            ServiceSource::Release,
        ),
        (
            "x @1 svc=frontend server=inventory-host",
            "inventory",
            ServiceSource::ServerName,
        ),
        (
            "x @1 otelsvc=nope server=checkout",
            "checkout",
            ServiceSource::ServerName,
        ),
    ];
    for (line, service, source) in cases {
        let ev = &kit::events(line)[0];
        assert_eq!(
            event_service(ev, exists),
            Some((service.to_owned(), source)),
            "{line}"
        );
    }
    assert_eq!(
        event_service(&kit::events("x @1 svc=frontend")[0], exists),
        None
    );
}

#[test]
fn exception_refinement_stays_in_the_service() {
    // The same exception text recorded downstream in another service is not where this one was raised.
    check(
        "
api POST /x 0..100 kind=server #api
  api POST 10..60 kind=client #call
    billing POST /bill 12..58 kind=server exc HTTPError: 502 bad gateway @50
",
        "e-api @70 svc=api ctx=api exc HTTPError: 502 bad gateway",
        expect![[r#"
            trace 00000000000000000000000000000054  3 spans  100.0 ms
              0 * api POST /x                        |========================================| 0.0..100.0
                  ^ 70.0 e-api [span_id]
              1 *   api POST                         |    ====================                | 10.0..60.0
              2 *     billing POST /bill             |    ===================                 | 12.0..58.0 exc=1

        "#]],
    );
}

#[test]
fn correlate_trace_takes_only_the_events_of_its_trace() {
    let trace = crate::correlate::assemble::assemble(kit::spans(SHOP))
        .into_iter()
        .next()
        .expect("one trace");
    let events = kit::events(
        "
mine @25.5 svc=inventory ctx=reserve
claimed @60 svc=payments tag:transaction_id=txn-1
elsewhere @25 svc=inventory ctx=other:reserve
lost @200 svc=inventory ctx=ghost
",
    );
    let t = crate::correlate::correlate_trace(trace, &events, &Options::default());
    let pinned: Vec<(usize, &str)> = t
        .pins
        .iter()
        .map(|p| (p.event, p.matched_by.code()))
        .collect();
    assert_eq!(pinned, [(0, "span_id"), (1, "correlation_tag")]);
    let unplaced: Vec<(usize, &str)> = t
        .unplaced
        .iter()
        .map(|u| (u.event, u.reason.code()))
        .collect();
    // `lost` names this trace; its span is missing and no inventory span is within 50 ms of it.
    assert_eq!(unplaced, [(3, "span_not_exported")]);
}

#[test]
fn report_json_keeps_the_stable_shape() {
    let c = crate::correlate::correlate(
        kit::spans(SHOP),
        kit::events(
            "
e-d2 @27.5 svc=inventory ctx=stock exc InsufficientStock: none left
e-decoy @50 svc=payments ctx=sentry:s3 parent dsc=sentry
",
        ),
        &Options::default(),
    );
    let v = crate::correlate::report::to_json(&c);
    let t = &v["timelines"][0];
    assert_eq!(t["trace_id"], "00000000000000000000000000000054");
    assert_eq!(t["span_count"], 11);
    let pin = &t["pins"][0];
    assert_eq!(pin["event_id"], kit::eid("e-d2").to_string());
    assert_eq!(pin["span_id"], kit::sid("reserve").to_string());
    assert_eq!(pin["matched_by"], "exception_event");
    assert_eq!(pin["anchor"]["span_id"], kit::sid("stock").to_string());
    assert_eq!(pin["service"], "inventory");
    assert_eq!(t["unplaced"].as_array().map(Vec::len), Some(0));
    let u = &v["unplaced"][0];
    assert_eq!(u["event_id"], kit::eid("e-decoy").to_string());
    assert_eq!(u["reason_code"], "decoy_sentry_trace_id");
    assert!(u["reason"]
        .as_str()
        .is_some_and(|r| r.contains("Sentry's own id")));
}

#[test]
fn rule3_reads_sentry_event_id_on_a_span_event_too() {
    // The app records the exception as an OTel span event and names the Sentry event on it, with
    // either spelling of the attribute.
    for key in ["sentry.event_id", "sentry.event.id"] {
        let mut spans = kit::spans(SHOP);
        let fraud = spans
            .iter_mut()
            .find(|s| &*s.name == "fraud check")
            .expect("fraud check");
        let ev = fraud.events.first_mut().expect("exception span event");
        ev.attributes.push(crate::domain::KeyValue {
            key: key.into(),
            value: crate::domain::AttrValue::Str(kit::eid("e-evt").to_string().into()),
        });
        let c = crate::correlate::correlate(
            spans,
            kit::events("e-evt @44 svc=payments"),
            &Options::default(),
        );
        let pin = &c.timelines[0].pins[0];
        assert_eq!(pin.span_id, kit::sid("fraud"), "{key}");
        assert_eq!(pin.matched_by.code(), "sentry_event_id_attribute", "{key}");
    }
}
