//! Sentry Web API events: `GET /api/0/projects/{org}/{proj}/events/{id}/`, the organization issue event
//! endpoints (`…/issues/{id}/events/{event_id|latest|…}/`), the `eventids` resolver's
//! `{"event":{…},"projectSlug",…}` wrapper, and a list of full events.
//!
//! The Web API lifts interfaces into `entries: [{type, data}]` (camelCase frames with
//! `context: [[line, text]]`), gives `tags` as `[{key, value}]`, the time as `dateCreated` (ISO, with
//! microseconds in full events), `release` as a string or an object with `version`, and has no
//! top-level `level`/`environment`, which are read from the tags. The exception, frame, breadcrumb,
//! context and user wire types are shared with [`super::sentry_event`].

use serde::Deserialize;

use super::ids;
use super::json::{self, nullable, Pairs, Text, Timestamp};
use super::sentry_event::{
    breadcrumbs, exceptions, title, BreadcrumbsWire, ContextsWire, ExceptionsWire, MessageWire,
    UserWire,
};
use super::{gunzip, Format, FormatError};
use crate::domain::ErrorEvent;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WebEventWire {
    #[serde(rename = "eventID")]
    event_id: Text,
    id: Text,
    #[serde(rename = "groupID", alias = "groupId")]
    group_id: Text,
    title: Text,
    culprit: Text,
    platform: Text,
    message: Text,
    #[serde(rename = "dateCreated")]
    date_created: Timestamp,
    #[serde(rename = "dateReceived")]
    date_received: Timestamp,
    release: ReleaseWire,
    #[serde(deserialize_with = "nullable")]
    user: Option<UserWire>,
    tags: Pairs,
    contexts: ContextsWire,
    #[serde(deserialize_with = "nullable")]
    entries: Vec<EntryWire>,
    #[serde(rename = "projectID")]
    project_id: Text,
    #[serde(rename = "projectSlug")]
    project_slug: Text,
    /// The `eventids` resolver wraps the event.
    #[serde(deserialize_with = "nullable")]
    event: Option<Box<WebEventWire>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EntryWire {
    #[serde(rename = "type")]
    ty: Text,
    data: serde_json::Value,
}

/// `release`: a version string, or a release object with `version`.
#[derive(Debug, Default)]
struct ReleaseWire(Option<String>);

impl<'de> Deserialize<'de> for ReleaseWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ReleaseWire(match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Object(o) => {
                o.get("version").and_then(|v| v.as_str()).map(str::to_owned)
            }
            _ => None,
        }))
    }
}

fn entry_error(i: usize, ty: &str, e: &serde_json::Error) -> FormatError {
    FormatError::Invalid {
        format: Format::SentryWebEvent,
        message: format!("entries[{i}] ({ty}): {e}"),
    }
}

impl WebEventWire {
    fn into_domain(self) -> Result<ErrorEvent, FormatError> {
        if let Some(inner) = self.event {
            let mut inner = *inner;
            if inner.project_slug.0.is_none() {
                inner.project_slug = self.project_slug;
            }
            if inner.group_id.0.is_none() {
                inner.group_id = self.group_id;
            }
            return inner.into_domain();
        }
        let mut ex = Vec::new();
        let mut crumbs = Vec::new();
        let mut entry_message = None;
        for (i, entry) in self.entries.into_iter().enumerate() {
            let ty = entry.ty.0.unwrap_or_default();
            match ty.as_str() {
                "exception" => {
                    let w: ExceptionsWire =
                        serde_json::from_value(entry.data).map_err(|e| entry_error(i, &ty, &e))?;
                    ex.extend(exceptions(w));
                }
                "breadcrumbs" => {
                    let w: BreadcrumbsWire =
                        serde_json::from_value(entry.data).map_err(|e| entry_error(i, &ty, &e))?;
                    crumbs.extend(breadcrumbs(w));
                }
                "message" => {
                    let w: MessageWire =
                        serde_json::from_value(entry.data).map_err(|e| entry_error(i, &ty, &e))?;
                    entry_message = w.0.filter(|m| !m.trim().is_empty());
                }
                _ => {}
            }
        }
        let tags = self.tags.0;
        let tag = |k: &str| {
            tags.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let message = entry_message.or_else(|| self.message.non_empty());
        let mut contexts = self.contexts;
        let event_id = self
            .event_id
            .0
            .and_then(|s| ids::event_id(&s).ok())
            .or_else(|| self.id.0.and_then(|s| ids::event_id(&s).ok()));
        Ok(ErrorEvent {
            event_id,
            issue_id: self.group_id.non_empty(),
            short_id: None,
            project: self
                .project_slug
                .non_empty()
                .or(self.project_id.non_empty()),
            title: self
                .title
                .non_empty()
                .unwrap_or_else(|| title(&ex, message.as_deref())),
            culprit: self.culprit.non_empty().or_else(|| tag("transaction")),
            level: tag("level").unwrap_or_else(|| "error".to_owned()),
            timestamp_ns: self.date_created.0.or(self.date_received.0).unwrap_or(0),
            release: self
                .release
                .0
                .filter(|r| !r.is_empty())
                .or_else(|| tag("release")),
            environment: tag("environment"),
            server_name: tag("server_name"),
            platform: self.platform.non_empty(),
            user: self.user.map(UserWire::into_domain),
            trace_context: contexts.trace_context(),
            otel_context: contexts.otel_context(),
            dsc_trace_id: None,
            exceptions: ex,
            message,
            breadcrumbs: crumbs,
            sentry_url: None,
            tags,
            fingerprint: Vec::new(),
        })
    }
}

/// Decodes one Sentry Web API event (gzip accepted), as the Sentry HTTP connector receives it.
pub fn decode_sentry_web_event(v: &[u8]) -> Result<ErrorEvent, FormatError> {
    let bytes = gunzip(v)?;
    let wire: WebEventWire = json::from_slice(&bytes, Format::SentryWebEvent)?;
    wire.into_domain()
}

/// Decodes one Web API event or a list of them.
pub(super) fn decode_many(bytes: &[u8]) -> Result<Vec<ErrorEvent>, FormatError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let list: Vec<WebEventWire> = json::from_slice(bytes, Format::SentryWebEvent)?;
        list.into_iter().map(WebEventWire::into_domain).collect()
    } else {
        let wire: WebEventWire = json::from_slice(bytes, Format::SentryWebEvent)?;
        Ok(vec![wire.into_domain()?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"{"id":"ignored","eventID":"D16AF5B2A92045B69B74581FC624615C","groupID":"1341191803",
      "projectID":"5236886","projectSlug":"payments","title":"CardDeclined: card declined","platform":"python",
      "culprit":"POST /charge","dateCreated":"2026-11-21T11:09:31.512345Z","message":"",
      "release":{"version":"payments@1.4.2","dateCreated":"2026-11-21T10:00:00Z"},
      "tags":[{"key":"environment","value":"demo"},{"key":"level","value":"error"},{"key":"server_name","value":"payments-host"}],
      "contexts":{"trace":{"trace_id":"0618ec0a97592499eb52cffdb09d275d","span_id":"56bb6b3d49bfa5d3","type":"trace"}},
      "user":null,
      "entries":[
        {"type":"exception","data":{"values":[{"type":"CardDeclined","value":"card declined","module":"__main__",
          "mechanism":{"type":"generic","handled":true},
          "stacktrace":{"frames":[{"filename":"gen.py","absPath":"/srv/gen.py","function":"h","module":"__main__",
            "lineNo":10,"colNo":null,"inApp":true,"context":[[9,"a"],[10,"raise"],[11,"b"]],"vars":null}],
            "framesOmitted":null,"hasSystemFrames":false},"rawStacktrace":null}],"excOmitted":null,"hasSystemFrames":false}},
        {"type":"breadcrumbs","data":{"values":[{"timestamp":"2026-11-21T11:09:31.1Z","type":"http","category":"httplib","level":"info","message":null,"data":{"url":"/x"},"event_id":null}]}},
        {"type":"request","data":{"url":"https://x","headers":[["a","b"]]}}
      ]}"#;

    #[test]
    fn web_api_event_fields() {
        let ev = decode_sentry_web_event(EVENT.as_bytes()).expect("decodes");
        assert_eq!(
            ev.event_id.map(|e| e.to_string()).as_deref(),
            Some("d16af5b2a92045b69b74581fc624615c")
        );
        assert_eq!(ev.issue_id.as_deref(), Some("1341191803"));
        assert_eq!(ev.project.as_deref(), Some("payments"));
        assert_eq!(ev.title, "CardDeclined: card declined");
        assert_eq!(ev.release.as_deref(), Some("payments@1.4.2"));
        assert_eq!(ev.environment.as_deref(), Some("demo"));
        assert_eq!(ev.server_name.as_deref(), Some("payments-host"));
        assert_eq!(ev.level, "error");
        assert_eq!(ev.timestamp_ns, 1_795_259_371_512_345_000);
        let tc = ev.trace_context.as_ref().expect("trace");
        assert_eq!(
            tc.span_id.map(|s| s.to_string()).as_deref(),
            Some("56bb6b3d49bfa5d3")
        );
        let f = &ev.exceptions[0].frames[0];
        assert_eq!(f.abs_path.as_deref(), Some("/srv/gen.py"));
        assert_eq!(f.context_line.as_deref(), Some("raise"));
        assert_eq!(
            (f.pre_context.clone(), f.post_context.clone()),
            (vec!["a".into()], vec!["b".into()])
        );
        assert!(f.in_app);
        assert_eq!(ev.breadcrumbs.len(), 1);
        assert_eq!(ev.breadcrumbs[0].data, [("url".into(), "/x".into())]);
        assert_eq!(ev.message, None);
    }

    #[test]
    fn eventids_wrapper_and_list() {
        let wrapped = format!(
            r#"{{"organizationSlug":"acme","projectSlug":"shop","groupId":"7","eventId":"x","event":{EVENT}}}"#
        );
        let ev = decode_sentry_web_event(wrapped.as_bytes()).expect("wrapped");
        assert_eq!(ev.project.as_deref(), Some("payments"));
        assert_eq!(ev.issue_id.as_deref(), Some("1341191803"));
        let list = format!("[{EVENT},{EVENT}]");
        assert_eq!(decode_many(list.as_bytes()).expect("list").len(), 2);
    }

    #[test]
    fn message_entry_and_string_release() {
        let ev = decode_sentry_web_event(
            br#"{"eventID":"9fac2ceed9344f2bbfdd1fdacb0ed9b1","release":"r1","entries":[{"type":"message","data":{"formatted":"disk full","message":"disk %s"}}]}"#,
        )
        .expect("decodes");
        assert_eq!(ev.title, "disk full");
        assert_eq!(ev.message.as_deref(), Some("disk full"));
        assert_eq!(ev.release.as_deref(), Some("r1"));
    }
}
