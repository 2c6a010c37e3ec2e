//! The `tracepin` binary with a local store, as a process: an acknowledged batch survives `kill -9`
//! and a restart; open ingest on a non-loopback address is refused at startup; `tracepin import`
//! loads files; a new default store is seeded with the demo incident once.

#![cfg(feature = "ssr")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_tracepin");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("tracepin-proc-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Server {
    child: Child,
    url: String,
    lines: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(args: &[&str], env: &[(&str, &Path)]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(ROOT)
        .env("LEPTOS_OUTPUT_NAME", "tracepin")
        .env("RUST_LOG", "warn")
        .env_remove("TRACEPIN_DATA")
        .env_remove("TRACEPIN_CONFIG")
        .env("TRACEPIN_CONFIG", "/nonexistent/Leptos.toml");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `tracepin import --data DATA FILES…`, run to the end.
fn import(data: &Path, files: &[&str]) -> std::process::Output {
    let data = data.display().to_string();
    let mut args = vec!["import", "--data", &data];
    args.extend_from_slice(files);
    command(&args, &[]).output().expect("runs")
}

/// The standard output of a run that must have succeeded (both outputs shown if it did not).
fn stdout_of_success(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Starts the server and reads its startup lines up to the Spotlight line.
fn start(data: &Path) -> Server {
    let mut child = command(
        &[
            "--addr",
            "127.0.0.1:0",
            "--data",
            &data.display().to_string(),
        ],
        &[],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::null())
    .spawn()
    .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout);
    let mut lines = Vec::new();
    let mut url = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("reads");
        assert!(n > 0, "the server stopped early: {lines:?}");
        let line = line.trim_end().to_owned();
        if let Some(u) = line.strip_prefix("tracepin is serving on ") {
            url = u.to_owned();
        }
        let done = line.starts_with("tracepin: Spotlight");
        lines.push(line);
        if done {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in reader.lines() {});
    Server { child, url, lines }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

fn fixture(p: &str) -> Vec<u8> {
    std::fs::read(Path::new(ROOT).join("tests/fixtures/sdk").join(p)).expect("fixture")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_data_survives_kill_9_and_restart() {
    let dir = TempDir::new("durable");
    let server = start(&dir.0);
    assert!(
        server
            .lines
            .iter()
            .any(|l| l.contains("any key is accepted")),
        "{:?}",
        server.lines
    );
    assert!(
        server.lines.iter().any(|l| l.contains("/v1/traces")),
        "{:?}",
        server.lines
    );
    let http = client();
    let a1 = "a1_otlp_integration";
    for name in [
        "0004-proto.pb",
        "0007-proto.pb",
        "0010-proto.pb",
        "0013-proto.pb",
        "0016-proto.pb",
    ] {
        let res = http
            .post(format!("{}/v1/traces", server.url))
            .header("content-type", "application/x-protobuf")
            .body(fixture(&format!("{a1}/otlp-requests/{name}")))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), 200);
    }
    let res = http
        .post(format!("{}/api/1/envelope/", server.url))
        .header("content-type", "application/x-sentry-envelope")
        .body(fixture(&format!(
            "{a1}/sentry-envelopes/0002-event-d16af5b2a92045b69b74581fc624615c.envelope"
        )))
        .send()
        .await
        .expect("sent");
    assert_eq!(res.status(), 200);
    // Acknowledged: now kill -9, no chance to flush anything.
    let mut server = server;
    server.child.kill().expect("SIGKILL");
    server.child.wait().expect("reaped");
    drop(server);

    let server = start(&dir.0);
    let export: serde_json::Value = http
        .get(format!(
            "{}/api/export/0618ec0a97592499eb52cffdb09d275d",
            server.url
        ))
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("JSON");
    let pins = export["timelines"][0]["pins"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        pins.iter()
            .any(|p| p["event_id"] == "d16af5b2a92045b69b74581fc624615c"
                && p["span_id"] == "56bb6b3d49bfa5d3"),
        "{export}"
    );
    let ready: serde_json::Value = http
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("JSON");
    assert_eq!(ready["status"], "ready", "{ready}");
    assert!(ready["store"]["path"].as_str().is_some(), "{ready}");
}

#[test]
fn open_ingest_on_a_public_address_is_refused() {
    let dir = TempDir::new("refused");
    let out = command(
        &[
            "--addr",
            "0.0.0.0:0",
            "--data",
            &dir.0.display().to_string(),
        ],
        &[],
    )
    .output()
    .expect("runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no DSN key is configured"), "{err}");
    assert!(err.contains("TRACEPIN_INGEST_KEYS"), "{err}");
}

#[test]
fn import_loads_files_and_the_default_store_is_seeded_once() {
    let dir = TempDir::new("import");
    let data = dir.0.join("data");
    let stdout = stdout_of_success(&import(
        &data,
        &[
            "tests/fixtures/sdk/e_nasty_multi_error/otlp.json",
            "tests/fixtures/sdk/e_nasty_multi_error/sentry-envelopes",
        ],
    ));
    assert!(stdout.contains("imported 6 file(s)"), "{stdout}");
    assert!(stdout.contains("5 new event(s)"), "{stdout}");

    // Nothing configured: the default data path (XDG_DATA_HOME here), seeded with the demo once.
    let xdg = dir.0.join("xdg");
    let seeded = |expect_seed: bool| {
        let mut child = command(&["--addr", "127.0.0.1:0"], &[("XDG_DATA_HOME", &xdg)])
            .env_remove("HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            let done = line.starts_with("tracepin: Spotlight");
            lines.push(line);
            if done {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let says = lines
            .iter()
            .any(|l| l.contains("seeded with the demo incident"));
        assert_eq!(says, expect_seed, "{lines:?}");
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&xdg.join("tracepin").display().to_string())),
            "{lines:?}"
        );
    };
    seeded(true);
    seeded(false);
}

/// A trace file over a mebibyte is decoded as it is read (not held whole) and stores every span.
#[test]
fn import_reads_a_large_trace_file_piece_by_piece() {
    let file = "tests/fixtures/sdk/f_large_trace/otlp.json";
    let bytes = std::fs::read(file).expect("fixture");
    assert!(bytes.len() > 1024 * 1024, "{}", bytes.len());
    let tracepin::connectors::formats::Decoded::Trace(t) =
        tracepin::connectors::formats::decode(&bytes).expect("decodes")
    else {
        panic!("a trace")
    };
    let dir = TempDir::new("import-large");
    let data = dir.0.join("data");
    let stdout = stdout_of_success(&import(&data, &[file]));
    assert!(stdout.contains("imported 1 file(s)"), "{stdout}");
    assert!(
        stdout.contains(&format!("{} new span(s)", t.spans.len())),
        "{stdout}"
    );

    // Cut short, it is refused with the decoder's message and stores nothing.
    let cut = dir.0.join("cut.json");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).expect("write");
    let out = import(&dir.0.join("data2"), &[&cut.display().to_string()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("EOF while parsing"), "{err}");
}

/// A snapshot of the demo's first trace with pins, as the library writes it.
fn demo_snapshot() -> tracepin::server::snapshots::Snapshot {
    use tracepin::view::types::{Annotation, AnnotationTarget, SnapshotMeta};
    let d = tracepin::connectors::demo::load();
    let c =
        tracepin::correlate::correlate(d.spans, d.events, &tracepin::correlate::Options::default());
    let timeline = c
        .timelines
        .iter()
        .find(|t| !t.pins.is_empty())
        .cloned()
        .expect("the demo has a trace with pins");
    tracepin::server::snapshots::Snapshot {
        meta: SnapshotMeta {
            id: tracepin::server::snapshots::new_id(),
            title: "checkout review".into(),
            trace_id: timeline.trace.trace_id.to_string(),
            frozen_at: "2026-12-05T08:00:00Z".into(),
            frozen_by: "ana".into(),
            expires_at: None,
            size_bytes: 0,
            view: "v=1".into(),
        },
        timeline,
        events: c.events,
        sources: vec!["demo".into()],
        notices: vec![],
        annotations: vec![Annotation {
            id: "n1".into(),
            author: "ana".into(),
            created_at: "2026-12-05T08:01:00Z".into(),
            updated_at: None,
            target: AnnotationTarget::Range {
                start_ns: 0,
                end_ns: 5_000_000,
            },
            text: "deploy rolled back here".into(),
        }],
    }
}

#[test]
fn import_takes_snapshot_files_and_refuses_bad_ones_storing_nothing() {
    use tracepin::server::snapshots::{encode, SnapshotStore, SqliteSnapshots};
    let dir = TempDir::new("import-snap");
    let data = dir.0.join("data");
    std::fs::create_dir_all(&dir.0).expect("dir");
    let snap = demo_snapshot();
    let good = dir.0.join("review.tracepin.json.gz");
    let file = encode(&snap);
    std::fs::write(&good, &file).expect("write");
    let import_one = |path: &Path| import(&data, &[&path.display().to_string()]);

    let stdout = stdout_of_success(&import_one(&good));
    assert!(
        stdout.contains(&format!("snapshot {} imported", snap.meta.id)),
        "{stdout}"
    );
    assert!(stdout.contains("1 snapshot(s)"), "{stdout}");
    let stored = SqliteSnapshots::open(&data)
        .expect("open")
        .get(&snap.meta.id)
        .expect("read")
        .expect("the snapshot is there");
    assert_eq!(stored.timeline, snap.timeline);
    assert_eq!(stored.annotations, snap.annotations);
    assert_eq!(stored.events, snap.events);

    // Again: already there, nothing changes.
    let out = import_one(&good);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is already here"));

    // Truncated, future version, inconsistent: each refused with its reason, nothing stored.
    let truncated = dir.0.join("cut.tracepin.json.gz");
    std::fs::write(&truncated, &file[..file.len() / 2]).expect("write");
    let mut json: serde_json::Value = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&file[..]), &mut s)
            .expect("gunzip");
        serde_json::from_str(&s).expect("json")
    };
    json["snapshot"]["meta"]["id"] = "BBBBBBBBBBBBBBBBBBBBBB".into();
    let gz = |v: &serde_json::Value| {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(v.to_string().as_bytes()).expect("gzip");
        e.finish().expect("gzip")
    };
    let mut future = json.clone();
    future["version"] = 2.into();
    let future_file = dir.0.join("future.tracepin.json.gz");
    std::fs::write(&future_file, gz(&future)).expect("write");
    let mut broken = json.clone();
    broken["snapshot"]["timeline"]["pins"][0]["event"] = 100_000.into();
    let broken_file = dir.0.join("broken.tracepin.json.gz");
    std::fs::write(&broken_file, gz(&broken)).expect("write");
    for (path, reason) in [
        (&truncated, "not a complete gzip file"),
        (&future_file, "newer tracepin"),
        (&broken_file, "inconsistent"),
    ] {
        let out = import_one(path);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(reason), "{}: {err}", path.display());
    }
    let list = SqliteSnapshots::open(&data)
        .expect("open")
        .list()
        .expect("list");
    assert_eq!(list.len(), 1, "only the good file was stored");
}
