//! Strict identifiers: [`TraceId`], [`SpanId`], [`EventId`].
//!
//! Inside tracepin an id is a fixed-size byte array. `FromStr` accepts exactly the right number of hex
//! digits (any case) and nothing else; `Display` and `Serialize` always produce lowercase hex.
//! `Deserialize` reads through [`super::lenient`], the one lenient parser for ids arriving as text
//! (whitespace, dashed UUIDs, 16-hex Jaeger trace ids). Wire encodings (base64 from Tempo, trimmed
//! leading zeros) are decoded by the format that meets them, never here.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The string has the wrong number of characters.
    #[error("expected {expected} hex digits, got {got} characters")]
    Length {
        /// Hex digits required.
        expected: usize,
        /// Characters found.
        got: usize,
    },
    /// A character is not a hex digit.
    #[error("'{0}' is not a hex digit")]
    NotHex(char),
    /// All bytes are zero, which OpenTelemetry and W3C define as invalid.
    #[error("an all-zero id is invalid")]
    AllZero,
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], IdError> {
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return Err(IdError::Length {
            expected: N * 2,
            got: s.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_val(pair[0]).ok_or_else(|| IdError::NotHex(char::from(pair[0])))?;
        let lo = hex_val(pair[1]).ok_or_else(|| IdError::NotHex(char::from(pair[1])))?;
        out[i] = (hi << 4) | lo;
    }
    if out.iter().all(|b| *b == 0) {
        return Err(IdError::AllZero);
    }
    Ok(out)
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        buf[i * 2] = DIGITS[usize::from(b >> 4)];
        buf[i * 2 + 1] = DIGITS[usize::from(b & 0x0f)];
    }
    // Only ASCII hex digits were written, so this cannot fail.
    f.write_str(std::str::from_utf8(&buf[..bytes.len() * 2]).map_err(|_| fmt::Error)?)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $n:expr, $lenient:path) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub [u8; $n]);

        impl $name {
            /// Number of bytes in this id.
            pub const LEN: usize = $n;

            /// Builds an id from raw bytes; `None` when all bytes are zero (invalid per W3C/OTel).
            pub fn from_bytes(bytes: [u8; $n]) -> Option<Self> {
                if bytes.iter().all(|b| *b == 0) {
                    None
                } else {
                    Some(Self(bytes))
                }
            }

            /// Builds an id from a byte slice of exactly the right length; `None` otherwise.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                let arr: [u8; $n] = bytes.try_into().ok()?;
                Self::from_bytes(arr)
            }

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $n] {
                &self.0
            }

            /// Lowercase hex, the canonical spelling.
            pub fn to_hex(&self) -> String {
                self.to_string()
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$n>(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(", stringify!($name))?;
                write_hex(f, &self.0)?;
                f.write_str(")")
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $lenient(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A 128-bit W3C / OpenTelemetry trace id.
    TraceId, 16,
    super::lenient::trace_id_lenient
);
id_type!(
    /// A 64-bit OpenTelemetry span id.
    SpanId, 8,
    super::lenient::span_id_lenient
);
id_type!(
    /// A Sentry event id (a UUID, written as 32 hex digits without dashes).
    EventId, 16,
    super::lenient::event_id_lenient
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_parse_and_lowercase_display() {
        let t: TraceId = "0AF7651916CD43DD8448EB211C80319C".parse().expect("valid");
        assert_eq!(t.to_string(), "0af7651916cd43dd8448eb211c80319c");
        let s: SpanId = "b7ad6b7169203331".parse().expect("valid");
        assert_eq!(format!("{s:?}"), "SpanId(b7ad6b7169203331)");
    }

    #[test]
    fn rejects_lenient_forms() {
        assert!(matches!(
            "af7651916cd43dd8448eb211c80319c".parse::<TraceId>(),
            Err(IdError::Length {
                expected: 32,
                got: 31
            })
        ));
        assert!("b7ad6b7169203331".parse::<TraceId>().is_err());
        assert!("0af76519-16cd-43dd-8448-eb211c80319c"
            .parse::<EventId>()
            .is_err());
        assert_eq!(
            "zz00000000000001".parse::<SpanId>(),
            Err(IdError::NotHex('z'))
        );
        assert_eq!("0000000000000000".parse::<SpanId>(), Err(IdError::AllZero));
        assert!("é000000000000001".parse::<SpanId>().is_err());
    }

    #[test]
    fn serde_round_trip() {
        let s: SpanId = "00f067aa0ba902b7".parse().expect("valid");
        let json = serde_json::to_string(&s).expect("serialize");
        assert_eq!(json, "\"00f067aa0ba902b7\"");
        let back: SpanId = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, s);
        assert!(serde_json::from_str::<SpanId>("\"xyz\"").is_err());
    }
}
