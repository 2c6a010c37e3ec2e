//! Reading the store: a small pool of read-only connections, each query run on `spawn_blocking`.
//!
//! The pool is a handful of connections behind a mutex and a semaphore rather than a pool crate:
//! three connections serve this machine's two cores, WAL lets them read while the writer commits, and
//! a connection lost to a panicking query is simply reopened.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{self, Resource, EVENT_ID_KEY};
use super::{ReadError, Store};
use crate::connectors::traces::{BackendKind, BaselineFound, BaselineQuery, TraceSummaryRow};
use crate::correlate::keys::TraceKeys;
use crate::domain::{ErrorEvent, EventId, Span, SpanId, TraceId};

use crate::connectors::traces::STORE_NAME as NAME;

pub(super) struct Pool {
    path: PathBuf,
    conns: Mutex<Vec<Connection>>,
    permits: tokio::sync::Semaphore,
}

impl Pool {
    pub(super) fn new(path: PathBuf, size: usize) -> Result<Pool, String> {
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size {
            conns.push(super::schema::open_reader(&path)?);
        }
        Ok(Pool {
            path,
            conns: Mutex::new(conns),
            permits: tokio::sync::Semaphore::new(size),
        })
    }

    fn take(&self) -> Option<Connection> {
        match self.conns.lock() {
            Ok(mut g) => g.pop(),
            Err(p) => p.into_inner().pop(),
        }
    }

    fn give(&self, c: Connection) {
        match self.conns.lock() {
            Ok(mut g) => g.push(c),
            Err(p) => p.into_inner().push(c),
        }
    }
}

/// A trace's size now, for "N new spans".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TraceGrowth {
    /// Spans stored.
    pub spans: u64,
    /// Events filed under the trace.
    pub events: u64,
}

/// Errors grouped as issues: by SDK fingerprint, else exception type and raising frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalIssue {
    /// The grouping key.
    pub group: String,
    /// Title of the latest event.
    pub title: String,
    /// Level of the latest event.
    pub level: String,
    /// Service of the latest event.
    pub service: Option<String>,
    /// Project (DSN project id or configured name).
    pub project: Option<String>,
    /// Events in the group.
    pub count: u64,
    /// Earliest event time, Unix ns.
    pub first_seen_ns: u64,
    /// Latest event time, Unix ns.
    pub last_seen_ns: u64,
    /// The latest event.
    pub latest_event: EventId,
    /// The trace of the latest event that the store has spans of, if any.
    pub trace: Option<TraceId>,
    /// Whether the SDK fingerprint grouped it.
    pub by_fingerprint: bool,
}

/// What the store holds, for `/readyz` and the home page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Traces.
    pub traces: u64,
    /// Spans.
    pub spans: u64,
    /// Events.
    pub events: u64,
    /// Bytes counted against the limit.
    pub bytes: u64,
    /// Traces evicted since start.
    pub evicted: u64,
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn err(e: impl std::fmt::Display) -> ReadError {
    ReadError(e.to_string())
}

impl Store {
    /// Runs `f` on a pooled read connection off the async workers.
    async fn read<T, F>(&self, f: F) -> Result<T, ReadError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = self.pool();
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| ReadError("the store is closed".into()))?;
        let conn = match pool.take() {
            Some(c) => c,
            None => super::schema::open_reader(&pool.path).map_err(ReadError)?,
        };
        let (conn, result) = tokio::task::spawn_blocking(move || {
            let r = f(&conn);
            (conn, r)
        })
        .await
        .map_err(|e| ReadError(format!("a read stopped: {e}")))?;
        pool.give(conn);
        result.map_err(err)
    }

    /// The spans of a trace (`None` when the store has none). Eviction leaves the trace alone while
    /// it is read.
    pub async fn fetch(&self, id: TraceId) -> Result<Option<Vec<Span>>, ReadError> {
        let guard = self.reading(id);
        let spans = self
            .read(move |c| {
                let mut q = c.prepare_cached(
                    "SELECT span_id, resource_id, data FROM spans WHERE trace_id = ?1",
                )?;
                let mut rows = q.query([id.as_bytes().as_slice()])?;
                let mut resources: HashMap<i64, Resource> = HashMap::new();
                let mut out = Vec::new();
                // Repeated names and attribute values are shared, as when decoding a payload.
                let _sharing = crate::connectors::formats::intern::sharing();
                while let Some(r) = rows.next()? {
                    let span_id: Vec<u8> = r.get(0)?;
                    let rid: i64 = r.get(1)?;
                    let data: Vec<u8> = r.get(2)?;
                    let Some(span_id) = SpanId::from_slice(&span_id) else {
                        continue;
                    };
                    let res = match resources.entry(rid) {
                        std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                        std::collections::hash_map::Entry::Vacant(v) => {
                            let body: String = c
                                .prepare_cached("SELECT body FROM resources WHERE id = ?1")?
                                .query_row([rid], |r| r.get(0))
                                .optional()?
                                .unwrap_or_default();
                            v.insert(codec::resource(&body))
                        }
                    };
                    match codec::span(id, span_id, res, &data) {
                        Ok(s) => out.push(s),
                        Err(e) => tracing::warn!(trace_id = %id, span_id = %span_id, error = %e, "unreadable stored span skipped"),
                    }
                }
                Ok(out)
            })
            .await?;
        drop(guard);
        Ok((!spans.is_empty()).then_some(spans))
    }

    /// How many spans and events a trace has now.
    pub async fn growth(&self, id: TraceId) -> Result<TraceGrowth, ReadError> {
        self.read(move |c| {
            c.query_row(
                "SELECT span_count, event_count FROM traces WHERE trace_id = ?1",
                [id.as_bytes().as_slice()],
                |r| {
                    Ok(TraceGrowth {
                        spans: to_u64(r.get(0)?),
                        events: to_u64(r.get(1)?),
                    })
                },
            )
            .optional()
            .map(Option::unwrap_or_default)
        })
        .await
    }

    /// Traces with an error span or an error event, most recently written first.
    pub async fn search_errors(&self, limit: usize) -> Result<Vec<TraceSummaryRow>, ReadError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT trace_id, root_service, root_name, start_ns, end_ns, span_count, error_spans,
                        event_count
                 FROM traces WHERE span_count > 0 AND (error_spans > 0 OR event_count > 0)
                 ORDER BY received_last DESC LIMIT ?1",
            )?;
            let rows = q.query_map([limit], |r| {
                let id: Vec<u8> = r.get(0)?;
                let start = to_u64(r.get(3)?);
                let end = to_u64(r.get(4)?);
                let spans = usize::try_from(to_u64(r.get(5)?)).unwrap_or(0);
                let errors = usize::try_from(to_u64(r.get(6)?)).unwrap_or(0);
                Ok(TraceId::from_slice(&id).map(|trace_id| TraceSummaryRow {
                    backend: NAME.to_owned(),
                    kind: BackendKind::Store,
                    trace_id,
                    root_service: r.get(1).ok().flatten(),
                    root_name: r.get(2).ok().flatten(),
                    start_ns: start,
                    duration_ms: Some(end.saturating_sub(start) / 1_000_000),
                    span_count: Some(spans),
                    error_span_count: Some(errors),
                }))
            })?;
            Ok(rows.filter_map(Result::ok).flatten().collect())
        })
        .await
    }

    /// Healthy traces of one root (compare mode): same root service and name, started in the window,
    /// no error span and no error event; nearest the window's middle first, at most `limit`.
    pub async fn search_baselines(&self, q: &BaselineQuery) -> Result<BaselineFound, ReadError> {
        let q = q.clone();
        let asked = format!(
            "root `{}` `{}`, {} to {}, no error span or event",
            q.service,
            q.name,
            crate::connectors::traces::unix_rfc3339(q.from_ns / 1_000_000_000),
            crate::connectors::traces::unix_rfc3339(q.to_ns.div_ceil(1_000_000_000))
        );
        self.read(move |c| {
            let from = i64::try_from(q.from_ns).unwrap_or(i64::MAX);
            let to = i64::try_from(q.to_ns).unwrap_or(i64::MAX);
            let mid = from / 2 + to / 2;
            let limit = i64::try_from(q.limit.max(1)).unwrap_or(i64::MAX);
            let with_errors: i64 = c.query_row(
                "SELECT count(*) FROM traces WHERE root_service = ?1 AND root_name = ?2
                   AND start_ns BETWEEN ?3 AND ?4 AND (error_spans > 0 OR event_count > 0)",
                params![q.service, q.name, from, to],
                |r| r.get(0),
            )?;
            let mut stmt = c.prepare_cached(
                "SELECT trace_id, start_ns FROM traces WHERE root_service = ?1 AND root_name = ?2
                   AND start_ns BETWEEN ?3 AND ?4 AND span_count > 0 AND error_spans = 0
                   AND event_count = 0
                 ORDER BY abs(start_ns - ?5), trace_id LIMIT ?6",
            )?;
            let traces = stmt
                .query_map(params![q.service, q.name, from, to, mid, limit], |r| {
                    let id: Vec<u8> = r.get(0)?;
                    let start: i64 = r.get(1)?;
                    Ok(TraceId::from_slice(&id).map(|t| (t, to_u64(start))))
                })?
                .filter_map(Result::ok)
                .flatten()
                .collect();
            Ok(BaselineFound {
                traces,
                with_errors: usize::try_from(with_errors).unwrap_or(0),
                asked,
            })
        })
        .await
    }

    /// Traces whose spans carry `key` = `value` (a correlation key, or `sentry.event_id`).
    pub async fn traces_with_attribute(
        &self,
        key: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<TraceId>, ReadError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |c| traces_with(c, &key, &value, limit))
            .await
    }

    /// Every event that names trace `id`.
    pub async fn events_for_trace(&self, id: TraceId) -> Result<Vec<ErrorEvent>, ReadError> {
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT e.data FROM event_traces t JOIN events e ON e.event_id = t.event_id
                 WHERE t.trace_id = ?1 ORDER BY e.timestamp_ns",
            )?;
            let rows = q.query_map([id.as_bytes().as_slice()], |r| r.get::<_, Vec<u8>>(0))?;
            Ok(decode_events(rows))
        })
        .await
    }

    /// The events a trace's keys link to it: the event ids its spans claim and the events whose
    /// tags carry the correlation values its spans carry; `known` ones left out.
    pub async fn events_with_keys(
        &self,
        keys: &TraceKeys,
        known: &std::collections::HashSet<EventId>,
    ) -> Result<Vec<ErrorEvent>, ReadError> {
        let keys = keys.clone();
        let known = known.clone();
        self.read(move |c| {
            let mut ids: Vec<EventId> = keys.event_ids.iter().copied().collect();
            let mut by_tag = c.prepare_cached(
                "SELECT event_id FROM event_tags WHERE key = ?1 AND value = ?2 LIMIT 1000",
            )?;
            for (k, values) in &keys.tags {
                for v in values {
                    let rows = by_tag.query_map(params![k, v], |r| r.get::<_, Vec<u8>>(0))?;
                    ids.extend(
                        rows.filter_map(Result::ok)
                            .filter_map(|b| EventId::from_slice(&b)),
                    );
                }
            }
            ids.sort();
            ids.dedup();
            let mut one = c.prepare_cached("SELECT data FROM events WHERE event_id = ?1")?;
            let mut out = Vec::new();
            for id in ids.into_iter().filter(|id| !known.contains(id)) {
                let data: Option<Vec<u8>> = one
                    .query_row([id.as_bytes().as_slice()], |r| r.get(0))
                    .optional()?;
                if let Some(e) = data.and_then(|d| codec::event(&d).ok()) {
                    out.push(e);
                }
            }
            Ok(out)
        })
        .await
    }

    /// One event by id, with the trace it belongs to here: a trace whose span claims it, else the
    /// trace it is filed under.
    pub async fn event(
        &self,
        id: EventId,
    ) -> Result<Option<(ErrorEvent, Option<TraceId>)>, ReadError> {
        self.read(move |c| {
            let row: Option<(Vec<u8>, Option<Vec<u8>>)> = c
                .prepare_cached("SELECT data, trace_id FROM events WHERE event_id = ?1")?
                .query_row([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((data, home)) = row else {
                return Ok(None);
            };
            let Ok(event) = codec::event(&data) else {
                return Ok(None);
            };
            let claimed = traces_with(c, EVENT_ID_KEY, &id.to_string(), 1)?;
            let trace = claimed
                .first()
                .copied()
                .or_else(|| home.and_then(|h| TraceId::from_slice(&h)));
            Ok(Some((event, trace)))
        })
        .await
    }

    /// Issues: events grouped, most recently seen first, with the trace of each latest event.
    pub async fn issues(&self, limit: usize) -> Result<Vec<LocalIssue>, ReadError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let keys = self.correlation_keys().to_vec();
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT group_key, COUNT(*), MIN(timestamp_ns), MAX(timestamp_ns) FROM events
                 GROUP BY group_key ORDER BY MAX(timestamp_ns) DESC LIMIT ?1",
            )?;
            let groups: Vec<(String, i64, i64, i64)> = q
                .query_map([limit], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })?
                .collect::<Result<_, _>>()?;
            let mut latest = c.prepare_cached(
                "SELECT event_id, trace_id, title, level, service, project FROM events
                 WHERE group_key = ?1 ORDER BY timestamp_ns DESC LIMIT 1",
            )?;
            let mut out = Vec::new();
            for (group, count, first, last) in groups {
                let row: Option<LatestRow> = latest
                    .query_row([&group], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    })
                    .optional()?;
                let Some((eid, home, title, level, service, project)) = row else {
                    continue;
                };
                let Some(latest_event) = EventId::from_slice(&eid) else {
                    continue;
                };
                let trace = trace_of_event(c, latest_event, home.as_deref(), &keys)?;
                out.push(LocalIssue {
                    by_fingerprint: group.contains("\u{1f}fingerprint\u{1f}"),
                    group,
                    title,
                    level,
                    service,
                    project,
                    count: to_u64(count),
                    first_seen_ns: to_u64(first),
                    last_seen_ns: to_u64(last),
                    latest_event,
                    trace,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Counts for `/readyz` and the home page.
    pub async fn stats(&self) -> Result<StoreStats, ReadError> {
        let (bytes, evicted) = self.usage();
        self.read(move |c| {
            let (traces, spans): (i64, i64) = c.query_row(
                "SELECT COUNT(*), COALESCE(SUM(span_count), 0) FROM traces WHERE span_count > 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let events: i64 = c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))?;
            Ok(StoreStats {
                traces: to_u64(traces),
                spans: to_u64(spans),
                events: to_u64(events),
                bytes,
                evicted,
            })
        })
        .await
    }
}

/// Latest event of a group: id, home trace, title, level, service, project.
type LatestRow = (
    Vec<u8>,
    Option<Vec<u8>>,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn traces_with(
    c: &Connection,
    key: &str,
    value: &str,
    limit: i64,
) -> rusqlite::Result<Vec<TraceId>> {
    let mut q = c.prepare_cached(
        "SELECT k.trace_id FROM span_keys k LEFT JOIN traces t ON t.trace_id = k.trace_id
         WHERE k.key = ?1 AND k.value = ?2 ORDER BY t.received_last DESC LIMIT ?3",
    )?;
    let rows = q.query_map(params![key, value, limit], |r| r.get::<_, Vec<u8>>(0))?;
    Ok(rows
        .filter_map(Result::ok)
        .filter_map(|b| TraceId::from_slice(&b))
        .collect())
}

/// The trace the store has spans of for an event: one whose span claims the event, its home trace,
/// or one whose spans carry one of its correlation tag values.
fn trace_of_event(
    c: &Connection,
    id: EventId,
    home: Option<&[u8]>,
    keys: &[String],
) -> rusqlite::Result<Option<TraceId>> {
    if let Some(t) = traces_with(c, EVENT_ID_KEY, &id.to_string(), 1)?.first() {
        return Ok(Some(*t));
    }
    let has_spans = |t: &[u8]| -> rusqlite::Result<bool> {
        Ok(
            c.prepare_cached("SELECT span_count FROM traces WHERE trace_id = ?1")?
                .query_row([t], |r| r.get::<_, i64>(0))
                .optional()?
                .is_some_and(|n| n > 0),
        )
    };
    if let Some(h) = home {
        if has_spans(h)? {
            return Ok(TraceId::from_slice(h));
        }
    }
    let mut named = c.prepare_cached("SELECT trace_id FROM event_traces WHERE event_id = ?1")?;
    let others: Vec<Vec<u8>> = named
        .query_map([id.as_bytes().as_slice()], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for t in others {
        if has_spans(&t)? {
            return Ok(TraceId::from_slice(&t));
        }
    }
    let mut tags = c.prepare_cached("SELECT key, value FROM event_tags WHERE event_id = ?1")?;
    let pairs: Vec<(String, String)> = tags
        .query_map([id.as_bytes().as_slice()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (k, v) in pairs {
        if keys.contains(&k) {
            if let Some(t) = traces_with(c, &k, &v, 1)?.first() {
                return Ok(Some(*t));
            }
        }
    }
    Ok(None)
}

fn decode_events(rows: impl Iterator<Item = rusqlite::Result<Vec<u8>>>) -> Vec<ErrorEvent> {
    rows.filter_map(Result::ok)
        .filter_map(|d| codec::event(&d).ok())
        .collect()
}
