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
        expect![[r#""#]],
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
    let row = t.trace.spans.iter().position(|s| s.name == "POST psp").expect("row");
    assert_eq!(t.trace.spans[row].start_ns, kit::at(262.0), "raw time kept");
    assert_eq!(t.skew.adjusted(row, t.trace.spans[row].start_ns), kit::at(12.0));
    // Pins ordered by adjusted time: payments' event (raw 275 ms, adjusted 25 ms) comes first.
    let names: Vec<&str> = t.pins.iter().map(|p| c.events[p.event].title.as_str()).collect();
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
        expect![[r#""#]],
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
        expect![[r#""#]],
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
        expect![[r#""#]],
    );
}
