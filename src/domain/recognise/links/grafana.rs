//! Grafana links: Explore (`panes=` JSON, or the legacy `left=` object or array) and Traces Drilldown
//! (`traceId=`, `spanId=`).
//!
//! Reads the trace id out of a query's text only when the whole text is one; a TraceQL search is not a
//! trace. Must not evaluate or fetch any query.

use serde_json::Value;

use super::{in_link, Link};
use crate::domain::ids::{SpanId, TraceId};
use crate::domain::recognise::values::parse_trace_id;
use crate::domain::recognise::{no, trace};
use crate::domain::recognise::{Form, Recognised, Unrecognised};

/// Grafana Explore (`panes=` or legacy `left=`) and Traces Drilldown links.
pub(super) fn grafana_link(link: &Link) -> Option<Result<Recognised, Unrecognised>> {
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
