//! Lenient id decoding: the spellings met at the edges, turned into strict domain ids.
//!
//! Accepted: hex in any case (the canonical OTLP/JSON form); base64 of the raw bytes (Tempo's gogo
//! jsonpb, protobuf `MessageToDict`, some SDK exporters), told apart from hex by length and alphabet
//! (24 characters ending in `==` for 16 bytes, 12 ending in `=` for 8 bytes, or the unpadded 22/11 with
//! a non-hex character; standard or URL-safe alphabet); shorter hex left-padded with zeros (Jaeger's
//! 16-hex 64-bit trace ids, Tempo search's trimmed ids, Sentry Discover's trimmed span ids); dashed
//! UUID event ids. The serde wrappers report a bad id with the JSON position of the value.

use std::fmt;

use base64::Engine;
use serde::de::{self, Deserializer, Visitor};

use crate::domain::{EventId, SpanId, TraceId};

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_hexdigit)
}

/// Nibble value of each byte; 0xff for bytes that are not hex digits.
const NIBBLE: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

fn hex_nibble(c: u8) -> u8 {
    NIBBLE[usize::from(c)] & 0x0f
}

/// Exactly `2N` hex digits (the canonical spelling, the hot path); `None` otherwise.
fn hex_exact<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let hi = NIBBLE[usize::from(pair[0])];
        let lo = NIBBLE[usize::from(pair[1])];
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(out)
}

/// Hex of at most `2N` digits, left-padded with zeros to `N` bytes. Caller checked `is_hex` and length.
fn hex_padded<const N: usize>(s: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (i, c) in s.iter().rev().take(N * 2).enumerate() {
        let nibble = hex_nibble(*c);
        let byte = N - 1 - i / 2;
        out[byte] |= if i % 2 == 0 { nibble } else { nibble << 4 };
    }
    out
}

fn base64_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let padded_len = N.div_ceil(3) * 4;
    let unpadded_len = (N * 4).div_ceil(3);
    let b = s.as_bytes();
    let plausible = (b.len() == padded_len && b.last() == Some(&b'='))
        || (b.len() == unpadded_len && !is_hex(b));
    if !plausible {
        return None;
    }
    let engines = [&STANDARD, &URL_SAFE, &STANDARD_NO_PAD, &URL_SAFE_NO_PAD];
    for engine in engines {
        let mut out = [0u8; N];
        if let Ok(n) = engine.decode_slice(b, &mut out) {
            if n == N {
                return Some(out);
            }
        }
    }
    None
}

/// Raw bytes of an id of `N` bytes from any accepted spelling; `None` when it is none of them.
fn id_bytes<const N: usize>(s: &str) -> Option<[u8; N]> {
    if let Some(bytes) = hex_exact::<N>(s.as_bytes()) {
        return Some(bytes);
    }
    let s = s.trim();
    let b = s.as_bytes();
    if let Some(bytes) = hex_exact::<N>(b) {
        return Some(bytes);
    }
    if let Some(bytes) = base64_bytes::<N>(s) {
        return Some(bytes);
    }
    if !b.is_empty() && b.len() < N * 2 && is_hex(b) {
        return Some(hex_padded::<N>(b));
    }
    None
}

/// Why an id spelling was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BadId {
    what: &'static str,
    value: String,
    all_zero: bool,
}

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown: String = self.value.chars().take(48).collect();
        if shown.len() < self.value.len() {
            shown.push('…');
        }
        if self.all_zero {
            return write!(f, "{} {shown:?} is all zeros, which is invalid", self.what);
        }
        let (hex, b64) = match self.what {
            "span id" | "parent span id" => (16, 12),
            _ => (32, 24),
        };
        write!(
            f,
            "{} {shown:?} is neither hex (up to {hex} digits) nor base64 ({b64} characters)",
            self.what
        )
    }
}

impl std::error::Error for BadId {}

fn bad(what: &'static str, value: &str, all_zero: bool) -> BadId {
    BadId {
        what,
        value: value.to_owned(),
        all_zero,
    }
}

/// A trace id: 32 hex, base64 of 16 bytes, or shorter hex left-padded (Jaeger 64-bit ids).
pub(super) fn trace_id(s: &str) -> Result<TraceId, BadId> {
    let bytes = id_bytes::<16>(s).ok_or_else(|| bad("trace id", s, false))?;
    TraceId::from_bytes(bytes).ok_or_else(|| bad("trace id", s, true))
}

/// A span id: 16 hex, base64 of 8 bytes, or shorter hex left-padded.
pub(super) fn span_id(s: &str) -> Result<SpanId, BadId> {
    let bytes = id_bytes::<8>(s).ok_or_else(|| bad("span id", s, false))?;
    SpanId::from_bytes(bytes).ok_or_else(|| bad("span id", s, true))
}

/// A parent span id, where `""` and all zeros mean "no parent" (a root span).
pub(super) fn parent_span_id(s: &str) -> Result<Option<SpanId>, BadId> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let bytes = id_bytes::<8>(s).ok_or_else(|| bad("parent span id", s, false))?;
    Ok(SpanId::from_bytes(bytes))
}

/// A Sentry event id: 32 hex in any case, or a dashed UUID.
pub(super) fn event_id(s: &str) -> Result<EventId, BadId> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let compact: String;
    let hex = if t.len() == 36 && t.contains('-') {
        compact = t.chars().filter(|c| *c != '-').collect();
        compact.as_str()
    } else {
        t
    };
    if hex.len() != 32 || !is_hex(hex.as_bytes()) {
        return Err(bad("event id", s, false));
    }
    EventId::from_bytes(hex_padded::<16>(hex.as_bytes())).ok_or_else(|| bad("event id", s, true))
}

/// Serde wrapper: a required trace id, lenient spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WireTraceId(pub TraceId);

/// Serde wrapper: a required span id, lenient spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WireSpanId(pub SpanId);

/// Serde wrapper: an optional parent span id (`null`, `""` and zeros are `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct WireParentId(pub Option<SpanId>);

/// Serde wrapper for ids that are optional extras (link and reference ids): anything that is not a
/// valid id, `null` included, is `None` instead of an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct LenientTraceId(pub Option<TraceId>);

/// Span id counterpart of [`LenientTraceId`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct LenientSpanId(pub Option<SpanId>);

impl<'de> serde::Deserialize<'de> for LenientTraceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = super::json::Text::deserialize(d)?;
        Ok(LenientTraceId(t.0.and_then(|s| trace_id(&s).ok())))
    }
}

impl<'de> serde::Deserialize<'de> for LenientSpanId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = super::json::Text::deserialize(d)?;
        Ok(LenientSpanId(t.0.and_then(|s| span_id(&s).ok())))
    }
}

struct IdVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, BadId>,
    null: Option<fn() -> T>,
}

impl<'de, T> Visitor<'de> for IdVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        match self.null {
            Some(null) => Ok(null()),
            None => Err(E::invalid_type(de::Unexpected::Unit, &self)),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.visit_unit()
    }
}

impl<'de> serde::Deserialize<'de> for WireTraceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IdVisitor {
            expecting: "a trace id (hex or base64 string)",
            parse: |s| trace_id(s).map(WireTraceId),
            null: None,
        })
    }
}

impl<'de> serde::Deserialize<'de> for WireSpanId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(IdVisitor {
            expecting: "a span id (hex or base64 string)",
            parse: |s| span_id(s).map(WireSpanId),
            null: None,
        })
    }
}

impl<'de> serde::Deserialize<'de> for WireParentId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdVisitor {
            expecting: "a parent span id (hex or base64 string), \"\" or null",
            parse: |s| parent_span_id(s).map(WireParentId),
            null: Some(|| WireParentId(None)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(t: TraceId) -> String {
        t.to_string()
    }

    #[test]
    fn hex_any_case() {
        let t = trace_id("5B8EFFF798038103D269B633813FC60C").expect("hex");
        assert_eq!(hex(t), "5b8efff798038103d269b633813fc60c");
        let s = span_id("EEE19B7EC3C1B174").expect("hex");
        assert_eq!(s.to_string(), "eee19b7ec3c1b174");
    }

    #[test]
    fn base64_trace_and_span_ids() {
        // Tempo gogo jsonpb spelling.
        let t = trace_id("6Lbf+fjUSyjxsivDvS9naA==").expect("b64");
        assert_eq!(hex(t), "e8b6dff9f8d44b28f1b22bc3bd2f6768");
        let s = span_id("wa5s6jmo/Es=").expect("b64");
        assert_eq!(s.to_string(), "c1ae6cea39a8fc4b");
        // Unpadded and URL-safe alphabets.
        assert_eq!(trace_id("6Lbf-fjUSyjxsivDvS9naA").expect("url"), t);
        assert_eq!(span_id("wa5s6jmo_Es").expect("url"), s);
    }

    #[test]
    fn short_hex_is_left_padded() {
        let t = trace_id("0000000000000001").expect("jaeger 64-bit");
        assert_eq!(hex(t), "00000000000000000000000000000001");
        let t = trace_id("d6e9329d67b6146a").expect("trimmed");
        assert_eq!(hex(t), "0000000000000000d6e9329d67b6146a");
        let t = trace_id("abc").expect("odd length");
        assert_eq!(hex(t), "00000000000000000000000000000abc");
        let s = span_id("5f1789").expect("trimmed span");
        assert_eq!(s.to_string(), "00000000005f1789");
    }

    #[test]
    fn twentyfour_hex_digits_are_hex_not_base64() {
        let t = trace_id("0123456789abcdef01234567").expect("hex");
        assert_eq!(hex(t), "000000000123456789abcdef01234567");
    }

    #[test]
    fn rejects_garbage_and_zero() {
        let e = trace_id("not-an-id").expect_err("garbage");
        assert!(e.to_string().contains("neither hex"), "{e}");
        let e = span_id("0000000000000000").expect_err("zero");
        assert!(e.to_string().contains("all zeros"), "{e}");
        assert!(trace_id("").is_err());
        assert!(span_id("0123456789abcdef0").is_err(), "too long");
    }

    #[test]
    fn parent_empty_or_zero_is_root() {
        assert_eq!(parent_span_id("").expect("empty"), None);
        assert_eq!(parent_span_id("0000000000000000").expect("zero"), None);
        assert!(parent_span_id("00f067aa0ba902b7").expect("hex").is_some());
    }

    #[test]
    fn event_ids_dashed_or_plain() {
        let a = event_id("0af76519-16cd-43dd-8448-eb211c80319c").expect("dashed");
        let b = event_id("0AF7651916CD43DD8448EB211C80319C").expect("plain");
        assert_eq!(a, b);
        assert!(event_id("0af7651916cd43dd").is_err());
    }

    #[test]
    fn serde_wrappers_report_position() {
        #[derive(serde::Deserialize)]
        struct S {
            #[expect(dead_code, reason = "only the error matters here")]
            id: WireSpanId,
        }
        let err = serde_json::from_str::<S>("{\n  \"id\": \"xyz\"\n}").err();
        let err = err.map(|e| (e.line(), e.to_string()));
        let (line, text) = err.expect("must fail");
        assert_eq!(line, 2);
        assert!(text.contains("span id \"xyz\""), "{text}");
        let p: WireParentId = serde_json::from_str("null").expect("null parent");
        assert_eq!(p.0, None);
    }
}
