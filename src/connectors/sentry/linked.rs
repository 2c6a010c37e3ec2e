//! Errors linked to a trace by something other than Sentry's trace id: the event ids its spans
//! claim (`sentry.event_id`) and the correlation values its spans share with Sentry tags
//! (`transaction_id`, `x-request-id`…). Apps that link by hand send such events under Sentry's own
//! trace id, so `trace:<otel id>` never finds them.
//!
//! Event ids are asked for in batches with `id:[…]` on the errors dataset rather than one
//! `/eventids/` call each (that endpoint allows one request per second); correlation values with
//! `tags[key]:[…]` (see [`super::query`]). The search is bounded: at most [`MAX_LINK_QUERIES`] list
//! queries and [`LINK_BUDGET`] of time per trace; what a bound cut is said in a notice.

use std::collections::HashSet;
use std::time::Duration;

use futures::stream::{StreamExt, TryStreamExt};

use super::{query, EventRef, SentryClient, SentryError};
use crate::correlate::keys::TraceKeys;
use crate::domain::{ErrorEvent, EventId};

/// One list query's answer: the events it lists, and whether pages were left out.
type Listing = Result<(Vec<EventRef>, bool), SentryError>;

/// List queries per trace for linked errors (ids and correlation values together).
pub const MAX_LINK_QUERIES: usize = 8;
/// Time for the whole linked search of one trace.
pub const LINK_BUDGET: Duration = Duration::from_secs(15);

/// What the linked search found, and what it could not do.
#[derive(Debug, Clone, Default)]
pub struct LinkedEvents {
    /// Full events not already known, in no particular order.
    pub events: Vec<ErrorEvent>,
    /// Queries sent, for the record: `id:[…]`, `tags[key]:[…]`.
    pub queries: Vec<String>,
    /// Bounds that cut the search short, searches that failed, values that cannot be searched.
    pub notices: Vec<String>,
}

impl SentryClient {
    /// The events that `keys` link to a trace, leaving out `known` ones. Fails only when every query
    /// failed; a failed query among answered ones becomes a notice.
    pub async fn linked_events(
        &self,
        keys: &TraceKeys,
        known: &HashSet<EventId>,
    ) -> Result<LinkedEvents, SentryError> {
        let mut out = LinkedEvents::default();
        let mut queries = query::ids_in_batches(
            keys.event_ids
                .iter()
                .copied()
                .filter(|e| !known.contains(e)),
        );
        for (key, values) in &keys.tags {
            let (q, skipped) = query::tag_in_batches(key, values.iter().map(String::as_str));
            if skipped > 0 {
                out.notices.push(format!(
                    "{skipped} value(s) of `{key}` cannot be written as a Sentry search and were not searched."
                ));
            }
            queries.extend(q);
        }
        if queries.is_empty() {
            return Ok(out);
        }
        if queries.len() > MAX_LINK_QUERIES {
            out.notices.push(format!(
                "Linked errors: only the first {MAX_LINK_QUERIES} of {} Sentry searches were sent \
                 (event ids and correlation values of this trace); errors linked by the rest are not shown.",
                queries.len()
            ));
            queries.truncate(MAX_LINK_QUERIES);
        }
        out.queries = queries.clone();
        match tokio::time::timeout(LINK_BUDGET, self.run_linked(queries, known, &mut out)).await {
            Ok(r) => r?,
            Err(_) => out.notices.push(format!(
                "Linked errors: the Sentry search was cut short after {} s; some linked errors may be missing.",
                LINK_BUDGET.as_secs()
            )),
        }
        Ok(out)
    }

    async fn run_linked(
        &self,
        queries: Vec<String>,
        known: &HashSet<EventId>,
        out: &mut LinkedEvents,
    ) -> Result<(), SentryError> {
        let answers: Vec<(String, Listing)> = futures::stream::iter(queries)
            .map(|q| async move {
                let r = self.refs_for_query(&q).await;
                (q, r)
            })
            .buffer_unordered(4)
            .collect()
            .await;
        let mut refs: Vec<EventRef> = Vec::new();
        let mut seen: HashSet<String> = known.iter().map(ToString::to_string).collect();
        let mut failures = Vec::new();
        let total = answers.len();
        for (q, a) in answers {
            match a {
                Ok((found, cut)) => {
                    if cut {
                        out.notices.push(format!(
                            "Sentry search `{q}` has more pages than tracepin reads; some linked errors may be missing."
                        ));
                    }
                    refs.extend(
                        found
                            .into_iter()
                            .filter(|r| seen.insert(r.event_id.clone())),
                    );
                }
                Err(e) => failures.push((q, e)),
            }
        }
        if failures.len() == total {
            if let Some((_, e)) = failures.into_iter().next() {
                return Err(e);
            }
            return Ok(());
        }
        for (q, e) in failures {
            out.notices.push(format!("Sentry search `{q}` failed: {e}"));
        }
        out.events = futures::stream::iter(refs)
            .map(|r| self.full_event(r, None))
            .buffer_unordered(self.concurrency)
            .try_filter_map(|ev| async move { Ok(ev) })
            .try_collect()
            .await?;
        Ok(())
    }
}
