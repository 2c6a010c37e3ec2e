//! [`TraceCtx`]: the shared state of one timeline page (signals over the page data and the URL's view
//! state), provided as context by the page and read by its components. Its own module so that
//! components and the page both depend on it, and not on each other.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;

use crate::domain::TraceId;
use crate::view::compare::CompareView;
use crate::view::geometry::Window;
use crate::view::state::{snapshot_url, trace_url, ViewState};
use crate::view::types::{Annotation, Rows, SnapshotPage, TimelineView};

/// Shared state of one timeline page, provided as context to its components.
#[derive(Clone, Copy)]
pub struct TraceCtx {
    /// The trace.
    pub trace: TraceId,
    /// The snapshot shown instead of the live trace (`/s/{id}`), if any.
    pub snapshot: StoredValue<Option<String>>,
    /// The snapshot's page data (title, who froze it, the viewer), on `/s/{id}`.
    pub snapshot_page: StoredValue<Option<SnapshotPage>>,
    /// The snapshot's notes (empty on a live trace).
    pub notes: RwSignal<Vec<Annotation>>,
    /// The page data from the server (header, pins, first rows).
    pub view: StoredValue<Arc<TimelineView>>,
    /// The rows known so far: the first-screen window, then all rows.
    pub rows: RwSignal<Arc<Rows>>,
    /// True once all rows arrived.
    pub full: RwSignal<bool>,
    /// The URL state.
    pub vs: RwSignal<ViewState>,
    /// Rows matching the filter (absolute), when filtering.
    pub matches: RwSignal<Option<Arc<Vec<u32>>>>,
    /// Visible rows (absolute), in display order.
    pub visible: Memo<Arc<Vec<u32>>>,
    /// Position of `visible[0]` in the whole visible list (non-zero only for a window).
    pub offset: Memo<u32>,
    /// The zoom window, ns from trace start.
    pub window: Memo<Window>,
    /// The selected row, from the selected span or event.
    pub selected_row: Memo<Option<u32>>,
    /// Highlight the critical path.
    pub show_critical: RwSignal<bool>,
    /// Pin indices per row.
    pub pins_by_row: StoredValue<HashMap<u32, Vec<usize>>>,
    /// Rows holding pins, sorted (with repeats: one per pin).
    pub pin_rows: StoredValue<Vec<u32>>,
    /// Keyboard help shown.
    pub show_help: RwSignal<bool>,
    /// Show clock-skew-adjusted times.
    pub adjusted: Memo<bool>,
    /// The whole trace in display time (adjusted or raw), ns from trace start.
    pub full_window: Memo<Window>,
    /// Markdown of the selection, for "Copy as Markdown".
    pub markdown: RwSignal<String>,
    /// Breadcrumbs of the selected error: (ns from trace start, label).
    pub breadcrumbs: RwSignal<Vec<(i64, String)>>,
    /// The comparison with healthy traces, once it arrived (compare mode, `cmp=` in the URL).
    pub compare: RwSignal<Option<Arc<CompareView>>>,
    /// Compare mode: waiting for the comparison.
    pub compare_loading: RwSignal<bool>,
    /// Compare mode: why the comparison failed.
    pub compare_problem: RwSignal<Option<String>>,
    /// While rows stream in: `(arrived, total)`; `None` once every row is here (or before the first
    /// chunk is asked for).
    pub rows_arriving: RwSignal<Option<(u32, u32)>>,
    /// Why the rows stopped arriving (the first screen stays).
    pub rows_problem: RwSignal<Option<String>>,
}

impl TraceCtx {
    /// The context of the current page.
    pub fn get() -> Self {
        expect_context::<TraceCtx>()
    }

    /// Writes the state into the URL: a new history entry for selections, a replacement otherwise.
    pub fn commit(&self, push: bool) {
        let url = self.vs.with_untracked(|v| match self.snapshot.get_value() {
            Some(id) => snapshot_url(&id, v),
            None => trace_url(self.trace, v),
        });
        #[cfg(feature = "hydrate")]
        if let Some(h) = web_sys::window().and_then(|w| w.history().ok()) {
            let null = wasm_bindgen::JsValue::NULL;
            let _ = if push {
                h.push_state_with_url(&null, "", Some(&url))
            } else {
                h.replace_state_with_url(&null, "", Some(&url))
            };
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (url, push);
    }

    /// Selects a row (and shows its span rather than an error). Ghost rows are not spans: ignored.
    pub fn select_row(&self, row: u32) {
        if crate::view::compare::is_ghost(row) {
            return;
        }
        let span = self
            .rows
            .with_untracked(|r| r.pos(row).map(|p| r.span_hex(p)));
        self.vs.update(|v| {
            v.span = span;
            v.event = None;
        });
        self.commit(true);
    }

    /// Selects an error (and its row).
    pub fn select_event(&self, event_id: &str) {
        let row = self.view.with_value(|v| {
            v.pins
                .iter()
                .find(|p| p.event_id == event_id)
                .map(|p| p.row)
        });
        let span = row.and_then(|r| {
            self.rows
                .with_untracked(|rows| rows.pos(r).map(|p| rows.span_hex(p)))
        });
        // Expand collapsed ancestors so the pin's row is visible.
        if let Some(r) = row {
            self.expand_to(r);
        }
        self.vs.update(|v| {
            v.event = Some(event_id.to_owned());
            v.span = span;
        });
        self.commit(true);
    }

    /// Uncollapses every ancestor of `row`.
    pub fn expand_to(&self, row: u32) {
        let ancestors: Vec<u32> = self.rows.with_untracked(|r| {
            (0..r.len())
                .filter(|&i| r.index[i] < row && r.subtree_end[i] > row)
                .map(|i| r.short_id(i))
                .collect()
        });
        self.vs
            .update(|v| v.collapsed.retain(|c| !ancestors.contains(c)));
    }

    /// Collapses or expands a row's subtree.
    pub fn toggle(&self, row: u32) {
        let Some(short) = self
            .rows
            .with_untracked(|r| r.pos(row).map(|p| r.short_id(p)))
        else {
            return;
        };
        self.vs.update(|v| match v.collapsed.binary_search(&short) {
            Ok(i) => {
                v.collapsed.remove(i);
            }
            Err(i) => v.collapsed.insert(i, short),
        });
        self.commit(false);
    }

    /// Is a row collapsed?
    pub fn is_collapsed(&self, row: u32) -> bool {
        let short = self.rows.with(|r| r.pos(row).map(|p| r.short_id(p)));
        short.is_some_and(|s| self.vs.with(|v| v.collapsed.binary_search(&s).is_ok()))
    }
}
