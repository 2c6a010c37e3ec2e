//! The OTLP JSON decoder, without sniffing: `formats::decode_as(Format::OtlpJson, …)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode_as, Format};

fuzz_target!(|data: &[u8]| {
    tracepin_fuzz::check_decoded(decode_as(Format::OtlpJson, data));
});
