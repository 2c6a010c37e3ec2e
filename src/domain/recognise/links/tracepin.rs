//! tracepin's own links: `/event/{id}`, `/issue/{id}` and `/lookup?q=…` (any host, any path prefix).
//!
//! A lookup link is recognised by recognising its `q` once more; a lookup link inside another is refused
//! rather than followed again.

use super::{in_link, Link};
use crate::domain::recognise::values::{issue_ref, parse_event_id};
use crate::domain::recognise::{no, recognise_at, snippet};
use crate::domain::recognise::{Form, Lookup, Recognised, Unrecognised};

/// tracepin's own `/event/{id}`, `/issue/{id}` and `/lookup?q=…` (any host, any path prefix).
pub(super) fn tracepin_link(link: &Link, depth: u8) -> Option<Result<Recognised, Unrecognised>> {
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
