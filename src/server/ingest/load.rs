//! What an ingest request does once it is authenticated and read: decode, store, report. No HTTP
//! here, so the demo seeding and `tracepin import` go through exactly the code the endpoints use.

use crate::connectors::formats::ingest::{self, EnvelopeBatch, OtlpEncoding};
use crate::connectors::formats::{self, Decoded};
use crate::connectors::store::{SpanSource, Store, WriteBatch, WriteError, WriteReport};
use crate::domain::{EventId, TraceId};

/// Bodies larger than this are decoded on a blocking thread, not on an async worker.
const INLINE_DECODE_BYTES: usize = 256 * 1024;

/// What a request stored and what it left out.
#[derive(Debug, Default)]
pub struct Stored {
    /// What the store wrote.
    pub report: WriteReport,
    /// Items or spans that could not be decoded, one sentence each.
    pub rejected: Vec<String>,
    /// Envelope item types accepted and dropped, with counts.
    pub dropped: Vec<(String, usize)>,
    /// The first event's id (Sentry answers with it).
    pub first_event: Option<EventId>,
    /// The traces that received data.
    pub traces: Vec<TraceId>,
}

/// Why nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The body does not decode (400).
    #[error("{0}")]
    Decode(String),
    /// The body decodes but every item in it was rejected (400).
    #[error("nothing in the request could be used: {0}")]
    AllRejected(String),
    /// The store refused the write (429 or 503).
    #[error(transparent)]
    Store(#[from] WriteError),
}

async fn off_worker<T: Send + 'static>(
    size: usize,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, IngestError> {
    if size <= INLINE_DECODE_BYTES {
        return Ok(f());
    }
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| IngestError::Decode(format!("decoding stopped: {e}")))
}

fn touched(spans: &[crate::domain::Span], events: &[crate::domain::ErrorEvent]) -> Vec<TraceId> {
    let mut ids: Vec<TraceId> = spans.iter().map(|s| s.trace_id).collect();
    ids.extend(
        events
            .iter()
            .flat_map(|e| crate::correlate::event::named_trace_ids(e).collect::<Vec<_>>()),
    );
    ids.sort();
    ids.dedup();
    ids
}

/// Stores an OTLP/HTTP trace export body (already decompressed).
pub async fn otlp(
    store: &Store,
    body: Vec<u8>,
    encoding: OtlpEncoding,
) -> Result<Stored, IngestError> {
    let batch = off_worker(body.len(), move || {
        ingest::decode_otlp_body(&body, encoding)
    })
    .await?
    .map_err(|e| IngestError::Decode(e.to_string()))?;
    if batch.spans.is_empty() && !batch.rejected.is_empty() {
        return Err(IngestError::AllRejected(batch.rejected.join("; ")));
    }
    let traces = touched(&batch.spans, &[]);
    let report = if batch.spans.is_empty() {
        WriteReport::default()
    } else {
        store
            .write(WriteBatch {
                spans: batch.spans,
                source: SpanSource::Otlp,
                events: Vec::new(),
            })
            .await?
    };
    Ok(Stored {
        report,
        rejected: batch.rejected,
        traces,
        ..Stored::default()
    })
}

/// How a Sentry body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SentryBody {
    /// An envelope (`/envelope/`, `/stream`).
    Envelope,
    /// One event JSON (the legacy `/store/`).
    Event,
}

/// Decodes a Sentry body (already decompressed) without storing it: the envelope header's DSN is
/// needed for authentication first.
pub async fn decode_sentry(body: Vec<u8>, kind: SentryBody) -> Result<EnvelopeBatch, IngestError> {
    off_worker(body.len(), move || match kind {
        SentryBody::Envelope => ingest::decode_envelope(&body, None),
        SentryBody::Event => ingest::decode_store_body(&body, None),
    })
    .await?
    .map_err(|e| IngestError::Decode(e.to_string()))
}

/// Stores what a Sentry body held; events are filed under `project` when given.
pub async fn sentry(
    store: &Store,
    mut batch: EnvelopeBatch,
    project: Option<&str>,
) -> Result<Stored, IngestError> {
    if batch.events.is_empty() && batch.spans.is_empty() && !batch.rejected.is_empty() {
        return Err(IngestError::AllRejected(batch.rejected.join("; ")));
    }
    if let Some(p) = project {
        for e in &mut batch.events {
            e.project = Some(p.to_owned());
        }
    }
    let first_event = batch.events.first().and_then(|e| e.event_id);
    let traces = touched(&batch.spans, &batch.events);
    let report = if batch.events.is_empty() && batch.spans.is_empty() {
        WriteReport::default()
    } else {
        store
            .write(WriteBatch {
                spans: batch.spans,
                source: SpanSource::SentryTransaction,
                events: batch.events,
            })
            .await?
    };
    Ok(Stored {
        report,
        rejected: batch.rejected,
        dropped: batch.dropped,
        first_event,
        traces,
    })
}

/// Loads exported files of any format tracepin reads (`tracepin import`): spans as OTLP spans,
/// events as events. Returns what was stored per file, or why a file was not.
pub fn import_file(store: &Store, bytes: &[u8]) -> Result<WriteReport, String> {
    import_decoded(store, formats::decode(bytes).map_err(|e| e.to_string())?)
}

/// [`import_file`] for a payload already decoded (a large file read piece by piece).
pub fn import_decoded(store: &Store, decoded: Decoded) -> Result<WriteReport, String> {
    let batch = match decoded {
        Decoded::Trace(t) => WriteBatch {
            spans: t.spans,
            source: SpanSource::Otlp,
            events: Vec::new(),
        },
        Decoded::Events { events, .. } => WriteBatch {
            spans: Vec::new(),
            source: SpanSource::Otlp,
            events,
        },
    };
    store.write_blocking(batch).map_err(|e| e.to_string())
}

/// Seeds a new store with the built-in demo incident, through the ingest decoders: the OTLP files
/// as OTLP/JSON bodies, the envelopes as envelopes. Returns problems (expected: none).
pub async fn seed_demo(store: &Store) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, bytes) in crate::connectors::demo::FILES {
        let result = if name.ends_with(".envelope") {
            match decode_sentry(bytes.to_vec(), SentryBody::Envelope).await {
                Ok(batch) => {
                    let project = batch.events.first().and_then(|e| e.project.clone());
                    sentry(store, batch, project.as_deref()).await
                }
                Err(e) => Err(e),
            }
        } else {
            otlp(store, bytes.to_vec(), OtlpEncoding::Json).await
        };
        match result {
            Ok(s) if s.rejected.is_empty() => {}
            Ok(s) => problems.push(format!("{name}: {}", s.rejected.join("; "))),
            Err(e) => problems.push(format!("{name}: {e}")),
        }
    }
    problems
}
