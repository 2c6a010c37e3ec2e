//! The Sentry Web API connector against a fake Sentry (axum on 127.0.0.1:0).
//!
//! The fake serves scenario e of our SDK captures converted to Web API form
//! (`tests/fixtures/fake-sentry/scenario-e.json`, see `tests/fixtures/README.md`, "Fake Sentry") with
//! the response shapes of Sentry's published examples, and injects the faults the connector must handle.
#![cfg(feature = "ssr")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use secrecy::SecretString;
use serde_json::{json, Value};
use tracepin::connectors::sentry::{
    IssueQuery, IssueSort, SentryClient, SentryConfig, SentryError, TraceLookup,
};

const TOKEN: &str = "sntryu_0123456789abcdefSECRETtoken";
const TRACE: &str = "d623a6d859f6f10504aae53c873bafc5";
/// The event whose span id has a leading zero (`01be27e16851934d`).
const ZERO_SPAN_EVENT: &str = "80f365e618874422ae7d50809fd365d7";

/// A trace id from its text.
fn tid(s: &str) -> tracepin::domain::TraceId {
    s.parse().expect("trace id")
}

/// An event id from its text (dashed UUIDs and upper case too, as users paste them).
fn eid(s: &str) -> tracepin::domain::EventId {
    tracepin::domain::event_id_lenient(s).expect("event id")
}

/// Faults the fake injects.
#[derive(Clone, Default)]
struct Faults {
    /// Every request answers this status and JSON body.
    status: Option<(u16, Value)>,
    /// The first request answers 429 with `X-Sentry-Rate-Limit-Reset` this many seconds ahead.
    rate_limit_once: Option<u64>,
    /// Every answer is delayed.
    delay: Option<Duration>,
    /// Full-event bodies are cut off.
    malformed: bool,
    /// The events endpoint rejects `dataset=errors&query=trace:…` with 400.
    reject_events_query: bool,
    /// Scopes reported by the API index.
    scopes: Option<Vec<&'static str>>,
}

struct Fake {
    org: String,
    base: Mutex<String>,
    events: Vec<Value>,
    issues: Vec<Value>,
    faults: Faults,
    hits: Mutex<HashMap<String, usize>>,
    total: AtomicUsize,
    last_query: Mutex<Vec<(String, String)>>,
}

type S = Arc<Fake>;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/fake-sentry/scenario-e.json"
    );
    let text = std::fs::read_to_string(path).expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn not_found(what: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "detail": format!("{what} not found") }),
    )
}

/// Auth, hit counting and the global faults; `None` lets the route answer.
async fn gate(s: &Fake, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
    let path = uri.path().to_owned();
    let n = s.total.fetch_add(1, Ordering::SeqCst);
    *s.hits.lock().expect("hits").entry(path).or_default() += 1;
    if let Some(d) = s.faults.delay {
        tokio::time::sleep(d).await;
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {TOKEN}") {
        // Echo the presented token, as a careless proxy might: the client must redact it.
        return Some(json_response(
            StatusCode::UNAUTHORIZED,
            &json!({ "detail": format!("Invalid token: {auth}") }),
        ));
    }
    if let Some((status, body)) = &s.faults.status {
        return Some(json_response(
            StatusCode::from_u16(*status).expect("status"),
            body,
        ));
    }
    if let Some(reset_in) = s.faults.rate_limit_once {
        if n == 0 {
            let reset = (now() + reset_in as f64).ceil() as u64;
            let mut r = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &json!("You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"),
            );
            let h = r.headers_mut();
            h.insert("X-Sentry-Rate-Limit-Limit", HeaderValue::from_static("40"));
            h.insert(
                "X-Sentry-Rate-Limit-Remaining",
                HeaderValue::from_static("0"),
            );
            h.insert("X-Sentry-Rate-Limit-Reset", HeaderValue::from(reset));
            return Some(r);
        }
    }
    None
}

/// The same event as the issue events list serves it (no interfaces).
fn slim(ev: &Value) -> Value {
    let mut ev = ev.clone();
    if let Some(o) = ev.as_object_mut() {
        for k in [
            "entries", "contexts", "context", "packages", "sdk", "_meta", "release",
        ] {
            o.remove(k);
        }
    }
    ev
}

impl Fake {
    fn event(&self, id: &str) -> Option<&Value> {
        self.events.iter().find(|e| e["eventID"] == id)
    }
    fn issue(&self, id: &str) -> Option<Value> {
        let mut i = self
            .issues
            .iter()
            .find(|i| i["id"] == id || i["shortId"] == id)?
            .clone();
        let base = self.base.lock().expect("base").clone();
        i["permalink"] = json!(format!(
            "{base}/organizations/{}/issues/{}/",
            self.org,
            i["id"].as_str()?
        ));
        Some(i)
    }
    fn full_event(&self, ev: &Value) -> Response {
        if self.faults.malformed {
            let text = ev.to_string();
            return (StatusCode::OK, text[..text.len() / 2].to_owned()).into_response();
        }
        let mut ev = ev.clone();
        if ev["eventID"] == ZERO_SPAN_EVENT {
            // This event's contexts lack the span: the errors listing's trace.span is the only link.
            if let Some(tc) = ev["contexts"]["trace"].as_object_mut() {
                tc.remove("span_id");
                tc.remove("trace_id");
            }
        }
        json_response(StatusCode::OK, &ev)
    }
    fn link(&self, uri: &Uri, prev: Option<usize>, next: Option<usize>, more: bool) -> String {
        let base = self.base.lock().expect("base").clone();
        let url = |c: &str| format!("{base}{}?&cursor={c}", uri.path());
        let p = prev.map_or("0:0:1".to_owned(), |o| format!("0:{o}:1"));
        let n = format!("0:{}:0", next.unwrap_or(0));
        format!(
            "<{}>; rel=\"previous\"; results=\"{}\"; cursor=\"{p}\", <{}>; rel=\"next\"; results=\"{more}\"; cursor=\"{n}\"",
            url(&p),
            prev.is_some(),
            url(&n)
        )
    }
}

fn offset(q: &[(String, String)]) -> usize {
    q.iter()
        .find(|(k, _)| k == "cursor")
        .and_then(|(_, c)| c.split(':').nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn paged(
    s: &Fake,
    uri: &Uri,
    q: &[(String, String)],
    items: Vec<Value>,
    size: usize,
    wrap: bool,
) -> Response {
    let start = offset(q).min(items.len());
    let end = (start + size).min(items.len());
    let page: Vec<Value> = items[start..end].to_vec();
    let prev = (start > 0).then(|| start.saturating_sub(size));
    let link = s.link(uri, prev, Some(end), end < items.len());
    let body = if wrap {
        json!({ "data": page, "meta": { "fields": { "id": "string", "project": "string", "trace.span": "string",
            "issue.id": "integer", "issue": "string", "timestamp": "date" }, "units": {} } })
    } else {
        Value::Array(page)
    };
    let mut r = json_response(StatusCode::OK, &body);
    r.headers_mut()
        .insert(header::LINK, HeaderValue::from_str(&link).expect("link"));
    r
}

macro_rules! gated {
    ($s:expr, $uri:expr, $h:expr) => {
        if let Some(r) = gate(&$s, &$uri, &$h).await {
            return r;
        }
    };
}

async fn index(State(s): State<S>, uri: Uri, h: HeaderMap) -> Response {
    gated!(s, uri, h);
    let scopes = s
        .faults
        .scopes
        .clone()
        .unwrap_or(vec!["org:read", "project:read", "event:read"]);
    json_response(
        StatusCode::OK,
        &json!({ "version": "0", "auth": { "scopes": scopes }, "user": null }),
    )
}

async fn org(State(s): State<S>, uri: Uri, h: HeaderMap, Path(org): Path<String>) -> Response {
    gated!(s, uri, h);
    if org != s.org {
        return not_found("Organization");
    }
    json_response(
        StatusCode::OK,
        &json!({ "id": "1", "slug": org, "name": "Acme Shop" }),
    )
}

async fn issues(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path(org): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    gated!(s, uri, h);
    if org != s.org {
        return not_found("Organization");
    }
    *s.last_query.lock().expect("q") = q.clone();
    let size = q
        .iter()
        .find(|(k, _)| k == "limit")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(100);
    let all: Vec<Value> = s
        .issues
        .iter()
        .filter_map(|i| s.issue(i["id"].as_str()?))
        .collect();
    paged(&s, &uri, &q, all, size, false)
}

async fn issue(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((_org, id)): Path<(String, String)>,
) -> Response {
    gated!(s, uri, h);
    match s.issue(&id) {
        Some(i) if i["id"] == id.as_str() => json_response(StatusCode::OK, &i),
        _ => not_found("Issue"),
    }
}

async fn issue_latest(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((_org, id)): Path<(String, String)>,
) -> Response {
    gated!(s, uri, h);
    match s.events.iter().rev().find(|e| e["groupID"] == id.as_str()) {
        Some(ev) => s.full_event(ev),
        None => not_found("Issue"),
    }
}

async fn issue_events(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((_org, id)): Path<(String, String)>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    gated!(s, uri, h);
    let list: Vec<Value> = s
        .events
        .iter()
        .filter(|e| e["groupID"] == id.as_str())
        .map(slim)
        .collect();
    paged(&s, &uri, &q, list, 100, false)
}

async fn shortid(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((org, short)): Path<(String, String)>,
) -> Response {
    gated!(s, uri, h);
    match s.issue(&short) {
        Some(i) if i["shortId"] == short.as_str() => json_response(
            StatusCode::OK,
            &json!({ "organizationSlug": org, "projectSlug": i["project"]["slug"], "groupId": i["id"],
                     "shortId": short, "group": i }),
        ),
        _ => not_found("Short ID"),
    }
}

async fn eventid(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((org, id)): Path<(String, String)>,
) -> Response {
    gated!(s, uri, h);
    match s.event(&id) {
        Some(ev) => json_response(
            StatusCode::OK,
            &json!({ "organizationSlug": org, "projectSlug": ev["projectSlug"], "groupId": ev["groupID"],
                     "eventId": id, "event": ev }),
        ),
        None => not_found("Event"),
    }
}

async fn project_event(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((_org, project, id)): Path<(String, String, String)>,
) -> Response {
    gated!(s, uri, h);
    match s.event(&id) {
        Some(ev) if ev["projectSlug"] == project.as_str() => s.full_event(ev),
        _ => not_found("Event"),
    }
}

async fn org_events(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    gated!(s, uri, h);
    let has = |k: &str, v: &str| q.iter().any(|(a, b)| a == k && b == v);
    if s.faults.reject_events_query || !has("dataset", "errors") {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "detail": "Invalid query: dataset errors is not available" }),
        );
    }
    let trace = q
        .iter()
        .find(|(k, _)| k == "query")
        .and_then(|(_, v)| v.strip_prefix("trace:"))
        .unwrap_or("");
    let rows: Vec<Value> = s
        .events
        .iter()
        .filter(|e| e["contexts"]["trace"]["trace_id"] == trace)
        .map(|e| {
            let span = e["contexts"]["trace"]["span_id"].as_str().unwrap_or("");
            let issue = s
                .issues
                .iter()
                .find(|i| i["id"] == e["groupID"])
                .expect("issue");
            json!({ "id": e["eventID"], "project": e["projectSlug"],
                    // a UInt64 in ClickHouse: leading zeros are lost
                    "trace.span": span.trim_start_matches('0'),
                    "issue.id": e["groupID"].as_str().and_then(|g| g.parse::<u64>().ok()),
                    "issue": issue["shortId"], "timestamp": e["dateCreated"] })
        })
        .collect();
    paged(&s, &uri, &q, rows, 2, true)
}

async fn trace_tree(
    State(s): State<S>,
    uri: Uri,
    h: HeaderMap,
    Path((_org, id)): Path<(String, String)>,
) -> Response {
    gated!(s, uri, h);
    let errors: Vec<Value> = s
        .events
        .iter()
        .filter(|e| e["contexts"]["trace"]["trace_id"] == id.as_str())
        .map(|e| {
            json!({ "event_id": e["eventID"], "event_type": "error",
                    "issue_id": e["groupID"].as_str().and_then(|g| g.parse::<u64>().ok()),
                    "project_slug": e["projectSlug"], "project_id": e["projectID"].as_str().and_then(|p| p.parse::<u64>().ok()),
                    "span": e["contexts"]["trace"]["span_id"], "title": e["title"], "level": "error",
                    "timestamp": 1795259467.79 })
        })
        .collect();
    let (orphan, attached) = errors.split_first().expect("errors");
    let body = json!([
        { "event_id": "0123456789abcdef0123456789abcdef", "event_type": "span", "project_slug": "frontend",
          "op": "http.server", "is_transaction": true, "start_timestamp": 1795259467.7, "end_timestamp": 1795259468.1,
          "children": [ { "event_id": "1123456789abcdef0123456789abcdef", "event_type": "span",
                          "children": [], "errors": attached, "occurrences": [] } ],
          "errors": [], "occurrences": [] },
        orphan
    ]);
    json_response(StatusCode::OK, &body)
}

async fn start(faults: Faults) -> (SentryClient, Arc<Fake>) {
    start_with(faults, |c| c).await
}

async fn start_with(
    faults: Faults,
    tune: impl FnOnce(SentryConfig) -> SentryConfig,
) -> (SentryClient, Arc<Fake>) {
    let data = fixture();
    let fake = Arc::new(Fake {
        org: data["org"].as_str().expect("org").to_owned(),
        base: Mutex::new(String::new()),
        events: data["events"].as_array().expect("events").clone(),
        issues: data["issues"].as_array().expect("issues").clone(),
        faults,
        hits: Mutex::new(HashMap::new()),
        total: AtomicUsize::new(0),
        last_query: Mutex::new(Vec::new()),
    });
    let app = Router::new()
        .route("/api/0/", get(index))
        .route("/api/0/organizations/{org}/", get(org))
        .route("/api/0/organizations/{org}/issues/", get(issues))
        .route("/api/0/organizations/{org}/issues/{id}/", get(issue))
        .route(
            "/api/0/organizations/{org}/issues/{id}/events/latest/",
            get(issue_latest),
        )
        .route(
            "/api/0/organizations/{org}/issues/{id}/events/",
            get(issue_events),
        )
        .route("/api/0/organizations/{org}/shortids/{short}/", get(shortid))
        .route("/api/0/organizations/{org}/eventids/{id}/", get(eventid))
        .route("/api/0/organizations/{org}/events/", get(org_events))
        .route("/api/0/organizations/{org}/trace/{id}/", get(trace_tree))
        .route(
            "/api/0/projects/{org}/{project}/events/{id}/",
            get(project_event),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    *fake.base.lock().expect("base") = base.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut config = SentryConfig::new(base, fake.org.clone(), SecretString::from(TOKEN));
    config.timeout = Duration::from_secs(5);
    config.max_rate_limit_wait = Duration::from_secs(3);
    let client = SentryClient::new(tune(config)).expect("client");
    (client, fake)
}

fn hits(fake: &Fake, path: &str) -> usize {
    fake.hits
        .lock()
        .expect("hits")
        .get(path)
        .copied()
        .unwrap_or(0)
}

fn assert_no_token(e: &SentryError) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
    assert!(!text.contains("SECRET"), "token leaked: {text}");
}

// ---- events of a trace -------------------------------------------------------------------------

#[tokio::test]
async fn events_for_trace_pages_through_errors_and_pads_span_ids() {
    let (client, fake) = start(Faults::default()).await;
    let found = client
        .events_for_trace_detailed(tid(TRACE))
        .await
        .expect("events");
    assert_eq!(found.via, TraceLookup::EventsQuery);
    assert_eq!(found.events.len(), 5);
    // 5 rows at 2 per page: 3 pages of `trace:<id>`, 1 of `tags[otel.trace_id]:<id>` (empty), then
    // 5 full events.
    assert_eq!(hits(&fake, "/api/0/organizations/acme/events/"), 4);
    let ids: Vec<String> = found
        .events
        .iter()
        .filter_map(|e| e.event_id.map(|i| i.to_hex()))
        .collect();
    for ev in fake.events.iter() {
        assert!(ids.contains(&ev["eventID"].as_str().expect("id").to_owned()));
    }
    let ts: Vec<u64> = found.events.iter().map(|e| e.timestamp_ns).collect();
    assert!(ts.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let zero = found
        .events
        .iter()
        .find(|e| e.event_id.map(|i| i.to_hex()).as_deref() == Some(ZERO_SPAN_EVENT))
        .expect("event with the leading-zero span");
    let tc = zero.trace_context.as_ref().expect("trace context");
    assert_eq!(
        tc.span_id.map(|s| s.to_hex()).as_deref(),
        Some("01be27e16851934d")
    );
    assert_eq!(tc.trace_id.map(|t| t.to_hex()).as_deref(), Some(TRACE));
    for ev in &found.events {
        let issue = ev.issue_id.as_deref().expect("issue id");
        let eid = ev.event_id.expect("event id").to_hex();
        assert!(ev.short_id.is_some(), "short id from the listing");
        assert!(ev.project.is_some());
        assert_eq!(
            ev.sentry_url.as_deref(),
            Some(
                format!(
                    "{}/organizations/acme/issues/{issue}/events/{eid}/",
                    fake.base.lock().expect("b")
                )
                .as_str()
            )
        );
    }
    let payments = found
        .events
        .iter()
        .find(|e| e.short_id.as_deref() == Some("PAYMENTS-21"))
        .expect("payments");
    assert_eq!(payments.project.as_deref(), Some("payments"));
    assert_eq!(
        payments.main_exception().and_then(|x| x.ty.as_deref()),
        Some("GatewayTimeout")
    );
}

#[tokio::test]
async fn events_for_trace_falls_back_to_the_trace_endpoint() {
    let (client, fake) = start(Faults {
        reject_events_query: true,
        ..Faults::default()
    })
    .await;
    let found = client
        .events_for_trace_detailed(tid(TRACE))
        .await
        .expect("events");
    assert_eq!(found.via, TraceLookup::TraceEndpoint);
    assert_eq!(found.events.len(), 5, "nested and orphan errors");
    assert_eq!(
        hits(&fake, &format!("/api/0/organizations/acme/trace/{TRACE}/")),
        1
    );
    let zero = found
        .events
        .iter()
        .find(|e| e.event_id.map(|i| i.to_hex()).as_deref() == Some(ZERO_SPAN_EVENT))
        .expect("orphan error");
    assert_eq!(
        zero.trace_context
            .as_ref()
            .and_then(|t| t.span_id)
            .map(|s| s.to_hex())
            .as_deref(),
        Some("01be27e16851934d")
    );
    assert!(found
        .events
        .iter()
        .all(|e| e.issue_id.is_some() && e.sentry_url.is_some()));
}

#[tokio::test]
async fn events_for_an_unknown_trace_is_empty() {
    let (client, fake) = start(Faults::default()).await;
    let none = client
        .events_for_trace(tid("0af7651916cd43dd8448eb211c80319c"))
        .await
        .expect("empty");
    assert!(none.is_empty());
    // Ids are typed: a malformed one cannot reach the client. One trace costs two searches:
    // `trace:<id>` and `tags[otel.trace_id]:<id>`.
    assert_eq!(fake.total.load(Ordering::SeqCst), 2);
}

// ---- id resolution ------------------------------------------------------------------------------

#[tokio::test]
async fn event_id_and_short_id_resolution() {
    let (client, _fake) = start(Faults::default()).await;
    let (project, ev) = client
        .resolve_event_id(eid("E3DE285B-D47C-404C-9A4E-8C0A4D2A7B3B"))
        .await
        .expect("resolve")
        .expect("found");
    assert_eq!(project, "payments");
    assert_eq!(ev.issue_id.as_deref(), Some("6012345111"));
    assert_eq!(
        ev.title,
        "GatewayTimeout: PSP did not answer within 3000 ms (attempt 1)"
    );
    assert!(ev.sentry_url.as_deref().is_some_and(
        |u| u.ends_with("/issues/6012345111/events/e3de285bd47c404c9a4e8c0a4d2a7b3b/")
    ));
    assert_eq!(
        client
            .resolve_event_id(eid("0af7651916cd43dd8448eb211c80319c"))
            .await
            .expect("404 is None"),
        None
    );

    let issue = client
        .resolve_short_id("PAYMENTS-21")
        .await
        .expect("resolve")
        .expect("found");
    assert_eq!(issue.id, "6012345111");
    assert_eq!(issue.project, "payments");
    assert_eq!(issue.level, "error");
    assert_eq!(
        client
            .resolve_short_id("NOPE-1")
            .await
            .expect("404 is None"),
        None
    );
    assert_eq!(
        client.issue("PAYMENTS-21").await.expect("by short id"),
        issue
    );
    assert_eq!(
        client.issue("6012345111").await.expect("by id").short_id,
        "PAYMENTS-21"
    );

    let ev = client
        .project_event("inventory", eid(ZERO_SPAN_EVENT))
        .await
        .expect("project event");
    assert_eq!(ev.project.as_deref(), Some("inventory"));
    assert_eq!(
        ev.main_exception().and_then(|x| x.ty.as_deref()),
        Some("PriceCacheCorrupted")
    );

    let latest = client.latest_event("6012345113").await.expect("latest");
    assert_eq!(latest.short_id.as_deref(), Some("CHECKOUT-API-23"));
    assert_eq!(
        latest
            .message
            .as_deref()
            .map(|m| m.starts_with("order ord-3001")),
        Some(true)
    );
    let page = client
        .issue_events("6012345112", None)
        .await
        .expect("issue events");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.next_cursor, None);
    assert_eq!(page.items[0].issue_id.as_deref(), Some("6012345112"));
}

// ---- issue list ----------------------------------------------------------------------------------

#[tokio::test]
async fn issue_list_pagination_and_cache() {
    let (client, fake) = start(Faults::default()).await;
    let mut q = IssueQuery {
        query: Some("is:unresolved trace:x".into()),
        stats_period: Some("24h".into()),
        project: vec!["payments".into(), "inventory".into()],
        environment: vec!["demo".into()],
        sort: Some(IssueSort::Freq),
        limit: Some(2),
        ..IssueQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = client.list_issues(&q).await.expect("page");
        let next = page.next_cursor.clone();
        pages.push(page);
        match next {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
        assert!(
            pages.len() < 10,
            "pagination must stop when results=\"false\""
        );
    }
    assert_eq!(
        pages.iter().map(|p| p.items.len()).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    let first = &pages[0].items[0];
    assert_eq!(first.short_id, "INVENTORY-20");
    assert_eq!(first.count, 1);
    assert_eq!(first.project, "inventory");
    assert!(first.first_seen.is_some());
    assert!(first
        .permalink
        .ends_with("/organizations/acme/issues/6012345110/"));
    let sent = fake.last_query.lock().expect("q").clone();
    for (k, v) in [
        ("query", "is:unresolved trace:x"),
        ("statsPeriod", "24h"),
        ("project", "payments"),
        ("project", "inventory"),
        ("environment", "demo"),
        ("sort", "freq"),
        ("limit", "2"),
    ] {
        assert!(
            sent.contains(&(k.to_owned(), v.to_owned())),
            "{k}={v} in {sent:?}"
        );
    }
    // Cached for ~30 s: the same page again costs nothing upstream.
    let before = fake.total.load(Ordering::SeqCst);
    q.cursor = None;
    client.list_issues(&q).await.expect("cached");
    assert_eq!(fake.total.load(Ordering::SeqCst), before);
}

#[tokio::test]
async fn concurrent_identical_requests_share_one_upstream_call() {
    let (client, fake) = start(Faults {
        delay: Some(Duration::from_millis(200)),
        ..Faults::default()
    })
    .await;
    let client = Arc::new(client);
    let calls = (0..16).map(|_| {
        let c = client.clone();
        tokio::spawn(async move {
            c.project_event("payments", eid("e3de285bd47c404c9a4e8c0a4d2a7b3b"))
                .await
        })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(
            r.expect("join").expect("event").project.as_deref(),
            Some("payments")
        );
    }
    assert_eq!(
        hits(
            &fake,
            "/api/0/projects/acme/payments/events/e3de285bd47c404c9a4e8c0a4d2a7b3b/"
        ),
        1
    );
    assert_eq!(client.requests_sent(), 1);
}

// ---- token check ------------------------------------------------------------------------------------

#[tokio::test]
async fn check_accepts_a_read_token_and_names_missing_scopes() {
    let (client, _fake) = start(Faults::default()).await;
    let ok = client.check().await.expect("token ok");
    assert_eq!(ok.org_name.as_deref(), Some("Acme Shop"));
    assert_eq!(ok.scopes.map(|s| s.len()), Some(3));

    let (client, fake) = start(Faults {
        scopes: Some(vec!["org:write", "event:read"]),
        ..Faults::default()
    })
    .await;
    let e = client.check().await.expect_err("missing scope");
    let text = e.to_string();
    assert!(matches!(e, SentryError::MissingScopes { .. }), "{text}");
    assert!(
        text.contains("project:read") && !text.contains("scope(s) org:read"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}/settings/account/api/auth-tokens/",
            fake.base.lock().expect("b")
        )),
        "{text}"
    );
    assert_no_token(&e);
}

// ---- fault matrix ----------------------------------------------------------------------------------------

#[tokio::test]
async fn unauthorized_names_the_token_page_and_never_the_token() {
    let (client, fake) = start_with(Faults::default(), |mut c| {
        c.token = SecretString::from("sntryu_wrongSECRETvalue");
        c
    })
    .await;
    let e = client.events_for_trace(tid(TRACE)).await.expect_err("401");
    let text = e.to_string();
    assert!(matches!(e, SentryError::Unauthorized { .. }), "{text}");
    assert!(
        text.contains("401") && text.contains("GET /api/0/organizations/acme/events/"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "{}/settings/account/api/auth-tokens/",
            fake.base.lock().expect("b")
        )),
        "{text}"
    );
    assert!(
        text.contains("[redacted]"),
        "Sentry's echo of the token is redacted: {text}"
    );
    assert!(
        !text.contains("wrongSECRET") && !format!("{e:?}").contains("wrongSECRET"),
        "{text}"
    );
    let e = client.check().await.expect_err("401");
    assert!(!e.to_string().contains("wrongSECRET"));
}

#[tokio::test]
async fn forbidden_names_the_missing_scope() {
    let body = json!({ "detail": "You do not have permission to perform this action." });
    let (client, _fake) = start(Faults {
        status: Some((403, body)),
        ..Faults::default()
    })
    .await;
    let e = client
        .project_event("payments", eid("e3de285bd47c404c9a4e8c0a4d2a7b3b"))
        .await
        .expect_err("403");
    let text = e.to_string();
    assert!(
        matches!(
            e,
            SentryError::Forbidden {
                scope: "project:read",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("`project:read`") && text.contains("You do not have permission"),
        "{text}"
    );
    let e = client
        .list_issues(&IssueQuery::default())
        .await
        .expect_err("403");
    assert!(e.to_string().contains("`event:read`"), "{e}");
    assert_no_token(&e);
}

#[tokio::test]
async fn not_found_names_the_path() {
    let (client, _fake) = start(Faults::default()).await;
    let e = client
        .project_event("payments", eid("0af7651916cd43dd8448eb211c80319c"))
        .await
        .expect_err("404");
    let text = e.to_string();
    assert!(e.is_not_found(), "{text}");
    assert!(
        text.contains("/api/0/projects/acme/payments/events/0af7651916cd43dd8448eb211c80319c/")
            && text.contains("Event not found"),
        "{text}"
    );
    let e = client.issue("NOPE-1").await.expect_err("404");
    assert!(e.is_not_found(), "{e}");
    assert_no_token(&e);
}

#[tokio::test]
async fn rate_limit_with_a_short_reset_waits_then_succeeds() {
    let (client, fake) = start(Faults {
        rate_limit_once: Some(1),
        ..Faults::default()
    })
    .await;
    let t = Instant::now();
    let issue = client
        .resolve_short_id("PAYMENTS-21")
        .await
        .expect("after waiting")
        .expect("found");
    assert_eq!(issue.id, "6012345111");
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "waited for the reset: {:?}",
        t.elapsed()
    );
    assert_eq!(fake.total.load(Ordering::SeqCst), 2, "one 429, one retry");
}

#[tokio::test]
async fn rate_limit_with_a_long_reset_fails_clearly_without_hammering() {
    let (client, fake) = start(Faults {
        rate_limit_once: Some(3600),
        ..Faults::default()
    })
    .await;
    let t = Instant::now();
    let e = client
        .resolve_short_id("PAYMENTS-21")
        .await
        .expect_err("429");
    let text = e.to_string();
    assert!(t.elapsed() < Duration::from_secs(2), "no long wait");
    match &e {
        SentryError::RateLimited { retry_in_s, .. } => {
            assert!((3590..=3601).contains(retry_in_s), "{text}")
        }
        other => panic!("expected RateLimited, got {other}"),
    }
    assert!(
        text.starts_with(
            "Sentry rate limit on GET /api/0/organizations/acme/shortids/PAYMENTS-21/, retry in"
        ),
        "{text}"
    );
    // The window is known to be exhausted: the next call fails without asking Sentry again.
    let again = client
        .resolve_short_id("PAYMENTS-21")
        .await
        .expect_err("still limited");
    assert!(matches!(again, SentryError::RateLimited { .. }), "{again}");
    assert_eq!(fake.total.load(Ordering::SeqCst), 1);
    assert_no_token(&again);
}

#[tokio::test]
async fn server_error_is_reported_with_status_and_detail() {
    let (client, _fake) = start(Faults {
        status: Some((500, json!({ "detail": "Internal Error" }))),
        ..Faults::default()
    })
    .await;
    let e = client.events_for_trace(tid(TRACE)).await.expect_err("500");
    let text = e.to_string();
    assert!(
        matches!(e, SentryError::Status { status: 500, .. }),
        "{text}"
    );
    assert!(
        text.contains("HTTP 500")
            && text.contains("Internal Error")
            && text.contains("/api/0/organizations/acme/events/"),
        "{text}"
    );
    assert_no_token(&e);
}

#[tokio::test]
async fn timeout_is_reported() {
    let (client, _fake) = start_with(
        Faults {
            delay: Some(Duration::from_secs(3)),
            ..Faults::default()
        },
        |mut c| {
            c.timeout = Duration::from_millis(300);
            c
        },
    )
    .await;
    let t = Instant::now();
    let e = client
        .resolve_event_id(eid(ZERO_SPAN_EVENT))
        .await
        .expect_err("timeout");
    assert!(t.elapsed() < Duration::from_secs(2));
    let text = e.to_string();
    assert!(
        matches!(e, SentryError::Timeout { after_ms: 300, .. }),
        "{text}"
    );
    assert!(
        text.contains("/api/0/organizations/acme/eventids/"),
        "{text}"
    );
    assert_no_token(&e);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let (client, _fake) = start(Faults {
        malformed: true,
        ..Faults::default()
    })
    .await;
    let e = client
        .project_event("payments", eid("e3de285bd47c404c9a4e8c0a4d2a7b3b"))
        .await
        .expect_err("malformed");
    let text = e.to_string();
    assert!(matches!(e, SentryError::Decode { .. }), "{text}");
    assert!(
        text.contains("cannot read") && text.contains("/api/0/projects/acme/payments/events/"),
        "{text}"
    );
    // A failed call is not cached: the next one asks again.
    let _ = client
        .project_event("payments", eid("e3de285bd47c404c9a4e8c0a4d2a7b3b"))
        .await
        .expect_err("malformed again");
    assert_eq!(client.requests_sent(), 2);
    assert_no_token(&e);
}

#[tokio::test]
async fn unreachable_sentry_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = SentryClient::new(SentryConfig::new(
        format!("http://{addr}"),
        "acme",
        SecretString::from(TOKEN),
    ))
    .expect("client");
    let e = client.check().await.expect_err("refused");
    assert!(matches!(e, SentryError::Connect { .. }), "{e}");
    assert!(e.to_string().contains("GET /api/0/"), "{e}");
    assert_no_token(&e);
}
