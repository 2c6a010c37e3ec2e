//! The compiled site files under `/pkg/` (the WebAssembly, its JavaScript glue, the stylesheet),
//! served from memory with their gzip form made once.
//!
//! Behind the compression layer alone, the 2.3 MB WebAssembly was gzipped again for every page view:
//! about 190 ms of a core each time, taken from the browser drawing the page on a small machine and
//! from every other request during an incident review. Here each file is read and compressed once —
//! at start-up in the background ([`Assets::warm`]), or on its first request — and again only when the
//! file on disk changes (its size and modification time are checked on every request, one `stat`).
//! Answers carry an `ETag` and `Cache-Control: no-cache`, so a browser that has the file revalidates
//! and gets a 304 instead of the bytes, and never runs a stale build's glue against a new module.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The `/pkg/` files, kept in memory with their gzip form.
pub struct Assets {
    dir: PathBuf,
    files: Mutex<HashMap<String, Arc<Asset>>>,
}

/// One file: its bytes, its gzip form when that is smaller, and what identifies this version.
struct Asset {
    stamp: Stamp,
    etag: HeaderValue,
    content_type: &'static str,
    plain: Bytes,
    gzip: Option<Bytes>,
}

/// Size and modification time: a rebuilt file differs in one of them.
type Stamp = (u64, Option<SystemTime>);

impl Assets {
    /// The files of `dir` (the site root joined with the package directory).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            files: Mutex::new(HashMap::new()),
        }
    }

    /// Reads and compresses every file of the directory, so the first page does not wait for it.
    /// Problems are logged; a file that cannot be read now is tried again when it is requested.
    pub async fn warm(self: Arc<Self>) {
        let names = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| valid_name(n))
                .collect::<Vec<_>>(),
            Err(e) => {
                tracing::warn!(dir = %self.dir.display(), error = %e, "site files not found; is the site built?");
                return;
            }
        };
        for name in names {
            if let Err(e) = self.get(&name).await {
                tracing::warn!(file = %name, error = %e, "site file not loaded");
            }
        }
    }

    /// The current version of a file, loaded (or reloaded, when it changed on disk) if needed.
    /// `None` when there is no such file.
    async fn get(&self, name: &str) -> std::io::Result<Option<Arc<Asset>>> {
        let path = self.dir.join(name);
        let stamp = match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => stamp_of(&m),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if let Some(a) = self.cached(name).filter(|a| a.stamp == stamp) {
            return Ok(Some(a));
        }
        let loaded = tokio::task::spawn_blocking(move || Asset::load(&path))
            .await
            .map_err(std::io::Error::other)??;
        let asset = Arc::new(loaded);
        if let Ok(mut files) = self.files.lock() {
            files.insert(name.to_owned(), Arc::clone(&asset));
        }
        Ok(Some(asset))
    }

    fn cached(&self, name: &str) -> Option<Arc<Asset>> {
        self.files.lock().ok()?.get(name).cloned()
    }
}

impl Asset {
    fn load(path: &Path) -> std::io::Result<Asset> {
        let plain = std::fs::read(path)?;
        // The stamp of what was read: a file replaced meanwhile is seen as changed next time.
        let stamp = stamp_of(&std::fs::metadata(path)?);
        let content_type = content_type(path);
        let gzip = if compressible(content_type) {
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(plain.len() / 2),
                flate2::Compression::best(),
            );
            gz.write_all(&plain)?;
            Some(gz.finish()?).filter(|g| g.len() < plain.len())
        } else {
            None
        };
        let modified = stamp
            .1
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let etag = HeaderValue::from_str(&format!("\"{:x}-{modified:x}\"", stamp.0))
            .map_err(std::io::Error::other)?;
        Ok(Asset {
            stamp,
            etag,
            content_type,
            plain: Bytes::from(plain),
            gzip: gzip.map(Bytes::from),
        })
    }
}

fn stamp_of(m: &std::fs::Metadata) -> Stamp {
    (m.len(), m.modified().ok())
}

/// The package directory is flat: one plain file name, nothing that could leave the directory.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wasm") => "application/wasm",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || matches!(
            content_type,
            "application/wasm" | "application/json" | "image/svg+xml"
        )
}

/// Whether an `Accept-Encoding` header allows gzip (`gzip` or `*` with a non-zero weight).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut star = None;
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q > 0.0),
                "*" => star = Some(q > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(star).unwrap_or(false)
}

/// Whether `If-None-Match` names this version (or `*`).
fn not_modified(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Ok(etag) = etag.to_str() else {
        return false;
    };
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// `GET /pkg/{file}`.
pub async fn serve(
    State(assets): State<Arc<Assets>>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !valid_name(&file) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let asset = match assets.get(&file).await {
        Ok(Some(a)) => a,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(file = %file, error = %e, "site file unreadable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let common = [
        (header::ETAG, asset.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if not_modified(&headers, &asset.etag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let content_type = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    )];
    match (&asset.gzip, accepts_gzip(&headers)) {
        (Some(gz), true) => (
            common,
            content_type,
            [(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))],
            Body::from(gz.clone()),
        )
            .into_response(),
        _ => (common, content_type, Body::from(asset.plain.clone())).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn gzip_is_taken_when_offered_with_a_weight_above_zero() {
        let accepts = |v| accepts_gzip(&with(header::ACCEPT_ENCODING, v));
        assert!(accepts("gzip, deflate, br, zstd"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0, *"));
        assert!(!accepts("br, zstd"));
        assert!(!accepts("*;q=0"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_matches_the_tag_in_a_list_weak_or_star() {
        let etag = HeaderValue::from_static("\"10-abc\"");
        let matches = |v| not_modified(&with(header::IF_NONE_MATCH, v), &etag);
        assert!(matches("\"10-abc\""));
        assert!(matches("\"x\", W/\"10-abc\""));
        assert!(matches("*"));
        assert!(!matches("\"10-abd\""));
        assert!(!not_modified(&HeaderMap::new(), &etag));
    }

    #[test]
    fn names_that_could_leave_the_directory_are_refused() {
        assert!(valid_name("tracepin.wasm"));
        assert!(valid_name("tracepin_bg.wasm.d.ts"));
        for bad in ["", "..", "../Cargo.toml", "a/b", ".hidden", "a\\b", "a%2fb"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }
}
