//! Sentry search queries, built and batched here only.
//!
//! The grammar is Sentry's event search (`src/sentry/api/event_search.py`; docs: "Search" →
//! "Query Syntax", <https://docs.sentry.io/concepts/search/>): terms are AND-ed; `key:value`; a value
//! with a space, comma, parenthesis or quote is double-quoted, `\"` being the only escape inside
//! quotes; an unquoted `*` is a wildcard, so a literal one is written `\*`; one key with several
//! values is the list form `key:[a, "b c"]` ("in" search, any value matches). Custom tags are named
//! with the explicit form `tags[key]:value`, valid for any key (dots, dashes) and never mistaken for
//! a built-in field. `trace:<id>` matches `contexts.trace.trace_id`; other context fields cannot be
//! searched.
//!
//! Neither the docs nor the grammar set a limit on list length; query strings travel in the URL, so
//! batches are bounded both in values ([`MAX_VALUES_PER_QUERY`]) and in length
//! ([`MAX_QUERY_CHARS`]).

use crate::domain::{EventId, TraceId};

/// Values in one list query.
pub const MAX_VALUES_PER_QUERY: usize = 25;
/// Characters in one query string.
pub const MAX_QUERY_CHARS: usize = 1500;

/// A value written so that Sentry's grammar reads it back exactly, or `None` when it cannot be
/// (a value ending in a backslash would escape the closing quote; control characters and empty
/// values are not searchable).
pub fn value(v: &str) -> Option<String> {
    if v.is_empty() || v.chars().any(char::is_control) {
        return None;
    }
    // Quoted values are read literally: no comparison (`>5`), negation or list syntax inside.
    let needs_quotes = v.starts_with(['!', '<', '>', '='])
        || v.chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '"' | '[' | ']' | ':'));
    let mut out = String::with_capacity(v.len() + 2);
    for c in v.chars() {
        match c {
            '*' => out.push_str("\\*"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    if needs_quotes {
        if out.ends_with('\\') {
            return None;
        }
        Some(format!("\"{out}\""))
    } else {
        Some(out)
    }
}

/// `tags[key]` for a custom tag key, or `None` for a key the bracket form cannot hold.
pub fn tag_key(key: &str) -> Option<String> {
    let ok = !key.is_empty()
        && key.len() <= 200
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@' | '/'));
    ok.then(|| format!("tags[{key}]"))
}

/// `trace:<id>`: events whose `contexts.trace.trace_id` is the trace.
pub fn trace(id: TraceId) -> String {
    format!("trace:{id}")
}

/// `tags[key]:value`.
pub fn tag_is(key: &str, v: &str) -> Option<String> {
    Some(format!("{}:{}", tag_key(key)?, value(v)?))
}

/// Queries asking for any of `values` of a tag, batched: `tags[key]:[a, b, …]` with at most
/// [`MAX_VALUES_PER_QUERY`] values and [`MAX_QUERY_CHARS`] characters each. Values that cannot be
/// written are counted in the second element, never sent.
pub fn tag_in_batches<'a>(
    key: &str,
    values: impl IntoIterator<Item = &'a str>,
) -> (Vec<String>, usize) {
    let Some(k) = tag_key(key) else {
        return (Vec::new(), values.into_iter().count());
    };
    let mut written = Vec::new();
    let mut skipped = 0;
    for v in values {
        match value(v) {
            Some(w) => written.push(w),
            None => skipped += 1,
        }
    }
    (list_batches(&format!("{k}:"), written), skipped)
}

/// Queries asking for events by id: `id:[e1, e2, …]`, batched like [`tag_in_batches`].
pub fn ids_in_batches(ids: impl IntoIterator<Item = EventId>) -> Vec<String> {
    list_batches("id:", ids.into_iter().map(|i| i.to_string()).collect())
}

/// Queries asking for events of any of these traces: `trace:[t1, t2, …]`, batched like
/// [`tag_in_batches`].
pub fn traces_in_batches(ids: impl IntoIterator<Item = TraceId>) -> Vec<String> {
    list_batches("trace:", ids.into_iter().map(|i| i.to_string()).collect())
}

fn list_batches(prefix: &str, written: Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut len = prefix.len() + 2;
    for w in written {
        let add = w.len() + 2;
        if !cur.is_empty() && (cur.len() >= MAX_VALUES_PER_QUERY || len + add > MAX_QUERY_CHARS) {
            out.push(render(prefix, &cur));
            cur.clear();
            len = prefix.len() + 2;
        }
        len += add;
        cur.push(w);
    }
    if !cur.is_empty() {
        out.push(render(prefix, &cur));
    }
    out
}

fn render(prefix: &str, values: &[String]) -> String {
    if let [one] = values {
        format!("{prefix}{one}")
    } else {
        format!("{prefix}[{}]", values.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_escaped_only_when_needed() {
        assert_eq!(value("txn-620b0ff5").as_deref(), Some("txn-620b0ff5"));
        assert_eq!(value("a b").as_deref(), Some("\"a b\""));
        assert_eq!(value("a,b").as_deref(), Some("\"a,b\""));
        assert_eq!(value("say \"hi\"").as_deref(), Some("\"say \\\"hi\\\"\""));
        assert_eq!(value("(x)").as_deref(), Some("\"(x)\""));
        assert_eq!(value("GET:/x").as_deref(), Some("\"GET:/x\""));
        assert_eq!(value("50*").as_deref(), Some("50\\*"));
        assert_eq!(value(">5").as_deref(), Some("\">5\""));
        assert_eq!(value("a\\b").as_deref(), Some("a\\b"));
        // Inside quotes a trailing backslash would escape the closing quote.
        assert_eq!(value("a b\\"), None);
        assert_eq!(value(""), None);
        assert_eq!(value("line\nbreak"), None);
    }

    #[test]
    fn tags_use_the_explicit_form() {
        assert_eq!(
            tag_is("otel.trace_id", "0af7651916cd43dd8448eb211c80319c").as_deref(),
            Some("tags[otel.trace_id]:0af7651916cd43dd8448eb211c80319c")
        );
        assert_eq!(
            tag_is("x-request-id", "r 1").as_deref(),
            Some("tags[x-request-id]:\"r 1\"")
        );
        assert_eq!(tag_is("bad key]", "v"), None);
        assert_eq!(tag_is("", "v"), None);
    }

    #[test]
    fn one_value_is_a_plain_term_several_a_list() {
        let (q, skipped) = tag_in_batches("transaction_id", ["txn-1"]);
        assert_eq!(q, ["tags[transaction_id]:txn-1"]);
        assert_eq!(skipped, 0);
        let (q, _) = tag_in_batches("transaction_id", ["txn-1", "two words", "a,b"]);
        assert_eq!(q, ["tags[transaction_id]:[txn-1, \"two words\", \"a,b\"]"]);
    }

    #[test]
    fn batches_are_bounded_in_values_and_length() {
        let values: Vec<String> = (0..60).map(|i| format!("txn-{i:04}")).collect();
        let (q, _) = tag_in_batches("transaction_id", values.iter().map(String::as_str));
        assert_eq!(q.len(), 3, "{q:?}");
        assert!(q[0].starts_with("tags[transaction_id]:[txn-0000, txn-0001"));
        assert_eq!(q[0].matches("txn-").count(), MAX_VALUES_PER_QUERY);
        assert_eq!(q[2].matches("txn-").count(), 10);
        let long: Vec<String> = (0..10).map(|i| format!("{i}{}", "x".repeat(400))).collect();
        let (q, _) = tag_in_batches("k", long.iter().map(String::as_str));
        assert!(
            q.iter().all(|s| s.len() <= MAX_QUERY_CHARS),
            "{:?}",
            q.iter().map(String::len).collect::<Vec<_>>()
        );
        assert_eq!(
            q.iter().map(|s| s.matches('x').count()).sum::<usize>(),
            4000
        );
    }

    #[test]
    fn unwritable_values_are_counted_not_sent() {
        let (q, skipped) = tag_in_batches("k", ["ok", "bad\\ end\\", ""]);
        assert_eq!(q, ["tags[k]:ok"]);
        assert_eq!(skipped, 2);
    }

    #[test]
    fn ids_batch_too() {
        let ids: Vec<EventId> = (1..=30u8)
            .map(|i| EventId::from_bytes([i; 16]).expect("id"))
            .collect();
        let q = ids_in_batches(ids);
        assert_eq!(q.len(), 2);
        assert!(q[0].starts_with("id:[01010101010101010101010101010101, "));
        assert_eq!(q[1].matches(", ").count(), 4);
    }
}
