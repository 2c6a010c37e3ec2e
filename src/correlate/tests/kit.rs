//! Test kit: a tiny text form for traces and events, and one `check` helper per area.
//!
//! Trace lines: `service name words start..end flags…`, indentation (two spaces) = parent; times in
//! ms (`?` = missing). Flags: `!err`, `#label` (span id), `^label` (explicit parent, `^-` = root),
//! `%label` (trace id), `kind=client|server|producer|consumer|internal`, `attr k=v` (`v = @name` is the
//! event id of event `name`), `exc Type: message @t`.
//!
//! Event lines: `name @t fields…`: `svc=S` (release `S@1.0.0`), `server=H`, `stag=S` (tag `service`),
//! `ctx=[trace:]span` (contexts.trace), `ctx-trace=trace`, `parent` (contexts.trace.parent_span_id),
//! `origin=O`, `dsc=trace`, `otel=[trace:]span`, `otelsvc=S`, `otag=[trace:]span` (otel.* tags),
//! `tag:k=v`, and last `exc Type: message`. Default trace label is `T`.

use crate::domain::{
    AttrValue, ErrorEvent, EventId, ExceptionValue, KeyValue, OtelContext, Span, SpanEvent, SpanId,
    SpanKind, SpanStatus, StatusCode, TraceContext, TraceId,
};

/// Unix ns of "0 ms" in test traces.
pub const BASE_NS: u64 = 1_700_000_000_000_000_000;

fn label_bytes<const N: usize>(label: &str) -> [u8; N] {
    let mut out = [0u8; N];
    let b = label.as_bytes();
    if b.len() <= N {
        out[N - b.len()..].copy_from_slice(b);
    } else {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &c in b {
            h = (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3);
        }
        for (i, o) in out.iter_mut().enumerate() {
            *o = (h >> ((i % 8) * 8)) as u8 ^ (i as u8);
        }
    }
    if out.iter().all(|&x| x == 0) {
        out[N - 1] = 1;
    }
    out
}

/// Trace id of a label.
pub fn tid(label: &str) -> TraceId {
    TraceId(label_bytes(label))
}

/// Span id of a label.
pub fn sid(label: &str) -> SpanId {
    SpanId(label_bytes(label))
}

/// Event id of an event name.
pub fn eid(name: &str) -> EventId {
    EventId(label_bytes(&format!("ev:{name}")))
}

/// Milliseconds in the test form to Unix ns.
pub fn at(ms: f64) -> u64 {
    BASE_NS + (ms * 1e6).round() as u64
}

fn time(tok: &str) -> u64 {
    if tok == "?" {
        0
    } else {
        at(tok
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad time {tok:?}")))
    }
}

fn is_range(tok: &str) -> bool {
    tok.split_once("..").is_some_and(|(a, b)| {
        let ok = |s: &str| s == "?" || s.parse::<f64>().is_ok();
        ok(a) && ok(b)
    })
}

fn value(v: &str) -> AttrValue {
    match v.strip_prefix('@') {
        Some(name) => AttrValue::Str(eid(name).to_string().into()),
        None => AttrValue::Str(v.into()),
    }
}

/// Parses the trace text form into flat spans (input order = line order).
pub fn spans(text: &str) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut stack: Vec<(usize, SpanId)> = Vec::new(); // (indent, id)
    for (lineno, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let toks: Vec<&str> = line.split_whitespace().collect();
        let range_at = toks
            .iter()
            .position(|t| is_range(t))
            .unwrap_or_else(|| panic!("no start..end on line {line:?}"));
        let service = toks[0].to_owned();
        let name = toks[1..range_at].join(" ");
        let (a, b) = toks[range_at].split_once("..").unwrap_or(("0", "0"));
        let mut span = Span {
            trace_id: tid("T"),
            span_id: sid(&format!("L{lineno}")),
            parent_span_id: None,
            service: service.into(),
            name: name.into(),
            kind: SpanKind::Internal,
            start_ns: time(a),
            end_ns: time(b),
            status: SpanStatus::default(),
            attributes: crate::domain::ThinVec::new(),
            events: crate::domain::ThinVec::new(),
            links: crate::domain::ThinVec::new(),
            resource: Default::default(),
            scope: None,
        };
        let mut explicit_parent: Option<Option<SpanId>> = None;
        let mut i = range_at + 1;
        while i < toks.len() {
            let t = toks[i];
            if t == "!err" {
                span.status = SpanStatus {
                    code: StatusCode::Error,
                    message: None,
                };
            } else if let Some(l) = t.strip_prefix('#') {
                span.span_id = sid(l);
            } else if let Some(l) = t.strip_prefix('^') {
                explicit_parent = Some((l != "-").then(|| sid(l)));
            } else if let Some(l) = t.strip_prefix('%') {
                span.trace_id = tid(l);
            } else if let Some(k) = t.strip_prefix("kind=") {
                span.kind = match k {
                    "client" => SpanKind::Client,
                    "server" => SpanKind::Server,
                    "producer" => SpanKind::Producer,
                    "consumer" => SpanKind::Consumer,
                    _ => SpanKind::Internal,
                };
            } else if t == "attr" {
                i += 1;
                let (k, v) = toks[i].split_once('=').expect("attr k=v");
                span.attributes.push(KeyValue {
                    key: k.into(),
                    value: value(v),
                });
            } else if t == "exc" {
                let mut words = Vec::new();
                i += 1;
                while i < toks.len() && !toks[i].starts_with('@') {
                    words.push(toks[i]);
                    i += 1;
                }
                let text = words.join(" ");
                let (ty, msg) = text.split_once(": ").unwrap_or((text.as_str(), ""));
                let t = toks
                    .get(i)
                    .and_then(|t| t.strip_prefix('@'))
                    .map_or(span.start_ns, time);
                span.events.push(SpanEvent {
                    time_ns: t,
                    name: "exception".to_owned(),
                    attributes: vec![
                        KeyValue::str("exception.type", ty),
                        KeyValue::str("exception.message", msg),
                    ],
                });
            } else {
                panic!("unknown flag {t:?} on line {line:?}");
            }
            i += 1;
        }
        while stack.last().is_some_and(|&(ind, _)| ind >= indent) {
            stack.pop();
        }
        span.parent_span_id = match explicit_parent {
            Some(p) => p,
            None => stack.last().map(|&(_, id)| id),
        };
        stack.push((indent, span.span_id));
        out.push(span);
    }
    out
}

fn trace_and_span(v: &str) -> (TraceId, SpanId) {
    match v.split_once(':') {
        Some((t, s)) => (tid(t), sid(s)),
        None => (tid("T"), sid(v)),
    }
}

/// Parses the event text form.
pub fn events(text: &str) -> Vec<ErrorEvent> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (head, exc) = match line.split_once(" exc ") {
            Some((h, e)) => (h, Some(e)),
            None => (line, None),
        };
        let toks: Vec<&str> = head.split_whitespace().collect();
        let name = toks[0];
        let mut ev = ErrorEvent {
            event_id: Some(eid(name)),
            title: name.to_owned(),
            level: "error".to_owned(),
            ..ErrorEvent::default()
        };
        for t in &toks[1..] {
            if let Some(v) = t.strip_prefix('@') {
                ev.timestamp_ns = time(v);
            } else if let Some(v) = t.strip_prefix("svc=") {
                ev.release = Some(format!("{v}@1.0.0"));
            } else if let Some(v) = t.strip_prefix("server=") {
                ev.server_name = Some(v.to_owned());
            } else if let Some(v) = t.strip_prefix("stag=") {
                ev.tags.push(("service".to_owned(), v.to_owned()));
            } else if let Some(v) = t.strip_prefix("ctx=") {
                let (tr, sp) = trace_and_span(v);
                let c = ev.trace_context.get_or_insert_with(TraceContext::default);
                c.trace_id = Some(tr);
                c.span_id = Some(sp);
            } else if let Some(v) = t.strip_prefix("ctx-trace=") {
                ev.trace_context
                    .get_or_insert_with(TraceContext::default)
                    .trace_id = Some(tid(v));
            } else if *t == "parent" {
                ev.trace_context
                    .get_or_insert_with(TraceContext::default)
                    .parent_span_id = Some(sid("sentry-parent"));
            } else if let Some(v) = t.strip_prefix("origin=") {
                ev.trace_context
                    .get_or_insert_with(TraceContext::default)
                    .origin = Some(v.to_owned());
            } else if let Some(v) = t.strip_prefix("dsc=") {
                ev.dsc_trace_id = Some(tid(v));
            } else if let Some(v) = t.strip_prefix("otel=") {
                let (tr, sp) = trace_and_span(v);
                let o = ev.otel_context.get_or_insert_with(OtelContext::default);
                o.trace_id = Some(tr);
                o.span_id = Some(sp);
            } else if let Some(v) = t.strip_prefix("otelsvc=") {
                ev.otel_context
                    .get_or_insert_with(OtelContext::default)
                    .service_name = Some(v.to_owned());
            } else if let Some(v) = t.strip_prefix("otag=") {
                let (tr, sp) = trace_and_span(v);
                ev.tags.push(("otel.trace_id".to_owned(), tr.to_string()));
                ev.tags.push(("otel.span_id".to_owned(), sp.to_string()));
            } else if let Some(v) = t.strip_prefix("tag:") {
                let (k, val) = v.split_once('=').expect("tag:k=v");
                ev.tags.push((k.to_owned(), val.to_owned()));
            } else {
                panic!("unknown event field {t:?} in {line:?}");
            }
        }
        if let Some(exc) = exc {
            let (ty, msg) = exc.split_once(": ").unwrap_or((exc, ""));
            let (module, ty) = match ty.rsplit_once('.') {
                Some((m, t)) => (Some(m.to_owned()), t),
                None => (None, ty),
            };
            ev.exceptions.push(ExceptionValue {
                ty: Some(ty.to_owned()),
                module,
                value: Some(msg.to_owned()),
                ..ExceptionValue::default()
            });
        }
        out.push(ev);
    }
    out
}
