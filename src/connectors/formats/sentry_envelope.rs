//! Sentry envelopes (`application/x-sentry-envelope`): a header line, then items, each an item header
//! line and a payload.
//!
//! A payload is `length` bytes when the item header gives a length (it may then hold newlines or binary
//! data), otherwise it runs to the end of the line. Only `event` items are decoded; transactions,
//! sessions, client reports, attachments and any other item are skipped without error. The header's
//! `trace.trace_id` (the dynamic sampling context) becomes [`ErrorEvent::dsc_trace_id`], its `event_id`
//! and `sent_at` fill in for a payload without them, and the DSN's project id becomes the project.
//! Errors name the line of the envelope file.

use serde::Deserialize;

use super::ids;
use super::json::{json_error, nullable, Num, Text, Timestamp};
use super::sentry_event::{decode_embedded, EnvelopeContext};
use super::{Format, FormatError};
use crate::domain::ErrorEvent;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeaderWire {
    event_id: Text,
    sent_at: Timestamp,
    dsn: Text,
    #[serde(deserialize_with = "nullable")]
    trace: Option<DscWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DscWire {
    trace_id: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ItemHeaderWire {
    #[serde(rename = "type")]
    ty: Text,
    length: Num,
}

/// The project id at the end of a DSN's path (`https://key@host/42` → `42`).
fn dsn_project(dsn: &str) -> Option<String> {
    let after_host = dsn.split_once("://").map_or(dsn, |(_, rest)| rest);
    let path = after_host.split_once('/')?.1;
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// 1-based line number at `pos`.
    line: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The rest of the current line (without its newline), advancing past the newline.
    fn line(&mut self) -> &'a [u8] {
        let rest = &self.bytes[self.pos..];
        let len = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        let line = &rest[..len];
        self.pos += len;
        if self.pos < self.bytes.len() {
            self.pos += 1;
            self.line += 1;
        }
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    /// Exactly `n` bytes, then an optional newline.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.line += out.iter().filter(|b| **b == b'\n').count();
        self.pos = end;
        if self.bytes.get(self.pos) == Some(&b'\n') {
            self.pos += 1;
            self.line += 1;
        }
        Some(out)
    }
}

fn parse_line<'a, T: Deserialize<'a>>(bytes: &'a [u8], line: usize) -> Result<T, FormatError> {
    serde_json::from_slice(bytes)
        .map_err(|e| json_error(Some(Format::SentryEnvelope), &e, line - 1))
}

/// One item of an envelope: its type, its payload and the 1-based line the payload starts on.
pub(super) struct Item<'a> {
    pub ty: String,
    pub payload: &'a [u8],
    pub line: usize,
}

/// An envelope cut into items.
pub(super) struct Split<'a> {
    /// The header's `dsn`.
    pub dsn: Option<String>,
    /// What the header gives every event.
    pub context: EnvelopeContext,
    /// The items in order; an item that cannot be framed is an error sentence, and ends the list
    /// (what follows it cannot be told apart).
    pub items: Vec<Result<Item<'a>, String>>,
}

/// Cuts an envelope into items. Only an unreadable header line is an error.
pub(super) fn split(bytes: &[u8]) -> Result<Split<'_>, FormatError> {
    let mut r = Reader {
        bytes,
        pos: 0,
        line: 1,
    };
    // Leading blank lines are tolerated.
    while !r.at_end() && bytes[r.pos].is_ascii_whitespace() {
        if bytes[r.pos] == b'\n' {
            r.line += 1;
        }
        r.pos += 1;
    }
    if r.at_end() {
        return Err(FormatError::Empty);
    }
    let header_line_no = r.line;
    let header: HeaderWire = parse_line(r.line(), header_line_no)?;
    let dsn = header.dsn.0;
    let context = EnvelopeContext {
        event_id: header.event_id.0.and_then(|s| ids::event_id(&s).ok()),
        sent_at_ns: header.sent_at.0,
        dsc_trace_id: header
            .trace
            .and_then(|t| t.trace_id.0)
            .and_then(|s| ids::trace_id(&s).ok()),
        project: dsn.as_deref().and_then(dsn_project),
    };
    let mut items = Vec::new();
    while !r.at_end() {
        let item_line_no = r.line;
        let item_line = r.line();
        if item_line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let item: ItemHeaderWire = match parse_line(item_line, item_line_no) {
            Ok(i) => i,
            Err(e) => {
                items.push(Err(format!(
                    "line {item_line_no}: the item header is unreadable ({e}); the rest of the envelope cannot be framed"
                )));
                break;
            }
        };
        let ty = item.ty.0.unwrap_or_default();
        let payload_line_no = r.line;
        let payload = match item.length.0 {
            Some(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                match r.take(n) {
                    Some(p) => p,
                    None => {
                        items.push(Err(format!(
                            "line {item_line_no}: item {ty:?} declares length {n} but only {} bytes follow (truncated envelope?)",
                            bytes.len().saturating_sub(r.pos)
                        )));
                        break;
                    }
                }
            }
            None => r.line(),
        };
        items.push(Ok(Item {
            ty,
            payload,
            line: payload_line_no,
        }));
    }
    Ok(Split {
        dsn,
        context,
        items,
    })
}

/// Decodes an envelope into its error events (none when it holds only other items).
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<ErrorEvent>, FormatError> {
    let split = split(bytes)?;
    let mut events = Vec::new();
    for item in split.items {
        let item = item.map_err(|message| FormatError::Invalid {
            format: Format::SentryEnvelope,
            message,
        })?;
        if item.ty == "event" {
            let mut ctx = split.context.clone();
            if !events.is_empty() {
                // The header's event id belongs to the first event only.
                ctx.event_id = None;
            }
            events.push(decode_embedded(
                item.payload,
                Format::SentryEnvelope,
                item.line - 1,
                &ctx,
            )?);
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_with_and_without_length() {
        let payload = r#"{"exception":{"values":[{"type":"E","value":"v"}]},"timestamp":1.5}"#;
        let text = format!(
            "{{\"event_id\":\"9353246b542f4a3191adb238f3d602ba\",\"dsn\":\"https://k@o1.ingest.example/1266321\",\"trace\":{{\"trace_id\":\"f931d452341942159dd20cd5e654b6ca\"}}}}\n\
             {{\"type\":\"attachment\",\"length\":5}}\nab\ncd\n\
             {{\"type\":\"event\"}}\n{payload}\n\
             {{\"type\":\"client_report\",\"length\":2}}\n{{}}\n"
        );
        let events = decode(text.as_bytes()).expect("decodes");
        assert_eq!(events.len(), 1);
        let ev = &events[0];
        assert_eq!(ev.title, "E: v");
        assert_eq!(
            ev.event_id.map(|e| e.to_string()).as_deref(),
            Some("9353246b542f4a3191adb238f3d602ba")
        );
        assert_eq!(
            ev.dsc_trace_id.map(|t| t.to_string()).as_deref(),
            Some("f931d452341942159dd20cd5e654b6ca")
        );
        assert_eq!(ev.project.as_deref(), Some("1266321"));
        assert_eq!(ev.timestamp_ns, 1_500_000_000);
    }

    #[test]
    fn transaction_only_envelope_has_no_events() {
        let text = "{\"event_id\":\"9353246b542f4a3191adb238f3d602ba\"}\n{\"type\":\"transaction\",\"length\":2}\n{}";
        assert!(decode(text.as_bytes()).expect("decodes").is_empty());
    }

    #[test]
    fn errors_name_the_envelope_line() {
        let text = "{}\n{\"type\":\"event\"}\n{\"exception\": nope}\n";
        let err = decode(text.as_bytes()).expect_err("bad payload");
        match err {
            FormatError::Json { line, column, .. } => assert_eq!((line, column), (3, 16)),
            other => panic!("unexpected {other:?}"),
        }
        let err = decode(b"{}\n{\"type\":\"event\",\"length\":999}\n{}\n").expect_err("short");
        assert!(err.to_string().contains("declares length 999"), "{err}");
    }

    #[test]
    fn dsn_project_ids() {
        assert_eq!(dsn_project("https://k@h/42").as_deref(), Some("42"));
        assert_eq!(dsn_project("https://k@h/prefix/42/").as_deref(), Some("42"));
        assert_eq!(dsn_project("https://k@h").as_deref(), None);
    }
}
