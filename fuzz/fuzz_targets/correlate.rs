//! Decode and correlate together: the input is a trace payload and an events payload separated by
//! `tracepin_fuzz::SEPARATOR`, each decoded through the sniffing entry point, then correlated. Every
//! event must appear exactly once and every trace stay in pre-order; the ASCII waterfall and the CLI's
//! JSON report of the result must render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::decode;
use tracepin::correlate::{correlate, report, text, Options};

fuzz_target!(|data: &[u8]| {
    let (first, second) = match data
        .windows(tracepin_fuzz::SEPARATOR.len())
        .position(|w| w == tracepin_fuzz::SEPARATOR)
    {
        Some(at) => (&data[..at], &data[at + tracepin_fuzz::SEPARATOR.len()..]),
        None => (data, &[][..]),
    };
    let mut spans = Vec::new();
    let mut events = Vec::new();
    for part in [first, second] {
        if let Ok(d) = decode(part) {
            let (s, e) = tracepin_fuzz::split(d);
            spans.extend(s);
            events.extend(e);
        }
    }
    let c = correlate(spans, events, &Options::default());
    tracepin_fuzz::check_correlation(&c);
    let _ = text::render(&c);
    let _ = report::to_json(&c);
});
