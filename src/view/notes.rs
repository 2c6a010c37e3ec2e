//! Snapshot notes as pages and Markdown show them: what a note is attached to, in words, and the
//! Markdown block "Copy as Markdown" adds on a snapshot. Pure, like the rest of `view`.

use super::geometry::format_duration;
use super::timeline::md_text;
use super::types::{Annotation, AnnotationTarget, SnapshotMeta, TimelineView};

/// What a note is attached to, for people: the span's service and name, the error's title, or the
/// time range from the trace start. `span_name` finds a span's "service name" by its 16-hex id.
pub fn target_label(
    target: &AnnotationTarget,
    view: &TimelineView,
    span_name: impl Fn(&str) -> Option<String>,
) -> String {
    match target {
        AnnotationTarget::Span { span_id } => match span_name(span_id) {
            Some(n) => format!("span {n}"),
            None => format!("span {span_id}"),
        },
        AnnotationTarget::Event { event_id } => {
            let title = view
                .pins
                .iter()
                .find(|p| p.event_id == *event_id)
                .map(|p| p.title.clone())
                .or_else(|| {
                    view.unplaced
                        .iter()
                        .find(|u| u.event_id == *event_id)
                        .map(|u| u.title.clone())
                });
            match title {
                Some(t) => format!("error {t}"),
                None => format!("error {event_id}"),
            }
        }
        AnnotationTarget::Range { start_ns, end_ns } => format!(
            "{} – {} after the trace start",
            format_duration(*start_ns),
            format_duration(*end_ns)
        ),
    }
}

/// The Markdown block for a snapshot: its link, who froze it and when, and every note with its
/// author, time and target. Every piece of text from people or data is escaped.
pub fn markdown(
    meta: &SnapshotMeta,
    link: &str,
    notes: &[Annotation],
    label: impl Fn(&AnnotationTarget) -> String,
) -> String {
    let mut out = format!(
        "**Snapshot:** [{}]({}) — frozen {} by {}\n",
        md_text(&meta.title),
        link.replace(['(', ')', ' '], ""),
        md_text(&meta.frozen_at),
        md_text(&meta.frozen_by)
    );
    if notes.is_empty() {
        return out;
    }
    out.push_str("\n**Notes**\n\n");
    for n in notes {
        out.push_str(&format!(
            "- {} — {} ({}{}): {}\n",
            md_text(&label(&n.target)),
            md_text(&n.author),
            md_text(&n.created_at),
            if n.updated_at.is_some() {
                ", edited"
            } else {
                ""
            },
            md_text(&n.text.replace('\n', " "))
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> SnapshotMeta {
        SnapshotMeta {
            id: "abc".into(),
            title: "checkout POST /pay".into(),
            trace_id: "0".repeat(32),
            frozen_at: "2026-12-05T08:00:00Z".into(),
            frozen_by: "ana".into(),
            expires_at: None,
            size_bytes: 10,
            view: String::new(),
        }
    }

    #[test]
    fn markdown_lists_notes_escaped_with_the_link() {
        let notes = vec![
            Annotation {
                id: "1".into(),
                author: "bo".into(),
                created_at: "2026-12-05T08:01:00Z".into(),
                updated_at: Some("2026-12-05T08:02:00Z".into()),
                target: AnnotationTarget::Range {
                    start_ns: 1_000_000,
                    end_ns: 2_000_000,
                },
                text: "deploy <script>alert(1)</script>\nrolled back".into(),
            },
            Annotation {
                id: "2".into(),
                author: "ana".into(),
                created_at: "2026-12-05T08:03:00Z".into(),
                updated_at: None,
                target: AnnotationTarget::Span {
                    span_id: "a".repeat(16),
                },
                text: "[click](javascript:x)".into(),
            },
        ];
        let md = markdown(
            &meta(),
            "http://127.0.0.1:3000/s/abc",
            &notes,
            |t| match t {
                AnnotationTarget::Span { .. } => "span payments charge".into(),
                _ => "1ms – 2ms".into(),
            },
        );
        assert!(md.starts_with(
            "**Snapshot:** [checkout POST /pay](http://127.0.0.1:3000/s/abc) — frozen"
        ));
        assert!(md.contains("edited"));
        assert!(md.contains("deploy \\<script\\>alert\\(1\\)\\</script\\> rolled back"));
        assert!(md.contains("\\[click\\]\\(javascript:x\\)"));
        assert!(!md.contains("<script>"));
        assert_eq!(md.matches("\n- ").count(), 2);
    }

    #[test]
    fn no_notes_is_just_the_link() {
        let md = markdown(&meta(), "/s/abc", &[], |_| String::new());
        assert!(!md.contains("Notes"));
        assert!(md.contains("(/s/abc)"));
    }
}
