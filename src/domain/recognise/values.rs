//! Bare values with no label: W3C `traceparent`, `sentry-trace`, Jaeger `uber-trace-id`, 32 or 16 hex
//! digits (dashed UUIDs too), Sentry issue numbers and short ids; and the id parsers and one-sentence
//! explanations the labels and links reuse.
//!
//! Owns what a single token means. Must not look for labels or links (those are [`super::text`] and
//! [`super::links`]); it is given one value, already stripped of noise.

use super::{compact, is_digits, is_hex, no, snippet, strip_noise, trace};
use super::{Form, Lookup, Unrecognised};
use crate::domain::ids::{EventId, SpanId, TraceId};

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
pub(super) fn id_problem(s: &str, lengths: &str) -> String {
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
pub(super) fn parse_trace_id(s: &str) -> Result<TraceId, String> {
    let parsed = match s.len() {
        32 => s.parse().ok(),
        16 if is_hex(s) => format!("{s:0>32}").parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| id_problem(s, "32 (or 16 for Jaeger)"))
}

/// A Sentry event id: 32 hex digits, dashes allowed (UUID spelling).
pub(super) fn parse_event_id(s: &str) -> Result<EventId, String> {
    let c = compact(s);
    c.parse().map_err(|_| id_problem(&c, "32"))
}

/// An issue reference: a numeric id (leading zeros dropped) or a short id.
pub(super) fn issue_ref(s: &str) -> Option<Lookup> {
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

/// A single value with no label: header values, hex ids, issue numbers, short ids.
pub(super) fn recognise_value(raw: &str) -> Result<(Lookup, Form), Unrecognised> {
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
