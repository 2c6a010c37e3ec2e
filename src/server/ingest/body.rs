//! Reading an ingest request body: the size limit (413), `Content-Encoding` (gzip, deflate), and the
//! protocol-neutral failures every endpoint answers the same way.

use std::io::Read;

use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode};

use crate::connectors::formats::ingest::gunzip_body;

/// Why a body could not be read; the status and a sentence for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct BodyError {
    pub status: StatusCode,
    pub message: String,
}

impl BodyError {
    fn new(status: StatusCode, message: String) -> Self {
        BodyError { status, message }
    }
}

/// Decompressed bodies may be this many times the body limit.
const EXPANSION: usize = 10;

/// Reads at most `max` bytes and decompresses them as `Content-Encoding` says.
pub(super) async fn read(
    headers: &HeaderMap,
    body: Body,
    max: usize,
) -> Result<Vec<u8>, BodyError> {
    let too_big = || {
        BodyError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is larger than {} MB, the most tracepin accepts ([ingest] max_body_mb); send smaller batches",
                max / (1024 * 1024)
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_big());
    }
    let raw = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_big())?;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let limit = max.saturating_mul(EXPANSION);
    match encoding.as_str() {
        "" | "identity" => Ok(raw.to_vec()),
        "gzip" | "x-gzip" => gunzip_body(&raw, limit as u64).map_err(|e| match e {
            crate::connectors::formats::FormatError::Expands { .. } => BodyError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the gzip body expands to more than {} MB, the most tracepin accepts",
                    limit / (1024 * 1024)
                ),
            ),
            other => BodyError::new(StatusCode::BAD_REQUEST, other.to_string()),
        }),
        "deflate" => {
            let mut out = Vec::new();
            let read = flate2::read::ZlibDecoder::new(raw.as_ref())
                .take(limit as u64 + 1)
                .read_to_end(&mut out);
            match read {
                Err(e) => Err(BodyError::new(
                    StatusCode::BAD_REQUEST,
                    format!("deflate data is truncated or corrupt: {e}"),
                )),
                Ok(n) if n > limit => Err(BodyError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "the deflate body expands to more than {} MB, the most tracepin accepts",
                        limit / (1024 * 1024)
                    ),
                )),
                Ok(_) => Ok(out),
            }
        }
        other => Err(BodyError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "Content-Encoding {other:?} is not supported; send gzip, deflate or no encoding"
            ),
        )),
    }
}

/// The media type of a request, lowercased, without parameters.
pub(super) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
        .unwrap_or_default()
}
