//! Incident snapshots: a frozen timeline that outlives upstream retention.
//!
//! Freezing keeps everything the page needs — the correlated timeline (spans, pins, unplaced errors,
//! skew, critical path), the full Sentry events, the sources and notices, and the view at that
//! moment — so `/s/{id}` renders with the same page and never contacts an upstream. Annotations (notes
//! on a span, an error or a time range) are kept beside it.
//!
//! The file format (`.tracepin.json.gz`) is one gzip-compressed JSON object:
//! `{"format": "tracepin-snapshot", "version": 1, "snapshot": {meta, view, timeline, events,
//! sources, notices, annotations}}`. A reader refuses a newer version with a message naming it, a file
//! over [`MAX_FILE_BYTES`] compressed or [`MAX_JSON_BYTES`] decompressed, a truncated file, and a
//! file whose parts do not fit together (pins naming events that are not there), storing nothing.
//!
//! Storage is behind [`SnapshotStore`]; [`SqliteSnapshots`] keeps them in one SQLite file in the data
//! directory (WAL). Snapshots are not subject to the trace store's retention; each may have its own
//! expiry.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::correlate::Timeline;
use crate::domain::ErrorEvent;
use crate::view::types::{Annotation, AnnotationTarget, Notice, SnapshotMeta};

/// The `format` field of a snapshot file.
pub const FORMAT: &str = "tracepin-snapshot";
/// The newest file version this build reads and the one it writes.
pub const VERSION: u32 = 1;
/// Largest snapshot file accepted (compressed).
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// Largest snapshot JSON accepted (decompressed).
pub const MAX_JSON_BYTES: u64 = 512 * 1024 * 1024;
/// Longest annotation, characters.
pub const MAX_NOTE_CHARS: usize = 2_000;

/// Everything a snapshot page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Id, title, who and when.
    pub meta: SnapshotMeta,
    /// The correlated timeline as it was.
    pub timeline: Timeline,
    /// The events the timeline's pins and unplaced entries index.
    pub events: Vec<ErrorEvent>,
    /// Where spans and errors came from.
    pub sources: Vec<String>,
    /// Upstream problems and partial-trace notices at freezing time.
    pub notices: Vec<Notice>,
    /// Notes added since.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

#[derive(Serialize)]
struct FileOut<'a> {
    format: &'a str,
    version: u32,
    snapshot: &'a Snapshot,
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

#[derive(Deserialize)]
struct FileIn {
    snapshot: Snapshot,
}

/// Why a snapshot file was refused; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Over the size limits.
    #[error("the file is larger than {0} MB, the most tracepin imports")]
    TooLarge(usize),
    /// Not gzip, truncated, or expands too far.
    #[error("the file is not a complete gzip file ({0}); export it again")]
    Gzip(String),
    /// Not a snapshot.
    #[error("this is not a tracepin snapshot (expected \"format\": \"{FORMAT}\")")]
    NotASnapshot,
    /// Written by a newer tracepin.
    #[error("the snapshot was written by a newer tracepin (format version {0}); this one reads version {VERSION} — upgrade to import it")]
    FutureVersion(u32),
    /// JSON that does not match the schema.
    #[error("the snapshot is malformed: {0}")]
    Malformed(String),
    /// Parts that do not fit together.
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(String),
}

/// Encodes a snapshot as a `.tracepin.json.gz` file.
pub fn encode(s: &Snapshot) -> Vec<u8> {
    use std::io::Write;
    let json = serde_json::to_vec(&FileOut {
        format: FORMAT,
        version: VERSION,
        snapshot: s,
    })
    .unwrap_or_default();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(&json);
    gz.finish().unwrap_or_default()
}

/// Decodes and checks a `.tracepin.json.gz` file (plain JSON is accepted too).
pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SnapshotError::TooLarge(MAX_FILE_BYTES >> 20));
    }
    let json =
        crate::connectors::formats::gunzip_capped(bytes, MAX_JSON_BYTES).map_err(|e| match e {
            crate::connectors::formats::FormatError::Expands { .. } => {
                SnapshotError::TooLarge((MAX_JSON_BYTES >> 20) as usize)
            }
            other => SnapshotError::Gzip(other.to_string()),
        })?;
    let header: Header = serde_json::from_slice(&json).map_err(|e| {
        if e.is_eof() {
            SnapshotError::Malformed(format!("the JSON ends early ({e})"))
        } else {
            SnapshotError::Malformed(e.to_string())
        }
    })?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(SnapshotError::NotASnapshot);
    }
    match header.version {
        Some(v) if v > VERSION => return Err(SnapshotError::FutureVersion(v)),
        Some(_) => {}
        None => return Err(SnapshotError::Malformed("no \"version\"".into())),
    }
    let file: FileIn =
        serde_json::from_slice(&json).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
    check(&file.snapshot)?;
    Ok(file.snapshot)
}

/// The parts of a snapshot fit together: ids well-formed, every index in range.
fn check(s: &Snapshot) -> Result<(), SnapshotError> {
    let bad = |m: String| Err(SnapshotError::Inconsistent(m));
    if !valid_id(&s.meta.id) {
        return bad(format!("`{}` is not a snapshot id", s.meta.id));
    }
    if s.meta.trace_id != s.timeline.trace.trace_id.to_string() {
        return bad("the trace id of the metadata and of the timeline differ".into());
    }
    let t = &s.timeline.trace;
    if t.spans.len() != t.nodes.len() {
        return bad("spans and tree rows differ in number".into());
    }
    let rows = t.spans.len();
    for n in &t.nodes {
        if n.parent.is_some_and(|p| p as usize >= rows) || n.subtree_end as usize > rows {
            return bad("a tree row points outside the trace".into());
        }
    }
    let events = s.events.len();
    for p in &s.timeline.pins {
        if p.event >= events || p.row >= rows {
            return bad("a pin names an event or row that is not in the snapshot".into());
        }
    }
    if s.timeline.unplaced.iter().any(|u| u.event >= events)
        || s.timeline.critical_path.iter().any(|r| *r >= rows)
    {
        return bad("an unplaced error or the critical path points outside the snapshot".into());
    }
    Ok(())
}

/// A new unguessable snapshot id: 128 random bits, base64url (22 characters).
pub fn new_id() -> String {
    use base64::Engine;
    let bytes: [u8; 16] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// True for text shaped like a snapshot id.
pub fn valid_id(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An annotation's text as stored: trimmed, control characters other than line breaks removed,
/// at most [`MAX_NOTE_CHARS`] characters.
pub fn clean_note(text: &str) -> Result<String, String> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    if t.is_empty() {
        return Err("The note is empty.".into());
    }
    if t.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "The note is longer than {MAX_NOTE_CHARS} characters."
        ));
    }
    Ok(t)
}

/// RFC 3339 UTC, seconds.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Where snapshots are kept. Kept small so a shared database can take the SQLite file's place.
pub trait SnapshotStore: Send + Sync {
    /// Stores a new snapshot (its annotations included).
    fn put(&self, s: &Snapshot) -> Result<SnapshotMeta, String>;
    /// One snapshot with its annotations; `None` when unknown or expired.
    fn get(&self, id: &str) -> Result<Option<Snapshot>, String>;
    /// Every snapshot, newest first.
    fn list(&self) -> Result<Vec<SnapshotMeta>, String>;
    /// Deletes one; false when it did not exist.
    fn delete(&self, id: &str) -> Result<bool, String>;
    /// Adds a note.
    fn annotate(&self, snapshot: &str, a: &Annotation) -> Result<(), String>;
    /// Changes a note's text, only for its author: `Ok(false)` when the note is not theirs or absent.
    fn edit(&self, snapshot: &str, id: &str, author: &str, text: &str) -> Result<bool, String>;
}

/// Snapshots in one SQLite file (WAL). One connection behind a mutex: snapshots are written by
/// people, a few a day, and read a page at a time.
pub struct SqliteSnapshots {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,
    trace_id TEXT NOT NULL,
    title TEXT NOT NULL,
    frozen_at TEXT NOT NULL,
    frozen_by TEXT NOT NULL,
    expires_at TEXT,
    view TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS annotations (
    snapshot_id TEXT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT,
    target TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (snapshot_id, id)
);
";

fn db_err(e: rusqlite::Error) -> String {
    format!("snapshot store: {e}")
}

impl SqliteSnapshots {
    /// Opens (creating) `snapshots.sqlite3` in `dir`.
    pub fn open(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the data directory {}: {e}", dir.display()))?;
        let path = dir.join("snapshots.sqlite3");
        let conn =
            Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        conn.execute_batch(SCHEMA).map_err(db_err)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<std::sync::MutexGuard<'_, Connection>, String> {
        self.conn
            .lock()
            .map_err(|_| "snapshot store: a writer panicked".to_owned())
    }

    fn purge_expired(conn: &Connection) -> Result<(), String> {
        conn.execute(
            "DELETE FROM snapshots WHERE expires_at IS NOT NULL AND expires_at < ?1",
            params![rfc3339(Utc::now())],
        )
        .map_err(db_err)?;
        Ok(())
    }
}

fn meta_of(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotMeta> {
    Ok(SnapshotMeta {
        id: row.get(0)?,
        trace_id: row.get(1)?,
        title: row.get(2)?,
        frozen_at: row.get(3)?,
        frozen_by: row.get(4)?,
        expires_at: row.get(5)?,
        view: row.get(6)?,
        size_bytes: row
            .get::<_, i64>(7)
            .map(|n| u64::try_from(n).unwrap_or(0))?,
    })
}

impl SnapshotStore for SqliteSnapshots {
    fn put(&self, s: &Snapshot) -> Result<SnapshotMeta, String> {
        let mut body = s.clone();
        let annotations = std::mem::take(&mut body.annotations);
        let blob = encode(&body);
        let mut meta = s.meta.clone();
        meta.size_bytes = blob.len() as u64;
        body.meta = meta.clone();
        let blob = encode(&body);
        let mut conn = self.conn()?;
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute(
            "INSERT INTO snapshots (id, trace_id, title, frozen_at, frozen_by, expires_at, view, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                meta.id,
                meta.trace_id,
                meta.title,
                meta.frozen_at,
                meta.frozen_by,
                meta.expires_at,
                meta.view,
                blob
            ],
        )
        .map_err(db_err)?;
        for a in &annotations {
            insert_annotation(&tx, &meta.id, a)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(meta)
    }

    fn get(&self, id: &str) -> Result<Option<Snapshot>, String> {
        if !valid_id(id) {
            return Ok(None);
        }
        let conn = self.conn()?;
        Self::purge_expired(&conn)?;
        let row: Option<(Vec<u8>, SnapshotMeta)> = conn
            .query_row(
                "SELECT id, trace_id, title, frozen_at, frozen_by, expires_at, view, length(body), body
                 FROM snapshots WHERE id = ?1",
                params![id],
                |r| Ok((r.get::<_, Vec<u8>>(8)?, meta_of(r)?)),
            )
            .optional()
            .map_err(db_err)?;
        let Some((blob, meta)) = row else {
            return Ok(None);
        };
        let mut s = decode(&blob).map_err(|e| format!("snapshot {id}: {e}"))?;
        s.meta = meta;
        let mut stmt = conn
            .prepare(
                "SELECT id, author, created_at, updated_at, target, text FROM annotations
                 WHERE snapshot_id = ?1 ORDER BY created_at, rowid",
            )
            .map_err(db_err)?;
        let notes = stmt
            .query_map(params![id], |r| {
                let target: String = r.get(4)?;
                Ok(Annotation {
                    id: r.get(0)?,
                    author: r.get(1)?,
                    created_at: r.get(2)?,
                    updated_at: r.get(3)?,
                    target: serde_json::from_str(&target).unwrap_or(AnnotationTarget::Range {
                        start_ns: 0,
                        end_ns: 0,
                    }),
                    text: r.get(5)?,
                })
            })
            .map_err(db_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
        s.annotations = notes;
        Ok(Some(s))
    }

    fn list(&self) -> Result<Vec<SnapshotMeta>, String> {
        let conn = self.conn()?;
        Self::purge_expired(&conn)?;
        let mut stmt = conn
            .prepare(
                "SELECT id, trace_id, title, frozen_at, frozen_by, expires_at, view, length(body)
                 FROM snapshots ORDER BY frozen_at DESC, id",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], meta_of)
            .map_err(db_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err);
        rows
    }

    fn delete(&self, id: &str) -> Result<bool, String> {
        let conn = self.conn()?;
        let n = conn
            .execute("DELETE FROM snapshots WHERE id = ?1", params![id])
            .map_err(db_err)?;
        Ok(n > 0)
    }

    fn annotate(&self, snapshot: &str, a: &Annotation) -> Result<(), String> {
        let conn = self.conn()?;
        insert_annotation(&conn, snapshot, a)
    }

    fn edit(&self, snapshot: &str, id: &str, author: &str, text: &str) -> Result<bool, String> {
        let conn = self.conn()?;
        let n = conn
            .execute(
                "UPDATE annotations SET text = ?1, updated_at = ?2
                 WHERE snapshot_id = ?3 AND id = ?4 AND author = ?5",
                params![text, rfc3339(Utc::now()), snapshot, id, author],
            )
            .map_err(db_err)?;
        Ok(n > 0)
    }
}

fn insert_annotation(conn: &Connection, snapshot: &str, a: &Annotation) -> Result<(), String> {
    let target = serde_json::to_string(&a.target).map_err(|e| e.to_string())?;
    conn.execute(
        "INSERT INTO annotations (snapshot_id, id, author, created_at, updated_at, target, text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            snapshot,
            a.id,
            a.author,
            a.created_at,
            a.updated_at,
            target,
            a.text
        ],
    )
    .map_err(db_err)?;
    Ok(())
}

/// Memory the decoded snapshot timelines may hold (estimated).
pub const SNAPSHOT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// The snapshot store as the server uses it: blocking work off the runtime, and the frozen
/// timelines being viewed kept decoded for a few minutes (a page asks for rows, details and filters
/// separately).
pub struct SnapshotService {
    store: std::sync::Arc<dyn SnapshotStore>,
    loaded: moka::future::Cache<String, std::sync::Arc<super::Loaded>>,
}

impl SnapshotService {
    /// Wraps a store.
    pub fn new(store: std::sync::Arc<dyn SnapshotStore>) -> Self {
        Self {
            store,
            // Weighed in KiB of estimated memory, like the live timeline cache.
            loaded: moka::future::Cache::builder()
                .weigher(|_k, v: &std::sync::Arc<super::Loaded>| {
                    u32::try_from(v.approx_bytes() / 1024 + 1).unwrap_or(u32::MAX)
                })
                .max_capacity(SNAPSHOT_CACHE_BYTES / 1024)
                .time_to_idle(std::time::Duration::from_secs(300))
                .build(),
        }
    }

    /// Drops the decoded timelines nobody has viewed for five minutes (moka does it only on later
    /// cache operations otherwise).
    pub async fn housekeep(&self) {
        self.loaded.run_pending_tasks().await;
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn SnapshotStore) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(|e| format!("snapshot store: {e}"))?
    }

    /// Stores a new snapshot.
    pub async fn put(&self, s: Snapshot) -> Result<SnapshotMeta, String> {
        self.blocking(move |st| st.put(&s)).await
    }

    /// One snapshot with its annotations.
    pub async fn get(&self, id: &str) -> Result<Option<Snapshot>, String> {
        let id = id.to_owned();
        self.blocking(move |st| st.get(&id)).await
    }

    /// The frozen timeline, decoded once for every request of a page.
    pub async fn loaded(&self, id: &str) -> Result<Option<std::sync::Arc<super::Loaded>>, String> {
        if let Some(l) = self.loaded.get(id).await {
            return Ok(Some(l));
        }
        let Some(s) = self.get(id).await? else {
            return Ok(None);
        };
        let l = std::sync::Arc::new(super::Loaded::new(
            s.timeline,
            s.events.into(),
            s.sources,
            s.notices,
        ));
        self.loaded.insert(id.to_owned(), l.clone()).await;
        Ok(Some(l))
    }

    /// Every snapshot, newest first.
    pub async fn list(&self) -> Result<Vec<SnapshotMeta>, String> {
        self.blocking(|st| st.list()).await
    }

    /// Deletes one.
    pub async fn delete(&self, id: &str) -> Result<bool, String> {
        self.loaded.invalidate(id).await;
        let id = id.to_owned();
        self.blocking(move |st| st.delete(&id)).await
    }

    /// Adds a note.
    pub async fn annotate(&self, snapshot: &str, a: Annotation) -> Result<(), String> {
        let snapshot = snapshot.to_owned();
        self.blocking(move |st| st.annotate(&snapshot, &a)).await
    }

    /// Edits a note of `author`'s.
    pub async fn edit(
        &self,
        snapshot: &str,
        id: &str,
        author: &str,
        text: &str,
    ) -> Result<bool, String> {
        let (snapshot, id, author, text) = (
            snapshot.to_owned(),
            id.to_owned(),
            author.to_owned(),
            text.to_owned(),
        );
        self.blocking(move |st| st.edit(&snapshot, &id, &author, &text))
            .await
    }

    /// Freezes a loaded timeline with its view.
    pub fn freeze(
        l: &super::Loaded,
        view: String,
        title: String,
        frozen_by: String,
        expires_at: Option<String>,
    ) -> Snapshot {
        Snapshot {
            meta: SnapshotMeta {
                id: new_id(),
                title,
                trace_id: l.timeline.trace.trace_id.to_string(),
                frozen_at: rfc3339(Utc::now()),
                frozen_by,
                expires_at,
                size_bytes: 0,
                view,
            },
            timeline: l.timeline.clone(),
            events: l.events.to_vec(),
            sources: l.sources.clone(),
            notices: l.notices.clone(),
            annotations: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_snapshot() -> Snapshot {
        let d = crate::connectors::demo::load();
        let c =
            crate::correlate::correlate(d.spans, d.events, &crate::correlate::Options::default());
        let timeline = c
            .timelines
            .iter()
            .find(|t| !t.pins.is_empty())
            .cloned()
            .expect("the demo has a trace with pins");
        Snapshot {
            meta: SnapshotMeta {
                id: new_id(),
                title: "checkout".into(),
                trace_id: timeline.trace.trace_id.to_string(),
                frozen_at: "2026-12-05T08:00:00Z".into(),
                frozen_by: "ana".into(),
                expires_at: None,
                size_bytes: 0,
                view: "event=abc".into(),
            },
            timeline,
            events: c.events,
            sources: vec!["demo".into()],
            notices: vec![],
            annotations: vec![Annotation {
                id: "n1".into(),
                author: "ana".into(),
                created_at: "2026-12-05T08:01:00Z".into(),
                updated_at: None,
                target: AnnotationTarget::Range {
                    start_ns: 0,
                    end_ns: 5_000_000,
                },
                text: "deploy rolled back here <script>".into(),
            }],
        }
    }

    #[test]
    fn a_file_round_trips() {
        let s = demo_snapshot();
        let bytes = encode(&s);
        assert_eq!(decode(&bytes).expect("decodes"), s);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let s = demo_snapshot();
        let bytes = encode(&s);
        // Truncated gzip.
        let err = decode(&bytes[..bytes.len() / 2]).expect_err("truncated");
        assert!(
            matches!(err, SnapshotError::Gzip(_) | SnapshotError::Malformed(_)),
            "{err}"
        );
        // A newer version.
        let future = serde_json::json!({"format": FORMAT, "version": 9, "snapshot": {}});
        let err = decode(future.to_string().as_bytes()).expect_err("future");
        assert_eq!(err, SnapshotError::FutureVersion(9));
        assert!(err.to_string().contains("upgrade"));
        // Not a snapshot.
        let err = decode(br#"{"resourceSpans": []}"#).expect_err("not one");
        assert_eq!(err, SnapshotError::NotASnapshot);
        // Malformed JSON.
        assert!(matches!(
            decode(
                b"{\"format\": \"tracepin-snapshot\", \"version\": 1, \"snapshot\": {\"meta\": 3}}"
            ),
            Err(SnapshotError::Malformed(_))
        ));
        // Oversized.
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        assert_eq!(decode(&big), Err(SnapshotError::TooLarge(64)));
        // Inconsistent: a pin pointing past the events.
        let mut broken = s.clone();
        broken.events.clear();
        assert!(matches!(
            decode(&encode(&broken)),
            Err(SnapshotError::Inconsistent(_))
        ));
    }

    #[test]
    fn sqlite_store_keeps_snapshots_and_notes() {
        let dir = std::env::temp_dir().join(format!("tracepin-snap-{}", new_id()));
        let store = SqliteSnapshots::open(&dir).expect("open");
        let s = demo_snapshot();
        let meta = store.put(&s).expect("put");
        assert!(meta.size_bytes > 0);
        let back = store.get(&s.meta.id).expect("get").expect("there");
        assert_eq!(back.timeline, s.timeline);
        assert_eq!(back.annotations, s.annotations);
        store
            .annotate(
                &s.meta.id,
                &Annotation {
                    id: "n2".into(),
                    author: "bo".into(),
                    created_at: "2026-12-05T08:02:00Z".into(),
                    updated_at: None,
                    target: AnnotationTarget::Span {
                        span_id: "b7ad6b7169203331".into(),
                    },
                    text: "slow here".into(),
                },
            )
            .expect("annotate");
        assert!(!store
            .edit(&s.meta.id, "n2", "ana", "mine now")
            .expect("edit"));
        assert!(store
            .edit(&s.meta.id, "n2", "bo", "very slow")
            .expect("edit"));
        drop(store);
        // Reopened: everything is there.
        let store = SqliteSnapshots::open(&dir).expect("reopen");
        let back = store.get(&s.meta.id).expect("get").expect("there");
        assert_eq!(back.annotations.len(), 2);
        assert_eq!(back.annotations[1].text, "very slow");
        assert!(back.annotations[1].updated_at.is_some());
        assert_eq!(store.list().expect("list").len(), 1);
        assert!(store.delete(&s.meta.id).expect("delete"));
        assert!(store.get(&s.meta.id).expect("get").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn notes_are_cleaned_and_bounded() {
        assert_eq!(
            clean_note("  hi\u{1b}[31m\nthere ").as_deref(),
            Ok("hi[31m\nthere")
        );
        assert!(clean_note("   ").is_err());
        assert!(clean_note(&"x".repeat(MAX_NOTE_CHARS + 1)).is_err());
        assert!(valid_id(&new_id()));
        assert!(!valid_id("../../etc/passwd"));
    }
}
