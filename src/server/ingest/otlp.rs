//! OTLP/HTTP trace export: `POST /v1/traces` and Sentry's `POST /api/{project_id}/integration/otlp/v1/traces`.
//!
//! Answers as the OTLP specification says: 200 with an `ExportTraceServiceResponse` in the request's
//! encoding (`partial_success` naming rejected spans), 400 with a `google.rpc.Status` for a body that
//! does not decode, 401/403 for DSN keys, 413 over the size limit, 415 for another media type, 429 and
//! 503 with `Retry-After` (both retryable for OTLP exporters).

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::request_key;
use super::body::{self, BodyError};
use super::load::{self, IngestError};
use super::IngestState;
use crate::connectors::formats::ingest::{otlp_error, otlp_response, OtlpEncoding};
use crate::connectors::store::WriteError;

/// gRPC codes carried in `google.rpc.Status`.
const INVALID_ARGUMENT: i32 = 3;
const PERMISSION_DENIED: i32 = 7;
const RESOURCE_EXHAUSTED: i32 = 8;
const UNAVAILABLE: i32 = 14;
const UNAUTHENTICATED: i32 = 16;

fn media(encoding: OtlpEncoding) -> &'static str {
    match encoding {
        OtlpEncoding::Protobuf => "application/x-protobuf",
        OtlpEncoding::Json => "application/json",
    }
}

fn answer(status: StatusCode, encoding: OtlpEncoding, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media(encoding)),
    );
    res
}

fn error(status: StatusCode, encoding: OtlpEncoding, message: &str) -> Response {
    let code = match status {
        StatusCode::UNAUTHORIZED => UNAUTHENTICATED,
        StatusCode::FORBIDDEN => PERMISSION_DENIED,
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::TOO_MANY_REQUESTS => RESOURCE_EXHAUSTED,
        StatusCode::SERVICE_UNAVAILABLE => UNAVAILABLE,
        _ => INVALID_ARGUMENT,
    };
    answer(status, encoding, otlp_error(code, message, encoding))
}

fn retry_after(mut res: Response, secs: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

/// The answer to a store that refused a write.
pub(super) fn store_refused(e: &WriteError, encoding: OtlpEncoding) -> Response {
    match e {
        WriteError::Busy {
            retry_after_secs, ..
        } => retry_after(
            error(StatusCode::TOO_MANY_REQUESTS, encoding, &e.to_string()),
            *retry_after_secs,
        ),
        WriteError::Unavailable(_) => retry_after(
            error(StatusCode::SERVICE_UNAVAILABLE, encoding, &e.to_string()),
            5,
        ),
    }
}

/// `POST /v1/traces`.
pub(super) async fn traces(
    State(s): State<IngestState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(s, None, query, headers, body).await
}

/// `POST /api/{project_id}/integration/otlp/v1/traces`.
pub(super) async fn project_traces(
    State(s): State<IngestState>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(s, Some(project), query, headers, body).await
}

async fn handle(
    s: IngestState,
    project: Option<String>,
    query: Option<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let ct = body::content_type(&headers);
    let encoding = match ct.as_str() {
        "application/x-protobuf" | "application/protobuf" | "application/vnd.google.protobuf" => {
            OtlpEncoding::Protobuf
        }
        "application/json" => OtlpEncoding::Json,
        other => {
            let shown = if other.is_empty() { "none" } else { other };
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                OtlpEncoding::Json,
                &format!(
                    "Content-Type {shown} is not OTLP/HTTP; send application/x-protobuf or application/json"
                ),
            );
        }
    };
    let key = request_key(&headers, query.as_deref());
    if let Err(e) = s.auth.check(project.as_deref(), key.as_deref()) {
        return error(e.status(), encoding, &e.to_string());
    }
    let bytes = match body::read(&headers, body, s.max_body).await {
        Ok(b) => b,
        Err(BodyError { status, message }) => return error(status, encoding, &message),
    };
    match load::otlp(&s.store, bytes, encoding).await {
        Ok(stored) => {
            s.stored(&stored.traces).await;
            if !stored.rejected.is_empty() {
                tracing::warn!(
                    rejected = stored.rejected.len(),
                    first = %stored.rejected[0],
                    "OTLP spans rejected"
                );
            }
            tracing::debug!(
                new = stored.report.spans_new,
                existing = stored.report.spans_existing,
                "OTLP spans stored"
            );
            answer(
                StatusCode::OK,
                encoding,
                otlp_response(&stored.rejected, encoding),
            )
        }
        Err(IngestError::Store(e)) => store_refused(&e, encoding),
        Err(e @ (IngestError::Decode(_) | IngestError::AllRejected(_))) => {
            tracing::warn!(error = %e, "OTLP body refused");
            error(StatusCode::BAD_REQUEST, encoding, &e.to_string())
        }
    }
}
