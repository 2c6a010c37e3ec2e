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
        expect![[r#""#]],
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
        expect![[r#""#]],
    );
}

#[test]
fn rule3_sentry_event_id_attribute() {
    check(SHOP, "e-attr @70 svc=payments", expect![[r#""#]]);
}

#[test]
fn rule4_exception_event_refines_to_the_raising_descendant() {
    // Captured at the framework boundary (the SERVER span), raised in `reserve stock`.
    check(
        SHOP,
        "e-d2 @27.5 svc=inventory ctx=stock exc __main__.InsufficientStock: none left",
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        ("x @1 otelsvc=inventory stag=checkout svc=payments", "inventory", ServiceSource::OtelContext),
        ("x @1 stag=checkout svc=payments", "checkout", ServiceSource::Tag),
        ("x @1 svc=payments server=inventory-host", "payments", ServiceSource::Release),
        ("x @1 svc=frontend server=inventory-host", "inventory", ServiceSource::ServerName),
        ("x @1 otelsvc=nope server=checkout", "checkout", ServiceSource::ServerName),
    ];
    for (line, service, source) in cases {
        let ev = &kit::events(line)[0];
        assert_eq!(
            event_service(ev, exists),
            Some((service.to_owned(), source)),
            "{line}"
        );
    }
    assert_eq!(event_service(&kit::events("x @1 svc=frontend")[0], exists), None);
}
