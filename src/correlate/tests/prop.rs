//! Property: assembly keeps every span exactly once and never panics, whatever the links and times.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use crate::correlate::{assemble::assemble, correlate, Options};
use crate::domain::{RowOrigin, Span, SpanId, SpanKind, SpanStatus, TraceId};

fn span(trace: u8, id: u8, parent: Option<u8>, start: u64, end: u64, name: u8) -> Span {
    Span {
        trace_id: TraceId([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, trace]),
        span_id: SpanId([0, 0, 0, 0, 0, 0, 1, id]),
        parent_span_id: parent.map(|p| SpanId([0, 0, 0, 0, 0, 0, 1, p])),
        service: format!("svc{}", name % 3).into(),
        name: format!("op{name}").into(),
        kind: SpanKind::Internal,
        start_ns: start,
        end_ns: end,
        status: SpanStatus::default(),
        attributes: crate::domain::ThinVec::new(),
        events: crate::domain::ThinVec::new(),
        links: crate::domain::ThinVec::new(),
        resource: Default::default(),
        scope: None,
    }
}

fn arb_spans() -> impl Strategy<Value = Vec<Span>> {
    prop::collection::vec(
        (
            0u8..2,
            0u8..40,
            prop::option::of(0u8..48),
            prop_oneof![Just(0u64), 0u64..1_000],
            prop_oneof![Just(0u64), 0u64..1_000],
            0u8..3,
        ),
        0..80,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(t, id, p, s, e, n)| span(t, id, p, s, e, n))
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn assembly_keeps_every_span_once(spans in arb_spans()) {
        let input = spans.clone();
        let traces = assemble(spans);
        let mut seen_trace_ids = HashSet::new();
        let mut real_rows = 0usize;
        for t in &traces {
            prop_assert!(seen_trace_ids.insert(t.trace_id), "one trace per id");
            prop_assert_eq!(t.spans.len(), t.nodes.len());
            let n = t.nodes.len();
            for (row, node) in t.nodes.iter().enumerate() {
                prop_assert!(t.spans[row].trace_id == t.trace_id);
                prop_assert!((node.subtree_end as usize) > row && (node.subtree_end as usize) <= n);
                match node.parent {
                    None => prop_assert_eq!(node.depth, 0),
                    Some(p) => {
                        let p = p as usize;
                        prop_assert!(p < row, "parent before child in pre-order");
                        prop_assert_eq!(node.depth, t.nodes[p].depth + 1);
                        prop_assert!(t.is_descendant(row, p));
                        prop_assert!(node.subtree_end <= t.nodes[p].subtree_end);
                    }
                }
                prop_assert!(t.spans[row].start_ns <= t.spans[row].end_ns);
            }
            // Per trace: every input id is present as a real row; identical copies collapse to one.
            let input_here: Vec<&Span> = input.iter().filter(|s| s.trace_id == t.trace_id).collect();
            let mut rows_per_id: HashMap<SpanId, usize> = HashMap::new();
            for (s, node) in t.spans.iter().zip(&t.nodes) {
                if node.origin == RowOrigin::Span {
                    *rows_per_id.entry(s.span_id).or_default() += 1;
                    real_rows += 1;
                }
            }
            let mut copies: HashMap<SpanId, Vec<&Span>> = HashMap::new();
            for s in &input_here {
                copies.entry(s.span_id).or_default().push(s);
            }
            for (id, list) in &copies {
                let rows = rows_per_id.get(id).copied().unwrap_or(0);
                prop_assert!(rows >= 1, "span {} lost", id);
                prop_assert!(rows <= list.len(), "span {} duplicated", id);
                if list.iter().all(|s| *s == list[0]) {
                    prop_assert_eq!(rows, 1, "identical copies of {} not merged", id);
                }
            }
            prop_assert_eq!(rows_per_id.len(), copies.len(), "no invented real rows");
            for (s, node) in t.spans.iter().zip(&t.nodes) {
                if node.origin == RowOrigin::MissingParent {
                    prop_assert!(!copies.contains_key(&s.span_id), "placeholder for a present span");
                }
            }
        }
        prop_assert!(real_rows <= input.len());
        let all_ids: HashSet<(TraceId, SpanId)> = input.iter().map(|s| (s.trace_id, s.span_id)).collect();
        prop_assert!(real_rows >= all_ids.len());
    }

    #[test]
    fn correlate_never_panics_and_places_every_event_once(spans in arb_spans(), times in prop::collection::vec(0u64..1_200, 0..10)) {
        let events: Vec<_> = times.iter().enumerate().map(|(i, &t)| crate::domain::ErrorEvent {
            timestamp_ns: t,
            release: Some(format!("svc{}@1", i % 4)),
            trace_context: Some(crate::domain::TraceContext {
                trace_id: Some(TraceId([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (i % 3) as u8])),
                span_id: Some(SpanId([0, 0, 0, 0, 0, 0, 1, (i * 7 % 50) as u8])),
                ..Default::default()
            }),
            ..Default::default()
        }).collect();
        let n = events.len();
        let c = correlate(spans, events, &Options::default());
        let mut count = vec![0usize; n];
        for t in &c.timelines {
            for p in &t.pins { count[p.event] += 1; prop_assert!(p.row < t.trace.spans.len()); }
            for u in &t.unplaced { count[u.event] += 1; }
            prop_assert!(t.critical_path.iter().all(|&r| r < t.trace.spans.len()));
            prop_assert_eq!(t.skew.adjust.len(), t.trace.spans.len());
        }
        for u in &c.unplaced { count[u.event] += 1; }
        prop_assert!(count.iter().all(|&k| k == 1), "{:?}", count);
        let _ = crate::correlate::text::render(&c);
        let _ = crate::correlate::report::to_json(&c);
    }
}

/// Spans whose ids fall on both sides of the two-thread index's split (the key's top bit), with
/// duplicates, missing parents, cycles and broken times, enough of them to pass the cap on
/// diagnostics of one kind in each half.
fn arb_wide_spans() -> impl Strategy<Value = Vec<Span>> {
    prop::collection::vec(
        (
            0u8..2,
            0u8..160,
            prop::option::of(0u8..200),
            prop_oneof![Just(0u64), 0u64..1_000],
            prop_oneof![Just(0u64), 0u64..1_000],
            0u8..5,
            any::<bool>(),
        ),
        0..300,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(t, id, p, s, e, n, shared)| {
                // 13 is odd, so the ids stay distinct and spread over the whole byte.
                let mut sp = span(
                    t,
                    id.wrapping_mul(13),
                    p.map(|p| p.wrapping_mul(13)),
                    s,
                    e,
                    n,
                );
                if shared {
                    sp.service = format!("svc{}", n % 2).into();
                }
                sp
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A large trace is indexed and linked on two threads; the result is the one-thread result.
    #[test]
    fn two_threads_assemble_as_one_does(spans in arb_wide_spans()) {
        use crate::correlate::assemble::assemble_on;
        let one = assemble_on(spans.clone(), Some(false));
        let two = assemble_on(spans, Some(true));
        prop_assert_eq!(one.len(), two.len());
        for ((t1, s1), (t2, s2)) in one.iter().zip(&two) {
            prop_assert_eq!(t1, t2);
            prop_assert_eq!(&s1.names, &s2.names);
            prop_assert_eq!(&s1.of_row, &s2.of_row);
        }
    }
}

#[test]
fn the_two_thread_index_splits_these_ids() {
    // The property above is only worth something if its ids land in both parts.
    let ids: Vec<u64> = (0u8..160)
        .map(|id| {
            crate::correlate::index::span_key(SpanId([0, 0, 0, 0, 0, 0, 1, id.wrapping_mul(13)]))
                >> 63
        })
        .collect();
    assert!(ids.contains(&0) && ids.contains(&1));
}

#[test]
fn two_threads_report_as_many_repairs_as_one() {
    // 60 spans ending before they start, 30 in each half: 20 kept and "40 more" either way.
    let spans: Vec<Span> = (0u8..60)
        .map(|i| span(0, i.wrapping_mul(13), None, 500 + u64::from(i), 100, i))
        .collect();
    let one = assemble_on_for_test(spans.clone(), false);
    let two = assemble_on_for_test(spans, true);
    assert_eq!(one, two);
    assert!(
        one.iter().any(|d| d.contains("and 40 more problems")),
        "{one:?}"
    );
}

fn assemble_on_for_test(spans: Vec<Span>, two: bool) -> Vec<String> {
    crate::correlate::assemble::assemble_on(spans, Some(two))
        .into_iter()
        .flat_map(|(t, _)| t.diagnostics.into_iter().map(|d| d.message))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Assembly moves rows into pre-order in place: a permutation gives exactly the order asked for.
    #[test]
    fn permuting_in_place_follows_the_order(order in Just((0..300usize).collect::<Vec<_>>()).prop_shuffle(), len in 0usize..300) {
        use crate::correlate::assemble::permute_in_place;
        let order: Vec<usize> = order.into_iter().filter(|&k| k < len).collect();
        let want: Vec<usize> = order.iter().map(|&k| k * 10).collect();
        let mut v: Vec<usize> = (0..len).map(|i| i * 10).collect();
        permute_in_place(&mut v, &order);
        prop_assert_eq!(&v, &want);
        let mut v: Vec<usize> = (0..len).map(|i| i * 10).collect();
        crate::correlate::assemble::permute_on(&mut v, &order, true);
        prop_assert_eq!(&v, &want);
    }

    /// Anything that is not a permutation still leaves the same elements, in some order.
    #[test]
    fn permuting_in_place_by_a_bad_order_loses_nothing(order in prop::collection::vec(0usize..400, 0..300), len in 0usize..300) {
        use crate::correlate::assemble::permute_in_place;
        for two in [false, true] {
            let mut v: Vec<usize> = (0..len).collect();
            if two {
                crate::correlate::assemble::permute_on(&mut v, &order, true);
            } else {
                permute_in_place(&mut v, &order);
            }
            v.sort_unstable();
            prop_assert_eq!(v, (0..len).collect::<Vec<_>>());
        }
    }
}
