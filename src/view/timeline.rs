//! Builds the timeline page's view data from a correlated [`Timeline`] and the events its pins and
//! unplaced entries index: compact rows, a first-screen window for server rendering, span and event
//! details, filter matches, Markdown and the JSON export.

use crate::correlate::{Correlation, Timeline};
use crate::domain::{
    AttrValue, DiagnosticKind, ErrorEvent, EventId, KeyValue, RowOrigin, SpanKind, StatusCode,
};
use crate::view::filter::Filter;
use crate::view::rows::{selected_row, visible_rows};
use crate::view::state::{trace_url, ViewState};
use crate::view::types::{
    EventDetail, ExceptionView, FrameView, Notice, PinView, Rows, SpanDetail, SpanEventView,
    TimelineView, UnplacedView, ROW_CRITICAL, ROW_ERROR, ROW_EXCEPTION, ROW_PLACEHOLDER,
};

use super::format_ns;

/// Rows sent around the selection for the first paint.
pub const WINDOW_ROWS: usize = 80;

fn services_of(tl: &Timeline) -> Vec<std::sync::Arc<str>> {
    let mut seen: Vec<std::sync::Arc<str>> = Vec::new();
    for s in &tl.trace.spans {
        if seen.last() != Some(&s.service) && !seen.contains(&s.service) {
            seen.push(std::sync::Arc::clone(&s.service));
        }
    }
    seen
}

/// From this many rows, [`rows_of`] interns the names on a second thread.
const PARALLEL_ROWS_FROM: usize = 50_000;

/// All rows, columnar.
pub fn rows_of(tl: &Timeline) -> Rows {
    let t = &tl.trace;
    let n = t.spans.len();
    let intern = || Rows::intern_names(t.spans.iter().map(|s| &*s.name));
    // Interning hashes every name: for a large trace, on a second thread while the columns are built.
    let ((names, name), mut r) = if n >= PARALLEL_ROWS_FROM {
        crate::correlate::side_by_side(intern, || columns_of(tl))
    } else {
        (intern(), columns_of(tl))
    };
    r.names = names;
    r.name = name;
    r
}

/// [`rows_of`] but the names.
fn columns_of(tl: &Timeline) -> Rows {
    let t = &tl.trace;
    let services = services_of(tl);
    let n = t.spans.len();
    let mut r = Rows {
        index: (0..n as u32).collect(),
        names: Vec::new(),
        name: Vec::new(),
        service: Vec::with_capacity(n),
        depth: Vec::with_capacity(n),
        subtree_end: Vec::with_capacity(n),
        start: Vec::with_capacity(n),
        dur: Vec::with_capacity(n),
        flags: vec![0; n],
        span_id: Vec::with_capacity(n),
    };
    // Neighbouring spans mostly share a service: the previous one is tried first.
    let mut svc = 0;
    for (i, (s, node)) in t.spans.iter().zip(&t.nodes).enumerate() {
        if services.get(svc) != Some(&s.service) {
            svc = services.iter().position(|x| *x == s.service).unwrap_or(0);
        }
        r.service.push(u16::try_from(svc).unwrap_or(u16::MAX));
        r.depth.push(u16::try_from(node.depth).unwrap_or(u16::MAX));
        r.subtree_end.push(node.subtree_end);
        r.start.push(s.start_ns.saturating_sub(t.start_ns));
        r.dur.push(s.duration_ns());
        r.span_id.push(u64::from_be_bytes(*s.span_id.as_bytes()));
        let mut f = 0;
        if s.status.code == StatusCode::Error {
            f |= ROW_ERROR;
        }
        if node.origin == RowOrigin::MissingParent {
            f |= ROW_PLACEHOLDER;
        }
        if s.events.iter().any(|e| e.name == "exception") {
            f |= ROW_EXCEPTION;
        }
        r.flags[i] = f;
    }
    for &c in &tl.critical_path {
        if let Some(f) = r.flags.get_mut(c) {
            *f |= ROW_CRITICAL;
        }
    }
    r
}

fn subset(rows: &Rows, pick: &[u32]) -> Rows {
    let mut sorted = pick.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out = Rows::default();
    let mut local: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for &i in &sorted {
        let i = i as usize;
        if i >= rows.len() {
            continue;
        }
        out.index.push(rows.index[i]);
        let next = u32::try_from(out.names.len()).unwrap_or(u32::MAX);
        let n = *local.entry(rows.name[i]).or_insert_with(|| {
            out.names.push(rows.name_of(i).to_owned());
            next
        });
        out.name.push(n);
        out.service.push(rows.service[i]);
        out.depth.push(rows.depth[i]);
        out.subtree_end.push(rows.subtree_end[i]);
        out.start.push(rows.start[i]);
        out.dur.push(rows.dur[i]);
        out.flags.push(rows.flags[i]);
        out.span_id.push(rows.span_id[i]);
    }
    out
}

/// Rows whose span matches the filter text.
pub fn filter_matches(tl: &Timeline, q: &str) -> Vec<u32> {
    let f = Filter::parse(q);
    if f.is_empty() {
        return Vec::new();
    }
    tl.trace
        .spans
        .iter()
        .zip(&tl.trace.nodes)
        .enumerate()
        .filter(|(_, (s, n))| n.origin == RowOrigin::Span && f.matches(s))
        .map(|(i, _)| i as u32)
        .collect()
}

/// What the page says about a trace of `spans` spans (`from` or more): how large it is, that every
/// row arrives, and how to reach its errors. `None` below `from`.
pub fn large_trace_notice(spans: usize, bytes: u64, errors: usize, from: u64) -> Option<Notice> {
    (spans as u64 >= from).then(|| Notice {
        kind: "large".into(),
        text: format!(
            "Large trace: {} spans, about {} MB on the server. Nothing is left out: the first screen comes first, the other rows follow in chunks of {} (the waterfall says how many are still arriving), and the n key steps through its {} pinned error(s).",
            thousands(spans as u64),
            thousands(bytes.div_ceil(1_000_000)),
            thousands(u64::from(crate::view::types::ROWS_CHUNK)),
            thousands(errors as u64),
        ),
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Rows holding pins, sorted.
pub fn pin_rows(tl: &Timeline) -> Vec<u32> {
    let mut v: Vec<u32> = tl.pins.iter().map(|p| p.row as u32).collect();
    v.sort_unstable();
    v
}

/// The page's view data. With `full` all rows are included; otherwise the first screen around the
/// selection (plus the rows holding pins), so the HTML stays small whatever the trace size.
pub fn view(
    tl: &Timeline,
    events: &[ErrorEvent],
    vs: &ViewState,
    sources: &[String],
    upstream_notices: &[Notice],
    full: bool,
) -> TimelineView {
    view_with_rows(
        tl,
        &rows_of(tl),
        events,
        vs,
        sources,
        upstream_notices,
        full,
    )
}

/// [`view`] with every row already built ([`rows_of`] of the same timeline), as the server keeps
/// them per loaded trace: a million-span trace's first screen then costs one pass over the rows, not
/// building them.
pub fn view_with_rows(
    tl: &Timeline,
    all: &Rows,
    events: &[ErrorEvent],
    vs: &ViewState,
    sources: &[String],
    upstream_notices: &[Notice],
    full: bool,
) -> TimelineView {
    let t = &tl.trace;
    let services = services_of(tl);
    let root = t
        .spans
        .iter()
        .zip(&t.nodes)
        .find(|(_, n)| n.origin == RowOrigin::Span)
        .map(|(s, _)| s);

    let mut notices = upstream_notices.to_vec();
    for d in t
        .diagnostics
        .iter()
        .filter(|d| d.kind != DiagnosticKind::MixedTraceIds)
    {
        let kind = match d.kind {
            DiagnosticKind::PartialTrace => "partial",
            DiagnosticKind::ClockSkew => "skew",
            _ => "diagnostic",
        };
        notices.push(Notice {
            kind: kind.into(),
            text: d.message.clone(),
        });
    }
    if let Some(ev) = &vs.event {
        let known = events
            .iter()
            .any(|e| e.event_id.is_some_and(|id| id.to_string() == *ev));
        let in_trace = tl
            .pins
            .iter()
            .map(|p| p.event)
            .chain(tl.unplaced.iter().map(|u| u.event))
            .any(|i| {
                events
                    .get(i)
                    .and_then(|e| e.event_id)
                    .is_some_and(|id| id.to_string() == *ev)
            });
        if !in_trace {
            notices.push(Notice {
                kind: "event_missing".into(),
                text: if known {
                    format!("Event {ev} from the link belongs to another trace, not this one.")
                } else {
                    format!("Event {ev} from the link is not among the errors of this trace.")
                },
            });
        }
    }

    let pins: Vec<PinView> = tl
        .pins
        .iter()
        .filter_map(|p| {
            let e = events.get(p.event)?;
            Some(PinView {
                row: p.row as u32,
                at: signed_offset(p.time_ns, t.start_ns),
                at_adjusted: signed_offset(p.adjusted_time_ns, t.start_ns),
                event_id: e.event_id.map(|i| i.to_string()).unwrap_or_default(),
                title: e.title.clone(),
                level: e.level.clone(),
                matched_by: p.matched_by.code().into(),
                matched_by_text: p.matched_by.describe().into(),
            })
        })
        .collect();
    let unplaced = tl
        .unplaced
        .iter()
        .filter_map(|u| {
            let e = events.get(u.event)?;
            Some(UnplacedView {
                event_id: e.event_id.map(|i| i.to_string()).unwrap_or_default(),
                title: e.title.clone(),
                code: u.reason.code().into(),
                reason: u.reason.to_string(),
            })
        })
        .collect();
    let skew_ns = services.iter().map(|s| tl.skew.offset_of(s)).collect();
    let adjusted_range =
        t.spans
            .iter()
            .enumerate()
            .fold((i64::MAX, i64::MIN), |(lo, hi), (i, s)| {
                let a = tl.skew.adjust_of(i);
                (
                    lo.min(signed_offset(s.start_ns, t.start_ns) + a),
                    hi.max(signed_offset(s.end_ns, t.start_ns) + a),
                )
            });
    let adjusted_range = if adjusted_range.0 <= adjusted_range.1 {
        adjusted_range
    } else {
        (0, 0)
    };

    let matches = (!vs.filter.trim().is_empty()).then(|| filter_matches(tl, &vs.filter));

    // A link naming a span the trace does not have: say so, and select the pin of an error that
    // points at that span, if one does.
    let mut span_fallback = None;
    let mut vs_owned;
    let mut vs = vs;
    if let Some(want) = vs
        .span
        .as_deref()
        .and_then(|s| s.parse::<crate::domain::SpanId>().ok())
    {
        if t.index_of(want).is_none() {
            let pointing = tl.pins.iter().find(|p| {
                events.get(p.event).is_some_and(|e| {
                    crate::correlate::event::context_span_id(e) == Some(want)
                        || crate::correlate::event::otel_span_id(e) == Some(want)
                })
            });
            let instead = pointing
                .and_then(|p| t.spans.get(p.row))
                .map(|s| s.span_id.to_string());
            notices.push(Notice {
                kind: "span_missing".into(),
                text: match (&instead, pointing) {
                    (Some(s), Some(p)) => format!(
                        "Span {want} from the link is not in this trace: it was dropped, sampled out or not exported. An error that points at it is pinned to span {s} ({}), selected instead.",
                        p.matched_by.describe()
                    ),
                    _ => format!(
                        "Span {want} from the link is not in this trace: it was dropped, sampled out or not exported, and no error of the trace points at it."
                    ),
                },
            });
            if let Some(s) = instead {
                vs_owned = vs.clone();
                vs_owned.span = Some(s.clone());
                vs = &vs_owned;
                span_fallback = Some(s);
            }
        }
    }

    let (rows, window_visible, window_offset, visible_total) = if full {
        (all.clone(), Vec::new(), 0, 0)
    } else {
        let vis = visible_rows(all, vs, matches.as_deref(), &pin_rows(tl));
        let sel = selected_row(all, &pins, vs);
        let pos = sel
            .and_then(|r| vis.iter().position(|v| *v == r))
            .unwrap_or(0);
        let from = pos.saturating_sub(WINDOW_ROWS / 4);
        let to = (from + WINDOW_ROWS).min(vis.len());
        let from = to.saturating_sub(WINDOW_ROWS).min(from);
        let window: Vec<u32> = vis[from..to].to_vec();
        let mut pick = window.clone();
        pick.extend(pin_rows(tl));
        (
            subset(all, &pick),
            window,
            u32::try_from(from).unwrap_or(0),
            u32::try_from(vis.len()).unwrap_or(u32::MAX),
        )
    };

    TimelineView {
        open_in: Vec::new(),
        trace_id: t.trace_id.to_string(),
        root_service: root.map(|s| s.service.to_string()).unwrap_or_default(),
        root_name: root.map(|s| s.name.to_string()).unwrap_or_default(),
        start_ns: t.start_ns,
        duration_ns: t.end_ns.saturating_sub(t.start_ns),
        span_count: u32::try_from(t.span_count()).unwrap_or(u32::MAX),
        row_count: u32::try_from(t.spans.len()).unwrap_or(u32::MAX),
        services: services.iter().map(|s| s.to_string()).collect(),
        sources: sources.to_vec(),
        notices,
        pins,
        unplaced,
        skew_ns,
        adjusted_range,
        rows,
        window_visible,
        window_offset,
        visible_total,
        filter_matches: matches,
        span_fallback,
    }
}

fn signed_offset(t: u64, start: u64) -> i64 {
    i64::try_from(i128::from(t) - i128::from(start)).unwrap_or(0)
}

fn text(v: &AttrValue) -> String {
    v.as_text()
}

/// Items of one list shown in a detail panel; the rest are counted in `hidden` and in the export.
pub const SHOWN_ITEMS: usize = 200;
/// Characters of one value shown in a detail panel.
pub const SHOWN_CHARS: usize = 4_000;

/// A value cut to [`SHOWN_CHARS`], saying how much was left out.
fn shown_text(s: String) -> String {
    match s.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => {
            let rest = s[cut..].chars().count();
            format!("{}… ({rest} more characters)", &s[..cut])
        }
        None => s,
    }
}

/// The first [`SHOWN_ITEMS`] of a list; a note in `hidden` for the rest.
fn first_shown<T, U>(
    list: &[T],
    what: &str,
    hidden: &mut Vec<String>,
    f: impl FnMut(&T) -> U,
) -> Vec<U> {
    if list.len() > SHOWN_ITEMS {
        hidden.push(format!("{} more {what}", list.len() - SHOWN_ITEMS));
    }
    list.iter().take(SHOWN_ITEMS).map(f).collect()
}

fn kvs(list: &[KeyValue], what: &str, hidden: &mut Vec<String>) -> Vec<(String, String)> {
    first_shown(list, what, hidden, |kv| {
        (shown_text(kv.key.to_string()), shown_text(text(&kv.value)))
    })
}

fn kind_name(k: SpanKind) -> &'static str {
    match k {
        SpanKind::Unspecified => "unspecified",
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

/// Details of one row.
pub fn span_detail(tl: &Timeline, row: usize) -> Option<SpanDetail> {
    let t = &tl.trace;
    let s = t.spans.get(row)?;
    let node = t.nodes.get(row)?;
    let mut hidden = Vec::new();
    let attributes = kvs(&s.attributes, "attributes", &mut hidden);
    let resource = kvs(&s.resource, "resource attributes", &mut hidden);
    let mut event_hidden = Vec::new();
    let events = first_shown(&s.events, "span events", &mut hidden, |e| SpanEventView {
        at: signed_offset(e.time_ns, s.start_ns),
        name: shown_text(e.name.clone()),
        attributes: kvs(&e.attributes, "span event attributes", &mut event_hidden),
    });
    if !event_hidden.is_empty() {
        hidden.push(format!(
            "{} span event(s) show only their first {SHOWN_ITEMS} attributes",
            event_hidden.len()
        ));
    }
    let links = first_shown(&s.links, "links", &mut hidden, |l| {
        (l.trace_id.to_string(), l.span_id.to_string())
    });
    Some(SpanDetail {
        hidden,
        open_in: Vec::new(),
        row: row as u32,
        span_id: s.span_id.to_string(),
        parent_span_id: s.parent_span_id.map(|p| p.to_string()),
        name: s.name.to_string(),
        service: s.service.to_string(),
        kind: kind_name(s.kind).into(),
        status: match s.status.code {
            StatusCode::Unset => "unset",
            StatusCode::Ok => "ok",
            StatusCode::Error => "error",
        }
        .into(),
        status_message: s.status.message.clone(),
        start: format_ns(s.start_ns),
        start_adjusted: format_ns(tl.skew.adjusted(row, s.start_ns)),
        duration_ns: s.duration_ns(),
        attributes,
        resource,
        events,
        links,
        path: t
            .path_to(row)
            .iter()
            .filter_map(|i| t.spans.get(*i))
            .map(|x| x.name.to_string())
            .collect(),
        placeholder: node.origin == RowOrigin::MissingParent,
    })
}

fn frames_view(e: &crate::domain::ExceptionValue, hidden: &mut Vec<String>) -> Vec<FrameView> {
    if e.frames.len() > SHOWN_ITEMS {
        hidden.push(format!(
            "{} more stack frames (outermost)",
            e.frames.len() - SHOWN_ITEMS
        ));
    }
    let mut frames: Vec<FrameView> = e
        .frames
        .iter()
        .rev()
        .take(SHOWN_ITEMS)
        .map(|f| {
            let line = f.lineno.unwrap_or(0);
            let pre = f.pre_context.len() as u32;
            let mut context = Vec::new();
            for (i, l) in f.pre_context.iter().enumerate() {
                context.push((line.saturating_sub(pre - i as u32), l.clone(), false));
            }
            if let Some(cl) = &f.context_line {
                context.push((line, cl.clone(), true));
            }
            for (i, l) in f.post_context.iter().enumerate() {
                context.push((line + 1 + i as u32, l.clone(), false));
            }
            FrameView {
                function: f.function.clone().unwrap_or_else(|| "?".into()),
                file: f
                    .filename
                    .clone()
                    .or_else(|| f.abs_path.clone())
                    .or_else(|| f.module.clone())
                    .unwrap_or_default(),
                line: f.lineno,
                in_app: f.in_app,
                context,
            }
        })
        .collect();
    // In-app frames first (stable: keeps most-recent-call-first order within each group).
    frames.sort_by_key(|f| !f.in_app);
    frames
}

/// Details of one event of a correlation, placed in a timeline when it is one of its errors.
pub fn event_detail(
    tl: &Timeline,
    events: &[ErrorEvent],
    event_id: EventId,
    public_url: Option<&str>,
) -> Option<EventDetail> {
    let (idx, e) = events
        .iter()
        .enumerate()
        .find(|(_, e)| e.event_id == Some(event_id))?;
    let t = &tl.trace;
    let pin = tl.pins.iter().find(|p| p.event == idx);
    let placement = match pin {
        Some(p) => p.matched_by.describe().to_owned(),
        None => tl
            .unplaced
            .iter()
            .find(|u| u.event == idx)
            .map(|u| u.reason.to_string())
            .unwrap_or_else(|| "This error belongs to another trace.".into()),
    };
    let service = pin
        .and_then(|p| p.service.clone())
        .or_else(|| crate::correlate::event::event_service(e, |_| true).map(|(s, _)| s));
    let mut hidden = Vec::new();
    if e.exceptions.len() > SHOWN_ITEMS {
        hidden.push(format!(
            "{} more chained exceptions",
            e.exceptions.len() - SHOWN_ITEMS
        ));
    }
    let mut frames_hidden = Vec::new();
    let exceptions = e
        .exceptions
        .iter()
        .rev()
        .take(SHOWN_ITEMS)
        .map(|x| ExceptionView {
            ty: x.ty.clone().unwrap_or_else(|| "Error".into()),
            value: x.value.clone().unwrap_or_default(),
            mechanism: x.mechanism.as_ref().map(|m| {
                let kind = m.kind.clone().unwrap_or_else(|| "generic".into());
                match m.handled {
                    Some(true) => format!("{kind}, handled"),
                    Some(false) => format!("{kind}, unhandled"),
                    None => kind,
                }
            }),
            frames: frames_view(x, &mut frames_hidden),
        })
        .collect();
    hidden.extend(frames_hidden);
    let skipped_crumbs = e.breadcrumbs.len().saturating_sub(SHOWN_ITEMS);
    if skipped_crumbs > 0 {
        hidden.push(format!("{skipped_crumbs} earlier breadcrumbs"));
    }
    let tags = first_shown(&e.tags, "tags", &mut hidden, |(k, v)| {
        (shown_text(k.clone()), shown_text(v.clone()))
    });
    let user = e.user.as_ref().map(|u| {
        [&u.username, &u.email, &u.id, &u.ip_address]
            .iter()
            .filter_map(|x| x.as_deref())
            .collect::<Vec<_>>()
            .join(" · ")
    });
    let mut detail = EventDetail {
        open_in: Vec::new(),
        event_id: event_id.to_string(),
        title: shown_text(e.title.clone()),
        level: e.level.clone(),
        timestamp: format_ns(e.timestamp_ns),
        at: signed_offset(e.timestamp_ns, t.start_ns),
        row: pin.map(|p| p.row as u32),
        trace_note: trace_note(e, t.trace_id, pin.is_some()),
        placement,
        service,
        exceptions,
        message: e.message.clone().map(shown_text),
        breadcrumbs: e
            .breadcrumbs
            .iter()
            .skip(skipped_crumbs)
            .map(|b| {
                (
                    b.timestamp_ns.map(|ts| signed_offset(ts, t.start_ns)),
                    b.category
                        .clone()
                        .or_else(|| b.ty.clone())
                        .unwrap_or_default(),
                    b.message.clone().unwrap_or_else(|| {
                        b.data
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    }),
                    b.level.clone().unwrap_or_default(),
                )
            })
            .collect(),
        tags,
        hidden,
        release: e.release.clone(),
        environment: e.environment.clone(),
        user,
        sentry_url: e.sentry_url.clone(),
        markdown: String::new(),
    };
    detail.markdown = markdown(&detail, e, tl, pin.map(|p| p.row), public_url);
    Some(detail)
}

/// When Sentry's own trace id for the event is not the trace shown, say so and why.
fn trace_note(e: &ErrorEvent, shown: crate::domain::TraceId, pinned: bool) -> Option<String> {
    let sentry = e.trace_context.as_ref().and_then(|c| c.trace_id)?;
    if sentry == shown {
        return None;
    }
    let otel = crate::correlate::event::otel_trace_id(e);
    let why = if otel == Some(shown) {
        "the event carries this OpenTelemetry trace id in `contexts.otel_trace` or the `otel.trace_id` tag"
    } else if pinned {
        "a span of this trace is linked to the event (see how it matched above)"
    } else {
        "it was looked up here"
    };
    Some(format!(
        "Sentry files this event under its own trace id {sentry}; tracepin shows it on OpenTelemetry trace {shown} because {why}."
    ))
}

/// Text from the data as inert Markdown: one line, Markdown and HTML punctuation escaped.
pub fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|' | '!' | '(' | ')' | '~'
            | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text from the data as a Markdown code span, fenced with more backticks than it holds.
pub fn md_code(s: &str) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in one_line.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if one_line.starts_with('`') || one_line.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{one_line}{pad}{fence}")
}

fn markdown(
    d: &EventDetail,
    e: &ErrorEvent,
    tl: &Timeline,
    row: Option<usize>,
    public_url: Option<&str>,
) -> String {
    let t = &tl.trace;
    let mut md = format!("**{}** ({})\n\n", md_text(&d.title), md_text(&d.level));
    md.push_str(&format!("- Time: {}\n", d.timestamp));
    if let Some(s) = &d.service {
        md.push_str(&format!("- Service: {}\n", md_code(s)));
    }
    if let Some(r) = row {
        let path: Vec<String> = t
            .path_to(r)
            .iter()
            .filter_map(|i| t.spans.get(*i))
            .map(|s| format!("{} {}", md_text(&s.service), md_code(&s.name)))
            .collect();
        md.push_str(&format!("- Span path: {}\n", path.join(" → ")));
        if let Some(s) = t.spans.get(r) {
            md.push_str(&format!(
                "- Span: `{}` started {} ({} into the trace)\n",
                s.span_id,
                format_ns(s.start_ns),
                super::geometry::format_duration(signed_offset(s.start_ns, t.start_ns)),
            ));
        }
    }
    md.push_str(&format!("- Placement: {}\n", md_text(&d.placement)));
    md.push_str(&format!("- Trace: `{}`\n", t.trace_id));
    if let Some(r) = &e.release {
        md.push_str(&format!("- Release: {}\n", md_code(r)));
    }
    let base = public_url.unwrap_or("").trim_end_matches('/');
    let link = trace_url(
        t.trace_id,
        &ViewState {
            event: Some(d.event_id.clone()),
            ..ViewState::default()
        },
    );
    md.push_str(&format!("- tracepin: {base}{link}\n"));
    if let Some(u) = d
        .sentry_url
        .as_deref()
        .filter(|u| crate::domain::links::safe_url(u).is_some())
    {
        md.push_str(&format!("- Sentry: <{}>\n", u.replace(['<', '>', ' '], "")));
    }
    md
}

/// The joined timeline as JSON: the CLI's report of this one timeline plus the Sentry events it pins
/// or lists as unplaced (`events`).
pub fn export_json(tl: &Timeline, events: &[ErrorEvent]) -> serde_json::Value {
    let one = Correlation {
        timelines: vec![tl.clone()],
        unplaced: Vec::new(),
        events: events.to_vec(),
    };
    let mut report = crate::correlate::report::to_json(&one);
    let mine: Vec<&ErrorEvent> = tl
        .pins
        .iter()
        .map(|p| p.event)
        .chain(tl.unplaced.iter().map(|u| u.event))
        .filter_map(|i| events.get(i))
        .collect();
    if let Some(obj) = report.as_object_mut() {
        obj.insert(
            "events".into(),
            serde_json::to_value(mine).unwrap_or_default(),
        );
    }
    report
}

#[cfg(test)]
mod markdown_tests {
    use super::{md_code, md_text};

    #[test]
    fn upstream_text_is_inert_markdown() {
        assert_eq!(
            md_text("[click](javascript:alert(1)) <img src=x> **bold**\nline"),
            "\\[click\\]\\(javascript:alert\\(1\\)\\) \\<img src=x\\> \\*\\*bold\\*\\* line"
        );
        assert_eq!(md_code("GET /a"), "`GET /a`");
        assert_eq!(md_code("x `y` z"), "``x `y` z``");
        assert_eq!(md_code("`edge`"), "`` `edge` ``");
        assert_eq!(md_code("a\nb"), "`a b`");
    }
}
