//! The plain Sentry event JSON (an envelope's `event` item) decoder, without sniffing: `formats::decode_as(Format::SentryEventJson, …)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode_as, Format};

fuzz_target!(|data: &[u8]| {
    tracepin_fuzz::check_decoded(decode_as(Format::SentryEventJson, data));
});
