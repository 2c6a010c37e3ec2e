//! What pages show, computed once for server and browser: the view state kept in the URL, the visible
//! rows and the selected row, bar geometry and pin clusters, the filter language, and the view types
//! the server sends to the browser (compact, serializable, user-safe).
//!
//! Pure: no I/O, no signals, no DOM; compiles for `ssr` and `hydrate` alike and is unit-tested natively.
//! Imports only `domain` and `correlate`. The server builds page data here (`timeline`), and the page
//! recomputes visibility and selection with the very same functions (`rows`, `state`).

pub mod compare;
pub mod filter;
pub mod geometry;
pub mod notes;
pub mod rows;
pub mod state;
pub mod timeline;
pub mod types;

use chrono::{DateTime, Utc};

/// Formats Unix nanoseconds as RFC 3339 UTC with milliseconds.
pub fn format_ns(ns: u64) -> String {
    let secs = i64::try_from(ns / 1_000_000_000).unwrap_or(i64::MAX);
    let nanos = u32::try_from(ns % 1_000_000_000).unwrap_or(0);
    DateTime::<Utc>::from_timestamp(secs, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ns.to_string())
}
