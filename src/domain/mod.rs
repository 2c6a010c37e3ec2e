//! Domain values shared by every layer: ids, spans, traces, error events, diagnostics.
//!
//! Owns the strict types, the one lenient parser for ids arriving as text at the edge (`lenient`), and
//! the "paste anything" recogniser (`recognise`). Must not do I/O or import leptos, axum, reqwest or
//! tokio: it compiles for the server and for WebAssembly alike. Wire encodings of upstreams (base64 ids,
//! protobuf, JSON shapes) belong to the connectors.

pub mod diagnostic;
pub mod error_event;
pub mod ids;
pub mod lenient;
pub mod limits;
pub mod links;
pub mod recognise;
pub mod trace;

pub use diagnostic::{Diagnostic, DiagnosticKind};
pub use error_event::{
    Breadcrumb, ErrorEvent, ExceptionValue, Frame, Mechanism, OtelContext, TraceContext, User,
};
pub use ids::{EventId, IdError, SpanId, TraceId};
pub use lenient::{event_id_lenient, span_id_lenient, trace_id_lenient, BadId};
/// Builds a [`ThinVec`] like `vec!` builds a `Vec` (tests and benches make spans with it).
pub use trace::thin_vec;
pub use trace::{
    attr, thin_list, AttrValue, KeyValue, Node, RowOrigin, Span, SpanEvent, SpanKind, SpanLink,
    SpanStatus, StatusCode, ThinVec, Trace,
};
