//! Shared serde helpers for the JSON decoders: lenient scalars, JSON error positions, JSON Lines.
//!
//! The span hot path uses [`Nanos`], [`nullable`] and [`for_each_value`]; the Sentry decoders use the
//! never-failing scalars ([`Text`], [`Num`], [`Flag`], [`Timestamp`]) and [`Pairs`], because SDKs
//! disagree on types (a line number as a string, `in_app: null`, tags as an object or a list).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Format, FormatError};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` below `n` (at most 0x80); exact up to the first such byte, which
/// is all [`text_end`] reads.
#[inline]
fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// Where the text of a JSON string ends or needs a closer look: the offset in `b` of its first `"`
/// or `\` (and, with `controls`, of its first raw control character, which JSON forbids), or
/// `None` when there is none. Reads eight bytes at a time: span text is mostly short strings (ids,
/// times, names), for which a call into a vectorised search costs more than the search.
#[inline]
pub(super) fn text_end(b: &[u8], controls: bool) -> Option<usize> {
    let quote = ONES * u64::from(b'"');
    let backslash = ONES * u64::from(b'\\');
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes);
        let mut hits = below(x ^ quote, 1) | below(x ^ backslash, 1);
        if controls {
            hits |= below(x, 0x20);
        }
        if hits != 0 {
            return Some(at + (hits.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&c| c == b'"' || c == b'\\' || (controls && c < 0x20))
        .map(|k| at + k)
}

/// Converts a serde_json error into a [`FormatError::Json`] with its line and column.
///
/// `line_offset` is added to the line (for JSON embedded in a larger file, like an envelope item).
pub(super) fn json_error(
    format: Option<Format>,
    e: &serde_json::Error,
    line_offset: usize,
) -> FormatError {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = text.strip_suffix(&suffix).unwrap_or(&text).to_owned();
    let syntax = matches!(
        e.classify(),
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof
    );
    FormatError::Json {
        format,
        syntax,
        line: e.line() + line_offset,
        column: e.column(),
        message,
    }
}

/// Deserializes every JSON value in `bytes` (one document, or several as JSON Lines) and hands each to `f`.
/// Returns how many values were read.
///
/// UTF-8 is checked once for the whole input, which is faster than the parser's check of every string
/// on its own; input that is not UTF-8 is read as bytes, so the error names the bad string's position.
pub(super) fn for_each_value<'de, T, F>(
    bytes: &'de [u8],
    format: Format,
    f: F,
) -> Result<usize, FormatError>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), FormatError>,
{
    match std::str::from_utf8(bytes) {
        Ok(text) => values(serde_json::Deserializer::from_str(text), format, f),
        Err(_) => values(serde_json::Deserializer::from_slice(bytes), format, f),
    }
}

fn values<'de, R, T, F>(
    de: serde_json::Deserializer<R>,
    format: Format,
    mut f: F,
) -> Result<usize, FormatError>
where
    R: serde_json::de::Read<'de>,
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<(), FormatError>,
{
    let mut count = 0;
    for item in de.into_iter::<T>() {
        let value = item.map_err(|e| json_error(Some(format), &e, 0))?;
        f(value)?;
        count += 1;
    }
    Ok(count)
}

/// Deserializes exactly one JSON document.
pub(super) fn from_slice<'de, T: Deserialize<'de>>(
    bytes: &'de [u8],
    format: Format,
) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|e| json_error(Some(format), &e, 0))
}

/// `deserialize_with` helper: `null` becomes the default value (an empty list, for instance).
pub(super) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Unix nanoseconds written as a decimal string (OTLP/JSON) or as a number; `null` is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Nanos(pub u64);

impl<'de> Deserialize<'de> for Nanos {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Nanos;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("Unix nanoseconds as a decimal string or a non-negative number")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Nanos, E> {
                Ok(Nanos(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Nanos, E> {
                u64::try_from(v)
                    .map(Nanos)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Nanos, E> {
                if v.is_finite() && v >= 0.0 {
                    Ok(Nanos(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Nanos, E> {
                if let Some(n) = short_decimal(v.as_bytes()) {
                    return Ok(Nanos(n));
                }
                if let Ok(n) = v.trim().parse::<u64>() {
                    return Ok(Nanos(n));
                }
                match v.trim().parse::<f64>() {
                    Ok(f) => self.visit_f64(f),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Nanos, E> {
                Ok(Nanos(0))
            }
            fn visit_none<E: de::Error>(self) -> Result<Nanos, E> {
                Ok(Nanos(0))
            }
        }
        d.deserialize_any(V)
    }
}

/// 1 to 19 ASCII digits (every OTLP timestamp), which cannot overflow a `u64`; `None` for anything
/// else, left to the general parsing.
pub(super) fn short_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for &c in b {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

/// Any JSON scalar as text (`null`, objects and lists become `None`); never fails on a wrong type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Text(pub Option<String>);

impl Text {
    /// The text, with empty strings treated as absent.
    pub(super) fn non_empty(self) -> Option<String> {
        self.0.filter(|s| !s.trim().is_empty())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Text, D2::Error> {
                Text::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Text, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A non-negative integer written as a number or a numeric string; anything else is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Num(pub Option<u64>);

impl Num {
    /// As `u32`, when it fits.
    pub(super) fn as_u32(self) -> Option<u32> {
        self.0.and_then(|n| u32::try_from(n).ok())
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = serde_json::Value::deserialize(d)?;
        Ok(Num(match t {
            serde_json::Value::Number(n) => n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            }),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }))
    }
}

/// A boolean written as `true`/`false`, `"true"`/`"false"` or 1/0; anything else is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Flag(pub Option<bool>);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = serde_json::Value::deserialize(d)?;
        Ok(Flag(match t {
            serde_json::Value::Bool(b) => Some(b),
            serde_json::Value::Number(n) => n.as_u64().map(|n| n != 0),
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            _ => None,
        }))
    }
}

/// Seconds since the epoch as a float, or an ISO 8601 / RFC 3339 string, converted to Unix
/// nanoseconds; `None` when absent or unreadable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Timestamp(pub Option<u64>);

/// Float seconds to nanoseconds, rounded to the microsecond (a double carries no more at today's epoch).
pub(super) fn secs_to_ns(secs: f64) -> Option<u64> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let whole = secs.trunc();
    let micros = ((secs - whole) * 1e6).round() as u64;
    (whole as u64)
        .checked_mul(1_000_000_000)?
        .checked_add(micros.checked_mul(1_000)?)
}

/// An ISO 8601 / RFC 3339 date-time (a missing offset means UTC) to Unix nanoseconds.
pub(super) fn iso_to_ns(s: &str) -> Option<u64> {
    let s = s.trim();
    let nanos = match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(dt) => dt.timestamp_nanos_opt(),
        Err(_) => {
            let naive = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f"))
                .ok()?;
            naive.and_utc().timestamp_nanos_opt()
        }
    };
    nanos.and_then(|n| u64::try_from(n).ok())
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let t = serde_json::Value::deserialize(d)?;
        Ok(Timestamp(match t {
            serde_json::Value::Number(n) => n.as_f64().and_then(secs_to_ns),
            serde_json::Value::String(s) => match s.trim().parse::<f64>() {
                Ok(f) => secs_to_ns(f),
                Err(_) => iso_to_ns(&s),
            },
            _ => None,
        }))
    }
}

/// A JSON value as text: strings unquoted, `null` empty, everything else as compact JSON.
pub(super) fn value_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Key/value pairs in the order given, from an object, a list of `[key, value]` pairs or a list of
/// `{"key", "value"}` objects (Sentry tags in their three spellings); `null` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Pairs(pub Vec<(String, String)>);

struct Pair(Option<(String, String)>);

impl<'de> Deserialize<'de> for Pair {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pair;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a [key, value] pair or a {"key", "value"} object"#)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Pair, A::Error> {
                let key = a.next_element::<Text>()?.and_then(|t| t.0);
                let value = a.next_element::<serde_json::Value>()?;
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Pair(
                    key.map(|k| (k, value.map(value_text).unwrap_or_default())),
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Pair, A::Error> {
                let mut key = None;
                let mut value = None;
                while let Some(k) = a.next_key::<String>()? {
                    match k.as_str() {
                        "key" => key = a.next_value::<Text>()?.0,
                        "value" => value = Some(value_text(a.next_value()?)),
                        _ => {
                            a.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Pair(key.map(|k| (k, value.unwrap_or_default()))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Pair, E> {
                Ok(Pair(None))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object or a list of key/value pairs")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, serde_json::Value>()? {
                    out.push((k, value_text(v)));
                }
                Ok(Pairs(out))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Pairs, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = a.next_element::<Pair>()? {
                    out.extend(p.0);
                }
                Ok(Pairs(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Pairs, E> {
                Ok(Pairs(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Pairs, E> {
                Ok(Pairs(Vec::new()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Eight bytes at a time finds what a byte-by-byte search finds, wherever it falls.
        #[test]
        fn text_end_is_a_plain_search(
            b in prop::collection::vec(prop::sample::select(vec![b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xff, 0x00, 0x5b]), 0..40),
            controls in any::<bool>(),
        ) {
            let plain = b.iter().position(|&c| c == b'"' || c == b'\\' || (controls && c < 0x20));
            prop_assert_eq!(text_end(&b, controls), plain);
        }
    }

    #[test]
    fn nanos_string_or_number() {
        let v: Vec<Nanos> =
            serde_json::from_str(r#"["1795259463172556539", 1795259463172556539, null, 1.5e9]"#)
                .expect("parse");
        assert_eq!(
            v,
            [
                Nanos(1_795_259_463_172_556_539),
                Nanos(1_795_259_463_172_556_539),
                Nanos(0),
                Nanos(1_500_000_000)
            ]
        );
        assert!(serde_json::from_str::<Nanos>(r#""soon""#).is_err());
        assert!(serde_json::from_str::<Nanos>("-5").is_err());
    }

    #[test]
    fn values_read_from_text_or_bytes_alike() {
        let read = |bytes: &[u8]| {
            let mut out = Vec::new();
            for_each_value::<Vec<String>, _>(bytes, Format::OtlpJson, |v| {
                out.push(v);
                Ok(())
            })
            .map(|_| out)
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            read("[\"caf\u{e9}\"]\n[\"\\u00e9\"]".as_bytes()),
            Ok(vec![
                vec!["caf\u{e9}".to_owned()],
                vec!["\u{e9}".to_owned()]
            ])
        );
        // Not UTF-8: read as bytes, so the error still names the string's position.
        assert_eq!(
            read(b"[\"ok\"]\n[\"a\xffb\"]"),
            Err(
                "invalid JSON at line 2, column 4 (reading OTLP JSON): invalid unicode code point"
                    .to_owned()
            )
        );
        assert_eq!(read(b"   "), Ok(Vec::new()));
    }

    #[test]
    fn nanos_short_decimals_and_the_rest() {
        let v: Vec<Nanos> = serde_json::from_str(
            r#"["0", "9999999999999999999", "18446744073709551615", " 7 ", "+5", "1e3"]"#,
        )
        .expect("parse");
        let v: Vec<u64> = v.into_iter().map(|n| n.0).collect();
        assert_eq!(v, [0, 9_999_999_999_999_999_999, u64::MAX, 7, 5, 1000]);
        assert!(serde_json::from_str::<Nanos>(r#""18446744073709551616""#).is_ok_and(|n| n.0 > 0));
        assert!(serde_json::from_str::<Nanos>(r#""""#).is_err());
    }

    #[test]
    fn timestamps_float_or_iso() {
        let f: Timestamp = serde_json::from_str("1701074659.818557").expect("float");
        assert_eq!(f.0, Some(1_701_074_659_818_557_000));
        let s: Timestamp = serde_json::from_str(r#""2024-01-26T17:27:31.414Z""#).expect("iso");
        assert_eq!(s.0, Some(1_706_290_051_414_000_000));
        let n: Timestamp = serde_json::from_str(r#""2020-06-17T22:26:56.098086""#).expect("naive");
        assert_eq!(n.0, Some(1_592_432_816_098_086_000));
        let bad: Timestamp = serde_json::from_str(r#""yesterday""#).expect("lenient");
        assert_eq!(bad.0, None);
    }

    #[test]
    fn pairs_in_three_spellings() {
        let a: Pairs = serde_json::from_str(r#"{"b":"1","a":2}"#).expect("object");
        assert_eq!(a.0, [("b".into(), "1".into()), ("a".into(), "2".into())]);
        let b: Pairs = serde_json::from_str(r#"[["b","1"],["a",null]]"#).expect("list");
        assert_eq!(b.0, [("b".into(), "1".into()), ("a".into(), String::new())]);
        let c: Pairs =
            serde_json::from_str(r#"[{"key":"b","value":"1","query":"x"}]"#).expect("web");
        assert_eq!(c.0, [("b".into(), "1".into())]);
    }

    #[test]
    fn lenient_scalars() {
        let t: Vec<Text> = serde_json::from_str(r#"["a", 1, true, null, {"x":1}]"#).expect("t");
        let t: Vec<Option<String>> = t.into_iter().map(|x| x.0).collect();
        assert_eq!(
            t,
            [
                Some("a".into()),
                Some("1".into()),
                Some("true".into()),
                None,
                None
            ]
        );
        let n: Vec<Num> = serde_json::from_str(r#"[785, "12", "x", -1]"#).expect("n");
        assert_eq!(n, [Num(Some(785)), Num(Some(12)), Num(None), Num(None)]);
        let f: Vec<Flag> = serde_json::from_str(r#"[true, "False", 1, null]"#).expect("f");
        assert_eq!(
            f,
            [
                Flag(Some(true)),
                Flag(Some(false)),
                Flag(Some(true)),
                Flag(None)
            ]
        );
    }
}
