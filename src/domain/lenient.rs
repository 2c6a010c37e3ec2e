//! THE one lenient parser for ids arriving at the edge as text: URL paths, query parameters, server
//! function arguments, and upstream JSON fields known to vary in spelling. Also what serde uses to read
//! [`TraceId`], [`SpanId`] and [`EventId`].
//!
//! Accepted, and nothing else: surrounding whitespace; hex in any case; for trace and event ids the
//! dashed UUID form (8-4-4-4-12); for trace ids 16 hex digits (a Jaeger 64-bit id), padded with leading
//! zeros to 32. All-zero ids are refused, as by the strict `FromStr`. A refusal is a [`BadId`] whose
//! message is one sentence naming the value and what was expected.
//!
//! Owns only these spellings. Must not guess further: base64 and trimmed hex of wire formats are the
//! decoders' business (`connectors::formats::ids`), and what a pasted text *is* (a link, a header value,
//! a log line) is [`super::recognise`]'s.

use super::ids::{EventId, IdError, SpanId, TraceId};

/// Why a value at the edge is not an id, in one sentence, e.g. "`xyz` is not a trace id: a trace id is
/// 32 hex digits (16 for Jaeger 64-bit ids)."
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct BadId {
    /// One sentence, ending with a full stop.
    pub message: String,
}

/// What an id kind is called and what it looks like, for messages.
struct Kind {
    name: &'static str,
    shape: &'static str,
}

const TRACE: Kind = Kind {
    name: "trace id",
    shape: "a trace id is 32 hex digits (16 for Jaeger 64-bit ids)",
};
const SPAN: Kind = Kind {
    name: "span id",
    shape: "a span id is 16 hex digits",
};
const EVENT: Kind = Kind {
    name: "Sentry event id",
    shape: "an event id is 32 hex digits, dashes allowed as in a UUID",
};

/// A trace id: 32 hex digits, a dashed UUID, or 16 hex digits (Jaeger, padded with leading zeros).
pub fn trace_id_lenient(raw: &str) -> Result<TraceId, BadId> {
    let s = raw.trim();
    let parsed = || -> Result<TraceId, Why> {
        Ok(match s.len() {
            16 if is_hex(s) => format!("{s:0>32}").parse()?,
            36 => undashed_uuid(s).ok_or(Why::Shape)?.parse()?,
            _ => s.parse()?,
        })
    };
    parsed().map_err(|why| refuse(&TRACE, s, why))
}

/// A span id: 16 hex digits.
pub fn span_id_lenient(raw: &str) -> Result<SpanId, BadId> {
    let s = raw.trim();
    s.parse()
        .map_err(|e: IdError| refuse(&SPAN, s, Why::from(e)))
}

/// A Sentry event id: 32 hex digits or a dashed UUID.
pub fn event_id_lenient(raw: &str) -> Result<EventId, BadId> {
    let s = raw.trim();
    let parsed = || -> Result<EventId, Why> {
        Ok(match s.len() {
            36 => undashed_uuid(s).ok_or(Why::Shape)?.parse()?,
            _ => s.parse()?,
        })
    };
    parsed().map_err(|why| refuse(&EVENT, s, why))
}

/// Why a value was refused.
enum Why {
    /// Not the shape of the id (length, characters, dashes).
    Shape,
    /// The right shape, but all zeros.
    AllZero,
}

impl From<IdError> for Why {
    fn from(e: IdError) -> Self {
        match e {
            IdError::AllZero => Why::AllZero,
            IdError::Length { .. } | IdError::NotHex(_) => Why::Shape,
        }
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The 32 hex digits of an 8-4-4-4-12 dashed UUID; `None` for any other arrangement.
fn undashed_uuid(s: &str) -> Option<String> {
    let mut groups = s.split('-');
    let mut hex = String::with_capacity(32);
    for len in [8, 4, 4, 4, 12] {
        let group = groups.next()?;
        if group.len() != len || !is_hex(group) {
            return None;
        }
        hex.push_str(group);
    }
    groups.next().is_none().then_some(hex)
}

fn refuse(kind: &Kind, s: &str, why: Why) -> BadId {
    let value = if s.is_empty() {
        "An empty value".to_owned()
    } else {
        format!("`{}`", snippet(s))
    };
    let why = match why {
        Why::AllZero => format!("an all-zero {} is invalid", kind.name),
        Why::Shape => kind.shape.to_owned(),
    };
    BadId {
        message: format!("{value} is not a {}: {why}.", kind.name),
    }
}

/// At most 40 characters of `s`, control characters and backticks replaced, `…` when cut.
fn snippet(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| {
            if c.is_control() || c == '`' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T32: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const S16: &str = "00f067aa0ba902b7";
    const E32: &str = "0af7651916cd43dd8448eb211c80319c";
    const TRACE_SHAPE: &str = "a trace id is 32 hex digits (16 for Jaeger 64-bit ids).";

    fn trace_ok(raw: &str) -> String {
        trace_id_lenient(raw)
            .unwrap_or_else(|e| panic!("{raw:?}: {e}"))
            .to_hex()
    }
    fn trace_err(raw: &str) -> String {
        match trace_id_lenient(raw) {
            Ok(t) => panic!("{raw:?} was accepted as {t}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn trace_ids_in_every_accepted_spelling() {
        assert_eq!(trace_ok(T32), T32);
        assert_eq!(trace_ok(&format!("  {}\n", T32.to_ascii_uppercase())), T32);
        assert_eq!(trace_ok("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"), T32);
        assert_eq!(trace_ok("\t4BF92F35-77B3-4DA6-A3CE-929D0E0E4736 "), T32);
        assert_eq!(
            trace_ok("a3ce929d0e0e4736"),
            "0000000000000000a3ce929d0e0e4736"
        );
        assert_eq!(
            trace_ok(" A3CE929D0E0E4736 "),
            "0000000000000000a3ce929d0e0e4736"
        );
        assert_eq!(
            trace_ok("00000000000000000000000000000001"),
            "00000000000000000000000000000001"
        );
    }

    #[test]
    fn trace_ids_refused_with_one_sentence() {
        assert_eq!(
            trace_err("xyz"),
            format!("`xyz` is not a trace id: {TRACE_SHAPE}")
        );
        assert_eq!(
            trace_err(""),
            format!("An empty value is not a trace id: {TRACE_SHAPE}")
        );
        assert_eq!(
            trace_err(" \n "),
            format!("An empty value is not a trace id: {TRACE_SHAPE}")
        );
        let t31 = &T32[..31];
        assert_eq!(
            trace_err(t31),
            format!("`{t31}` is not a trace id: {TRACE_SHAPE}")
        );
        assert_eq!(
            trace_err(&format!("{T32}0")),
            format!("`{T32}0` is not a trace id: {TRACE_SHAPE}")
        );
        assert_eq!(
            trace_err("4bf92f3577b34da6a3ce929d0e0e473g"),
            format!("`4bf92f3577b34da6a3ce929d0e0e473g` is not a trace id: {TRACE_SHAPE}")
        );
        assert_eq!(
            trace_err("00000000000000000000000000000000"),
            "`00000000000000000000000000000000` is not a trace id: an all-zero trace id is invalid."
        );
        assert_eq!(
            trace_err("0000000000000000"),
            "`0000000000000000` is not a trace id: an all-zero trace id is invalid."
        );
        assert_eq!(
            trace_err("00000000-0000-0000-0000-000000000000"),
            "`00000000-0000-0000-0000-000000000000` is not a trace id: an all-zero trace id is invalid."
        );
        // Dashes only where a UUID has them; 15 and 17 hex digits are no Jaeger id.
        for bad in [
            "4bf92f3577b34da6-a3ce929d0e0e4736",
            "4bf92f35-77b34da6a3ce-929d-0e0e4736",
            "-4bf92f3577b34da6a3ce929d0e0e4736",
            "a3ce929d0e0e473",
            "a3ce929d0e0e47360",
            "0x4bf92f3577b34da6a3ce929d0e0e4736",
            "４bf92f3577b34da6a3ce929d0e0e4736",
            "é3ce929d0e0e4736",
        ] {
            assert_eq!(
                trace_err(bad),
                format!("`{bad}` is not a trace id: {TRACE_SHAPE}"),
                "{bad}"
            );
        }
    }

    #[test]
    fn long_or_odd_values_are_cut_in_the_message() {
        let long = "x".repeat(100);
        assert_eq!(
            trace_err(&long),
            format!("`{}…` is not a trace id: {TRACE_SHAPE}", "x".repeat(40))
        );
        assert_eq!(
            trace_err("a`b\u{7}"),
            format!("`a\u{FFFD}b\u{FFFD}` is not a trace id: {TRACE_SHAPE}")
        );
    }

    #[test]
    fn span_ids() {
        let ok = |raw: &str| span_id_lenient(raw).map(|s| s.to_hex());
        let err = |raw: &str| span_id_lenient(raw).map_err(|e| e.message);
        assert_eq!(ok(S16), Ok(S16.to_owned()));
        assert_eq!(ok(" 00F067AA0BA902B7\r\n"), Ok(S16.to_owned()));
        assert_eq!(
            err("f067aa0ba902b7"),
            Err("`f067aa0ba902b7` is not a span id: a span id is 16 hex digits.".to_owned())
        );
        assert_eq!(
            err("00f067aa0ba902b70"),
            Err("`00f067aa0ba902b70` is not a span id: a span id is 16 hex digits.".to_owned())
        );
        assert_eq!(
            err("00f067aa-0ba902b7"),
            Err("`00f067aa-0ba902b7` is not a span id: a span id is 16 hex digits.".to_owned())
        );
        assert_eq!(
            err("0000000000000000"),
            Err("`0000000000000000` is not a span id: an all-zero span id is invalid.".to_owned())
        );
        assert_eq!(
            err(""),
            Err("An empty value is not a span id: a span id is 16 hex digits.".to_owned())
        );
    }

    #[test]
    fn event_ids() {
        let ok = |raw: &str| event_id_lenient(raw).map(|e| e.to_hex());
        let err = |raw: &str| event_id_lenient(raw).map_err(|e| e.message);
        let shape = "an event id is 32 hex digits, dashes allowed as in a UUID.";
        assert_eq!(ok(E32), Ok(E32.to_owned()));
        assert_eq!(ok(" 0AF7651916CD43DD8448EB211C80319C "), Ok(E32.to_owned()));
        assert_eq!(
            ok("0af76519-16cd-43dd-8448-eb211c80319c"),
            Ok(E32.to_owned())
        );
        assert_eq!(
            ok("0AF76519-16CD-43DD-8448-EB211C80319C\n"),
            Ok(E32.to_owned())
        );
        // Events have no 64-bit form.
        assert_eq!(
            err("8448eb211c80319c"),
            Err(format!(
                "`8448eb211c80319c` is not a Sentry event id: {shape}"
            ))
        );
        assert_eq!(
            err("0af7651916cd-43dd-8448-eb211c80319c"),
            Err(format!(
                "`0af7651916cd-43dd-8448-eb211c80319c` is not a Sentry event id: {shape}"
            ))
        );
        assert_eq!(
            err("00000000-0000-0000-0000-000000000000"),
            Err("`00000000-0000-0000-0000-000000000000` is not a Sentry event id: an all-zero Sentry event id is invalid.".to_owned())
        );
        assert_eq!(
            err(""),
            Err(format!("An empty value is not a Sentry event id: {shape}"))
        );
    }

    #[test]
    fn serde_reads_lenient_spellings_and_writes_lowercase_hex() {
        let t: TraceId =
            serde_json::from_str("\"4BF92F35-77B3-4DA6-A3CE-929D0E0E4736\"").expect("uuid trace");
        assert_eq!(
            serde_json::to_string(&t).expect("ser"),
            format!("\"{T32}\"")
        );
        let j: TraceId = serde_json::from_str("\" a3ce929d0e0e4736\"").expect("jaeger trace");
        assert_eq!(j.to_hex(), "0000000000000000a3ce929d0e0e4736");
        let s: SpanId = serde_json::from_str("\"00F067AA0BA902B7\"").expect("span");
        assert_eq!(
            serde_json::to_string(&s).expect("ser"),
            format!("\"{S16}\"")
        );
        let e: EventId =
            serde_json::from_str("\"0af76519-16cd-43dd-8448-eb211c80319c\"").expect("event");
        assert_eq!(
            serde_json::to_string(&e).expect("ser"),
            format!("\"{E32}\"")
        );
        let err = serde_json::from_str::<TraceId>("\"xyz\"").expect_err("refused");
        assert!(
            err.to_string()
                .starts_with(&format!("`xyz` is not a trace id: {TRACE_SHAPE}")),
            "{err}"
        );
        assert!(serde_json::from_str::<SpanId>("\"a3ce929d0e0e4736a3\"").is_err());
        assert!(serde_json::from_str::<EventId>("\"a3ce929d0e0e4736\"").is_err());
    }
}
