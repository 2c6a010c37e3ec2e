//! The fake upstreams of the end-to-end tests (`end2end/fake-upstreams.mjs`) as a child process,
//! and a tracepin router configured against them, for the integration tests that need live
//! Sentry, Tempo and Jaeger APIs (searches, faults and request counts included).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use tower::ServiceExt;

use tracepin::app::router;
use tracepin::server::config::{Config, Overrides};
use tracepin::server::AppState;

pub const TOKEN: &str = "live-linking-token";

/// The fake upstreams as a child process, stopped on drop.
pub struct Fake {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Fake {
    pub fn start() -> Fake {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("node")
            .arg(root.join("end2end/fake-upstreams.mjs"))
            .args(["--port", "0", "--host", "127.0.0.1", "--token", TOKEN])
            .current_dir(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs end2end/fake-upstreams.mjs (Node.js 20 is needed by the tests)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the fake prints where it listens");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the fake: {line:?}"))
            .to_owned();
        Fake { child, url }
    }

    /// Requests the fake served since the last call, by upstream (`sentry`, `tempo`, `jaeger`).
    pub async fn take_requests(&self) -> Vec<(String, String)> {
        let client = client();
        let list: Value = client
            .get(format!("{}/__requests", self.url))
            .send()
            .await
            .expect("request log")
            .json()
            .await
            .expect("request log JSON");
        client
            .delete(format!("{}/__requests", self.url))
            .send()
            .await
            .expect("clear request log");
        list.as_array()
            .or_else(|| list["requests"].as_array())
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r["upstream"].as_str().unwrap_or_default().to_owned(),
                    r["path"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Tempo,
    Jaeger,
}

pub fn app(fake: &Fake, backend: Backend) -> Router {
    app_with(fake, backend, "")
}

/// Like [`app`], with more TOML appended to the backend table (e.g. `timeout_ms = 500`).
pub fn app_with(fake: &Fake, backend: Backend, extra: &str) -> Router {
    let section = match backend {
        Backend::Tempo => "[[tempo]]",
        Backend::Jaeger => "[[jaeger]]",
    };
    let text = format!(
        "[sentry]\nurl = \"{u}\"\norg = \"acme\"\ntoken = \"{TOKEN}\"\n\n{section}\nurl = \"{u}\"\n{extra}\n",
        u = fake.url
    );
    let config = Config::load(
        Some(("Leptos.toml", &text)),
        &|_| None,
        &Overrides::default(),
    )
    .expect("valid config");
    let options = LeptosOptions::builder()
        .output_name("tracepin")
        .site_root("target/site")
        .build();
    router(AppState::new(options, config))
}

/// One request at a time across the tests of a binary: Leptos's task spawner is process-wide, and
/// two page renders from two test runtimes at once can stall one of them.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// GET `uri` as a browser would (`Accept: text/html`): status, `Location` and body.
pub async fn get(app: &Router, uri: &str) -> (StatusCode, Option<String>, String) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let res = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        app.clone().oneshot(
            Request::builder()
                .uri(uri)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .expect("request"),
        ),
    )
    .await
    .unwrap_or_else(|_| panic!("GET {uri} did not answer within 60 s"))
    .expect("router never fails");
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

impl Fake {
    /// Replaces the fake's faults (`POST /__faults`, see `end2end/fake-upstreams.mjs`).
    pub async fn faults(&self, faults: Value) {
        let res = client()
            .post(format!("{}/__faults", self.url))
            .json(&faults)
            .send()
            .await
            .expect("set faults");
        assert!(
            res.status().is_success(),
            "faults accepted: {}",
            res.status()
        );
    }

    /// Clears the faults.
    pub async fn clear_faults(&self) {
        client()
            .delete(format!("{}/__faults", self.url))
            .send()
            .await
            .expect("clear faults");
    }
}

/// A client for the fake's control endpoints; every call is bounded.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}
