//! Lookup structures that keep the core near-linear: a fast id hasher and per-service interval lookups.
//!
//! Owns nothing but indices over an assembled trace; never changes it. The hasher is for ids that are
//! already random bytes (trace, span and event ids), so a multiply-and-rotate mix is enough.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use crate::domain::{RowOrigin, SpanId, Trace};

/// A small, fast hasher for random-looking ids (FxHash-style multiply and rotate).
#[derive(Debug, Default, Clone, Copy)]
pub struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IdHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*chunk));
            rest = tail;
        }
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            for (b, r) in buf.iter_mut().zip(rest) {
                *b = *r;
            }
            self.add(u64::from_le_bytes(buf));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by ids, using [`IdHasher`].
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// A span id as one `u64` map key (hashes in one step instead of a length and a byte slice).
#[inline]
pub fn span_key(id: SpanId) -> u64 {
    u64::from_le_bytes(id.0)
}

/// Distance in ns from `t` to the interval `[start, end]` (0 when inside).
pub fn distance(start: u64, end: u64, t: u64) -> u64 {
    if t < start {
        start - t
    } else {
        t.saturating_sub(end)
    }
}

/// Stabbing queries over the spans of one service: which rows' time ranges meet `[lo, hi]`.
///
/// Rows are sorted by start with a segment tree of maximum end over them, so a query costs
/// `O((k + 1) log n)` for `k` hits instead of a scan of the service's spans.
#[derive(Debug, Default, Clone)]
pub struct IntervalIndex {
    starts: Vec<u64>,
    ends: Vec<u64>,
    rows: Vec<u32>,
    /// Segment tree over positions: `tree[size + i] = ends[i]`, inner nodes hold the max of children.
    tree: Vec<u64>,
    size: usize,
}

impl IntervalIndex {
    /// Builds the index from `(row, start, end)` triples.
    pub fn new(mut items: Vec<(u32, u64, u64)>) -> Self {
        items.sort_unstable_by_key(|&(row, start, _)| (start, row));
        let n = items.len();
        let size = n.next_power_of_two().max(1);
        let mut tree = vec![0u64; 2 * size];
        let mut starts = Vec::with_capacity(n);
        let mut ends = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(n);
        for (i, &(row, start, end)) in items.iter().enumerate() {
            starts.push(start);
            ends.push(end);
            rows.push(row);
            tree[size + i] = end;
        }
        for i in (1..size).rev() {
            tree[i] = tree[2 * i].max(tree[2 * i + 1]);
        }
        Self {
            starts,
            ends,
            rows,
            tree,
            size,
        }
    }

    /// Calls `f(row, start, end)` for every interval with `start <= hi` and `end >= lo`.
    pub fn for_each_overlapping(&self, lo: u64, hi: u64, mut f: impl FnMut(usize, u64, u64)) {
        let limit = self.starts.partition_point(|&s| s <= hi);
        if limit == 0 {
            return;
        }
        // Iterative descent: (node, node_lo, node_hi) over positions [node_lo, node_hi).
        let mut stack = vec![(1usize, 0usize, self.size)];
        while let Some((node, nlo, nhi)) = stack.pop() {
            if nlo >= limit || self.tree.get(node).is_none_or(|&m| m < lo) {
                continue;
            }
            if nhi - nlo == 1 {
                if let (Some(&row), Some(&s), Some(&e)) =
                    (self.rows.get(nlo), self.starts.get(nlo), self.ends.get(nlo))
                {
                    f(row as usize, s, e);
                }
                continue;
            }
            let mid = nlo + (nhi - nlo) / 2;
            stack.push((2 * node + 1, mid, nhi));
            stack.push((2 * node, nlo, mid));
        }
    }
}

/// A service name's length and its first and last 8 bytes: equal names have equal heads, and names of
/// up to 16 bytes are told apart by their head alone.
fn head(s: &str) -> (usize, u64, u64) {
    let b = s.as_bytes();
    let word = |bytes: &[u8]| {
        bytes
            .iter()
            .take(8)
            .enumerate()
            .fold(0u64, |acc, (i, &c)| acc | (u64::from(c) << (8 * i)))
    };
    let tail = b.get(b.len().saturating_sub(8)..).unwrap_or(&[]);
    (b.len(), word(b), word(tail))
}

/// How many services are compared by head before hashing (traces rarely have more).
const RECENT: usize = 16;

/// Interns service names: each distinct name gets a small integer, in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    names: Vec<String>,
    lookup: IdMap<String, u32>,
    recent: Vec<((usize, u64, u64), u32)>,
    /// The last shared string interned and its id: the spans of one resource share one `Arc`, so
    /// most spans are answered without reading their string.
    last: Option<(Arc<str>, u32)>,
}

impl Interner {
    /// The names interned so far, by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// [`Interner::intern`] for a shared string: the same `Arc` as the previous call is answered by
    /// pointer.
    pub fn intern_shared(&mut self, name: &Arc<str>) -> u32 {
        if let Some((last, id)) = &self.last {
            if Arc::ptr_eq(last, name) {
                return *id;
            }
        }
        let id = self.intern(name);
        self.last = Some((Arc::clone(name), id));
        id
    }

    /// The id of `name`, adding it if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        let h = head(name);
        let names = &self.names;
        if let Some(&(_, id)) = self.recent.iter().find(|&&(rh, id)| {
            rh == h && (h.0 <= 16 || names.get(id as usize).is_some_and(|n| n == name))
        }) {
            return id;
        }
        if let Some(&id) = self.lookup.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_owned());
        self.lookup.insert(name.to_owned(), id);
        if self.recent.len() < RECENT {
            self.recent.push((h, id));
        }
        id
    }
}

/// The services of a trace's rows, interned: each row's service as a small integer.
///
/// Built in one pass (the only pass that reads every span's service string; assembly does it while the
/// spans are still in input order, where their strings sit in memory order); skew, interval lookups
/// and pinning then compare integers.
#[derive(Debug, Clone, Default)]
pub struct ServiceTable {
    /// Service names, by id.
    pub names: Vec<String>,
    /// Per row, the id of its service.
    pub of_row: Vec<u32>,
    lookup: IdMap<String, u32>,
}

impl ServiceTable {
    /// Interns the services of every row (placeholders included: they carry their orphans' service).
    pub fn new(trace: &Trace) -> Self {
        let mut interner = Interner::default();
        let of_row = trace
            .spans
            .iter()
            .map(|s| interner.intern(&s.service))
            .collect();
        Self::from_parts(interner, of_row)
    }

    /// A table from an interner and per-row ids it produced.
    pub fn from_parts(interner: Interner, of_row: Vec<u32>) -> Self {
        Self {
            names: interner.names,
            of_row,
            lookup: interner.lookup,
        }
    }

    /// The id of a service name, if any row has it.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.lookup.get(name).copied()
    }

    /// The name of a service id.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// The service id of a row.
    pub fn of(&self, row: usize) -> Option<u32> {
        self.of_row.get(row).copied()
    }
}

/// Per-service interval indices over the real (non-placeholder) rows of a trace, each built on first
/// use (most traces only ever query the services of a few events).
#[derive(Debug, Default)]
pub struct ServiceIndex {
    by_service: Vec<std::cell::OnceCell<IntervalIndex>>,
}

impl ServiceIndex {
    /// An empty index for the services of `services`.
    pub fn new(services: &ServiceTable) -> Self {
        Self {
            by_service: (0..services.names.len())
                .map(|_| std::cell::OnceCell::new())
                .collect(),
        }
    }

    /// The index of one service id, built from raw times (a service shares one clock).
    pub fn service(
        &self,
        trace: &Trace,
        services: &ServiceTable,
        id: u32,
    ) -> Option<&IntervalIndex> {
        let cell = self.by_service.get(id as usize)?;
        Some(cell.get_or_init(|| {
            let items = services
                .of_row
                .iter()
                .enumerate()
                .filter(|&(_, &svc)| svc == id)
                .filter_map(|(row, _)| {
                    let node = trace.nodes.get(row)?;
                    let span = trace.spans.get(row)?;
                    let r = u32::try_from(row).ok()?;
                    (node.origin == RowOrigin::Span).then_some((r, span.start_ns, span.end_ns))
                })
                .collect();
            IntervalIndex::new(items)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_queries_match_a_scan() {
        let items: Vec<(u32, u64, u64)> = (0..200u32)
            .map(|i| {
                let s = u64::from(i * 7 % 113);
                (i, s, s + u64::from(i % 17))
            })
            .collect();
        let idx = IntervalIndex::new(items.clone());
        for lo in 0..140u64 {
            for width in [0u64, 3, 20] {
                let hi = lo + width;
                let mut got = Vec::new();
                idx.for_each_overlapping(lo, hi, |r, _, _| got.push(r));
                got.sort_unstable();
                let mut want: Vec<usize> = items
                    .iter()
                    .filter(|&&(_, s, e)| s <= hi && e >= lo)
                    .map(|&(r, _, _)| r as usize)
                    .collect();
                want.sort_unstable();
                assert_eq!(got, want, "lo={lo} hi={hi}");
            }
        }
        IntervalIndex::new(Vec::new()).for_each_overlapping(0, 10, |_, _, _| panic!("empty"));
    }

    #[test]
    fn shared_and_plain_interning_agree() {
        let mut i = Interner::default();
        let a: Arc<str> = Arc::from("checkout");
        let a2: Arc<str> = Arc::from("checkout");
        let b: Arc<str> = Arc::from("inventory");
        assert_eq!(i.intern_shared(&a), 0);
        assert_eq!(i.intern_shared(&a), 0);
        // Another `Arc` with the same text, a new name, then the first name again.
        assert_eq!(i.intern_shared(&a2), 0);
        assert_eq!(i.intern_shared(&b), 1);
        assert_eq!(i.intern("checkout"), 0);
        assert_eq!(i.intern_shared(&a), 0);
        assert_eq!(i.intern("payments"), 2);
        assert_eq!(i.intern_shared(&b), 1);
    }
}
