//! Decoding piece by piece (`SpanStream`, `decode_read`) gives what decoding the whole document gives:
//! the same spans for every trace fixture at any piece size, and the same error, at the same line and
//! column, for broken documents.

use std::path::{Path, PathBuf};

use tracepin::connectors::formats::{
    self, decode, decode_read, streams, Decoded, DecodedTrace, Format, FormatError, SpanStream,
};

fn streamed(format: Format, bytes: &[u8], piece: usize) -> Result<DecodedTrace, FormatError> {
    let mut s = SpanStream::new(format).expect("a streamed format");
    for c in bytes.chunks(piece.max(1)) {
        s.push(c);
    }
    s.finish()
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "json" || x == "jsonl") {
            out.push(p);
        }
    }
}

/// Whole decode and streamed decode at several piece sizes agree on `bytes` (spans, note or error).
fn agree(label: &str, format: Format, bytes: &[u8]) -> Result<usize, String> {
    agree_in(label, format, bytes, &[1, 3, 17, 4096, usize::MAX])
}

fn agree_in(label: &str, format: Format, bytes: &[u8], pieces: &[usize]) -> Result<usize, String> {
    let whole = formats::decode_as(format, bytes);
    for &piece in pieces {
        let s = streamed(format, bytes, piece);
        match (&whole, &s) {
            (Ok(Decoded::Trace(w)), Ok(s)) => {
                if w.spans != s.spans {
                    return Err(format!(
                        "{label}, pieces of {piece}: spans differ ({} whole, {} streamed)",
                        w.spans.len(),
                        s.spans.len()
                    ));
                }
                if w.partial != s.partial {
                    return Err(format!("{label}, pieces of {piece}: partial note differs"));
                }
            }
            (Err(w), Err(s)) => {
                if w.to_string() != s.to_string() {
                    return Err(format!(
                        "{label}, pieces of {piece}: errors differ:\n  whole:    {w}\n  streamed: {s}"
                    ));
                }
            }
            (w, s) => {
                return Err(format!(
                    "{label}, pieces of {piece}: whole {:?} but streamed {:?}",
                    w.as_ref().map(|_| "decoded").map_err(ToString::to_string),
                    s.as_ref().map(|_| "decoded").map_err(ToString::to_string)
                ))
            }
        }
    }
    Ok(match whole {
        Ok(Decoded::Trace(t)) => t.spans.len(),
        _ => 0,
    })
}

#[test]
fn every_trace_fixture_decodes_the_same_piece_by_piece() {
    let mut files = Vec::new();
    json_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut files,
    );
    files.sort();
    let mut checked = 0;
    let mut spans = 0;
    let mut failures = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read fixture");
        let Ok(format) = formats::detect(&bytes) else {
            continue;
        };
        if !streams(format) {
            continue;
        }
        checked += 1;
        match agree(&path.display().to_string(), format, &bytes) {
            Ok(n) => spans += n,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixtures hold every streamed format: OTLP JSON, Tempo v1 and v2, Jaeger api_v3.
    assert!(checked >= 20, "only {checked} trace fixtures found");
    assert!(spans >= 1000, "only {spans} spans in the trace fixtures");
}

const IDS: &str = r#""traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174""#;

fn span(id: u8, extra: &str) -> String {
    format!(
        r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"00000000000000{id:02x}","name":"s{id}"{extra}}}"#
    )
}

#[test]
fn odd_shapes_and_broken_documents_agree_with_the_whole_decoder() {
    let res = r#"{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]}"#;
    let cases: Vec<(&str, Format, String)> = vec![
        (
            "resource after its spans, scope after its spans",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},{}],"scope":{{"name":"lib"}}}}],"resource":{res}}}]}}"#,
                span(1, ""),
                span(2, r#","parentSpanId":"0000000000000001""#)
            ),
        ),
        (
            "two resources, two scopes each, an empty list and a null one",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"resource":{res},"scopeSpans":[{{"spans":[{}]}},{{"spans":[]}}]}},{{"scopeSpans":[{{"spans":null}},{{"scope":{{"name":"x"}},"spans":[{}]}}]}}]}}"#,
                span(1, ""),
                span(2, "")
            ),
        ),
        (
            "a key written with an escape (left to the skeleton)",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"resource":{res},"scopeSpans":[{{"sp\u0061ns":[{}]}},{{"spans":[{}]}}]}}]}}"#,
                span(1, ""),
                span(2, "")
            ),
        ),
        (
            "fields by position",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[[{res},[[{{"name":"lib"}},[{}]]]]]}}"#,
                span(1, "")
            ),
        ),
        (
            "JSON Lines, pretty-printed, with a byte order mark",
            Format::OtlpJson,
            format!(
                "\u{feff}{{\n  \"resourceSpans\": [\n    {{\"scopeSpans\": [{{\"spans\": [\n      {},\n      {}\n    ]}}]}}\n  ]\n}}\n{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}\n",
                span(1, ""),
                span(2, ""),
                span(3, "")
            ),
        ),
        (
            "Tempo v1 batches with instrumentationLibrarySpans",
            Format::TempoV1,
            format!(
                r#"{{"batches":[{{"resource":{res},"instrumentationLibrarySpans":[{{"instrumentationLibrary":{{"name":"old"}},"spans":[{}]}}]}}]}}"#,
                span(1, "")
            ),
        ),
        (
            "Tempo v2 partial",
            Format::TempoV2,
            format!(
                r#"{{"trace":{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}},"status":"PARTIAL","message":"too big"}}"#,
                span(1, "")
            ),
        ),
        (
            "Jaeger api_v3, spans outside result are ignored",
            Format::JaegerV3,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"kind":{{}}}}]}}]}}],"result":{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}}}"#,
                span(1, "")
            ),
        ),
        (
            "Jaeger api_v3 error body",
            Format::JaegerV3,
            r#"{"error":{"httpCode":404,"message":"No traces found"}}"#.to_owned(),
        ),
        (
            "a span of the wrong type",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"00000000000000ff","kind":{{}}}}]}}]}}]}}"#,
                span(1, "")
            ),
        ),
        (
            "a span missing its id, on the third line",
            Format::OtlpJson,
            format!(
                "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[\n{},\n  {{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"name\":\"x\"}}\n]}}]}}]}}",
                span(1, "")
            ),
        ),
        (
            "spans that are a string, a number, an object",
            Format::OtlpJson,
            r#"{"resourceSpans":[{"scopeSpans":[{"spans":"tracepin-spans-0000000000000000-0"},{"spans":5},{"spans":{}}]}]}"#
                .to_owned(),
        ),
        (
            "a trailing comma in a span list",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{},]}}]}}]}}"#,
                span(1, "")
            ),
        ),
        (
            "a span list closed by a brace",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}}}]}}]}}"#,
                span(1, "")
            ),
        ),
        (
            "a syntax error after the spans, on a later line",
            Format::OtlpJson,
            format!(
                "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{}]}}],\n \"resource\": {{\"attributes\": [}}]}}",
                span(1, "")
            ),
        ),
        (
            "a syntax error on the same line after the spans",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}],"resource":tru}}]}}"#,
                span(1, "")
            ),
        ),
        (
            "a duplicate span list",
            Format::OtlpJson,
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}],"spans":[]}}]}}]}}"#,
                span(1, "")
            ),
        ),
        ("not JSON at all", Format::OtlpJson, "resourceSpans".to_owned()),
        ("blank", Format::OtlpJson, " \n\t ".to_owned()),
        (
            "not UTF-8 inside a span",
            Format::OtlpJson,
            format!(
                "{{\"resourceSpans\":[{{\"scopeSpans\":[{{\"spans\":[{{{IDS},\"name\":\"\u{00e9}\"}}]}}]}}]}}"
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (label, format, doc) in &cases {
        let mut bytes = doc.clone().into_bytes();
        if label.starts_with("not UTF-8") {
            // Cut the two-byte é in half.
            let at = bytes.iter().position(|b| *b == 0xc3).expect("é");
            bytes.remove(at);
        }
        if let Err(e) = agree(label, *format, &bytes) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // And the shapes that decode give what they should.
    let spans = |i: usize| match formats::decode_as(cases[i].1, cases[i].2.as_bytes()) {
        Ok(Decoded::Trace(t)) => t.spans,
        other => panic!("{}: {other:?}", cases[i].0),
    };
    let first = streamed(cases[0].1, cases[0].2.as_bytes(), 5).expect("decodes");
    assert_eq!(first.spans.len(), 2);
    assert!(first.spans.iter().all(|s| &*s.service == "api"));
    assert!(first
        .spans
        .iter()
        .all(|s| s.scope.as_deref() == Some("lib")));
    assert_eq!(spans(1).len(), 2);
    assert_eq!(spans(2).len(), 2);
    assert_eq!(spans(4).len(), 3);
    assert_eq!(spans(7).len(), 1);
}

#[test]
fn a_document_cut_anywhere_fails_the_same_way() {
    let doc = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats/tempo-v2.partial.json"),
    )
    .expect("fixture");
    let format = formats::detect(&doc).expect("format");
    assert_eq!(format, Format::TempoV2);
    let mut failures = Vec::new();
    for cut in (1..doc.len() - 1).step_by(3) {
        let part = &doc[..cut];
        if part.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Err(e) = agree_in(&format!("cut at {cut}"), format, part, &[5, usize::MAX]) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cuts differ:\n{}",
        failures.len(),
        doc.len(),
        failures[..failures.len().min(8)].join("\n")
    );
}

#[test]
fn a_large_file_is_read_piece_by_piece_plain_or_gzipped() {
    // 3 MiB of OTLP JSON: more than one piece of `decode_read`.
    let mut spans = Vec::new();
    for i in 1..=12_000u32 {
        spans.push(format!(
            r#"{{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"{i:016x}","name":"op {}","startTimeUnixNano":"{}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/a/{}"}}}}]}}"#,
            i % 50,
            1_700_000_000_000_000_000u64 + u64::from(i),
            1_700_000_000_000_100_000u64 + u64::from(i),
            i % 7
        ));
    }
    let doc = format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"big"}}}}]}},"scopeSpans":[{{"scope":{{"name":"s"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",\n")
    );
    assert!(doc.len() > 2 * 1024 * 1024, "{}", doc.len());
    let whole = match decode(doc.as_bytes()) {
        Ok(Decoded::Trace(t)) => t,
        other => panic!("{other:?}"),
    };
    let read = match decode_read(doc.as_bytes()) {
        Ok(Decoded::Trace(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(whole.spans.len(), 12_000);
    assert_eq!(read.spans, whole.spans);
    assert!(read.spans.iter().all(|s| &*s.service == "big"));

    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(doc.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let read = match decode_read(gz.as_slice()) {
        Ok(Decoded::Trace(t)) => t,
        other => panic!("{other:?}"),
    };
    assert_eq!(read.spans, whole.spans);

    // Cut short, the error names the end of what was read, as for the whole file.
    let cut = &doc.as_bytes()[..doc.len() - 1000];
    let (w, r) = (
        decode(cut).expect_err("cut"),
        decode_read(cut).expect_err("cut"),
    );
    assert_eq!(w.to_string(), r.to_string());
    assert!(r.to_string().contains("EOF while parsing"), "{r}");

    // A bad span deep inside (decoded on the decoding thread): the same error, line and column.
    let bad = doc
        .replacen(
            r#""spanId":"0000000000002328""#,
            r#""spanId":"not hex at all!!""#,
            1,
        )
        .replacen(r#""spanId":"0000000000001000""#, r#""spanId":12"#, 1);
    assert_ne!(bad, doc);
    let (w, r) = (
        decode(bad.as_bytes()).expect_err("bad id"),
        decode_read(bad.as_bytes()).expect_err("bad id"),
    );
    assert_eq!(w.to_string(), r.to_string());
    assert!(r.to_string().contains("line 4096,"), "{r}");

    // However many decoding threads share the batches, the spans come out in document order, and
    // the first error is the first in the document.
    for decoders in [1, 2, 3] {
        let mut s = SpanStream::with_decoders(Format::OtlpJson, decoders).expect("streamed");
        for c in doc.as_bytes().chunks(100_000) {
            s.push(c);
        }
        assert_eq!(
            s.finish().expect("decodes").spans,
            whole.spans,
            "{decoders} threads"
        );
        let mut s = SpanStream::with_decoders(Format::OtlpJson, decoders).expect("streamed");
        for c in bad.as_bytes().chunks(100_000) {
            s.push(c);
        }
        assert_eq!(s.finish().expect_err("bad").to_string(), w.to_string());
    }
    // Batches decoded on the scanning thread (as when the threads' queues are full) between those of
    // the threads: every one, every second, every third.
    // Whether or not the document's size was said up front (as a file's length is), and when the
    // size said is far too small (a file that grew), so the room reserved runs out.
    let len = doc.len() as u64;
    for (decoders, every, size) in [
        (1, 1, None),
        (1, 2, Some(len)),
        (2, 3, None),
        (2, 3, Some(len)),
        (2, 3, Some(len / 3)),
    ] {
        let what = format!("{decoders} threads, every {every} batch here, size said: {size:?}");
        let mut s = SpanStream::with_decoders(Format::OtlpJson, decoders)
            .expect("streamed")
            .decode_here_every(every);
        if let Some(size) = size {
            s.expect_bytes(size);
        }
        for c in doc.as_bytes().chunks(100_000) {
            s.push(c);
        }
        let spans = s.finish().expect("decodes").spans;
        assert_eq!(spans, whole.spans, "{what}");
        // Joined into a vector of about their number: no room for twice as many left over from
        // growing it.
        assert!(
            spans.capacity() <= spans.len() + spans.len() / 4,
            "{what}: {} spans in room for {}",
            spans.len(),
            spans.capacity()
        );
        let mut s = SpanStream::with_decoders(Format::OtlpJson, decoders)
            .expect("streamed")
            .decode_here_every(every);
        for c in bad.as_bytes().chunks(100_000) {
            s.push(c);
        }
        assert_eq!(
            s.finish().expect_err("bad").to_string(),
            w.to_string(),
            "{what}"
        );
    }

    // Not a streamed format: read whole, decoded as before.
    let events = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/formats/sentry-web.d2-inventory.json"),
    )
    .expect("fixture");
    assert!(matches!(
        decode_read(events.as_slice()),
        Ok(Decoded::Events { .. })
    ));
}
