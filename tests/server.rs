//! The real router driven in-process with `oneshot`, and against fake upstreams on 127.0.0.1:0.

#![cfg(feature = "ssr")]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use tracepin::app::router;
use tracepin::server::config::{Config, Overrides};
use tracepin::server::AppState;

fn options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("tracepin")
        .site_root("target/site")
        .build()
}

fn config_from(text: &str) -> Config {
    Config::load(
        Some(("Leptos.toml", text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("valid config")
}

fn app(config: Config) -> Router {
    router(AppState::new(options(), config))
}

async fn get(app: &Router, path: &str, auth: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::builder().uri(path);
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    // A hang is a failure that names the path, not a stuck CI run.
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.clone()
            .oneshot(req.body(Body::empty()).expect("request")),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {path} did not answer within 30 s"))
    .expect("router never fails");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_readyz_on_demo_data() {
    let app = app(Config::default());
    let (status, body) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.trim(), "ok");

    let (status, body) = get(&app, "/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body).expect("readyz is JSON");
    assert_eq!(json["status"], "ready");
    assert_eq!(json["demo"], true);
    assert_eq!(json["upstreams"].as_array().map(Vec::len), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_path_is_a_404_page() {
    let app = app(Config::default());
    let (status, body) = get(&app, "/definitely/not/here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Nothing lives at this address"), "{body}");
    assert!(body.contains("/definitely/not/here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_page_renders_demo_incident_server_side() {
    let app = app(Config::default());
    let (status, body) = get(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("tracepin"));
    assert!(body.contains("lookup-input"), "header with lookup box");
}

/// Every waterfall row tells assistive technology its depth (`aria-level`, which the view macro does
/// not know): the attribute must come out under its own name, one more than the row's indent level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waterfall_rows_carry_their_tree_level() {
    let app = app(Config::default());
    let (status, html) = get(&app, "/trace/d623a6d859f6f10504aae53c873bafc5", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("attr:"),
        "an attribute named literally: {html}"
    );
    let rows: Vec<&str> = html
        .split("<div role=\"treeitem\"")
        .skip(1)
        .map(|r| r.split('>').next().unwrap_or_default())
        .collect();
    assert!(rows.len() > 3, "rows rendered: {}", rows.len());
    let level = |r: &str| -> Option<u32> {
        r.split("aria-level=\"")
            .nth(1)?
            .split('"')
            .next()?
            .parse()
            .ok()
    };
    let levels: Vec<Option<u32>> = rows.iter().map(|r| level(r)).collect();
    assert!(levels.iter().all(Option::is_some), "{rows:?}");
    assert_eq!(levels.first(), Some(&Some(1)), "the root is level 1");
    assert!(
        levels.iter().any(|l| l.is_some_and(|l| l > 2)),
        "nested rows are deeper: {levels:?}"
    );
}

async fn fake_upstream(routes: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, routes).await;
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_reports_each_upstream() {
    use axum::routing::get as route_get;
    let tempo = fake_upstream(Router::new().route(
        "/api/echo",
        route_get(|headers: axum::http::HeaderMap| async move {
            // The tenant header reaches the upstream.
            if headers.get("x-scope-orgid").is_some_and(|v| v == "acme") {
                (StatusCode::OK, "echo")
            } else {
                (StatusCode::UNAUTHORIZED, "no tenant")
            }
        }),
    ))
    .await;
    let sentry = fake_upstream(Router::new().route(
        "/api/0/",
        route_get(|| async {
            // A token that can read the organization but not events.
            axum::Json(serde_json::json!({"version": "0", "auth": {"scopes": ["org:read", "project:read"]}}))
        }),
    ))
    .await;
    // A port nobody listens on: bind, note the port, drop the listener.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let text = format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"secret-token-value\"\n\n\
         [[tempo]]\nname = \"production\"\nurl = \"{tempo}\"\ntenant = \"acme\"\n\n\
         [[jaeger]]\nname = \"staging\"\nurl = \"{closed}\"\n"
    );
    let app = app(config_from(&text));
    let (status, body) = get(&app, "/readyz", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("secret-token-value"), "token leaked: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["status"], "degraded");
    assert_eq!(json["demo"], false);
    let ups = json["upstreams"].as_array().expect("array");
    let find = |kind: &str| ups.iter().find(|u| u["kind"] == kind).expect(kind).clone();
    assert_eq!(find("tempo")["status"], "ok");
    assert_eq!(find("tempo")["name"], "production");
    let s = find("sentry");
    assert_eq!(s["status"], "error");
    assert!(
        s["detail"]
            .as_str()
            .expect("detail")
            .contains("auth-tokens"),
        "says where to create a token: {s}"
    );
    assert!(
        s["detail"].as_str().expect("detail").contains("event:read"),
        "{s}"
    );
    let j = find("jaeger");
    assert_eq!(j["status"], "error");
    assert!(
        j["detail"]
            .as_str()
            .expect("detail")
            .contains("/api/v3/services"),
        "{j}"
    );
}

/// Every route the app has: pages from the Leptos route list, server functions, assets, ops.
fn every_route() -> Vec<String> {
    let mut paths: Vec<String> = leptos_axum::generate_route_list(tracepin::ui::App)
        .iter()
        .map(|r| {
            // Fill path parameters with a plausible value.
            r.path()
                .split('/')
                .map(|seg| {
                    if seg.starts_with('{') || seg.starts_with(':') || seg.starts_with('*') {
                        "00f067aa0ba902b7"
                    } else {
                        seg
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    paths.extend(leptos::server_fn::axum::server_fn_paths().map(|(p, _)| p.to_owned()));
    paths.extend(
        [
            "/readyz",
            "/metrics",
            "/event/e3de285bd47c404c9a4e8c0a4d2a7b3b",
            "/lookup?q=d623a6d859f6f10504aae53c873bafc5",
            "/api/export/d623a6d859f6f10504aae53c873bafc5",
            "/pkg/tracepin.js",
            "/pkg/tracepin.css",
            "/favicon.svg",
            "/no/such/page",
        ]
        .map(String::from),
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/api/")),
        "server functions listed: {paths:?}"
    );
    paths
}

/// `TRACEPIN_AUTH_PASSWORD` alone used to leave every page open; it now turns basic auth on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_password_protects_every_route() {
    let env = |k: &str| (k == "TRACEPIN_AUTH_PASSWORD").then(|| "hunter2".to_owned());
    let app = app(Config::load(None, &env, &Overrides::default()).expect("valid"));
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("tracepin:hunter2")
    );
    for path in every_route() {
        let (status, _) = get(&app, &path, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} without credentials"
        );
    }
    let (status, _) = get(&app, "/", Some(&good)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_covers_every_route_but_healthz() {
    let env = |k: &str| (k == "TRACEPIN_AUTH_PASSWORD").then(|| "hunter2".to_owned());
    let config = Config::load(
        Some((
            "Leptos.toml",
            "[auth]\nmode = \"basic\"\nusername = \"oncall\"\n",
        )),
        &env,
        &Overrides::default(),
    )
    .expect("valid");
    let app = app(config);
    let good = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("oncall:hunter2")
    );
    let bad = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("oncall:wrong")
    );
    for path in every_route() {
        let (status, _) = get(&app, &path, None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} without credentials"
        );
        let (status, _) = get(&app, &path, Some(&bad)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} with a wrong password"
        );
        let (status, _) = get(&app, &path, Some(&good)).await;
        assert_ne!(
            status,
            StatusCode::UNAUTHORIZED,
            "{path} with the right password"
        );
    }
    let (status, _) = get(&app, "/healthz", None).await;
    assert_eq!(status, StatusCode::OK, "/healthz is exempt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_header_mode() {
    let app = app(config_from(
        "[auth]\nmode = \"proxy_header\"\nheader = \"X-Forwarded-User\"\n",
    ));
    for path in every_route() {
        let (status, body) = get(&app, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body.contains("reverse proxy"), "{body}");
        let res = app
            .clone()
            .oneshot(
                Request::builder()
                    .uri(&path)
                    .header("x-forwarded-user", "alice@example.com")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("router");
        assert_ne!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "{path} with the header"
        );
    }
}

/// A JSON fixture under `tests/fixtures`.
fn fixture_json(rel: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fake Sentry serving the events of a fake-sentry fixture: the org events list (`dataset=errors`) and
/// each full event by project.
async fn fake_sentry(fake: &serde_json::Value) -> String {
    use axum::extract::Path as AxPath;
    use axum::routing::get as route_get;
    let events = std::sync::Arc::new(fake["events"].as_array().cloned().unwrap_or_default());
    let issues = std::sync::Arc::new(fake["issues"].as_array().cloned().unwrap_or_default());
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            "{\"detail\":\"The requested resource does not exist\"}",
        )
            .into_response()
    };
    let (e1, e2, e3, e4) = (
        events.clone(),
        events.clone(),
        events.clone(),
        events.clone(),
    );
    let (i1, i2, i3, i4) = (
        issues.clone(),
        issues.clone(),
        issues.clone(),
        issues.clone(),
    );
    fake_upstream(
        Router::new()
            .route(
                "/api/0/organizations/{org}/events/",
                route_get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
                    // `query=trace:<id>` selects the events of one trace, `tags[key]:value` those
                    // with that tag; anything else matches nothing (as a real search would not
                    // match everything).
                    let q = q.unwrap_or_default();
                    let query = url::form_urlencoded::parse(q.as_bytes())
                        .find(|(k, _)| k == "query")
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default();
                    let matches = move |e: &serde_json::Value| -> bool {
                        if let Some(t) = query.strip_prefix("trace:") {
                            return e["contexts"]["trace"]["trace_id"] == t;
                        }
                        if let Some((key, value)) = query
                            .strip_prefix("tags[")
                            .and_then(|r| r.split_once("]:"))
                        {
                            return e["tags"].as_array().is_some_and(|tags| {
                                tags.iter().any(|t| t["key"] == key && t["value"] == value)
                            });
                        }
                        false
                    };
                    let rows: Vec<serde_json::Value> = e1
                        .iter()
                        .filter(|e| matches(e))
                        .map(|e| serde_json::json!({"id": e["eventID"], "project": e["projectSlug"], "timestamp": e["dateCreated"]}))
                        .collect();
                    async move { axum::Json(serde_json::json!({ "data": rows })) }
                }),
            )
            .route(
                "/api/0/projects/{org}/{project}/events/{id}/",
                route_get(move |AxPath((_, _, id)): AxPath<(String, String, String)>| {
                    let found = e2.iter().find(|e| e["eventID"] == id.as_str()).cloned();
                    async move {
                        match found {
                            Some(e) => axum::Json(e).into_response(),
                            None => not_found(),
                        }
                    }
                }),
            )
            .route(
                "/api/0/organizations/{org}/eventids/{id}/",
                route_get(move |AxPath((org, id)): AxPath<(String, String)>| {
                    let found = e3.iter().find(|e| e["eventID"] == id.as_str()).cloned();
                    async move {
                        match found {
                            Some(e) => axum::Json(serde_json::json!({
                                "organizationSlug": org, "projectSlug": e["projectSlug"],
                                "groupId": e["groupID"], "eventId": id, "event": e,
                            }))
                            .into_response(),
                            None => not_found(),
                        }
                    }
                }),
            )
            .route(
                "/api/0/organizations/{org}/issues/",
                route_get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
                    // Sentry filters by numeric project id.
                    let wanted: Vec<String> = q
                        .unwrap_or_default()
                        .split('&')
                        .filter_map(|kv| kv.strip_prefix("project="))
                        .map(str::to_owned)
                        .collect();
                    let list: Vec<serde_json::Value> = i1
                        .iter()
                        .filter(|i| {
                            wanted.is_empty()
                                || wanted.iter().any(|w| i["project"]["id"] == w.as_str())
                        })
                        .cloned()
                        .collect();
                    async move { axum::Json(list) }
                }),
            )
            .route(
                "/api/0/organizations/{org}/projects/",
                route_get(move || {
                    let mut list: Vec<serde_json::Value> =
                        i4.iter().map(|i| i["project"].clone()).collect();
                    list.dedup();
                    async move { axum::Json(list) }
                }),
            )
            .route(
                "/api/0/organizations/{org}/issues/{id}/",
                route_get(move |AxPath((_, id)): AxPath<(String, String)>| {
                    let found = i2.iter().find(|i| i["id"] == id.as_str()).cloned();
                    async move {
                        match found {
                            Some(i) => axum::Json(i).into_response(),
                            None => not_found(),
                        }
                    }
                }),
            )
            .route(
                "/api/0/organizations/{org}/shortids/{sid}/",
                route_get(move |AxPath((_, sid)): AxPath<(String, String)>| {
                    let found = i3.iter().find(|i| i["shortId"] == sid.as_str()).cloned();
                    async move {
                        match found {
                            Some(i) => axum::Json(serde_json::json!({
                                "groupId": i["id"], "shortId": i["shortId"],
                                "projectSlug": i["project"]["slug"], "group": i,
                            }))
                            .into_response(),
                            None => not_found(),
                        }
                    }
                }),
            )
            .route(
                "/api/0/organizations/{org}/issues/{id}/events/latest/",
                route_get(move |AxPath((_, id)): AxPath<(String, String)>| {
                    let found = e4.iter().rev().find(|e| e["groupID"] == id.as_str()).cloned();
                    async move {
                        match found {
                            Some(e) => axum::Json(e).into_response(),
                            None => not_found(),
                        }
                    }
                }),
            )
            .route(
                "/api/0/",
                route_get(move || {
                    async move { axum::Json(serde_json::json!({"auth": {"scopes": ["event:read", "org:read", "project:read"]}})) }
                }),
            ),
    )
    .await
}

/// Scenario e's Sentry side plus two events written for lookups: one without any trace context
/// (issue `6012345199`, `CHECKOUT-API-9`), and one whose event id is scenario a1's trace id while its
/// own trace is scenario e's (an id that names two things).
fn fake_sentry_with_extras() -> serde_json::Value {
    let mut fake: serde_json::Value = fixture_json("fake-sentry/scenario-e.json");
    let base = fake["events"][3].clone();
    let mut lonely = base.clone();
    lonely["eventID"] = "5c0b1e7a2d3f4e8b9a6c7d8e9f0a1b2c".into();
    lonely["id"] = lonely["eventID"].clone();
    lonely["groupID"] = "6012345199".into();
    lonely["title"] = "ConfigError: feature flag service returned garbage".into();
    if let Some(c) = lonely["contexts"].as_object_mut() {
        c.remove("trace");
        c.remove("otel_trace");
    }
    if let Some(tags) = lonely["tags"].as_array_mut() {
        tags.retain(|t| !t["key"].as_str().unwrap_or("").contains("trace"));
    }
    let mut twin = base;
    twin["eventID"] = "c0da5e3a99c6a9d849d8831a0ca3340c".into();
    twin["id"] = twin["eventID"].clone();
    let mut issue = fake["issues"][3].clone();
    issue["id"] = "6012345199".into();
    issue["shortId"] = "CHECKOUT-API-9".into();
    issue["title"] = lonely["title"].clone();
    if let Some(evs) = fake["events"].as_array_mut() {
        evs.push(lonely);
        evs.push(twin);
    }
    if let Some(is) = fake["issues"].as_array_mut() {
        is.push(issue);
    }
    fake
}

/// Scenario e of the SDK captures served the way the real upstreams serve it: spans from a fake Tempo
/// (v2 JSON), errors from a fake Sentry (Web API). Every event must be pinned as the ground truth says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_tempo_and_sentry_render_the_ground_truth() {
    use axum::extract::Path as AxPath;
    use axum::routing::get as route_get;
    let otlp: serde_json::Value = fixture_json("sdk/e_nasty_multi_error/otlp.json");
    let expected: serde_json::Value = fixture_json("sdk/e_nasty_multi_error/expected.json");
    let fake: serde_json::Value = fixture_json("fake-sentry/scenario-e.json");
    let trace_id = expected["traces"][0]["trace_id"]
        .as_str()
        .expect("trace id")
        .to_owned();

    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tempo_hits = hits.clone();
    let body = serde_json::json!({ "trace": otlp });
    let tempo = fake_upstream(Router::new().route(
        "/api/v2/traces/{id}",
        route_get(move |AxPath(id): AxPath<String>| {
            let body = body.clone();
            let hits = tempo_hits.clone();
            async move {
                hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if id.len() == 32 {
                    axum::Json(body).into_response()
                } else {
                    (StatusCode::BAD_REQUEST, "bad id").into_response()
                }
            }
        }),
    ))
    .await;
    let sentry = fake_sentry(&fake).await;
    let text = format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0ken\"\n\n[[tempo]]\nname = \"production\"\nurl = \"{tempo}\"\n"
    );
    let app = app(config_from(&text));

    // The export has the CLI's format: check every event against the ground truth.
    let (status, body) = get(&app, &format!("/api/export/{trace_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).expect("export JSON");
    let tl = &report["timelines"][0];
    assert_eq!(tl["trace_id"], trace_id.as_str());
    let pins = tl["pins"].as_array().expect("pins");
    for ev in expected["events"].as_array().expect("events") {
        if ev["trace_id"] != trace_id.as_str() {
            continue;
        }
        let id = ev["event_id"].as_str().expect("event id");
        let pin = pins.iter().find(|p| p["event_id"] == id);
        if ev["span_exported"] == true {
            let pin = pin.unwrap_or_else(|| panic!("{id} not pinned: {tl}"));
            assert_eq!(pin["span_id"], ev["span_id"], "{id}");
        } else {
            // Its span was dropped: placed in its own service's enclosing span or unplaced with a reason.
            let unplaced = tl["unplaced"]
                .as_array()
                .expect("unplaced")
                .iter()
                .any(|u| u["event_id"] == id);
            assert!(
                pin.is_some_and(|p| p["matched_by"] == "enclosing_span") || unplaced,
                "{id}: {tl}"
            );
        }
    }
    // The page itself renders server-side with the sources named, and a repeat uses the cache.
    let (status, html) = get(&app, &format!("/trace/{trace_id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("spans: tempo production"),
        "sources in the header"
    );
    assert!(
        html.contains("errors: Sentry (5 event(s))"),
        "sources in the header"
    );
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one Tempo fetch for both requests"
    );
}

/// Sentry down: the trace still renders, with a notice saying errors are not shown and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentry_failure_degrades_the_page() {
    use axum::routing::get as route_get;
    let otlp: serde_json::Value = fixture_json("sdk/a1_otlp_integration/otlp.json");
    let body = serde_json::json!({ "trace": otlp });
    let tempo = fake_upstream(Router::new().route(
        "/api/v2/traces/{id}",
        route_get(move || {
            let body = body.clone();
            async move { axum::Json(body) }
        }),
    ))
    .await;
    let sentry = fake_upstream(Router::new().route(
        "/api/0/organizations/{org}/events/",
        route_get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "{\"detail\":\"Internal Error\"}",
            )
        }),
    ))
    .await;
    let text = format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0ken\"\n\n[[tempo]]\nurl = \"{tempo}\"\n"
    );
    let app = app(config_from(&text));
    let (status, html) = get(&app, "/trace/c0da5e3a99c6a9d849d8831a0ca3340c", None).await;
    assert_eq!(status, StatusCode::OK, "the trace still renders");
    assert!(
        html.contains("Sentry unavailable: errors not shown"),
        "degraded notice"
    );
    assert!(
        html.contains("data-testid=\"waterfall-row\""),
        "rows are there"
    );
    assert!(!html.contains("t0ken"));

    // A trace no backend has: 404 naming where tracepin looked.
    let (status, html) = get(&app, "/trace/0123456789abcdef0123456789abcdef", None).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::OK,
        "{status}"
    );
    let _ = html;
}

fn location(res: &axum::response::Response) -> Option<String> {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn get_raw(app: &Router, uri: &str) -> axum::response::Response {
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        app.clone().oneshot(
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .expect("request"),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {uri} did not answer within 30 s"))
    .expect("router never fails")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_links_redirect_to_the_trace() {
    let app = app(Config::default());
    let res = get_raw(&app, "/event/e3de285b-d47c-404c-9a4e-8c0a4d2a7b3b").await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(
        location(&res).as_deref(),
        Some("/trace/d623a6d859f6f10504aae53c873bafc5?v=1&event=e3de285bd47c404c9a4e8c0a4d2a7b3b")
    );
    let (status, body) = get(&app, "/event/ffffffffffffffffffffffffffffffff", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Where tracepin looked"), "{body}");
    assert!(body.contains("built-in demo incident"), "{body}");
    let (status, body) = get(&app, "/event/nope", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("is not a Sentry event id"), "{body}");
}

/// 200 concurrent page-data requests for one trace through the server cause one upstream fetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_share_one_upstream_fetch() {
    use axum::routing::get as route_get;
    let otlp: serde_json::Value = fixture_json("sdk/a1_otlp_integration/otlp.json");
    let body = serde_json::json!({ "trace": otlp });
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let h = hits.clone();
    let tempo = fake_upstream(Router::new().route(
        "/api/v2/traces/{id}",
        route_get(move || {
            let body = body.clone();
            let h = h.clone();
            async move {
                h.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                // Slow enough that all requests overlap.
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                axum::Json(body)
            }
        }),
    ))
    .await;
    let app = app(config_from(&format!("[[tempo]]\nurl = \"{tempo}\"\n")));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            get(&app, "/api/export/c0da5e3a99c6a9d849d8831a0ca3340c", None)
                .await
                .0
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("task"), StatusCode::OK);
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "exactly one upstream request"
    );
}

/// The reverse degraded mode: the trace backend fails but Sentry has errors for the trace id; the page
/// still renders, listing them with the reason and what the backend answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_backend_failure_still_shows_sentry_errors() {
    use axum::routing::get as route_get;
    let fake: serde_json::Value = fixture_json("fake-sentry/scenario-e.json");
    let trace_id = fake["trace_id"].as_str().expect("trace id").to_owned();
    let sentry = fake_sentry(&fake).await;
    let tempo = fake_upstream(Router::new().route(
        "/api/v2/traces/{id}",
        route_get(|| async { (StatusCode::FORBIDDEN, "no access") }),
    ))
    .await;
    let text = format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0ken\"\n\n[[tempo]]\nurl = \"{tempo}\"\n"
    );
    let app = app(config_from(&text));
    let (status, html) = get(&app, &format!("/trace/{trace_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Trace unavailable: spans not shown"),
        "degraded notice"
    );
    assert!(html.contains("403"), "what the backend answered");
    assert!(html.contains("GatewayTimeout"), "Sentry errors listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_opens_what_an_id_names() {
    let app = app(Config::default());
    for (q, want) in [
        (
            "d623a6d859f6f10504aae53c873bafc5",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1",
        ),
        (
            "  \"D623A6D859F6F10504AAE53C873BAFC5\" ",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1",
        ),
        (
            "00-d623a6d859f6f10504aae53c873bafc5-538711f5379750dc-01",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1&span=538711f5379750dc",
        ),
        (
            "d623a6d859f6f10504aae53c873bafc5-538711f5379750dc-1",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1&span=538711f5379750dc",
        ),
        (
            "e3de285b-d47c-404c-9a4e-8c0a4d2a7b3b",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1&event=e3de285bd47c404c9a4e8c0a4d2a7b3b",
        ),
        (
            "0000000000000001",
            "/trace/00000000000000000000000000000001?v=1",
        ),
        (
            "http://jaeger.internal:16686/trace/d623a6d859f6f10504aae53c873bafc5?uiFind=538711f5379750dc",
            "/trace/d623a6d859f6f10504aae53c873bafc5?v=1&span=538711f5379750dc",
        ),
    ] {
        let uri = format!("/lookup?q={}", tracepin::view::state::encode(q));
        let res = get_raw(&app, &uri).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{q}");
        assert_eq!(location(&res).as_deref(), Some(want), "{q}");
    }
    let (status, body) = get(&app, "/lookup?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("What the box accepts"), "{body}");
    assert!(body.contains("traceparent"), "{body}");
    assert!(
        !body.contains("<script>alert"),
        "the input is escaped: {body}"
    );
    // A 32-hex id found nowhere: 404 and where tracepin looked.
    let (status, body) = get(&app, "/lookup?q=0123456789abcdef0123456789abcdef", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("lookup-not-found"), "{body}");
    // Issue ids need Sentry: the demo says so instead of failing.
    let (status, body) = get(&app, "/issue/SHOP-12", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("Sentry is not configured"), "{body}");
}

/// Live Sentry and Tempo (fakes on 127.0.0.1): issues list, `/issue/…` to the pinned event, an event
/// without a trace shown alone, an id that is both a trace and an event, an id found nowhere, and
/// links out to Grafana and Jaeger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issues_and_lookups_against_live_upstreams() {
    use axum::extract::Path as AxPath;
    use axum::routing::get as route_get;
    let fake = fake_sentry_with_extras();
    let sentry = fake_sentry(&fake).await;
    let e: serde_json::Value = fixture_json("sdk/e_nasty_multi_error/otlp.json");
    let a1: serde_json::Value = fixture_json("sdk/a1_otlp_integration/otlp.json");
    let tempo = fake_upstream(Router::new().route(
        "/api/v2/traces/{id}",
        route_get(move |AxPath(id): AxPath<String>| {
            let body = match id.as_str() {
                "d623a6d859f6f10504aae53c873bafc5" => Some(e.clone()),
                "c0da5e3a99c6a9d849d8831a0ca3340c" => Some(a1.clone()),
                _ => None,
            };
            async move {
                match body {
                    Some(t) => axum::Json(serde_json::json!({ "trace": t })).into_response(),
                    None => (StatusCode::NOT_FOUND, "trace not found").into_response(),
                }
            }
        }),
    ))
    .await;
    let app = app(config_from(&format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0ken\"\n\n[[tempo]]\nname = \"main\"\nurl = \"{tempo}\"\n\n\
         [links]\ngrafana_url = \"https://grafana.example.com/\"\ngrafana_tempo_datasource = \"tempo-uid\"\n\
         jaeger_ui_url = \"https://jaeger.example.com\"\n"
    )));

    // The issue list, with filters and links to `/issue/{id}`.
    let (status, html) = get(&app, "/?project=payments&period=24h&sort=freq", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("data-issue-id=\"6012345111\""), "{html}");
    assert!(html.contains("href=\"/issue/6012345111\""), "{html}");
    assert!(html.contains("PSP did not answer"), "{html}");
    assert!(
        !html.contains("data-issue-id=\"6012345110\""),
        "the inventory issue is filtered out by project id: {html}"
    );

    // An issue whose latest event is on a trace: to the trace, event selected.
    for id in ["6012345111", "PAYMENTS-2"] {
        let short = fake["issues"][1]["shortId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let id = if id == "PAYMENTS-2" {
            short
        } else {
            id.to_owned()
        };
        let res = get_raw(&app, &format!("/issue/{id}")).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{id}");
        let loc = location(&res).unwrap_or_default();
        assert!(
            loc.starts_with("/trace/d623a6d859f6f10504aae53c873bafc5?v=1&event="),
            "{id}: {loc}"
        );
    }
    // An issue without trace context: the event alone, with why.
    let (status, html) = get(&app, "/issue/CHECKOUT-API-9", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("event-alone"), "{html}");
    assert!(
        html.contains("feature flag service returned garbage"),
        "{html}"
    );
    assert!(html.contains("no-trace-reason"), "{html}");
    // Whether each issue's latest event has a trace.
    let states = tracepin::server::data::DataStore::load(&config_from(&format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0ken\"\n"
    )))
    .issue_traces(&["6012345111".into(), "6012345199".into(), "999".into()])
    .await;
    let got: Vec<&str> = states.iter().map(|s| s.state.as_str()).collect();
    assert_eq!(got, ["trace", "none", "unknown"]);

    // A 32-hex id that is a trace in Tempo and an event in Sentry: the reader chooses.
    let (status, html) = get(&app, "/lookup?q=c0da5e3a99c6a9d849d8831a0ca3340c", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("lookup-choices"), "{html}");
    assert!(
        html.contains("href=\"/trace/c0da5e3a99c6a9d849d8831a0ca3340c?v=1\""),
        "{html}"
    );
    assert!(
        html.contains("href=\"/trace/d623a6d859f6f10504aae53c873bafc5?v=1&amp;event=c0da5e3a99c6a9d849d8831a0ca3340c\""),
        "{html}"
    );
    // Found nowhere: 404, naming Tempo and Sentry and the time window.
    let (status, html) = get(&app, "/lookup?q=0123456789abcdef0123456789abcdef", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{html}");
    assert!(html.contains("Tempo `main`"), "{html}");
    assert!(html.contains("Sentry org `acme`"), "{html}");
    assert!(html.contains("last 30d"), "{html}");
    // A Sentry event URL from the browser's address bar.
    let q = tracepin::view::state::encode(
        "https://acme.sentry.io/issues/6012345111/events/e3de285bd47c404c9a4e8c0a4d2a7b3b/?project=4505549139935233",
    );
    let res = get_raw(&app, &format!("/lookup?q={q}")).await;
    assert_eq!(
        location(&res).as_deref(),
        Some("/trace/d623a6d859f6f10504aae53c873bafc5?v=1&event=e3de285bd47c404c9a4e8c0a4d2a7b3b")
    );

    // Links out, span focused where there is a span.
    let (_, html) = get(&app, "/trace/d623a6d859f6f10504aae53c873bafc5", None).await;
    assert!(html.contains("open-in-grafana"), "{html}");
    assert!(
        html.contains("https://grafana.example.com/explore?"),
        "{html}"
    );
    assert!(html.contains("open-in-jaeger"), "{html}");
    assert!(
        html.contains("https://jaeger.example.com/trace/d623a6d859f6f10504aae53c873bafc5"),
        "{html}"
    );
}

/// Without Sentry, `/` lists recent traces with errors from the trace backends (Tempo's TraceQL search).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home_without_sentry_lists_traces_with_errors_from_tempo() {
    use axum::routing::get as route_get;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s = seen.clone();
    let tempo = fake_upstream(Router::new().route(
        "/api/search",
        route_get(move |axum::extract::RawQuery(q): axum::extract::RawQuery| {
            if let Ok(mut g) = s.lock() {
                *g = q.unwrap_or_default();
            }
            async move {
                // Tempo trims leading zeros of trace ids in search results.
                axum::Json(serde_json::json!({"traces": [{
                    "traceID": "3e0cee77ae5dc9c17ade3689eb2e54",
                    "rootServiceName": "shop-backend",
                    "rootTraceName": "update-billing",
                    "startTimeUnixNano": "1684778327699392724",
                    "durationMs": 557,
                    "spanSets": [{"spans": [{"spanID": "563d623c76514f8e"}], "matched": 2}]
                }]}))
            }
        }),
    ))
    .await;
    let app = app(config_from(&format!(
        "[[tempo]]\nname = \"main\"\nurl = \"{tempo}\"\n"
    )));
    let (status, html) = get(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("href=\"/trace/003e0cee77ae5dc9c17ade3689eb2e54?v=1\""),
        "padded id linked: {html}"
    );
    assert!(html.contains("update-billing"), "{html}");
    assert!(
        !html.contains("data-testid=\"issues\""),
        "no Sentry, no issue list"
    );
    let q = seen.lock().map(|g| g.clone()).unwrap_or_default();
    assert!(q.contains("status"), "a TraceQL error query was sent: {q}");
}

/// An upstream that echoes the request's `Authorization` header in its error body (some proxies do)
/// must not leak the configured token: not in pages, `/readyz`, lookups, the export or server
/// function answers. Tempo and Jaeger alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_echoing_upstream_never_leaks_the_token() {
    use axum::routing::any;
    let echo = || {
        Router::new().fallback(any(|headers: axum::http::HeaderMap| async move {
            let auth = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("upstream error: request had Authorization: {auth}"),
            )
        }))
    };
    let tempo = fake_upstream(echo()).await;
    let jaeger = fake_upstream(echo()).await;
    let config = config_from(&format!(
        "[[tempo]]\nname = \"t\"\nurl = \"{tempo}\"\ntoken = \"tempo-tok-9f8e7d\"\n\n\
         [[jaeger]]\nname = \"j\"\nurl = \"{jaeger}\"\nauthorization = \"Basic amFlZ2VyLXNlY3JldA==\"\n"
    ));
    let app = app(config);
    let id = "0af7651916cd43dd8448eb211c80319c";
    for path in [
        format!("/trace/{id}"),
        format!("/api/export/{id}"),
        format!("/lookup?q={id}"),
        "/readyz".to_owned(),
        "/".to_owned(),
    ] {
        let (_, body) = get(&app, &path, None).await;
        for secret in ["tempo-tok-9f8e7d", "amFlZ2VyLXNlY3JldA=="] {
            assert!(!body.contains(secret), "{path} leaks {secret}: {body}");
        }
        if path.starts_with("/api/export") {
            assert!(
                body.contains("[redacted]"),
                "the echo is shown, redacted: {body}"
            );
        }
    }
}

async fn body_text(res: axum::response::Response) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every answer carries nosniff, no framing and a CSP; every page's CSP names the nonce that each of
/// its inline scripts carries, so hydration runs and injected script does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_headers_on_every_route() {
    let app = app(Config::default());
    let mut pages = 0;
    for path in every_route() {
        let res = get_raw(&app, &path).await;
        let h = res.headers().clone();
        let get_h = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(get_h("x-frame-options"), "DENY", "{path}");
        assert_eq!(get_h("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(get_h("referrer-policy"), "same-origin", "{path}");
        let csp = get_h("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        if get_h("content-type").starts_with("text/html") && res.status() != StatusCode::FOUND {
            pages += 1;
            let nonce = csp
                .split_whitespace()
                .find_map(|t| t.strip_prefix("'nonce-"))
                .and_then(|t| t.strip_suffix('\''))
                .unwrap_or_else(|| panic!("{path}: page CSP without a nonce: {csp}"))
                .to_owned();
            assert!(csp.contains("'wasm-unsafe-eval'"), "{path}: {csp}");
            assert!(!csp.contains("'unsafe-eval'"), "{path}: {csp}");
            let body = body_text(res).await;
            let scripts = body.matches("<script").count();
            assert!(scripts > 0, "{path}: no scripts?");
            assert_eq!(
                body.matches(&format!("nonce=\"{nonce}\"")).count(),
                scripts,
                "{path}: every script carries the response's nonce: {body}"
            );
        } else if res.status() != StatusCode::FOUND {
            // JSON, assets, plain-text probes: nothing to run, nothing to load.
            assert!(csp.starts_with("default-src 'none'"), "{path}: {csp}");
        }
    }
    assert!(pages >= 4, "pages checked: {pages}");
}

/// DNS rebinding: a loopback tracepin answers only to loopback names (and the configured list).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_host_names_are_refused() {
    let send = |app: Router, host: &'static str, path: &'static str| async move {
        app.oneshot(
            Request::builder()
                .uri(path)
                .header(header::HOST, host)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("router never fails")
    };
    let local = app(Config::default());
    let res = send(local.clone(), "attacker.example:3000", "/").await;
    assert_eq!(res.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(
        res.headers().get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );
    assert!(body_text(res).await.contains("allowed_hosts"));
    assert_eq!(
        send(local.clone(), "127.0.0.1:3000", "/").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(local.clone(), "localhost:3000", "/").await.status(),
        StatusCode::OK
    );
    // Probes by address keep working.
    assert_eq!(
        send(local, "10.0.0.7:3000", "/healthz").await.status(),
        StatusCode::OK
    );

    let listed = app(config_from(
        "[server]\nallowed_hosts = [\"tracepin.example.com\"]\n",
    ));
    assert_eq!(
        send(listed.clone(), "tracepin.example.com", "/")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        send(listed, "127.0.0.1:3000", "/").await.status(),
        StatusCode::MISDIRECTED_REQUEST
    );
}

async fn post_form(app: &Router, path: &str, form: &str) -> (StatusCode, String) {
    let res = app
        .clone()
        .oneshot(
            Request::builder()
                .method("POST")
                .uri(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "application/json")
                .body(Body::from(form.to_owned()))
                .expect("request"),
        )
        .await
        .expect("router never fails");
    let status = res.status();
    (status, body_text(res).await)
}

/// Server functions answer client errors as 4xx with the same JSON error body, not 500.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_functions_answer_client_errors_as_4xx() {
    let app = app(Config::default());
    let (status, body) = post_form(&app, "/api/span", "trace_id=not-an-id&row=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("BadRequest"), "{body}");
    let (status, body) = post_form(
        &app,
        "/api/span",
        "trace_id=11111111111111111111111111111111&row=0",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("NotFound"), "{body}");
    let (status, body) = post_form(&app, "/api/span", "row=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A good call still answers 200.
    let (status, body) = post_form(
        &app,
        "/api/span",
        "trace_id=d623a6d859f6f10504aae53c873bafc5&row=0",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// `/metrics` is Prometheus text with requests by route pattern, upstream calls by outcome and
/// cache lookups.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_scraped() {
    use axum::routing::any;
    let tempo = fake_upstream(
        Router::new().fallback(any(|| async { (StatusCode::NOT_FOUND, "trace not found") })),
    )
    .await;
    let app = app(config_from(&format!(
        "[[tempo]]\nname = \"metrics-tempo\"\nurl = \"{tempo}\"\n"
    )));
    let id = "5b8efff798038103d269b633813fc60c";
    let _ = get(&app, "/healthz", None).await;
    let _ = get(&app, &format!("/trace/{id}"), None).await;
    let _ = get(&app, &format!("/trace/{id}"), None).await;
    let (status, text) = get(&app, "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let line = |needles: &[&str]| {
        text.lines()
            .find(|l| needles.iter().all(|n| l.contains(n)))
            .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{text}"))
            .to_owned()
    };
    line(&[
        "tracepin_http_requests_total{",
        "route=\"/healthz\"",
        "status=\"200\"",
    ]);
    line(&["tracepin_http_requests_total{", "route=\"/trace/{id}\""]);
    line(&[
        "tracepin_http_request_duration_seconds_bucket{",
        "route=\"/healthz\"",
    ]);
    line(&[
        "tracepin_upstream_requests_total{",
        "upstream=\"metrics-tempo\"",
        "outcome=\"4xx\"",
    ]);
    line(&[
        "tracepin_cache_requests_total{",
        "cache=\"timelines\"",
        "result=\"miss\"",
    ]);
    // No raw ids become series.
    assert!(!text.contains(id), "{text}");
}

/// A browser asking for 100 issue badges costs at most one page (25) of Sentry requests, and asking
/// again costs none: answers are cached, "no such issue" included. `/readyz` polled five times checks
/// Sentry once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sentry_calls_from_badges_and_probes_are_bounded_and_cached() {
    use axum::extract::Path;
    use axum::routing::get as route_get;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let latest = Arc::new(AtomicUsize::new(0));
    let token_checks = Arc::new(AtomicUsize::new(0));
    let routes = Router::new()
        .route(
            "/api/0/organizations/acme/issues/{id}/events/latest/",
            route_get({
                let latest = latest.clone();
                move |Path(id): Path<u64>| {
                    latest.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if id % 2 == 1 {
                            (StatusCode::NOT_FOUND, axum::Json(serde_json::json!({"detail": "The requested resource does not exist"}))).into_response()
                        } else {
                            axum::Json(serde_json::json!({
                                "eventID": format!("{:032x}", id),
                                "title": "ValueError: x",
                                "dateCreated": "2026-11-20T10:00:00Z",
                                "contexts": {},
                                "tags": [],
                                "entries": []
                            }))
                            .into_response()
                        }
                    }
                }
            }),
        )
        .route(
            "/api/0/",
            route_get({
                let token_checks = token_checks.clone();
                move || {
                    token_checks.fetch_add(1, Ordering::SeqCst);
                    async {
                        axum::Json(serde_json::json!({"version": "0", "auth": {"scopes": ["org:read", "project:read", "event:read"]}}))
                    }
                }
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "{}") });
    let sentry = fake_upstream(routes).await;
    let config = config_from(&format!(
        "[sentry]\nurl = \"{sentry}\"\norg = \"acme\"\ntoken = \"t0k\"\n"
    ));
    let state = AppState::new(options(), config);
    let ids: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let first = state.data.issue_traces(&ids).await;
    assert_eq!(first.len(), 25, "one page of badges per call");
    assert_eq!(latest.load(Ordering::SeqCst), 25);
    assert!(first.iter().any(|b| b.state == "none"), "{first:?}");
    assert!(
        first.iter().any(|b| b
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("no such issue"))),
        "{first:?}"
    );
    let again = state.data.issue_traces(&ids).await;
    assert_eq!(again, first);
    assert_eq!(
        latest.load(Ordering::SeqCst),
        25,
        "the second call is answered from the cache, misses included"
    );
    // Repeated ids count once.
    let dup = vec!["2".to_owned(); 50];
    assert_eq!(state.data.issue_traces(&dup).await.len(), 1);

    let app = router(state);
    for _ in 0..5 {
        let (status, _) = get(&app, "/readyz", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert!(
        token_checks.load(Ordering::SeqCst) <= 2,
        "readyz reuses its report: {} token checks",
        token_checks.load(Ordering::SeqCst)
    );
}

/// The site files come from memory: gzipped once (not again for every page view), with an ETag a
/// browser revalidates against, and read again when the build replaces them on disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_files_are_served_gzipped_once_with_an_etag_and_follow_a_rebuild() {
    use std::io::Read;
    let root = std::env::temp_dir().join(format!("tracepin-site-{}", std::process::id()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).expect("temp dir");
    let first: Vec<u8> = (0..100_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    std::fs::write(pkg.join("tracepin.wasm"), &first).expect("write");
    let options = LeptosOptions::builder()
        .output_name("tracepin")
        .site_root(root.to_string_lossy().into_owned())
        .build();
    let app = router(AppState::new(options, config_from("")));
    let fetch = |accept: Option<&'static str>, etag: Option<String>| {
        let app = app.clone();
        async move {
            let mut req = Request::builder().uri("/pkg/tracepin.wasm");
            if let Some(a) = accept {
                req = req.header(header::ACCEPT_ENCODING, a);
            }
            if let Some(e) = etag {
                req = req.header(header::IF_NONE_MATCH, e);
            }
            let res = app
                .oneshot(req.body(Body::empty()).expect("request"))
                .await
                .expect("response");
            let status = res.status();
            let headers = res.headers().clone();
            let body = res.into_body().collect().await.expect("body").to_bytes();
            (status, headers, body.to_vec())
        }
    };
    let gunzip = |bytes: &[u8]| {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("valid gzip");
        out
    };

    let (status, headers, body) = fetch(Some("gzip, deflate, br, zstd"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    assert!(
        body.len() < first.len() / 2,
        "gzipped: {} bytes",
        body.len()
    );
    assert_eq!(gunzip(&body), first);
    let etag = headers[header::ETAG].to_str().expect("etag").to_owned();

    let (status, headers, body) = fetch(None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(body, first);

    let (status, _, body) = fetch(Some("gzip"), Some(etag.clone())).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    // A rebuild replaces the file: the next request gets the new bytes under a new tag.
    let second: Vec<u8> = first.iter().rev().copied().chain([7u8; 64]).collect();
    std::fs::write(pkg.join("tracepin.wasm"), &second).expect("rewrite");
    let (status, headers, body) = fetch(Some("gzip"), Some(etag.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers[header::ETAG].to_str().expect("etag"), etag);
    assert_eq!(gunzip(&body), second);

    for path in ["/pkg/missing.wasm", "/pkg/..%2FCargo.toml", "/pkg/.hidden"] {
        let res = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
