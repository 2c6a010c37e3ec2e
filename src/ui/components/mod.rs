//! Reusable components: the header with the lookup box, the theme toggle, and the timeline page's
//! parts (header, minimap, waterfall, detail panel, keyboard).

pub mod compare;
pub mod detail;
pub mod header;
pub mod keys;
pub mod minimap;
pub mod notes;
pub mod theme;
pub mod timeline_header;
pub mod waterfall;

/// A colour per service index, distinguishable in light and dark mode.
pub fn service_color(i: u16) -> &'static str {
    const PALETTE: [&str; 12] = [
        "#3b82f6", "#a855f7", "#14b8a6", "#f59e0b", "#ec4899", "#22c55e", "#6366f1", "#0ea5e9",
        "#d946ef", "#84cc16", "#f97316", "#64748b",
    ];
    PALETTE[usize::from(i) % PALETTE.len()]
}

pub use crate::domain::links::safe_url;

/// "Open in …" links to other tools (new tab; only http(s) targets are rendered).
#[leptos::component]
pub fn OpenIn(links: Vec<crate::view::types::LinkOut>) -> impl leptos::IntoView {
    use leptos::prelude::*;
    links
        .into_iter()
        .filter_map(|l| safe_url(&l.href).map(|h| (l, h)))
        .map(|(l, href)| {
            view! {
                <a class="btn" href=href target="_blank" rel="noopener noreferrer" data-testid=format!("open-in-{}", l.tool)>{l.label}</a>
            }
        })
        .collect_view()
}
