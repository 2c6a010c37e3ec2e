//! Sentry event JSON as SDKs send it (the payload of an envelope `event` item), and the Sentry wire
//! pieces the Web API event shares with it (exceptions, frames, breadcrumbs, contexts, user).
//!
//! Every scalar is read leniently (SDKs disagree on types), ids in `contexts.trace` and
//! `contexts.otel_trace` that are not valid are dropped rather than failing the event, `tags` may be
//! an object or a list of pairs, `breadcrumbs` an object with `values` or a list, `timestamp` float
//! seconds or an ISO string. Frames are read in both spellings: the SDK's snake_case
//! (`abs_path`, `lineno`, `pre_context`…) and the Web API's camelCase (`absPath`, `lineNo`, `inApp`,
//! `context: [[line, text]]`, split into pre/context/post lines around `lineNo`).

use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::ids;
use super::json::{self, nullable, Flag, Num, Pairs, Text, Timestamp};
use super::{Format, FormatError};
use crate::domain::{
    Breadcrumb, ErrorEvent, ExceptionValue, Frame, Mechanism, OtelContext, TraceContext, User,
};

/// Title Sentry shows for an event with neither exception nor message.
pub(super) const UNLABELED: &str = "<unlabeled event>";

/// A plain SDK event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct EventWire {
    pub event_id: Text,
    pub level: Text,
    pub timestamp: Timestamp,
    pub platform: Text,
    pub release: Text,
    pub environment: Text,
    pub server_name: Text,
    pub transaction: Text,
    pub culprit: Text,
    pub message: MessageWire,
    pub logentry: MessageWire,
    pub exception: ExceptionsWire,
    pub contexts: ContextsWire,
    pub tags: Pairs,
    pub breadcrumbs: BreadcrumbsWire,
    #[serde(deserialize_with = "nullable")]
    pub user: Option<UserWire>,
    #[serde(deserialize_with = "nullable")]
    pub fingerprint: Vec<Text>,
}

/// `message` / `logentry`: a string, or `{formatted, message, params}`.
#[derive(Debug, Default)]
pub(super) struct MessageWire(pub Option<String>);

impl<'de> Deserialize<'de> for MessageWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Obj {
            #[serde(default)]
            formatted: Text,
            #[serde(default)]
            message: Text,
        }
        let v = serde_json::Value::deserialize(d)?;
        Ok(MessageWire(match v {
            serde_json::Value::String(s) => Some(s),
            obj @ serde_json::Value::Object(_) => serde_json::from_value::<Obj>(obj)
                .ok()
                .and_then(|o| o.formatted.non_empty().or_else(|| o.message.non_empty())),
            _ => None,
        }))
    }
}

/// `exception`: `{"values":[…]}` or a bare list.
#[derive(Debug, Default)]
pub(super) struct ExceptionsWire(pub Vec<ExceptionWire>);

impl<'de> Deserialize<'de> for ExceptionsWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ExceptionsWire(values_or_list(d)?))
    }
}

/// Reads `{"values":[…]}`, a bare list, or `null` (empty).
fn values_or_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(r#"{"values":[…]} or a list"#)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(v) = a.next_element()? {
                out.push(v);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(k) = a.next_key::<String>()? {
                if k == "values" {
                    out = a.next_value::<Option<Vec<T>>>()?.unwrap_or_default();
                } else {
                    a.next_value::<IgnoredAny>()?;
                }
            }
            Ok(out)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V(std::marker::PhantomData))
}

/// One exception of `exception.values`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ExceptionWire {
    #[serde(rename = "type")]
    ty: Text,
    module: Text,
    value: Text,
    #[serde(deserialize_with = "nullable")]
    mechanism: Option<MechanismWire>,
    #[serde(deserialize_with = "nullable")]
    stacktrace: Option<StacktraceWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MechanismWire {
    #[serde(rename = "type")]
    ty: Text,
    handled: Flag,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StacktraceWire {
    #[serde(deserialize_with = "nullable")]
    frames: Vec<FrameWire>,
}

/// A frame in SDK (snake_case) or Web API (camelCase) spelling.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FrameWire {
    function: Text,
    module: Text,
    filename: Text,
    #[serde(alias = "absPath")]
    abs_path: Text,
    #[serde(alias = "lineNo")]
    lineno: Num,
    #[serde(alias = "colNo")]
    colno: Num,
    #[serde(alias = "inApp")]
    in_app: Flag,
    #[serde(deserialize_with = "nullable")]
    pre_context: Vec<Text>,
    context_line: Text,
    #[serde(deserialize_with = "nullable")]
    post_context: Vec<Text>,
    /// Web API: `[[line number, text], …]`.
    #[serde(deserialize_with = "nullable")]
    context: Vec<(Num, Text)>,
}

/// `breadcrumbs`: `{"values":[…]}` or a bare list.
#[derive(Debug, Default)]
pub(super) struct BreadcrumbsWire(pub Vec<BreadcrumbWire>);

impl<'de> Deserialize<'de> for BreadcrumbsWire {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BreadcrumbsWire(values_or_list(d)?))
    }
}

/// One breadcrumb.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct BreadcrumbWire {
    timestamp: Timestamp,
    #[serde(rename = "type")]
    ty: Text,
    category: Text,
    message: Text,
    level: Text,
    data: Pairs,
}

/// `contexts`; only the two that link to traces are read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ContextsWire {
    #[serde(deserialize_with = "nullable")]
    trace: Option<TraceCtxWire>,
    #[serde(deserialize_with = "nullable")]
    otel_trace: Option<OtelCtxWire>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TraceCtxWire {
    trace_id: Text,
    span_id: Text,
    parent_span_id: Text,
    op: Text,
    origin: Text,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OtelCtxWire {
    trace_id: Text,
    span_id: Text,
    service_name: Text,
}

/// `user`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct UserWire {
    id: Text,
    email: Text,
    username: Text,
    ip_address: Text,
}

impl ExceptionWire {
    fn into_domain(self) -> ExceptionValue {
        ExceptionValue {
            ty: self.ty.non_empty(),
            module: self.module.non_empty(),
            value: self.value.non_empty(),
            mechanism: self.mechanism.map(|m| Mechanism {
                kind: m.ty.non_empty(),
                handled: m.handled.0,
            }),
            frames: self
                .stacktrace
                .map(|st| st.frames.into_iter().map(FrameWire::into_domain).collect())
                .unwrap_or_default(),
        }
    }
}

fn texts(v: Vec<Text>) -> Vec<String> {
    v.into_iter().map(|t| t.0.unwrap_or_default()).collect()
}

impl FrameWire {
    fn into_domain(self) -> Frame {
        let lineno = self.lineno.as_u32();
        let mut pre_context = texts(self.pre_context);
        let mut context_line = self.context_line.0;
        let mut post_context = texts(self.post_context);
        if context_line.is_none() && pre_context.is_empty() && post_context.is_empty() {
            for (n, text) in self.context {
                let text = text.0.unwrap_or_default();
                match (n.0, lineno) {
                    (Some(n), Some(l)) if n == u64::from(l) => context_line = Some(text),
                    (Some(n), Some(l)) if n > u64::from(l) => post_context.push(text),
                    _ => pre_context.push(text),
                }
            }
        }
        Frame {
            function: self.function.non_empty(),
            module: self.module.non_empty(),
            filename: self.filename.non_empty(),
            abs_path: self.abs_path.non_empty(),
            lineno,
            colno: self.colno.as_u32(),
            in_app: self.in_app.0.unwrap_or(false),
            pre_context,
            context_line,
            post_context,
        }
    }
}

impl BreadcrumbWire {
    fn into_domain(self) -> Breadcrumb {
        Breadcrumb {
            timestamp_ns: self.timestamp.0,
            ty: self.ty.non_empty(),
            category: self.category.non_empty(),
            message: self.message.non_empty(),
            level: self.level.non_empty(),
            data: self.data.0,
        }
    }
}

impl ContextsWire {
    /// `contexts.trace`, with invalid ids dropped.
    pub(super) fn trace_context(&mut self) -> Option<TraceContext> {
        let t = self.trace.take()?;
        Some(TraceContext {
            trace_id: t.trace_id.0.and_then(|s| ids::trace_id(&s).ok()),
            span_id: t.span_id.0.and_then(|s| ids::span_id(&s).ok()),
            parent_span_id: t
                .parent_span_id
                .0
                .and_then(|s| ids::parent_span_id(&s).ok().flatten()),
            op: t.op.non_empty(),
            origin: t.origin.non_empty(),
        })
    }

    /// `contexts.otel_trace`, with invalid ids dropped.
    pub(super) fn otel_context(&mut self) -> Option<OtelContext> {
        let o = self.otel_trace.take()?;
        Some(OtelContext {
            trace_id: o.trace_id.0.and_then(|s| ids::trace_id(&s).ok()),
            span_id: o.span_id.0.and_then(|s| ids::span_id(&s).ok()),
            service_name: o.service_name.non_empty(),
        })
    }
}

impl UserWire {
    pub(super) fn into_domain(self) -> User {
        User {
            id: self.id.non_empty(),
            email: self.email.non_empty(),
            username: self.username.non_empty(),
            ip_address: self.ip_address.non_empty(),
        }
    }
}

/// Exceptions in Sentry's order.
pub(super) fn exceptions(e: ExceptionsWire) -> Vec<ExceptionValue> {
    e.0.into_iter().map(ExceptionWire::into_domain).collect()
}

/// Breadcrumbs, oldest first.
pub(super) fn breadcrumbs(b: BreadcrumbsWire) -> Vec<Breadcrumb> {
    b.0.into_iter().map(BreadcrumbWire::into_domain).collect()
}

/// Title as Sentry builds it: `Type: value` of the main (last) exception, else the message.
pub(super) fn title(exceptions: &[ExceptionValue], message: Option<&str>) -> String {
    if let Some(e) = exceptions.last() {
        match (&e.ty, &e.value) {
            (Some(t), Some(v)) => return format!("{t}: {v}"),
            (Some(t), None) => return t.clone(),
            (None, Some(v)) => return v.clone(),
            (None, None) => {}
        }
    }
    message
        .map(|m| m.lines().next().unwrap_or(m).to_owned())
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| UNLABELED.to_owned())
}

/// Context an envelope gives its event: header `event_id`, `sent_at`, DSC trace id, DSN project.
#[derive(Debug, Default, Clone)]
pub(super) struct EnvelopeContext {
    /// Header `event_id`, used when the payload has none.
    pub event_id: Option<crate::domain::EventId>,
    /// Header `sent_at`, used when the payload has no timestamp.
    pub sent_at_ns: Option<u64>,
    /// `trace.trace_id` of the dynamic sampling context.
    pub dsc_trace_id: Option<crate::domain::TraceId>,
    /// Project id from the DSN path.
    pub project: Option<String>,
}

impl EventWire {
    /// Converts to the domain event.
    pub(super) fn into_domain(mut self, env: &EnvelopeContext) -> ErrorEvent {
        let exceptions = exceptions(std::mem::take(&mut self.exception));
        let message = (self.logentry.0.take())
            .filter(|m| !m.trim().is_empty())
            .or_else(|| self.message.0.take().filter(|m| !m.trim().is_empty()));
        let title = title(&exceptions, message.as_deref());
        ErrorEvent {
            event_id: self
                .event_id
                .0
                .and_then(|s| ids::event_id(&s).ok())
                .or(env.event_id),
            issue_id: None,
            short_id: None,
            project: env.project.clone(),
            title,
            culprit: self.culprit.non_empty().or(self.transaction.non_empty()),
            level: self.level.non_empty().unwrap_or_else(|| "error".to_owned()),
            timestamp_ns: self.timestamp.0.or(env.sent_at_ns).unwrap_or(0),
            release: self.release.non_empty(),
            environment: self.environment.non_empty(),
            server_name: self.server_name.non_empty(),
            platform: self.platform.non_empty(),
            user: self.user.map(UserWire::into_domain),
            tags: self.tags.0,
            trace_context: self.contexts.trace_context(),
            otel_context: self.contexts.otel_context(),
            dsc_trace_id: env.dsc_trace_id,
            exceptions,
            message,
            breadcrumbs: breadcrumbs(self.breadcrumbs),
            sentry_url: None,
            fingerprint: self
                .fingerprint
                .into_iter()
                .filter_map(Text::non_empty)
                .collect(),
        }
    }
}

/// Decodes a plain SDK event JSON.
pub(super) fn decode_event_json(bytes: &[u8]) -> Result<ErrorEvent, FormatError> {
    let wire: EventWire = json::from_slice(bytes, Format::SentryEventJson)?;
    Ok(wire.into_domain(&EnvelopeContext::default()))
}

/// Decodes an event payload embedded in a larger file; errors are positioned in that file.
pub(super) fn decode_embedded(
    bytes: &[u8],
    format: Format,
    line_offset: usize,
    env: &EnvelopeContext,
) -> Result<ErrorEvent, FormatError> {
    let wire: EventWire = serde_json::from_slice(bytes)
        .map_err(|e| json::json_error(Some(format), &e, line_offset))?;
    Ok(wire.into_domain(env))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exception_title_and_frames() {
        let ev = decode_event_json(
            br#"{"event_id":"182c00df4ab44a9ca531f2d7e81156f5","level":"error","timestamp":1701074659.818557,
            "exception":{"values":[{"type":"InsufficientStock","module":"__main__","value":"only 0 left",
              "mechanism":{"type":"generic","handled":true},
              "stacktrace":{"frames":[{"filename":"gen.py","abs_path":"/srv/gen.py","function":"h","module":"__main__",
                "lineno":785,"pre_context":["a","b"],"context_line":"raise X","post_context":["c"],"in_app":true}]}}]}}"#,
        )
        .expect("decodes");
        assert_eq!(ev.title, "InsufficientStock: only 0 left");
        assert_eq!(
            ev.event_id.map(|e| e.to_string()).as_deref(),
            Some("182c00df4ab44a9ca531f2d7e81156f5")
        );
        let ex = ev.main_exception().expect("exception");
        assert_eq!(ex.mechanism.as_ref().and_then(|m| m.handled), Some(true));
        let f = &ex.frames[0];
        assert_eq!(f.lineno, Some(785));
        assert!(f.in_app);
        assert_eq!(f.pre_context, ["a", "b"]);
        assert_eq!(f.context_line.as_deref(), Some("raise X"));
        assert_eq!(f.post_context, ["c"]);
        assert_eq!(ev.timestamp_ns, 1_701_074_659_818_557_000);
    }

    #[test]
    fn tags_as_object_or_list() {
        let a = decode_event_json(br#"{"tags":{"transaction_id":"txn-1","b":2}}"#).expect("obj");
        assert_eq!(a.tag("transaction_id"), Some("txn-1"));
        assert_eq!(a.tag("b"), Some("2"));
        let b =
            decode_event_json(br#"{"tags":[["transaction_id","txn-1"],["x","y"]]}"#).expect("list");
        assert_eq!(
            b.tags,
            [
                ("transaction_id".into(), "txn-1".into()),
                ("x".into(), "y".into())
            ]
        );
    }

    #[test]
    fn breadcrumbs_object_or_list_with_float_or_iso_timestamps() {
        let a = decode_event_json(
            br#"{"breadcrumbs":{"values":[{"timestamp":1700655103.172407,"type":"navigation","category":"route","message":"/","data":{"to":"/x","n":1}}]}}"#,
        )
        .expect("values");
        assert_eq!(
            a.breadcrumbs[0].timestamp_ns,
            Some(1_700_655_103_172_407_000)
        );
        assert_eq!(
            a.breadcrumbs[0].data,
            [("to".into(), "/x".into()), ("n".into(), "1".into())]
        );
        let b = decode_event_json(
            br#"{"breadcrumbs":[{"timestamp":"2020-06-17T22:26:55.266586Z","level":"debug","data":null}]}"#,
        )
        .expect("list");
        assert_eq!(
            b.breadcrumbs[0].timestamp_ns,
            Some(1_592_432_815_266_586_000)
        );
        assert_eq!(b.breadcrumbs[0].level.as_deref(), Some("debug"));
    }

    #[test]
    fn log_event_title_from_logentry_or_message() {
        let a = decode_event_json(
            br#"{"logentry":{"message":"order %s failed","formatted":"order ord-1 failed","params":["ord-1"]},"level":"error"}"#,
        )
        .expect("logentry");
        assert_eq!(a.title, "order ord-1 failed");
        assert_eq!(a.message.as_deref(), Some("order ord-1 failed"));
        let b = decode_event_json(br#"{"message":{"formatted":"Started app"}}"#).expect("obj");
        assert_eq!(b.title, "Started app");
        let c = decode_event_json(br#"{"message":"plain"}"#).expect("string");
        assert_eq!(c.title, "plain");
        let d = decode_event_json(b"{}").expect("empty");
        assert_eq!(d.title, UNLABELED);
        assert_eq!(d.level, "error");
    }

    #[test]
    fn invalid_trace_context_ids_are_ignored() {
        let ev = decode_event_json(
            br#"{"contexts":{"trace":{"trace_id":"nope","span_id":"b5f1352b175f1789","parent_span_id":42,"op":"http.server","origin":"auto.otel"},
              "otel_trace":{"trace_id":"3b05bbdd9ca4a959b02b7bbdedd5130c","span_id":"","service_name":"inventory"}}}"#,
        )
        .expect("decodes");
        let tc = ev.trace_context.expect("trace context");
        assert_eq!(tc.trace_id, None);
        assert_eq!(
            tc.span_id.map(|s| s.to_string()).as_deref(),
            Some("b5f1352b175f1789")
        );
        assert_eq!(tc.op.as_deref(), Some("http.server"));
        assert_eq!(tc.origin.as_deref(), Some("auto.otel"));
        let oc = ev.otel_context.expect("otel context");
        assert!(oc.trace_id.is_some());
        assert_eq!(oc.span_id, None);
        assert_eq!(oc.service_name.as_deref(), Some("inventory"));
    }

    #[test]
    fn dashed_event_id_and_user() {
        let ev = decode_event_json(
            br#"{"event_id":"0af76519-16cd-43dd-8448-eb211c80319c","user":{"id":42,"email":"a@b.c","ip_address":"{{auto}}"},"timestamp":"2024-01-26T17:27:31.414Z"}"#,
        )
        .expect("decodes");
        assert_eq!(
            ev.event_id.map(|e| e.to_string()).as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        let user = ev.user.expect("user");
        assert_eq!(user.id.as_deref(), Some("42"));
        assert_eq!(user.email.as_deref(), Some("a@b.c"));
        assert_eq!(ev.timestamp_ns, 1_706_290_051_414_000_000);
    }

    #[test]
    fn web_frame_context_is_split_around_line_number() {
        let f: FrameWire = serde_json::from_str(
            r#"{"absPath":"webpack:///h.js","lineNo":71,"colNo":23,"inApp":false,
                "context":[[69,"a"],[70,"b"],[71,"c"],[72,"d"]]}"#,
        )
        .expect("frame");
        let f = f.into_domain();
        assert_eq!(f.abs_path.as_deref(), Some("webpack:///h.js"));
        assert_eq!((f.lineno, f.colno, f.in_app), (Some(71), Some(23), false));
        assert_eq!(f.pre_context, ["a", "b"]);
        assert_eq!(f.context_line.as_deref(), Some("c"));
        assert_eq!(f.post_context, ["d"]);
    }
}
