//! Sentry's issue list for the home page, the trace badge of each issue, and an issue's latest event.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use futures::stream::StreamExt;

use super::{trace_of_event, DataError, DataStore};
use crate::connectors::sentry::{IssueQuery, IssueSort, IssueSummary, SentryClient};
use crate::domain::ErrorEvent;
use crate::view::types::{IssueFilters, IssueRow, IssueTrace, IssuesPage};

/// Trace badges answered per call: one page of the issue list.
pub const MAX_ISSUE_TRACES: usize = 25;

/// How a badge for an issue Sentry does not know begins (such answers are cached like the others).
const NO_SUCH_ISSUE: &str = "Sentry has no such issue";

impl DataStore {
    /// One page of Sentry issues, or why there is none (`None` when Sentry is not configured).
    pub async fn issues(&self, f: &IssueFilters) -> Option<IssuesPage> {
        let c = match (self.sentry(), self.sentry_problem()) {
            (Some(c), _) => c,
            (None, Some(p)) => {
                return Some(IssuesPage {
                    filters: f.clone(),
                    issues: Vec::new(),
                    next_cursor: None,
                    projects: Vec::new(),
                    problem: Some(format!("Sentry is configured but unusable: {p}")),
                })
            }
            (None, None) => return None,
        };
        let mut filters = f.clone();
        if filters.period.is_empty() {
            filters.period = "14d".into();
        }
        if filters.sort.is_empty() {
            filters.sort = "date".into();
        }
        let sort = match filters.sort.as_str() {
            "new" => IssueSort::New,
            "freq" => IssueSort::Freq,
            "user" => IssueSort::User,
            "trends" => IssueSort::Trends,
            _ => IssueSort::Date,
        };
        let projects = c.projects().await;
        let mut problem = None;
        let project_ids: Vec<String> = if filters.project.trim().is_empty() {
            Vec::new()
        } else {
            let want = filters.project.trim().to_owned();
            let want = want.as_str();
            match &projects {
                _ if want.bytes().all(|b| b.is_ascii_digit()) => vec![want.to_owned()],
                Ok(list) => match list.iter().find(|(_, slug)| slug == want) {
                    Some((id, _)) => vec![id.clone()],
                    None => {
                        return Some(IssuesPage {
                            filters,
                            issues: Vec::new(),
                            next_cursor: None,
                            projects: list.iter().map(|(_, s)| s.clone()).collect(),
                            problem: Some(format!(
                                "Sentry org `{}` has no project `{want}`.",
                                c.org()
                            )),
                        })
                    }
                },
                Err(e) => {
                    problem = Some(format!(
                        "Projects could not be listed ({e}); the project filter is ignored."
                    ));
                    Vec::new()
                }
            }
        };
        let q = IssueQuery {
            query: Some(if filters.query.trim().is_empty() {
                "is:unresolved".to_owned()
            } else {
                filters.query.trim().to_owned()
            }),
            stats_period: Some(filters.period.clone()),
            project: project_ids,
            environment: if filters.environment.trim().is_empty() {
                Vec::new()
            } else {
                vec![filters.environment.trim().to_owned()]
            },
            sort: Some(sort),
            limit: Some(25),
            cursor: (!filters.cursor.is_empty()).then(|| filters.cursor.clone()),
            ..IssueQuery::default()
        };
        let fmt = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        };
        let (issues, next_cursor) = match c.list_issues(&q).await {
            Ok(page) => (
                page.items
                    .into_iter()
                    .map(|i| IssueRow {
                        permalink: crate::domain::links::safe_url(&i.permalink),
                        first_seen: fmt(i.first_seen),
                        last_seen: fmt(i.last_seen),
                        id: i.id,
                        short_id: i.short_id,
                        title: i.title,
                        culprit: i.culprit,
                        level: i.level,
                        project: i.project,
                        count: i.count,
                        user_count: i.user_count,
                    })
                    .collect(),
                page.next_cursor,
            ),
            Err(e) if e.is_not_found() && !filters.environment.trim().is_empty() => {
                problem = Some(format!(
                    "No issues: Sentry knows no environment `{}` in these projects.",
                    filters.environment.trim()
                ));
                (Vec::new(), None)
            }
            Err(e) => {
                problem = Some(format!("Sentry issues could not be listed: {e}"));
                (Vec::new(), None)
            }
        };
        Some(IssuesPage {
            filters,
            issues,
            next_cursor,
            projects: projects
                .map(|l| l.into_iter().map(|(_, s)| s).collect())
                .unwrap_or_default(),
            problem,
        })
    }

    /// For each issue, whether its latest event carries a trace id (four requests at a time).
    pub async fn issue_traces(&self, ids: &[String]) -> Vec<IssueTrace> {
        let Some(c) = self.sentry() else {
            return Vec::new();
        };
        let Some(cache) = self.issue_trace_cache() else {
            return Vec::new();
        };
        // One page of the list at most, each id once: the caller is a browser, every id costs a
        // request with the server's token, and answers (a trace, no trace, no such issue) are
        // reused for a minute. Failures are not kept.
        let mut seen = HashSet::new();
        let wanted: Vec<String> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .take(MAX_ISSUE_TRACES)
            .cloned()
            .collect();
        futures::stream::iter(wanted)
            .map(|id| async move {
                if let Some(known) = cache.get(&id).await {
                    crate::connectors::telemetry::cache_lookup("issue_traces", true);
                    return known;
                }
                crate::connectors::telemetry::cache_lookup("issue_traces", false);
                let answer = Self::issue_trace(c, id.clone()).await;
                if answer.state != "unknown"
                    || answer
                        .detail
                        .as_deref()
                        .is_some_and(|d| d.starts_with(NO_SUCH_ISSUE))
                {
                    cache.insert(id, answer.clone()).await;
                }
                answer
            })
            .buffered(4)
            .collect()
            .await
    }

    async fn issue_trace(c: &SentryClient, id: String) -> IssueTrace {
        match c.latest_event_only(&id).await {
            Ok(ev) => {
                let trace = trace_of_event(&ev);
                IssueTrace {
                            issue_id: id,
                            state: if trace.is_some() { "trace" } else { "none" }.into(),
                            trace_id: trace.map(|t| t.to_string()),
                            event_id: ev.event_id.map(|e| e.to_string()),
                            detail: trace.is_none().then(|| {
                                "The latest event carries no trace id (no contexts.trace, otel_trace or otel.trace_id)."
                                    .to_owned()
                            }),
                        }
            }
            Err(e) => IssueTrace {
                issue_id: id,
                state: "unknown".into(),
                trace_id: None,
                event_id: None,
                detail: Some(if e.is_not_found() {
                    format!("{NO_SUCH_ISSUE} ({e})")
                } else {
                    e.to_string()
                }),
            },
        }
    }

    /// A Sentry issue (numeric id or short id) and its latest event.
    pub async fn issue_event(
        &self,
        id_or_short_id: &str,
    ) -> Result<(IssueSummary, ErrorEvent), DataError> {
        let Some(c) = self.sentry() else {
            return Err(DataError::NotFound(match self.sentry_problem() {
                Some(p) => format!("Sentry is configured but unusable: {p}"),
                None => "Sentry is not configured, so issue ids and short ids cannot be resolved."
                    .into(),
            }));
        };
        let issue = c.issue(id_or_short_id).await.map_err(|e| {
            if e.is_not_found() {
                DataError::NotFound(format!(
                    "Sentry org `{}` has no issue `{id_or_short_id}`.",
                    c.org()
                ))
            } else {
                DataError::Upstream(e.to_string())
            }
        })?;
        let ev = c
            .latest_event(&issue.id)
            .await
            .map_err(|e| DataError::Upstream(e.to_string()))?;
        Ok((issue, ev))
    }
}
