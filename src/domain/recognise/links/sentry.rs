//! Sentry links: issue pages (numeric or short id), event pages (issue event, Discover, Performance),
//! trace views (with the focused span and event), and searches by `trace:`, on sentry.io or a
//! self-hosted Sentry.
//!
//! Reads paths and query strings only. Must not claim a link of a code host (`/{owner}/{repo}/issues/n`)
//! or a Sentry ingest address.

use super::{in_link, Link};
use crate::domain::recognise::values::{issue_ref, parse_event_id, parse_trace_id};
use crate::domain::recognise::{no, snippet, strip_noise, trace};
use crate::domain::recognise::{Form, Lookup, Recognised, Unrecognised};

pub(super) fn not_sentry_page(link: &Link) -> Unrecognised {
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
pub(super) fn sentry_link(
    link: &Link,
    on_sentry_host: bool,
) -> Option<Result<Recognised, Unrecognised>> {
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
