//! Jaeger api_v3 JSON: `{"result":{"resourceSpans":…}}` (GetTrace and FindTraces).
//!
//! The body inside `result` is OTLP/JSON (hex ids, integer enums), read by [`super::otlp_json`];
//! streamed bodies with one `{"result":…}` per chunk are concatenated. A not-found or bad-request body
//! `{"error":{"httpCode":404,"message":"No traces found"}}` becomes [`FormatError::Upstream`].

use serde::Deserialize;

use super::json::{for_each_value, nullable, Text};
use super::otlp_json::TracesDataWire;
use super::{Format, FormatError};
use crate::domain::Span;

#[derive(Debug, Deserialize)]
struct ResponseWire {
    #[serde(default)]
    result: Option<TracesDataWire>,
    #[serde(default, deserialize_with = "nullable")]
    error: Option<ErrorWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorWire {
    #[serde(default)]
    http_code: Text,
    #[serde(default)]
    message: Text,
}

/// Decodes a Jaeger api_v3 trace body into spans.
pub(super) fn decode(bytes: &[u8]) -> Result<Vec<Span>, FormatError> {
    let mut spans = Vec::new();
    for_each_value::<ResponseWire, _>(bytes, Format::JaegerV3, |resp| {
        if let Some(err) = resp.error {
            let code = err.http_code.0.map(|c| format!("{c} ")).unwrap_or_default();
            let message = err.message.0.unwrap_or_else(|| "no message".to_owned());
            return Err(FormatError::Upstream {
                format: Format::JaegerV3,
                message: format!("{code}{message}"),
            });
        }
        if let Some(result) = resp.result {
            result.into_spans(&mut spans);
        }
        Ok(())
    })?;
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_wrapper() {
        let body = br#"{"result":{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"kind":2,"name":"foobar","spanId":"0000000000000002","status":{"code":2},"traceId":"00000000000000000000000000000001"}]}]}]}}"#;
        let spans = decode(body).expect("decodes");
        assert_eq!(spans.len(), 1);
        assert_eq!(&*spans[0].service, "unknown_service");
    }

    #[test]
    fn error_body_is_upstream_error() {
        let err = decode(br#"{"error":{"httpCode":404,"message":"No traces found"}}"#)
            .expect_err("error body");
        assert_eq!(
            err.to_string(),
            "Jaeger api_v3 JSON holds an error response instead of data: 404 No traces found"
        );
    }
}
