//! The sniffing entry point: `formats::detect` and `formats::decode` on any bytes (gzip included).
//!
//! The decoded format is the detected one, except that protobuf holding Tempo's `TraceByIDResponse`
//! is reported as Tempo v2 (`Format::OtlpProtobuf` lists that message among its shapes, and the
//! decoder names the answer by the message it found). Decoded spans and events go through the
//! correlator.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode, detect, Format};

fuzz_target!(|data: &[u8]| {
    let detected = detect(data);
    let decoded = decode(data);
    if let (Ok(format), Ok(d)) = (&detected, &decoded) {
        let refined = (*format, d.format()) == (Format::OtlpProtobuf, Format::TempoV2);
        assert!(
            *format == d.format() || refined,
            "detected {format}, decoded {}",
            d.format()
        );
    }
    tracepin_fuzz::check_decoded(decoded);
});
