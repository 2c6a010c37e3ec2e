//! Format detection from the first bytes and the top-level JSON keys, without parsing the document.
//!
//! A small byte scanner walks the top-level object key by key, skipping values by bracket matching, and
//! stops at the first key that decides the format (`resourceSpans` is usually the first key of a
//! 100 MB OTLP file, so that costs nothing). Protobuf is considered only for input that starts with
//! field 1 (byte `0x0a`) and whose top-level protobuf framing is consistent to the last byte, checked
//! before the JSON reading because `0x0a` is also a newline.

use super::{Format, FormatError};

/// True for input that is empty or only whitespace (a UTF-8 byte order mark included).
pub(super) fn is_blank(bytes: &[u8]) -> bool {
    strip_bom(bytes).iter().all(u8::is_ascii_whitespace)
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads a protobuf varint at `*i`.
fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut out = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        out |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(out);
        }
    }
    None
}

/// True when the bytes frame as a protobuf message whose fields all fit exactly, with field 1
/// length-delimited first (as `TracesData`, `ExportTraceServiceRequest` and Tempo's messages are).
fn looks_like_protobuf(b: &[u8]) -> bool {
    if b.first() != Some(&0x0a) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let Some(tag) = varint(b, &mut i) else {
            return false;
        };
        if tag >> 3 == 0 {
            return false;
        }
        let ok = match tag & 7 {
            0 => varint(b, &mut i).is_some(),
            1 => {
                i += 8;
                i <= b.len()
            }
            2 => match varint(b, &mut i).and_then(|n| usize::try_from(n).ok()) {
                Some(n) => match i.checked_add(n) {
                    Some(end) if end <= b.len() => {
                        i = end;
                        true
                    }
                    _ => false,
                },
                None => false,
            },
            5 => {
                i += 4;
                i <= b.len()
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn ws(&mut self) {
        while self
            .b
            .get(self.i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek() == Some(c)).then(|| self.i += 1)
    }

    /// At `"`: returns the raw string contents (escapes left as is) and moves past the closing quote.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            match self.b.get(self.i)? {
                b'"' => {
                    let s = &self.b[start..self.i];
                    self.i += 1;
                    return Some(s);
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.b.get(self.i)? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                let start = self.i;
                while self.peek().is_some_and(|c| {
                    !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    /// The first key of the object starting at the cursor, without moving it.
    fn first_key_of_value(&self) -> Option<&'a [u8]> {
        let mut s = Scanner {
            b: self.b,
            i: self.i,
        };
        s.eat(b'{')?;
        s.ws();
        s.string()
    }
}

/// What scanning one top-level object found.
enum ObjectScan<'a> {
    /// A key settled the format.
    Decided(Format),
    /// The whole object was read; its keys in order, and whether more content follows it.
    Complete {
        keys: Vec<&'a [u8]>,
        trailing: Option<u8>,
    },
    /// The JSON is malformed before a decision could be made.
    Broken,
}

const ENVELOPE_HEADER_KEYS: [&[u8]; 5] = [b"event_id", b"sent_at", b"dsn", b"sdk", b"trace"];
const TEMPO_V2_KEYS: [&[u8]; 4] = [b"trace", b"metrics", b"status", b"message"];
const EVENT_KEYS: [&[u8]; 14] = [
    b"exception",
    b"logentry",
    b"message",
    b"event_id",
    b"level",
    b"timestamp",
    b"contexts",
    b"breadcrumbs",
    b"platform",
    b"release",
    b"tags",
    b"server_name",
    b"environment",
    b"user",
];

/// Decides from one key (and a peek at its value) when the key alone is conclusive.
fn decisive(key: &[u8], value: &Scanner<'_>, envelope_keys_seen: bool) -> Option<Format> {
    let v = value.peek();
    match key {
        b"resourceSpans" => Some(Format::OtlpJson),
        b"batches" => Some(Format::TempoV1),
        b"result" => Some(Format::JaegerV3),
        b"error" if v == Some(b'{') => Some(Format::JaegerV3),
        b"data" if matches!(v, Some(b'[' | b'{' | b'n')) => Some(Format::JaegerV1),
        b"traceID" | b"processes" => Some(Format::JaegerV1),
        b"entries" | b"eventID" | b"groupID" | b"dateCreated" | b"dateReceived" | b"eventId"
        | b"organizationSlug" => Some(Format::SentryWebEvent),
        b"trace" if !envelope_keys_seen => match value.first_key_of_value() {
            Some(b"resourceSpans" | b"batches") => Some(Format::TempoV2),
            _ => None,
        },
        _ => None,
    }
}

fn scan_object<'a>(s: &mut Scanner<'a>) -> ObjectScan<'a> {
    let mut keys = Vec::new();
    let mut envelope_keys_seen = false;
    if s.eat(b'{').is_none() {
        return ObjectScan::Broken;
    }
    s.ws();
    if s.eat(b'}').is_none() {
        loop {
            s.ws();
            let Some(key) = s.string() else {
                return ObjectScan::Broken;
            };
            s.ws();
            if s.eat(b':').is_none() {
                return ObjectScan::Broken;
            }
            s.ws();
            if let Some(f) = decisive(key, s, envelope_keys_seen) {
                return ObjectScan::Decided(f);
            }
            envelope_keys_seen |= matches!(key, b"event_id" | b"sent_at" | b"dsn" | b"sdk");
            keys.push(key);
            if s.skip_value().is_none() {
                return ObjectScan::Broken;
            }
            s.ws();
            match s.peek() {
                Some(b',') => s.i += 1,
                Some(b'}') => {
                    s.i += 1;
                    break;
                }
                _ => return ObjectScan::Broken,
            }
        }
    }
    s.ws();
    ObjectScan::Complete {
        keys,
        trailing: s.peek(),
    }
}

fn describe_keys(keys: &[&[u8]]) -> String {
    if keys.is_empty() {
        return "an empty JSON object".to_owned();
    }
    let shown: Vec<String> = keys
        .iter()
        .take(8)
        .map(|k| format!("\"{}\"", String::from_utf8_lossy(k)))
        .collect();
    let more = if keys.len() > 8 { ", …" } else { "" };
    format!("a JSON object with keys {}{more}", shown.join(", "))
}

/// Reports the syntax error of malformed JSON with its position, via serde_json.
fn syntax_error(bytes: &[u8]) -> FormatError {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(e) => super::json::json_error(None, &e, 0),
        Ok(_) => FormatError::UnknownFormat {
            found: "JSON the format sniffer could not read".to_owned(),
        },
    }
}

/// An "unknown format" error, unless the JSON is malformed: then its syntax error, with position.
/// (JSON Lines count as well-formed.)
fn unknown_unless_malformed(bytes: &[u8], found: String) -> FormatError {
    let stream = serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    for item in stream {
        if let Err(e) = item {
            return super::json::json_error(None, &e, 0);
        }
    }
    FormatError::UnknownFormat { found }
}

fn decide_object(bytes: &[u8], s: &mut Scanner<'_>) -> Result<Format, FormatError> {
    match scan_object(s) {
        ObjectScan::Decided(f) => Ok(f),
        ObjectScan::Broken => Err(syntax_error(bytes)),
        ObjectScan::Complete { keys, trailing } => {
            let has = |k: &[u8]| keys.contains(&k);
            let header_like = keys.iter().all(|k| ENVELOPE_HEADER_KEYS.contains(k));
            if trailing == Some(b'{') {
                // An envelope's second line is an item header with a `type`.
                if let ObjectScan::Complete { keys: item, .. } = scan_object(s) {
                    if header_like || item.contains(&&b"type"[..]) {
                        return Ok(Format::SentryEnvelope);
                    }
                }
                return Err(unknown_unless_malformed(
                    bytes,
                    format!("JSON Lines whose first line is {}", describe_keys(&keys)),
                ));
            }
            if trailing.is_some() {
                // Several documents, not an envelope: let the JSON reader name the position.
                return Err(syntax_error(bytes));
            }
            if !keys.is_empty() && header_like && has(b"sent_at") {
                return Ok(Format::SentryEnvelope);
            }
            let tempo_v2_like = keys.iter().all(|k| TEMPO_V2_KEYS.contains(k));
            if !keys.is_empty()
                && tempo_v2_like
                && (has(b"trace") || has(b"metrics") || has(b"status"))
            {
                return Ok(Format::TempoV2);
            }
            if keys.iter().any(|k| EVENT_KEYS.contains(k)) {
                return Ok(Format::SentryEventJson);
            }
            if has(b"spans") {
                return Ok(Format::JaegerV1);
            }
            Err(unknown_unless_malformed(bytes, describe_keys(&keys)))
        }
    }
}

/// Detects the format of plain (decompressed) bytes.
pub(super) fn detect(bytes: &[u8]) -> Result<Format, FormatError> {
    if is_blank(bytes) {
        return Err(FormatError::Empty);
    }
    if looks_like_protobuf(bytes) {
        return Ok(Format::OtlpProtobuf);
    }
    let text = strip_bom(bytes);
    let mut s = Scanner { b: text, i: 0 };
    s.ws();
    match s.peek() {
        Some(b'{') => decide_object(text, &mut s),
        Some(b'[') => {
            s.i += 1;
            s.ws();
            match s.peek() {
                Some(b']') => Ok(Format::JaegerV1),
                Some(b'{') => match scan_object(&mut s) {
                    ObjectScan::Decided(f @ (Format::JaegerV1 | Format::SentryWebEvent)) => Ok(f),
                    ObjectScan::Complete { keys, .. }
                        if keys.contains(&&b"spans"[..]) =>
                    {
                        Ok(Format::JaegerV1)
                    }
                    ObjectScan::Broken => Err(syntax_error(text)),
                    ObjectScan::Decided(_) | ObjectScan::Complete { .. } => {
                        Err(unknown_unless_malformed(
                            text,
                            "a JSON list whose items are neither Jaeger traces nor Sentry Web API events"
                                .to_owned(),
                        ))
                    }
                },
                _ => Err(unknown_unless_malformed(
                    text,
                    "a JSON list of non-objects".to_owned(),
                )),
            }
        }
        Some(c)
            if c == b'"' || c == b'-' || c.is_ascii_digit() || matches!(c, b't' | b'f' | b'n') =>
        {
            match serde_json::from_slice::<serde::de::IgnoredAny>(text) {
                Ok(_) => Err(FormatError::UnknownFormat {
                    found: "a bare JSON value, not an object or a list".to_owned(),
                }),
                Err(e) => Err(super::json::json_error(None, &e, 0)),
            }
        }
        Some(c) => Err(FormatError::UnknownFormat {
            found: format!(
                "data that is neither JSON nor OTLP protobuf (first byte 0x{c:02x}{})",
                if c.is_ascii_graphic() {
                    format!(" '{}'", char::from(c))
                } else {
                    String::new()
                }
            ),
        }),
        None => Err(FormatError::Empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Result<Format, String> {
        detect(s.as_bytes()).map_err(|e| e.to_string())
    }

    #[test]
    fn top_level_keys() {
        assert_eq!(f(r#"{"resourceSpans":[]}"#), Ok(Format::OtlpJson));
        assert_eq!(f(" \n{\"batches\":[]}"), Ok(Format::TempoV1));
        assert_eq!(
            f(r#"{"trace":{"resourceSpans":[]},"status":"PARTIAL"}"#),
            Ok(Format::TempoV2)
        );
        assert_eq!(f(r#"{"trace":{},"metrics":{}}"#), Ok(Format::TempoV2));
        assert_eq!(
            f(r#"{"metrics":{"inspectedBytes":"0"}}"#),
            Ok(Format::TempoV2)
        );
        assert_eq!(
            f(r#"{"result":{"resourceSpans":[]}}"#),
            Ok(Format::JaegerV3)
        );
        assert_eq!(f(r#"{"error":{"httpCode":404}}"#), Ok(Format::JaegerV3));
        assert_eq!(f(r#"{"data":[],"total":0}"#), Ok(Format::JaegerV1));
        assert_eq!(f(r#"[{"traceID":"1","spans":[]}]"#), Ok(Format::JaegerV1));
        assert_eq!(f("[]"), Ok(Format::JaegerV1));
        assert_eq!(f(r#"{"traceID":"1","spans":[]}"#), Ok(Format::JaegerV1));
        assert_eq!(
            f(r#"{"groupID":"1","entries":[]}"#),
            Ok(Format::SentryWebEvent)
        );
        assert_eq!(f(r#"[{"eventID":"1"}]"#), Ok(Format::SentryWebEvent));
        assert_eq!(
            f(r#"{"tags":[],"eventID":"x"}"#),
            Ok(Format::SentryWebEvent)
        );
        assert_eq!(
            f(r#"{"level":"error","exception":{}}"#),
            Ok(Format::SentryEventJson)
        );
        assert_eq!(
            f("{\"event_id\":\"x\",\"trace\":{\"trace_id\":\"y\"}}\n{\"type\":\"event\"}\n{}"),
            Ok(Format::SentryEnvelope)
        );
        assert_eq!(
            f("{}\n{\"type\":\"client_report\"}\n{}"),
            Ok(Format::SentryEnvelope)
        );
        let lines =
            f("{\"from\":\"a\",\"to\":\"b\"}\n{\"from\":\"b\",\"to\":\"c\"}\n").expect_err("jsonl");
        assert!(
            lines.starts_with(
                r#"unknown format: found JSON Lines whose first line is a JSON object with keys "from", "to""#
            ),
            "{lines}"
        );
    }

    #[test]
    fn unknown_shapes_list_accepted_formats() {
        let e = f(r#"{"foo":1,"bar":[1,2]}"#).expect_err("unknown");
        assert!(e.starts_with(r#"unknown format: found a JSON object with keys "foo", "bar"; expected one of: OTLP JSON"#), "{e}");
        assert!(
            e.contains("Jaeger v1 JSON") && e.contains("Sentry envelope"),
            "{e}"
        );
        assert!(f("hello")
            .expect_err("text")
            .contains("first byte 0x68 'h'"));
        assert!(f("42").expect_err("scalar").contains("bare JSON value"));
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let e = f("{\n  \"resourceSpans\" [\n}").expect_err("broken");
        assert_eq!(e, "invalid JSON at line 2, column 19: expected `:`");
    }

    #[test]
    fn empty_and_whitespace() {
        assert_eq!(f(""), Err("the input is empty".to_owned()));
        assert_eq!(f(" \n\t"), Err("the input is empty".to_owned()));
    }

    #[test]
    fn protobuf_framing() {
        // field 1, length 2, two bytes: consistent.
        assert!(looks_like_protobuf(&[0x0a, 0x02, 0x08, 0x01]));
        // "\n{" followed by JSON: the length does not fit.
        assert!(!looks_like_protobuf(b"\n{\"resourceSpans\":[]}"));
        assert_eq!(
            detect(&[0x0a, 0x02, 0x08, 0x01]).ok(),
            Some(Format::OtlpProtobuf)
        );
        assert_eq!(f("\n{\"resourceSpans\":[]}"), Ok(Format::OtlpJson));
    }
}
