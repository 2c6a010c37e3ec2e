//! Wire shapes of the Sentry Web API responses the connector reads besides full events (those go through
//! [`crate::connectors::formats::decode_sentry_web_event`]): issues, the short-id and event-id resolvers,
//! the Explore/Discover `events` table, the trace tree and the API index. Private to the connector.

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// A string or a number (Sentry serializes ids and counts both ways).
#[derive(Debug, Default, Clone)]
pub(super) struct Loose(pub Option<String>);

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Loose(match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) if !s.is_empty() => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }))
    }
}

/// `project` of an issue.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IssueProjectWire {
    pub id: Loose,
    pub slug: Option<String>,
}

/// An issue object (`/issues/`, `/issues/{id}/`, `shortids.group`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct IssueWire {
    pub id: Loose,
    pub short_id: Option<String>,
    pub title: Option<String>,
    pub culprit: Option<String>,
    pub level: Option<String>,
    pub permalink: Option<String>,
    pub count: Loose,
    pub user_count: Loose,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
    pub project: Option<IssueProjectWire>,
    pub status: Option<String>,
}

/// `GET /organizations/{org}/shortids/{short_id}/`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct ShortIdWire {
    pub project_slug: Option<String>,
    pub group_id: Loose,
    pub short_id: Option<String>,
    pub group: Option<IssueWire>,
}

/// The head of `GET /organizations/{org}/eventids/{event_id}/` (the event itself is decoded separately).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct EventIdHeadWire {
    pub project_slug: Option<String>,
    pub group_id: Loose,
}

/// One row of `GET /organizations/{org}/events/?dataset=errors&field=…`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DiscoverRow {
    pub id: Option<String>,
    pub project: Option<String>,
    #[serde(rename = "trace.span")]
    pub trace_span: Loose,
    #[serde(rename = "issue.id")]
    pub issue_id: Loose,
    pub issue: Option<String>,
}

/// `GET /organizations/{org}/events/` body.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct DiscoverPage {
    pub data: Vec<DiscoverRow>,
}

/// The API index `GET /api/0/`: `auth.scopes` of the token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IndexWire {
    pub auth: Option<IndexAuthWire>,
}

/// `auth` of the API index.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IndexAuthWire {
    pub scopes: Vec<String>,
}

/// `GET /organizations/{org}/`: only the name is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct OrgWire {
    pub name: Option<String>,
    pub slug: Option<String>,
}

/// An error found in the trace tree: the event id, its project and what else the node says.
#[derive(Debug, Default, Clone)]
pub(super) struct TraceError {
    pub event_id: String,
    pub project: Option<String>,
    pub issue_id: Option<String>,
    pub short_id: Option<String>,
    pub span: Option<String>,
}

/// Collects errors from `GET /organizations/{org}/trace/{id}/` (nodes with nested `children`, `errors`
/// and top-level orphan errors) and from the legacy `{transactions, orphan_errors}` shape.
pub(super) fn trace_errors(v: &serde_json::Value, out: &mut Vec<TraceError>) {
    match v {
        serde_json::Value::Array(items) => items.iter().for_each(|i| trace_errors(i, out)),
        serde_json::Value::Object(o) => {
            if o.get("event_type").and_then(|t| t.as_str()) == Some("error") {
                push_error(o, out);
            }
            for (k, child) in o {
                if k == "errors" || k == "orphan_errors" {
                    if let serde_json::Value::Array(list) = child {
                        for e in list {
                            if let serde_json::Value::Object(eo) = e {
                                push_error(eo, out);
                            }
                        }
                    }
                } else if k == "children" || k == "transactions" {
                    trace_errors(child, out);
                }
            }
        }
        _ => {}
    }
}

fn push_error(o: &serde_json::Map<String, serde_json::Value>, out: &mut Vec<TraceError>) {
    let s = |k: &str| match o.get(k) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let Some(event_id) = s("event_id").or_else(|| s("id")) else {
        return;
    };
    if out.iter().any(|e| e.event_id == event_id) {
        return;
    }
    out.push(TraceError {
        event_id,
        project: s("project_slug"),
        issue_id: s("issue_id"),
        short_id: s("issue_short_id").or_else(|| s("issue")),
        span: s("span").or_else(|| s("span_id")),
    });
}
