//! The OTLP protobuf decoders: `formats::decode_as(Format::OtlpProtobuf, …)` (gzip accepted),
//! `decode_otlp_protobuf` and `decode_tempo_v2_protobuf` (Tempo's `TraceByIDResponse`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{
    decode_as, decode_otlp_protobuf, decode_tempo_v2_protobuf, Decoded, Format,
};

fuzz_target!(|data: &[u8]| {
    tracepin_fuzz::check_decoded(decode_as(Format::OtlpProtobuf, data));
    tracepin_fuzz::check_decoded(decode_otlp_protobuf(data).map(Decoded::Trace));
    tracepin_fuzz::check_decoded(decode_tempo_v2_protobuf(data).map(Decoded::Trace));
});
