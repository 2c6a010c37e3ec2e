//! Clock skew and critical path.

use expect_test::expect;

use super::{check, kit};
use crate::correlate::{correlate, Options};

/// payments runs 250 ms ahead; the worker is asynchronous (not skew).
const SKEWED: &str = "
checkout POST /api 0..100 kind=server
  checkout POST 10..30 kind=client
    payments POST /charge 261..279 kind=server #charge1
      payments POST psp 262..278 kind=client #psp1 !err
  checkout POST 40..60 kind=client
    payments POST /charge 291..309 kind=server
  checkout publish 70..71 kind=producer
    worker process 75..95 kind=consumer
";

#[test]
fn service_clock_offset_is_estimated_and_events_move_with_it() {
    check(
        SKEWED,
        "
e-pay @275 svc=payments ctx=psp1
e-checkout @27 svc=checkout ctx-trace=T
",
        expect![[r#"
            trace 00000000000000000000000000000054  8 spans  100.0 ms
              0 * checkout POST /api                 |========================================| 0.0..100.0
              1 *   checkout POST                    |    ========                            | 10.0..30.0
                    ^ 27.0 e-checkout [enclosing_span]
              2 *     payments POST /charge          |    =======                             | 11.0..29.0 raw 261.0..279.0
              3 *       payments POST psp            |    #######                             | 12.0..28.0 !err raw 262.0..278.0
                        ^ 25.0 e-pay [span_id]
              4 *   checkout POST                    |                ========                | 40.0..60.0
              5 *     payments POST /charge          |                =======                 | 41.0..59.0 raw 291.0..309.0
              6 *   checkout publish                 |                            =           | 70.0..71.0
              7 *     worker process                 |                              ========  | 75.0..95.0
            ! clock_skew: The clock of payments appears 250.0 ms ahead of checkout (from 2 call(s) crossing the services); its spans and errors are shown shifted by -250.0 ms, raw times are kept.

        "#]],
    );
}

#[test]
fn skew_keeps_raw_times_and_exposes_offsets() {
    let c = correlate(
        kit::spans(SKEWED),
        kit::events("e-pay @275 svc=payments ctx=psp1\ne-checkout @27 svc=checkout ctx-trace=T"),
        &Options::default(),
    );
    let t = &c.timelines[0];
    assert_eq!(t.skew.services.len(), 1);
    assert_eq!(t.skew.services[0].service, "payments");
    assert_eq!(t.skew.services[0].reference, "checkout");
    assert_eq!(t.skew.offset_of("payments"), 250_000_000);
    let row = t
        .trace
        .spans
        .iter()
        .position(|s| &*s.name == "POST psp")
        .expect("row");
    assert_eq!(t.trace.spans[row].start_ns, kit::at(262.0), "raw time kept");
    assert_eq!(
        t.skew.adjusted(row, t.trace.spans[row].start_ns),
        kit::at(12.0)
    );
    // Pins ordered by adjusted time: payments' event (raw 275 ms, adjusted 25 ms) comes first.
    let names: Vec<&str> = t
        .pins
        .iter()
        .map(|p| c.events[p.event].title.as_str())
        .collect();
    assert_eq!(names, ["e-pay", "e-checkout"]);
    assert_eq!(t.pins[0].adjusted_time_ns, kit::at(25.0));
    assert_eq!(t.pins[0].time_ns, kit::at(275.0));
}

#[test]
fn consistent_calls_have_no_skew() {
    check(
        "
frontend GET / 0..50 kind=server
  frontend GET 5..45 kind=client
    api GET /x 6..44 kind=server
      api publish 10..11 kind=producer
        worker consume 30..80 kind=consumer
",
        "",
        expect![[r#"
            trace 00000000000000000000000000000054  5 spans  80.0 ms
              0 * frontend GET /                     |=========================               | 0.0..50.0
              1 *   frontend GET                     |  ====================                  | 5.0..45.0
              2 *     api GET /x                     |   ===================                  | 6.0..44.0
              3 *       api publish                  |     =                                  | 10.0..11.0
              4 *         worker consume             |               =========================| 30.0..80.0

        "#]],
    );
}

#[test]
fn critical_path_walks_back_from_the_end() {
    // B overlaps the later critical child C, so it ran in parallel and is not critical.
    check(
        "
api GET /x 0..100
  db A 10..30
  db B 20..60
  cache C 50..70
    cache C1 52..58
    cache C2 60..69
  svc D 80..90
",
        "",
        expect![[r#"
            trace 00000000000000000000000000000054  7 spans  100.0 ms
              0 * api GET /x                         |========================================| 0.0..100.0
              1 *   db A                             |    ========                            | 10.0..30.0
              2     db B                             |        ================                | 20.0..60.0
              3 *   cache C                          |                    ========            | 50.0..70.0
              4 *     cache C1                       |                    ===                 | 52.0..58.0
              5 *     cache C2                       |                        ===             | 60.0..69.0
              6 *   svc D                            |                                ====    | 80.0..90.0

        "#]],
    );
}

#[test]
fn critical_path_picks_the_last_finishing_root() {
    check(
        "
api early 0..40 %T
  db q 5..35 %T
api late 10..60 ^- %T
  db r 20..30 %T
",
        "",
        expect![[r#"
            trace 00000000000000000000000000000054  4 spans  60.0 ms
              0   api early                          |==========================              | 0.0..40.0
              1     db q                             |   ====================                 | 5.0..35.0
              2 * api late                           |      ==================================| 10.0..60.0
              3 *   db r                             |             =======                    | 20.0..30.0

        "#]],
    );
}

/// A callee that pokes 20 ns out of its caller is timestamp rounding, not a clock that is off; 0.2 ms
/// is taken as skew.
#[test]
fn offsets_below_timer_resolution_are_not_skew() {
    let skew_of = |text: &str| {
        let c = correlate(kit::spans(text), kit::events(""), &Options::default());
        c.timelines[0].skew.clone()
    };
    let rounding = skew_of(
        "
checkout POST /api 0..1 kind=server
  checkout POST 0.1..0.2 kind=client
    payments POST /charge 0.10002..0.20002 kind=server
",
    );
    assert!(rounding.is_empty(), "{rounding:?}");
    assert!(rounding.adjust.iter().all(|&a| a == 0));
    let off = skew_of(
        "
checkout POST /api 0..1 kind=server
  checkout POST 0.1..0.2 kind=client
    payments POST /charge 0.3..0.4 kind=server
",
    );
    assert_eq!(off.offset_of("payments"), 200_000);
}

/// From `PARALLEL_FROM_SPANS` spans on, pinning and the critical path run on two threads: the
/// timeline still holds the pins and the path they compute on their own.
#[test]
fn a_large_trace_pins_and_walks_its_critical_path_side_by_side() {
    let mut text = String::from("api GET / 0..100 kind=server\n");
    for i in 0..60_000 {
        let start = f64::from(i) * 0.001;
        let mark = if i == 41_000 { " #hit !err" } else { "" };
        text.push_str(&format!("  db q{i} {start}..{}{mark}\n", start + 0.0005));
    }
    let c = correlate(
        kit::spans(&text),
        kit::events("e-db @41.0002 svc=db ctx=hit"),
        &Options::default(),
    );
    let t = &c.timelines[0];
    assert_eq!(t.trace.spans.len(), 60_001);
    assert_eq!(t.pins.len(), 1);
    let row = t.pins[0].row;
    assert_eq!(&*t.trace.spans[row].name, "q41000");
    assert_eq!(
        t.critical_path,
        crate::correlate::critical_path::critical_path(&t.trace, &t.skew)
    );
    assert!(t.critical_path.contains(&0), "the root is on the path");
}
