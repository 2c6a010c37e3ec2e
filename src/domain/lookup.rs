//! The "paste anything" recogniser: turns what a person pastes (an id, a header value, a log line, a link
//! from Sentry, Grafana, Jaeger, Tempo or tracepin itself) into a [`Lookup`], or says in one sentence
//! why it cannot.
//!
//! Pure: no I/O, and nothing is ever fetched. Links are parsed with the `url` crate only to read ids out
//! of their paths and query strings. Compiles for the server and for WebAssembly alike.
//!
//! Order of attempts: a whole-input link; `label=value` fields (`trace_id=`, `traceparent:`,
//! `"event_id": "…"`, …); a bare value (traceparent, sentry-trace, uber-trace-id, 32 or 16 hex digits,
//! an issue number, a short id); finally, for text with spaces, the one id or link inside it.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use super::ids::{EventId, SpanId, TraceId};

/// Longest input read, in bytes; anything longer is refused before any parsing.
pub const MAX_INPUT_BYTES: usize = 8 * 1024;

/// What a pasted text names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lookup {
    /// Certainly a trace (16-hex Jaeger ids padded to 32 with leading zeros).
    Trace {
        /// The trace.
        trace_id: TraceId,
        /// The span to focus, when the input named one.
        span_id: Option<SpanId>,
        /// The Sentry event to focus, when the input named one.
        event_id: Option<EventId>,
    },
    /// 32 hex digits (or a dashed UUID) with nothing saying which: a trace id or a Sentry event id.
    TraceOrEvent {
        /// 32 lowercase hex digits, not all zero.
        id: String,
    },
    /// Certainly a Sentry event (Sentry event URL, tracepin /event/ link, `event_id=` label ...).
    Event {
        /// The event.
        event_id: EventId,
        /// The Sentry issue (numeric id) the link named, if any.
        issue_id: Option<String>,
    },
    /// A Sentry issue by numeric id (digits only).
    Issue {
        /// Digits only, no leading zeros.
        issue_id: String,
    },
    /// A Sentry short id, uppercased, e.g. `SHOP-12`, `BACKEND-API-3F`.
    ShortId {
        /// Uppercased short id.
        short_id: String,
    },
}

/// A recognised input: what it names and what it was recognised as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recognised {
    /// What the input names.
    pub lookup: Lookup,
    /// What the input was recognised as.
    pub form: Form,
}

/// What an input was recognised as; [`Form::describe`] names it for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Form {
    /// 32 hex digits.
    HexId32,
    /// A dashed UUID (8-4-4-4-12 hex digits).
    DashedUuid,
    /// 16 hex digits: a 64-bit Jaeger trace id.
    JaegerId16,
    /// A W3C `traceparent` value.
    Traceparent,
    /// A Sentry `sentry-trace` header value.
    SentryTrace,
    /// A Jaeger `uber-trace-id` header value.
    UberTraceId,
    /// Labelled fields such as `trace_id=…`, `"event_id": "…"`, a log line.
    Labelled,
    /// A numeric Sentry issue id.
    IssueNumber,
    /// A Sentry short id.
    ShortId,
    /// A Sentry issue page.
    SentryIssueLink,
    /// A Sentry event page (issue event, Discover or Performance event).
    SentryEventLink,
    /// A Sentry trace view.
    SentryTraceLink,
    /// A Sentry search by `trace:` (issues list, Explore).
    SentrySearchLink,
    /// A Grafana Explore link on a trace.
    GrafanaExplore,
    /// A Grafana Traces Drilldown link on a trace.
    GrafanaTracesDrilldown,
    /// A Jaeger UI trace page.
    JaegerUi,
    /// A Jaeger UI search by trace id.
    JaegerSearch,
    /// A Tempo (or Jaeger) API trace URL.
    TempoApi,
    /// A Zipkin UI trace page.
    ZipkinUi,
    /// A tracepin trace link.
    TracepinTrace,
    /// A tracepin event link.
    TracepinEvent,
    /// A tracepin issue link.
    TracepinIssue,
    /// Any other link with a `trace_id`-like query parameter.
    TraceParameterLink,
}

impl Form {
    /// A short name for people, e.g. "Jaeger UI link", "W3C traceparent".
    pub const fn describe(&self) -> &'static str {
        match self {
            Form::HexId32 => "32-hex-digit id",
            Form::DashedUuid => "dashed UUID",
            Form::JaegerId16 => "16-hex-digit Jaeger trace id",
            Form::Traceparent => "W3C traceparent",
            Form::SentryTrace => "sentry-trace header",
            Form::UberTraceId => "Jaeger uber-trace-id header",
            Form::Labelled => "labelled fields (trace_id=…, event_id=…)",
            Form::IssueNumber => "Sentry issue number",
            Form::ShortId => "Sentry short id",
            Form::SentryIssueLink => "Sentry issue link",
            Form::SentryEventLink => "Sentry event link",
            Form::SentryTraceLink => "Sentry trace view link",
            Form::SentrySearchLink => "Sentry search by trace",
            Form::GrafanaExplore => "Grafana Explore link",
            Form::GrafanaTracesDrilldown => "Grafana Traces Drilldown link",
            Form::JaegerUi => "Jaeger UI link",
            Form::JaegerSearch => "Jaeger search link",
            Form::TempoApi => "Tempo API link",
            Form::ZipkinUi => "Zipkin UI link",
            Form::TracepinTrace => "tracepin trace link",
            Form::TracepinEvent => "tracepin event link",
            Form::TracepinIssue => "tracepin issue link",
            Form::TraceParameterLink => "link with a trace_id parameter",
        }
    }
}

/// Why an input was not recognised, in one sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrecognised {
    /// One sentence, e.g. "31 hex digits: one short of a trace id".
    pub message: String,
}

impl fmt::Display for Unrecognised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Unrecognised {}

/// Every accepted form with an example, for the "accepted forms" message. Each example is recognised as
/// its form (a test checks this).
pub const ACCEPTED_FORMS: &[(&str, &str)] = &[
    (Form::HexId32.describe(), "4bf92f3577b34da6a3ce929d0e0e4736"),
    (Form::DashedUuid.describe(), "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
    (Form::JaegerId16.describe(), "a3ce929d0e0e4736"),
    (
        Form::Traceparent.describe(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ),
    (
        Form::SentryTrace.describe(),
        "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    ),
    (
        Form::UberTraceId.describe(),
        "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1",
    ),
    (
        Form::Labelled.describe(),
        "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    ),
    (Form::IssueNumber.describe(), "4509123456"),
    (Form::ShortId.describe(), "SHOP-12"),
    (
        Form::SentryIssueLink.describe(),
        "https://acme.sentry.io/issues/4509123456/",
    ),
    (
        Form::SentryEventLink.describe(),
        "https://acme.sentry.io/issues/4509123456/events/0af7651916cd43dd8448eb211c80319c/",
    ),
    (
        Form::SentryTraceLink.describe(),
        "https://acme.sentry.io/performance/trace/4bf92f3577b34da6a3ce929d0e0e4736/?node=span-00f067aa0ba902b7",
    ),
    (
        Form::SentrySearchLink.describe(),
        "https://acme.sentry.io/issues/?query=trace:4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::GrafanaExplore.describe(),
        r#"https://grafana.example.com/explore?panes={"a":{"queries":[{"query":"4bf92f3577b34da6a3ce929d0e0e4736"}]}}"#,
    ),
    (
        Form::GrafanaTracesDrilldown.describe(),
        "https://grafana.example.com/a/grafana-exploretraces-app/explore?traceId=4bf92f3577b34da6a3ce929d0e0e4736&spanId=00f067aa0ba902b7",
    ),
    (
        Form::JaegerUi.describe(),
        "https://jaeger.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736?uiFind=00f067aa0ba902b7",
    ),
    (
        Form::JaegerSearch.describe(),
        "https://jaeger.example.com/search?traceID=4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::TempoApi.describe(),
        "https://tempo.example.com/api/v2/traces/4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::ZipkinUi.describe(),
        "https://zipkin.example.com/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736",
    ),
    (
        Form::TracepinTrace.describe(),
        "https://tracepin.example.com/trace/4bf92f3577b34da6a3ce929d0e0e4736?v=1&span=00f067aa0ba902b7",
    ),
    (
        Form::TracepinEvent.describe(),
        "https://tracepin.example.com/event/0af7651916cd43dd8448eb211c80319c",
    ),
    (
        Form::TracepinIssue.describe(),
        "https://tracepin.example.com/issue/SHOP-12",
    ),
    (
        Form::TraceParameterLink.describe(),
        "https://logs.example.com/view?trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
    ),
];

/// Recognises what `input` names. Never panics; reads at most [`MAX_INPUT_BYTES`].
pub fn recognise(input: &str) -> Result<Recognised, Unrecognised> {
    recognise_at(input, 0)
}

fn recognise_at(input: &str, depth: u8) -> Result<Recognised, Unrecognised> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(no(format!(
            "too long: {} bytes, and tracepin reads at most 8 KiB",
            input.len()
        )));
    }
    let text = strip_noise(input);
    if text.is_empty() {
        return Err(no(if input.trim().is_empty() {
            "empty input"
        } else {
            "only punctuation, no id"
        }));
    }
    if let Some(link) = parse_link(text) {
        return recognise_link(&link?, depth);
    }
    let label_error = match scan_labels(text) {
        Some(Ok(found)) => return Ok(found),
        Some(Err(e)) => Some(e),
        None => None,
    };
    let value_error = match recognise_value(text) {
        Ok((lookup, form)) => return Ok(Recognised { lookup, form }),
        Err(e) => e,
    };
    if text.contains(char::is_whitespace) {
        if let Some(found) = extract_from_text(text, depth)? {
            return Ok(found);
        }
    }
    Err(label_error.unwrap_or(value_error))
}

// ---------------------------------------------------------------------------------------------------
// Small helpers

fn no(message: impl Into<String>) -> Unrecognised {
    Unrecognised {
        message: message.into(),
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Zero-width characters that ride along in copies from chat tools and documents.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// At most 40 characters of `s` for a message, control characters replaced.
fn snippet(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if s.chars().nth(40).is_some() {
        out.push('…');
    }
    out
}

/// Strips what surrounds a pasted value: whitespace, zero-width characters, quotes, backticks, angle
/// brackets, a bracket pair, and trailing sentence punctuation.
fn strip_noise(mut s: &str) -> &str {
    const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’', '«', '»'];
    loop {
        let before = s.len();
        s = s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c));
        s = s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        s = s.trim_start_matches('(');
        s = s.trim_matches(QUOTES);
        s = s.trim_start_matches('<').trim_end_matches('>');
        if let Some(inner) = s.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            s = inner;
        }
        if s.len() == before {
            return s;
        }
    }
}

/// `s` without dashes, whitespace and zero-width characters.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '-' && !c.is_whitespace() && !is_invisible(*c))
        .collect()
}

/// Explains a run of `n` hex digits that is no id.
fn length_message(n: usize) -> String {
    match n {
        31 => "31 hex digits: one short of a trace id".to_owned(),
        33 => "33 hex digits: one more than a trace id".to_owned(),
        15 => "15 hex digits: one short of a 16-digit Jaeger trace id".to_owned(),
        17 => "17 hex digits: one more than a 16-digit Jaeger trace id".to_owned(),
        _ => format!(
            "{n} hex digits: a trace id has 32 (or 16 for Jaeger) and a Sentry event id has 32"
        ),
    }
}

/// Why `s` is not an id of the given lengths, as a clause: "`xyz` is not hex ('x')".
fn id_problem(s: &str, lengths: &str) -> String {
    if s.is_empty() {
        return "is missing".to_owned();
    }
    if let Some(bad) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
        return format!(
            "`{}` is not hex ('{}')",
            snippet(s),
            snippet(&bad.to_string())
        );
    }
    if s.bytes().all(|b| b == b'0') {
        return format!("`{}` is all zeros, which is invalid", snippet(s));
    }
    format!("`{}` has {} hex digits, not {lengths}", snippet(s), s.len())
}

/// A trace id in a link or label: 32 hex digits, or 16 (Jaeger) padded with leading zeros.
fn parse_trace_id(s: &str) -> Result<TraceId, String> {
    let parsed = match s.len() {
        32 => s.parse().ok(),
        16 if is_hex(s) => format!("{s:0>32}").parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| id_problem(s, "32 (or 16 for Jaeger)"))
}

/// A Sentry event id: 32 hex digits, dashes allowed (UUID spelling).
fn parse_event_id(s: &str) -> Result<EventId, String> {
    let c = compact(s);
    c.parse().map_err(|_| id_problem(&c, "32"))
}

/// An issue reference: a numeric id (leading zeros dropped) or a short id.
fn issue_ref(s: &str) -> Option<Lookup> {
    if is_digits(s) && s.len() <= 20 {
        let digits = s.trim_start_matches('0');
        return (!digits.is_empty()).then(|| Lookup::Issue {
            issue_id: digits.to_owned(),
        });
    }
    short_id(s).map(|short_id| Lookup::ShortId { short_id })
}

/// A Sentry short id: a project slug (letters, digits, `-`, `_`, starting with a letter), a dash, and a
/// base-32 counter. Uppercased. Long hex runs (malformed trace or event ids) are not short ids.
fn short_id(s: &str) -> Option<String> {
    let (slug, counter) = s.rsplit_once('-')?;
    let slug_ok = slug.len() <= 64
        && slug.starts_with(|c: char| c.is_ascii_alphabetic())
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let counter_ok =
        (1..=13).contains(&counter.len()) && counter.chars().all(|c| c.is_ascii_alphanumeric());
    let c = compact(s);
    let hex_like = is_hex(&c) && c.len() >= 20;
    (slug_ok && counter_ok && !hex_like).then(|| s.to_ascii_uppercase())
}

fn trace(trace_id: TraceId, span_id: Option<SpanId>, event_id: Option<EventId>) -> Lookup {
    Lookup::Trace {
        trace_id,
        span_id,
        event_id,
    }
}

// ---------------------------------------------------------------------------------------------------
// Bare values

/// A single value with no label: header values, hex ids, issue numbers, short ids.
fn recognise_value(raw: &str) -> Result<(Lookup, Form), Unrecognised> {
    let v = strip_noise(raw);
    if v.is_empty() {
        return Err(no("empty input"));
    }
    if let Some(found) = traceparent(v) {
        return found;
    }
    if let Some(found) = sentry_trace(v) {
        return found;
    }
    if let Some(found) = uber_trace_id(v) {
        return found;
    }
    if is_digits(v) {
        return digits(v);
    }
    let c = compact(v);
    if is_hex(&c) {
        match c.len() {
            32 => return hex32(&c, v),
            16 => return hex16(&c),
            _ => {}
        }
    }
    if let Some(short_id) = short_id(v) {
        return Ok((Lookup::ShortId { short_id }, Form::ShortId));
    }
    Err(explain(v, &c))
}

/// `00-<32 hex>-<16 hex>-<2 hex>`; `Some` as soon as the input looks like one, with the reason if wrong.
fn traceparent(v: &str) -> Option<Result<(Lookup, Form), Unrecognised>> {
    let parts: Vec<&str> = v.split('-').collect();
    let version = *parts.first()?;
    let trace_part = *parts.get(1)?;
    if version.len() != 2 || !is_hex(version) || !is_hex(trace_part) || trace_part.len() < 20 {
        return None;
    }
    Some(check_traceparent(&parts))
}

fn check_traceparent(parts: &[&str]) -> Result<(Lookup, Form), Unrecognised> {
    let field = |i: usize| parts.get(i).copied().unwrap_or_default();
    let (version, trace_part, span, flags) = (field(0), field(1), field(2), field(3));
    if version.eq_ignore_ascii_case("ff") {
        return Err(no("traceparent version ff is invalid (W3C forbids it)"));
    }
    if parts.len() < 4 || (version == "00" && parts.len() != 4) {
        return Err(no(
            "a traceparent has four dash-separated fields: version-traceid-spanid-flags",
        ));
    }
    if trace_part.len() != 32 {
        return Err(no(format!(
            "traceparent trace id has {} hex digits, not 32",
            trace_part.len()
        )));
    }
    let trace_id: TraceId = trace_part
        .parse()
        .map_err(|_| no("traceparent trace id is all zeros, which W3C defines as invalid"))?;
    let span_id: SpanId = span
        .parse()
        .map_err(|_| no(format!("traceparent span id {}", id_problem(span, "16"))))?;
    if flags.len() != 2 || !is_hex(flags) {
        return Err(no(format!(
            "traceparent flags `{}` are not 2 hex digits",
            snippet(flags)
        )));
    }
    Ok((trace(trace_id, Some(span_id), None), Form::Traceparent))
}

/// `<32 hex>-<16 hex>[-0|1]`; `Some` as soon as it starts with 32 hex digits and a dash.
fn sentry_trace(v: &str) -> Option<Result<(Lookup, Form), Unrecognised>> {
    let parts: Vec<&str> = v.split('-').collect();
    let trace_part = *parts.first()?;
    if !(2..=3).contains(&parts.len()) || trace_part.len() != 32 || !is_hex(trace_part) {
        return None;
    }
    Some(check_sentry_trace(&parts))
}

fn check_sentry_trace(parts: &[&str]) -> Result<(Lookup, Form), Unrecognised> {
    let trace_part = parts.first().copied().unwrap_or_default();
    let span = parts.get(1).copied().unwrap_or_default();
    let trace_id: TraceId = trace_part
        .parse()
        .map_err(|_| no("sentry-trace trace id is all zeros, which is invalid"))?;
    let span_id: SpanId = span
        .parse()
        .map_err(|_| no(format!("sentry-trace span id {}", id_problem(span, "16"))))?;
    if let Some(sampled) = parts.get(2) {
        if *sampled != "0" && *sampled != "1" {
            return Err(no(format!(
                "sentry-trace sampled flag `{}` is not 0 or 1",
                snippet(sampled)
            )));
        }
    }
    Ok((trace(trace_id, Some(span_id), None), Form::SentryTrace))
}

/// Jaeger's `{trace}:{span}:{parent}:{flags}`; ids may be shorter than full length (left-padded).
fn uber_trace_id(v: &str) -> Option<Result<(Lookup, Form), Unrecognised>> {
    let parts: Vec<&str> = v.split(':').collect();
    let [t, s, parent, flags] = parts.as_slice() else {
        return None;
    };
    let shaped = is_hex(t)
        && t.len() <= 32
        && is_hex(s)
        && s.len() <= 16
        && is_hex(parent)
        && parent.len() <= 16
        && is_hex(flags)
        && flags.len() <= 2;
    if !shaped {
        return None;
    }
    let trace_id = format!("{t:0>32}").parse::<TraceId>();
    let span_id = format!("{s:0>16}").parse::<SpanId>();
    Some(match (trace_id, span_id) {
        (Ok(t), Ok(s)) => Ok((trace(t, Some(s), None), Form::UberTraceId)),
        _ => Err(no("uber-trace-id with an all-zero trace or span id")),
    })
}

/// Digits only: a Sentry issue number (1–15 digits), else a Jaeger or 32-digit id.
fn digits(v: &str) -> Result<(Lookup, Form), Unrecognised> {
    match v.len() {
        1..=15 => match issue_ref(v) {
            Some(lookup) => Ok((lookup, Form::IssueNumber)),
            None => Err(no("issue number 0 names no Sentry issue")),
        },
        16 => hex16(v),
        32 => hex32(v, v),
        n => Err(no(format!(
            "{n} digits: too long for a Sentry issue number and not the 16 or 32 of a trace id"
        ))),
    }
}

/// 32 hex digits (`c`, compacted from `original`).
fn hex32(c: &str, original: &str) -> Result<(Lookup, Form), Unrecognised> {
    if c.bytes().all(|b| b == b'0') {
        return Err(no(
            "an all-zero id is invalid (W3C and Sentry never issue one)",
        ));
    }
    let lengths: Vec<usize> = original.split('-').map(str::len).collect();
    let form = if lengths == [8, 4, 4, 4, 12] {
        Form::DashedUuid
    } else {
        Form::HexId32
    };
    Ok((
        Lookup::TraceOrEvent {
            id: c.to_ascii_lowercase(),
        },
        form,
    ))
}

/// 16 hex digits: a 64-bit Jaeger trace id, padded to 32.
fn hex16(c: &str) -> Result<(Lookup, Form), Unrecognised> {
    format!("{c:0>32}")
        .parse::<TraceId>()
        .map(|t| (trace(t, None, None), Form::JaegerId16))
        .map_err(|_| no("an all-zero trace id is invalid (W3C)"))
}

/// Why `v` (compacted: `c`) is no value tracepin knows.
fn explain(v: &str, c: &str) -> Unrecognised {
    if v.starts_with('-') {
        return no(format!(
            "`{}` starts with a dash: a Sentry short id needs its project first, as in SHOP-12",
            snippet(v)
        ));
    }
    if let Some(slug) = v.strip_suffix('-') {
        if slug.starts_with(|c: char| c.is_ascii_alphabetic())
            && !slug.contains(char::is_whitespace)
        {
            return no(format!(
                "`{}` ends with a dash: a Sentry short id needs a number after it, as in SHOP-12",
                snippet(v)
            ));
        }
    }
    if is_hex(c) {
        return no(length_message(c.len()));
    }
    if v.contains(char::is_whitespace) {
        return no("no trace id, event id, Sentry issue or link found in this text");
    }
    let hex_count = c.chars().filter(char::is_ascii_hexdigit).count();
    let total = c.chars().count();
    if total >= 14 && hex_count + 2 >= total {
        if let Some(bad) = c.chars().find(|ch| !ch.is_ascii_hexdigit()) {
            return no(format!(
                "'{}' is not a hex digit, so `{}` is not a trace or event id",
                snippet(&bad.to_string()),
                snippet(v)
            ));
        }
    }
    no(format!(
        "`{}` is not a trace id, event id, Sentry issue or link tracepin knows",
        snippet(v)
    ))
}

// ---------------------------------------------------------------------------------------------------
// Labelled fields: `trace_id=…`, `traceparent: …`, `"event_id": "…"`, log lines

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Trace,
    Span,
    Event,
    Issue,
}

/// The kind of id a field name announces (`trace_id`, `traceId`, `X-Trace-Id`, `otel.trace_id`, …).
fn label_kind(name: &str) -> Option<Label> {
    let n: String = name
        .chars()
        .filter(|c| *c != '"' && *c != '\'')
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let n = n.trim_matches('_');
    if n.contains("parent") && n != "traceparent" {
        return None;
    }
    match n {
        "traceparent" | "sentry_trace" | "trace" => Some(Label::Trace),
        "span" => Some(Label::Span),
        "event" => Some(Label::Event),
        "issue" | "issue_id" | "issueid" | "short_id" | "shortid" => Some(Label::Issue),
        _ if n.ends_with("trace_id") || n.ends_with("traceid") => Some(Label::Trace),
        _ if n.ends_with("span_id") || n.ends_with("spanid") => Some(Label::Span),
        _ if n.ends_with("event_id") || n.ends_with("eventid") => Some(Label::Event),
        _ => None,
    }
}

/// What labelled fields said; the first valid value of each kind wins.
#[derive(Default)]
struct Fields {
    trace: Option<(TraceId, Option<SpanId>, Form)>,
    span: Option<SpanId>,
    event: Option<EventId>,
    issue: Option<Lookup>,
    error: Option<Unrecognised>,
    any: bool,
}

impl Fields {
    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(no(message));
        }
    }

    fn add(&mut self, label: Label, name: &str, raw: &str) {
        let name = snippet(name.trim_matches(|c| c == '"' || c == '\''));
        let value = strip_noise(raw);
        // A bare word ("Stack trace: at …", `?trace=true`) is a label only when a digit follows.
        let bare_word = matches!(
            name.to_ascii_lowercase().as_str(),
            "trace" | "span" | "event" | "issue"
        );
        if bare_word && !value.contains(|c: char| c.is_ascii_digit()) {
            return;
        }
        self.any = true;
        match label {
            Label::Trace => match recognise_value(value) {
                Ok((
                    Lookup::Trace {
                        trace_id, span_id, ..
                    },
                    form,
                )) => {
                    let form = match form {
                        Form::Traceparent | Form::SentryTrace | Form::UberTraceId => form,
                        _ => Form::Labelled,
                    };
                    self.trace.get_or_insert((trace_id, span_id, form));
                }
                Ok((Lookup::TraceOrEvent { id }, _)) => match id.parse::<TraceId>() {
                    Ok(t) => {
                        self.trace.get_or_insert((t, None, Form::Labelled));
                    }
                    Err(e) => self.fail(format!("{name}: {e}")),
                },
                Ok(_) => self.fail(format!(
                    "{name} holds `{}`, which is not a trace id",
                    snippet(value)
                )),
                Err(e) => self.fail(format!("{name}: {}", e.message)),
            },
            Label::Span => match value.parse::<SpanId>() {
                Ok(s) => {
                    self.span.get_or_insert(s);
                }
                Err(_) => self.fail(format!("{name} {}", id_problem(value, "16"))),
            },
            Label::Event => match parse_event_id(value) {
                Ok(e) => {
                    self.event.get_or_insert(e);
                }
                Err(why) => self.fail(format!("{name} {why}")),
            },
            Label::Issue => match issue_ref(value) {
                Some(issue) => {
                    self.issue.get_or_insert(issue);
                }
                None => self.fail(format!(
                    "{name} holds `{}`, which is neither an issue number nor a short id",
                    snippet(value)
                )),
            },
        }
    }

    /// `None` when no field had a known label.
    fn finish(self) -> Option<Result<Recognised, Unrecognised>> {
        if !self.any {
            return None;
        }
        if let Some((trace_id, span_id, form)) = self.trace {
            return Some(Ok(Recognised {
                lookup: trace(trace_id, span_id.or(self.span), self.event),
                form,
            }));
        }
        if let Some(event_id) = self.event {
            let issue_id = match self.issue {
                Some(Lookup::Issue { issue_id }) => Some(issue_id),
                _ => None,
            };
            return Some(Ok(Recognised {
                lookup: Lookup::Event { event_id, issue_id },
                form: Form::Labelled,
            }));
        }
        if let Some(lookup) = self.issue {
            return Some(Ok(Recognised {
                lookup,
                form: Form::Labelled,
            }));
        }
        if let Some(e) = self.error {
            return Some(Err(e));
        }
        Some(Err(no(
            "a span id alone does not name a trace: paste the trace id or a traceparent",
        )))
    }
}

/// Finds `name=value` / `name: value` / `"name": "value"` fields with a known name.
fn scan_labels(text: &str) -> Option<Result<Recognised, Unrecognised>> {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    let is_value = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | ':');
    let mut fields = Fields::default();
    let mut i = 0;
    while i < chars.len() {
        let prev_is_name = i.checked_sub(1).and_then(at).is_some_and(is_name);
        if prev_is_name || !at(i).is_some_and(is_name) {
            i += 1;
            continue;
        }
        let mut j = i;
        while at(j).is_some_and(is_name) {
            j += 1;
        }
        let name: String = chars.get(i..j).unwrap_or_default().iter().collect();
        let mut k = j;
        while at(k).is_some_and(|c| c == '"' || c == '\'') {
            k += 1;
        }
        while at(k).is_some_and(|c| c == ' ' || c == '\t') {
            k += 1;
        }
        let label = label_kind(&name);
        if let (Some(label), true) = (label, at(k).is_some_and(|c| c == '=' || c == ':')) {
            k += 1;
            while at(k).is_some_and(|c| c.is_whitespace() || c == '"' || c == '\'') {
                k += 1;
            }
            let start = k;
            while at(k).is_some_and(is_value) {
                k += 1;
            }
            let value: String = chars.get(start..k).unwrap_or_default().iter().collect();
            fields.add(label, &name, &value);
            i = k.max(j);
        } else {
            i = j;
        }
    }
    fields.finish()
}

/// In text with spaces: the one link or hex id inside it. `Err` when there are several different ones.
fn extract_from_text(text: &str, depth: u8) -> Result<Option<Recognised>, Unrecognised> {
    let mut found: Vec<Recognised> = Vec::new();
    let mut keep = |r: Recognised| {
        if !found.iter().any(|f| f.lookup == r.lookup) {
            found.push(r);
        }
    };
    for token in text.split(char::is_whitespace) {
        let token = strip_noise(token);
        if token.is_empty() {
            continue;
        }
        if let Some(link) = parse_link(token) {
            if let Ok(r) = link.and_then(|l| recognise_link(&l, depth)) {
                keep(r);
            }
            continue;
        }
        for part in token.split(['=', ',', ';', '|', '"', '\'']) {
            if let Ok((lookup, form)) = recognise_value(part) {
                if matches!(lookup, Lookup::Trace { .. } | Lookup::TraceOrEvent { .. }) {
                    keep(Recognised { lookup, form });
                }
            }
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        n => Err(no(format!(
            "{n} different ids in this text: paste just the one to open"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------------
// Links

/// The parts of a link that ids are read from.
struct Link {
    /// Lowercase host; `None` for a bare path such as `/trace/…`.
    host: Option<String>,
    /// The path as written, for messages.
    path: String,
    /// Percent-decoded, non-empty path segments.
    segments: Vec<String>,
    /// Decoded query pairs, in order.
    query: Vec<(String, String)>,
}

impl Link {
    fn from_url(url: &Url, relative: bool) -> Self {
        Link {
            host: if relative {
                None
            } else {
                url.host_str().map(str::to_ascii_lowercase)
            },
            path: url.path().to_owned(),
            segments: url
                .path_segments()
                .map(|segs| segs.filter(|s| !s.is_empty()).map(percent_decode).collect())
                .unwrap_or_default(),
            query: url.query_pairs().into_owned().collect(),
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn params<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn segment(&self, i: usize) -> Option<&str> {
        self.segments.get(i).map(String::as_str)
    }

    fn not_known(&self) -> Unrecognised {
        match &self.host {
            Some(host) => no(format!("a URL tracepin does not know (host {host})")),
            None => no(format!(
                "a path tracepin does not know ({})",
                snippet(&self.path)
            )),
        }
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = bytes.get(i + 1).copied().and_then(hex);
            let lo = bytes.get(i + 2).copied().and_then(hex);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `scheme` of a `scheme://…` text.
fn leading_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// `host.tld/path` or `localhost:16686/path` without a scheme.
fn looks_like_host_path(text: &str) -> bool {
    let Some((host, _)) = text.split_once('/') else {
        return false;
    };
    let host = match host.split_once(':') {
        Some((h, port)) if is_digits(port) => h,
        Some(_) => return false,
        None => host,
    };
    let chars_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    let tld_ok = host
        .rsplit_once('.')
        .is_some_and(|(_, tld)| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    chars_ok && (host.eq_ignore_ascii_case("localhost") || tld_ok)
}

/// `Some` when the whole text is a link (absolute, scheme-less `host/path`, or a bare `/path`).
fn parse_link(text: &str) -> Option<Result<Link, Unrecognised>> {
    if text.contains(char::is_whitespace) {
        return None;
    }
    let parse = |s: &str| {
        Url::parse(s)
            .map(|u| Link::from_url(&u, false))
            .map_err(|e| no(format!("a link that does not parse as a URL ({e})")))
    };
    if let Some(scheme) = leading_scheme(text) {
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Some(Err(no(format!(
                "a link with scheme {}: tracepin reads only http and https links",
                snippet(&scheme)
            ))));
        }
        return Some(parse(text));
    }
    if text.starts_with("//") {
        return Some(parse(&format!("https:{text}")));
    }
    if text.starts_with('/') {
        return Some(
            Url::parse("http://relative.invalid")
                .and_then(|base| base.join(text))
                .map(|u| Link::from_url(&u, true))
                .map_err(|e| no(format!("a path that does not parse ({e})"))),
        );
    }
    if looks_like_host_path(text) {
        return Some(parse(&format!("https://{text}")));
    }
    None
}

fn recognise_link(link: &Link, depth: u8) -> Result<Recognised, Unrecognised> {
    let host = link.host.as_deref().unwrap_or_default();
    if host == "sentry.io" || host.ends_with(".sentry.io") {
        if host.contains("ingest") {
            return Err(no(
                "a Sentry DSN or ingest address, not a link to an issue, event or trace",
            ));
        }
        return sentry_link(link, true).unwrap_or_else(|| Err(not_sentry_page(link)));
    }
    if let Some(found) = sentry_link(link, false) {
        return found;
    }
    if let Some(found) = grafana_link(link) {
        return found;
    }
    if let Some(found) = tracepin_link(link, depth) {
        return found;
    }
    if let Some(found) = trace_path_link(link) {
        return found;
    }
    if let Some(found) = jaeger_search_link(link) {
        return found;
    }
    if let Some(found) = trace_parameter_link(link) {
        return found;
    }
    Err(link.not_known())
}

fn in_link(form: Form, what: &str, why: &str) -> Unrecognised {
    no(format!("a {} whose {what} {why}", form.describe()))
}

fn not_sentry_page(link: &Link) -> Unrecognised {
    no(format!(
        "a Sentry page ({}) that is not an issue, event or trace",
        snippet(&link.path)
    ))
}

/// Code hosts whose `/{owner}/{repo}/issues/{n}` would otherwise look like old Sentry issue links.
fn is_code_host(host: &str) -> bool {
    ["github", "gitlab", "bitbucket", "codeberg"]
        .iter()
        .any(|h| host.contains(h))
}

/// Sentry pages. On a `sentry.io` host any path is considered; elsewhere (self-hosted) only
/// `/organizations/{org}/…` and the old `/{org}/{project}/issues/{id}/…`.
fn sentry_link(link: &Link, on_sentry_host: bool) -> Option<Result<Recognised, Unrecognised>> {
    let seg: Vec<&str> = link.segments.iter().map(String::as_str).collect();
    let host = link.host.as_deref().unwrap_or_default();
    // `/organizations/{org}/…`, or the old `/{org}/{project}/issues/{id}/…`.
    let org_prefixed = seg.first() == Some(&"organizations") && seg.len() >= 2;
    let old_issue = seg.get(2) == Some(&"issues") && seg.len() >= 4 && !is_code_host(host);
    let rest: &[&str] = if org_prefixed || old_issue {
        seg.get(2..).unwrap_or_default()
    } else if on_sentry_host {
        &seg
    } else {
        return None;
    };
    if let Some(pos) = rest.iter().position(|s| *s == "trace") {
        if let Some(id) = rest.get(pos + 1) {
            return Some(sentry_trace_view(id, link));
        }
    }
    match rest {
        ["issues", id, tail @ ..] if *id != "trace" => return Some(sentry_issue(id, tail)),
        ["discover" | "performance", slug, ..] if slug.contains(':') => {
            let (_, hex) = slug.split_once(':').unwrap_or_default();
            return Some(
                parse_event_id(hex)
                    .map(|event_id| Recognised {
                        lookup: Lookup::Event {
                            event_id,
                            issue_id: None,
                        },
                        form: Form::SentryEventLink,
                    })
                    .map_err(|why| in_link(Form::SentryEventLink, "event id", &why)),
            );
        }
        ["share", "issue", ..] => return Some(Err(no(
            "a Sentry share link: its id is not the issue id, so open the issue and copy that link",
        ))),
        _ => {}
    }
    if let Some(found) = sentry_search(link) {
        return Some(found);
    }
    Some(Err(not_sentry_page(link)))
}

/// `…/issues/{id}/…`, with `/events/{event}/` naming an event and `latest`/`recommended`/`oldest` not.
fn sentry_issue(id: &str, tail: &[&str]) -> Result<Recognised, Unrecognised> {
    let Some(issue) = issue_ref(id) else {
        return Err(in_link(
            Form::SentryIssueLink,
            "issue id",
            &format!("`{}` is neither a number nor a short id", snippet(id)),
        ));
    };
    if let ["events", event, ..] = tail {
        let named = event.to_ascii_lowercase();
        if !matches!(named.as_str(), "latest" | "recommended" | "oldest") {
            let event_id = parse_event_id(event)
                .map_err(|why| in_link(Form::SentryEventLink, "event id", &why))?;
            let issue_id = match issue {
                Lookup::Issue { issue_id } => Some(issue_id),
                _ => None,
            };
            return Ok(Recognised {
                lookup: Lookup::Event { event_id, issue_id },
                form: Form::SentryEventLink,
            });
        }
    }
    Ok(Recognised {
        lookup: issue,
        form: Form::SentryIssueLink,
    })
}

/// `…/trace/{id}/?node=span-{span}&targetId={span}&eventId={event}`.
fn sentry_trace_view(id: &str, link: &Link) -> Result<Recognised, Unrecognised> {
    let form = Form::SentryTraceLink;
    let trace_id = parse_trace_id(id).map_err(|why| in_link(form, "trace id", &why))?;
    let span_id = link
        .params("node")
        .find_map(|node| node.split_once('-').and_then(|(_, s)| s.parse().ok()))
        .or_else(|| link.param("targetId").and_then(|s| s.parse().ok()));
    let event_id = link.param("eventId").and_then(|e| parse_event_id(e).ok());
    Ok(Recognised {
        lookup: trace(trace_id, span_id, event_id),
        form,
    })
}

/// A Sentry search (`?query=… trace:{id} …`) on any page.
fn sentry_search(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    let query = link.param("query")?;
    let raw = query
        .split_whitespace()
        .find_map(|token| token.strip_prefix("trace:"))?;
    let form = Form::SentrySearchLink;
    Some(
        parse_trace_id(strip_noise(raw))
            .map(|t| Recognised {
                lookup: trace(t, None, None),
                form,
            })
            .map_err(|why| in_link(form, "trace id", &why)),
    )
}

/// Grafana Explore (`panes=` or legacy `left=`) and Traces Drilldown links.
fn grafana_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    if link
        .segments
        .iter()
        .any(|s| s == "grafana-exploretraces-app")
    {
        let form = Form::GrafanaTracesDrilldown;
        let Some(raw) = link.param("traceId") else {
            return Some(Err(no(
                "a Grafana Traces Drilldown link with no traceId: a search, not one trace",
            )));
        };
        let span_id = link.param("spanId").and_then(|s| s.parse().ok());
        return Some(
            parse_trace_id(raw.trim())
                .map(|t| Recognised {
                    lookup: trace(t, span_id, None),
                    form,
                })
                .map_err(|why| in_link(form, "traceId", &why)),
        );
    }
    if link.segments.last().map(String::as_str) != Some("explore") {
        return None;
    }
    let form = Form::GrafanaExplore;
    let found = if let Some(panes) = link.param("panes") {
        let Ok(Value::Object(panes)) = serde_json::from_str::<Value>(panes) else {
            return Some(Err(no(
                "a Grafana Explore link whose panes JSON does not parse",
            )));
        };
        panes.values().find_map(trace_in_pane)
    } else if let Some(left) = link.param("left") {
        match serde_json::from_str::<Value>(left) {
            // Older still: ["now-1h","now","Tempo",{"query":"<id>"}].
            Ok(Value::Array(items)) => items
                .iter()
                .find_map(|item| query_trace_id(item.get("query")?))
                .map(|t| (t, None)),
            Ok(pane @ Value::Object(_)) => trace_in_pane(&pane),
            _ => {
                return Some(Err(no(
                    "a Grafana Explore link whose left JSON does not parse",
                )))
            }
        }
    } else if link.param("orgId").is_some() || link.param("schemaVersion").is_some() {
        return Some(Err(no("a Grafana Explore link with no query in it")));
    } else {
        return None;
    };
    Some(match found {
        Some((trace_id, span_id)) => Ok(Recognised {
            lookup: trace(trace_id, span_id, None),
            form,
        }),
        None => Err(no(
            "a Grafana Explore link whose queries hold no trace id (a search or another query)",
        )),
    })
}

fn query_trace_id(query: &Value) -> Option<TraceId> {
    parse_trace_id(query.as_str()?.trim()).ok()
}

/// The first query whose text is a trace id, and the focused span (`panelsState.trace.spanId`).
fn trace_in_pane(pane: &Value) -> Option<(TraceId, Option<SpanId>)> {
    let trace_id = pane
        .get("queries")?
        .as_array()?
        .iter()
        .find_map(|q| query_trace_id(q.get("query")?))?;
    let span_id = pane
        .pointer("/panelsState/trace/spanId")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    Some((trace_id, span_id))
}

/// tracepin's own `/event/{id}`, `/issue/{id}` and `/lookup?q=…` (any host, any path prefix).
fn tracepin_link(link: &Link, depth: u8) -> Option<Result<Recognised, Unrecognised>> {
    let n = link.segments.len();
    let last = link.segment(n.checked_sub(1)?)?;
    if last == "lookup" {
        let q = link.param("q")?;
        return Some(if depth >= 1 {
            Err(no(
                "a tracepin lookup link inside another: paste the inner one",
            ))
        } else {
            recognise_at(q, depth + 1)
        });
    }
    match link.segment(n.checked_sub(2)?)? {
        "event" => Some(
            parse_event_id(last)
                .map(|event_id| Recognised {
                    lookup: Lookup::Event {
                        event_id,
                        issue_id: None,
                    },
                    form: Form::TracepinEvent,
                })
                .map_err(|why| in_link(Form::TracepinEvent, "event id", &why)),
        ),
        "issue" => Some(
            issue_ref(last)
                .map(|lookup| Recognised {
                    lookup,
                    form: Form::TracepinIssue,
                })
                .ok_or_else(|| {
                    in_link(
                        Form::TracepinIssue,
                        "issue",
                        &format!("`{}` is neither a number nor a short id", snippet(last)),
                    )
                }),
        ),
        _ => None,
    }
}

/// `…/trace/{id}` (Jaeger UI, tracepin; compare view `{id}...{id}`), `…/api/traces/{id}`,
/// `…/api/v2/traces/{id}` (Tempo) and `…/traces/{id}` (Zipkin).
fn trace_path_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    let pos = (0..link.segments.len()).rev().find(|&i| {
        matches!(link.segment(i), Some("trace" | "traces")) && link.segment(i + 1).is_some()
    })?;
    let word = link.segment(pos)?;
    let id = link.segment(pos + 1)?;
    let before = |back: usize| pos.checked_sub(back).and_then(|i| link.segment(i));
    let form = if word == "traces" {
        if before(1) == Some("api") || (before(1) == Some("v2") && before(2) == Some("api")) {
            Form::TempoApi
        } else {
            Form::ZipkinUi
        }
    } else if ["v", "span", "event"]
        .iter()
        .any(|k| link.param(k).is_some())
    {
        Form::TracepinTrace
    } else {
        Form::JaegerUi
    };
    let first = id.split("...").next().unwrap_or(id);
    let trace_id = match parse_trace_id(first) {
        Ok(t) => t,
        Err(why) => return Some(Err(in_link(form, "trace id", &why))),
    };
    // `uiFind` may also be a list of span ids or free text: only a single span id is taken.
    let span_id = ["span", "uiFind"]
        .iter()
        .find_map(|k| link.param(k)?.trim().parse().ok());
    let event_id = link.param("event").and_then(|e| parse_event_id(e).ok());
    Some(Ok(Recognised {
        lookup: trace(trace_id, span_id, event_id),
        form,
    }))
}

/// Jaeger UI `…/search?traceID=…` (the first one).
fn jaeger_search_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    if link.segments.last().map(String::as_str) != Some("search") {
        return None;
    }
    let raw = link.param("traceID")?;
    let first = raw
        .split([',', ' '])
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    let form = Form::JaegerSearch;
    Some(
        parse_trace_id(first)
            .map(|t| Recognised {
                lookup: trace(t, None, None),
                form,
            })
            .map_err(|why| in_link(form, "traceID", &why)),
    )
}

/// Any other link with a `trace_id` / `traceId` / `traceID` / `trace` (or `traceparent`) parameter,
/// and optionally a span parameter.
fn trace_parameter_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
    let mut fields = Fields::default();
    let mut saw_trace = false;
    for (name, value) in &link.query {
        match label_kind(name) {
            Some(Label::Trace) => {
                saw_trace = true;
                fields.add(Label::Trace, name, value);
            }
            Some(Label::Span) => fields.add(Label::Span, name, value),
            _ => {}
        }
    }
    if !saw_trace {
        return None;
    }
    let host = link.host.as_deref().unwrap_or("this path");
    Some(match fields.finish()? {
        Ok(found) => Ok(Recognised {
            form: Form::TraceParameterLink,
            ..found
        }),
        Err(e) => Err(no(format!("{} (in a link on {host})", e.message))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T32: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const S16: &str = "00f067aa0ba902b7";
    const E32: &str = "0af7651916cd43dd8448eb211c80319c";
    const J16: &str = "a3ce929d0e0e4736";

    fn tid(s: &str) -> TraceId {
        parse_trace_id(s).expect("test trace id")
    }
    fn sid(s: &str) -> SpanId {
        s.parse().expect("test span id")
    }
    fn eid(s: &str) -> EventId {
        s.parse().expect("test event id")
    }
    fn tr(t: &str) -> Lookup {
        trace(tid(t), None, None)
    }
    fn trs(t: &str, s: &str) -> Lookup {
        trace(tid(t), Some(sid(s)), None)
    }
    fn tre(t: &str, s: Option<&str>, e: &str) -> Lookup {
        trace(tid(t), s.map(sid), Some(eid(e)))
    }
    fn either(id: &str) -> Lookup {
        Lookup::TraceOrEvent { id: id.to_owned() }
    }
    fn ev(e: &str, issue: Option<&str>) -> Lookup {
        Lookup::Event {
            event_id: eid(e),
            issue_id: issue.map(str::to_owned),
        }
    }
    fn issue(i: &str) -> Lookup {
        Lookup::Issue {
            issue_id: i.to_owned(),
        }
    }
    fn short(s: &str) -> Lookup {
        Lookup::ShortId {
            short_id: s.to_owned(),
        }
    }
    fn enc(s: &str) -> String {
        url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
    }

    fn grafana_panes(span: bool) -> String {
        let panel = if span {
            format!(r#","panelsState":{{"trace":{{"spanId":"{S16}"}}}}"#)
        } else {
            String::new()
        };
        let json = format!(
            r#"{{"x7f":{{"datasource":"tempo-uid","queries":[{{"refId":"A","datasource":{{"type":"tempo","uid":"tempo-uid"}},"queryType":"traceql","query":"{{ status = error }}"}},{{"refId":"B","datasource":{{"type":"tempo","uid":"tempo-uid"}},"queryType":"traceql","query":"{T32}"}}],"range":{{"from":"now-1h","to":"now"}}{panel}}}}}"#
        );
        format!(
            "https://grafana.example.com/explore?schemaVersion=1&panes={}&orgId=1",
            enc(&json)
        )
    }

    fn ok_cases() -> Vec<(String, Lookup, Form)> {
        let t32_upper = T32.to_ascii_uppercase();
        let tp = format!("00-{T32}-{S16}-01");
        let s = |x: &str| x.to_owned();
        vec![
            // bare 32 hex, with noise
            (s(T32), either(T32), Form::HexId32),
            (format!("  {T32}\n"), either(T32), Form::HexId32),
            (t32_upper.clone(), either(T32), Form::HexId32),
            (format!("\"{T32}\""), either(T32), Form::HexId32),
            (format!("'{T32}',"), either(T32), Form::HexId32),
            (format!("`{T32}`"), either(T32), Form::HexId32),
            (format!("<{T32}>."), either(T32), Form::HexId32),
            (format!("({T32});"), either(T32), Form::HexId32),
            (format!("\u{200B}{T32}\u{FEFF}"), either(T32), Form::HexId32),
            (
                s("4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
                either(T32),
                Form::DashedUuid,
            ),
            (
                s("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736."),
                either(T32),
                Form::DashedUuid,
            ),
            (
                s("4bf92f35 77b34da6 a3ce929d 0e0e4736"),
                either(T32),
                Form::HexId32,
            ),
            // labels
            (format!("trace_id={T32}"), tr(T32), Form::Labelled),
            (format!("trace_id: {T32}"), tr(T32), Form::Labelled),
            (format!("\"trace_id\": \"{T32}\","), tr(T32), Form::Labelled),
            (format!("traceId={t32_upper}"), tr(T32), Form::Labelled),
            (format!("X-Trace-Id: {T32}"), tr(T32), Form::Labelled),
            (
                s("trace_id=4bf92f35-77b3-4da6-a3ce-929d0e0e4736"),
                tr(T32),
                Form::Labelled,
            ),
            (format!("event_id={E32}"), ev(E32, None), Form::Labelled),
            (
                s("{\"event_id\": \"0af76519-16cd-43dd-8448-eb211c80319c\"}"),
                ev(E32, None),
                Form::Labelled,
            ),
            (
                format!("level=error msg=\"boom\" trace_id={T32} span_id={S16}"),
                trs(T32, S16),
                Form::Labelled,
            ),
            (
                format!(r#"{{"traceId":"{T32}","spanId":"{S16}","eventId":"{E32}"}}"#),
                tre(T32, Some(S16), E32),
                Form::Labelled,
            ),
            (format!("traceparent: {tp}"), trs(T32, S16), Form::Traceparent),
            (
                format!("sentry-trace: {T32}-{S16}-1"),
                trs(T32, S16),
                Form::SentryTrace,
            ),
            (
                format!("uber-trace-id: {T32}:{S16}:0:1"),
                trs(T32, S16),
                Form::UberTraceId,
            ),
            (s("issue: shop-12"), short("SHOP-12"), Form::Labelled),
            // 16 hex (Jaeger)
            (s(J16), tr(J16), Form::JaegerId16),
            (J16.to_ascii_uppercase(), tr(J16), Form::JaegerId16),
            (s("1234567890123456"), tr("1234567890123456"), Form::JaegerId16),
            // headers
            (tp.clone(), trs(T32, S16), Form::Traceparent),
            (tp.to_ascii_uppercase(), trs(T32, S16), Form::Traceparent),
            (format!("{T32}-{S16}"), trs(T32, S16), Form::SentryTrace),
            (format!("{T32}-{S16}-0"), trs(T32, S16), Form::SentryTrace),
            (
                s("a3ce929d0e0e4736:f067aa0ba902b7:0:1"),
                trs(J16, S16),
                Form::UberTraceId,
            ),
            // Sentry issues and short ids
            (s("SHOP-12"), short("SHOP-12"), Form::ShortId),
            (s("shop-12"), short("SHOP-12"), Form::ShortId),
            (s("BACKEND-API-3F"), short("BACKEND-API-3F"), Form::ShortId),
            (s("my_app-1A."), short("MY_APP-1A"), Form::ShortId),
            (s("4509123456"), issue("4509123456"), Form::IssueNumber),
            (s(" 7 "), issue("7"), Form::IssueNumber),
            // Sentry links
            (
                s("https://acme.sentry.io/issues/4509123456/"),
                issue("4509123456"),
                Form::SentryIssueLink,
            ),
            (
                s("https://acme.sentry.io/issues/4509123456/?project=1&query=is%3Aunresolved&referrer=issue-stream"),
                issue("4509123456"),
                Form::SentryIssueLink,
            ),
            (
                format!("<https://acme.sentry.io/issues/4509123456/events/{E32}/>"),
                ev(E32, Some("4509123456")),
                Form::SentryEventLink,
            ),
            (
                s("https://acme.sentry.io/issues/123/events/latest/"),
                issue("123"),
                Form::SentryIssueLink,
            ),
            (
                s("https://acme.sentry.io/issues/123/events/recommended/?project=1"),
                issue("123"),
                Form::SentryIssueLink,
            ),
            (
                s("https://us.sentry.io/organizations/acme/issues/123/?project=1"),
                issue("123"),
                Form::SentryIssueLink,
            ),
            (
                format!("https://de.sentry.io/organizations/acme/issues/123/events/{E32}/"),
                ev(E32, Some("123")),
                Form::SentryEventLink,
            ),
            (
                s("https://acme.de.sentry.io/issues/123/"),
                issue("123"),
                Form::SentryIssueLink,
            ),
            (
                s("https://sentry.acme.internal/organizations/acme/issues/77/events/"),
                issue("77"),
                Form::SentryIssueLink,
            ),
            (
                s("https://sentry.acme.internal/acme/backend/issues/77/"),
                issue("77"),
                Form::SentryIssueLink,
            ),
            (
                s("acme.sentry.io/issues/123/"),
                issue("123"),
                Form::SentryIssueLink,
            ),
            (
                format!("https://acme.sentry.io/discover/backend:{E32}/"),
                ev(E32, None),
                Form::SentryEventLink,
            ),
            (
                format!("https://sentry.acme.internal/organizations/acme/performance/backend:{E32}/?project=1"),
                ev(E32, None),
                Form::SentryEventLink,
            ),
            (
                format!("https://acme.sentry.io/performance/trace/{T32}/?node=txn-{E32}&node=span-{S16}"),
                trs(T32, S16),
                Form::SentryTraceLink,
            ),
            (
                format!("https://acme.sentry.io/traces/trace/{T32}/"),
                tr(T32),
                Form::SentryTraceLink,
            ),
            (
                format!("https://us.sentry.io/organizations/acme/explore/traces/trace/{T32}/?targetId={S16}&eventId={E32}"),
                tre(T32, Some(S16), E32),
                Form::SentryTraceLink,
            ),
            (
                format!("https://acme.sentry.io/issues/?query=is%3Aunresolved+trace%3A{T32}"),
                tr(T32),
                Form::SentrySearchLink,
            ),
            // Grafana
            (grafana_panes(true), trs(T32, S16), Form::GrafanaExplore),
            (grafana_panes(false), tr(T32), Form::GrafanaExplore),
            (
                format!(
                    "https://grafana.example.com/grafana/explore?orgId=1&left={}",
                    enc(&format!(
                        r#"{{"datasource":"Tempo","queries":[{{"refId":"A","queryType":"traceId","query":"{J16}"}}],"range":{{"from":"now-1h","to":"now"}}}}"#
                    ))
                ),
                tr(J16),
                Form::GrafanaExplore,
            ),
            (
                format!(
                    "https://grafana.example.com/explore?orgId=1&left={}",
                    enc(&format!(r#"["now-1h","now","Tempo",{{"query":"{T32}"}}]"#))
                ),
                tr(T32),
                Form::GrafanaExplore,
            ),
            (
                format!("https://grafana.example.com/a/grafana-exploretraces-app/explore?from=now-30m&to=now&var-ds=tempo&actionView=traceList&traceId={T32}&spanId={S16}"),
                trs(T32, S16),
                Form::GrafanaTracesDrilldown,
            ),
            // Jaeger, Tempo, Zipkin
            (
                format!("http://localhost:16686/trace/{T32}"),
                tr(T32),
                Form::JaegerUi,
            ),
            (
                format!("https://jaeger.example.com/trace/{J16}?uiFind={S16}"),
                trs(J16, S16),
                Form::JaegerUi,
            ),
            (
                format!("https://jaeger.example.com/trace/{T32}?uiFind=http.status_code%3D500"),
                tr(T32),
                Form::JaegerUi,
            ),
            (
                format!("https://jaeger.example.com/trace/{T32}...{E32}?cohort={T32}&cohort={E32}"),
                tr(T32),
                Form::JaegerUi,
            ),
            (
                format!("https://jaeger.example.com/search?traceID={J16}&traceID={T32}"),
                tr(J16),
                Form::JaegerSearch,
            ),
            (
                format!("https://example.com/jaeger/ui/trace/{T32}"),
                tr(T32),
                Form::JaegerUi,
            ),
            (
                format!("localhost:16686/trace/{T32}"),
                tr(T32),
                Form::JaegerUi,
            ),
            (
                format!("http://tempo:3200/api/traces/{T32}"),
                tr(T32),
                Form::TempoApi,
            ),
            (
                format!("https://tempo.example.com/api/v2/traces/{J16}?start=1&end=2"),
                tr(J16),
                Form::TempoApi,
            ),
            (
                format!("https://zipkin.example.com/zipkin/traces/{T32}"),
                tr(T32),
                Form::ZipkinUi,
            ),
            // tracepin
            (
                format!("https://tracepin.example.com/trace/{T32}?v=1&span={S16}&event={E32}"),
                tre(T32, Some(S16), E32),
                Form::TracepinTrace,
            ),
            (
                format!("/trace/{T32}?span={S16}"),
                trs(T32, S16),
                Form::TracepinTrace,
            ),
            (
                format!("https://tracepin.example.com/event/{E32}"),
                ev(E32, None),
                Form::TracepinEvent,
            ),
            (
                s("https://tracepin.example.com/tp/issue/shop-12"),
                short("SHOP-12"),
                Form::TracepinIssue,
            ),
            (s("/issue/123"), issue("123"), Form::TracepinIssue),
            (
                format!("https://tracepin.example.com/lookup?q={}", enc(&format!("traceparent: {tp}"))),
                trs(T32, S16),
                Form::Traceparent,
            ),
            // other links, prose
            (
                format!("https://app.example.com/debug?trace_id={T32}&spanId={S16}"),
                trs(T32, S16),
                Form::TraceParameterLink,
            ),
            (
                format!("https://logs.example.com/d/abc?var-traceId={J16}"),
                tr(J16),
                Form::TraceParameterLink,
            ),
            (
                format!("request failed, see {T32} in the logs."),
                either(T32),
                Form::HexId32,
            ),
            (
                format!("Stack trace: see https://acme.sentry.io/issues/{}/ please", 42),
                issue("42"),
                Form::SentryIssueLink,
            ),
        ]
    }

    fn err_cases() -> Vec<String> {
        let s = |x: &str| x.to_owned();
        let t31 = T32.get(..31).expect("31");
        vec![
            s(t31),
            format!("{T32}a"),
            s("4bf92f3577b34da6a3ce929d0e0e473g"),
            s("00000000000000000000000000000000"),
            s("0000000000000000"),
            s("00000000-0000-0000-0000-000000000000"),
            format!("00-{T32}-{}-01", S16.get(..15).expect("15")),
            format!("ff-{T32}-{S16}-01"),
            format!("00-{T32}-{S16}"),
            format!("00-00000000000000000000000000000000-{S16}-01"),
            format!("{T32}-{}-1", S16.get(..15).expect("15")),
            format!("{T32}-{S16}-2"),
            s(""),
            s("   \n\t "),
            s("\"\"."),
            s("SHOP-"),
            s("-12"),
            s("0"),
            s("12345678901234567890"),
            s("the quick brown fox jumps over the lazy dog"),
            s("https://example.com/"),
            s("https://acme.sentry.io/settings/"),
            s("https://acme.sentry.io/issues/"),
            s("https://acme.sentry.io/issues/123/events/notanid/"),
            s("https://o123.ingest.sentry.io/api/456/envelope/"),
            s("https://github.com/acme/app/issues/12"),
            s("ftp://"),
            format!("ftp://example.com/trace/{T32}"),
            s("javascript:alert(1)"),
            s("https://grafana.example.com/explore?schemaVersion=1&panes=%7B%22a%22%3A%7B%22queries%22%3A%5B&orgId=1"),
            format!(
                "https://grafana.example.com/explore?schemaVersion=1&panes={}&orgId=1",
                enc(r#"{"a":{"queries":[{"refId":"A","query":"{ status = error }"}]}}"#)
            ),
            s("https://grafana.example.com/a/grafana-exploretraces-app/explore?actionView=traceList"),
            s("https://jaeger.example.com/trace/not-a-hex-trace-id"),
            format!("https://jaeger.example.com/trace/{}", T32.get(..31).expect("31")),
            s("https://tracepin.example.com/event/123"),
            format!("/lookup?q={}", enc(&format!("/lookup?q={T32}"))),
            format!("event_id={J16}"),
            format!("span_id={S16}"),
            format!("trace_id={t31}"),
            format!("{T32} {E32}"),
            s("🔥✨ ünïcödé ✨🔥"),
            s("４bf92f3577b34da6a3ce929d0e0e4736"),
            "x".repeat(10 * 1024),
        ]
    }

    #[test]
    fn recognises_real_shaped_inputs() {
        let cases = ok_cases();
        assert!(cases.len() >= 45, "{} cases", cases.len());
        for (input, lookup, form) in cases {
            let got = recognise(&input);
            assert_eq!(got, Ok(Recognised { lookup, form }), "input: {input:?}");
        }
    }

    #[test]
    fn refuses_malformed_inputs_with_a_reason() {
        let cases = err_cases();
        assert!(cases.len() >= 22, "{} cases", cases.len());
        for input in cases {
            match recognise(&input) {
                Ok(r) => panic!("{input:?} was recognised as {r:?}"),
                Err(e) => {
                    assert!(!e.message.trim().is_empty(), "empty message for {input:?}");
                    assert!(
                        !e.message.contains('\n'),
                        "multi-line message for {input:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn messages_say_why() {
        let msg = |s: &str| recognise(s).err().map(|e| e.message).unwrap_or_default();
        assert_eq!(
            msg(T32.get(..31).expect("31")),
            "31 hex digits: one short of a trace id"
        );
        assert_eq!(
            msg(&format!("{T32}0")),
            "33 hex digits: one more than a trace id"
        );
        assert_eq!(msg(""), "empty input");
        assert_eq!(msg(" \n "), "empty input");
        assert_eq!(
            msg("https://example.com/"),
            "a URL tracepin does not know (host example.com)"
        );
        assert!(msg("https://acme.sentry.io/settings/").contains("/settings/"));
        assert!(msg(&"x".repeat(10 * 1024)).starts_with("too long"));
        assert!(msg(&format!("ff-{T32}-{S16}-01")).contains("version ff"));
        assert!(msg("00000000000000000000000000000000").contains("all-zero"));
        assert!(msg("ftp://").contains("ftp"));
        assert_eq!(
            msg("Stack trace: at foo"),
            "no trace id, event id, Sentry issue or link found in this text"
        );
        assert_eq!(
            msg("https://app.example.com/?trace=true"),
            "a URL tracepin does not know (host app.example.com)"
        );
        assert_eq!(
            msg(&format!("trace_id={}", T32.get(..31).expect("31"))),
            "trace_id: 31 hex digits: one short of a trace id"
        );
    }

    #[test]
    fn accepted_forms_are_all_recognised_as_their_form() {
        for (form, example) in ACCEPTED_FORMS {
            let got = recognise(example).unwrap_or_else(|e| panic!("{example}: {e}"));
            assert_eq!(got.form.describe(), *form, "{example}");
        }
        let listed: std::collections::HashSet<&str> =
            ACCEPTED_FORMS.iter().map(|(f, _)| *f).collect();
        assert_eq!(listed.len(), ACCEPTED_FORMS.len(), "a form is listed twice");
    }

    #[test]
    fn serde_round_trip() {
        let r = recognise(&format!("00-{T32}-{S16}-01")).expect("traceparent");
        let json = serde_json::to_string(&r).expect("serialize");
        let back: Recognised = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);
        let e = recognise("SHOP-").expect_err("refused");
        let json = serde_json::to_string(&e).expect("serialize");
        assert_eq!(serde_json::from_str::<Unrecognised>(&json).expect("de"), e);
    }

    fn noisy_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[0-9a-fA-F]{1,33}",
            Just("-".to_owned()),
            Just("/".to_owned()),
            Just(":".to_owned()),
            "[?=&%{}\"\\[\\],:.]{1,4}",
            Just("trace".to_owned()),
            Just("issues".to_owned()),
            Just("events".to_owned()),
            Just("explore".to_owned()),
            Just("panes".to_owned()),
            Just("traceparent: ".to_owned()),
            Just("trace_id=".to_owned()),
            Just("%7B%22".to_owned()),
            Just("é".to_owned()),
            Just(" ".to_owned()),
        ]
    }

    fn url_prefix() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("https://acme.sentry.io/".to_owned()),
            Just("https://us.sentry.io/organizations/acme/".to_owned()),
            Just("http://localhost:16686/trace/".to_owned()),
            Just("https://grafana.example.com/explore?panes=".to_owned()),
            Just("https://grafana.example.com/explore?left=".to_owned()),
            Just("https://x.example/a/grafana-exploretraces-app/explore?traceId=".to_owned()),
            Just("/lookup?q=".to_owned()),
            Just("/lookup?q=/lookup?q=".to_owned()),
            Just("/trace/".to_owned()),
            Just("ftp://".to_owned()),
        ]
    }

    proptest! {
        #[test]
        fn never_panics_on_anything(s in ".*") {
            let _ = recognise(&s);
        }

        #[test]
        fn never_panics_on_link_shaped_noise(
            prefix in url_prefix(),
            pieces in proptest::collection::vec(noisy_piece(), 0..24),
        ) {
            let input = format!("{prefix}{}", pieces.concat());
            if let Err(e) = recognise(&input) {
                prop_assert!(!e.message.is_empty());
            }
        }

        #[test]
        fn traceparent_round_trips(
            t in "[0-9a-fA-F]{32}",
            s in "[0-9a-fA-F]{16}",
            flags in "[0-9a-f]{2}",
            label in prop_oneof![Just(""), Just("traceparent: "), Just("traceparent=")],
        ) {
            let trace_id: Result<TraceId, _> = t.parse();
            let span_id: Result<SpanId, _> = s.parse();
            prop_assume!(trace_id.is_ok() && span_id.is_ok());
            let got = recognise(&format!(" {label}00-{t}-{s}-{flags}\n"));
            prop_assert_eq!(
                got.map(|r| r.lookup),
                Ok(Lookup::Trace { trace_id: t.parse().expect("ok"), span_id: s.parse().ok(), event_id: None })
            );
        }
    }
}
