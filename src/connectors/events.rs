//! Event sources: where Sentry error events come from. Sentry's Web API, a files directory and the
//! local store (events tracepin received itself); one closed enum so data loading treats them alike.
//!
//! Every method answers for one source and says what went wrong as a sentence naming it; none
//! panics. Events come back as domain [`ErrorEvent`]s; which trace they belong to is decided by
//! `correlate`, not here.

use std::collections::HashSet;
use std::sync::Arc;

use crate::connectors::sentry::SentryClient;
use crate::connectors::store::Store;
use crate::connectors::traces::FilesSource;
use crate::correlate::keys::TraceKeys;
use crate::domain::{ErrorEvent, EventId, TraceId};

/// One configured source of error events.
#[derive(Debug, Clone)]
pub enum EventSource {
    /// The Sentry Web API of one organization.
    Sentry(Arc<SentryClient>),
    /// Sentry events exported as files (envelopes, Web API JSON), indexed with the traces.
    Files(FilesSource),
    /// Events received by tracepin itself, in the local store.
    Store(Store),
}

/// An event found by id, with the trace the source files it under (if it says).
pub type FoundEvent = (ErrorEvent, Option<TraceId>);

/// Events a source found, and what it could not search.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The events.
    pub events: Vec<ErrorEvent>,
    /// Searches that failed or were cut short while the rest answered.
    pub notices: Vec<String>,
}

impl EventSource {
    /// A short name for notices and "where tracepin looked": `Sentry`, `files` or `local store`.
    pub fn name(&self) -> &'static str {
        match self {
            EventSource::Sentry(_) => "Sentry",
            EventSource::Files(_) => "files",
            EventSource::Store(_) => "local store",
        }
    }

    /// The events this source files under a trace id: Sentry's trace context, and the OpenTelemetry
    /// trace id carried in `contexts.otel_trace` or the `otel.trace_id` tag. Searches that failed
    /// while others answered come back as notices.
    pub async fn events_for_trace(&self, id: TraceId) -> Result<Found, String> {
        match self {
            EventSource::Sentry(c) => c
                .events_for_trace_detailed(id)
                .await
                .map(|t| Found {
                    events: t.events,
                    notices: t.notices,
                })
                .map_err(|e| e.to_string()),
            EventSource::Files(f) => Ok(Found {
                events: f.events_for_trace(id).await,
                notices: Vec::new(),
            }),
            EventSource::Store(s) => s
                .events_for_trace(id)
                .await
                .map(|events| Found {
                    events,
                    notices: Vec::new(),
                })
                .map_err(|e| e.to_string()),
        }
    }

    /// The events a trace's keys link to it (event ids its spans claim, correlation values its spans
    /// carry), leaving out `known` ones.
    pub async fn events_for_keys(
        &self,
        keys: &TraceKeys,
        known: &HashSet<EventId>,
    ) -> Result<Found, String> {
        match self {
            EventSource::Sentry(c) => c
                .linked_events(keys, known)
                .await
                .map(|l| Found {
                    events: l.events,
                    notices: l.notices,
                })
                .map_err(|e| e.to_string()),
            EventSource::Files(f) => Ok(Found {
                events: f
                    .events_with_keys(keys)
                    .await
                    .into_iter()
                    .filter(|e| e.event_id.is_none_or(|id| !known.contains(&id)))
                    .collect(),
                notices: Vec::new(),
            }),
            EventSource::Store(s) => s
                .events_with_keys(keys, known)
                .await
                .map(|events| Found {
                    events,
                    notices: Vec::new(),
                })
                .map_err(|e| e.to_string()),
        }
    }

    /// One event by id, `None` when this source does not have it.
    pub async fn find_event(&self, id: EventId) -> Result<Option<FoundEvent>, String> {
        match self {
            EventSource::Sentry(c) => match c.resolve_event_id(id).await {
                Ok(found) => Ok(found.map(|(_, e)| (e, None))),
                Err(e) => Err(e.to_string()),
            },
            EventSource::Files(f) => Ok(f.event(id).await),
            EventSource::Store(s) => s.event(id).await.map_err(|e| e.to_string()),
        }
    }
}
