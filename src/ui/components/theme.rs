//! Theme toggle: system (default), light, dark; the choice is kept in `localStorage`.

use leptos::prelude::*;

/// The three theme choices.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Theme {
    /// Follow the operating system.
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    fn next(self) -> Self {
        match self {
            Theme::System => Theme::Light,
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::System,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Theme::System => "Theme: system",
            Theme::Light => "Theme: light",
            Theme::Dark => "Theme: dark",
        }
    }

    fn icon(self) -> &'static str {
        match self {
            Theme::System => "◐",
            Theme::Light => "☀",
            Theme::Dark => "☾",
        }
    }
}

/// A button cycling system → light → dark.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::System);

    // In the browser: read the stored choice once, then apply every change.
    Effect::new(move |prev: Option<()>| {
        let current = theme.get();
        #[cfg(feature = "hydrate")]
        apply(current, prev.is_none(), theme);
        #[cfg(not(feature = "hydrate"))]
        let _ = (current, prev);
    });

    view! {
        <button
            type="button"
            class="rounded-md border border-slate-300 px-2 py-1 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500 dark:border-slate-700 dark:hover:bg-slate-800"
            title=move || theme.get().label()
            aria-label=move || theme.get().label()
            data-testid="theme-toggle"
            data-theme=move || format!("{:?}", theme.get()).to_lowercase()
            on:click=move |_| theme.update(|t| *t = t.next())
        >
            {move || theme.get().icon()}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn apply(current: Theme, first: bool, theme: RwSignal<Theme>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let storage = window.local_storage().ok().flatten();
    if first {
        let stored = storage
            .as_ref()
            .and_then(|s| s.get_item("tracepin-theme").ok().flatten());
        let restored = match stored.as_deref() {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        };
        if restored != current {
            theme.set(restored);
            return;
        }
    }
    if let Some(s) = &storage {
        let _ = match current {
            Theme::System => s.remove_item("tracepin-theme"),
            Theme::Light => s.set_item("tracepin-theme", "light"),
            Theme::Dark => s.set_item("tracepin-theme", "dark"),
        };
    }
    let dark = match current {
        Theme::Dark => true,
        Theme::Light => false,
        Theme::System => window
            .match_media("(prefers-color-scheme: dark)")
            .ok()
            .flatten()
            .is_some_and(|m| m.matches()),
    };
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = root.class_list().toggle_with_force("dark", dark);
    }
}
