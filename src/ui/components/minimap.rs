//! The minimap: the whole trace in miniature with error ticks; drag to zoom, double-click to reset.

use leptos::prelude::*;

use super::service_color;
use crate::ui::trace_ctx::TraceCtx;

/// Bars drawn at most (rows are sampled evenly beyond that).
const MAX_BARS: usize = 400;

/// Minimap with zoom by dragging.
#[component]
pub fn Minimap() -> impl IntoView {
    let ctx = TraceCtx::get();
    // The minimap spans the whole trace in display time (adjusted when the page shows adjusted times).
    let domain = ctx.full_window;
    let skew = ctx.view.with_value(|v| v.skew_ns.clone());
    let shift = move |service: u16| -> i64 {
        if ctx.adjusted.get() {
            -skew.get(usize::from(service)).copied().unwrap_or(0)
        } else {
            0
        }
    };
    let drag: RwSignal<Option<(f64, f64)>> = RwSignal::new(None);

    let bars = move || {
        ctx.rows.with(|r| {
            let n = r.len().max(1);
            let step = n.div_ceil(MAX_BARS).max(1);
            let shown = n.div_ceil(step).max(1) as f64;
            (0..r.len())
                .step_by(step)
                .enumerate()
                .map(|(k, i)| {
                    let d = domain.get();
                    let x = d.pct(r.start[i] as i64 + shift(r.service[i])) * 10.0;
                    let w = (r.dur[i] as f64 / d.span() as f64 * 1000.0).max(0.8);
                    let y = k as f64 / shown * 60.0;
                    view! { <rect x=format!("{x:.2}") y=format!("{y:.2}") width=format!("{w:.2}") height=format!("{:.2}", (60.0 / shown).clamp(0.6, 3.0)) fill=service_color(r.service[i]) opacity="0.7"/> }
                })
                .collect_view()
        })
    };
    // One tick per position (`tick_positions`): a thousand errors of a large trace would otherwise
    // put a thousand lines, mostly on top of each other, in the page before its first row.
    let ticks = move || {
        ctx.view.with_value(|v| {
            let d = domain.get();
            let adjusted = ctx.adjusted.get();
            let at = v.pins.iter().map(|p| d.pct(if adjusted { p.at_adjusted } else { p.at }));
            crate::view::geometry::tick_positions(at)
                .into_iter()
                .map(|x| {
                    view! { <line x1=format!("{x:.1}") x2=format!("{x:.1}") y1="0" y2="60" stroke="#e11d48" stroke-width="2" data-testid="minimap-error-tick"/> }
                })
                .collect_view()
        })
    };
    let window_rect = move || {
        let w = ctx.window.get();
        let d = domain.get();
        let a = (d.pct(w.from) * 10.0).clamp(0.0, 1000.0);
        let b = (d.pct(w.to) * 10.0).clamp(0.0, 1000.0);
        let zoomed = a > 0.0 || b < 1000.0;
        zoomed.then(|| view! {
            <rect x="0" y="0" width=format!("{a:.2}") height="60" fill="currentColor" opacity="0.12"/>
            <rect x=format!("{b:.2}") y="0" width=format!("{:.2}", 1000.0 - b) height="60" fill="currentColor" opacity="0.12"/>
            <rect x=format!("{a:.2}") y="0" width=format!("{:.2}", (b - a).max(1.0)) height="60" fill="none" stroke="#0ea5e9" stroke-width="1.5"/>
        })
    };
    let drag_rect = move || {
        drag.get().map(|(a, b)| {
            let (l, r) = if a < b { (a, b) } else { (b, a) };
            view! { <rect x=format!("{:.2}", l * 1000.0) y="0" width=format!("{:.2}", ((r - l) * 1000.0).max(1.0)) height="60" fill="#0ea5e9" opacity="0.25"/> }
        })
    };

    let frac = |ev: &leptos::ev::MouseEvent| -> Option<f64> {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let el = ev.current_target()?.dyn_into::<web_sys::Element>().ok()?;
            let rect = el.get_bounding_client_rect();
            (rect.width() > 0.0)
                .then(|| ((f64::from(ev.client_x()) - rect.left()) / rect.width()).clamp(0.0, 1.0))
        }
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = ev;
            None
        }
    };

    view! {
        <div class="select-none rounded-lg border border-slate-200 bg-white p-2 dark:border-slate-800 dark:bg-slate-900" data-testid="minimap">
            <div class="relative h-[60px] cursor-crosshair"
                title="Drag to zoom, double-click to reset"
                on:mousedown=move |ev| { if let Some(f) = frac(&ev) { drag.set(Some((f, f))); } }
                on:mousemove=move |ev| { if drag.get_untracked().is_some() { if let Some(f) = frac(&ev) { drag.update(|d| if let Some(d) = d { d.1 = f; }); } } }
                on:mouseleave=move |_| drag.set(None)
                on:mouseup=move |_| {
                    if let Some((a, b)) = drag.get_untracked() {
                        drag.set(None);
                        let (l, r) = if a < b { (a, b) } else { (b, a) };
                        if r - l > 0.002 {
                            let d = domain.get_untracked();
                            let from = (d.from as f64 + l * d.span() as f64).max(0.0) as u64;
                            let to = (d.from as f64 + r * d.span() as f64).max(0.0) as u64;
                            ctx.vs.update(|v| v.window = Some((from, to)));
                            ctx.commit(false);
                        }
                    }
                }
                on:dblclick=move |_| { ctx.vs.update(|v| v.window = None); ctx.commit(false); }
            >
                <svg viewBox="0 0 1000 60" preserveAspectRatio="none" class="pointer-events-none h-full w-full text-slate-900 dark:text-white">
                    {bars}
                    {ticks}
                    {window_rect}
                    {drag_rect}
                </svg>
            </div>
        </div>
    }
}
