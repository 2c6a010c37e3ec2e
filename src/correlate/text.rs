//! An ASCII waterfall of a timeline with its pins: for the CLI and for data-driven tests.
//!
//! One line per row (`row`, `*` on the critical path, indented `service name`, a bar on skew-adjusted
//! time, start..end in ms from the trace start), one `^` line per pinned event under its row, then the
//! unplaced events and the diagnostics (clock offsets among them). Deterministic; the drawing is
//! ASCII, only titles and messages from the data may hold other characters. Text from the data is
//! [`clean`]ed first: control characters (escape sequences that would drive the reader's terminal,
//! line breaks that would forge rows) and bidirectional overrides become `?`.

use std::fmt::Write;

use super::types::{Correlation, Timeline};
use crate::domain::{ErrorEvent, RowOrigin, StatusCode};

const LABEL: usize = 34;
const BAR: usize = 40;

/// Text from the data, safe to print on one terminal line.
pub fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
            {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn ms(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1e6)
}

fn title(events: &[ErrorEvent], i: usize) -> String {
    let Some(e) = events.get(i) else {
        return format!("event #{i}");
    };
    let t = clean(if e.title.is_empty() {
        e.message.as_deref().unwrap_or_default()
    } else {
        &e.title
    });
    let short: String = t.chars().take(60).collect();
    if short.len() < t.len() {
        format!("{short}...")
    } else {
        short
    }
}

fn fit(s: &str, width: usize) -> String {
    let s = clean(s);
    let s = s.as_str();
    let n = s.chars().count();
    if n <= width {
        format!("{s:<width$}")
    } else {
        let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
        out.push('~');
        out
    }
}

/// Renders every timeline, then the events that fit no trace.
pub fn render(c: &Correlation) -> String {
    let mut out = String::new();
    for t in &c.timelines {
        out.push_str(&render_timeline(t, &c.events));
        out.push('\n');
    }
    for u in &c.unplaced {
        let _ = writeln!(
            out,
            "unplaced {}: {}",
            title(&c.events, u.event),
            clean(&u.reason.to_string())
        );
    }
    out
}

/// Renders one timeline as an ASCII waterfall with its pins.
pub fn render_timeline(t: &Timeline, events: &[ErrorEvent]) -> String {
    let trace = &t.trace;
    let n = trace.spans.len().min(trace.nodes.len());
    let times: Vec<(u64, u64)> = (0..n)
        .filter_map(|r| {
            let s = trace.spans.get(r)?;
            let a = t.skew.adjusted(r, s.start_ns);
            Some((a, t.skew.adjusted(r, s.end_ns).max(a)))
        })
        .collect();
    let origin = times.iter().map(|x| x.0).min().unwrap_or(0);
    let end = times.iter().map(|x| x.1).max().unwrap_or(origin);
    let total = end.saturating_sub(origin).max(1);
    let col = |ts: u64| -> usize {
        let rel = u128::from(ts.saturating_sub(origin));
        let c = rel * BAR as u128 / u128::from(total);
        usize::try_from(c).unwrap_or(BAR).min(BAR)
    };

    let mut out = String::new();
    let _ = writeln!(
        out,
        "trace {}  {} spans  {} ms",
        trace.trace_id,
        trace.span_count(),
        ms(total)
    );
    for row in 0..n {
        let (Some(span), Some(node), Some(&(s, e))) =
            (trace.spans.get(row), trace.nodes.get(row), times.get(row))
        else {
            continue;
        };
        let cp = if t.critical_path.binary_search(&row).is_ok() {
            '*'
        } else {
            ' '
        };
        let indent = "  ".repeat(node.depth as usize);
        let label = fit(&format!("{indent}{} {}", span.service, span.name), LABEL);
        let (a, b) = (col(s), col(e));
        let b = b.max(a + 1).min(BAR);
        let a = a.min(b.saturating_sub(1));
        let fill = if span.status.code == StatusCode::Error {
            '#'
        } else {
            '='
        };
        let bar: String = (0..BAR)
            .map(|i| if i >= a && i < b { fill } else { ' ' })
            .collect();
        let mut notes = String::new();
        if node.origin == RowOrigin::MissingParent {
            notes.push_str(" (placeholder)");
        }
        if span.status.code == StatusCode::Error {
            notes.push_str(" !err");
        }
        let adjust = t.skew.adjust_of(row);
        if adjust != 0 {
            let _ = write!(
                notes,
                " raw {}..{}",
                ms(span.start_ns.saturating_sub(origin)),
                ms(span.end_ns.saturating_sub(origin))
            );
        }
        let exc = span
            .events
            .iter()
            .enumerate()
            .filter(|(i, ev)| ev.name == "exception" && !t.is_merged_span_event(row, *i))
            .count();
        if exc > 0 {
            let _ = write!(notes, " exc={exc}");
        }
        let _ = writeln!(
            out,
            "{row:>3} {cp} {label} |{bar}| {}..{}{notes}",
            ms(s.saturating_sub(origin)),
            ms(e.saturating_sub(origin))
        );
        for p in t.pins_on(row) {
            let mut line = format!(
                "      {indent}^ {} {} [{}]",
                ms(p.adjusted_time_ns.saturating_sub(origin)),
                title(events, p.event),
                p.matched_by
            );
            if let Some(anchor) = &p.anchor {
                let _ = write!(line, " from row {} ({})", anchor.row, anchor.matched_by);
            }
            if p.span_event.is_some() {
                line.push_str(" +otel exception");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    for u in &t.unplaced {
        let _ = writeln!(
            out,
            "unplaced {} ({}): {}",
            title(events, u.event),
            u.reason.code(),
            clean(&u.reason.to_string())
        );
    }
    for d in &trace.diagnostics {
        let kind = serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let _ = writeln!(out, "! {kind}: {}", clean(&d.message));
    }
    out
}

#[cfg(test)]
mod clean_tests {
    use super::clean;

    #[test]
    fn terminal_controls_and_forged_lines_are_neutralised() {
        assert_eq!(
            clean("GET /a\x1b[2J\x1b]0;pwned\x07"),
            "GET /a?[2J?]0;pwned?"
        );
        assert_eq!(clean("one\nunplaced forged\r"), "one?unplaced forged?");
        assert_eq!(clean("abc\u{202E}fed"), "abc?fed");
        assert_eq!(clean("tab\there"), "tab?here");
        assert_eq!(clean("café → ok"), "café → ok");
    }
}
