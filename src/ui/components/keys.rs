//! Keyboard shortcuts of the timeline page (browser only): ↑/↓ or j/k rows, ←/→ collapse/expand,
//! `n`/`N` next/previous error, `/` filter, `Esc` clear, `?` help.

use crate::ui::trace_ctx::TraceCtx;

/// Installs the window keydown listener for the page.
#[cfg(feature = "hydrate")]
pub fn install(ctx: TraceCtx) {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    let handle = window_event_listener(leptos::ev::keydown, move |ev: web_sys::KeyboardEvent| {
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let in_input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        let key = ev.key();
        if in_input {
            if key == "Escape" {
                if let Some(el) = ev
                    .target()
                    .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.blur();
                }
            }
            return;
        }
        let handled = match key.as_str() {
            "ArrowDown" | "j" => step_row(ctx, 1),
            "ArrowUp" | "k" => step_row(ctx, -1),
            "ArrowLeft" => collapse(ctx, true),
            "ArrowRight" => collapse(ctx, false),
            "n" => step_error(ctx, 1),
            "N" => step_error(ctx, -1),
            "/" => {
                if let Some(el) = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id("filter"))
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
                true
            }
            "Escape" => {
                ctx.show_help.set(false);
                ctx.vs.update(|v| {
                    v.span = None;
                    v.event = None;
                });
                ctx.commit(true);
                true
            }
            "?" => {
                ctx.show_help.update(|h| *h = !*h);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
            focus_selected(ctx);
        }
    });
    on_cleanup(move || handle.remove());
}

#[cfg(feature = "hydrate")]
fn focus_selected(ctx: TraceCtx) {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    let Some(row) = ctx.selected_row.get_untracked() else {
        return;
    };
    // Focus after the row is rendered.
    request_animation_frame(move || {
        if let Some(el) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| {
                d.query_selector(&format!("[data-testid=waterfall-row][data-row=\"{row}\"]"))
                    .ok()
                    .flatten()
            })
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });
}

#[cfg(feature = "hydrate")]
fn step_row(ctx: TraceCtx, dir: i32) -> bool {
    use leptos::prelude::*;
    // Ghost rows (compare mode) are not spans: the keys step over them.
    let vis: Vec<u32> = ctx
        .visible
        .get_untracked()
        .iter()
        .copied()
        .filter(|r| !crate::view::compare::is_ghost(*r))
        .collect();
    if vis.is_empty() {
        return true;
    }
    let next = match ctx
        .selected_row
        .get_untracked()
        .and_then(|r| vis.iter().position(|v| *v == r))
    {
        Some(p) => {
            let p = p as i64 + i64::from(dir);
            vis[p.clamp(0, vis.len() as i64 - 1) as usize]
        }
        None => vis[0],
    };
    ctx.select_row(next);
    true
}

#[cfg(feature = "hydrate")]
fn collapse(ctx: TraceCtx, collapse: bool) -> bool {
    use leptos::prelude::*;
    let Some(row) = ctx.selected_row.get_untracked() else {
        return true;
    };
    let has_children = ctx
        .rows
        .with_untracked(|r| r.pos(row).is_some_and(|p| r.subtree_end[p] > row + 1));
    let is_collapsed = ctx.is_collapsed(row);
    if has_children && collapse != is_collapsed {
        ctx.toggle(row);
    } else if collapse {
        // Already collapsed or a leaf: go to the parent.
        let parent = ctx.rows.with_untracked(|r| {
            (0..r.len())
                .rev()
                .find(|&i| r.index[i] < row && r.subtree_end[i] > row)
                .map(|i| r.index[i])
        });
        if let Some(p) = parent {
            ctx.select_row(p);
        }
    }
    true
}

#[cfg(feature = "hydrate")]
fn step_error(ctx: TraceCtx, dir: i32) -> bool {
    use leptos::prelude::*;
    let ids: Vec<String> = ctx
        .view
        .with_value(|v| v.pins.iter().map(|p| p.event_id.clone()).collect());
    if ids.is_empty() {
        return true;
    }
    let cur = ctx.vs.with_untracked(|v| v.event.clone());
    let pos = cur.and_then(|c| ids.iter().position(|i| *i == c));
    let n = ids.len() as i64;
    let next = match pos {
        Some(p) => (p as i64 + i64::from(dir)).rem_euclid(n),
        None if dir > 0 => 0,
        None => n - 1,
    };
    ctx.select_event(&ids[next as usize]);
    true
}

/// Nothing to install on the server.
#[cfg(not(feature = "hydrate"))]
pub fn install(_ctx: TraceCtx) {}
