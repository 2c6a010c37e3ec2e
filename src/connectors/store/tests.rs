//! Store tests: round trips, idempotency, link keys, issues, retention.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::domain::{
    AttrValue, EventId, ExceptionValue, KeyValue, OtelContext, SpanId, SpanKind, SpanStatus,
    StatusCode, TraceContext,
};

static N: AtomicUsize = AtomicUsize::new(0);

pub(crate) fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "tracepin-store-test-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        now_ns()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn tid(n: u8) -> TraceId {
    TraceId([n; 16])
}

fn span(t: u8, s: u8, parent: Option<u8>, error: bool) -> Span {
    Span {
        trace_id: tid(t),
        span_id: SpanId([s; 8]),
        parent_span_id: parent.map(|p| SpanId([p; 8])),
        service: "api".into(),
        name: format!("op{s}").into(),
        kind: SpanKind::Server,
        start_ns: 1_000 + u64::from(s),
        end_ns: 2_000,
        status: SpanStatus {
            code: if error {
                StatusCode::Error
            } else {
                StatusCode::Unset
            },
            message: None,
        },
        attributes: thin_vec::thin_vec![
            KeyValue::str("transaction_id", format!("txn-{t}")),
            KeyValue {
                key: "n".into(),
                value: AttrValue::Int(i64::from(s)),
            },
        ],
        events: crate::domain::ThinVec::new(),
        links: crate::domain::ThinVec::new(),
        resource: vec![KeyValue::str("service.name", "api")].into(),
        scope: Some("scope".into()),
    }
}

fn event(id: u8, trace: Option<u8>) -> ErrorEvent {
    ErrorEvent {
        event_id: EventId::from_bytes([id; 16]),
        title: "Boom: x".into(),
        level: "error".into(),
        timestamp_ns: 1_500,
        project: Some("1".into()),
        release: Some("api@1".into()),
        trace_context: trace.map(|t| TraceContext {
            trace_id: Some(tid(t)),
            span_id: Some(SpanId([2; 8])),
            ..TraceContext::default()
        }),
        exceptions: vec![ExceptionValue {
            ty: Some("Boom".into()),
            value: Some("x".into()),
            ..ExceptionValue::default()
        }],
        tags: vec![("transaction_id".into(), "txn-9".into())],
        ..ErrorEvent::default()
    }
}

fn open(dir: &std::path::Path, cfg: &StoreConfig) -> Store {
    Store::open(dir, cfg, &["transaction_id".to_owned()]).expect("opens")
}

fn batch(spans: Vec<Span>, events: Vec<ErrorEvent>) -> WriteBatch {
    WriteBatch {
        spans,
        source: SpanSource::Otlp,
        events,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_and_idempotent() {
    let dir = temp_dir();
    let store = open(&dir, &StoreConfig::default());
    assert!(store.was_created());
    let spans = vec![span(1, 1, None, false), span(1, 2, Some(1), true)];
    let r = store
        .write(batch(spans.clone(), vec![event(7, Some(1))]))
        .await
        .expect("written");
    assert_eq!((r.spans_new, r.events_new), (2, 1));
    let r = store
        .write(batch(spans.clone(), vec![event(7, Some(1))]))
        .await
        .expect("written again");
    assert_eq!(
        (r.spans_new, r.spans_existing, r.events_existing),
        (0, 2, 1)
    );
    let mut back = store
        .fetch(tid(1))
        .await
        .expect("reads")
        .expect("has spans");
    back.sort_by_key(|s| s.span_id);
    assert_eq!(back, spans);
    let g = store.growth(tid(1)).await.expect("growth");
    assert_eq!((g.spans, g.events), (2, 1));
    assert!(store.fetch(tid(2)).await.expect("reads").is_none());

    let rows = store.search_errors(10).await.expect("search");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].root_name.as_deref(), Some("op1"));
    assert_eq!(rows[0].error_span_count, Some(1));
    assert_eq!(
        store
            .traces_with_attribute("transaction_id", "txn-1", 5)
            .await
            .expect("attr"),
        vec![tid(1)]
    );
    let evs = store.events_for_trace(tid(1)).await.expect("events");
    assert_eq!(evs.len(), 1);
    let (e, t) = store
        .event(EventId([7; 16]))
        .await
        .expect("event")
        .expect("found");
    assert_eq!(e.title, "Boom: x");
    assert_eq!(t, Some(tid(1)));
    let stats = store.stats().await.expect("stats");
    assert_eq!((stats.traces, stats.spans, stats.events), (1, 2, 1));
    store.close();

    // Durable across a reopen.
    let again = open(&dir, &StoreConfig::default());
    assert!(!again.was_created());
    assert_eq!(
        again.fetch(tid(1)).await.expect("reads").map(|s| s.len()),
        Some(2)
    );
    assert_eq!(again.usage().0, stats.bytes, "byte total recounted");
    again.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_by_keys_and_claims() {
    let dir = temp_dir();
    let store = open(&dir, &StoreConfig::default());
    let mut s = span(3, 1, None, true);
    s.attributes.push(KeyValue::str(
        "sentry.event_id",
        "0909090909090909-0909-0909-09090909",
    ));
    // An event tagged with the trace's correlation value, filed under no trace.
    let mut tagged = event(8, None);
    tagged.tags = vec![("transaction_id".into(), "txn-3".into())];
    // An event claimed by the span, naming its OTel trace only in `otel_trace`.
    let mut claimed = event(9, None);
    claimed.otel_context = Some(OtelContext {
        trace_id: Some(tid(3)),
        ..OtelContext::default()
    });
    store
        .write(batch(vec![s.clone()], vec![tagged, claimed]))
        .await
        .expect("written");
    let keys = crate::correlate::keys::trace_keys(&[s], &["transaction_id".to_owned()]);
    let found = store
        .events_with_keys(&keys, &std::collections::HashSet::new())
        .await
        .expect("linked");
    let mut ids: Vec<u8> = found
        .iter()
        .filter_map(|e| e.event_id)
        .map(|e| e.0[0])
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [8, 9]);
    let by_trace = store.events_for_trace(tid(3)).await.expect("by trace");
    assert_eq!(by_trace.len(), 1, "the otel_trace context names trace 3");
    let issues = store.issues(10).await.expect("issues");
    assert_eq!(issues.len(), 1, "same type, same frame: one issue");
    assert_eq!(issues[0].count, 2);
    assert_eq!(issues[0].trace, Some(tid(3)));
    store.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn byte_limit_evicts_oldest_whole_traces_but_not_one_being_read() {
    let dir = temp_dir();
    let cfg = StoreConfig {
        max_mb: Some(1),
        ..StoreConfig::default()
    };
    let store = open(&dir, &cfg);
    let big = |t: u8| -> Vec<Span> {
        (1..=200u8)
            .map(|s| {
                let mut sp = span(t, s, (s > 1).then_some(1), false);
                sp.attributes
                    .push(KeyValue::str("payload", "x".repeat(1500)));
                sp
            })
            .collect()
    };
    // Trace 1 is written first (the oldest) and is being read while the limit is crossed.
    store.write(batch(big(1), Vec::new())).await.expect("t1");
    store.write(batch(big(2), Vec::new())).await.expect("t2");
    let guard = store.reading(tid(1));
    store.write(batch(big(3), Vec::new())).await.expect("t3");
    store.write(batch(big(4), Vec::new())).await.expect("t4");
    store.sweep().await;
    assert!(
        store.fetch(tid(1)).await.expect("read").is_some(),
        "the trace being read stays"
    );
    assert!(
        store.fetch(tid(2)).await.expect("read").is_none(),
        "the oldest unread trace goes first"
    );
    assert_eq!(
        store.fetch(tid(4)).await.expect("read").map(|s| s.len()),
        Some(200),
        "the newest stays whole"
    );
    drop(guard);
    store.sweep().await;
    assert!(store.usage().0 <= 1024 * 1024, "{}", store.usage().0);
    // Whole traces only: whatever is left is complete.
    for t in 1..=4 {
        if let Some(s) = store.fetch(tid(t)).await.expect("read") {
            assert_eq!(s.len(), 200, "trace {t} whole");
        }
    }
    store.close();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_busy() {
    let dir = temp_dir();
    let cfg = StoreConfig {
        queue_items: Some(10),
        ..StoreConfig::default()
    };
    let store = open(&dir, &cfg);
    // Hold the queue artificially full.
    store.inner.shared.queued.store(10, Ordering::SeqCst);
    let err = store
        .write(batch(vec![span(5, 1, None, false)], Vec::new()))
        .await
        .expect_err("busy");
    assert!(matches!(err, WriteError::Busy { .. }), "{err:?}");
    store.inner.shared.queued.store(0, Ordering::SeqCst);
    store
        .write(batch(vec![span(5, 1, None, false)], Vec::new()))
        .await
        .expect("room again");
    store.close();
    let err = store
        .write(batch(vec![span(5, 2, None, false)], Vec::new()))
        .await
        .expect_err("closed");
    assert!(matches!(err, WriteError::Unavailable(_)), "{err:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_replaces_a_transaction_copy() {
    let dir = temp_dir();
    let store = open(&dir, &StoreConfig::default());
    let mut weak = span(6, 1, None, false);
    weak.name = "from sentry".into();
    store
        .write(WriteBatch {
            spans: vec![weak],
            source: SpanSource::SentryTransaction,
            events: Vec::new(),
        })
        .await
        .expect("weak");
    let strong = span(6, 1, None, true);
    store
        .write(batch(vec![strong.clone()], Vec::new()))
        .await
        .expect("strong");
    let back = store.fetch(tid(6)).await.expect("read").expect("spans");
    assert_eq!(back, vec![strong]);
    assert_eq!(
        store.search_errors(5).await.expect("rows")[0].error_span_count,
        Some(1)
    );
    store.close();
    let _ = std::fs::remove_dir_all(&dir);
}
