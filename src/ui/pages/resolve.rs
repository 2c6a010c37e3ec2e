//! `/lookup?q=…`, `/issue/{id_or_short_id}` and `/event/{event_id}`: pages that lead somewhere.
//!
//! The server resolves the text (see `server::resolve`); a result that names one place redirects there
//! (HTTP 302 when the page is rendered on the server, client navigation otherwise). Everything else is a
//! page: the accepted forms for text that is not an id (400), a choice when an id names both a trace and
//! a Sentry event, where tracepin looked for an id found nowhere (404), or a Sentry event that carries
//! no trace, shown alone with the reason.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::{get_event_link, get_issue, get_lookup};
use crate::domain::event_id_lenient;
use crate::ui::components::detail::EventView;
use crate::ui::components::safe_url;
use crate::view::types::{LookupChoice, LookupOutcome, LookupPage};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lookup,
    Issue,
    Event,
}

/// `/lookup?q=…`.
#[component]
pub fn LookupRoute() -> impl IntoView {
    resolve_page(Kind::Lookup)
}

/// `/issue/{id_or_short_id}`.
#[component]
pub fn IssueRoute() -> impl IntoView {
    resolve_page(Kind::Issue)
}

/// `/event/{event_id}`.
#[component]
pub fn EventRoute() -> impl IntoView {
    resolve_page(Kind::Event)
}

fn resolve_page(kind: Kind) -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let key = move || match kind {
        Kind::Lookup => query.with(|q| q.get("q").unwrap_or_default()),
        Kind::Issue | Kind::Event => params.with(|p| p.get("id").unwrap_or_default()),
    };
    let res = Resource::new(key, move |k| async move {
        match kind {
            Kind::Lookup => get_lookup(k).await,
            Kind::Issue => get_issue(k).await,
            // The one lenient id parser, at the edge; the server function takes an `EventId`.
            Kind::Event => match event_id_lenient(&k) {
                Ok(id) => get_event_link(id).await,
                Err(_) => Ok(LookupPage {
                    outcome: LookupOutcome::unrecognised(format!(
                        "`{}` is not a Sentry event id: 32 hex digits, dashes allowed.",
                        k.chars().take(80).collect::<String>()
                    )),
                    query: k,
                    form: Some("tracepin event link".to_owned()),
                }),
            },
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Looking it up…"</p> }>
            {move || res.get().map(|r| match r {
                Ok(page) => view! { <Outcome page/> }.into_any(),
                Err(e) => view! { <Failure message=e.to_string() looked_in=Vec::new()/> }.into_any(),
            })}
        </Suspense>
    }
}

#[cfg(feature = "ssr")]
fn set_status(code: u16) {
    if let (Some(r), Ok(s)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        r.set_status(s);
    }
}

#[cfg(not(feature = "ssr"))]
fn set_status(_code: u16) {}

#[component]
fn Failure(message: String, looked_in: Vec<String>) -> impl IntoView {
    set_status(502);
    let places = (!looked_in.is_empty()).then(|| {
        view! {
            <p class="mt-3 text-sm font-semibold">"Where tracepin looked"</p>
            <ul class="mt-1 list-disc pl-5 text-sm" data-testid="lookup-failed-looked-in">
                {looked_in.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ul>
        }
    });
    view! {
        <section class="mx-auto max-w-3xl" data-testid="lookup-result">
            <div role="alert" data-testid="lookup-failed" class="rounded-md border border-rose-300 bg-rose-50 p-4 text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
                <p class="font-semibold">"The lookup could not finish"</p>
                <p class="mt-1 text-sm">{message}</p>
                {places}
                <p class="mt-2 text-sm">"Nothing was lost: the text is still in the box above. Try again in a moment."</p>
            </div>
        </section>
    }
}

#[component]
fn Outcome(page: LookupPage) -> impl IntoView {
    let LookupPage {
        query,
        form,
        outcome,
    } = page;
    let form_line = form.map(|f| {
        view! {
            <p class="text-xs text-slate-500" data-testid="lookup-form">"Recognised as: " {f}</p>
        }
    });
    let body = match outcome {
        LookupOutcome::Go { url } => view! { <Go url/> }.into_any(),
        LookupOutcome::Unrecognised { message, accepted } => {
            set_status(400);
            view! { <Unrecognised query message accepted/> }.into_any()
        }
        LookupOutcome::Choices { id, choices } => view! { <Choices id choices/> }.into_any(),
        LookupOutcome::NotFound {
            what,
            looked_in,
            suggestions,
        } => {
            set_status(404);
            view! { <NotFoundAnywhere what looked_in suggestions/> }.into_any()
        }
        LookupOutcome::EventAlone {
            issue,
            event,
            reason,
        } => view! { <EventAlone issue event=*event reason/> }.into_any(),
        LookupOutcome::Failed { message, looked_in } => {
            view! { <Failure message looked_in/> }.into_any()
        }
    };
    view! {
        <section class="mx-auto max-w-3xl space-y-3" data-testid="lookup-result">
            {form_line}
            {body}
        </section>
    }
}

#[component]
fn Go(url: String) -> impl IntoView {
    // Only tracepin's own paths are followed.
    let url = if url.starts_with('/') && !url.starts_with("//") {
        url
    } else {
        "/".to_owned()
    };
    // Rendered on the server (a pasted id, a shared link): a real redirect.
    #[cfg(feature = "ssr")]
    if let (Some(r), Ok(v)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(&url),
    ) {
        r.set_status(axum::http::StatusCode::FOUND);
        r.insert_header(axum::http::header::LOCATION, v);
    }
    let navigate = use_navigate();
    let target = url.clone();
    Effect::new(move |_| {
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..NavigateOptions::default()
            },
        );
    });
    view! {
        <p data-testid="lookup-go">"Opening " <a class="text-sky-700 underline dark:text-sky-400" href=url.clone()>{url.clone()}</a> "…"</p>
    }
}

#[component]
fn Unrecognised(query: String, message: String, accepted: Vec<(String, String)>) -> impl IntoView {
    view! {
        <div role="alert" data-testid="lookup-refused" class="rounded-md border border-amber-300 bg-amber-50 p-4 text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
            <p class="font-semibold">"tracepin did not recognise this"</p>
            <p class="mt-1 break-all font-mono text-xs" data-testid="lookup-query">{query}</p>
            <p class="mt-2 text-sm" data-testid="lookup-message">{message}</p>
        </div>
        <h2 class="pt-2 text-sm font-semibold uppercase tracking-wide text-slate-500">"What the box accepts"</h2>
        <ul class="divide-y divide-slate-100 rounded-lg border border-slate-200 text-sm dark:divide-slate-800 dark:border-slate-800" data-testid="accepted-forms">
            {accepted.into_iter().map(|(f, ex)| view! {
                <li class="flex flex-wrap items-baseline justify-between gap-2 px-3 py-2">
                    <span>{f}</span>
                    <code class="break-all font-mono text-xs text-slate-500">{ex}</code>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn Choices(id: String, choices: Vec<LookupChoice>) -> impl IntoView {
    view! {
        <div data-testid="lookup-choices" class="space-y-3">
            <h1 class="text-lg font-semibold">"This id names more than one thing"</h1>
            <p class="text-sm text-slate-600 dark:text-slate-400">
                <code class="font-mono">{id}</code>
                " is both a trace id in a trace backend and a Sentry event id. Which one did you mean?"
            </p>
            <ul class="space-y-2">
                {choices.into_iter().map(|c| {
                    let testid = format!("choice-{}", c.kind);
                    view! {
                        <li>
                            <a href=c.url rel="external" data-testid=testid
                                class="block rounded-lg border border-slate-200 p-3 hover:border-sky-500 hover:bg-sky-50 dark:border-slate-800 dark:hover:bg-sky-950">
                                <span class="block font-medium">{c.title}</span>
                                <span class="block text-xs text-slate-500">{c.detail}</span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn NotFoundAnywhere(
    what: String,
    looked_in: Vec<String>,
    suggestions: Vec<String>,
) -> impl IntoView {
    view! {
        <div data-testid="lookup-not-found" class="space-y-3">
            <h1 class="text-lg font-semibold">"Not found: " {what}</h1>
            <h2 class="text-sm font-semibold uppercase tracking-wide text-slate-500">"Where tracepin looked"</h2>
            <ul class="list-disc space-y-1 pl-5 text-sm">
                {looked_in.into_iter().map(|l| view! { <li data-testid="looked-in">{l}</li> }).collect_view()}
            </ul>
            <h2 class="text-sm font-semibold uppercase tracking-wide text-slate-500">"What to try"</h2>
            <ul class="list-disc space-y-1 pl-5 text-sm">
                {suggestions.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn EventAlone(
    issue: Option<(String, String, Option<String>)>,
    event: crate::view::types::EventDetail,
    reason: String,
) -> impl IntoView {
    view! {
        <div data-testid="event-alone" class="space-y-3">
            {issue.map(|(short, title, link)| view! {
                <p class="text-sm text-slate-600 dark:text-slate-400" data-testid="event-issue">
                    "Issue " <span class="font-mono font-semibold">{short}</span> ": " {title}
                    {link.and_then(|l| safe_url(&l)).map(|l| view! {
                        " · " <a class="text-sky-700 underline dark:text-sky-400" href=l target="_blank" rel="noopener noreferrer">"Open in Sentry"</a>
                    })}
                </p>
            })}
            <div role="note" data-testid="no-trace-reason" class="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-950 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100">
                <span class="font-semibold">"Not on a trace: "</span>
                {reason}
                " The event is shown alone."
            </div>
            <div class="rounded-lg border border-slate-200 p-4 dark:border-slate-800">
                <EventView e=event/>
            </div>
        </div>
    }
}
