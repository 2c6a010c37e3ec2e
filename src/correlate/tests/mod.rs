//! Data-driven tests of the correlation core: text-form traces and events in, ASCII waterfall out.
//!
//! One helper per area: [`check_assemble`] renders assembled rows and diagnostics, [`check`] runs
//! `correlate` and renders every timeline with pins, unplaced events, skew and the critical path.
//! Update expectations with `UPDATE_EXPECT=1 cargo test --features ssr --lib correlate`.

mod assemble;
mod compare;
mod kit;
mod pin;
mod prop;
mod skew;

use expect_test::Expect;

use super::{assemble::assemble, correlate, text, Options, Skew, Timeline};

/// Assembles the trace text form and renders rows (no pins, no skew, no critical path).
fn check_assemble(input: &str, expect: Expect) {
    let mut out = String::new();
    for trace in assemble(kit::spans(input)) {
        let rows = trace.spans.len();
        let timeline = Timeline {
            trace,
            pins: Vec::new(),
            unplaced: Vec::new(),
            skew: Skew::none(rows),
            critical_path: Vec::new(),
        };
        out.push_str(&text::render_timeline(&timeline, &[]));
    }
    expect.assert_eq(&out);
}

/// Correlates the trace and event text forms with `opts` and renders the result.
fn check_with(opts: &Options, trace: &str, events: &str, expect: Expect) {
    let c = correlate(kit::spans(trace), kit::events(events), opts);
    expect.assert_eq(&text::render(&c));
}

/// Correlates with default options and renders the result.
fn check(trace: &str, events: &str, expect: Expect) {
    check_with(&Options::default(), trace, events, expect);
}
