//! Domain values shared by every layer: ids, spans, traces, error events, diagnostics.
//!
//! Owns the strict types. Must not do I/O or import leptos, axum, reqwest or tokio: it compiles for the
//! server and for WebAssembly alike. Lenient parsing of upstream spellings belongs to the connectors.

pub mod diagnostic;
pub mod error_event;
pub mod ids;
pub mod links;
pub mod recognise;
pub mod trace;

pub use diagnostic::{Diagnostic, DiagnosticKind};
pub use error_event::{
    Breadcrumb, ErrorEvent, ExceptionValue, Frame, Mechanism, OtelContext, TraceContext, User,
};
pub use ids::{EventId, IdError, SpanId, TraceId};
pub use trace::{
    attr, AttrValue, KeyValue, Node, RowOrigin, Span, SpanEvent, SpanKind, SpanLink, SpanStatus,
    StatusCode, Trace,
};
