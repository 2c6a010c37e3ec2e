//! The virtualized waterfall: only rows in view are in the DOM (fixed row height, overscan), each
//! with its indented name, service colour, duration bar on the zoom window, and error pins.

use leptos::prelude::*;

use super::service_color;
use crate::ui::trace_ctx::TraceCtx;
use crate::view::geometry::{bar, cluster, format_duration, ticks};
use crate::view::rows::hidden_pins;
use crate::view::types::{ROW_CRITICAL, ROW_ERROR, ROW_EXCEPTION, ROW_PLACEHOLDER};

/// Row height in pixels.
pub const ROW_H: i32 = 26;
/// Rows rendered beyond the viewport on each side. Six (156 px) covers a wheel step; a jump renders
/// every row anew whatever the overscan, so more rows only make each jump (and hydration) dearer.
const OVERSCAN: i32 = 6;
/// Up to this many visible rows, all are rendered: a small trace scrolls without re-rendering and
/// the browser's find-in-page sees every span.
const RENDER_ALL: usize = 64;
/// Width of the name column in pixels.
const LABEL_W: i32 = 360;

/// The waterfall.
#[component]
pub fn Waterfall() -> impl IntoView {
    let ctx = TraceCtx::get();
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0_i32);
    let viewport = RwSignal::new(640_i32);

    // Rows to render: (position in the list, absolute row).
    let range = Memo::new(move |_| {
        let vis = ctx.visible.get();
        let top = scroll_top.get();
        let h = viewport.get();
        let (first, last) = if vis.len() <= RENDER_ALL {
            (0, vis.len())
        } else {
            (
                (top / ROW_H - OVERSCAN).max(0) as usize,
                (((top + h) / ROW_H + OVERSCAN).max(0) as usize).min(vis.len()),
            )
        };
        (first..last).map(|p| (p, vis[p])).collect::<Vec<_>>()
    });
    let total_h = move || ctx.visible.with(|v| v.len()) as i32 * ROW_H;

    // Keep the selected row in view; when all rows arrive, keep the first-screen rows where they were,
    // unless a row selected meanwhile (`n` while rows were arriving) was not among them: then scroll
    // to it. One effect for both, so neither undoes the other.
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |prev: Option<bool>| {
            let full = ctx.full.get();
            let sel = ctx.selected_row.get();
            let vis = ctx.visible.get();
            let Some(el) = scroller.get_untracked() else {
                return full;
            };
            let arrived = prev == Some(false) && full;
            let h = el.client_height();
            let mut top = el.scroll_top();
            if arrived {
                top += ctx.view.with_value(|v| v.window_offset) as i32 * ROW_H;
            }
            if let Some(pos) = sel.and_then(|row| vis.iter().position(|r| *r == row)) {
                let y = pos as i32 * ROW_H;
                if y < top || y + ROW_H > top + h {
                    top = (y - h / 3).max(0);
                }
            }
            if arrived || top != el.scroll_top() {
                el.set_scroll_top(top);
                scroll_top.set(top);
                // The rows' new height may not be applied yet (the scroll above is then cut short):
                // scroll again once it is.
                request_animation_frame(move || {
                    if el.scroll_top() != top {
                        el.set_scroll_top(top);
                    }
                });
            }
            full
        });
        Effect::new(move |_| {
            if let Some(el) = scroller.get() {
                viewport.set(el.client_height().max(200));
            }
        });
    }

    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            scroll_top.set(el.scroll_top());
        }
    };

    view! {
        <div class="overflow-hidden rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900" data-testid="waterfall">
            <RowsStatus/>
            <Axis/>
            <div
                node_ref=scroller
                class="relative h-[calc(100vh-330px)] min-h-[320px] overflow-auto"
                on:scroll=on_scroll
                data-testid="waterfall-scroller"
            >
                <EmptyView/>
                <div class="relative" style=move || format!("height:{}px", total_h())>
                    <For
                        each=move || range.get()
                        key=|(_, row)| *row
                        children=move |(pos, row)| if crate::view::compare::is_ghost(row) {
                            view! { <GhostRow pos row/> }.into_any()
                        } else {
                            view! { <Row pos row/> }.into_any()
                        }
                    />
                </div>
            </div>
        </div>
    }
}

/// What an empty waterfall means: a filter or "only the path to errors" that leaves no row, with a
/// way out. The error list above stays usable either way.
#[component]
fn EmptyView() -> impl IntoView {
    let ctx = TraceCtx::get();
    move || {
        if !ctx.visible.with(|v| v.is_empty()) {
            return None;
        }
        let (filter, errors_only) = ctx.vs.with(|v| (v.filter.trim().to_owned(), v.errors_only));
        let what = if !filter.is_empty() {
            view! { "No span matches " <code class="font-mono">{filter}</code> "." }.into_any()
        } else if errors_only {
            view! { "No error is pinned to a span of this trace, so no path leads to one." }
                .into_any()
        } else {
            return None;
        };
        let clear = move |_| {
            ctx.vs.update(|v| {
                v.filter.clear();
                v.errors_only = false;
            });
            ctx.matches.set(None);
            ctx.commit(false);
        };
        let pins: Vec<(String, String, String)> = ctx.view.with_value(|v| {
            v.pins
                .iter()
                .map(|p| (p.event_id.clone(), p.title.clone(), p.level.clone()))
                .collect()
        });
        let errors = (!pins.is_empty()).then(|| {
            view! {
                <p class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500">"Errors of this trace"</p>
                <ul class="mt-1 space-y-1" data-testid="error-list">
                    {pins.into_iter().map(|(id, title, level)| {
                        let select = id.clone();
                        view! {
                            <li>
                                <button type="button" class="text-left text-rose-700 underline decoration-dotted dark:text-rose-300"
                                    data-testid="error-list-item" data-event-id=id
                                    on:click=move |_| ctx.select_event(&select)>{title}</button>
                                <span class="ml-1 text-xs text-slate-500">{level}</span>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }
        });
        Some(view! {
            <div class="p-6 text-sm text-slate-600 dark:text-slate-300" role="status" data-testid="waterfall-empty">
                <p>{what}</p>
                <button type="button" class="btn mt-3" data-testid="waterfall-empty-clear" on:click=clear>"Show all spans"</button>
                {errors}
            </div>
        })
    }
}

/// The time axis over the zoom window, with the selected error's breadcrumbs as ticks.
#[component]
fn Axis() -> impl IntoView {
    let ctx = TraceCtx::get();
    view! {
        <div class="flex border-b border-slate-200 text-[10px] text-slate-500 dark:border-slate-800" style="height:22px">
            <div class="shrink-0 px-2 py-1 font-semibold uppercase tracking-wide" style=format!("width:{LABEL_W}px")>"Span"</div>
            <div class="relative flex-1" data-testid="time-axis">
                {move || {
                    let w = ctx.window.get();
                    ticks(w, 6)
                        .into_iter()
                        .map(|(t, label)| {
                            view! {
                                <span class="absolute top-1 -translate-x-1/2 whitespace-nowrap tabular-nums" style=format!("left:{:.3}%", w.pct(t))>{label}</span>
                            }
                        })
                        .collect_view()
                }}
                {move || {
                    let w = ctx.window.get();
                    ctx.notes.get().into_iter().filter_map(|n| match n.target {
                        crate::view::types::AnnotationTarget::Range { start_ns, end_ns } => {
                            let (a, b) = (w.pct(start_ns).clamp(0.0, 100.0), w.pct(end_ns).clamp(0.0, 100.0));
                            (b > a || (a > 0.0 && a < 100.0)).then(|| view! {
                                <span class="absolute inset-y-0 border-x border-violet-500 bg-violet-400/25" title=n.text.clone()
                                    data-testid="note-range" style=format!("left:{a:.3}%;width:{:.3}%", (b - a).max(0.2))></span>
                            })
                        }
                        _ => None,
                    }).collect_view()
                }}
                {move || {
                    let w = ctx.window.get();
                    ctx.breadcrumbs.get().into_iter().map(|(t, label)| view! {
                        <span class="absolute bottom-0 h-2 w-px bg-amber-500" title=label data-testid="breadcrumb-tick" style=format!("left:{:.3}%", w.pct(t))></span>
                    }).collect_view()
                }}
            </div>
        </div>
    }
}

/// Where a row (span or ghost) sits in the list; each row is an isolated box (`contain: strict`), so
/// rows added by a scroll are laid out and painted on their own.
fn row_style(pos: usize) -> String {
    format!(
        "top:{}px;height:{ROW_H}px;contain:strict",
        pos as i32 * ROW_H
    )
}

/// One waterfall row.
#[component]
fn Row(pos: usize, row: u32) -> impl IntoView {
    let ctx = TraceCtx::get();
    let data = ctx.rows.with_untracked(|r| {
        r.pos(row).map(|p| {
            (
                r.name_of(p).to_owned(),
                r.service[p],
                r.depth[p],
                r.subtree_end[p],
                r.start[p],
                r.dur[p],
                r.flags[p],
                r.span_hex(p),
            )
        })
    });
    let Some((name, service, depth, subtree_end, start, dur, flags, span_hex)) = data else {
        return view! { <div></div> }.into_any();
    };
    let has_children = subtree_end > row + 1;
    let service_name = ctx
        .view
        .with_value(|v| v.services.get(usize::from(service)).cloned())
        .unwrap_or_default();
    let color = service_color(service);
    let placeholder = flags & ROW_PLACEHOLDER != 0;
    let is_error = flags & ROW_ERROR != 0;
    let critical = flags & ROW_CRITICAL != 0;
    let selected = move || ctx.selected_row.get() == Some(row);
    let collapsed = move || ctx.is_collapsed(row);
    let matched = move || {
        ctx.matches
            .with(|m| m.as_ref().is_some_and(|m| m.binary_search(&row).is_ok()))
    };
    let skew = ctx
        .view
        .with_value(|v| v.skew_ns.get(usize::from(service)).copied().unwrap_or(0));
    let pins = ctx
        .pins_by_row
        .with_value(|m| m.get(&row).cloned().unwrap_or_default());
    let has_pins = !pins.is_empty();
    let indent = i32::from(depth.min(40)) * 14;
    // Snapshot notes on this span or on an error pinned to it.
    let pin_events: Vec<String> = ctx.view.with_value(|v| {
        pins.iter()
            .filter_map(|i| v.pins.get(*i).map(|p| p.event_id.clone()))
            .collect()
    });
    let span_hex_notes = span_hex.clone();
    let row_notes = move || {
        ctx.notes.with(|ns| {
            ns.iter()
                .filter(|n| match &n.target {
                    crate::view::types::AnnotationTarget::Span { span_id } => {
                        *span_id == span_hex_notes
                    }
                    crate::view::types::AnnotationTarget::Event { event_id } => {
                        pin_events.contains(event_id)
                    }
                    crate::view::types::AnnotationTarget::Range { .. } => false,
                })
                .map(|n| format!("{}: {}", n.author, n.text))
                .collect::<Vec<String>>()
        })
    };
    let title = format!(
        "{service_name} · {name} · {}",
        format_duration(i64::try_from(dur).unwrap_or(0))
    );

    let geometry = move || {
        let w = ctx.window.get();
        let adj = if ctx.adjusted.get() { -skew } else { 0 };
        let s = i64::try_from(start).unwrap_or(0) + adj;
        bar(s, i64::try_from(dur).unwrap_or(0), w, 0.15)
    };
    let pin_markers = move || {
        let w = ctx.window.get();
        let adjusted = ctx.adjusted.get();
        let positions: Vec<(f64, String, String)> = ctx.view.with_value(|v| {
            pins.iter()
                .filter_map(|i| v.pins.get(*i))
                .map(|p| {
                    let t = if adjusted { p.at_adjusted } else { p.at };
                    (w.pct(t), p.event_id.clone(), p.title.clone())
                })
                .collect()
        });
        let pcts: Vec<f64> = positions.iter().map(|p| p.0).collect();
        let sel_event = ctx.vs.with(|v| v.event.clone());
        cluster(&pcts, 0.8)
            .into_iter()
            .filter(|c| (-1.0..=101.0).contains(&c.pct))
            .map(|c| {
                let first = positions[c.members[0]].1.clone();
                let count = c.members.len();
                let titles: Vec<String> = c.members.iter().map(|m| positions[*m].2.clone()).collect();
                let is_sel = c.members.iter().any(|m| Some(&positions[*m].1) == sel_event.as_ref());
                let ids: Vec<String> = c.members.iter().map(|m| positions[*m].1.clone()).collect();
                let label = titles.join("\n");
                let sel_event = sel_event.clone();
                view! {
                    <button
                        type="button"
                        class=move || format!(
                            "absolute top-1/2 z-10 flex h-4 min-w-4 -translate-x-1/2 -translate-y-1/2 items-center justify-center rounded-full border-2 border-white bg-rose-600 px-0.5 text-[9px] font-bold leading-none text-white shadow hover:scale-125 focus:outline-none focus-visible:ring-2 focus-visible:ring-rose-400 dark:border-slate-900 {}",
                            if is_sel { "ring-2 ring-rose-400 ring-offset-1" } else { "" },
                        )
                        style=format!("left:{:.3}%", c.pct.clamp(0.0, 100.0))
                        title=label.clone()
                        aria-label=format!("Error: {label}")
                        data-testid="error-pin"
                        data-event-id=ids.join(",")
                        on:click=move |ev| {
                            ev.stop_propagation();
                            let next = match sel_event.as_ref().and_then(|s| ids.iter().position(|i| i == s)) {
                                Some(k) => ids[(k + 1) % ids.len()].clone(),
                                None => first.clone(),
                            };
                            ctx.select_event(&next);
                        }
                    >
                        {(count > 1).then(|| count.to_string())}
                    </button>
                }
            })
            .collect_view()
    };
    let hidden = move || {
        if !collapsed() {
            return None;
        }
        let n = ctx
            .rows
            .with(|r| ctx.pin_rows.with_value(|p| hidden_pins(r, row, p)));
        let own = ctx
            .pins_by_row
            .with_value(|m| m.get(&row).map_or(0, Vec::len));
        let n = n.saturating_sub(own);
        (n > 0).then(|| view! {
            <span class="absolute right-1 top-1/2 z-10 flex h-4 min-w-4 -translate-y-1/2 items-center justify-center rounded-full border-2 border-rose-600 bg-white px-1 text-[9px] font-bold text-rose-600 dark:bg-slate-900"
                title=format!("{n} error(s) inside this collapsed subtree")
                data-testid="hidden-pin">{n}</span>
        })
    };

    view! {
        <div
            role="treeitem"
            tabindex="0"
            aria-selected=move || selected().to_string()
            aria-expanded=move || has_children.then(|| (!collapsed()).to_string())
            data-testid="waterfall-row"
            data-row=row
            data-span-id=span_hex.clone()
            data-selected=move || selected().to_string()
            data-match=move || matched().to_string()
            class=move || format!(
                "absolute left-0 right-0 flex cursor-pointer items-center text-xs outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-sky-500 {} {}",
                if selected() { "bg-sky-100 dark:bg-sky-900/50" } else if matched() { "bg-amber-50 dark:bg-amber-900/30" } else { "hover:bg-slate-50 dark:hover:bg-slate-800/60" },
                if placeholder { "italic text-slate-400" } else { "" },
            )
            style=row_style(pos)
            on:click=move |_| ctx.select_row(row)
        >
            <div class="flex h-full shrink-0 items-center gap-1 overflow-hidden border-r border-slate-100 pr-2 dark:border-slate-800" style=format!("width:{LABEL_W}px;padding-left:{}px", indent + 6)>
                {if has_children {
                    view! {
                        <button type="button" class="w-4 shrink-0 text-slate-400 hover:text-slate-900 dark:hover:text-white" data-testid="toggle"
                            aria-label=move || if collapsed() { "Expand" } else { "Collapse" }
                            on:click=move |ev| { ev.stop_propagation(); ctx.toggle(row); }>
                            {move || if collapsed() { "▸" } else { "▾" }}
                        </button>
                    }.into_any()
                } else {
                    view! { <span class="w-4 shrink-0"></span> }.into_any()
                }}
                <span class="h-3 w-1 shrink-0 rounded-sm" style=format!("background:{color}")></span>
                <span class="shrink-0 text-slate-500 dark:text-slate-400">{service_name.clone()}</span>
                <span class=if is_error { "truncate font-medium text-rose-700 dark:text-rose-400" } else { "truncate font-medium" } title=title.clone()>
                    {if placeholder { format!("missing parent {span_hex}") } else { name.clone() }}
                </span>
                {is_error.then(|| view! { <span class="shrink-0 text-rose-600" title="span status: error">"●"</span> })}
                {(flags & ROW_EXCEPTION != 0).then(|| view! { <span class="shrink-0 text-[10px] text-rose-500" title="recorded an exception event">"exc"</span> })}
                {move || ctx.compare.with(|c| c.as_ref().and_then(|c| c.mark_of(row)).map(|m| {
                    let tone = match m.words.first().map(String::as_str) {
                        Some("errored") => "bg-rose-100 text-rose-800 dark:bg-rose-900 dark:text-rose-100",
                        Some("new") => "bg-violet-100 text-violet-800 dark:bg-violet-900 dark:text-violet-100",
                        Some("repeated") => "bg-orange-100 text-orange-800 dark:bg-orange-900 dark:text-orange-100",
                        _ => "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100",
                    };
                    let words = m.words.join(" ");
                    view! {
                        <span class=format!("shrink-0 truncate rounded px-1 text-[10px] font-semibold {tone}")
                            title=m.detail.clone() data-testid="diff-badge" data-marks=words>
                            {m.badges.join(" · ")}
                        </span>
                    }
                }))}
                {move || {
                    let notes = row_notes();
                    (!notes.is_empty()).then(|| view! {
                        <span class="shrink-0 rounded bg-violet-100 px-1 text-[10px] font-semibold text-violet-800 dark:bg-violet-900 dark:text-violet-100"
                            title=notes.join("\n") data-testid="note-badge">{format!("✎{}", notes.len())}</span>
                    })
                }}
            </div>
            <div class="relative h-full flex-1">
                {move || geometry().map(|(left, width)| {
                    let crit = critical && ctx.show_critical.get();
                    view! {
                        <div class=format!(
                                "absolute top-1/2 h-3 -translate-y-1/2 rounded-sm {}",
                                if crit { "ring-2 ring-amber-400" } else { "" },
                            )
                            style=format!("left:{left:.3}%;width:{width:.3}%;background:{};opacity:{}", color, if placeholder { "0.3" } else { "0.85" })>
                        </div>
                        <span class="pointer-events-none absolute top-1/2 -translate-y-1/2 whitespace-nowrap pl-1 text-[10px] tabular-nums text-slate-500"
                            style=format!("left:{:.3}%", (left + width).min(92.0))>
                            {format_duration(i64::try_from(dur).unwrap_or(0))}
                        </span>
                    }
                })}
                // Pins never change on a page and only a parent can hide errors: other rows (most of
                // them) get neither reactive part.
                {has_pins.then_some(pin_markers)}
                {has_children.then_some(hidden)}
            </div>
        </div>
    }
    // The view macro has no `aria-level` (it would write an attribute literally named
    // `attr:aria-level`): set as a plain attribute.
    .attr("aria-level", (depth + 1).to_string())
    .into_any()
}

/// A ghost row (compare mode): a call most healthy traces make that this trace never made, drawn
/// where it would typically have run, dashed and greyed.
#[component]
fn GhostRow(pos: usize, row: u32) -> impl IntoView {
    let ctx = TraceCtx::get();
    let g = ctx.compare.with_untracked(|c| {
        c.as_ref().and_then(|c| {
            c.ghosts
                .get(super::compare::ghost_index(row))
                .cloned()
                .map(|g| (g, c.baselines.len()))
        })
    });
    let Some((g, total)) = g else {
        return view! { <div></div> }.into_any();
    };
    let indent = i32::from(g.depth.min(40)) * 14;
    let label = format!(
        "{} · {} · missing: in {} of {} healthy traces{}",
        g.service,
        g.name,
        g.presence,
        total,
        if g.usual > 1 {
            format!(", usually {} calls", g.usual)
        } else {
            String::new()
        }
    );
    let (start, dur) = (g.start, g.dur);
    let geometry = move || {
        bar(
            start,
            i64::try_from(dur).unwrap_or(0),
            ctx.window.get(),
            0.15,
        )
    };
    view! {
        <div
            role="treeitem"
            aria-disabled="true"
            data-testid="ghost-row"
            data-row=row
            class="absolute left-0 right-0 flex items-center text-xs italic text-slate-400 dark:text-slate-500"
            style=row_style(pos)
            title=label.clone()
        >
            <div class="flex h-full shrink-0 items-center gap-1 overflow-hidden border-r border-slate-100 pr-2 dark:border-slate-800" style=format!("width:{LABEL_W}px;padding-left:{}px", indent + 6)>
                <span class="w-4 shrink-0"></span>
                <span class="h-3 w-1 shrink-0 rounded-sm border border-dashed border-slate-400"></span>
                <span class="shrink-0">{g.service.clone()}</span>
                <span class="truncate font-medium line-through decoration-slate-400/70">{g.name.clone()}</span>
                <span class="shrink-0 rounded bg-slate-200 px-1 text-[10px] font-semibold not-italic text-slate-700 dark:bg-slate-700 dark:text-slate-100" data-testid="ghost-badge">
                    {format!("missing · {}/{}", g.presence, total)}
                </span>
            </div>
            <div class="relative h-full flex-1">
                {move || geometry().map(|(left, width)| view! {
                    <div class="absolute top-1/2 h-3 -translate-y-1/2 rounded-sm border border-dashed border-slate-400 dark:border-slate-500"
                        style=format!("left:{left:.3}%;width:{width:.3}%")></div>
                })}
            </div>
        </div>
    }
    .attr("aria-level", (g.depth + 1).to_string())
    .into_any()
}

/// While a large trace's rows stream in: how many have arrived and how many are still coming; or why
/// they stopped.
#[component]
fn RowsStatus() -> impl IntoView {
    let ctx = TraceCtx::get();
    move || {
        if let Some(p) = ctx.rows_problem.get() {
            return Some(view! {
                <p class="border-b border-amber-300 bg-amber-50 px-3 py-1 text-xs text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100" role="status" data-testid="rows-problem">{p}</p>
            }.into_any());
        }
        ctx.rows_arriving.get().map(|(have, total)| {
            let pct = u64::from(have) * 100 / u64::from(total.max(1));
            view! {
                <p class="border-b border-slate-200 bg-slate-50 px-3 py-1 text-xs text-slate-600 dark:border-slate-800 dark:bg-slate-950 dark:text-slate-300" role="status" aria-live="polite" data-testid="rows-arriving">
                    {format!(
                        "Loading rows: {} of {} here ({pct}%), {} still arriving. Meanwhile the first screen is shown and the n key opens each error's details.",
                        crate::view::timeline::thousands(u64::from(have)),
                        crate::view::timeline::thousands(u64::from(total)),
                        crate::view::timeline::thousands(u64::from(total.saturating_sub(have))),
                    )}
                </p>
            }.into_any()
        })
    }
}
