//! The Sentry Web API event decoders: `formats::decode_as(Format::SentryWebEvent, …)` (one event or a
//! list) and `decode_sentry_web_event` (one event, as the Sentry connector reads it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode_as, decode_sentry_web_event, Decoded, Format};

fuzz_target!(|data: &[u8]| {
    tracepin_fuzz::check_decoded(decode_as(Format::SentryWebEvent, data));
    tracepin_fuzz::check_decoded(decode_sentry_web_event(data).map(|e| Decoded::Events {
        format: Format::SentryWebEvent,
        events: vec![e],
    }));
});
