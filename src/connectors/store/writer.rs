//! The one writer: a thread that owns the store's read-write connection, takes write jobs from a
//! channel and commits as many as are waiting in one transaction (group commit), then answers each
//! job. Retention runs here too, between transactions, so eviction never races a write.
//!
//! Writes are idempotent: a span is keyed by (trace id, span id) and an event by its id, so a batch
//! delivered twice stores each once. A span first seen in a Sentry transaction is replaced when the
//! same span arrives over OTLP (OTLP is the richer source); otherwise the first copy stays. Per-trace
//! counts and byte totals change by what a transaction actually added.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::codec;
use super::{now_ns, Job, Shared, SpanSource, WriteBatch, WriteReport};
use crate::domain::{ErrorEvent, TraceId};

/// Rows counted in the byte total cost this much beyond their payload (keys, index entries).
pub(super) const ROW_OVERHEAD: i64 = 96;

/// The most jobs one transaction takes.
const MAX_JOBS_PER_TX: usize = 256;

/// How often age-based retention runs.
const AGE_SWEEP: Duration = Duration::from_secs(10);

#[derive(Default)]
struct TraceDelta {
    spans: i64,
    errors: i64,
    events: i64,
    bytes: i64,
    start: Option<u64>,
    end: u64,
    root: Option<(String, String)>,
}

pub(super) struct Writer {
    conn: Connection,
    shared: Arc<Shared>,
    keys: Vec<String>,
    resources: HashMap<String, i64>,
    last_sweep: Instant,
}

impl Writer {
    pub(super) fn new(conn: Connection, shared: Arc<Shared>, keys: Vec<String>) -> Self {
        Writer {
            conn,
            shared,
            keys,
            resources: HashMap::new(),
            last_sweep: Instant::now(),
        }
    }

    /// The byte total of what is stored, from the rows.
    pub(super) fn count_bytes(conn: &Connection) -> rusqlite::Result<i64> {
        let traces: i64 =
            conn.query_row("SELECT COALESCE(SUM(bytes), 0) FROM traces", [], |r| {
                r.get(0)
            })?;
        let loose: i64 = conn.query_row(
            "SELECT COALESCE(SUM(bytes), 0) FROM events WHERE trace_id IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(traces + loose)
    }

    /// Runs until every sender is gone.
    pub(super) fn run(mut self, rx: Receiver<Job>) {
        loop {
            let first = match rx.recv_timeout(AGE_SWEEP) {
                Ok(job) => job,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    self.retention();
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_JOBS_PER_TX {
                match rx.try_recv() {
                    Ok(j) => jobs.push(j),
                    Err(_) => break,
                }
            }
            self.handle(jobs);
            self.retention();
        }
        // Checkpoint so the WAL is folded into the database file on a clean stop.
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    fn handle(&mut self, jobs: Vec<Job>) {
        let mut writes = Vec::new();
        for job in jobs {
            match job {
                Job::Write(batch, reply) => writes.push((batch, reply)),
                Job::Sweep(reply) => {
                    self.retention_now();
                    let _ = reply.send(());
                }
            }
        }
        if writes.is_empty() {
            return;
        }
        let items: usize = writes.iter().map(|(b, _)| b.items()).sum();
        let result = self.write_all(writes.iter().map(|(b, _)| b));
        self.shared.queued.fetch_sub(items, Ordering::SeqCst);
        match result {
            Ok(reports) => {
                self.shared.generation.fetch_add(1, Ordering::SeqCst);
                for ((_, reply), report) in writes.into_iter().zip(reports) {
                    let _ = reply.send(Ok(report));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store write failed");
                // The cache may name rows the rolled-back transaction created.
                self.resources.clear();
                for (_, reply) in writes {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    fn write_all<'a>(
        &mut self,
        batches: impl Iterator<Item = &'a WriteBatch>,
    ) -> Result<Vec<WriteReport>, String> {
        let keys = self.keys.clone();
        let tx = self.conn.transaction().map_err(|e| e.to_string())?;
        let mut deltas: HashMap<TraceId, TraceDelta> = HashMap::new();
        let mut loose_bytes = 0i64;
        let mut reports = Vec::new();
        let now = now_ns();
        for b in batches {
            let mut report = WriteReport::default();
            write_spans(&tx, &mut self.resources, &keys, b, &mut deltas, &mut report)
                .map_err(|e| e.to_string())?;
            for e in &b.events {
                if write_event(&tx, e, now, &mut deltas, &mut loose_bytes)
                    .map_err(|e| e.to_string())?
                {
                    report.events_new += 1;
                } else {
                    report.events_existing += 1;
                }
            }
            reports.push(report);
        }
        let mut added = loose_bytes;
        for (id, d) in &deltas {
            upsert_trace(&tx, *id, d, now).map_err(|e| e.to_string())?;
            added += d.bytes;
        }
        tx.commit().map_err(|e| e.to_string())?;
        self.shared.bytes.fetch_add(added, Ordering::SeqCst);
        Ok(reports)
    }

    /// Age retention at most every few seconds; byte retention whenever over the limit.
    fn retention(&mut self) {
        let over = self.shared.bytes.load(Ordering::SeqCst) > self.shared.limits.max_bytes_i64();
        if over || self.last_sweep.elapsed() >= AGE_SWEEP {
            self.retention_now();
        }
    }

    fn retention_now(&mut self) {
        self.last_sweep = Instant::now();
        if let Err(e) = self.evict() {
            tracing::warn!(error = %e, "store retention failed; will retry");
        }
    }

    fn evict(&mut self) -> rusqlite::Result<()> {
        let limits = self.shared.limits;
        let cutoff =
            now_ns().saturating_sub(u64::try_from(limits.max_age.as_nanos()).unwrap_or(u64::MAX));
        let cutoff = i64::try_from(cutoff).unwrap_or(i64::MAX);
        let mut evicted_traces = 0usize;
        // By age: traces and traceless events that received nothing since the cutoff.
        loop {
            let old: Vec<Vec<u8>> = {
                let mut q = self.conn.prepare_cached(
                    "SELECT trace_id FROM traces WHERE received_last < ?1 ORDER BY received_last LIMIT 256",
                )?;
                let rows = q.query_map([cutoff], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let n = self.evict_traces(&old)?;
            evicted_traces += n;
            if old.len() < 256 || n == 0 {
                break;
            }
        }
        let freed: i64 = {
            let tx = self.conn.transaction()?;
            let freed: i64 = tx.query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM events WHERE trace_id IS NULL AND received_ns < ?1",
                [cutoff],
                |r| r.get(0),
            )?;
            delete_loose_events(&tx, "received_ns < ?1", cutoff)?;
            tx.commit()?;
            freed
        };
        self.shared.bytes.fetch_sub(freed, Ordering::SeqCst);
        // By bytes: whole traces, least recently written first, never one being read.
        let max = limits.max_bytes_i64();
        let mut skipped: HashSet<Vec<u8>> = HashSet::new();
        while self.shared.bytes.load(Ordering::SeqCst) > max {
            let batch: Vec<Vec<u8>> = {
                let mut q = self.conn.prepare_cached(
                    "SELECT trace_id FROM traces ORDER BY received_last LIMIT ?1",
                )?;
                let limit = i64::try_from(skipped.len() + 64).unwrap_or(i64::MAX);
                let rows = q.query_map([limit], |r| r.get(0))?;
                rows.collect::<Result<Vec<Vec<u8>>, _>>()?
                    .into_iter()
                    .filter(|id| !skipped.contains(id))
                    .collect()
            };
            if batch.is_empty() {
                // No trace left to evict: the oldest traceless events go.
                let tx = self.conn.transaction()?;
                let oldest: Option<i64> = tx
                    .query_row(
                        "SELECT received_ns FROM events WHERE trace_id IS NULL ORDER BY received_ns LIMIT 1 OFFSET 63",
                        [],
                        |r| r.get(0),
                    )
                    .optional()?;
                let bound = oldest.unwrap_or(i64::MAX);
                let freed: i64 = tx.query_row(
                    "SELECT COALESCE(SUM(bytes), 0) FROM events WHERE trace_id IS NULL AND received_ns <= ?1",
                    [bound],
                    |r| r.get(0),
                )?;
                delete_loose_events(&tx, "received_ns <= ?1", bound)?;
                tx.commit()?;
                self.shared.bytes.fetch_sub(freed, Ordering::SeqCst);
                if freed == 0 {
                    break;
                }
                continue;
            }
            let mut progressed = false;
            for id in batch {
                if self.shared.bytes.load(Ordering::SeqCst) <= max {
                    break;
                }
                if self.evict_traces(std::slice::from_ref(&id))? == 0 {
                    skipped.insert(id);
                } else {
                    progressed = true;
                    evicted_traces += 1;
                }
            }
            if !progressed && skipped.len() > 10_000 {
                break;
            }
        }
        if evicted_traces > 0 {
            self.shared.generation.fetch_add(1, Ordering::SeqCst);
            self.shared
                .evicted
                .fetch_add(evicted_traces as u64, Ordering::SeqCst);
            tracing::info!(traces = evicted_traces, "store retention evicted traces");
        }
        Ok(())
    }

    /// Deletes whole traces (spans, link keys, the events filed under them), skipping any trace
    /// being read; returns how many were deleted.
    fn evict_traces(&mut self, ids: &[Vec<u8>]) -> rusqlite::Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let reading = self.shared.reading_now();
        let tx = self.conn.transaction()?;
        let mut freed = 0i64;
        let mut n = 0;
        for raw in ids {
            let Some(id) = TraceId::from_slice(raw) else {
                continue;
            };
            if reading.contains(&id) {
                continue;
            }
            let bytes: i64 = tx
                .query_row("SELECT bytes FROM traces WHERE trace_id = ?1", [raw], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            tx.execute("DELETE FROM spans WHERE trace_id = ?1", [raw])?;
            tx.execute("DELETE FROM span_keys WHERE trace_id = ?1", [raw])?;
            tx.execute(
                "DELETE FROM event_tags WHERE event_id IN (SELECT event_id FROM events WHERE trace_id = ?1)",
                [raw],
            )?;
            tx.execute(
                "DELETE FROM event_traces WHERE event_id IN (SELECT event_id FROM events WHERE trace_id = ?1)",
                [raw],
            )?;
            tx.execute("DELETE FROM events WHERE trace_id = ?1", [raw])?;
            tx.execute("DELETE FROM traces WHERE trace_id = ?1", [raw])?;
            freed += bytes;
            n += 1;
        }
        tx.commit()?;
        self.shared.bytes.fetch_sub(freed, Ordering::SeqCst);
        Ok(n)
    }
}

fn delete_loose_events(tx: &Transaction<'_>, cond: &str, bound: i64) -> rusqlite::Result<()> {
    let ids = format!("SELECT event_id FROM events WHERE trace_id IS NULL AND {cond}");
    tx.execute(
        &format!("DELETE FROM event_tags WHERE event_id IN ({ids})"),
        [bound],
    )?;
    tx.execute(
        &format!("DELETE FROM event_traces WHERE event_id IN ({ids})"),
        [bound],
    )?;
    tx.execute(
        &format!("DELETE FROM events WHERE trace_id IS NULL AND {cond}"),
        [bound],
    )?;
    Ok(())
}

fn ns(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn write_spans(
    tx: &Transaction<'_>,
    resources: &mut HashMap<String, i64>,
    keys: &[String],
    b: &WriteBatch,
    deltas: &mut HashMap<TraceId, TraceDelta>,
    report: &mut WriteReport,
) -> rusqlite::Result<()> {
    if b.spans.is_empty() {
        return Ok(());
    }
    if resources.len() > 10_000 {
        resources.clear();
    }
    let source = b.source as i64;
    let mut insert = tx.prepare_cached(
        "INSERT INTO spans(trace_id, span_id, source, resource_id, start_ns, is_error, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(trace_id, span_id) DO NOTHING",
    )?;
    let mut link = tx.prepare_cached(
        "INSERT OR IGNORE INTO span_keys(key, value, trace_id) VALUES (?1, ?2, ?3)",
    )?;
    let mut last_resource: Option<(*const [crate::domain::KeyValue], Arc<str>, i64)> = None;
    let mut span_links = Vec::new();
    let mut seen_links: HashSet<(TraceId, String, String)> = HashSet::new();
    for s in &b.spans {
        // Spans of one resource share its attribute list: look it up once per run of them.
        let ptr: *const [crate::domain::KeyValue] = Arc::as_ptr(&s.resource);
        let resource_id = match &last_resource {
            Some((p, svc, id)) if std::ptr::eq(*p, ptr) && *svc == s.service => *id,
            _ => {
                let id = resource_id(tx, resources, s)?;
                last_resource = Some((ptr, Arc::clone(&s.service), id));
                id
            }
        };
        let data = codec::span_data(s);
        let len = i64::try_from(data.len()).unwrap_or(i64::MAX);
        let added = insert.execute(params![
            s.trace_id.as_bytes().as_slice(),
            s.span_id.as_bytes().as_slice(),
            source,
            resource_id,
            ns(s.start_ns),
            s.is_error(),
            data
        ])?;
        let d = deltas.entry(s.trace_id).or_default();
        if added == 1 {
            report.spans_new += 1;
            d.spans += 1;
            d.errors += i64::from(s.is_error());
            d.bytes += len + ROW_OVERHEAD;
        } else {
            report.spans_existing += 1;
            if b.source == SpanSource::Otlp {
                replace_weaker(tx, s, resource_id, &data, d)?;
            }
        }
        if s.start_ns > 0 {
            d.start = Some(d.start.map_or(s.start_ns, |x| x.min(s.start_ns)));
        }
        d.end = d.end.max(s.end_ns);
        if s.parent_span_id.is_none() {
            d.root = Some((s.service.to_string(), s.name.to_string()));
        }
        span_links.clear();
        codec::span_keys(s, keys, &mut span_links);
        for (k, v) in span_links.drain(..) {
            if seen_links.insert((s.trace_id, k.clone(), v.clone())) {
                link.execute(params![k, v, s.trace_id.as_bytes().as_slice()])?;
            }
        }
    }
    Ok(())
}

/// Replaces a span stored from a weaker source (a Sentry transaction) by its OTLP copy.
fn replace_weaker(
    tx: &Transaction<'_>,
    s: &crate::domain::Span,
    resource_id: i64,
    data: &[u8],
    d: &mut TraceDelta,
) -> rusqlite::Result<()> {
    let old: Option<(i64, i64, bool)> = tx
        .query_row(
            "SELECT source, length(data), is_error FROM spans WHERE trace_id = ?1 AND span_id = ?2",
            params![
                s.trace_id.as_bytes().as_slice(),
                s.span_id.as_bytes().as_slice()
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((old_source, old_len, old_error)) = old else {
        return Ok(());
    };
    if old_source >= SpanSource::Otlp as i64 {
        return Ok(());
    }
    tx.execute(
        "UPDATE spans SET source = ?3, resource_id = ?4, start_ns = ?5, is_error = ?6, data = ?7
         WHERE trace_id = ?1 AND span_id = ?2",
        params![
            s.trace_id.as_bytes().as_slice(),
            s.span_id.as_bytes().as_slice(),
            SpanSource::Otlp as i64,
            resource_id,
            ns(s.start_ns),
            s.is_error(),
            data
        ],
    )?;
    d.bytes += i64::try_from(data.len()).unwrap_or(0) - old_len;
    d.errors += i64::from(s.is_error()) - i64::from(old_error);
    Ok(())
}

fn resource_id(
    tx: &Transaction<'_>,
    cache: &mut HashMap<String, i64>,
    s: &crate::domain::Span,
) -> rusqlite::Result<i64> {
    let body = codec::resource_body(s);
    if let Some(id) = cache.get(&body) {
        return Ok(*id);
    }
    tx.prepare_cached("INSERT OR IGNORE INTO resources(body) VALUES (?1)")?
        .execute([&body])?;
    let id: i64 = tx
        .prepare_cached("SELECT id FROM resources WHERE body = ?1")?
        .query_row([&body], |r| r.get(0))?;
    cache.insert(body, id);
    Ok(id)
}

/// Writes one event; false when an event with its id is already stored.
fn write_event(
    tx: &Transaction<'_>,
    e: &ErrorEvent,
    now: u64,
    deltas: &mut HashMap<TraceId, TraceDelta>,
    loose_bytes: &mut i64,
) -> rusqlite::Result<bool> {
    let mut e = e.clone();
    let id = *e.event_id.get_or_insert_with(codec::new_event_id);
    let home = codec::home_trace(&e);
    let data = codec::event_data(&e);
    let bytes = i64::try_from(data.len()).unwrap_or(i64::MAX) + ROW_OVERHEAD;
    let service = crate::correlate::event::event_service(&e, |_| true).map(|(s, _)| s);
    let added = tx
        .prepare_cached(
            "INSERT INTO events(event_id, trace_id, received_ns, timestamp_ns, group_key, title, level,
                                service, project, bytes, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(event_id) DO NOTHING",
        )?
        .execute(params![
            id.as_bytes().as_slice(),
            home.map(|t| t.as_bytes().to_vec()),
            ns(now),
            ns(if e.timestamp_ns > 0 { e.timestamp_ns } else { now }),
            codec::group_key(&e),
            e.title,
            e.level,
            service,
            e.project,
            bytes,
            data
        ])?;
    if added == 0 {
        return Ok(false);
    }
    let mut link = tx
        .prepare_cached("INSERT OR IGNORE INTO event_traces(trace_id, event_id) VALUES (?1, ?2)")?;
    for t in codec::named_traces(&e) {
        link.execute(params![t.as_bytes().as_slice(), id.as_bytes().as_slice()])?;
    }
    let mut tag = tx.prepare_cached(
        "INSERT OR IGNORE INTO event_tags(key, value, event_id) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in &e.tags {
        tag.execute(params![k, v, id.as_bytes().as_slice()])?;
    }
    match home {
        Some(t) => {
            let d = deltas.entry(t).or_default();
            d.events += 1;
            d.bytes += bytes;
            if e.timestamp_ns > 0 {
                d.start = Some(d.start.map_or(e.timestamp_ns, |x| x.min(e.timestamp_ns)));
                d.end = d.end.max(e.timestamp_ns);
            }
        }
        None => *loose_bytes += bytes,
    }
    Ok(true)
}

fn upsert_trace(
    tx: &Transaction<'_>,
    id: TraceId,
    d: &TraceDelta,
    now: u64,
) -> rusqlite::Result<()> {
    let (root_service, root_name) = match &d.root {
        Some((s, n)) => (Some(s.as_str()), Some(n.as_str())),
        None => (None, None),
    };
    tx.prepare_cached(
        "INSERT INTO traces(trace_id, received_first, received_last, start_ns, end_ns, span_count,
                            error_spans, event_count, root_service, root_name, bytes)
         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(trace_id) DO UPDATE SET
           received_last = excluded.received_last,
           start_ns = CASE WHEN traces.start_ns = 0 THEN excluded.start_ns
                           WHEN excluded.start_ns = 0 THEN traces.start_ns
                           ELSE MIN(traces.start_ns, excluded.start_ns) END,
           end_ns = MAX(traces.end_ns, excluded.end_ns),
           span_count = traces.span_count + excluded.span_count,
           error_spans = traces.error_spans + excluded.error_spans,
           event_count = traces.event_count + excluded.event_count,
           root_service = COALESCE(excluded.root_service, traces.root_service),
           root_name = COALESCE(excluded.root_name, traces.root_name),
           bytes = traces.bytes + excluded.bytes",
    )?
    .execute(params![
        id.as_bytes().as_slice(),
        ns(now),
        ns(d.start.unwrap_or(0)),
        ns(d.end),
        d.spans,
        d.errors,
        d.events,
        root_service,
        root_name,
        d.bytes
    ])?;
    Ok(())
}
