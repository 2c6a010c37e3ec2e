//! One OTLP/JSON span in its canonical shape, decoded without serde: the hot path of a large trace.
//!
//! Exporters write spans the same way every time: known keys, hex ids, decimal-string times, integer
//! enums, attributes with one string, integer or boolean value, strings without escapes. [`span`]
//! reads exactly that shape with a cursor over the span's bytes and builds the domain [`Span`] the
//! serde decoder ([`super::otlp_json::decode_span`]) would build from the same bytes, with the same
//! shared strings. Anything else (an escape in a string, a double, an event, a key it does not know,
//! a duplicate key, a malformed number, an id that does not parse…) makes it give up before pushing
//! anything, and the caller decodes the span with serde, which accepts it or words the error. So the
//! fast path can only ever accept a subset of what serde accepts, with the same result; the
//! differential tests below and the `decode_stream` fuzz target hold it to that.

use std::sync::Arc;

use smallvec::SmallVec;

use super::ids::{parent_span_id, span_id, trace_id};
use super::intern::{key, text};
use super::json::{short_decimal, text_end};
use super::otlp_json::{code_from_number, kind_from_number};
use crate::domain::{
    thin_list, AttrValue, KeyValue, Span, SpanKind, SpanStatus, StatusCode, ThinVec,
};

/// Decodes `json`, one span and nothing else but whitespace, into `out` with the given service and
/// resource and no scope, as `decode_span` would; false (and nothing pushed) when the span is not in
/// the canonical shape, so the caller decodes it with serde.
pub(super) fn span(
    json: &str,
    out: &mut Vec<Span>,
    service: &Arc<str>,
    resource: &Arc<[KeyValue]>,
) -> bool {
    match read_span(&mut Cursor::new(json), service, resource) {
        Some(s) => {
            out.push(s);
            true
        }
        None => false,
    }
}

/// The keys of a span, one bit each, to refuse a second occurrence as serde does.
const TRACE_ID: u16 = 1;
const SPAN_ID: u16 = 1 << 1;
const PARENT: u16 = 1 << 2;
const NAME: u16 = 1 << 3;
const KIND: u16 = 1 << 4;
const START: u16 = 1 << 5;
const END: u16 = 1 << 6;
const ATTRIBUTES: u16 = 1 << 7;
const EVENTS: u16 = 1 << 8;
const LINKS: u16 = 1 << 9;
const STATUS: u16 = 1 << 10;

fn read_span(c: &mut Cursor<'_>, service: &Arc<str>, resource: &Arc<[KeyValue]>) -> Option<Span> {
    let mut seen = 0u16;
    let mut once = |bit: u16| {
        let first = seen & bit == 0;
        seen |= bit;
        first.then_some(())
    };
    let mut trace = None;
    let mut span = None;
    let mut parent = None;
    let mut name = None;
    let mut kind = SpanKind::Unspecified;
    let mut start = 0;
    let mut end = 0;
    let mut attributes = ThinVec::new();
    let mut status = SpanStatus::default();
    c.eat(b'{')?;
    if !c.peek_is(b'}') {
        loop {
            let k = c.key()?;
            match k {
                "traceId" => {
                    once(TRACE_ID)?;
                    trace = Some(trace_id(c.string()?).ok()?);
                }
                "spanId" => {
                    once(SPAN_ID)?;
                    span = Some(span_id(c.string()?).ok()?);
                }
                "parentSpanId" => {
                    once(PARENT)?;
                    parent = match c.null() {
                        true => None,
                        false => parent_span_id(c.string()?).ok()?,
                    };
                }
                "name" => {
                    once(NAME)?;
                    name = Some(match c.null() {
                        true => text(""),
                        false => text(c.string()?),
                    });
                }
                "kind" => {
                    once(KIND)?;
                    kind = match c.null() {
                        true => SpanKind::Unspecified,
                        false => kind_from_number(i64::try_from(c.unsigned()?).unwrap_or(-1)),
                    };
                }
                "startTimeUnixNano" => {
                    once(START)?;
                    start = c.nanos()?;
                }
                "endTimeUnixNano" => {
                    once(END)?;
                    end = c.nanos()?;
                }
                "attributes" => {
                    once(ATTRIBUTES)?;
                    if !c.null() {
                        attributes = c.attributes()?;
                    }
                }
                // Events and links are left to serde unless there are none.
                "events" => {
                    once(EVENTS)?;
                    c.null_or_empty_list()?;
                }
                "links" => {
                    once(LINKS)?;
                    c.null_or_empty_list()?;
                }
                "status" => {
                    once(STATUS)?;
                    if !c.null() {
                        status = c.status()?;
                    }
                }
                _ => c.skip_scalar()?,
            }
            if !c.next(b'}')? {
                break;
            }
        }
    } else {
        c.bump();
    }
    c.ws();
    if !c.at_end() {
        return None;
    }
    Some(Span {
        trace_id: trace?,
        span_id: span?,
        parent_span_id: parent,
        service: Arc::clone(service),
        name: name.unwrap_or_else(|| text("")),
        kind,
        start_ns: start,
        end_ns: end,
        status,
        attributes,
        events: ThinVec::new(),
        links: ThinVec::new(),
        resource: Arc::clone(resource),
        scope: None,
    })
}

/// A position in one span's JSON text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn at_end(&self) -> bool {
        self.at >= self.text.len()
    }

    fn bump(&mut self) {
        self.at += 1;
    }

    /// Skips JSON whitespace.
    fn ws(&mut self) {
        let b = self.bytes();
        while let Some(&c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.at += 1;
        }
    }

    /// After whitespace, true when the next byte is `c` (not consumed).
    fn peek_is(&mut self, c: u8) -> bool {
        self.ws();
        self.bytes().get(self.at) == Some(&c)
    }

    /// After whitespace, consumes `c`.
    fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek_is(c) {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    /// After a member or an element: true at `,` (another follows), false at `close` (`}` or `]`,
    /// the object or list ends).
    fn next(&mut self, close: u8) -> Option<bool> {
        self.ws();
        let c = *self.bytes().get(self.at)?;
        self.at += 1;
        match c {
            b',' => Some(true),
            _ if c == close => Some(false),
            _ => None,
        }
    }

    /// A string without escapes or control characters (JSON forbids them raw; serde words that).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let from = self.at;
        let rest = self.bytes().get(from..)?;
        let len = text_end(rest, true)?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        self.at = from + len + 1;
        // Both ends are ASCII quotes of a valid UTF-8 text, so this is a whole number of characters.
        self.text.get(from..from + len)
    }

    /// An object key and its `:`.
    fn key(&mut self) -> Option<&'a str> {
        let k = self.string()?;
        self.eat(b':')?;
        Some(k)
    }

    /// Consumes the literal `word` (`true`, `false`, `null`); the caller checks what follows.
    fn word(&mut self, word: &[u8]) -> bool {
        self.ws();
        let hit = self
            .bytes()
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(word));
        if hit {
            self.at += word.len();
        }
        hit
    }

    fn null(&mut self) -> bool {
        self.word(b"null")
    }

    /// A JSON number that is a non-negative integer of at most 19 digits without a leading zero
    /// (which always fits a `u64`); a fraction or exponent is refused by whatever reads next.
    fn unsigned(&mut self) -> Option<u64> {
        self.ws();
        let b = self.bytes();
        let from = self.at;
        let mut n = 0u64;
        while let Some(&c) = b.get(self.at) {
            let digit = c.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            if self.at - from == 19 {
                return None;
            }
            n = n * 10 + u64::from(digit);
            self.at += 1;
        }
        let digits = self.at - from;
        if digits == 0 || (digits > 1 && b.get(from) == Some(&b'0')) {
            return None;
        }
        Some(n)
    }

    /// A JSON integer, signed, as an `i64` (at most 18 digits after the sign).
    fn signed(&mut self) -> Option<i64> {
        self.ws();
        let negative = self.bytes().get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
            // `- 1` is not a number.
            if !self
                .bytes()
                .get(self.at)
                .is_some_and(|c| c.is_ascii_digit())
            {
                return None;
            }
        }
        let from = self.at;
        let n = i64::try_from(self.unsigned()?).ok()?;
        if self.at - from > 18 {
            return None;
        }
        Some(if negative { -n } else { n })
    }

    /// Unix nanoseconds: a string of 1–19 digits, an integer, or `null` (0), as `Nanos` reads them.
    fn nanos(&mut self) -> Option<u64> {
        if self.null() {
            return Some(0);
        }
        if self.peek_is(b'"') {
            return short_decimal(self.string()?.as_bytes());
        }
        self.unsigned()
    }

    /// `null` or `[]`.
    fn null_or_empty_list(&mut self) -> Option<()> {
        if self.null() {
            return Some(());
        }
        self.eat(b'[')?;
        self.eat(b']')
    }

    /// The value of a key the span does not read: a string, an integer, `true`, `false` or `null`.
    fn skip_scalar(&mut self) -> Option<()> {
        if self.peek_is(b'"') {
            return self.string().map(drop);
        }
        if self.word(b"true") || self.word(b"false") || self.null() {
            return Some(());
        }
        self.signed().map(drop)
    }

    /// `[{"key":…,"value":{…}}, …]`, allocated at its exact length.
    fn attributes(&mut self) -> Option<ThinVec<KeyValue>> {
        self.eat(b'[')?;
        let mut here: SmallVec<[KeyValue; 8]> = SmallVec::new();
        if self.peek_is(b']') {
            self.bump();
            return Some(ThinVec::new());
        }
        loop {
            here.push(self.attribute()?);
            if !self.next(b']')? {
                break;
            }
        }
        Some(thin_list(here))
    }

    /// `{"key":"…","value":{…}}` in either order, both present once and nothing else.
    fn attribute(&mut self) -> Option<KeyValue> {
        self.eat(b'{')?;
        let mut name = None;
        let mut value = None;
        loop {
            match self.key()? {
                "key" if name.is_none() => name = Some(key(self.string()?)),
                "value" if value.is_none() => value = Some(self.any_value()?),
                _ => return None,
            }
            if !self.next(b'}')? {
                break;
            }
        }
        Some(KeyValue {
            key: name?,
            value: value?,
        })
    }

    /// `{}` (the empty string) or an object with one `stringValue`, `intValue` or `boolValue`.
    fn any_value(&mut self) -> Option<AttrValue> {
        self.eat(b'{')?;
        if self.peek_is(b'}') {
            self.bump();
            return Some(AttrValue::Str(text("")));
        }
        let value = match self.key()? {
            "stringValue" => AttrValue::Str(text(self.string()?)),
            "intValue" => AttrValue::Int(if self.peek_is(b'"') {
                int_text(self.string()?)?
            } else {
                self.signed()?
            }),
            "boolValue" => {
                if self.word(b"true") {
                    AttrValue::Bool(true)
                } else if self.word(b"false") {
                    AttrValue::Bool(false)
                } else {
                    return None;
                }
            }
            _ => return None,
        };
        self.eat(b'}')?;
        Some(value)
    }

    /// `{}` or `{"code":N,"message":"…"}` with either or both, once each.
    fn status(&mut self) -> Option<SpanStatus> {
        self.eat(b'{')?;
        let mut code = None;
        let mut message = None;
        if self.peek_is(b'}') {
            self.bump();
        } else {
            loop {
                match self.key()? {
                    "code" if code.is_none() => {
                        code = Some(match self.null() {
                            true => StatusCode::Unset,
                            false => {
                                code_from_number(i64::try_from(self.unsigned()?).unwrap_or(-1))
                            }
                        });
                    }
                    "message" if message.is_none() => {
                        message = Some(match self.null() {
                            true => None,
                            false => Some(self.string()?),
                        });
                    }
                    _ => return None,
                }
                if !self.next(b'}')? {
                    break;
                }
            }
        }
        Some(SpanStatus {
            code: code.unwrap_or_default(),
            message: message
                .flatten()
                .filter(|m| !m.is_empty())
                .map(str::to_owned),
        })
    }
}

/// An `intValue` written as a string: an optional `-` and 1–18 digits.
fn int_text(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unknown() -> (Arc<str>, Arc<[KeyValue]>) {
        (text("svc"), Arc::from(vec![]))
    }

    /// Serde's reading of one span, the reference.
    fn by_serde(json: &str) -> Result<Vec<Span>, String> {
        let (service, resource) = unknown();
        let mut out = Vec::new();
        let mut de = serde_json::Deserializer::from_str(json);
        super::super::otlp_json::decode_span(&mut de, &mut out, &service, &resource)
            .map(|()| out)
            .map_err(|e| e.to_string())
    }

    fn fast(json: &str) -> Option<Vec<Span>> {
        let (service, resource) = unknown();
        let mut out = Vec::new();
        if span(json, &mut out, &service, &resource) {
            assert_eq!(out.len(), 1);
            Some(out)
        } else {
            assert!(out.is_empty(), "nothing pushed when giving up");
            None
        }
    }

    /// The fast path either gives up or gives exactly serde's span (lists at their exact length too).
    fn agrees(json: &str) -> bool {
        let Some(f) = fast(json) else {
            return false;
        };
        let s = by_serde(json)
            .unwrap_or_else(|e| panic!("serde refuses what the fast path took: {e}\n{json}"));
        assert_eq!(f, s, "{json}");
        assert_eq!(
            f[0].attributes.capacity(),
            s[0].attributes.capacity(),
            "{json}"
        );
        true
    }

    const CANONICAL: &str = r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","parentSpanId":"9e3779b97f4a7c15","name":"POST /op/1/203","kind":2,"startTimeUnixNano":"1763700010418007373","endTimeUnixNano":"1763700013434551238","attributes":[{"key":"http.route","value":{"stringValue":"/op/1"}},{"key":"n","value":{"intValue":"-42"}},{"key":"ok","value":{"boolValue":true}},{"key":"e","value":{}}],"status":{"code":2,"message":"boom"}}"#;

    #[test]
    fn the_canonical_shape_is_read_without_serde_and_equals_it() {
        assert!(agrees(CANONICAL));
        let s = &fast(CANONICAL).expect("canonical")[0];
        assert_eq!(s.kind, SpanKind::Server);
        assert_eq!(s.status.code, StatusCode::Error);
        assert_eq!(s.status.message.as_deref(), Some("boom"));
        assert_eq!(s.attr("n"), Some(&AttrValue::Int(-42)));
        assert_eq!(s.attributes.len(), 4);
        // What real exporters add: empty lists, flags, trace state, dropped counts, whitespace.
        for json in [
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","flags":256,"traceState":"","droppedAttributesCount":0,"events":[],"links":[],"status":{}}"#,
            "\n {\"spanId\" : \"daa66d2c7ddf743f\" ,\r\n\t\"traceId\":\"9585EAB2C0B085260C3949FFB5AB5C41\", \"parentSpanId\":\"\", \"kind\": 0, \"startTimeUnixNano\": 1763700010418007373, \"attributes\": [ ] } \n",
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","parentSpanId":null,"name":null,"kind":null,"startTimeUnixNano":null,"attributes":null,"events":null,"links":null,"status":null}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","status":{"message":"","code":null},"attributes":[{"value":{"intValue":7},"key":"k"}]}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","name":"naïve — ünïcode ✓"}"#,
        ] {
            assert!(agrees(json), "taken by the fast path: {json}");
        }
    }

    #[test]
    fn anything_unusual_is_left_to_serde() {
        for json in [
            // Escapes, doubles, events, names of enums, unknown value kinds, nested unknowns.
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","name":"a\"b"}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","attributes":[{"key":"d","value":{"doubleValue":1.5}}]}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","events":[{"name":"e"}]}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","kind":"SPAN_KIND_CLIENT"}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","other":{"a":1}}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","kind":2.0}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","startTimeUnixNano":"1.5e18"}"#,
            // Base64 ids are read by the same function, so they are taken; a bad id is not.
            r#"{"traceId":"zz","spanId":"daa66d2c7ddf743f"}"#,
            // What serde refuses: duplicates, missing ids, trailing text, raw control characters,
            // leading zeros, a trailing comma.
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","name":"a","name":"b"}"#,
            r#"{"spanId":"daa66d2c7ddf743f"}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f"} x"#,
            "{\"traceId\":\"9585eab2c0b085260c3949ffb5ab5c41\",\"spanId\":\"daa66d2c7ddf743f\",\"name\":\"a\tb\"}",
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","kind":02}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f",}"#,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f","attributes":[{"key":"k","value":{"intValue":"12345678901234567890"}}]}"#,
            r#"{}"#,
            "",
        ] {
            assert!(fast(json).is_none(), "left to serde: {json}");
        }
    }

    /// Pieces a span is made of, valid and not, joined at random: whatever the fast path takes must
    /// be taken by serde with the same result.
    fn piece() -> impl Strategy<Value = String> {
        let usual = prop::sample::select(vec![
            r#""traceId":"9585eab2c0b085260c3949ffb5ab5c41""#,
            r#""spanId":"daa66d2c7ddf743f""#,
            r#""parentSpanId":"9e3779b97f4a7c15""#,
            r#""parentSpanId":"0000000000000000""#,
            r#""parentSpanId":"""#,
            r#""parentSpanId":null"#,
            r#""name":"GET /""#,
            r#""name":"""#,
            r#""kind":1"#,
            r#""kind":9"#,
            r#""kind":0"#,
            r#""startTimeUnixNano":"1763700010418007373""#,
            r#""startTimeUnixNano":"9999999999999999999""#,
            r#""startTimeUnixNano":12"#,
            r#""endTimeUnixNano":"1763700013434551238""#,
            r#""endTimeUnixNano":0"#,
            r#""attributes":[]"#,
            r#""attributes":[{"key":"a","value":{"stringValue":"v"}}]"#,
            r#""attributes":[{"key":"a","value":{"intValue":"-9"}},{"key":"b","value":{"boolValue":false}}]"#,
            r#""attributes":[{"key":"a","value":{"intValue":-0}}]"#,
            r#""attributes":[{"key":"a","value":{"intValue":"007"}}]"#,
            r#""attributes":[ {"value":{ },"key":"" } ]"#,
            r#""events":[]"#,
            r#""links":null"#,
            r#""status":{}"#,
            r#""status":{"code":2}"#,
            r#""status":{"code":1,"message":"fine"}"#,
            r#""status":{"message":null}"#,
            r#""flags":256"#,
            r#""traceState":"""#,
            r#""droppedEventsCount":-0"#,
            r#""x":true"#,
            r#""x":null"#,
        ]);
        let odd = prop::sample::select(vec![
            r#""traceId":"lYXqssCwhSYMOUn/tatcQQ==""#,
            r#""traceId":"00000000000000000000000000000000""#,
            r#""spanId":"abc""#,
            r#""name":"x\ny""#,
            r#""name":7"#,
            r#""kind":-1"#,
            r#""kind":18446744073709551615"#,
            r#""kind":"2""#,
            r#""startTimeUnixNano":"18446744073709551615""#,
            r#""startTimeUnixNano":" 12""#,
            r#""startTimeUnixNano":-12"#,
            r#""endTimeUnixNano":1e3"#,
            r#""attributes":[{"key":"a","value":{"intValue":"+1"}}]"#,
            r#""attributes":[{"key":"a"}]"#,
            r#""attributes":[{"key":"a","value":{"stringValue":"v","intValue":"1"}}]"#,
            r#""attributes":[{"key":"a","value":{}},]"#,
            r#""attributes":{}"#,
            r#""status":{"code":2,"code":1}"#,
            r#""x":nul"#,
            r#""x":tru"#,
            r#""x":01"#,
            r#""x":"#,
            r#""#,
            r#"" ":1"#,
        ]);
        prop_oneof![9 => usual, 1 => odd].prop_map(str::to_owned)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]
        #[test]
        fn the_fast_path_never_disagrees_with_serde(
            ids in (
                prop::sample::select(vec![
                    r#""traceId":"9585eab2c0b085260c3949ffb5ab5c41""#,
                    r#""traceId":"9585EAB2C0B085260C3949FFB5AB5C41""#,
                ]),
                prop::sample::select(vec![r#""spanId":"daa66d2c7ddf743f""#, r#""spanId":"2qZtLH3fdD8=""#]),
            ),
            more in prop::collection::vec(piece(), 0..6),
            order in any::<prop::sample::Index>(),
            gaps in prop::collection::vec(
                prop::sample::select(vec!["", "", "", "", "", "", "", "", " ", "\n", "\t ", ",", ":"]),
                12,
            ),
            open in prop::sample::select(vec!["{", "{", "{", "{", "{", " {", "[", ""]),
            close in prop::sample::select(vec!["}", "}", "}", "}", "}", "} ", "}}", "", "]"]),
        ) {
            let mut pieces = more;
            pieces.insert(0, ids.0.to_owned());
            pieces.insert(order.index(pieces.len() + 1), ids.1.to_owned());
            let mut json = String::from(open);
            for (i, p) in pieces.iter().enumerate() {
                if i > 0 {
                    json.push(',');
                }
                json.push_str(gaps[i % gaps.len()]);
                json.push_str(p);
            }
            json.push_str(close);
            agrees(&json);
        }

        /// Any text at all: the fast path takes nothing serde would not take the same way.
        #[test]
        fn arbitrary_text_too(json in "[{}\\[\\]\":, a-z0-9\\-.\\\\]{0,80}") {
            agrees(&json);
        }
    }

    #[test]
    fn a_canonical_stream_is_mostly_fast() {
        // Taken: the common shapes above; so the differential proptest exercises both branches.
        let mut taken = 0;
        for json in [
            CANONICAL,
            r#"{"traceId":"9585eab2c0b085260c3949ffb5ab5c41","spanId":"daa66d2c7ddf743f"}"#,
        ] {
            taken += usize::from(agrees(json));
        }
        assert_eq!(taken, 2);
    }
}
