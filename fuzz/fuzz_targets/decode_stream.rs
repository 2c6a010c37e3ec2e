//! Decoding piece by piece against decoding whole: `SpanStream` must give exactly the spans
//! `decode_as` gives, and refuse what it refuses. The first byte picks the format and the piece size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::connectors::formats::{decode_as, Decoded, Format, SpanStream};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, doc)) = data.split_first() else {
        return;
    };
    let format = [
        Format::OtlpJson,
        Format::JaegerV3,
        Format::TempoV1,
        Format::TempoV2,
    ][usize::from(pick & 3)];
    let piece = usize::from(pick >> 2) + 1;
    let Some(mut stream) = SpanStream::new(format) else {
        panic!("{format} is read piece by piece");
    };
    for c in doc.chunks(piece) {
        stream.push(c);
    }
    let streamed = stream.finish();
    // Gzip is the whole decoder's business (`decode_read` unpacks before streaming).
    if doc.starts_with(&[0x1f, 0x8b]) {
        return;
    }
    match (decode_as(format, doc), streamed) {
        (Ok(Decoded::Trace(w)), Ok(s)) => {
            assert_eq!(w.spans, s.spans, "spans differ");
            assert_eq!(w.partial, s.partial, "partial notes differ");
        }
        (Err(_), Err(e)) => assert!(!e.to_string().is_empty()),
        (w, s) => panic!(
            "whole {:?}, streamed {:?}",
            w.map(|_| "decoded"),
            s.map(|t| t.spans.len())
        ),
    }
});
