//! Bar geometry: where a span's bar and an error's pin sit for a zoom window, time-axis ticks, and
//! clustering of pins too close to tell apart. Percentages of the timeline width.

/// A zoom window in nanoseconds from the trace start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Left edge.
    pub from: i64,
    /// Right edge (greater than `from`).
    pub to: i64,
}

impl Window {
    /// A window, widened to at least 1 ns.
    pub fn new(from: i64, to: i64) -> Self {
        Self {
            from,
            to: to.max(from + 1),
        }
    }

    /// Width in ns.
    pub fn span(&self) -> i64 {
        self.to - self.from
    }

    /// Position of time `t` as a percentage of the width (may be outside 0..100).
    pub fn pct(&self, t: i64) -> f64 {
        (t - self.from) as f64 * 100.0 / self.span() as f64
    }
}

/// Error ticks of the minimap (a 1000-unit wide box), from each error's position in percent: errors
/// closer than half a unit share one tick ([`cluster`]), drawn on the half unit, sorted.
pub fn tick_positions(pcts: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let pcts: Vec<f64> = pcts.into_iter().filter(|p| p.is_finite()).collect();
    cluster(&pcts, 0.05)
        .into_iter()
        .map(|c| (c.pct * 20.0).round() / 2.0)
        .collect()
}

/// Left and width of a bar in percent, clipped to the window; `None` when entirely outside.
/// Bars keep a minimum visible width of `min_pct` so instant spans stay visible.
pub fn bar(start: i64, dur: i64, w: Window, min_pct: f64) -> Option<(f64, f64)> {
    let end = start + dur.max(0);
    if end < w.from || start > w.to {
        return None;
    }
    let left = w.pct(start).clamp(0.0, 100.0);
    let right = w.pct(end).clamp(0.0, 100.0);
    let width = (right - left).max(min_pct);
    let left = left.min(100.0 - width).max(0.0);
    Some((left, width))
}

/// Time-axis ticks: (ns from trace start, label), about `target` of them at a "nice" step.
pub fn ticks(w: Window, target: usize) -> Vec<(i64, String)> {
    let target = target.max(2) as i64;
    let raw = (w.span() / target).max(1);
    let mag = 10_i64.pow(raw.ilog10());
    let step = [1, 2, 5, 10]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10 * mag);
    let first = w.from.div_euclid(step) * step;
    let mut out = Vec::new();
    let mut t = if first < w.from { first + step } else { first };
    while t <= w.to && out.len() < 50 {
        out.push((
            t,
            if t == 0 {
                "0".to_owned()
            } else {
                format_duration(t)
            },
        ));
        t += step;
    }
    out
}

/// A duration in ns as people read it: `850 ns`, `12.3 µs`, `4.56 ms`, `1.23 s`, `2m 03s`.
pub fn format_duration(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let a = ns.unsigned_abs() as f64;
    if a < 1e3 {
        format!("{sign}{a:.0} ns")
    } else if a < 1e6 {
        format!("{sign}{} µs", trim(a / 1e3))
    } else if a < 1e9 {
        format!("{sign}{} ms", trim(a / 1e6))
    } else if a < 60e9 {
        format!("{sign}{} s", trim(a / 1e9))
    } else {
        let secs = (a / 1e9) as u64;
        format!("{sign}{}m {:02}s", secs / 60, secs % 60)
    }
}

fn trim(v: f64) -> String {
    let s = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A group of pins drawn as one marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Marker position in percent.
    pub pct: f64,
    /// Indices of the pins (into the slice given).
    pub members: Vec<usize>,
}

/// Groups pin positions (percent, any order) closer than `min_gap` percent into clusters.
pub fn cluster(positions: &[f64], min_gap: f64) -> Vec<Cluster> {
    let mut order: Vec<usize> = (0..positions.len()).collect();
    order.sort_by(|a, b| positions[*a].total_cmp(&positions[*b]));
    let mut out: Vec<Cluster> = Vec::new();
    for i in order {
        let p = positions[i];
        match out.last_mut() {
            Some(c) if p - c.pct < min_gap => c.members.push(i),
            _ => out.push(Cluster {
                pct: p,
                members: vec![i],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_that_would_overlap_share_one_line() {
        // 12.3% and 12.31% are 0.1 unit apart in the 1000-unit box: one tick; 50% stands alone.
        let t = tick_positions([50.0, 12.3, 12.31, f64::NAN, 12.3]);
        assert_eq!(t, vec![123.0, 500.0]);
        // A thousand errors spread evenly over the trace keep a tick each.
        let t = tick_positions((0..1000).map(|i| f64::from(i) / 10.0));
        assert_eq!(t.len(), 1000);
        assert!(tick_positions([]).is_empty());
    }

    #[test]
    fn bars_clip_and_keep_min_width() {
        let w = Window::new(0, 1000);
        assert_eq!(bar(100, 200, w, 0.1), Some((10.0, 20.0)));
        assert_eq!(bar(2000, 10, w, 0.1), None);
        assert_eq!(bar(-500, 600, w, 0.1), Some((0.0, 10.0)));
        let (l, wd) = bar(500, 0, w, 0.2).expect("instant span visible");
        assert_eq!((l, wd), (50.0, 0.2));
        let (l, wd) = bar(1000, 0, w, 0.5).expect("at the edge");
        assert!(l + wd <= 100.0);
        let z = Window::new(400, 600);
        assert_eq!(bar(100, 800, z, 0.1), Some((0.0, 100.0)));
    }

    #[test]
    fn ticks_are_nice() {
        let t = ticks(Window::new(0, 1_000_000_000), 5);
        let labels: Vec<&str> = t.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["0", "200 ms", "400 ms", "600 ms", "800 ms", "1 s"]);
        let t = ticks(Window::new(1_500, 9_000), 4);
        assert_eq!(t.first().map(|x| x.0), Some(2_000));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(850), "850 ns");
        assert_eq!(format_duration(12_345), "12.3 µs");
        assert_eq!(format_duration(4_560_000), "4.56 ms");
        assert_eq!(format_duration(1_834_000_000), "1.83 s");
        assert_eq!(format_duration(123_000_000_000), "2m 03s");
        assert_eq!(format_duration(-250_000_000), "-250 ms");
    }

    #[test]
    fn pins_cluster_when_close() {
        let c = cluster(&[10.0, 50.0, 10.3, 10.5, 90.0], 1.0);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].members, vec![0, 2, 3]);
        assert_eq!(c[1].members, vec![1]);
    }
}
