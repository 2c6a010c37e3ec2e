//! Payload decoders: every trace and error format tracepin reads, turned into domain values.
//!
//! One file per wire format, each with private wire structs and one conversion to [`Span`] or
//! [`ErrorEvent`]. [`decode`] takes the bytes of a file or an HTTP body (gzip accepted), sniffs the
//! format cheaply ([`detect`]: first bytes and top-level JSON keys) and dispatches; [`decode_as`] skips
//! the sniffing. Lenient id spellings (base64, short hex, dashed UUIDs) are handled once, in `ids`.
//!
//! The JSON decoders are hand-written serde wire structs rather than the `opentelemetry-proto` crate's
//! serde support: that support expects exactly the OTLP/JSON spelling (hex ids, integer enums) and so
//! cannot read Tempo's base64 ids and enum names, Jaeger's shapes, or `instrumentationLibrarySpans`;
//! the crate's prost types are used for protobuf only.

mod ids;
pub mod ingest;
pub mod intern;
mod jaeger_v1;
mod jaeger_v3;
mod json;
mod otlp_fast;
mod otlp_json;
mod otlp_proto;
mod sentry_envelope;
mod sentry_event;
mod sentry_transaction;
mod sentry_web;
mod sniff;
mod stream;
mod tempo;

use std::fmt;
use std::io::Read;

use crate::domain::{ErrorEvent, Span};

pub use otlp_proto::{decode_otlp_protobuf, decode_tempo_v2_protobuf};
pub use sentry_web::decode_sentry_web_event;
pub use stream::{streams, SpanStream};

/// A payload format tracepin can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OTLP/JSON: `{"resourceSpans":[…]}` (an `ExportTraceServiceRequest` or `TracesData`), also as JSON Lines.
    OtlpJson,
    /// OTLP protobuf: `ExportTraceServiceRequest`, `TracesData`, Tempo's `Trace` or `TraceByIDResponse`.
    OtlpProtobuf,
    /// Tempo `GET /api/traces/<id>` JSON: `{"batches":[…]}`.
    TempoV1,
    /// Tempo `GET /api/v2/traces/<id>` JSON: `{"trace":{"resourceSpans":…},"status":…,"message":…}`.
    TempoV2,
    /// Jaeger `GET /api/v3/traces/<id>` JSON: `{"result":{"resourceSpans":…}}`.
    JaegerV3,
    /// Jaeger v1 / UI JSON: `{"data":[trace…]}`, a list of traces, or one trace object.
    JaegerV1,
    /// A Sentry envelope (`application/x-sentry-envelope`) as an SDK sends it.
    SentryEnvelope,
    /// A Sentry Web API event (`GET /api/0/projects/{org}/{proj}/events/{id}/` and the issue event endpoints).
    SentryWebEvent,
    /// A plain Sentry event JSON as an SDK builds it (the payload of an envelope `event` item).
    SentryEventJson,
}

impl Format {
    /// Every format, in the order they are listed to people.
    pub const ALL: [Format; 9] = [
        Format::OtlpJson,
        Format::OtlpProtobuf,
        Format::TempoV1,
        Format::TempoV2,
        Format::JaegerV3,
        Format::JaegerV1,
        Format::SentryEnvelope,
        Format::SentryWebEvent,
        Format::SentryEventJson,
    ];

    /// The name shown to people, e.g. `Tempo v2 JSON`.
    pub fn name(self) -> &'static str {
        match self {
            Format::OtlpJson => "OTLP JSON",
            Format::OtlpProtobuf => "OTLP protobuf",
            Format::TempoV1 => "Tempo v1 JSON",
            Format::TempoV2 => "Tempo v2 JSON",
            Format::JaegerV3 => "Jaeger api_v3 JSON",
            Format::JaegerV1 => "Jaeger v1 JSON",
            Format::SentryEnvelope => "Sentry envelope",
            Format::SentryWebEvent => "Sentry Web API event",
            Format::SentryEventJson => "Sentry event JSON",
        }
    }

    /// What the format looks like, for "unknown format" messages.
    fn shape(self) -> &'static str {
        match self {
            Format::OtlpJson => r#"{"resourceSpans":[…]}"#,
            Format::OtlpProtobuf => "ExportTraceServiceRequest / TracesData bytes",
            Format::TempoV1 => r#"{"batches":[…]}"#,
            Format::TempoV2 => r#"{"trace":{…},"status":…}"#,
            Format::JaegerV3 => r#"{"result":{"resourceSpans":…}}"#,
            Format::JaegerV1 => r#"{"data":[…]}, [trace…] or {"traceID","spans","processes"}"#,
            Format::SentryEnvelope => "header line, then item header + payload lines",
            Format::SentryWebEvent => r#"{"eventID","groupID","entries":[…]}"#,
            Format::SentryEventJson => r#"{"event_id","exception"|"message",…}"#,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Spans decoded from one trace payload.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTrace {
    /// The format the spans were read from.
    pub format: Format,
    /// The spans, in payload order.
    pub spans: Vec<Span>,
    /// Set when the backend said the trace is incomplete (Tempo v2 `status: PARTIAL`): its message.
    pub partial: Option<String>,
}

/// What a payload held: spans or Sentry error events.
#[derive(Debug, Clone, PartialEq)]
pub enum Decoded {
    /// A trace payload.
    Trace(DecodedTrace),
    /// Sentry error events (possibly none, e.g. an envelope holding only a transaction).
    Events {
        /// The format the events were read from.
        format: Format,
        /// The error events, in payload order.
        events: Vec<ErrorEvent>,
    },
}

impl Decoded {
    /// The format the payload was read from.
    pub fn format(&self) -> Format {
        match self {
            Decoded::Trace(t) => t.format,
            Decoded::Events { format, .. } => *format,
        }
    }
}

/// Why a payload could not be decoded; every message says what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Nothing but whitespace.
    #[error("the input is empty")]
    Empty,
    /// The bytes start with the gzip magic but do not decompress.
    #[error("gzip data is truncated or corrupt: {0}")]
    Gzip(#[source] std::io::Error),
    /// The input could not be read (a file, while it was decoded piece by piece).
    #[error("cannot read: {0}")]
    Read(#[source] std::io::Error),
    /// Gzip data that expands past the limit (a decompression bomb, or simply too big).
    #[error("the gzip data expands to more than {} MB, the most tracepin decompresses", .limit / (1024 * 1024))]
    Expands {
        /// The limit in bytes.
        limit: u64,
    },
    /// JSON that is malformed, or well-formed but not of the expected shape.
    #[error("{}", describe_json(*.format, *.syntax, *.line, *.column, .message))]
    Json {
        /// The format being decoded, if it was known.
        format: Option<Format>,
        /// True for a syntax error (not JSON at all), false for JSON of the wrong shape.
        syntax: bool,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The payload is not any of the accepted formats.
    #[error(
        "unknown format: found {found}; expected one of: {}",
        accepted_formats()
    )]
    UnknownFormat {
        /// A short description of what was found, e.g. its top-level JSON keys.
        found: String,
    },
    /// Protobuf bytes that do not decode as OTLP.
    #[error("invalid OTLP protobuf: {0}")]
    Protobuf(String),
    /// A structural problem that is not a JSON error (envelope framing, a bad protobuf id…).
    #[error("invalid {format}: {message}")]
    Invalid {
        /// The format being decoded.
        format: Format,
        /// What is wrong and where.
        message: String,
    },
    /// The payload is the backend's error response rather than data (e.g. Jaeger's "trace not found").
    #[error("{format} holds an error response instead of data: {message}")]
    Upstream {
        /// The format of the response.
        format: Format,
        /// The backend's message.
        message: String,
    },
}

fn describe_json(
    format: Option<Format>,
    syntax: bool,
    line: usize,
    column: usize,
    message: &str,
) -> String {
    let what = match (syntax, format) {
        (true, _) => "invalid JSON".to_owned(),
        (false, Some(f)) => format!("unexpected {f} content"),
        (false, None) => "unexpected JSON content".to_owned(),
    };
    let within = match (syntax, format) {
        (true, Some(f)) => format!(" (reading {f})"),
        _ => String::new(),
    };
    format!("{what} at line {line}, column {column}{within}: {message}")
}

fn accepted_formats() -> String {
    let parts: Vec<String> = Format::ALL
        .iter()
        .map(|f| format!("{} ({})", f.name(), f.shape()))
        .collect();
    parts.join("; ")
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The most bytes gzip input may expand to.
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// Decompresses gzip input (magic `1f 8b`); other input is returned as is.
fn gunzip(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, FormatError> {
    gunzip_capped(bytes, MAX_DECOMPRESSED_BYTES)
}

/// [`gunzip`] with a limit on the decompressed size: reading stops one byte past it.
pub fn gunzip_capped(bytes: &[u8], limit: u64) -> Result<std::borrow::Cow<'_, [u8]>, FormatError> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(
        bytes
            .len()
            .saturating_mul(4)
            .min(usize::try_from(limit).unwrap_or(usize::MAX)),
    );
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(FormatError::Gzip)?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > limit {
        return Err(FormatError::Expands { limit });
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Sniffs the format of (already decompressed) bytes from their first bytes and top-level JSON keys.
///
/// Protobuf is chosen only for input that is not JSON and whose top-level protobuf framing is valid.
/// Gzip input is decompressed first.
pub fn detect(bytes: &[u8]) -> Result<Format, FormatError> {
    sniff::detect(&gunzip(bytes)?)
}

/// Decodes a payload of any accepted format (gzip accepted), detecting the format first.
pub fn decode(bytes: &[u8]) -> Result<Decoded, FormatError> {
    let bytes = gunzip(bytes)?;
    let format = sniff::detect(&bytes)?;
    decode_plain(format, &bytes)
}

/// How much of a file is read at a time by [`decode_read`].
const READ_PIECE: usize = 1024 * 1024;

/// Decodes a payload read from `r` (a file), like [`decode`]: gzip accepted, the format detected from
/// the first mebibyte. An OTLP-shaped JSON trace ([`streams`]) is decoded piece by piece as it is read,
/// so the whole document is never held ([`SpanStream`]); anything else is read whole first.
pub fn decode_read(r: impl Read) -> Result<Decoded, FormatError> {
    decode_read_sized(r, None)
}

/// [`decode_read`] of a file: its length tells the streaming decoder about how many spans to make
/// room for, so they are not copied as their vector grows.
pub fn decode_file(file: std::fs::File) -> Result<Decoded, FormatError> {
    let size = file.metadata().ok().map(|m| m.len());
    decode_read_sized(file, size)
}

fn decode_read_sized(r: impl Read, size: Option<u64>) -> Result<Decoded, FormatError> {
    let mut r = r;
    let mut head = Vec::with_capacity(READ_PIECE);
    (&mut r)
        .take(READ_PIECE as u64)
        .read_to_end(&mut head)
        .map_err(FormatError::Read)?;
    if head.starts_with(&GZIP_MAGIC) {
        let gz = flate2::read::MultiGzDecoder::new(std::io::Cursor::new(head).chain(r));
        let mut limited = gz.take(MAX_DECOMPRESSED_BYTES.saturating_add(1));
        let decoded = decode_read_plain(&mut limited, true, None);
        if limited.limit() == 0 {
            return Err(FormatError::Expands {
                limit: MAX_DECOMPRESSED_BYTES,
            });
        }
        return decoded;
    }
    decode_read_plain(&mut std::io::Cursor::new(head).chain(r), false, size)
}

fn decode_read_plain(
    r: &mut impl Read,
    gzip: bool,
    size: Option<u64>,
) -> Result<Decoded, FormatError> {
    let failed = |e: std::io::Error| {
        if gzip {
            FormatError::Gzip(e)
        } else {
            FormatError::Read(e)
        }
    };
    let mut head = Vec::with_capacity(READ_PIECE);
    r.take(READ_PIECE as u64)
        .read_to_end(&mut head)
        .map_err(failed)?;
    let stream = match head.len() < READ_PIECE {
        true => None,
        false => sniff::detect(&head).ok().and_then(SpanStream::new),
    };
    let Some(mut stream) = stream else {
        // Small, or not a format read piece by piece: read whole.
        r.read_to_end(&mut head).map_err(failed)?;
        return decode(&head);
    };
    if let Some(size) = size {
        stream.expect_bytes(size);
    }
    stream.push(&head);
    let mut piece = head;
    loop {
        piece.clear();
        let n = r
            .take(READ_PIECE as u64)
            .read_to_end(&mut piece)
            .map_err(failed)?;
        if n == 0 {
            break;
        }
        stream.push(&piece);
    }
    drop(piece);
    stream.finish().map(Decoded::Trace)
}

/// Decodes a payload as the given format (gzip accepted), without sniffing.
pub fn decode_as(format: Format, bytes: &[u8]) -> Result<Decoded, FormatError> {
    let bytes = gunzip(bytes)?;
    if sniff::is_blank(&bytes) {
        return Err(FormatError::Empty);
    }
    decode_plain(format, &bytes)
}

fn decode_plain(format: Format, bytes: &[u8]) -> Result<Decoded, FormatError> {
    // Repeated span names and attribute values share one copy while this payload is decoded.
    let _sharing = intern::sharing();
    Ok(match decode_uncapped(format, bytes)? {
        Decoded::Trace(t) => Decoded::Trace(capped(t)),
        Decoded::Events { format, mut events } => {
            crate::domain::limits::cap_events(&mut events);
            Decoded::Events { format, events }
        }
    })
}

/// Applies the per-span list limits (`domain::limits`), noting what was dropped with any partial note.
pub(crate) fn capped(mut t: DecodedTrace) -> DecodedTrace {
    if let Some(note) = crate::domain::limits::cap_spans(&mut t.spans) {
        t.partial = Some(match t.partial.take() {
            Some(p) => format!("{p} {note}"),
            None => note,
        });
    }
    t
}

fn decode_uncapped(format: Format, bytes: &[u8]) -> Result<Decoded, FormatError> {
    // A UTF-8 byte order mark (from Windows editors) is not JSON; protobuf is left as is.
    let bytes = match format {
        Format::OtlpProtobuf => bytes,
        _ => bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes),
    };
    let trace = |spans: Vec<Span>| {
        Decoded::Trace(DecodedTrace {
            format,
            spans,
            partial: None,
        })
    };
    let events = |events: Vec<ErrorEvent>| Decoded::Events { format, events };
    Ok(match format {
        Format::OtlpJson => trace(otlp_json::decode(bytes)?),
        Format::OtlpProtobuf => Decoded::Trace(otlp_proto::decode(bytes)?),
        Format::TempoV1 => trace(tempo::decode_v1(bytes)?),
        Format::TempoV2 => Decoded::Trace(tempo::decode_v2(bytes)?),
        Format::JaegerV3 => trace(jaeger_v3::decode(bytes)?),
        Format::JaegerV1 => trace(jaeger_v1::decode(bytes)?),
        Format::SentryEnvelope => events(sentry_envelope::decode(bytes)?),
        Format::SentryWebEvent => events(sentry_web::decode_many(bytes)?),
        Format::SentryEventJson => events(vec![sentry_event::decode_event_json(bytes)?]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b' '; 8 * 1024 * 1024]).expect("write");
        let bomb = enc.finish().expect("gzip");
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let err = gunzip_capped(&bomb, 1024 * 1024).expect_err("too big");
        assert!(matches!(err, FormatError::Expands { limit } if limit == 1024 * 1024));
        assert_eq!(
            err.to_string(),
            "the gzip data expands to more than 1 MB, the most tracepin decompresses"
        );
        assert_eq!(
            gunzip_capped(&bomb, 8 * 1024 * 1024).map(|b| b.len()).ok(),
            Some(8 * 1024 * 1024)
        );
    }
}
