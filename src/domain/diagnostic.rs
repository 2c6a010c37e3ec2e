//! Diagnostics: problems found in the data, reported instead of failing.
//!
//! The core never panics or returns an error on bad data: a duplicate span id, an orphan, a cycle, a
//! span ending before it starts, a second trace id in one input all become a [`Diagnostic`] that the UI
//! shows as a notice and the CLI prints.

use serde::{Deserialize, Serialize};

use super::ids::SpanId;

/// What kind of repair or problem a diagnostic reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The same span id appeared more than once with identical content or as fragments; merged.
    DuplicateSpanMerged,
    /// The same span id appeared more than once with conflicting content; kept as separate rows.
    DuplicateSpanKept,
    /// A span's parent is not in the input; shown under a "missing parent" marker.
    MissingParent,
    /// Parent links form a cycle; broken at one span.
    Cycle,
    /// A span ends before it starts; its end was set to its start.
    EndBeforeStart,
    /// A span has no start time.
    MissingStartTime,
    /// The input held spans of more than one trace id.
    MixedTraceIds,
    /// A per-service clock offset was estimated.
    ClockSkew,
    /// The backend returned only part of the trace.
    PartialTrace,
    /// Anything else worth telling the reader.
    Other,
}

/// One problem found in the data, with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Category.
    pub kind: DiagnosticKind,
    /// Human-readable explanation.
    pub message: String,
    /// The span concerned, if any.
    pub span_id: Option<SpanId>,
}

impl Diagnostic {
    /// A diagnostic about a span.
    pub fn span(kind: DiagnosticKind, span_id: SpanId, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            span_id: Some(span_id),
        }
    }

    /// A diagnostic about the whole input.
    pub fn general(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            span_id: None,
        }
    }
}
