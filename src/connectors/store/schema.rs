//! The store's SQLite schema and connection settings.
//!
//! One file, `tracepin.sqlite3`, in WAL mode: readers never block the writer and the writer never
//! blocks readers. `synchronous = NORMAL` makes a commit durable against a crash of the process (the
//! WAL frames are in the operating system once `COMMIT` returns), though not against power loss; that
//! is the trade SQLite recommends for WAL. Checkpoints (folding the WAL back into the database file,
//! which waits for `fsync`) run on a thread of their own every half second, so a commit does not
//! wait for them. The schema version lives in `PRAGMA user_version`.
//!
//! Tables: `traces` (one row per trace id: counts, time range, root, bytes, when data last arrived),
//! `spans` (one row per trace id + span id; the span as JSON, its resource by reference), `resources`
//! (each distinct resource once), `events` (one row per Sentry event id; grouping key and list fields
//! as columns, the event as JSON), and the link keys pinning needs: `event_traces` (every trace id an
//! event names), `event_tags` (every tag of every event), `span_keys` (correlation-key values and
//! `sentry.event_id` claims carried by a trace's spans).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// The schema version this code writes and reads.
pub(super) const VERSION: i64 = 1;

const SCHEMA: &str = r"
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces(
  trace_id BLOB PRIMARY KEY,
  received_first INTEGER NOT NULL,
  received_last INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL,
  span_count INTEGER NOT NULL,
  error_spans INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  root_service TEXT,
  root_name TEXT,
  bytes INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_by_received ON traces(received_last);
CREATE TABLE IF NOT EXISTS resources(id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS spans(
  trace_id BLOB NOT NULL,
  span_id BLOB NOT NULL,
  source INTEGER NOT NULL,
  resource_id INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  is_error INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS spans_by_id ON spans(trace_id, span_id);
CREATE TABLE IF NOT EXISTS events(
  event_id BLOB PRIMARY KEY,
  trace_id BLOB,
  received_ns INTEGER NOT NULL,
  timestamp_ns INTEGER NOT NULL,
  group_key TEXT NOT NULL,
  title TEXT NOT NULL,
  level TEXT NOT NULL,
  service TEXT,
  project TEXT,
  bytes INTEGER NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_trace ON events(trace_id);
CREATE INDEX IF NOT EXISTS events_by_group ON events(group_key, timestamp_ns);
CREATE INDEX IF NOT EXISTS events_by_received ON events(received_ns);
CREATE TABLE IF NOT EXISTS event_traces(
  trace_id BLOB NOT NULL, event_id BLOB NOT NULL, PRIMARY KEY(trace_id, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_traces_by_event ON event_traces(event_id);
CREATE TABLE IF NOT EXISTS event_tags(
  key TEXT NOT NULL, value TEXT NOT NULL, event_id BLOB NOT NULL, PRIMARY KEY(key, value, event_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS event_tags_by_event ON event_tags(event_id);
CREATE TABLE IF NOT EXISTS span_keys(
  key TEXT NOT NULL, value TEXT NOT NULL, trace_id BLOB NOT NULL, PRIMARY KEY(key, value, trace_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS span_keys_by_trace ON span_keys(trace_id);
";

/// Settings every connection gets.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.pragma_update(None, "cache_size", -32_000)?;
    Ok(())
}

/// Opens (creating when missing) the writer's connection and brings the schema up to date.
pub(super) fn open_writer(path: &Path) -> Result<Connection, String> {
    let conn =
        Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(|e| format!("{}: cannot switch to WAL: {e}", path.display()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!(
            "{}: the file system refused WAL mode (journal_mode is {mode}); put the data directory on a local disk",
            path.display()
        ));
    }
    configure(&conn).map_err(|e| format!("{}: {e}", path.display()))?;
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // The checkpointer thread folds the WAL into the database; the writer only does it itself when
    // the WAL has grown past 64 MB (the checkpointer is behind).
    conn.pragma_update(None, "wal_autocheckpoint", 16_384)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if version > VERSION {
        return Err(format!(
            "{} was written by a newer tracepin (schema {version}, this one knows {VERSION}); use that version or another data directory",
            path.display()
        ));
    }
    conn.execute_batch(SCHEMA)
        .map_err(|e| format!("{}: cannot create the schema: {e}", path.display()))?;
    conn.pragma_update(None, "user_version", VERSION)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}

/// Opens the checkpointer's connection.
pub(super) fn open_checkpointer(path: &Path) -> Result<Connection, String> {
    let conn =
        Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    configure(&conn).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}

/// Opens a read-only connection (after the writer created the file).
pub(super) fn open_reader(path: &Path) -> Result<Connection, String> {
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| format!("cannot open {} for reading: {e}", path.display()))?;
    configure(&conn).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(conn)
}
