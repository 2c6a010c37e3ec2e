//! The paste recogniser: `domain::recognise::recognise` on any text.
//!
//! A refusal is a non-empty sentence. What is recognised is rendered back as the links tracepin and
//! its link builders write (tracepin `/trace/…`, `/event/…`, `/issue/…`, Jaeger UI, Grafana Explore,
//! a Sentry issue event; a bare id for "trace or event"), and each must be recognised as the same
//! lookup again.
//! A tracepin `/lookup?q=…` link around the input must be read as the input itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracepin::domain::links::{grafana_explore_url, jaeger_trace_url};
use tracepin::domain::recognise::{recognise, Lookup, MAX_INPUT_BYTES};
use tracepin::view::state::{encode, trace_url_at};

const TRACEPIN: &str = "https://tracepin.example.com";

/// Texts that must be recognised as `lookup` again.
fn renderings(lookup: &Lookup) -> Vec<String> {
    match lookup {
        Lookup::Trace {
            trace_id,
            span_id,
            event_id,
        } => {
            let mut out = vec![format!(
                "{TRACEPIN}{}",
                trace_url_at(*trace_id, *span_id, *event_id)
            )];
            if event_id.is_none() {
                out.extend(jaeger_trace_url(
                    "https://jaeger.example.com/",
                    *trace_id,
                    *span_id,
                ));
                out.extend(grafana_explore_url(
                    "https://grafana.example.com",
                    "tempo",
                    *trace_id,
                    *span_id,
                    None,
                ));
            }
            out
        }
        Lookup::TraceOrEvent { id } => vec![id.clone()],
        Lookup::Event { event_id, issue_id } => match issue_id {
            None => vec![format!("{TRACEPIN}/event/{event_id}")],
            Some(issue) => vec![format!(
                "https://acme.sentry.io/issues/{issue}/events/{event_id}/"
            )],
        },
        Lookup::Issue { issue_id: id } | Lookup::ShortId { short_id: id } => {
            vec![format!("{TRACEPIN}/issue/{id}")]
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let first = recognise(input);
    match &first {
        Err(e) => assert!(!e.message.is_empty(), "an empty refusal for {input:?}"),
        Ok(r) => {
            for text in renderings(&r.lookup) {
                match recognise(&text) {
                    Ok(again) => assert_eq!(
                        again.lookup, r.lookup,
                        "{input:?} → {text:?} read back differently"
                    ),
                    Err(e) => panic!("{input:?} → {text:?} not read back: {e}"),
                }
            }
        }
    }
    // One lookup link around the input reads as the input (a lookup link inside another is refused).
    let link = format!("{TRACEPIN}/lookup?q={}", encode(input));
    if link.len() <= MAX_INPUT_BYTES && !input.to_ascii_lowercase().contains("lookup") {
        let wrapped = recognise(&link);
        assert_eq!(
            wrapped.as_ref().map(|r| &r.lookup).ok(),
            first.as_ref().map(|r| &r.lookup).ok(),
            "{input:?} reads differently inside {link:?}"
        );
    }
});
