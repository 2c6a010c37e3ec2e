//! View data sent from server to browser: compact, serializable, user-safe.

use serde::{Deserialize, Serialize};

/// One trace in an overview list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraceSummary {
    /// 32-hex trace id.
    pub trace_id: String,
    /// Service of the root span.
    pub root_service: String,
    /// Operation of the root span.
    pub root_name: String,
    /// Start, RFC 3339 UTC.
    pub start: String,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// Number of spans.
    pub span_count: usize,
    /// Services in the trace.
    pub services: Vec<String>,
    /// Sentry errors joined to this trace.
    pub error_count: usize,
}

/// One Sentry error in an overview list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSummary {
    /// 32-hex event id.
    pub event_id: String,
    /// Title as Sentry shows it.
    pub title: String,
    /// Level.
    pub level: String,
    /// Service the event came from, if known.
    pub service: Option<String>,
    /// Event time, RFC 3339 UTC.
    pub timestamp: String,
    /// Trace the error belongs to, if any.
    pub trace_id: Option<String>,
    /// Name of the span it is pinned to.
    pub span_name: Option<String>,
    /// Pinned span id.
    pub span_id: Option<String>,
    /// How it was matched, in words.
    pub matched_by: Option<String>,
    /// Why it could not be placed.
    pub unplaced_reason: Option<String>,
}

/// What the home page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// Where the data comes from, in words ("built-in demo incident", "files in …").
    pub source: String,
    /// Traces.
    pub traces: Vec<TraceSummary>,
    /// Errors.
    pub errors: Vec<ErrorSummary>,
    /// Notices for the reader (degraded upstreams, diagnostics).
    pub notices: Vec<String>,
    /// Issues of the local store (errors grouped), when it is on.
    #[serde(default)]
    pub issues: Vec<LocalIssueRow>,
    /// The local store's generation when the lists were read (`None` without a store): the page
    /// polls it and reloads the lists when it moved.
    #[serde(default)]
    pub generation: Option<u64>,
}

/// One issue of the local store: errors grouped by the SDK fingerprint, else exception type and the
/// frame that raised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalIssueRow {
    /// Title of the latest event.
    pub title: String,
    /// Level of the latest event.
    pub level: String,
    /// Service of the latest event, if known.
    pub service: Option<String>,
    /// Project (DSN project id or its configured name).
    pub project: Option<String>,
    /// Events in the issue.
    pub count: u64,
    /// Earliest event, RFC 3339 UTC.
    pub first_seen: String,
    /// Latest event, RFC 3339 UTC.
    pub last_seen: String,
    /// 32-hex id of the latest event.
    pub event_id: String,
    /// The trace of the latest event that the store has spans of.
    pub trace_id: Option<String>,
    /// Grouped by the SDK fingerprint (else by type and frame).
    pub by_fingerprint: bool,
}

/// What the local store says now, for pages that refresh themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveState {
    /// The store's generation (`None` without a store).
    pub generation: Option<u64>,
    /// Spans the store holds for the asked trace.
    pub spans: Option<u64>,
    /// Events filed under the asked trace.
    pub events: Option<u64>,
}

/// Row flag: the span's status is an error.
pub const ROW_ERROR: u8 = 1;
/// Row flag: a placeholder for a missing parent.
pub const ROW_PLACEHOLDER: u8 = 2;
/// Row flag: on the critical path.
pub const ROW_CRITICAL: u8 = 4;
/// Row flag: recorded an OTel `exception` event.
pub const ROW_EXCEPTION: u8 = 8;

/// Waterfall rows in columnar form: compact to send, cheap to scan.
///
/// `index[i]` is the absolute row number (pre-order) of entry `i`; a full set has `index[i] == i`, a
/// window sent with the first paint holds only some rows. Times are nanoseconds from the trace start.
/// Span names are interned: `name[i]` indexes `names`, each distinct name once (a million-span trace
/// repeats a few thousand names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rows {
    /// Absolute row numbers, ascending.
    pub index: Vec<u32>,
    /// Distinct span names, in order of first appearance.
    pub names: Vec<String>,
    /// Span name of each entry: an index into `names`.
    pub name: Vec<u32>,
    /// Service index into `TimelineView::services`.
    pub service: Vec<u16>,
    /// Depth in the tree.
    pub depth: Vec<u16>,
    /// One past the last descendant (absolute).
    pub subtree_end: Vec<u32>,
    /// Raw start, ns from trace start.
    pub start: Vec<u64>,
    /// Duration, ns.
    pub dur: Vec<u64>,
    /// `ROW_*` flags.
    pub flags: Vec<u8>,
    /// Span id as a number (its first 8 hex digits are the short id used in links).
    pub span_id: Vec<u64>,
}

impl Rows {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Span name of entry `i` (empty when out of range).
    pub fn name_of(&self, i: usize) -> &str {
        self.name
            .get(i)
            .and_then(|n| self.names.get(*n as usize))
            .map_or("", String::as_str)
    }

    /// The name table and per-entry indices for names given per entry, numbered by first use.
    pub fn intern_names<'a>(names: impl IntoIterator<Item = &'a str>) -> (Vec<String>, Vec<u32>) {
        let mut table: Vec<String> = Vec::new();
        // foldhash: randomly seeded like std's SipHash (span names come from upstreams), and cheaper:
        // 37-56 ms instead of 105-241 ms for a million names with 60,000 distinct ones (measured).
        let mut seen: std::collections::HashMap<&'a str, u32, foldhash::fast::RandomState> =
            std::collections::HashMap::default();
        let mut idx = Vec::new();
        for n in names {
            let next = u32::try_from(table.len()).unwrap_or(u32::MAX);
            let i = *seen.entry(n).or_insert_with(|| {
                table.push(n.to_owned());
                next
            });
            idx.push(i);
        }
        (table, idx)
    }

    /// Entries `from..to` (clamped) as a chunk for streaming to the page. Names are those of the
    /// whole set; the chunk carries the ones first used in it, `names_from` saying where they go.
    pub fn chunk(&self, from: usize, to: usize) -> RowsChunk {
        let to = to.min(self.len());
        let from = from.min(to);
        // Names are numbered by first appearance, so the names the earlier entries used are exactly
        // `0..=max(name[..from])`, and this chunk's new ones follow them.
        let known = self.name[..from]
            .iter()
            .max()
            .map_or(0, |m| *m as usize + 1);
        let upto = self.name[from..to]
            .iter()
            .max()
            .map_or(0, |m| *m as usize + 1)
            .max(known);
        RowsChunk {
            total: u32::try_from(self.len()).unwrap_or(u32::MAX),
            names_from: u32::try_from(known).unwrap_or(u32::MAX),
            rows: Rows {
                index: self.index[from..to].to_vec(),
                names: self.names[known..upto].to_vec(),
                name: self.name[from..to].to_vec(),
                service: self.service[from..to].to_vec(),
                depth: self.depth[from..to].to_vec(),
                subtree_end: self.subtree_end[from..to].to_vec(),
                start: self.start[from..to].to_vec(),
                dur: self.dur[from..to].to_vec(),
                flags: self.flags[from..to].to_vec(),
                span_id: self.span_id[from..to].to_vec(),
            },
        }
    }

    /// Appends a chunk that follows the entries held (built from [`Rows::chunk`] in order). False,
    /// with nothing changed, when it does not follow.
    pub fn append_chunk(&mut self, c: RowsChunk) -> bool {
        let next = self.index.last().map_or(0, |l| l + 1);
        if c.rows.index.first().is_some_and(|f| *f != next)
            || c.names_from as usize != self.names.len()
        {
            return false;
        }
        let mut r = c.rows;
        self.names.append(&mut r.names);
        self.index.append(&mut r.index);
        self.name.append(&mut r.name);
        self.service.append(&mut r.service);
        self.depth.append(&mut r.depth);
        self.subtree_end.append(&mut r.subtree_end);
        self.start.append(&mut r.start);
        self.dur.append(&mut r.dur);
        self.flags.append(&mut r.flags);
        self.span_id.append(&mut r.span_id);
        true
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The short id of entry `i`: the first 8 hex digits of its span id.
    pub fn short_id(&self, i: usize) -> u32 {
        self.span_id.get(i).map_or(0, |s| (s >> 32) as u32)
    }

    /// Span id of entry `i` as 16 hex digits.
    pub fn span_hex(&self, i: usize) -> String {
        format!("{:016x}", self.span_id.get(i).copied().unwrap_or(0))
    }

    /// Position of absolute row `row` in this set.
    pub fn pos(&self, row: u32) -> Option<usize> {
        self.index.binary_search(&row).ok()
    }
}

/// A run of rows streamed to the page: rows `rows.index`, of `total`, with the names they introduce.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RowsChunk {
    /// Rows in the whole trace.
    pub total: u32,
    /// Where `rows.names` go in the whole set's name table (the names of earlier chunks come first).
    pub names_from: u32,
    /// The rows; `name` indexes the whole set's table.
    pub rows: Rows,
}

/// Rows sent per chunk: a million-span trace arrives in ten requests of about 6 MB of JSON each
/// (1.9 MB gzipped, measured on the bench generator's traces).
pub const ROWS_CHUNK: u32 = 100_000;

/// An error pinned on a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinView {
    /// Absolute row.
    pub row: u32,
    /// Event time, ns from trace start, raw.
    pub at: i64,
    /// Event time adjusted for the service's clock offset.
    pub at_adjusted: i64,
    /// 32-hex event id.
    pub event_id: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: String,
    /// `matched_by` code.
    pub matched_by: String,
    /// `matched_by` in words.
    pub matched_by_text: String,
}

/// An error that could not be placed on a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnplacedView {
    /// 32-hex event id.
    pub event_id: String,
    /// Title.
    pub title: String,
    /// Reason code.
    pub code: String,
    /// Reason in words.
    pub reason: String,
}

/// A notice in the trace header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// `partial`, `degraded`, `skew`, `diagnostic`, `event_missing`.
    pub kind: String,
    /// Text for people.
    pub text: String,
}

/// Everything the timeline page needs except per-span details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineView {
    /// 32-hex trace id.
    pub trace_id: String,
    /// Service of the root span.
    pub root_service: String,
    /// Operation of the root span.
    pub root_name: String,
    /// Trace start, Unix ns.
    pub start_ns: u64,
    /// Duration, ns.
    pub duration_ns: u64,
    /// Real spans.
    pub span_count: u32,
    /// All rows (including placeholders).
    pub row_count: u32,
    /// Services; the index is the colour.
    pub services: Vec<String>,
    /// Where spans and errors came from.
    pub sources: Vec<String>,
    /// Notices (partial trace, degraded upstream, skew, diagnostics).
    pub notices: Vec<Notice>,
    /// Pins, by time.
    pub pins: Vec<PinView>,
    /// Errors of this trace that could not be placed.
    pub unplaced: Vec<UnplacedView>,
    /// Clock offset per service index, ns (0 when none).
    pub skew_ns: Vec<i64>,
    /// Earliest start and latest end with clock-skew adjustment, ns from trace start.
    pub adjusted_range: (i64, i64),
    /// Rows: all of them, or the first screen (see `Rows::index`).
    pub rows: Rows,
    /// Visible-row list of the window: absolute rows in display order (only for a window).
    pub window_visible: Vec<u32>,
    /// Position of the window's first row in the full visible list.
    pub window_offset: u32,
    /// Length of the full visible list.
    pub visible_total: u32,
    /// Rows matching the filter in the URL (absolute), when a filter is set.
    pub filter_matches: Option<Vec<u32>>,
    /// Set when the link names a span that is not in the trace but an error of the trace points at
    /// it: the span (16 hex) selected instead, the pin of that error.
    #[serde(default)]
    pub span_fallback: Option<String>,
    /// Links to the same trace, span or event in other tools.
    #[serde(default)]
    pub open_in: Vec<LinkOut>,
}

/// One event recorded on a span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanEventView {
    /// Offset from the span start, ns.
    pub at: i64,
    /// Event name, e.g. `exception`.
    pub name: String,
    /// Attributes as text.
    pub attributes: Vec<(String, String)>,
}

/// Details of one span, fetched when it is selected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpanDetail {
    /// Absolute row.
    pub row: u32,
    /// 16-hex span id.
    pub span_id: String,
    /// Parent span id.
    pub parent_span_id: Option<String>,
    /// Name.
    pub name: String,
    /// Service.
    pub service: String,
    /// Kind.
    pub kind: String,
    /// Status code.
    pub status: String,
    /// Status message.
    pub status_message: Option<String>,
    /// Start, RFC 3339 UTC (raw).
    pub start: String,
    /// Start adjusted for clock skew, RFC 3339 UTC.
    pub start_adjusted: String,
    /// Duration, ns.
    pub duration_ns: u64,
    /// Attributes as text.
    pub attributes: Vec<(String, String)>,
    /// Resource attributes.
    pub resource: Vec<(String, String)>,
    /// Span events.
    pub events: Vec<SpanEventView>,
    /// Links: (trace id, span id).
    pub links: Vec<(String, String)>,
    /// Path from the root: names.
    pub path: Vec<String>,
    /// A placeholder row.
    pub placeholder: bool,
    /// Links to the same trace, span or event in other tools.
    #[serde(default)]
    pub open_in: Vec<LinkOut>,
    /// What is not shown because a list is long ("800 more attributes"); the export has the rest.
    #[serde(default)]
    pub hidden: Vec<String>,
}

/// One frame of a stack trace for display.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameView {
    /// Function.
    pub function: String,
    /// File.
    pub file: String,
    /// Line.
    pub line: Option<u32>,
    /// In-app.
    pub in_app: bool,
    /// Context lines: (line number, text, is the failing line).
    pub context: Vec<(u32, String, bool)>,
}

/// One exception of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExceptionView {
    /// Type.
    pub ty: String,
    /// Message.
    pub value: String,
    /// Mechanism and whether handled.
    pub mechanism: Option<String>,
    /// Frames, innermost (most recent call) first, in-app frames highlighted.
    pub frames: Vec<FrameView>,
}

/// Details of one error, fetched when it is selected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    /// 32-hex event id.
    pub event_id: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: String,
    /// Time, RFC 3339 UTC.
    pub timestamp: String,
    /// Time, ns from trace start (raw).
    pub at: i64,
    /// Pinned row, if pinned.
    pub row: Option<u32>,
    /// `matched_by` in words, or the unplaced reason.
    pub placement: String,
    /// Set when Sentry files the event under another trace id than the one shown: which id Sentry
    /// has, and why this trace was used instead.
    #[serde(default)]
    pub trace_note: Option<String>,
    /// Service.
    pub service: Option<String>,
    /// Exception chain, outermost first.
    pub exceptions: Vec<ExceptionView>,
    /// Log message.
    pub message: Option<String>,
    /// Breadcrumbs: (ns from trace start, category, message, level).
    pub breadcrumbs: Vec<(Option<i64>, String, String, String)>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Release.
    pub release: Option<String>,
    /// Environment.
    pub environment: Option<String>,
    /// User, as text.
    pub user: Option<String>,
    /// Link to Sentry.
    pub sentry_url: Option<String>,
    /// The error as Markdown for an incident document.
    pub markdown: String,
    /// Links to the same trace, span or event in other tools.
    #[serde(default)]
    pub open_in: Vec<LinkOut>,
    /// What is not shown because a list is long ("800 earlier breadcrumbs"); the export has the rest.
    #[serde(default)]
    pub hidden: Vec<String>,
}

/// What a pasted text, an `/issue/…` or an `/event/…` link resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupPage {
    /// The text as given (shown back in the lookup box).
    pub query: String,
    /// What it was recognised as, in words ("Jaeger UI link"), when recognised.
    pub form: Option<String>,
    /// The result.
    pub outcome: LookupOutcome,
}

/// The result of a lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum LookupOutcome {
    /// Open this tracepin URL.
    Go {
        /// Where to go.
        url: String,
    },
    /// The text is not an id or link tracepin knows.
    Unrecognised {
        /// Why, in one sentence.
        message: String,
        /// Accepted forms: (form, example).
        accepted: Vec<(String, String)>,
    },
    /// The id names more than one thing (a trace and a Sentry event): the reader chooses.
    Choices {
        /// The id.
        id: String,
        /// What it names.
        choices: Vec<LookupChoice>,
    },
    /// Nothing was found: where tracepin looked and what to try.
    NotFound {
        /// What was looked for, in words.
        what: String,
        /// Each place asked, with its answer.
        looked_in: Vec<String>,
        /// What to try next.
        suggestions: Vec<String>,
    },
    /// A Sentry event without a trace: shown alone, with why it cannot be placed.
    EventAlone {
        /// The issue it belongs to, if known: (short id, title, link to Sentry).
        issue: Option<(String, String, Option<String>)>,
        /// The event.
        event: Box<EventDetail>,
        /// Why it cannot be placed on a trace.
        reason: String,
    },
    /// An upstream failed before an answer was known (HTTP 502): nothing was found, but a place
    /// that could have it did not answer.
    Failed {
        /// What failed, naming the upstream and what it answered.
        message: String,
        /// Each place asked, with its answer (empty when the failure came first).
        looked_in: Vec<String>,
    },
}

impl LookupOutcome {
    /// Text that is no id: the reason, with every accepted form and an example of each.
    pub fn unrecognised(message: String) -> Self {
        LookupOutcome::Unrecognised {
            message,
            accepted: crate::domain::recognise::ACCEPTED_FORMS
                .iter()
                .map(|(f, e)| ((*f).to_owned(), (*e).to_owned()))
                .collect(),
        }
    }
}

/// One of several things an id names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupChoice {
    /// `trace` or `event`.
    pub kind: String,
    /// Headline ("Trace: checkout (payments, 42 spans)").
    pub title: String,
    /// Details (where it was found).
    pub detail: String,
    /// Where it leads.
    pub url: String,
}

/// Filters of the issue list, as in the home page's URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueFilters {
    /// Project slug or id (empty: all).
    pub project: String,
    /// Environment (empty: all).
    pub environment: String,
    /// Period such as `24h`, `14d` (empty: the default).
    pub period: String,
    /// Sentry search (empty: `is:unresolved`).
    pub query: String,
    /// Sort: `date`, `new`, `freq`, `user`, `trends` (empty: `date`).
    pub sort: String,
    /// Page cursor.
    pub cursor: String,
}

/// One Sentry issue in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRow {
    /// Numeric id.
    pub id: String,
    /// Short id.
    pub short_id: String,
    /// Title.
    pub title: String,
    /// Culprit.
    pub culprit: Option<String>,
    /// Level.
    pub level: String,
    /// Project slug.
    pub project: String,
    /// Events.
    pub count: u64,
    /// Users.
    pub user_count: u64,
    /// First seen, RFC 3339.
    pub first_seen: Option<String>,
    /// Last seen, RFC 3339.
    pub last_seen: Option<String>,
    /// Link to Sentry.
    pub permalink: Option<String>,
}

/// One page of Sentry issues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuesPage {
    /// The filters as applied (defaults filled in).
    pub filters: IssueFilters,
    /// The issues.
    pub issues: Vec<IssueRow>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
    /// Projects of the organization (slug), for the filter.
    pub projects: Vec<String>,
    /// Why the list is empty or incomplete, when something failed.
    pub problem: Option<String>,
}

/// Whether an issue's latest event carries a trace id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueTrace {
    /// Issue id.
    pub issue_id: String,
    /// `trace`, `none` or `unknown` (the latest event could not be read).
    pub state: String,
    /// The trace id, when there is one.
    pub trace_id: Option<String>,
    /// The latest event's id.
    pub event_id: Option<String>,
    /// Detail for a tooltip (the failure, or the reason there is no trace).
    pub detail: Option<String>,
}

/// A link to another tool ("Open in Grafana Explore").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOut {
    /// Text of the link.
    pub label: String,
    /// Where it points (always http or https).
    pub href: String,
    /// `sentry`, `grafana` or `jaeger`.
    pub tool: String,
}

/// A frozen timeline as listed and as shown above its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// Unguessable id (`/s/{id}`).
    pub id: String,
    /// Title (the trace's root, or what the person typed).
    pub title: String,
    /// 32-hex trace id.
    pub trace_id: String,
    /// When it was frozen, RFC 3339 UTC.
    pub frozen_at: String,
    /// Who froze it (the authenticated user, the proxy's header, a typed name or `anonymous`).
    pub frozen_by: String,
    /// When it will be deleted, RFC 3339 UTC; `None` keeps it until deleted.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Stored size in bytes (compressed).
    #[serde(default)]
    pub size_bytes: u64,
    /// The view at freezing time, as a `/trace/…` query string (filter, selection, zoom).
    #[serde(default)]
    pub view: String,
}

/// What an annotation is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum AnnotationTarget {
    /// One span (16-hex id).
    Span {
        /// The span id.
        span_id: String,
    },
    /// One Sentry error (32-hex event id).
    Event {
        /// The event id.
        event_id: String,
    },
    /// A time range, ns from the trace start.
    Range {
        /// Start offset, ns.
        start_ns: i64,
        /// End offset, ns.
        end_ns: i64,
    },
}

/// A short note on a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// Id, unique within the snapshot.
    pub id: String,
    /// Who wrote it.
    pub author: String,
    /// When, RFC 3339 UTC.
    pub created_at: String,
    /// Last edit, RFC 3339 UTC.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// What it is attached to.
    pub target: AnnotationTarget,
    /// The note (plain text, shown escaped).
    pub text: String,
}

/// A snapshot as its page shows it: what it is, its notes, and who the viewer is to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotPage {
    /// Id, title, who and when.
    pub meta: SnapshotMeta,
    /// Notes, oldest first.
    pub annotations: Vec<Annotation>,
    /// The authenticated user (basic auth or the proxy header); `None` when access control is off,
    /// and notes are signed with a typed name.
    pub user: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows_named(names: &[&str]) -> Rows {
        let n = names.len();
        let (table, name) = Rows::intern_names(names.iter().copied());
        Rows {
            index: (0..n as u32).collect(),
            names: table,
            name,
            service: vec![0; n],
            depth: vec![0; n],
            subtree_end: (1..=n as u32).collect(),
            start: (0..n as u64).collect(),
            dur: vec![1; n],
            flags: vec![0; n],
            span_id: (0..n as u64).collect(),
        }
    }

    #[test]
    fn names_are_interned_in_order_of_first_use() {
        let r = rows_named(&["a", "b", "a", "c", "b"]);
        assert_eq!(r.names, vec!["a", "b", "c"]);
        assert_eq!(r.name, vec![0, 1, 0, 2, 1]);
        assert_eq!(r.name_of(3), "c");
        assert_eq!(r.name_of(99), "");
    }

    #[test]
    fn a_chunk_carries_only_the_names_it_introduces() {
        let r = rows_named(&["a", "b", "a", "c", "b", "d"]);
        let c = r.chunk(2, 4);
        assert_eq!((c.total, c.names_from), (6, 2));
        assert_eq!(c.rows.index, vec![2, 3]);
        assert_eq!(c.rows.names, vec!["c"]);
        assert_eq!(c.rows.name, vec![0, 2]);
        // Past the end: empty, still saying how many rows there are.
        let end = r.chunk(10, 20);
        assert!(end.rows.is_empty());
        assert_eq!(end.total, 6);
    }

    #[test]
    fn a_chunk_out_of_order_is_refused_and_changes_nothing() {
        let r = rows_named(&["a", "b", "c", "d"]);
        let mut acc = Rows::default();
        assert!(!acc.append_chunk(r.chunk(2, 4)));
        assert!(acc.is_empty() && acc.names.is_empty());
        assert!(acc.append_chunk(r.chunk(0, 2)));
        assert!(!acc.append_chunk(r.chunk(0, 2)), "the same chunk twice");
        assert!(acc.append_chunk(r.chunk(2, 4)));
        assert_eq!(acc, r);
    }

    proptest! {
        /// Chunks of any size, appended in order, give back exactly the whole set.
        #[test]
        fn chunks_rebuild_the_whole(names in proptest::collection::vec(0u8..12, 0..200), size in 1usize..40) {
            let owned: Vec<String> = names.iter().map(|n| format!("op{n}")).collect();
            let r = rows_named(&owned.iter().map(String::as_str).collect::<Vec<_>>());
            let mut acc = Rows::default();
            let mut from = 0;
            loop {
                let c = r.chunk(from, from + size);
                prop_assert_eq!(c.total as usize, r.len());
                if c.rows.is_empty() {
                    break;
                }
                prop_assert!(acc.append_chunk(c));
                from = acc.len();
            }
            prop_assert_eq!(acc, r);
        }
    }
}
