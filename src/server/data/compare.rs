//! Compare mode: a failing trace against healthy traces of the same root (`cmp=auto`), or against
//! traces the user names (`cmp=<id>,…`).
//!
//! Finding baselines is bounded: every backend is asked once for at most 2 × [`BASELINES`]
//! candidates of the same root service and root span name in ±[`WINDOW_NS`] of the failing trace
//! (Tempo: two TraceQL searches; Jaeger: one FindTraces; files and the local store: their index),
//! the nearest in time are fetched [`FETCH_AT_ONCE`] at a time through the backends' trace cache, and
//! fetching stops once [`BASELINES`] healthy ones are in. A candidate with an error span, or with a
//! Sentry error (one batched Discover query per 25 candidates), is not healthy. The diff runs on the
//! blocking pool; the result is kept a minute per (trace, comparison).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{DataError, DataStore, Inner, Loaded};
use crate::connectors::traces::{BaselineQuery, TimeHint};
use crate::correlate::compare::{self, CompareOptions, Comparison};
use crate::correlate::Timeline;
use crate::domain::{RowOrigin, Span, Trace, TraceId};
use crate::view::compare::{compare_view, BaselineRef, CompareView};
use crate::view::state::CompareWith;

/// Healthy traces a comparison uses at most.
pub const BASELINES: usize = 20;
/// How far around the failing trace's start healthy traces are looked for (each side), ns.
pub const WINDOW_NS: u64 = 3_600_000_000_000;
/// Baseline traces fetched at once.
pub const FETCH_AT_ONCE: usize = 4;
/// How long a comparison is kept.
pub const TTL: Duration = Duration::from_secs(60);

/// A comparison, for the page and the export.
#[derive(Debug)]
pub struct Compared {
    /// The failing trace's timeline.
    pub loaded: Arc<Loaded>,
    /// The comparison itself.
    pub comparison: Comparison,
    /// The baselines used.
    pub baseline_ids: Vec<TraceId>,
    /// What the page shows.
    pub view: CompareView,
}

/// The cache of comparisons, by (trace, `cmp` value).
pub(super) type CompareCache = moka::future::Cache<(TraceId, String), Arc<Compared>>;

pub(super) fn new_cache() -> CompareCache {
    moka::future::Cache::builder()
        .max_capacity(32)
        .time_to_live(TTL)
        .build()
}

/// The root of a trace: the first real span at depth 0 (else the first row).
fn root_of(trace: &Trace) -> Option<&Span> {
    trace
        .spans
        .iter()
        .zip(&trace.nodes)
        .find(|(_, n)| n.depth == 0 && n.origin == RowOrigin::Span)
        .or_else(|| trace.spans.iter().zip(&trace.nodes).next())
        .map(|(s, _)| s)
}

fn has_error(trace: &Trace) -> bool {
    trace.spans.iter().any(Span::is_error)
}

/// A baseline candidate once fetched: its trace, the backend, or why it cannot be used.
type Fetched = (TraceId, String, Result<Trace, String>);

impl DataStore {
    /// Compares trace `id` with healthy traces (`with`): found by the backends' search, or named.
    /// Kept a minute; concurrent calls for one comparison share one search.
    pub async fn compare(
        &self,
        id: TraceId,
        with: &CompareWith,
    ) -> Result<Arc<Compared>, DataError> {
        let loaded = self.timeline(id, None).await?;
        match &self.inner {
            Inner::Live(l) => {
                let key = (id, with.to_param());
                l.compares
                    .try_get_with(key, self.compute(loaded, with))
                    .await
                    .map_err(|e: Arc<DataError>| (*e).clone())
            }
            Inner::Demo(_) => self.compute(loaded, with).await,
        }
    }

    async fn compute(
        &self,
        loaded: Arc<Loaded>,
        with: &CompareWith,
    ) -> Result<Arc<Compared>, DataError> {
        let failing = &loaded.timeline.trace;
        let id = failing.trace_id;
        let (fetched, searched, mut problems, mut skipped) = match with {
            CompareWith::Auto => {
                let Some(root) = root_of(failing) else {
                    return Err(DataError::NotFound(format!(
                        "Trace {id} has no span to compare."
                    )));
                };
                let q = BaselineQuery {
                    service: root.service.to_string(),
                    name: root.name.to_string(),
                    from_ns: root.start_ns.saturating_sub(WINDOW_NS),
                    to_ns: root.start_ns.saturating_add(WINDOW_NS),
                    limit: 2 * BASELINES,
                };
                self.find_baselines(id, &q, root.start_ns).await
            }
            CompareWith::Traces(ids) => {
                let ids: Vec<TraceId> = ids
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .filter(|t| *t != id)
                    .collect();
                let fetched = self
                    .fetch_all(ids.into_iter().map(|t| (t, None)).collect(), None)
                    .await;
                (
                    fetched,
                    vec!["the traces named in the link".to_owned()],
                    Vec::new(),
                    0,
                )
            }
        };
        let mut baselines: Vec<Trace> = Vec::new();
        let mut refs: Vec<BaselineRef> = Vec::new();
        for (tid, backend, r) in fetched {
            match r {
                Ok(t) => {
                    if matches!(with, CompareWith::Traces(_)) && has_error(&t) {
                        problems.push(format!(
                            "Trace {tid} has error spans: failures it shares with this trace are not reported."
                        ));
                    }
                    refs.push(BaselineRef {
                        trace_id: tid.to_string(),
                        backend,
                    });
                    baselines.push(t);
                }
                Err(why) if matches!(with, CompareWith::Traces(_)) => {
                    problems.push(format!("Trace {tid} cannot be used: {why}"))
                }
                Err(_) => skipped += 1,
            }
        }
        let loaded2 = loaded.clone();
        let result = tokio::task::spawn_blocking(move || {
            let refs_t: Vec<&Trace> = baselines.iter().collect();
            let comparison =
                compare::compare(&loaded2.timeline, &refs_t, &CompareOptions::default());
            let ids: Vec<TraceId> = baselines.iter().map(|t| t.trace_id).collect();
            (comparison, ids)
        })
        .await
        .map_err(|e| DataError::Upstream(format!("The comparison stopped: {e}")))?;
        let (comparison, baseline_ids) = result;
        let view = compare_view(
            &loaded.timeline,
            &comparison,
            refs,
            searched,
            problems,
            u32::try_from(skipped).unwrap_or(u32::MAX),
        );
        Ok(Arc::new(Compared {
            loaded,
            comparison,
            baseline_ids,
            view,
        }))
    }

    /// Searches every backend (or the demo data) for healthy candidates and fetches the nearest ones
    /// until [`BASELINES`] are in: (fetched, where it looked, problems, left out for errors).
    async fn find_baselines(
        &self,
        id: TraceId,
        q: &BaselineQuery,
        center_ns: u64,
    ) -> (Vec<Fetched>, Vec<String>, Vec<String>, usize) {
        match &self.inner {
            Inner::Demo(d) => {
                let mut found: Vec<(u64, &Trace)> = d
                    .correlation
                    .timelines
                    .iter()
                    .map(|t: &Timeline| &t.trace)
                    .filter(|t| t.trace_id != id)
                    .filter(|t| {
                        root_of(t)
                            .is_some_and(|r| q.fits(Some(&r.service), Some(&r.name), r.start_ns))
                    })
                    .map(|t| (t.start_ns.abs_diff(center_ns), t))
                    .collect();
                // Traces holding a Sentry error are not healthy either.
                let has_events = |t: &Trace| {
                    d.by_trace.get(&t.trace_id).is_some_and(|l| {
                        !l.timeline.pins.is_empty() || !l.timeline.unplaced.is_empty()
                    })
                };
                let with_errors = found
                    .iter()
                    .filter(|(_, t)| has_error(t) || has_events(t))
                    .count();
                found.retain(|(_, t)| !has_error(t) && !has_events(t));
                found.sort_by_key(|(d, t)| (*d, t.trace_id));
                found.truncate(BASELINES);
                let fetched = found
                    .into_iter()
                    .map(|(_, t)| (t.trace_id, d.source.clone(), Ok(t.clone())))
                    .collect();
                let asked = format!(
                    "{}: root `{}` `{}` within an hour of this trace, no error span or event",
                    d.source, q.service, q.name
                );
                (fetched, vec![asked], Vec::new(), with_errors)
            }
            Inner::Live(l) => {
                let search = l.backends.search_baselines(q, center_ns).await;
                let mut problems: Vec<String> =
                    search.failures.iter().map(ToString::to_string).collect();
                let mut asked = search.asked;
                let mut with_errors = search.with_errors;
                let mut candidates: Vec<(TraceId, Option<String>)> = search
                    .traces
                    .into_iter()
                    .filter(|(t, _)| *t != id)
                    .map(|(t, b)| (t, Some(b)))
                    .take(2 * BASELINES)
                    .collect();
                // A trace with a Sentry error is not healthy either, whatever its spans say.
                if let (Some(sentry), false) = (&l.sentry, candidates.is_empty()) {
                    let ids: Vec<TraceId> = candidates.iter().map(|(t, _)| *t).collect();
                    match sentry.traces_with_errors(&ids).await {
                        Ok(bad) => {
                            let before = candidates.len();
                            candidates.retain(|(t, _)| !bad.contains(t));
                            with_errors += before - candidates.len();
                            asked.push(format!(
                                "Sentry: errors of the {} candidate trace(s) (`trace:[…]`, `tags[otel.trace_id]:[…]`), {} left out",
                                before,
                                before - candidates.len()
                            ));
                        }
                        Err(e) => problems.push(format!(
                            "Sentry could not say which candidates had errors, so some baselines may have failed too: {e}"
                        )),
                    }
                }
                let hint = TimeHint {
                    around_ns: center_ns,
                };
                let fetched = self.fetch_all(candidates, Some(hint)).await;
                (fetched, asked, problems, with_errors)
            }
        }
    }

    /// Fetches candidates [`FETCH_AT_ONCE`] at a time, in order. With a hint (found by search) only
    /// error-free traces count and fetching stops at [`BASELINES`]; named traces are all fetched.
    async fn fetch_all(
        &self,
        candidates: Vec<(TraceId, Option<String>)>,
        hint: Option<TimeHint>,
    ) -> Vec<Fetched> {
        let searched = hint.is_some();
        let mut stream = futures::stream::iter(candidates)
            .map(|(t, backend)| async move {
                let r = self.fetch_trace(t, hint).await;
                match r {
                    Ok((name, trace)) => (t, backend.unwrap_or(name), Ok(trace)),
                    Err(e) => (t, backend.unwrap_or_default(), Err(e)),
                }
            })
            .buffered(FETCH_AT_ONCE);
        let mut out = Vec::new();
        let mut healthy = 0;
        while let Some((t, b, r)) = stream.next().await {
            let r = match r {
                Ok(trace) if searched && has_error(&trace) => Err("it has error spans".to_owned()),
                other => other,
            };
            if r.is_ok() {
                healthy += 1;
            }
            out.push((t, b, r));
            if searched && healthy >= BASELINES {
                break;
            }
        }
        out
    }

    /// One trace, assembled: from the demo data or the backends (their cache first).
    async fn fetch_trace(
        &self,
        id: TraceId,
        hint: Option<TimeHint>,
    ) -> Result<(String, Trace), String> {
        match &self.inner {
            Inner::Demo(d) => d
                .correlation
                .timelines
                .iter()
                .find(|t| t.trace.trace_id == id)
                .map(|t| (d.source.clone(), t.trace.clone()))
                .ok_or_else(|| format!("not in the {}", d.source)),
            Inner::Live(l) => {
                let fetched = l.backends.fetch(id, hint).await.map_err(|errors| {
                    errors
                        .first()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| "no trace backend is configured".to_owned())
                })?;
                let backend = fetched.backend.clone();
                let trace = tokio::task::spawn_blocking(move || {
                    crate::correlate::assemble::assemble(fetched.spans)
                        .into_iter()
                        .find(|t| t.trace_id == id)
                })
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("{backend} returned no span of it"))?;
                Ok((backend, trace))
            }
        }
    }
}
