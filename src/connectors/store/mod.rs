//! The local store: spans and Sentry events that tracepin received itself, in an embedded SQLite
//! database, served as one more trace backend and event source.
//!
//! Shape: one writer thread owns the read-write connection and commits every write job waiting in
//! its channel in one transaction (group commit), answering each job once its transaction is durable;
//! a small pool of read-only connections serves the pages. All SQLite work runs off the async
//! workers: on the writer thread, or on `spawn_blocking` for reads. The channel is bounded by the
//! number of spans and events queued: when the writer is behind, [`Store::write`] refuses at once
//! with [`WriteError::Busy`] (ingest answers 429 with `Retry-After`) rather than buffering without
//! limit. Retention (by age and by bytes, whole traces, least recently written first, never a trace
//! being read) runs on the writer thread between transactions; WAL checkpoints run on a thread of
//! their own.
//!
//! Owns: the schema (`schema`), row encodings and write-time keys (`codec`), the writer (`writer`),
//! the queries (`read`). Knows nothing of HTTP or of how ingest authenticates.

mod codec;
mod read;
mod schema;
mod writer;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::domain::{ErrorEvent, Span, TraceId};

pub use read::{LocalIssue, StoreStats, TraceGrowth};

/// The database file inside the data directory.
pub const FILE_NAME: &str = "tracepin.sqlite3";

/// `[store]`: where received data is kept and for how long.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct StoreConfig {
    /// The data directory (created when missing); the database is `tracepin.sqlite3` inside it.
    pub path: Option<PathBuf>,
    /// Keep data this many hours after it last received anything (default 168, a week).
    pub max_age_hours: Option<u64>,
    /// Keep at most this many megabytes of spans and events (default 1024).
    pub max_mb: Option<u64>,
    /// Spans and events that may wait for the writer before ingest answers 429 (default 200000).
    pub queue_items: Option<usize>,
}

/// Retention limits in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Data older than this (since its trace last received anything) is evicted.
    pub max_age: Duration,
    /// Total stored bytes above which the least recently written traces are evicted.
    pub max_bytes: u64,
}

impl Limits {
    fn max_bytes_i64(self) -> i64 {
        i64::try_from(self.max_bytes).unwrap_or(i64::MAX)
    }

    /// `7 days, 1024 MB`.
    pub fn describe(&self) -> String {
        let hours = self.max_age.as_secs() / 3600;
        let age = if hours % 24 == 0 {
            format!("{} days", hours / 24)
        } else {
            format!("{hours} hours")
        };
        format!("{age}, {} MB", self.max_bytes / (1024 * 1024))
    }
}

impl StoreConfig {
    /// The limits, defaults filled in.
    pub fn limits(&self) -> Limits {
        Limits {
            max_age: Duration::from_secs(self.max_age_hours.unwrap_or(168).saturating_mul(3600)),
            max_bytes: self.max_mb.unwrap_or(1024).saturating_mul(1024 * 1024),
        }
    }
}

/// Where a span came from; the stronger source wins when both send the same span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(i64)]
pub enum SpanSource {
    /// A Sentry transaction item.
    SentryTransaction = 0,
    /// OTLP.
    Otlp = 1,
}

/// One write: spans from one source and events, committed together.
#[derive(Debug)]
pub struct WriteBatch {
    /// Spans.
    pub spans: Vec<Span>,
    /// Where the spans came from.
    pub source: SpanSource,
    /// Sentry error events.
    pub events: Vec<ErrorEvent>,
}

impl WriteBatch {
    fn items(&self) -> usize {
        self.spans.len() + self.events.len()
    }
}

/// What a write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Spans stored for the first time.
    pub spans_new: usize,
    /// Spans that were already stored (a batch delivered twice).
    pub spans_existing: usize,
    /// Events stored for the first time.
    pub events_new: usize,
    /// Events already stored.
    pub events_existing: usize,
}

/// Why a write was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    /// The writer is behind: try again after the given seconds.
    #[error(
        "the store is busy ({queued} spans and events waiting); retry in {retry_after_secs} s"
    )]
    Busy {
        /// Items waiting.
        queued: usize,
        /// Suggested wait.
        retry_after_secs: u64,
    },
    /// The store cannot write (stopped, or the database refused the transaction).
    #[error("the store cannot write: {0}")]
    Unavailable(String),
}

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("local store: {0}")]
pub struct ReadError(pub String);

pub(crate) enum Job {
    Write(
        WriteBatch,
        tokio::sync::oneshot::Sender<Result<WriteReport, String>>,
    ),
    /// Run retention now (tests, and after limits change).
    Sweep(tokio::sync::oneshot::Sender<()>),
}

/// State shared by the handle and the writer thread.
pub(crate) struct Shared {
    queued: AtomicUsize,
    generation: AtomicU64,
    bytes: AtomicI64,
    evicted: AtomicU64,
    limits: Limits,
    /// Traces being read right now, with how many readers each; eviction skips them.
    reading: Mutex<HashMap<TraceId, usize>>,
}

impl Shared {
    fn reading_now(&self) -> std::collections::HashSet<TraceId> {
        match self.reading.lock() {
            Ok(m) => m.keys().copied().collect(),
            Err(p) => p.into_inner().keys().copied().collect(),
        }
    }
}

/// Marks a trace as being read until dropped.
pub(crate) struct ReadingGuard {
    shared: Arc<Shared>,
    id: TraceId,
}

impl Drop for ReadingGuard {
    fn drop(&mut self) {
        let mut m = match self.shared.reading.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        if let Some(n) = m.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.id);
            }
        }
    }
}

/// A handle on the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    tx: Mutex<Option<Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    capacity: usize,
    shared: Arc<Shared>,
    pool: read::Pool,
    keys: Vec<String>,
    alive: Arc<AtomicBool>,
    created: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.inner.dir)
            .finish_non_exhaustive()
    }
}

/// Current time, Unix nanoseconds.
pub(crate) fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl Store {
    /// Opens (creating when missing) the store in `dir` and starts its writer thread.
    /// `correlation_keys` are the span attributes whose values are indexed for linking.
    pub fn open(
        dir: &Path,
        config: &StoreConfig,
        correlation_keys: &[String],
    ) -> Result<Store, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
        let file = dir.join(FILE_NAME);
        let created = !file.exists();
        let conn = schema::open_writer(&file)?;
        let bytes = writer::Writer::count_bytes(&conn)
            .map_err(|e| format!("{}: cannot read the store: {e}", file.display()))?;
        let shared = Arc::new(Shared {
            queued: AtomicUsize::new(0),
            generation: AtomicU64::new(1),
            bytes: AtomicI64::new(bytes),
            evicted: AtomicU64::new(0),
            limits: config.limits(),
            reading: Mutex::new(HashMap::new()),
        });
        let pool = read::Pool::new(file.clone(), 3)?;
        let (tx, rx) = mpsc::channel();
        let alive = Arc::new(AtomicBool::new(true));
        let w = writer::Writer::new(conn, Arc::clone(&shared), correlation_keys.to_vec());
        let alive_w = Arc::clone(&alive);
        let handle = std::thread::Builder::new()
            .name("tracepin-store-writer".into())
            .spawn(move || {
                w.run(rx);
                alive_w.store(false, Ordering::SeqCst);
            })
            .map_err(|e| format!("cannot start the store writer: {e}"))?;
        let checkpoint = schema::open_checkpointer(&file)?;
        let alive_c = Arc::clone(&alive);
        std::thread::Builder::new()
            .name("tracepin-store-checkpoint".into())
            .spawn(move || {
                while alive_c.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(500));
                    if let Err(e) = checkpoint.execute_batch("PRAGMA wal_checkpoint(PASSIVE);") {
                        tracing::debug!(error = %e, "store checkpoint skipped");
                    }
                }
            })
            .map_err(|e| format!("cannot start the store checkpointer: {e}"))?;
        Ok(Store {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(handle)),
                capacity: config.queue_items.unwrap_or(200_000).max(1),
                shared,
                pool,
                keys: correlation_keys.to_vec(),
                alive,
                created,
            }),
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// True when this open created the database (an empty store).
    pub fn was_created(&self) -> bool {
        self.inner.created
    }

    /// The retention limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.shared.limits
    }

    /// The span attributes whose values are indexed.
    pub fn correlation_keys(&self) -> &[String] {
        &self.inner.keys
    }

    /// Bumped after every commit and eviction: pages poll it to know when to refresh.
    pub fn generation(&self) -> u64 {
        self.inner.shared.generation.load(Ordering::SeqCst)
    }

    /// Spans and events waiting for the writer.
    pub fn queued(&self) -> usize {
        self.inner.shared.queued.load(Ordering::SeqCst)
    }

    fn sender(&self) -> Option<Sender<Job>> {
        match self.inner.tx.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Stores a batch; resolves once it is committed. Refuses at once when the writer is behind.
    pub async fn write(&self, batch: WriteBatch) -> Result<WriteReport, WriteError> {
        let rx = self.submit(batch)?;
        match rx.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(WriteError::Unavailable(e)),
            Err(_) => Err(WriteError::Unavailable("the writer stopped".into())),
        }
    }

    /// [`Self::write`] for code outside the async runtime (the `import` command).
    pub fn write_blocking(&self, batch: WriteBatch) -> Result<WriteReport, WriteError> {
        loop {
            match self.submit_raw(batch_ref_clone(&batch)) {
                Ok(rx) => {
                    return match rx.blocking_recv() {
                        Ok(Ok(r)) => Ok(r),
                        Ok(Err(e)) => Err(WriteError::Unavailable(e)),
                        Err(_) => Err(WriteError::Unavailable("the writer stopped".into())),
                    }
                }
                Err(WriteError::Busy { .. }) => std::thread::sleep(Duration::from_millis(50)),
                Err(e) => return Err(e),
            }
        }
    }

    fn submit(
        &self,
        batch: WriteBatch,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<WriteReport, String>>, WriteError> {
        self.submit_raw(batch)
    }

    fn submit_raw(
        &self,
        batch: WriteBatch,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<WriteReport, String>>, WriteError> {
        if !self.inner.alive.load(Ordering::SeqCst) {
            return Err(WriteError::Unavailable("the writer stopped".into()));
        }
        let n = batch.items();
        let shared = &self.inner.shared;
        let admitted = shared
            .queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                // One batch larger than the whole queue still goes through when nothing waits.
                (q == 0 || q + n <= self.inner.capacity).then_some(q + n)
            });
        if let Err(queued) = admitted {
            return Err(WriteError::Busy {
                queued,
                retry_after_secs: 1 + (queued / 100_000) as u64,
            });
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        let sent = self
            .sender()
            .map(|tx| tx.send(Job::Write(batch, reply)).is_ok())
            .unwrap_or(false);
        if !sent {
            shared.queued.fetch_sub(n, Ordering::SeqCst);
            return Err(WriteError::Unavailable("the writer stopped".into()));
        }
        Ok(rx)
    }

    /// Runs retention now and waits for it.
    pub async fn sweep(&self) {
        let (reply, rx) = tokio::sync::oneshot::channel();
        if let Some(tx) = self.sender() {
            if tx.send(Job::Sweep(reply)).is_ok() {
                let _ = rx.await;
            }
        }
    }

    /// Stops taking writes, lets the writer commit what is queued and waits for it.
    pub fn close(&self) {
        let tx = match self.inner.tx.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        drop(tx);
        let handle = match self.inner.writer.lock() {
            Ok(mut g) => g.take(),
            Err(p) => p.into_inner().take(),
        };
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    pub(crate) fn reading(&self, id: TraceId) -> ReadingGuard {
        let mut m = match self.inner.shared.reading.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        *m.entry(id).or_insert(0) += 1;
        ReadingGuard {
            shared: Arc::clone(&self.inner.shared),
            id,
        }
    }

    fn pool(&self) -> &read::Pool {
        &self.inner.pool
    }

    /// Total bytes counted for retention, and traces evicted since start.
    pub fn usage(&self) -> (u64, u64) {
        (
            u64::try_from(self.inner.shared.bytes.load(Ordering::SeqCst)).unwrap_or(0),
            self.inner.shared.evicted.load(Ordering::SeqCst),
        )
    }
}

/// Blocking writes retry a busy store with the same batch; batches are moved into jobs, so the
/// retry needs its own copy.
fn batch_ref_clone(b: &WriteBatch) -> WriteBatch {
    WriteBatch {
        spans: b.spans.clone(),
        source: b.source,
        events: b.events.clone(),
    }
}

#[cfg(test)]
mod tests;
