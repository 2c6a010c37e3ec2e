//! A directory of trace files and Sentry event files, indexed by the trace and event ids inside them.
//!
//! Every file `formats::decode_read` reads is accepted (OTLP JSON/protobuf, Tempo, Jaeger, Sentry
//! envelopes and events; gzip too), in the directory and its subdirectories (dot-files skipped). A background
//! Tokio task scans the directory off the runtime threads (`spawn_blocking`) and then polls it every
//! `rescan_secs`: only files whose size or modification time changed are decoded again, removed files
//! drop out. The index keeps per-trace counts and the (small) error events, not spans: a trace is read
//! again from its files when fetched, so a directory of large traces costs little memory. A file that
//! cannot be decoded is reported by [`FilesSource::problems`] and skipped, never fatal. Requests made
//! before the first scan finishes wait for it; later scans never block requests (the index is swapped).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

use super::jaeger::summarize;
use super::{BackendKind, BaselineFound, BaselineQuery, FetchError, FetchedTrace, TraceSummaryRow};
use crate::connectors::formats::{self, Decoded};
use crate::correlate::event::{named_trace_ids, otel_trace_id};
use crate::correlate::keys::TraceKeys;
use crate::domain::{ErrorEvent, EventId, Span, TraceId};

/// `[files]`: a directory of exported trace and Sentry event files.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FilesConfig {
    /// Directory to index.
    pub dir: Option<PathBuf>,
    /// How often, in seconds, the directory is polled for added, changed or removed files (default 5).
    #[serde(default)]
    pub rescan_secs: Option<u64>,
}

/// The name files sources are shown under.
const NAME: &str = "files";

/// The largest file read (gzip files are also capped decompressed, see `formats`).
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// A file that could not be read or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

/// The files source: a handle on the shared, background-maintained index.
#[derive(Clone)]
pub struct FilesSource {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FilesSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The index can be large; show where it comes from only.
        f.debug_struct("FilesSource")
            .field("dir", &self.shared.dir)
            .field("rescan", &self.shared.rescan)
            .finish_non_exhaustive()
    }
}

struct Shared {
    dir: PathBuf,
    rescan: Duration,
    /// Span attribute keys whose values are indexed (the correlation keys), for search by value.
    attr_keys: Vec<String>,
    index: RwLock<Arc<Index>>,
    generation: tokio::sync::watch::Sender<u64>,
    started: AtomicBool,
    scan_lock: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
struct Index {
    files: HashMap<PathBuf, FileEntry>,
    traces: HashMap<TraceId, TraceEntry>,
    events: HashMap<EventId, (ErrorEvent, Option<TraceId>)>,
    events_by_trace: HashMap<TraceId, Vec<ErrorEvent>>,
    /// `(key, value)` of an indexed span attribute → the traces whose spans carry it.
    traces_by_attr: HashMap<(String, String), Vec<TraceId>>,
    /// `(tag, value)` → the events carrying it.
    events_by_tag: HashMap<(String, String), Vec<EventId>>,
}

#[derive(Debug, Clone)]
struct FileEntry {
    modified: Option<SystemTime>,
    len: u64,
    traces: Vec<TraceStat>,
    events: Vec<ErrorEvent>,
    problem: Option<String>,
}

/// What one file holds of one trace.
#[derive(Debug, Clone)]
struct TraceStat {
    id: TraceId,
    summary: TraceSummaryRow,
    /// Values of the indexed attribute keys, `(key, value)`, deduplicated.
    attrs: Vec<(String, String)>,
}

#[derive(Debug, Default)]
struct TraceEntry {
    files: Vec<PathBuf>,
    span_count: usize,
    error_span_count: usize,
    start_ns: u64,
    end_ns: u64,
    root_service: Option<String>,
    root_name: Option<String>,
}

impl FilesSource {
    /// Indexes `dir`, polling it every `rescan`. The background task starts now when a Tokio runtime
    /// is running, else on first use.
    pub fn new(dir: PathBuf, rescan: Duration) -> Self {
        Self::with_attribute_keys(dir, rescan, Vec::new())
    }

    /// Like [`Self::new`], also indexing the values of these span attributes (the correlation keys)
    /// so that [`Self::traces_with_attribute`] answers without reading trace files.
    pub fn with_attribute_keys(dir: PathBuf, rescan: Duration, attr_keys: Vec<String>) -> Self {
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let source = FilesSource {
            shared: Arc::new(Shared {
                dir,
                rescan,
                attr_keys,
                index: RwLock::new(Arc::new(Index::default())),
                generation,
                started: AtomicBool::new(false),
                scan_lock: tokio::sync::Mutex::new(()),
            }),
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            source.ensure_started();
        }
        source
    }

    /// `files`.
    pub fn name(&self) -> &str {
        NAME
    }

    /// The indexed directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    fn ensure_started(&self) {
        if self.shared.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.shared);
        tokio::spawn(poll_loop(weak));
    }

    /// Waits until the first scan has finished.
    pub async fn wait_indexed(&self) {
        self.ensure_started();
        let mut rx = self.shared.generation.subscribe();
        // An error means the sender is gone, which cannot happen while `self` holds it.
        let _ = rx.wait_for(|g| *g > 0).await;
    }

    /// Scans the directory now (instead of waiting for the next poll); returns the number of files.
    pub async fn rescan(&self) -> usize {
        self.ensure_started();
        scan(&self.shared).await
    }

    fn index(&self) -> Arc<Index> {
        match self.shared.index.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Files that could not be read or decoded in the last scan.
    pub async fn problems(&self) -> Vec<FileProblem> {
        self.wait_indexed().await;
        let index = self.index();
        let mut out: Vec<FileProblem> = index
            .files
            .iter()
            .filter_map(|(path, f)| {
                // Relative to the directory: pages show these, and absolute paths say too much.
                f.problem.as_ref().map(|m| FileProblem {
                    path: path
                        .strip_prefix(&self.shared.dir)
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|_| path.clone()),
                    message: m.clone(),
                })
            })
            .collect();
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Trace ids found in the directory.
    pub async fn trace_ids(&self) -> Vec<TraceId> {
        self.wait_indexed().await;
        let mut ids: Vec<TraceId> = self.index().traces.keys().copied().collect();
        ids.sort();
        ids
    }

    /// Every Sentry error event in the directory that belongs to trace `id`.
    pub async fn events_for_trace(&self, id: TraceId) -> Vec<ErrorEvent> {
        self.wait_indexed().await;
        self.index()
            .events_by_trace
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    /// A Sentry error event by id, with the trace it belongs to.
    pub async fn event(&self, event_id: EventId) -> Option<(ErrorEvent, Option<TraceId>)> {
        self.wait_indexed().await;
        self.index().events.get(&event_id).cloned()
    }

    /// Traces with a span whose attribute `key` (an indexed key) is `value`.
    pub async fn traces_with_attribute(&self, key: &str, value: &str) -> Vec<TraceId> {
        self.wait_indexed().await;
        self.index()
            .traces_by_attr
            .get(&(key.to_owned(), value.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// Events a trace's keys link to it: claimed event ids and correlation tag values.
    pub async fn events_with_keys(&self, keys: &TraceKeys) -> Vec<ErrorEvent> {
        self.wait_indexed().await;
        let index = self.index();
        let mut ids: Vec<EventId> = keys.event_ids.iter().copied().collect();
        for (k, values) in &keys.tags {
            for v in values {
                if let Some(found) = index.events_by_tag.get(&(k.clone(), v.clone())) {
                    ids.extend(found);
                }
            }
        }
        ids.sort();
        ids.dedup();
        ids.iter()
            .filter_map(|id| index.events.get(id).map(|(e, _)| e.clone()))
            .collect()
    }

    /// Reads trace `id` from the files that hold it.
    pub async fn fetch(&self, id: TraceId) -> Result<FetchedTrace, FetchError> {
        self.wait_indexed().await;
        let files = self
            .index()
            .traces
            .get(&id)
            .map(|t| t.files.clone())
            .unwrap_or_default();
        let dir = self.shared.dir.display().to_string();
        if files.is_empty() {
            return Err(FetchError::NotFound {
                backend: NAME.to_owned(),
                path: dir,
            });
        }
        let task = tokio::task::spawn_blocking(move || {
            let mut spans: Vec<Span> = Vec::new();
            let mut errors = Vec::new();
            for path in files {
                match read_trace_spans(&path) {
                    Ok(mut s) => {
                        s.retain(|s| s.trace_id == id);
                        // The first file's spans are taken as they are: appending them to an empty
                        // list would copy every span once more (240 MB at a million spans).
                        if spans.is_empty() {
                            spans = s;
                        } else {
                            spans.append(&mut s);
                        }
                    }
                    Err(message) => errors.push(FetchError::Decode {
                        backend: NAME.to_owned(),
                        path: path.display().to_string(),
                        message,
                    }),
                }
            }
            (spans, errors)
        });
        let (spans, mut errors) = task.await.map_err(|e| FetchError::Decode {
            backend: NAME.to_owned(),
            path: dir.clone(),
            message: format!("reading stopped: {e}"),
        })?;
        if spans.is_empty() {
            return Err(errors.pop().unwrap_or(FetchError::NotFound {
                backend: NAME.to_owned(),
                path: dir,
            }));
        }
        let partial = (!errors.is_empty()).then(|| {
            let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
            format!(
                "some files of this trace could not be read: {}",
                list.join("; ")
            )
        });
        Ok(FetchedTrace {
            backend: NAME.to_owned(),
            kind: BackendKind::Files,
            spans,
            partial,
        })
    }

    /// Traces in the directory with at least one error span, newest first (files are kept history, so
    /// no time period applies).
    pub async fn search_errors(&self, limit: usize) -> Vec<TraceSummaryRow> {
        self.wait_indexed().await;
        let index = self.index();
        let mut rows: Vec<TraceSummaryRow> = index
            .traces
            .iter()
            .filter(|(_, t)| t.error_span_count > 0)
            .map(|(id, t)| TraceSummaryRow {
                backend: NAME.to_owned(),
                kind: BackendKind::Files,
                trace_id: *id,
                root_service: t.root_service.clone(),
                root_name: t.root_name.clone(),
                start_ns: t.start_ns,
                duration_ms: Some(t.end_ns.saturating_sub(t.start_ns) / 1_000_000),
                span_count: Some(t.span_count),
                error_span_count: Some(t.error_span_count),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.start_ns
                .cmp(&a.start_ns)
                .then(a.trace_id.cmp(&b.trace_id))
        });
        rows.truncate(limit);
        rows
    }

    /// Healthy traces of one root in the index (compare mode): same root service and name, no error
    /// span, started in the window; nearest the window's middle first, at most `limit`.
    pub async fn search_baselines(&self, q: &BaselineQuery) -> BaselineFound {
        self.wait_indexed().await;
        let index = self.index();
        let mut found = BaselineFound {
            asked: format!(
                "the index of {}: root `{}` `{}`, {} to {}, no error span or event",
                self.shared.dir.display(),
                q.service,
                q.name,
                super::unix_rfc3339(q.from_ns / 1_000_000_000),
                super::unix_rfc3339(q.to_ns.div_ceil(1_000_000_000))
            ),
            ..BaselineFound::default()
        };
        for (id, t) in &index.traces {
            if !q.fits(
                t.root_service.as_deref(),
                t.root_name.as_deref(),
                t.start_ns,
            ) {
                continue;
            }
            if t.error_span_count > 0 || index.events_by_trace.contains_key(id) {
                found.with_errors += 1;
            } else {
                found.traces.push((*id, t.start_ns));
            }
        }
        let mid = q.from_ns / 2 + q.to_ns / 2;
        found
            .traces
            .sort_by_key(|(id, start)| (start.abs_diff(mid), *id));
        found.traces.truncate(q.limit.max(1));
        found
    }

    /// `Ok` when the directory is readable, with what the index holds.
    pub async fn ready(&self) -> Result<String, String> {
        let dir = self.shared.dir.clone();
        let readable = tokio::task::spawn_blocking(move || std::fs::read_dir(&dir).map(|_| ()))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        match readable {
            Ok(()) => {
                let index = self.index();
                let bad = index.files.values().filter(|f| f.problem.is_some()).count();
                Ok(format!(
                    "{} files indexed: {} traces, {} events, {bad} unreadable",
                    index.files.len(),
                    index.traces.len(),
                    index.events.len()
                ))
            }
            Err(e) => Err(format!(
                "{NAME}: cannot read directory {}: {e}",
                self.shared.dir.display()
            )),
        }
    }
}

async fn poll_loop(weak: Weak<Shared>) {
    loop {
        let Some(shared) = weak.upgrade() else { return };
        scan(&shared).await;
        let wait = shared.rescan;
        drop(shared);
        tokio::time::sleep(wait).await;
    }
}

/// One scan: reuse unchanged files, decode changed ones, swap the index, bump the generation.
async fn scan(shared: &Arc<Shared>) -> usize {
    let _guard = shared.scan_lock.lock().await;
    let previous = match shared.index.read() {
        Ok(g) => Arc::clone(&g),
        Err(p) => Arc::clone(&p.into_inner()),
    };
    let dir = shared.dir.clone();
    let keys = shared.attr_keys.clone();
    let built = tokio::task::spawn_blocking(move || build_index(&dir, &previous, &keys)).await;
    let count = match built {
        Ok(index) => {
            let n = index.files.len();
            match shared.index.write() {
                Ok(mut g) => *g = Arc::new(index),
                Err(p) => *p.into_inner() = Arc::new(index),
            }
            n
        }
        Err(e) => {
            tracing::warn!(error = %e, "files index scan stopped");
            0
        }
    };
    shared.generation.send_modify(|g| *g += 1);
    count
}

fn build_index(dir: &Path, previous: &Index, attr_keys: &[String]) -> Index {
    let mut paths = Vec::new();
    let mut problems = Vec::new();
    walk(dir, &mut paths, &mut problems);
    let mut files: HashMap<PathBuf, FileEntry> = HashMap::with_capacity(paths.len());
    for (path, modified, len) in paths {
        let entry = match previous.files.get(&path) {
            Some(prev) if prev.modified == modified && prev.len == len => prev.clone(),
            _ => index_file(&path, modified, len, attr_keys),
        };
        files.insert(path, entry);
    }
    for (path, message) in problems {
        files.insert(
            path,
            FileEntry {
                modified: None,
                len: 0,
                traces: Vec::new(),
                events: Vec::new(),
                problem: Some(message),
            },
        );
    }
    let mut index = Index {
        files,
        ..Index::default()
    };
    let mut sorted: Vec<&PathBuf> = index.files.keys().collect();
    sorted.sort();
    for path in sorted {
        let Some(f) = index.files.get(path) else {
            continue;
        };
        for t in &f.traces {
            let e = index.traces.entry(t.id).or_default();
            let s = &t.summary;
            if e.files.is_empty() || s.start_ns < e.start_ns {
                e.start_ns = s.start_ns;
            }
            let end = s
                .start_ns
                .saturating_add(s.duration_ms.unwrap_or(0).saturating_mul(1_000_000));
            e.end_ns = e.end_ns.max(end);
            e.span_count += s.span_count.unwrap_or(0);
            e.error_span_count += s.error_span_count.unwrap_or(0);
            if e.root_service.is_none() {
                e.root_service.clone_from(&s.root_service);
                e.root_name.clone_from(&s.root_name);
            }
            e.files.push(path.clone());
            for kv in &t.attrs {
                let traces = index.traces_by_attr.entry(kv.clone()).or_default();
                if !traces.contains(&t.id) {
                    traces.push(t.id);
                }
            }
        }
        for ev in &f.events {
            // Filed under every trace id it names, so the OTel trace finds an event whose
            // `contexts.trace` is Sentry's own id (and the other way round).
            let mut named: Vec<TraceId> = event_trace_ids(ev).collect();
            named.dedup();
            for t in &named {
                index
                    .events_by_trace
                    .entry(*t)
                    .or_default()
                    .push(ev.clone());
            }
            if let Some(id) = ev.event_id {
                index
                    .events
                    .insert(id, (ev.clone(), named.first().copied()));
                for (k, v) in &ev.tags {
                    index
                        .events_by_tag
                        .entry((k.clone(), v.clone()))
                        .or_default()
                        .push(id);
                }
            }
        }
    }
    index
}

/// Regular files under `root`, recursively, skipping dot-files and dot-directories. Symbolic links
/// are followed only when they resolve inside `root`, and each directory is entered once, so a link
/// loop or a link to `/etc` is reported instead of walked.
fn walk(
    root: &Path,
    out: &mut Vec<(PathBuf, Option<SystemTime>, u64)>,
    problems: &mut Vec<(PathBuf, String)>,
) {
    let Ok(canonical_root) = std::fs::canonicalize(root) else {
        problems.push((root.to_path_buf(), "cannot open the directory".to_owned()));
        return;
    };
    let mut visited = std::collections::HashSet::new();
    visited.insert(canonical_root.clone());
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                problems.push((dir, format!("cannot list directory: {}", e.kind())));
                continue;
            }
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path();
            let is_link = entry.file_type().is_ok_and(|t| t.is_symlink());
            let target = match std::fs::canonicalize(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push((path, format!("cannot read: {}", e.kind())));
                    continue;
                }
            };
            if is_link && !target.starts_with(&canonical_root) {
                problems.push((
                    path,
                    "a link to outside the directory; not followed".to_owned(),
                ));
                continue;
            }
            match std::fs::metadata(&target) {
                Ok(m) if m.is_dir() => {
                    if visited.insert(target) {
                        pending.push(path);
                    }
                }
                Ok(m) if m.is_file() => out.push((path, m.modified().ok(), m.len())),
                Ok(_) => {}
                Err(e) => problems.push((path, format!("cannot read: {}", e.kind()))),
            }
        }
    }
}

fn index_file(
    path: &Path,
    modified: Option<SystemTime>,
    len: u64,
    attr_keys: &[String],
) -> FileEntry {
    let mut entry = FileEntry {
        modified,
        len,
        traces: Vec::new(),
        events: Vec::new(),
        problem: None,
    };
    if len > MAX_FILE_BYTES {
        // Refused unread: the file is no longer held whole (it is decoded as it is read), but its
        // spans would take more memory than the file itself on every request.
        entry.problem = Some(format!(
            "the file is {} MB, more than the {} MB tracepin reads from one file",
            len / (1024 * 1024),
            MAX_FILE_BYTES / (1024 * 1024)
        ));
        return entry;
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            entry.problem = Some(format!("cannot read: {e}"));
            return entry;
        }
    };
    // Read piece by piece: a large OTLP JSON file is never held whole (`formats::decode_file`).
    match formats::decode_file(file) {
        Ok(Decoded::Trace(t)) => {
            let mut by_trace: HashMap<TraceId, Vec<Span>> = HashMap::new();
            for s in t.spans {
                by_trace.entry(s.trace_id).or_default().push(s);
            }
            for (id, spans) in by_trace {
                let errors = spans.iter().filter(|s| s.is_error()).count();
                let mut summary =
                    summarize(NAME, BackendKind::Files, id, &spans).unwrap_or(TraceSummaryRow {
                        backend: NAME.to_owned(),
                        kind: BackendKind::Files,
                        trace_id: id,
                        root_service: None,
                        root_name: None,
                        start_ns: spans.iter().map(|s| s.start_ns).min().unwrap_or(0),
                        duration_ms: None,
                        span_count: Some(spans.len()),
                        error_span_count: Some(errors),
                    });
                if errors == 0 {
                    let root = spans.iter().find(|s| s.parent_span_id.is_none());
                    summary.root_service = root.map(|r| r.service.to_string());
                    summary.root_name = root.map(|r| r.name.to_string());
                    let end = spans.iter().map(|s| s.end_ns).max().unwrap_or(0);
                    summary.duration_ms = Some(end.saturating_sub(summary.start_ns) / 1_000_000);
                }
                let mut attrs: Vec<(String, String)> = spans
                    .iter()
                    .flat_map(|s| s.attributes.iter())
                    .filter(|kv| attr_keys.iter().any(|k| **k == *kv.key))
                    .filter_map(|kv| Some((kv.key.to_string(), kv.value.as_str()?.to_owned())))
                    .collect();
                attrs.sort();
                attrs.dedup();
                entry.traces.push(TraceStat { id, summary, attrs });
            }
        }
        Ok(Decoded::Events { events, .. }) => entry.events = events,
        Err(e) => entry.problem = Some(e.to_string()),
    }
    entry
}

fn read_trace_spans(path: &Path) -> Result<Vec<Span>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    match formats::decode_file(file) {
        Ok(Decoded::Trace(t)) => Ok(t.spans),
        Ok(Decoded::Events { format, .. }) => Err(format!("now holds {format}, not spans")),
        Err(e) => Err(e.to_string()),
    }
}

/// The traces an event names, the OpenTelemetry one first: `contexts.otel_trace` or the
/// `otel.trace_id` tag, then `contexts.trace`, then the envelope DSC.
fn event_trace_ids(ev: &ErrorEvent) -> impl Iterator<Item = TraceId> {
    let otel = otel_trace_id(ev);
    std::iter::once(otel)
        .flatten()
        .chain(named_trace_ids(ev).filter(move |t| Some(*t) != otel))
}
