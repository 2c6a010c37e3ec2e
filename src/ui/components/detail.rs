//! The detail panel: the selected span (attributes, resource, events, links, timing) or the selected
//! error (how it was matched, exception chain with in-app frames first, breadcrumbs, tags, user,
//! "Open in Sentry"). Loaded on selection; rendered on the server for deep links.

use leptos::either::EitherOf4;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::safe_url;
use crate::api::{get_event_detail, get_span_detail, AppError};
use crate::domain::{event_id_lenient, TraceId};
use crate::ui::trace_ctx::TraceCtx;
use crate::view::geometry::format_duration;
use crate::view::state::trace_url_with;
use crate::view::types::{EventDetail, SpanDetail};

/// What the panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Detail {
    /// Nothing selected.
    Nothing,
    /// A span.
    Span(SpanDetail),
    /// An error.
    Event(EventDetail),
}

async fn load(
    trace_id: TraceId,
    event: Option<String>,
    row: Option<u32>,
    snap: Option<String>,
) -> Result<Detail, AppError> {
    if let Some(e) = event {
        let e = event_id_lenient(&e).map_err(|e| AppError::BadRequest(e.to_string()))?;
        return get_event_detail(trace_id, e, snap).await.map(Detail::Event);
    }
    match row {
        Some(r) => get_span_detail(trace_id, r, snap).await.map(Detail::Span),
        None => Ok(Detail::Nothing),
    }
}

/// The side panel.
#[component]
pub fn DetailPanel() -> impl IntoView {
    let ctx = TraceCtx::get();
    let trace_id = ctx.trace;
    let key = Memo::new(move |_| {
        let event = ctx.vs.with(|v| v.event.clone());
        let row = if event.is_some() {
            None
        } else {
            ctx.selected_row.get()
        };
        (event, row)
    });
    let detail = Resource::new(
        move || key.get(),
        move |(event, row)| load(trace_id, event, row, ctx.snapshot.get_value()),
    );

    view! {
        <aside class="w-full shrink-0 overflow-auto rounded-lg border border-slate-200 bg-white p-4 text-sm dark:border-slate-800 dark:bg-slate-900 xl:h-[calc(100vh-308px)] xl:w-[440px]"
            data-testid="detail-panel" aria-live="polite">
            <Transition fallback=|| view! { <p class="text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // What the header's "Copy as Markdown" and the axis's breadcrumbs show follow the
                    // detail. Set here, where it resolves: reading the resource in an effect would
                    // register it with the page's own Suspense, which then hid the whole page (and
                    // lost the waterfall's scroll position) on every selection.
                    let d = detail.await;
                    if let Ok(d) = &d {
                        follow_detail(ctx, d);
                    }
                    match d {
                        Ok(Detail::Nothing) => EitherOf4::A(view! {
                            <div class="text-slate-500">
                                <p class="font-medium text-slate-700 dark:text-slate-200">"Select a span or an error"</p>
                                <p class="mt-1">"Click a row or a red pin, or press "<kbd>"n"</kbd>" to walk through the errors."</p>
                                <ErrorList/>
                            </div>
                        }),
                        Ok(Detail::Span(s)) => EitherOf4::B(view! { <SpanView s/> }),
                        Ok(Detail::Event(e)) => EitherOf4::C(view! { <EventView e/> }),
                        Err(e) => EitherOf4::D(view! { <p class="text-amber-700 dark:text-amber-300" data-testid="detail-error">{e.to_string()}</p> }),
                    }
                })}
            </Transition>
        </aside>
    }
}

/// How many errors the side panel lists before "Show all": a trace with a thousand errors would
/// otherwise put a thousand entries into the first page (a third of its HTML at a million spans).
/// Every error stays reachable with `n`, the minimap and the pins.
pub const ERROR_LIST_FIRST: usize = 50;

#[component]
fn ErrorList() -> impl IntoView {
    let ctx = TraceCtx::get();
    let mut first = ctx.view.with_value(|v| v.pins.clone());
    let total = first.len();
    let rest = StoredValue::new(first.split_off(ERROR_LIST_FIRST.min(total)));
    let all = RwSignal::new(false);
    let item = move |p: crate::view::types::PinView| {
        let id = p.event_id.clone();
        view! {
            <li data-testid="side-error">
                <button type="button" class="text-left text-rose-700 hover:underline dark:text-rose-400" on:click=move |_| ctx.select_event(&id)>
                    {p.title}
                </button>
                <span class="block text-xs text-slate-500">{p.matched_by_text}</span>
            </li>
        }
    };
    view! {
        <ul class="mt-3 space-y-1" data-testid="side-errors">
            {first.into_iter().map(item).collect_view()}
            {move || all.get().then(|| rest.get_value().into_iter().map(item).collect_view())}
        </ul>
        {(total > ERROR_LIST_FIRST).then(|| view! {
            <button type="button" data-testid="side-errors-more"
                class="mt-2 text-xs text-sky-700 hover:underline dark:text-sky-400"
                class:hidden=move || all.get()
                on:click=move |_| all.set(true)>
                {format!("Show all {total} errors ({} more)", total - ERROR_LIST_FIRST)}
            </button>
        })}
    }
}

fn kv_table(rows: Vec<(String, String)>, testid: &'static str) -> impl IntoView {
    view! {
        <table class="w-full table-fixed text-xs" data-testid=testid>
            <tbody>
                {rows.into_iter().map(|(k, v)| view! {
                    <tr class="border-t border-slate-100 align-top dark:border-slate-800">
                        <td class="w-2/5 break-words py-0.5 pr-2 font-mono text-slate-500">{k}</td>
                        <td class="break-words py-0.5 font-mono" dir="auto">{clip(v)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Long values are clipped for display (the JSON download keeps them whole).
fn clip(v: String) -> String {
    const MAX: usize = 2_000;
    if v.len() <= MAX {
        return v;
    }
    let mut end = MAX;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &v[..end], v.len() - end)
}

/// What a long list left out, and where the rest is.
fn hidden_note(hidden: Vec<String>) -> impl IntoView {
    (!hidden.is_empty()).then(|| {
        view! {
            <p class="mt-3 rounded border border-amber-300 bg-amber-50 p-1 text-xs text-amber-900 dark:border-amber-800 dark:bg-amber-950/40 dark:text-amber-200" data-testid="hidden-items">
                "Not shown here: "{hidden.join("; ")}". The JSON download has them (up to 1,000 of each list)."
            </p>
        }
    })
}

fn section(title: &'static str) -> impl IntoView {
    view! { <h3 class="mt-4 mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">{title}</h3> }
}

#[component]
fn SpanView(s: SpanDetail) -> impl IntoView {
    let dur = format_duration(i64::try_from(s.duration_ns).unwrap_or(0));
    let adjusted = (s.start_adjusted != s.start).then(|| s.start_adjusted.clone());
    let status_cls = if s.status == "error" {
        "text-rose-600 dark:text-rose-400 font-semibold"
    } else {
        ""
    };
    view! {
        <div data-testid="span-detail" data-span-id=s.span_id.clone()>
            <p class="text-xs uppercase tracking-wide text-slate-500">"Span"</p>
            <h2 class="break-words text-base font-semibold" dir="auto">{clip(s.name.clone())}</h2>
            <p class="text-xs text-slate-500">{s.path.join(" → ")}</p>
            <dl class="mt-3 grid grid-cols-3 gap-1 text-xs">
                <dt class="text-slate-500">"Service"</dt><dd class="col-span-2">{s.service.clone()}</dd>
                <dt class="text-slate-500">"Kind"</dt><dd class="col-span-2">{s.kind.clone()}</dd>
                <dt class="text-slate-500">"Status"</dt><dd class=format!("col-span-2 {status_cls}")>{s.status.clone()} {s.status_message.clone().map(|m| format!(": {m}"))}</dd>
                <dt class="text-slate-500">"Start"</dt><dd class="col-span-2 tabular-nums">{s.start.clone()}</dd>
                {adjusted.map(|a| view! { <dt class="text-slate-500">"Adjusted"</dt><dd class="col-span-2 tabular-nums">{a}</dd> })}
                <dt class="text-slate-500">"Duration"</dt><dd class="col-span-2 tabular-nums">{dur}</dd>
                <dt class="text-slate-500">"Span id"</dt><dd class="col-span-2 font-mono">{s.span_id.clone()}</dd>
                <dt class="text-slate-500">"Parent"</dt><dd class="col-span-2 font-mono">{s.parent_span_id.clone().unwrap_or_else(|| "—".into())}</dd>
            </dl>
            {(!s.open_in.is_empty()).then(|| view! { <div class="mt-2 flex flex-wrap gap-2 text-xs"><super::OpenIn links=s.open_in.clone()/></div> })}
            {s.placeholder.then(|| view! { <p class="mt-2 text-amber-700 dark:text-amber-300">"This span is referenced as a parent but was not in the data (dropped, not sampled, or still being ingested)."</p> })}
            {section("Attributes")}
            {kv_table(s.attributes.clone(), "span-attributes")}
            {(!s.events.is_empty()).then(|| view! {
                {section("Events")}
                <ul class="space-y-2 text-xs">
                    {s.events.clone().into_iter().map(|crate::view::types::SpanEventView { at, name, attributes: attrs }| { let is_exc = name == "exception"; view! {
                        <li class=if is_exc { "rounded border border-rose-200 p-1 dark:border-rose-900" } else { "" }>
                            <span class="font-medium">{name}</span>" "<span class="text-slate-500">"+"{format_duration(at)}</span>
                            {kv_table(attrs, "span-event")}
                        </li>
                    }}).collect_view()}
                </ul>
            })}
            {(!s.links.is_empty()).then(|| view! {
                {section("Links")}
                <ul class="font-mono text-xs">
                    {s.links.clone().into_iter().map(|(t, sp)| view! { <li><a class="text-sky-600 hover:underline" href=trace_url_with(&t, Some(&sp), None)>{format!("{t} / {sp}")}</a></li> }).collect_view()}
                </ul>
            })}
            {section("Resource")}
            {kv_table(s.resource.clone(), "span-resource")}
            {hidden_note(s.hidden.clone())}
        </div>
    }
}

/// One Sentry event in full. On a trace page it can select its span; alone (an event without a
/// trace) it shows the same details without the trace-relative time.
#[component]
pub fn EventView(e: EventDetail) -> impl IntoView {
    let ctx = use_context::<TraceCtx>();
    let row = e.row.filter(|_| ctx.is_some());
    let sentry = e.sentry_url.as_deref().and_then(safe_url);
    view! {
        <div data-testid="event-detail" data-event-id=e.event_id.clone()>
            <p class="text-xs uppercase tracking-wide text-rose-600">{format!("Sentry {}", e.level)}</p>
            <h2 class="break-words text-base font-semibold" dir="auto">{clip(e.title.clone())}</h2>
            <p class="mt-1 text-xs" data-testid="matched-by">{e.placement.clone()}</p>
            {e.trace_note.clone().map(|n| view! { <p class="mt-1 text-xs text-slate-500" data-testid="trace-note">{n}</p> })}
            <dl class="mt-3 grid grid-cols-3 gap-1 text-xs">
                <dt class="text-slate-500">"Time"</dt><dd class="col-span-2 tabular-nums">{e.timestamp.clone()} {ctx.is_some().then(|| format!(" (+{})", format_duration(e.at)))}</dd>
                <dt class="text-slate-500">"Service"</dt><dd class="col-span-2">{e.service.clone().unwrap_or_else(|| "unknown".into())}</dd>
                <dt class="text-slate-500">"Release"</dt><dd class="col-span-2">{e.release.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Environment"</dt><dd class="col-span-2">{e.environment.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"User"</dt><dd class="col-span-2">{e.user.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt class="text-slate-500">"Event id"</dt><dd class="col-span-2 font-mono">{e.event_id.clone()}</dd>
            </dl>
            <div class="mt-2 flex flex-wrap gap-2">
                {row.zip(ctx).map(|(r, ctx)| view! { <button type="button" class="btn" on:click=move |_| ctx.select_row(r)>"Show span"</button> })}
                {match sentry {
                    Some(u) => view! { <a class="btn" href=u target="_blank" rel="noopener noreferrer" data-testid="open-in-sentry">"Open in Sentry"</a> }.into_any(),
                    None => view! { <span class="text-xs text-slate-500">"No Sentry link (the event came from a file, the local store or the demo)."</span> }.into_any(),
                }}
                <super::OpenIn links=e.open_in.clone()/>
            </div>
            {e.message.clone().map(|m| view! { {section("Message")} <p class="whitespace-pre-wrap break-words font-mono text-xs" dir="auto">{clip(m)}</p> })}
            {(!e.exceptions.is_empty()).then(|| section("Exception"))}
            {e.exceptions.clone().into_iter().map(|x| view! {
                <div class="mb-3" data-testid="exception">
                    <p class="font-semibold text-rose-700 dark:text-rose-400">{x.ty.clone()}</p>
                    <p class="break-words text-xs" dir="auto">{clip(x.value.clone())}</p>
                    {x.mechanism.clone().map(|m| view! { <p class="text-[11px] text-slate-500">"mechanism: "{m}</p> })}
                    <ol class="mt-1 space-y-1">
                        {x.frames.clone().into_iter().map(|f| view! {
                            <li class=if f.in_app { "rounded border-l-4 border-rose-500 bg-rose-50/60 p-1 dark:bg-rose-950/40" } else { "p-1 text-slate-500" } data-testid="frame" data-in-app=f.in_app.to_string()>
                                <p class="font-mono text-[11px]"><span class="font-semibold">{f.function.clone()}</span>" in "{f.file.clone()}{f.line.map(|l| format!(":{l}"))}</p>
                                {(!f.context.is_empty()).then(|| view! {
                                    <pre class="mt-1 overflow-x-auto rounded bg-slate-900 p-1 text-[10px] leading-snug text-slate-100">
                                        {f.context.clone().into_iter().map(|(n, line, hit)| view! {
                                            <div class=if hit { "bg-rose-700/60" } else { "" }><span class="select-none pr-2 text-slate-500">{format!("{n:>4}")}</span>{line}</div>
                                        }).collect_view()}
                                    </pre>
                                })}
                            </li>
                        }).collect_view()}
                    </ol>
                </div>
            }).collect_view()}
            {(!e.breadcrumbs.is_empty()).then(|| view! {
                {section("Breadcrumbs")}
                <ol class="space-y-0.5 text-xs" data-testid="breadcrumbs">
                    {e.breadcrumbs.clone().into_iter().map(|(t, cat, msg, level)| view! {
                        <li class="flex gap-2"><span class="w-16 shrink-0 tabular-nums text-slate-500">{t.map(format_duration).unwrap_or_default()}</span>
                            <span class="shrink-0 text-slate-500">{cat}</span><span class="break-words" dir="auto">{clip(msg)}</span><span class="text-slate-400">{level}</span></li>
                    }).collect_view()}
                </ol>
            })}
            {(!e.tags.is_empty()).then(|| view! { {section("Tags")} {kv_table(e.tags.clone(), "event-tags")} })}
            {hidden_note(e.hidden.clone())}
        </div>
    }
}

/// Sets what follows the shown detail: the Markdown to copy and the breadcrumbs on the axis.
fn follow_detail(ctx: TraceCtx, d: &Detail) {
    match d {
        Detail::Event(e) => {
            ctx.markdown.set(e.markdown.clone());
            ctx.breadcrumbs.set(
                e.breadcrumbs
                    .iter()
                    .filter_map(|(t, cat, msg, _)| t.map(|t| (t, format!("{cat}: {msg}"))))
                    .collect(),
            );
        }
        Detail::Span(s) => {
            ctx.markdown.set(format!(
                "**{}** `{}` ({})\n\n- Span: `{}` in trace `{}`\n- Started {}, took {}\n- Path: {}\n",
                s.service,
                s.name,
                s.status,
                s.span_id,
                ctx.view.with_value(|v| v.trace_id.clone()),
                s.start,
                format_duration(i64::try_from(s.duration_ns).unwrap_or(0)),
                s.path.join(" → "),
            ));
            ctx.breadcrumbs.set(Vec::new());
        }
        Detail::Nothing => {
            ctx.markdown.set(String::new());
            ctx.breadcrumbs.set(Vec::new());
        }
    }
}
