//! Comparison with healthy traces: data-driven cases (text-form traces in, marks, ghosts and findings
//! out) and the properties the issue asks for: a trace compared with copies of itself has no
//! differences, removing a subtree gives ghost rows for exactly it, duplicating a call marks exactly
//! it as repeated, and the order of the baselines does not change the result.

use expect_test::{expect, Expect};
use proptest::prelude::*;

use super::kit;
use crate::correlate::assemble::assemble;
use crate::correlate::compare::{
    compare, key, CompareOptions, Comparison, FindingKind, GhostParent, ERRORED, NEW, REPEATED,
    SLOWER,
};
use crate::correlate::{correlate_trace, Options};
use crate::domain::{
    Node, RowOrigin, Span, SpanId, SpanKind, SpanStatus, StatusCode, Trace, TraceId,
};

fn one(text: &str) -> Trace {
    assemble(kit::spans(text))
        .into_iter()
        .next()
        .expect("one trace")
}

fn run(failing: &Trace, baselines: &[Trace]) -> Comparison {
    let tl = correlate_trace(failing.clone(), &[], &Options::default());
    let refs: Vec<&Trace> = baselines.iter().collect();
    compare(&tl, &refs, &CompareOptions::default())
}

fn render(t: &Trace, c: &Comparison) -> String {
    let mut out = String::new();
    for (i, (s, n)) in t.spans.iter().zip(&t.nodes).enumerate() {
        let d = c.rows[i];
        let mut marks = Vec::new();
        for (m, w) in [
            (SLOWER, "slower"),
            (NEW, "new"),
            (REPEATED, "repeated"),
            (ERRORED, "errored"),
        ] {
            if d.marks & m != 0 {
                marks.push(w);
            }
        }
        out.push_str(&format!(
            "{}{} {} {}\n",
            "  ".repeat(n.depth as usize),
            s.service,
            s.name,
            if marks.is_empty() {
                "·".to_owned()
            } else {
                marks.join(",")
            }
        ));
    }
    for g in &c.ghosts {
        out.push_str(&format!(
            "ghost {:?} d{} {} {} ({}/{})\n",
            g.parent, g.depth, g.service, g.name, g.presence, c.baselines
        ));
    }
    for f in &c.findings {
        out.push_str(&format!("- {} {:?}\n", f.text, f.rows));
    }
    if let Some(d) = &c.first_divergence {
        out.push_str(&format!("> {}\n", d.text));
    }
    out
}

fn check(failing: &str, baselines: &[&str], expect: Expect) {
    let f = one(failing);
    let b: Vec<Trace> = baselines.iter().map(|t| one(t)).collect();
    expect.assert_eq(&render(&f, &run(&f, &b)));
}

const HEALTHY: &str = "
frontend POST /checkout 0..100
  frontend render 1..5
  checkout POST /api/checkout 10..90 kind=server
    checkout GET 12..30 kind=client
      inventory GET /stock/SKU-1 13..29 kind=server
    checkout POST 35..60 kind=client
      payments POST /charge 36..59 kind=server
        payments fraud check 37..40
    checkout publish orders 62..64
      worker process orders 70..95
        worker send email 71..80
";

#[test]
fn same_shape_is_no_difference() {
    check(
        HEALTHY,
        &[HEALTHY, HEALTHY, HEALTHY],
        expect![[r#"
            frontend POST /checkout ·
              frontend render ·
              checkout POST /api/checkout ·
                checkout GET ·
                  inventory GET /stock/SKU-1 ·
                checkout POST ·
                  payments POST /charge ·
                    payments fraud check ·
                checkout publish orders ·
                  worker process orders ·
                    worker send email ·
        "#]],
    );
}

#[test]
fn retries_new_spans_and_errors_are_named() {
    let failing = "
frontend POST /checkout 0..160
  frontend render 1..5
  checkout POST /api/checkout 10..150 kind=server
    checkout GET 12..30 kind=client
      inventory GET /stock/SKU-77 13..29 kind=server
    checkout POST 35..60 kind=client !err
      payments POST /charge 36..59 kind=server !err
        payments fraud check 37..40
        payments POST 41..58 kind=client !err
    checkout retry backoff 60..63
    checkout POST 64..90 kind=client !err
      payments POST /charge 65..89 kind=server !err
        payments fraud check 66..69
        payments POST 70..88 kind=client !err
    checkout retry backoff 90..93
    checkout POST 94..120 kind=client
      payments POST /charge 95..119 kind=server
        payments fraud check 96..99
        payments POST 100..118 kind=client
    checkout publish orders 122..124
      worker process orders 130..155
        worker send email 131..140 !err
";
    let healthy = "
frontend POST /checkout 0..100
  frontend render 1..5
  checkout POST /api/checkout 10..90 kind=server
    checkout GET 12..30 kind=client
      inventory GET /stock/SKU-1 13..29 kind=server
    checkout POST 35..60 kind=client
      payments POST /charge 36..59 kind=server
        payments fraud check 37..40
        payments POST 41..58 kind=client
    checkout publish orders 62..64
      worker process orders 70..95
        worker send email 71..80
";
    check(
        failing,
        &[healthy; 6],
        expect![[r#"
            frontend POST /checkout ·
              frontend render ·
              checkout POST /api/checkout ·
                checkout GET ·
                  inventory GET /stock/SKU-77 ·
                checkout POST errored
                  payments POST /charge errored
                    payments fraud check ·
                    payments POST errored
                checkout retry backoff new
                checkout POST repeated,errored
                  payments POST /charge repeated,errored
                    payments fraud check repeated
                    payments POST repeated,errored
                checkout retry backoff new
                checkout POST repeated
                  payments POST /charge repeated
                    payments fraud check repeated
                    payments POST repeated
                checkout publish orders ·
                  worker process orders ·
                    worker send email errored
            - payments 'POST' failed 2 of 3 times (healthy: never). [8, 13]
            - worker 'send email' failed (healthy: never). [21]
            - payments 'POST /charge' ran 3 times (healthy: once). [6, 11, 16]
            - checkout 'retry backoff' is new: it ran twice, in none of the 6 healthy traces. [9, 14]
            > First divergence: payments 'POST' failed (healthy traces never fail here), 41.0 ms into the trace.
        "#]],
    );
}

#[test]
fn missing_calls_become_ghost_rows_under_their_parent() {
    // Out of stock: the order never reaches payments, the queue or the worker.
    let failing = "
frontend POST /checkout 0..40
  frontend render 1..5
  checkout POST /api/checkout 10..35 kind=server
    checkout GET 12..30 kind=client
      inventory GET /stock/SKU-42 13..29 kind=server
        inventory reserve stock 20..28 !err
";
    check(
        failing,
        &[HEALTHY, HEALTHY, HEALTHY, HEALTHY],
        expect![[r#"
            frontend POST /checkout ·
              frontend render ·
              checkout POST /api/checkout ·
                checkout GET ·
                  inventory GET /stock/SKU-42 ·
                    inventory reserve stock new,errored
            ghost Row(2) d2 checkout POST (4/4)
            ghost Ghost(0) d3 payments POST /charge (4/4)
            ghost Ghost(1) d4 payments fraud check (4/4)
            ghost Row(2) d2 checkout publish orders (4/4)
            ghost Ghost(3) d3 worker process orders (4/4)
            ghost Ghost(4) d4 worker send email (4/4)
            - inventory 'reserve stock' failed (a call no healthy trace makes). [5]
            - checkout 'POST' is missing (present in 4 of 4 healthy traces, with 2 call(s) below it). [2]
            - checkout 'publish orders' is missing (present in 4 of 4 healthy traces, with 2 call(s) below it). [2]
            > First divergence: inventory 'reserve stock' failed, in a call no healthy trace makes, 20.0 ms into the trace.
        "#]],
    );
}

#[test]
fn slower_needs_samples_and_a_clear_margin_and_fewer_calls_are_named() {
    let base = |fraud: u32, stock: &str| {
        format!(
            "
payments POST /charge 0..100 kind=server
  payments fraud check 1..{}
{stock}",
            1 + fraud
        )
    };
    let two = "  payments GET /limits 50..52\n  payments GET /limits 60..62\n";
    let baselines: Vec<Trace> = [3, 3, 4, 3, 4, 3]
        .iter()
        .map(|&d| one(&base(d, two)))
        .collect();
    let failing = one(&base(12, "  payments GET /limits 50..52\n"));
    expect![[r#"
        payments POST /charge ·
          payments fraud check slower
          payments GET /limits ·
        - payments 'GET /limits' ran once (healthy: twice). [2]
        - payments 'fraud check' took 12.0 ms, 3.0× the healthy p90 (p50 3.0 ms). [1]
        > First divergence: payments 'fraud check' took 12.0 ms, 3.0× the healthy p90, 1.0 ms into the trace.
    "#]]
    .assert_eq(&render(&failing, &run(&failing, &baselines)));
    // Five samples are not enough yet; a small margin over the p90 is not news.
    let few: Vec<Trace> = baselines.iter().take(4).cloned().collect();
    assert!(run(&failing, &few).rows_marked(SLOWER).is_empty());
    let close = one(&base(4, two));
    assert!(run(&close, &baselines).is_same());
}

#[test]
fn without_baselines_nothing_is_marked() {
    let f = one(HEALTHY);
    let c = run(&f, &[]);
    assert!(c.is_same());
    assert_eq!(c.first_divergence, None);
    assert_eq!(c.rows.len(), f.spans.len());
}

#[test]
fn an_empty_trace_compares_without_panicking() {
    let empty = Trace {
        trace_id: TraceId([1; 16]),
        spans: Vec::new(),
        nodes: Vec::new(),
        diagnostics: Vec::new(),
        start_ns: 0,
        end_ns: 0,
    };
    let c = run(&empty, &[one(HEALTHY)]);
    // Everything healthy traces do is missing, from the top.
    assert_eq!(c.ghosts.len(), one(HEALTHY).spans.len());
    assert_eq!(c.ghosts[0].parent, GhostParent::Top);
    assert!(c.first_divergence.is_some());
    let c = run(&one(HEALTHY), &[empty]);
    assert_eq!(c.rows_marked(NEW).len(), one(HEALTHY).spans.len());
}

// ---------------------------------------------------------------------------------------------
// Properties

/// A random tree in pre-order: per row (parent among earlier rows, service, name, duration, error).
fn arb_trace() -> impl Strategy<Value = Trace> {
    prop::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..3,
            0u8..6,
            1u64..50,
            prop::bool::weighted(0.1),
        ),
        1..40,
    )
    .prop_map(|rows| {
        let mut spans: Vec<Span> = Vec::new();
        for (i, (parent, svc, name, dur, err)) in rows.into_iter().enumerate() {
            let parent = (i > 0).then(|| parent.index(i));
            let id = SpanId((i as u64 + 1).to_be_bytes());
            let start = parent
                .and_then(|p| spans.get(p))
                .map_or(kit::BASE_NS, |p: &Span| p.start_ns + 1 + i as u64);
            spans.push(Span {
                trace_id: TraceId([9; 16]),
                span_id: id,
                parent_span_id: parent.map(|p| SpanId((p as u64 + 1).to_be_bytes())),
                service: format!("svc{svc}").into(),
                name: format!("op{name}").into(),
                kind: SpanKind::Internal,
                start_ns: start,
                end_ns: start + dur * 1_000_000,
                status: SpanStatus {
                    code: if err {
                        StatusCode::Error
                    } else {
                        StatusCode::Unset
                    },
                    message: None,
                },
                attributes: crate::domain::ThinVec::new(),
                events: crate::domain::ThinVec::new(),
                links: crate::domain::ThinVec::new(),
                resource: Default::default(),
                scope: None,
            });
        }
        assemble(spans).into_iter().next().expect("a trace")
    })
}

/// The trace without the subtree of `row` (rows renumbered, times unchanged).
fn without_subtree(t: &Trace, row: usize) -> Trace {
    let end = t.nodes[row].subtree_end as usize;
    let spans: Vec<Span> = t
        .spans
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < row || *i >= end)
        .map(|(_, s)| s.clone())
        .collect();
    assemble(spans).into_iter().next().expect("a trace")
}

/// The trace with the subtree of `row` copied once more (new span ids, same times).
fn with_duplicate(t: &Trace, row: usize) -> Trace {
    let end = t.nodes[row].subtree_end as usize;
    let mut spans = t.spans.clone();
    let fresh = |s: SpanId| {
        let mut b = *s.as_bytes();
        b[0] = 0xd0;
        SpanId(b)
    };
    for (i, s) in t.spans[row..end].iter().enumerate() {
        let mut c = s.clone();
        c.span_id = fresh(s.span_id);
        if i > 0 {
            c.parent_span_id = s.parent_span_id.map(fresh);
        }
        spans.push(c);
    }
    assemble(spans).into_iter().next().expect("a trace")
}

fn keys_of(t: &Trace, rows: std::ops::Range<usize>) -> Vec<u64> {
    let keys = key::row_keys(t);
    let mut v: Vec<u64> = rows.map(|r| keys[r]).collect();
    v.sort_unstable();
    v
}

/// Rows whose key occurs once in the trace (so their descendants' keys occur only below them).
fn unique_rows(t: &Trace) -> Vec<usize> {
    let keys = key::row_keys(t);
    (0..t.spans.len())
        .filter(|&r| keys.iter().filter(|k| **k == keys[r]).count() == 1)
        .filter(|&r| t.nodes[r].origin == RowOrigin::Span)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_trace_compared_with_copies_of_itself_has_no_differences(t in arb_trace(), n in 1usize..6) {
        let copies = vec![t.clone(); n];
        let c = run(&t, &copies);
        prop_assert!(c.is_same(), "{}", render(&t, &c));
        prop_assert_eq!(c.first_divergence, None);
    }

    #[test]
    fn removing_a_subtree_gives_ghost_rows_for_exactly_it(t in arb_trace(), pick in any::<prop::sample::Index>()) {
        let candidates: Vec<usize> = unique_rows(&t).into_iter().filter(|&r| r > 0).collect();
        prop_assume!(!candidates.is_empty());
        let row = candidates[pick.index(candidates.len())];
        let end = t.nodes[row].subtree_end as usize;
        let failing = without_subtree(&t, row);
        let c = run(&failing, &[t.clone(), t.clone(), t.clone()]);
        let mut ghost_keys: Vec<u64> = c.ghosts.iter().map(|g| g.key).collect();
        ghost_keys.sort_unstable();
        let mut want = keys_of(&t, row..end);
        want.dedup();
        prop_assert_eq!(ghost_keys, want);
        prop_assert!(c.rows.iter().all(|r| r.marks == 0), "{}", render(&failing, &c));
        // The top ghost hangs under (the first row of) the removed subtree's parent path.
        let parent = t.nodes[row].parent.map(|p| p as usize).expect("not the root");
        let parent_key = key::row_keys(&t)[parent];
        let top = c.ghosts.iter().find(|g| !matches!(g.parent, GhostParent::Ghost(_))).expect("a top ghost");
        let first = key::row_keys(&failing).iter().position(|k| *k == parent_key).expect("parent kept");
        prop_assert_eq!(top.parent, GhostParent::Row(first));
        prop_assert!(c.findings.iter().any(|f| f.ghost.is_some()));
    }

    #[test]
    fn duplicating_a_call_marks_exactly_it_as_repeated(t in arb_trace(), pick in any::<prop::sample::Index>()) {
        let candidates: Vec<usize> = unique_rows(&t).into_iter().filter(|&r| r > 0).collect();
        prop_assume!(!candidates.is_empty());
        let row = candidates[pick.index(candidates.len())];
        let end = t.nodes[row].subtree_end as usize;
        let failing = with_duplicate(&t, row);
        let c = run(&failing, &[t.clone(), t.clone()]);
        let repeated = c.rows_marked(REPEATED);
        prop_assert_eq!(repeated.len(), end - row, "{}", render(&failing, &c));
        let mut got: Vec<u64> = repeated.iter().map(|&r| c.rows[r].key).collect();
        got.sort_unstable();
        prop_assert_eq!(got, keys_of(&t, row..end));
        // Nothing else differs: no mark outside the copy, no ghost; inside it, a copied failure is
        // one failure more than usual, so it may be marked as such.
        for (r, d) in c.rows.iter().enumerate() {
            let allowed = if repeated.contains(&r) && failing.spans[r].is_error() { REPEATED | ERRORED } else if repeated.contains(&r) { REPEATED } else { 0 };
            prop_assert!(d.marks & !allowed == 0, "{}", render(&failing, &c));
        }
        prop_assert!(c.ghosts.is_empty());
        prop_assert!(
            c.findings.iter().any(|f| f.kind == FindingKind::Repeated && f.rows.iter().any(|r| repeated.contains(r))),
            "{}", render(&failing, &c)
        );
    }

    #[test]
    fn baseline_order_does_not_change_the_result(
        f in arb_trace(),
        bs in prop::collection::vec(arb_trace(), 1..6),
        seed in any::<u64>(),
    ) {
        let a = run(&f, &bs);
        let mut shuffled = bs.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(a, run(&f, &shuffled));
    }
}

#[test]
fn nodes_are_used_not_recomputed() {
    // A placeholder row (missing parent) is keyed but never marked or counted.
    let t = one("svc a 0..10 ^ghost\nsvc b 1..2 ^ghost");
    assert!(t
        .nodes
        .iter()
        .any(|n: &Node| n.origin == RowOrigin::MissingParent));
    let c = run(&t, &[one("svc x 0..10")]);
    for (r, n) in c.rows.iter().zip(&t.nodes) {
        if n.origin == RowOrigin::MissingParent {
            assert_eq!(r.marks, 0);
        }
    }
}
