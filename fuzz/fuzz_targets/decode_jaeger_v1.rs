//! The Jaeger v1 / UI JSON decoder, without sniffing: `formats::decode_as(Format::JaegerV1, …)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode_as, Format};

fuzz_target!(|data: &[u8]| {
    tracepin_fuzz::check_decoded(decode_as(Format::JaegerV1, data));
});
