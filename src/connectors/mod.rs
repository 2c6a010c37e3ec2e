//! Connectors: the only code that knows an upstream's wire format (server only).
//!
//! `formats` decodes every payload shape tracepin reads (OTLP JSON, Tempo v1/v2, Jaeger v1/api_v3,
//! Sentry envelopes and Web API events) into domain values; lenient id spellings are handled here, once.
//! The HTTP clients for Sentry, Tempo and Jaeger, the `files` source and the local `store` (what
//! tracepin received itself, in SQLite) build on those decoders.
//! Wire types are private to their module; conversion to domain values is one function per format.

pub mod demo;
pub mod events;
pub mod formats;
pub mod http;
pub mod sentry;
pub mod store;
pub mod telemetry;
pub mod traces;
