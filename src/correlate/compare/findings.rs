//! The differences as plain sentences, and the first divergence.
//!
//! One finding per path, at the level that explains the most: a failure is stated where it started
//! (an errored row with no errored row below it), a repetition at its topmost repeated path (followed
//! down through a single repeated child, so a retried call is named by the service that served it), a
//! new or missing subtree at its top, a slow span only when nothing abnormal below it explains it.

use std::collections::{HashMap, HashSet};

use super::{
    CompareOptions, Ctx, Divergence, Finding, FindingKind, GhostParent, ERRORED, NEW, REPEATED,
    SLOWER,
};
use crate::domain::RowOrigin;

/// `once`, `twice`, `3 times`.
pub fn times(n: u32) -> String {
    match n {
        0 => "never".to_owned(),
        1 => "once".to_owned(),
        2 => "twice".to_owned(),
        n => format!("{n} times"),
    }
}

/// A duration for people: `850 ns`, `12 µs`, `4.2 ms`, `1.25 s`.
pub fn duration(ns: u64) -> String {
    if ns < 1_000 {
        format!("{ns} ns")
    } else if ns < 1_000_000 {
        format!("{} µs", ns / 1_000)
    } else if ns < 1_000_000_000 {
        format!("{:.1} ms", ns as f64 / 1e6)
    } else {
        format!("{:.2} s", ns as f64 / 1e9)
    }
}

fn label(service: &str, name: &str) -> String {
    format!("{service} '{name}'")
}

/// Every finding, most telling kind first, then by time.
pub(crate) fn findings(cx: &Ctx<'_>, opts: &CompareOptions) -> Vec<Finding> {
    if cx.base.traces == 0 {
        return Vec::new();
    }
    let mut out: Vec<(u64, Finding)> = Vec::new();
    let start_of = |row: usize| cx.start_of(row);
    let mut keys: Vec<u64> = cx.by_key.keys().copied().collect();
    keys.sort_by_key(|k| cx.by_key.get(k).and_then(|v| v.first().copied()));
    let key_marked = |k: u64, mark: u8| {
        cx.by_key
            .get(&k)
            .is_some_and(|rows| rows.iter().any(|&r| cx.marks(r) & mark != 0))
    };
    // Child keys present here, per key.
    let mut child_keys: HashMap<u64, Vec<u64>> = HashMap::new();
    for &k in &keys {
        if let Some(&first) = cx.by_key.get(&k).and_then(|v| v.first()) {
            let list = child_keys.entry(cx.parent_key(first)).or_default();
            if !list.contains(&k) {
                list.push(k);
            }
        }
    }
    let mut covered: HashSet<u64> = HashSet::new();

    for &k in &keys {
        let Some(rows) = cx.by_key.get(&k) else {
            continue;
        };
        let Some(&first) = rows.first() else {
            continue;
        };
        let parent = cx.parent_key(first);
        let span = cx.trace.spans.get(first);
        let (service, name) = span.map_or((String::new(), String::new()), |s| {
            (s.service.to_string(), s.name.to_string())
        });
        let stats = cx.base.keys.get(&k);
        let count = u32::try_from(rows.len()).unwrap_or(u32::MAX);

        // Repeated: the topmost repeated path, followed down a single repeated child.
        if key_marked(k, REPEATED) && !key_marked(parent, REPEATED) {
            let mut at = k;
            loop {
                let (c, u) = count_usual(cx, at);
                let next = match child_keys.get(&at).map(Vec::as_slice) {
                    Some([only])
                        if key_marked(*only, REPEATED) && count_usual(cx, *only) == (c, u) =>
                    {
                        Some(*only)
                    }
                    _ => None,
                };
                match next {
                    Some(n) => at = n,
                    None => break,
                }
            }
            covered.insert(at);
            let at_rows = cx.by_key.get(&at).cloned().unwrap_or_default();
            let (c, u) = count_usual(cx, at);
            let (svc, nm) = shown(cx, &at_rows);
            let mut text = format!(
                "{} ran {} (healthy: {}",
                label(&svc, &nm),
                times(c),
                times(u)
            );
            if let Some(most) = cx.base.keys.get(&at).map(|s| s.most).filter(|m| *m > u) {
                text.push_str(&format!(", at most {}", times(most)));
            }
            text.push(')');
            if let Some(slow) = slowest(cx, &at_rows) {
                text.push_str(&format!(
                    "; {} took {}, {:.1}× the healthy p90",
                    if at_rows.last() == Some(&slow.0) {
                        "the last one"
                    } else {
                        "the slowest"
                    },
                    duration(slow.1),
                    slow.2
                ));
            }
            text.push('.');
            out.push((
                at_rows.first().map_or(0, |&r| start_of(r)),
                Finding {
                    kind: FindingKind::Repeated,
                    service: svc,
                    name: nm,
                    rows: at_rows,
                    ghost: None,
                    text,
                },
            ));
        }

        // New: the top of a new subtree (a lone failing span is said once, as a failure).
        let lone_failure = rows
            .iter()
            .all(|&r| cx.marks(r) & ERRORED != 0 && subtree_len(cx, r) == 1);
        if stats.is_none() && !key_marked(parent, NEW) && !lone_failure {
            let mut text = if count > 1 {
                format!(
                    "{} is new: it ran {}, in none of the {} healthy traces",
                    label(&service, &name),
                    times(count),
                    cx.base.traces
                )
            } else {
                format!(
                    "{} is new: in none of the {} healthy traces",
                    label(&service, &name),
                    cx.base.traces
                )
            };
            let below: usize = rows.iter().map(|&r| subtree_len(cx, r) - 1).sum();
            if below > 0 {
                text.push_str(&format!(", with {below} span(s) below it"));
            }
            text.push('.');
            out.push((
                start_of(first),
                Finding {
                    kind: FindingKind::New,
                    service: service.clone(),
                    name: name.clone(),
                    rows: rows.clone(),
                    ghost: None,
                    text,
                },
            ));
        }

        // Errored: where a failure started (no errored row below it).
        let failed: Vec<usize> = rows
            .iter()
            .copied()
            .filter(|&r| cx.marks(r) & ERRORED != 0 && !cx.descendant_marked(r, ERRORED))
            .collect();
        if let Some(&f) = failed.first() {
            let n = u32::try_from(failed.len()).unwrap_or(u32::MAX);
            let (service, name) = shown(cx, &failed);
            let mut text = label(&service, &name);
            text.push_str(" failed");
            if count > 1 {
                text.push_str(&format!(" {} of {} times", n, count));
            }
            text.push_str(&match stats {
                Some(s) if s.errors == 0 => " (healthy: never)".to_owned(),
                Some(s) => format!(" (healthy: {} of {} calls)", s.errors, s.occurrences()),
                None => " (a call no healthy trace makes)".to_owned(),
            });
            if let Some(m) = cx
                .trace
                .spans
                .get(f)
                .and_then(|s| s.status.message.as_deref())
                .filter(|m| !m.trim().is_empty())
            {
                text.push_str(&format!(": {}", one_line(m)));
            }
            if let Some((_, dur, ratio)) = slowest(cx, &failed) {
                text.push_str(&format!(
                    "; it took {}, {:.1}× the healthy p90",
                    duration(dur),
                    ratio
                ));
            }
            text.push('.');
            out.push((
                start_of(f),
                Finding {
                    kind: FindingKind::Errored,
                    service: service.clone(),
                    name: name.clone(),
                    rows: failed,
                    ghost: None,
                    text,
                },
            ));
        }

        // Fewer: most healthy traces call it more often (the top of such a chain only).
        if let Some(s) = stats {
            let share = f64::from(s.presence) / f64::from(cx.base.traces.max(1));
            let fewer = |k: u64| {
                let (c, _) = count_usual(cx, k);
                c > 0
                    && cx.base.keys.get(&k).is_some_and(|s| {
                        c < s.least
                            && f64::from(s.presence) / f64::from(cx.base.traces.max(1))
                                > opts.ghost_presence
                    })
            };
            if share > opts.ghost_presence && count < s.least && !fewer(parent) {
                out.push((
                    start_of(first),
                    Finding {
                        kind: FindingKind::Fewer,
                        service: service.clone(),
                        name: name.clone(),
                        rows: rows.clone(),
                        ghost: None,
                        text: format!(
                            "{} ran {} (healthy: {}).",
                            label(&service, &name),
                            times(count),
                            times(s.usual)
                        ),
                    },
                ));
            }
        }

        // Slower: slow rows that nothing abnormal below them explains.
        if !covered.contains(&k) {
            let slow: Vec<usize> = rows
                .iter()
                .copied()
                .filter(|&r| {
                    cx.marks(r) & SLOWER != 0
                        && cx.marks(r) & ERRORED == 0
                        && !cx.descendant_marked(r, SLOWER | NEW | REPEATED | ERRORED)
                })
                .collect();
            if let Some((row, dur, ratio)) = slowest(cx, &slow) {
                let p50 = cx.rows.get(row).map_or(0, |d| d.p50_ns);
                let (service, name) = shown(cx, &[row]);
                let mut text = format!(
                    "{} took {}, {:.1}× the healthy p90 (p50 {})",
                    label(&service, &name),
                    duration(dur),
                    ratio,
                    duration(p50)
                );
                if slow.len() > 1 {
                    text.push_str(&format!("; {} calls were slow", slow.len()));
                }
                text.push('.');
                out.push((
                    start_of(row),
                    Finding {
                        kind: FindingKind::Slower,
                        service: service.clone(),
                        name: name.clone(),
                        rows: slow,
                        ghost: None,
                        text,
                    },
                ));
            }
        }
    }

    // Missing: the top ghost of each absent subtree.
    for (i, g) in cx.ghosts.iter().enumerate() {
        if matches!(g.parent, GhostParent::Ghost(_)) {
            continue;
        }
        let below = cx.ghosts[i + 1..]
            .iter()
            .take_while(|x| x.depth > g.depth)
            .count();
        let mut text = format!(
            "{} is missing (present in {} of {} healthy traces",
            label(&g.service, &g.name),
            g.presence,
            cx.base.traces
        );
        if below > 0 {
            text.push_str(&format!(", with {below} call(s) below it"));
        }
        text.push_str(").");
        let rows = match g.parent {
            GhostParent::Row(r) => vec![r],
            _ => Vec::new(),
        };
        out.push((
            g.start_ns,
            Finding {
                kind: FindingKind::Missing,
                service: g.service.clone(),
                name: g.name.clone(),
                rows,
                ghost: Some(i),
                text,
            },
        ));
    }

    out.sort_by(|(ta, a), (tb, b)| {
        (a.kind, *ta, &a.service, &a.name).cmp(&(b.kind, *tb, &b.service, &b.name))
    });
    out.into_iter().map(|(_, f)| f).collect()
}

/// (occurrences here, usual count) of a key.
fn count_usual(cx: &Ctx<'_>, k: u64) -> (u32, u32) {
    (
        cx.by_key
            .get(&k)
            .map_or(0, |v| u32::try_from(v.len()).unwrap_or(u32::MAX)),
        cx.base.keys.get(&k).map_or(0, |s| s.usual),
    )
}

/// Service and name of the first of `rows`.
fn shown(cx: &Ctx<'_>, rows: &[usize]) -> (String, String) {
    rows.first()
        .and_then(|&r| cx.trace.spans.get(r))
        .map_or((String::new(), String::new()), |s| {
            (s.service.to_string(), s.name.to_string())
        })
}

/// The slowest of the rows marked slower: (row, duration, ratio to p90).
fn slowest(cx: &Ctx<'_>, rows: &[usize]) -> Option<(usize, u64, f64)> {
    rows.iter()
        .copied()
        .filter(|&r| cx.marks(r) & SLOWER != 0)
        .filter_map(|r| {
            let d = cx.trace.spans.get(r)?.duration_ns();
            let p90 = cx.rows.get(r)?.p90_ns.max(1);
            Some((r, d, d as f64 / p90 as f64))
        })
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
}

fn subtree_len(cx: &Ctx<'_>, row: usize) -> usize {
    cx.trace
        .nodes
        .get(row)
        .map_or(1, |n| (n.subtree_end as usize).saturating_sub(row).max(1))
}

fn one_line(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    t.trim().to_owned()
}

/// The earliest span on the critical path (else anywhere) that differs in shape (failed, new,
/// repeated), followed down to where the trouble started; when no span does, the first missing call.
/// Only when nothing differs in shape does the earliest slow span count.
pub(crate) fn first_divergence(cx: &Ctx<'_>, critical_path: &[usize]) -> Option<Divergence> {
    let start_of = |row: usize| cx.start_of(row);
    let real = |r: usize| {
        cx.trace
            .nodes
            .get(r)
            .is_some_and(|n| n.origin == RowOrigin::Span)
    };
    let shape = |r: &usize| real(*r) && cx.marks(*r) & (ERRORED | NEW | REPEATED) != 0;
    // Slow, and not merely because of something abnormal below it.
    let slow = |r: &usize| {
        real(*r)
            && cx.marks(*r) & SLOWER != 0
            && !cx.descendant_marked(*r, SLOWER | NEW | REPEATED | ERRORED)
    };
    let earliest = |it: &mut dyn Iterator<Item = usize>| it.min_by_key(|&r| (start_of(r), r));
    let any_shape = (0..cx.rows.len()).any(|r| shape(&r)) || !cx.ghosts.is_empty();
    let row = if any_shape {
        earliest(&mut critical_path.iter().copied().filter(shape))
            .or_else(|| earliest(&mut (0..cx.rows.len()).filter(shape)))
    } else {
        earliest(&mut critical_path.iter().copied().filter(slow))
            .or_else(|| earliest(&mut (0..cx.rows.len()).filter(slow)))
    };
    // Follow it down: the earliest child sharing one of its marks, while there is one.
    let row = row.map(|mut r| loop {
        let mask = cx.marks(r);
        let end = cx
            .trace
            .nodes
            .get(r)
            .map_or(r + 1, |n| n.subtree_end as usize);
        let child = (r + 1..end)
            .filter(|&c| {
                cx.trace.nodes.get(c).and_then(|n| n.parent) == Some(r as u32)
                    && cx.marks(c) & mask != 0
            })
            .min_by_key(|&c| (start_of(c), c));
        match child {
            Some(c) => r = c,
            None => break r,
        }
    });
    let ghost = cx
        .ghosts
        .iter()
        .enumerate()
        .min_by_key(|(i, g)| (g.start_ns, *i))
        .map(|(i, g)| (i, g.start_ns));
    let since = |t: u64| duration(t.saturating_sub(cx.trace.start_ns));
    match (row, ghost) {
        (Some(r), _) => {
            let s = cx.trace.spans.get(r)?;
            let d = cx.rows.get(r)?;
            let what = if d.marks & ERRORED != 0 {
                match cx.base.keys.get(&d.key) {
                    Some(st) if st.errors == 0 => {
                        "failed (healthy traces never fail here)".to_owned()
                    }
                    Some(_) => "failed (healthy traces rarely fail here)".to_owned(),
                    None => "failed, in a call no healthy trace makes".to_owned(),
                }
            } else if d.marks & NEW != 0 {
                "is a call no healthy trace makes".to_owned()
            } else if d.marks & REPEATED != 0 {
                format!(
                    "ran a {} time (healthy: {})",
                    ordinal(d.occurrence),
                    times(d.usual)
                )
            } else {
                format!(
                    "took {}, {:.1}× the healthy p90",
                    duration(s.duration_ns()),
                    s.duration_ns() as f64 / d.p90_ns.max(1) as f64
                )
            };
            Some(Divergence {
                row: Some(r),
                ghost: None,
                text: format!(
                    "First divergence: {} {what}, {} into the trace.",
                    label(&s.service, &s.name),
                    since(start_of(r))
                ),
            })
        }
        (_, Some((i, t))) => {
            let g = cx.ghosts.get(i)?;
            Some(Divergence {
                row: None,
                ghost: Some(i),
                text: format!(
                    "First divergence: {} never ran; healthy traces call it about {} into the trace (present in {} of {}).",
                    label(&g.service, &g.name),
                    since(t),
                    g.presence,
                    cx.base.traces
                ),
            })
        }
        _ => None,
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, x) if x != 11 => "st",
        (2, x) if x != 12 => "nd",
        (3, x) if x != 13 => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
