//! What healthy traces look like, per path key: how many of them have it, how many times, how long it
//! takes (p50/p90 over every occurrence), how often it fails, and where it starts inside its parent.
//!
//! Aggregation is order-independent: samples are sorted before any statistic is read, and the name
//! shown for a key is the smallest (service, name) pair seen, so shuffling the baselines changes
//! nothing.

use std::collections::HashMap;

use super::key::{parent_keys, row_keys};
use crate::domain::{RowOrigin, Trace};

/// Statistics of one path key over the baselines.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyStats {
    /// Key of the parent path (`key::ROOT_KEY` for a top-level row).
    pub parent: u64,
    /// Depth of rows with this key.
    pub depth: u32,
    /// Service shown for the key.
    pub service: String,
    /// Span name shown for the key (as recorded, not normalised).
    pub name: String,
    /// Baselines in which the key occurs at least once.
    pub presence: u32,
    /// How many times it occurs in a baseline that has it (median, lower on ties).
    pub usual: u32,
    /// The most times it occurs in one baseline.
    pub most: u32,
    /// The fewest times it occurs in a baseline that has it.
    pub least: u32,
    /// Every occurrence's duration, sorted (ns).
    pub durations: Vec<u64>,
    /// Occurrences with an error status.
    pub errors: u32,
    /// How many of its occurrences usually fail in a baseline that has it (median, lower on ties).
    pub usual_errors: u32,
    /// Start offsets from the parent's start, sorted (ns).
    pub offsets: Vec<u64>,
}

impl KeyStats {
    /// Occurrences over all baselines.
    pub fn occurrences(&self) -> usize {
        self.durations.len()
    }

    /// The `q`-quantile of durations (nearest rank), 0 without samples.
    pub fn duration_q(&self, q: f64) -> u64 {
        quantile(&self.durations, q)
    }

    /// Share of occurrences in error, 0 without samples.
    pub fn error_share(&self) -> f64 {
        if self.durations.is_empty() {
            0.0
        } else {
            f64::from(self.errors) / self.durations.len() as f64
        }
    }

    /// Typical start offset inside the parent (median), ns.
    pub fn offset_p50(&self) -> u64 {
        quantile(&self.offsets, 0.5)
    }
}

/// Nearest-rank quantile of sorted samples (0 when empty).
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The lower median of sorted counts (0 when empty).
fn lower_median(sorted: &[u32]) -> u32 {
    sorted
        .get(sorted.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(0)
}

/// Per-key statistics of a set of baselines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baseline {
    /// Number of baseline traces.
    pub traces: u32,
    /// Statistics per path key.
    pub keys: HashMap<u64, KeyStats>,
}

struct Acc {
    stats: KeyStats,
    counts: Vec<u32>,
    errors: Vec<u32>,
    last: usize,
}

impl Baseline {
    /// Aggregates baseline traces (placeholder rows for missing parents are left out).
    pub fn of(traces: &[&Trace]) -> Baseline {
        let mut acc: HashMap<u64, Acc> = HashMap::new();
        for (b, trace) in traces.iter().enumerate() {
            let keys = row_keys(trace);
            let parents = parent_keys(trace, &keys);
            for ((span, node), (&key, &parent)) in trace
                .spans
                .iter()
                .zip(&trace.nodes)
                .zip(keys.iter().zip(&parents))
            {
                if node.origin != RowOrigin::Span {
                    continue;
                }
                let parent_start = node
                    .parent
                    .and_then(|p| trace.spans.get(p as usize))
                    .map_or(span.start_ns, |p| p.start_ns);
                let a = acc.entry(key).or_insert_with(|| Acc {
                    stats: KeyStats {
                        parent,
                        depth: node.depth,
                        service: span.service.to_string(),
                        name: span.name.to_string(),
                        presence: 0,
                        usual: 0,
                        most: 0,
                        least: 0,
                        durations: Vec::new(),
                        errors: 0,
                        usual_errors: 0,
                        offsets: Vec::new(),
                    },
                    counts: Vec::new(),
                    errors: Vec::new(),
                    last: usize::MAX,
                });
                if a.last != b {
                    a.last = b;
                    a.counts.push(0);
                    a.errors.push(0);
                    let s = &mut a.stats;
                    if (&*span.service, &*span.name) < (s.service.as_str(), s.name.as_str()) {
                        s.service = span.service.to_string();
                        s.name = span.name.to_string();
                    }
                }
                if let Some(c) = a.counts.last_mut() {
                    *c += 1;
                }
                let s = &mut a.stats;
                s.durations.push(span.duration_ns());
                s.offsets.push(
                    span.start_ns
                        .saturating_sub(parent_start.min(span.start_ns)),
                );
                if span.is_error() {
                    s.errors += 1;
                    if let Some(e) = a.errors.last_mut() {
                        *e += 1;
                    }
                }
            }
        }
        let keys = acc
            .into_iter()
            .map(|(k, mut a)| {
                a.counts.sort_unstable();
                a.errors.sort_unstable();
                a.stats.usual_errors = lower_median(&a.errors);
                a.stats.presence = u32::try_from(a.counts.len()).unwrap_or(u32::MAX);
                a.stats.usual = lower_median(&a.counts);
                a.stats.most = a.counts.last().copied().unwrap_or(0);
                a.stats.least = a.counts.first().copied().unwrap_or(0);
                a.stats.durations.sort_unstable();
                a.stats.offsets.sort_unstable();
                (k, a.stats)
            })
            .collect();
        Baseline {
            traces: u32::try_from(traces.len()).unwrap_or(u32::MAX),
            keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn nearest_rank_quantiles() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(quantile(&v, 0.5), 50);
        assert_eq!(quantile(&v, 0.9), 90);
        assert_eq!(quantile(&v, 1.0), 100);
        assert_eq!(quantile(&v, 0.0), 10);
        assert_eq!(quantile(&[7], 0.9), 7);
        assert_eq!(quantile(&[], 0.5), 0);
    }
}
