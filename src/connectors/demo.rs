//! The built-in demo incident: real payloads captured from the Sentry and OpenTelemetry Python SDKs.
//!
//! Two scenarios are embedded in the binary so a fresh `make run` shows something true: the OTLP
//! integration set-up (three errors in three services) and a nasty checkout incident (a dropped span,
//! a retry loop, a +250 ms clock skew, a log after the server span ended), each with twelve healthy
//! runs of the same checkout made by the same SDKs in the hour before (`tests/fixtures/sdk-healthy`),
//! so "Compare with healthy traces" has baselines. Decoded by the same `formats` code that reads files.

use crate::domain::{ErrorEvent, Span};

use super::formats::{decode, Decoded};

macro_rules! sdk_file {
    ($path:literal) => {
        (
            $path,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/sdk/",
                $path
            ))
            .as_slice(),
        )
    };
}

macro_rules! healthy_file {
    ($path:literal) => {
        (
            concat!("healthy/", $path),
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/sdk-healthy/",
                $path
            ))
            .as_slice(),
        )
    };
}

/// Embedded payload files: (name, bytes).
pub const FILES: &[(&str, &[u8])] = &[
    sdk_file!("e_nasty_multi_error/otlp.json"),
    sdk_file!(
        "e_nasty_multi_error/sentry-envelopes/0001-event-80f365e618874422ae7d50809fd365d7.envelope"
    ),
    sdk_file!(
        "e_nasty_multi_error/sentry-envelopes/0002-event-e3de285bd47c404c9a4e8c0a4d2a7b3b.envelope"
    ),
    sdk_file!(
        "e_nasty_multi_error/sentry-envelopes/0003-event-b712ec0ac4d94ea4bc71becaaa1aa935.envelope"
    ),
    sdk_file!(
        "e_nasty_multi_error/sentry-envelopes/0004-event-4127dcbcc46d4f4cb6dc352122c8bd38.envelope"
    ),
    sdk_file!(
        "e_nasty_multi_error/sentry-envelopes/0005-event-b48ff23f8cd945e0bb03392f3161d87a.envelope"
    ),
    sdk_file!("a1_otlp_integration/otlp.json"),
    sdk_file!(
        "a1_otlp_integration/sentry-envelopes/0001-event-b4d92335ab0448378e9c43d3ca223c7f.envelope"
    ),
    sdk_file!(
        "a1_otlp_integration/sentry-envelopes/0002-event-d16af5b2a92045b69b74581fc624615c.envelope"
    ),
    sdk_file!(
        "a1_otlp_integration/sentry-envelopes/0003-event-184efe8dd81a498ebaa1771f69648bed.envelope"
    ),
    healthy_file!("e_nasty_multi_error/otlp.json"),
    healthy_file!("a1_otlp_integration/otlp.json"),
];

/// Decoded demo data.
#[derive(Debug, Default)]
pub struct DemoData {
    /// All spans of both scenarios.
    pub spans: Vec<Span>,
    /// All Sentry events of both scenarios.
    pub events: Vec<ErrorEvent>,
    /// Files that failed to decode (should be none; reported rather than hidden).
    pub problems: Vec<String>,
    /// The healthy runs' traces: baselines for comparison, left out of the overview.
    pub baselines: Vec<crate::domain::TraceId>,
}

/// Decodes the embedded files.
pub fn load() -> DemoData {
    let mut data = DemoData::default();
    for (name, bytes) in FILES {
        match decode(bytes) {
            Ok(Decoded::Trace(t)) => {
                if name.starts_with("healthy/") {
                    for s in &t.spans {
                        if !data.baselines.contains(&s.trace_id) {
                            data.baselines.push(s.trace_id);
                        }
                    }
                }
                data.spans.extend(t.spans)
            }
            Ok(Decoded::Events { events, .. }) => data.events.extend(events),
            Err(e) => data.problems.push(format!("{name}: {e}")),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_decodes_completely() {
        let d = load();
        assert!(d.problems.is_empty(), "{:?}", d.problems);
        // e: 28 + 15 spans; a1: four traces; 2 × 12 healthy runs of 17 or 18 spans.
        assert!(d.spans.len() > 43 + 400, "{}", d.spans.len());
        assert_eq!(d.events.len(), 8);
        assert_eq!(d.baselines.len(), 24, "twelve healthy runs of a1 and of e");
    }
}
