//! The notes of a snapshot: the side list (each note with its target, author and time; the author's
//! own notes editable) and the form that adds one to the selected span, the selected error or the
//! visible time range. Notes are plain text: Leptos renders them as text nodes, never as markup.

use leptos::prelude::*;

use crate::ui::trace_ctx::TraceCtx;
use crate::view::types::{Annotation, AnnotationTarget};

/// Where a new note goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Span,
    Event,
    Range,
}

/// The "name" the viewer signs notes with when access control is off (kept in the browser).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const NAME_KEY: &str = "tracepin.name";

#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn saved_name() -> String {
    #[cfg(feature = "hydrate")]
    {
        web_sys::window()
            .and_then(|w| w.local_storage().ok().flatten())
            .and_then(|s| s.get_item(NAME_KEY).ok().flatten())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    String::new()
}

fn save_name(name: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(NAME_KEY, name);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = name;
}

/// The span's "service name" by its 16-hex id, from the rows the page holds.
fn span_label(ctx: TraceCtx, span_hex: &str) -> Option<String> {
    let id = u64::from_str_radix(span_hex, 16).ok()?;
    ctx.rows.with(|r| {
        let p = r.span_id.iter().position(|s| *s == id)?;
        let service = ctx
            .view
            .with_value(|v| v.services.get(usize::from(r.service[p])).cloned())
            .unwrap_or_default();
        Some(format!("{service} {}", r.name_of(p)))
    })
}

/// What a note is attached to, in words.
pub fn label(ctx: TraceCtx, target: &AnnotationTarget) -> String {
    ctx.view
        .with_value(|v| crate::view::notes::target_label(target, v, |id| span_label(ctx, id)))
}

/// Goes to what a note is attached to: selects the span or error, or zooms to the range.
fn go_to(ctx: TraceCtx, target: &AnnotationTarget) {
    match target {
        AnnotationTarget::Span { span_id } => {
            let row = u64::from_str_radix(span_id, 16).ok().and_then(|id| {
                ctx.rows
                    .with_untracked(|r| r.span_id.iter().position(|s| *s == id).map(|p| r.index[p]))
            });
            if let Some(row) = row {
                ctx.expand_to(row);
                ctx.select_row(row);
            }
        }
        AnnotationTarget::Event { event_id } => ctx.select_event(event_id),
        AnnotationTarget::Range { start_ns, end_ns } => {
            let (a, b) = (
                u64::try_from(*start_ns).unwrap_or(0),
                u64::try_from(*end_ns).unwrap_or(0),
            );
            ctx.vs.update(|v| v.window = Some((a, b.max(a + 1))));
            ctx.commit(true);
        }
    }
}

/// The side list and the form.
#[component]
pub fn NotesPanel() -> impl IntoView {
    let ctx = TraceCtx::get();
    let Some(page) = ctx.snapshot_page.get_value() else {
        return ().into_any();
    };
    let id = StoredValue::new(page.meta.id.clone());
    let user = page.user.clone();
    let signed_in = user.is_some();
    let name = RwSignal::new(user.clone().unwrap_or_default());
    #[cfg(feature = "hydrate")]
    if !signed_in {
        Effect::new(move |_| name.set(saved_name()));
    }
    let text = RwSignal::new(String::new());
    let target = RwSignal::new(Target::Span);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let editing = RwSignal::new(None::<String>);
    let edit_text = RwSignal::new(String::new());

    let selected_span = move || {
        ctx.selected_row
            .get()
            .and_then(|row| ctx.rows.with(|r| r.pos(row).map(|p| r.span_hex(p))))
    };
    let selected_event = move || ctx.vs.with(|v| v.event.clone());
    let target_text = move || match target.get() {
        Target::Span => selected_span()
            .map(|s| label(ctx, &AnnotationTarget::Span { span_id: s }))
            .unwrap_or_else(|| "no span selected: click a row first".into()),
        Target::Event => selected_event()
            .map(|e| label(ctx, &AnnotationTarget::Event { event_id: e }))
            .unwrap_or_else(|| "no error selected: click a red pin first".into()),
        Target::Range => {
            let w = ctx.window.get();
            label(
                ctx,
                &AnnotationTarget::Range {
                    start_ns: w.from,
                    end_ns: w.to,
                },
            )
        }
    };

    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let (span_id, event_id, start_ns, end_ns) = match target.get_untracked() {
            Target::Span => match selected_span() {
                Some(s) => (Some(s), None, None, None),
                None => {
                    problem.set(Some("Select a span first (click its row).".into()));
                    return;
                }
            },
            Target::Event => match selected_event() {
                Some(e) => (None, Some(e), None, None),
                None => {
                    problem.set(Some("Select an error first (click its red pin).".into()));
                    return;
                }
            },
            Target::Range => {
                let w = ctx.window.get_untracked();
                (None, None, Some(w.from.max(0)), Some(w.to.max(0)))
            }
        };
        let (t, n) = (text.get_untracked(), name.get_untracked());
        if !signed_in {
            save_name(&n);
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            match crate::api::snapshots::annotate(
                id.get_value(),
                span_id,
                event_id,
                start_ns,
                end_ns,
                t,
                n,
            )
            .await
            {
                Ok(note) => {
                    ctx.notes.update(|ns| ns.push(note));
                    text.set(String::new());
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    let save_edit = move |note_id: String| {
        let (t, n) = (edit_text.get_untracked(), name.get_untracked());
        leptos::task::spawn_local(async move {
            match crate::api::snapshots::edit_annotation(
                id.get_value(),
                note_id.clone(),
                t.clone(),
                n,
            )
            .await
            {
                Ok(()) => {
                    ctx.notes.update(|ns| {
                        if let Some(x) = ns.iter_mut().find(|x| x.id == note_id) {
                            x.text = t.trim().to_owned();
                            x.updated_at = Some("just now".into());
                        }
                    });
                    editing.set(None);
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e.to_string())),
            }
        });
    };

    let item = move |n: Annotation| {
        let what = label(ctx, &n.target);
        let target = n.target.clone();
        let author = n.author.clone();
        let mine = move || {
            let me = name.get();
            !me.trim().is_empty() && me.trim() == author
        };
        let note_id = n.id.clone();
        let note_id2 = n.id.clone();
        let note_id3 = n.id.clone();
        let text0 = n.text.clone();
        let is_editing = move || editing.get().as_deref() == Some(note_id.as_str());
        view! {
            <li class="rounded-md border border-slate-200 p-2 dark:border-slate-700" data-testid="note" data-note-id=n.id.clone()>
                <button type="button" class="text-left text-xs font-medium text-sky-700 hover:underline dark:text-sky-400" data-testid="note-target"
                    on:click=move |_| go_to(ctx, &target)>{what}</button>
                {move || if is_editing() {
                    let id = note_id2.clone();
                    view! {
                        <div class="mt-1 flex flex-col gap-1">
                            <textarea class="w-full rounded border border-slate-300 bg-slate-50 p-1 text-sm dark:border-slate-700 dark:bg-slate-950" rows="3" maxlength="2000" data-testid="note-edit-text"
                                prop:value=move || edit_text.get() on:input=move |ev| edit_text.set(event_target_value(&ev))></textarea>
                            <div class="flex gap-2">
                                <button type="button" class="btn" data-testid="note-save" on:click=move |_| save_edit(id.clone())>"Save"</button>
                                <button type="button" class="btn" on:click=move |_| editing.set(None)>"Cancel"</button>
                            </div>
                        </div>
                    }.into_any()
                } else {
                    view! { <p class="mt-1 whitespace-pre-wrap break-words text-sm" data-testid="note-text">{n.text.clone()}</p> }.into_any()
                }}
                <p class="mt-1 flex items-center gap-2 text-[11px] text-slate-500">
                    <span data-testid="note-author">{n.author.clone()}</span>
                    <span>{n.created_at.clone()}</span>
                    {n.updated_at.is_some().then(|| view! { <span>"(edited)"</span> })}
                    {move || (mine() && editing.get().is_none()).then(|| {
                        let id = note_id3.clone();
                        let t = text0.clone();
                        view! {
                            <button type="button" class="underline" data-testid="note-edit" on:click=move |_| {
                                edit_text.set(t.clone());
                                editing.set(Some(id.clone()));
                            }>"Edit"</button>
                        }
                    })}
                </p>
            </li>
        }
    };

    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900" data-testid="notes-panel" aria-label="Notes">
            <h2 class="font-semibold">"Notes"</h2>
            <ul class="mt-2 flex flex-col gap-2" data-testid="notes-list">
                {move || {
                    let list = ctx.notes.get();
                    if list.is_empty() {
                        view! { <li class="text-xs text-slate-500">"No notes yet."</li> }.into_any()
                    } else {
                        list.into_iter().map(item).collect_view().into_any()
                    }
                }}
            </ul>
            <form class="mt-3 flex flex-col gap-2 border-t border-slate-200 pt-3 dark:border-slate-700" data-testid="note-form" on:submit=add>
                <fieldset class="flex flex-wrap gap-3 text-xs">
                    <legend class="sr-only">"Attach to"</legend>
                    <label class="flex items-center gap-1"><input type="radio" name="note-target" checked=true on:change=move |_| target.set(Target::Span)/>"Selected span"</label>
                    <label class="flex items-center gap-1"><input type="radio" name="note-target" data-testid="note-target-event" on:change=move |_| target.set(Target::Event)/>"Selected error"</label>
                    <label class="flex items-center gap-1"><input type="radio" name="note-target" data-testid="note-target-range" on:change=move |_| target.set(Target::Range)/>"Visible time range"</label>
                </fieldset>
                <p class="text-xs text-slate-500" data-testid="note-attach">"On: " {target_text}</p>
                <textarea class="w-full rounded border border-slate-300 bg-slate-50 p-1 text-sm dark:border-slate-700 dark:bg-slate-950" rows="3" maxlength="2000" required
                    placeholder="14:02 deploy rolled back here" data-testid="note-text-input" aria-label="Note"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                {(!signed_in).then(|| view! {
                    <input type="text" class="rounded border border-slate-300 bg-slate-50 px-1 py-0.5 text-sm dark:border-slate-700 dark:bg-slate-950" maxlength="60"
                        placeholder="Your name" aria-label="Your name" data-testid="note-name"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                })}
                {signed_in.then(|| view! { <p class="text-xs text-slate-500">"Signed as " {user.clone()}</p> })}
                <div class="flex items-center gap-2">
                    <button type="submit" class="btn" data-testid="note-add" disabled=move || busy.get()>"Add note"</button>
                    <span class="text-xs text-rose-600" role="alert" data-testid="note-problem">{move || problem.get()}</span>
                </div>
            </form>
        </section>
    }
    .into_any()
}
