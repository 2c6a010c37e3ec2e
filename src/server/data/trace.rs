//! Loading one trace: spans from the trace backends and errors from every event source at once,
//! correlated into one [`Loaded`] timeline, behind one single-flight cache.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::future::Cache;

use super::{DataError, Live, Loaded};
use crate::connectors::traces::{BackendKind, Caching, TimeHint};
use crate::correlate::{self, Timeline};
use crate::domain::{ErrorEvent, EventId, TraceId};
use crate::view::types::Notice;

/// How long a complete timeline is kept after it was loaded or last read: a reviewer working through
/// a large trace (each chunk of rows, span detail or filter is a read) is not made to wait for it to
/// be fetched and correlated again.
const FULL_TTL: Duration = Duration::from_secs(30);
/// However often it is read, a complete timeline is fetched anew this long after it was loaded, so a
/// trace that is still receiving spans does not stay stale.
const FULL_MAX_AGE: Duration = Duration::from_secs(300);
/// How long a degraded timeline (one side failed) is kept: long enough to absorb a burst of
/// requests, short enough that a recovered upstream shows at the next reload.
const DEGRADED_TTL: Duration = Duration::from_secs(3);

struct Expiry;

impl moka::Expiry<TraceId, Arc<Loaded>> for Expiry {
    fn expire_after_create(
        &self,
        _key: &TraceId,
        value: &Arc<Loaded>,
        _created_at: Instant,
    ) -> Option<Duration> {
        Some(if value.is_degraded() {
            DEGRADED_TTL
        } else {
            FULL_TTL
        })
    }

    fn expire_after_read(
        &self,
        _key: &TraceId,
        value: &Arc<Loaded>,
        read_at: Instant,
        duration_until_expiry: Option<Duration>,
        last_modified_at: Instant,
    ) -> Option<Duration> {
        if value.is_degraded() {
            return duration_until_expiry;
        }
        let age = read_at.saturating_duration_since(last_modified_at);
        Some(FULL_TTL.min(FULL_MAX_AGE.saturating_sub(age)))
    }
}

/// Loaded timelines by trace id. Concurrent loads of one trace share one upstream round
/// (`try_get_with` is single-flight); failures are shared with the callers waiting, never kept.
pub(super) struct LoadedCache {
    cache: Cache<TraceId, Arc<Loaded>>,
}

impl LoadedCache {
    /// A cache holding at most `max_bytes` of timelines (estimated by [`Loaded::approx_bytes`]).
    pub(super) fn new(max_bytes: u64) -> Self {
        Self {
            cache: Cache::builder()
                // Weighed in KiB, so a u32 weight covers timelines of up to 4 TiB.
                .weigher(|_k, v: &Arc<Loaded>| {
                    u32::try_from(v.approx_bytes() / 1024 + 1).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes / 1024)
                .expire_after(Expiry)
                .build(),
        }
    }

    /// Drops expired timelines now: moka does it only on later cache operations otherwise, so an
    /// idle server would hold a large trace long after its time.
    pub(super) async fn housekeep(&self) {
        self.cache.run_pending_tasks().await;
    }

    pub(super) async fn forget(&self, id: TraceId) {
        self.cache.invalidate(&id).await;
    }

    pub(super) async fn get(
        &self,
        id: TraceId,
        load: impl std::future::Future<Output = Result<Loaded, DataError>>,
    ) -> Result<Arc<Loaded>, DataError> {
        let filled = std::sync::atomic::AtomicBool::new(false);
        let result = self
            .cache
            .try_get_with(id, async {
                filled.store(true, std::sync::atomic::Ordering::Relaxed);
                load.await.map(Arc::new)
            })
            .await
            .map_err(|e: Arc<DataError>| (*e).clone());
        crate::connectors::telemetry::cache_lookup(
            "timelines",
            !filled.load(std::sync::atomic::Ordering::Relaxed),
        );
        result
    }
}

/// Fetches a trace and its errors, and correlates them.
///
/// Two rounds. First, at once: the spans from the trace backends, and from every event source the
/// events filed under the trace id (Sentry's `trace:<id>` and the `otel.trace_id` tag). Then, once
/// the spans are known: the events their keys link (event ids claimed by `sentry.event_id`
/// attributes, values of the correlation keys), leaving out those already found. Events are
/// de-duplicated by id across sources.
pub(super) async fn load(
    l: &Live,
    id: TraceId,
    hint: Option<TimeHint>,
) -> Result<Loaded, DataError> {
    let by_id = futures::future::join_all(
        l.event_sources
            .iter()
            .map(|s| async move { (s.name(), s.events_for_trace(id).await) }),
    );
    let started = Instant::now();
    // Around the backends' span caches: this timeline is what gets cached, and the spans move into it.
    let fetch = async {
        let r = l.backends.fetch_with(id, hint, Caching::Fresh).await;
        (r, started.elapsed())
    };
    let ((fetched, fetch_took), by_id) = tokio::join!(fetch, by_id);

    let mut notices = Vec::new();
    let mut events = Events::default();
    if let Some(p) = &l.sentry_problem {
        notices.push(degraded(format!(
            "Sentry unavailable: errors not shown ({p})."
        )));
    }
    for (name, side) in by_id {
        match side {
            Ok(found) => {
                events.add(name, found.events);
                notices.extend(found.notices.into_iter().map(degraded));
            }
            Err(e) => {
                tracing::warn!(trace_id = %id, source = name, error = %e, "event source failed for trace");
                notices.push(degraded(format!(
                    "{name} unavailable: errors not shown ({e})."
                )));
            }
        }
    }
    if let Ok(f) = &fetched {
        let keys = correlate::keys::trace_keys(&f.spans, &l.opts.correlation_tags);
        if !keys.is_empty() {
            let known = events.ids();
            let linked = futures::future::join_all(l.event_sources.iter().map(|s| {
                let (keys, known) = (&keys, &known);
                async move { (s.name(), s.events_for_keys(keys, known).await) }
            }))
            .await;
            for (name, side) in linked {
                match side {
                    Ok(found) => {
                        events.add(name, found.events);
                        notices.extend(found.notices.into_iter().map(degraded));
                    }
                    Err(e) => {
                        tracing::warn!(trace_id = %id, source = name, error = %e, "linked-error search failed");
                        notices.push(degraded(format!(
                            "{name}: errors linked by span attributes (sentry.event_id, correlation keys) not shown ({e})."
                        )));
                    }
                }
            }
        }
    }
    let (events, sources) = events.finish();
    let mut sources = sources;
    let fetched = match fetched {
        Ok(f) => f,
        Err(errors) => {
            let all_missing = errors.iter().all(|e| e.is_not_found());
            let detail: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let looked = if detail.is_empty() {
                "no trace backend is configured".to_owned()
            } else {
                detail.join(" ")
            };
            if !events.is_empty() {
                // The trace side failed but an event source knows errors of this trace: show them,
                // unplaced, with what the trace backends answered.
                tracing::warn!(trace_id = %id, errors = %looked, "trace unavailable, showing errors only");
                notices.push(degraded(format!(
                    "Trace unavailable: spans not shown ({looked}). The errors below are Sentry's."
                )));
                return Ok(errors_only(id, events, sources, notices));
            }
            return Err(if all_missing {
                DataError::NotFound(format!("Trace {id} was not found. Looked in: {looked}."))
            } else {
                tracing::warn!(trace_id = %id, errors = %looked, "trace backends failed");
                DataError::Upstream(format!("Trace {id} could not be loaded: {looked}."))
            });
        }
    };
    sources.insert(0, spans_source(fetched.kind, &fetched.backend));
    if let Some(p) = &fetched.partial {
        notices.push(Notice {
            kind: "partial".into(),
            text: format!("Partial trace from {}: {p}", fetched.backend),
        });
    }
    // Correlating a large trace is CPU work: off the runtime threads, so other requests (and
    // `/healthz`) keep being answered while it runs.
    let backend = fetched.backend;
    let opts = l.opts.clone();
    let spans = fetched.spans;
    let (span_count, event_count) = (spans.len(), events.len());
    let events_took = started.elapsed();
    let prepared = tokio::task::spawn_blocking(move || {
        let mut c = correlate::correlate(spans, events, &opts);
        let correlated = started.elapsed();
        let index = c.timelines.iter().position(|t| t.trace.trace_id == id)?;
        let mut timeline = c.timelines.swap_remove(index);
        // Events that belong to no loaded trace are this trace's unplaced errors here (e.g. a decoy id).
        timeline.unplaced.append(&mut c.unplaced);
        let loaded = Loaded::new(timeline, c.events.into(), sources, notices);
        loaded.prepare();
        Some((loaded, correlated))
    })
    .await
    .map_err(|e| DataError::Upstream(format!("Correlating trace {id} stopped: {e}")))?;
    let Some((loaded, correlated)) = prepared else {
        return Err(DataError::NotFound(format!(
            "Trace {id} was not found in what {backend} returned."
        )));
    };
    tracing::info!(
        trace_id = %id,
        spans = span_count,
        events = event_count,
        fetch_ms = ms(fetch_took),
        errors_ms = ms(events_took.saturating_sub(fetch_took)),
        correlate_ms = ms(correlated.saturating_sub(events_took)),
        rows_ms = ms(started.elapsed().saturating_sub(correlated)),
        "trace loaded"
    );
    Ok(loaded)
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A timeline without spans: every event of the trace listed as unplaced because the trace is missing.
fn errors_only(
    id: TraceId,
    events: Vec<ErrorEvent>,
    sources: Vec<String>,
    notices: Vec<Notice>,
) -> Loaded {
    let start = events.iter().map(|e| e.timestamp_ns).min().unwrap_or(0);
    let end = events.iter().map(|e| e.timestamp_ns).max().unwrap_or(start);
    let unplaced = events
        .iter()
        .enumerate()
        .map(|(i, e)| correlate::Unplaced {
            event: i,
            event_id: e.event_id,
            reason: correlate::UnplacedReason::TraceNotLoaded { trace_id: id },
        })
        .collect();
    Loaded::new(
        Timeline::without_spans(id, start, end, unplaced),
        events.into(),
        sources,
        notices,
    )
}

fn degraded(text: String) -> Notice {
    Notice {
        kind: "degraded".into(),
        text,
    }
}

/// Events gathered from the sources, de-duplicated by id, with a count per source.
#[derive(Default)]
struct Events {
    list: Vec<ErrorEvent>,
    ids: HashSet<EventId>,
    per_source: Vec<(&'static str, usize)>,
}

impl Events {
    fn add(&mut self, source: &'static str, found: Vec<ErrorEvent>) {
        let mut added = 0;
        for e in found {
            if let Some(id) = e.event_id {
                if !self.ids.insert(id) {
                    continue;
                }
            }
            self.list.push(e);
            added += 1;
        }
        match self.per_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, n)) => *n += added,
            None => self.per_source.push((source, added)),
        }
    }

    fn ids(&self) -> HashSet<EventId> {
        self.ids.clone()
    }

    /// The events and the "errors: …" source lines (files only when it had some).
    fn finish(self) -> (Vec<ErrorEvent>, Vec<String>) {
        let sources = self
            .per_source
            .iter()
            .filter(|(s, n)| *s != "files" || *n > 0)
            .map(|(s, n)| {
                if *s == "files" {
                    "errors: files".to_owned()
                } else {
                    format!("errors: {s} ({n} event(s))")
                }
            })
            .collect();
        (self.list, sources)
    }
}

/// Where the spans came from, as the page's "Sources" line says it: the kind and the configured
/// name ("spans: tempo production"), the name alone when it says the kind already (the files
/// backend is called "files") or for the local store.
fn spans_source(kind: BackendKind, backend: &str) -> String {
    if kind == BackendKind::Store || kind.as_str() == backend {
        format!("spans: {backend}")
    } else {
        format!("spans: {kind} {backend}")
    }
}

#[cfg(test)]
mod tests {
    use moka::Expiry as _;

    use super::*;

    #[test]
    fn the_sources_line_names_a_backend_once() {
        assert_eq!(
            spans_source(BackendKind::Tempo, "production"),
            "spans: tempo production"
        );
        assert_eq!(spans_source(BackendKind::Files, "files"), "spans: files");
        assert_eq!(
            spans_source(BackendKind::Store, "local store"),
            "spans: local store"
        );
    }

    fn loaded(notices: Vec<Notice>) -> Arc<Loaded> {
        let id = TraceId::from_bytes([7; 16]).expect("a trace id");
        Arc::new(Loaded::new(
            Timeline::without_spans(id, 0, 0, Vec::new()),
            Vec::new().into(),
            Vec::new(),
            notices,
        ))
    }

    #[test]
    fn a_timeline_is_kept_while_read_and_fetched_anew_after_its_max_age() {
        let id = TraceId::from_bytes([7; 16]).expect("a trace id");
        let full = loaded(Vec::new());
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(Expiry.expire_after_create(&id, &full, t0), Some(FULL_TTL));
        // Read 20 s after loading: 30 s more from now, not 10.
        assert_eq!(
            Expiry.expire_after_read(&id, &full, t0 + s(20), Some(s(10)), t0),
            Some(FULL_TTL)
        );
        // Read 290 s after loading: only what is left of the five minutes.
        assert_eq!(
            Expiry.expire_after_read(&id, &full, t0 + s(290), Some(s(25)), t0),
            Some(s(10))
        );
        assert_eq!(
            Expiry.expire_after_read(&id, &full, t0 + s(400), Some(s(25)), t0),
            Some(Duration::ZERO)
        );
        // A degraded timeline keeps its 3 s from loading, however often it is read.
        let degraded = loaded(vec![super::degraded("Sentry unavailable".to_owned())]);
        assert_eq!(
            Expiry.expire_after_create(&id, &degraded, t0),
            Some(DEGRADED_TTL)
        );
        assert_eq!(
            Expiry.expire_after_read(&id, &degraded, t0 + s(1), Some(s(2)), t0),
            Some(s(2))
        );
    }
}
