//! The lenient id parsers at the edge: `domain::lenient::{trace,span,event}_id_lenient` on any text.
//!
//! An accepted id prints as the strict spelling, which both the strict `FromStr` and the lenient
//! parser read back as the same id; a refusal is one sentence ending with a full stop.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::domain::{
    event_id_lenient, span_id_lenient, trace_id_lenient, BadId, EventId, SpanId, TraceId,
};

fn check<T>(raw: &str, parsed: Result<T, BadId>, lenient: fn(&str) -> Result<T, BadId>)
where
    T: std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug,
    T::Err: std::fmt::Debug,
{
    match parsed {
        Ok(id) => {
            let strict = id.to_string();
            assert!(
                strict
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{raw:?} printed as {strict:?}"
            );
            assert_eq!(strict.parse::<T>().expect("strict spelling parses"), id);
            assert_eq!(
                lenient(&strict).expect("strict spelling is lenient too"),
                id
            );
        }
        Err(e) => assert!(e.message.ends_with('.'), "{raw:?}: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    check::<TraceId>(raw, trace_id_lenient(raw), trace_id_lenient);
    check::<SpanId>(raw, span_id_lenient(raw), span_id_lenient);
    check::<EventId>(raw, event_id_lenient(raw), event_id_lenient);
});
