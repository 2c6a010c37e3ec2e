//! The real router driven in-process with `oneshot`, and against fake upstreams on 127.0.0.1:0.

#![cfg(feature = "ssr")]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

use tracepin::server::config::{Config, Overrides};
use tracepin::server::{router, AppState};

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
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("router never fails");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
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

#[tokio::test]
async fn unknown_path_is_a_404_page() {
    let app = app(Config::default());
    let (status, body) = get(&app, "/definitely/not/here", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Nothing lives at this address"), "{body}");
    assert!(body.contains("/definitely/not/here"));
}

#[tokio::test]
async fn home_page_renders_demo_incident_server_side() {
    let app = app(Config::default());
    let (status, body) = get(&app, "/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("tracepin"));
    assert!(body.contains("lookup-input"), "header with lookup box");
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

#[tokio::test]
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
        "/api/0/organizations/{org}/",
        route_get(|| async {
            (
                StatusCode::FORBIDDEN,
                "{\"detail\":\"You do not have permission\"}",
            )
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
    assert!(s["detail"].as_str().expect("detail").contains("403"), "{s}");
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

#[tokio::test]
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

#[tokio::test]
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
