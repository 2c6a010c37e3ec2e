//! The Sentry Web API connector (server only, read-only): issues, events, id resolution and the errors of
//! one trace, as domain [`ErrorEvent`]s with `issue_id`, `short_id`, `project` and `sentry_url` set.
//!
//! [`SentryClient`] talks to sentry.io (`us`/`de` region hosts) or a self-hosted Sentry with a bearer token
//! that needs `org:read`, `project:read` and `event:read`. It follows `Link` pagination only when
//! `results="true"`, honours `X-Sentry-Rate-Limit-*` (a short 429 window is waited out, a long one is a
//! clear error), caches issue lists briefly and events for long, and shares one upstream call between
//! concurrent identical requests. Full events are decoded by
//! [`crate::connectors::formats::decode_sentry_web_event`].

mod error;
mod linked;
pub mod query;

pub use linked::LinkedEvents;
mod transport;
mod wire;

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use reqwest::Url;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use error::SentryError;
use transport::{CacheClass, Transport};
use wire::{DiscoverPage, EventIdHeadWire, IndexWire, IssueWire, OrgWire, ShortIdWire, TraceError};

use crate::connectors::formats::decode_sentry_web_event;
use crate::domain::{event_id_lenient, ErrorEvent, EventId, SpanId, TraceContext, TraceId};

/// `[sentry]`: the Sentry Web API.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SentrySettings {
    /// Base URL, e.g. `https://sentry.io` or `https://de.sentry.io` or a self-hosted URL.
    pub url: Option<String>,
    /// Organization slug.
    pub org: Option<String>,
    /// Auth token (prefer `SENTRY_AUTH_TOKEN`).
    pub token: Option<SecretString>,
    /// Per-request timeout in seconds (default 20).
    pub timeout_secs: Option<u64>,
    /// Longest wait, in seconds, for a Sentry rate-limit window to reset before a request fails with
    /// "Sentry rate limit, retry in N s" instead (default 5).
    pub max_rate_limit_wait_secs: Option<u64>,
    /// How far back the errors of a trace are searched, as a Sentry `statsPeriod` such as `14d` or `90d`
    /// (default `30d`).
    pub trace_stats_period: Option<String>,
}

/// Scopes a read-only tracepin token needs.
pub const REQUIRED_SCOPES: [&str; 3] = ["org:read", "project:read", "event:read"];

/// Most pages followed when listing the errors of one trace (100 rows each).
const MAX_TRACE_PAGES: usize = 10;

/// The tag that carries an OpenTelemetry trace id on events of apps that link by hand.
pub const OTEL_TRACE_ID_TAG: &str = "otel.trace_id";

/// How to reach one Sentry organization.
#[derive(Debug, Clone)]
pub struct SentryConfig {
    /// `https://sentry.io`, a region (`us`, `de`, or `https://de.sentry.io`) or a self-hosted base URL.
    pub base_url: String,
    /// Organization slug.
    pub org: String,
    /// Auth token (internal integration or personal token).
    pub token: SecretString,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Longest wait for a rate-limit window to reset before failing instead.
    pub max_rate_limit_wait: Duration,
    /// How long issue lists, issues and trace lookups are cached.
    pub list_cache_ttl: Duration,
    /// How long full events are cached (they are immutable).
    pub event_cache_ttl: Duration,
    /// Largest response body accepted.
    pub max_body_bytes: usize,
    /// Full events fetched at once for one trace.
    pub concurrency: usize,
    /// `statsPeriod` of the trace lookup (Sentry's retention; e.g. `30d`, `90d`).
    pub trace_stats_period: String,
}

impl SentrySettings {
    /// The client these settings describe: `None` unless url, org and token are all known; an error
    /// sentence when the URL is unusable.
    pub fn client(&self) -> Option<Result<SentryClient, String>> {
        use secrecy::ExposeSecret;
        let (Some(url), Some(org), Some(token)) = (&self.url, &self.org, &self.token) else {
            return None;
        };
        let mut c = SentryConfig::new(
            url.clone(),
            org.clone(),
            SecretString::from(token.expose_secret().to_owned()),
        );
        if let Some(t) = self.timeout_secs {
            c.timeout = Duration::from_secs(t);
        }
        if let Some(w) = self.max_rate_limit_wait_secs {
            c.max_rate_limit_wait = Duration::from_secs(w);
        }
        if let Some(p) = &self.trace_stats_period {
            c.trace_stats_period = p.clone();
        }
        Some(SentryClient::new(c).map_err(|e| e.to_string()))
    }
}

impl SentryConfig {
    /// A configuration with tracepin's defaults: 20 s timeout, 5 s rate-limit wait, 30 s list cache,
    /// 24 h event cache, 32 MiB body cap, 8 concurrent event fetches, 30 days of trace lookback.
    pub fn new(base_url: impl Into<String>, org: impl Into<String>, token: SecretString) -> Self {
        SentryConfig {
            base_url: base_url.into(),
            org: org.into(),
            token,
            timeout: Duration::from_secs(20),
            max_rate_limit_wait: Duration::from_secs(5),
            list_cache_ttl: Duration::from_secs(30),
            event_cache_ttl: Duration::from_secs(24 * 3600),
            max_body_bytes: 32 << 20,
            concurrency: 8,
            trace_stats_period: "30d".to_owned(),
        }
    }
}

/// Normalizes a configured base URL: `sentry.io`, `us`, `de`, a region host or a self-hosted URL, with or
/// without a trailing `/` or `/api/0`.
pub fn normalize_base_url(raw: &str) -> Result<Url, SentryError> {
    let raw = raw.trim();
    let full = match raw {
        "" => return Err(SentryError::Config("the Sentry base URL is empty".into())),
        "us" | "de" => format!("https://{raw}.sentry.io"),
        "sentry.io" => "https://sentry.io".to_owned(),
        s if s.contains("://") => s.to_owned(),
        s => format!("https://{s}"),
    };
    let trimmed = full.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/api/0").unwrap_or(trimmed);
    let url = Url::parse(trimmed).map_err(|e| {
        SentryError::Config(format!("the Sentry base URL {raw:?} is not a URL: {e}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(SentryError::Config(format!(
            "the Sentry base URL {raw:?} must be http(s)://host"
        )));
    }
    Ok(url)
}

fn is_saas(base: &Url) -> bool {
    base.host_str()
        .is_some_and(|h| h == "sentry.io" || h.ends_with(".sentry.io"))
}

/// Where Sentry's web UI lives for a base URL (`https://sentry.io` for the SaaS regions).
pub(crate) fn ui_base(base: &Url) -> String {
    if is_saas(base) {
        "https://sentry.io".to_owned()
    } else {
        base.as_str().trim_end_matches('/').to_owned()
    }
}

/// One page of a paginated list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Issue sort orders of `GET /organizations/{org}/issues/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueSort {
    /// Last seen (Sentry's default).
    Date,
    /// Event count.
    Freq,
    /// Date added to the inbox.
    Inbox,
    /// First seen.
    New,
    /// Sentry's recommendation.
    Recommended,
    /// Trending.
    Trends,
    /// Users affected.
    User,
}

impl IssueSort {
    /// The `sort` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueSort::Date => "date",
            IssueSort::Freq => "freq",
            IssueSort::Inbox => "inbox",
            IssueSort::New => "new",
            IssueSort::Recommended => "recommended",
            IssueSort::Trends => "trends",
            IssueSort::User => "user",
        }
    }
}

/// Filters of an issue list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueQuery {
    /// Sentry search (`is:unresolved` when `None`; `Some("")` for all issues).
    pub query: Option<String>,
    /// `statsPeriod`, e.g. `24h`, `14d` (overrides start/end).
    pub stats_period: Option<String>,
    /// Range start.
    pub start: Option<DateTime<Utc>>,
    /// Range end.
    pub end: Option<DateTime<Utc>>,
    /// Numeric project ids (empty: all). Sentry rejects slugs here; see [`SentryClient::projects`].
    pub project: Vec<String>,
    /// Environments (empty: all).
    pub environment: Vec<String>,
    /// Sort order.
    pub sort: Option<IssueSort>,
    /// Page size (Sentry's maximum is 100).
    pub limit: Option<u32>,
    /// Cursor from a previous [`Page::next_cursor`].
    pub cursor: Option<String>,
}

/// An issue as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueSummary {
    /// Numeric issue (group) id.
    pub id: String,
    /// Short id, e.g. `SHOP-12`.
    pub short_id: String,
    /// Title.
    pub title: String,
    /// Culprit (transaction or function).
    pub culprit: Option<String>,
    /// Level.
    pub level: String,
    /// Project slug.
    pub project: String,
    /// Events in the issue.
    pub count: u64,
    /// Users affected.
    pub user_count: u64,
    /// First seen.
    pub first_seen: Option<DateTime<Utc>>,
    /// Last seen.
    pub last_seen: Option<DateTime<Utc>>,
    /// Link to the issue in Sentry.
    pub permalink: String,
}

/// The result of [`SentryClient::check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatus {
    /// The token's scopes, when Sentry reports them (the API index).
    pub scopes: Option<Vec<String>>,
    /// The organization's display name.
    pub org_name: Option<String>,
}

/// How the errors of a trace were found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceLookup {
    /// `GET /organizations/{org}/events/?dataset=errors&query=trace:<id>`.
    EventsQuery,
    /// `GET /organizations/{org}/trace/<id>/`, after the events query was rejected.
    TraceEndpoint,
}

/// The errors of one trace and how they were found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvents {
    /// Full events, oldest first.
    pub events: Vec<ErrorEvent>,
    /// The endpoint that listed them.
    pub via: TraceLookup,
    /// Searches that failed while others answered (the events found are still returned).
    pub notices: Vec<String>,
}

/// What is known about an event before fetching it in full.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventRef {
    event_id: String,
    project: Option<String>,
    issue_id: Option<String>,
    short_id: Option<String>,
    span: Option<String>,
}

impl From<TraceError> for EventRef {
    fn from(e: TraceError) -> Self {
        EventRef {
            event_id: e.event_id,
            project: e.project,
            issue_id: e.issue_id,
            short_id: e.short_id,
            span: e.span,
        }
    }
}

/// `trace.span` as Sentry's Discover returns it (a UInt64 in hex that may lack leading zeros).
fn padded_span(raw: &str) -> Option<SpanId> {
    let s = raw.trim().to_ascii_lowercase();
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    format!("{s:0>16}").parse().ok()
}

fn issue_id_segment(raw: &str) -> Result<&str, SentryError> {
    let s = raw.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(SentryError::Config(format!(
            "{raw:?} is not a numeric Sentry issue id"
        )))
    }
}

fn decode<T: serde::de::DeserializeOwned>(path: &str, body: &[u8]) -> Result<T, SentryError> {
    serde_json::from_slice(body).map_err(|e| SentryError::Decode {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn decode_event(path: &str, body: &[u8]) -> Result<ErrorEvent, SentryError> {
    let mut event = decode_sentry_web_event(body).map_err(|e| SentryError::Decode {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    crate::domain::limits::cap_event(&mut event);
    Ok(event)
}

/// A read-only client for one Sentry organization.
pub struct SentryClient {
    transport: Transport,
    org: String,
    concurrency: usize,
    trace_stats_period: String,
}

impl std::fmt::Debug for SentryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentryClient")
            .field("base", &self.transport.base().as_str())
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl SentryClient {
    /// Builds a client; fails on an unusable base URL or org slug.
    pub fn new(config: SentryConfig) -> Result<Self, SentryError> {
        let base = normalize_base_url(&config.base_url)?;
        let org = config.org.trim().to_owned();
        if org.is_empty()
            || !org
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(SentryError::Config(format!(
                "{:?} is not a Sentry organization slug",
                config.org
            )));
        }
        let period = config.trace_stats_period.trim();
        let valid_period = period.len() >= 2
            && period[..period.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_digit())
            && period.ends_with(['s', 'm', 'h', 'd', 'w']);
        if !valid_period {
            return Err(SentryError::Config(format!(
                "{:?} is not a Sentry statsPeriod (e.g. `14d`, `90d`, `24h`)",
                config.trace_stats_period
            )));
        }
        Ok(SentryClient {
            transport: Transport::new(&config, base)?,
            org,
            concurrency: config.concurrency.max(1),
            trace_stats_period: period.to_owned(),
        })
    }

    /// The normalized base URL.
    pub fn base_url(&self) -> &str {
        self.transport.base().as_str()
    }

    /// The organization slug.
    pub fn org(&self) -> &str {
        &self.org
    }

    /// Upstream requests sent so far (cache hits and shared calls are not counted).
    pub fn requests_sent(&self) -> u64 {
        self.transport.requests_sent()
    }

    /// Where a person creates a token for this Sentry.
    pub fn token_url(&self) -> String {
        self.transport.token_url()
    }

    /// Base of the org's pages in Sentry's UI.
    /// The organization's web UI base (`https://acme.sentry.io`, or `{base}/organizations/acme`).
    pub fn org_ui(&self) -> String {
        if is_saas(self.transport.base()) {
            format!("https://{}.sentry.io", self.org)
        } else {
            format!(
                "{}/organizations/{}",
                ui_base(self.transport.base()),
                self.org
            )
        }
    }

    fn issue_permalink(&self, issue_id: &str) -> String {
        format!("{}/issues/{issue_id}/", self.org_ui())
    }

    /// Fills `issue_id`, `short_id`, `project` (when missing) and `sentry_url`.
    fn decorate(
        &self,
        mut ev: ErrorEvent,
        issue_id: Option<&str>,
        short_id: Option<&str>,
        project: Option<&str>,
        permalink: Option<&str>,
    ) -> ErrorEvent {
        if ev.issue_id.is_none() {
            ev.issue_id = issue_id.map(str::to_owned);
        }
        if ev.short_id.is_none() {
            ev.short_id = short_id.map(str::to_owned);
        }
        if ev
            .project
            .as_deref()
            .is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()))
        {
            if let Some(p) = project {
                ev.project = Some(p.to_owned());
            }
        }
        let eid = ev.event_id.map(|e| e.to_hex());
        ev.sentry_url = match (ev.issue_id.as_deref(), eid) {
            (Some(issue), Some(eid)) => {
                let base = permalink
                    .map(|p| format!("{}/", p.trim_end_matches('/')))
                    .unwrap_or_else(|| self.issue_permalink(issue));
                Some(format!("{base}events/{eid}/"))
            }
            (Some(issue), None) => Some(
                permalink
                    .map(str::to_owned)
                    .unwrap_or_else(|| self.issue_permalink(issue)),
            ),
            (None, Some(eid)) => ev
                .project
                .as_deref()
                .map(|p| format!("{}/discover/{p}:{eid}/", self.org_ui())),
            (None, None) => None,
        };
        ev
    }

    fn summary(&self, path: &str, w: IssueWire) -> Result<IssueSummary, SentryError> {
        let id = w.id.0.ok_or_else(|| SentryError::Decode {
            path: path.to_owned(),
            message: "an issue without an id".into(),
        })?;
        let project = w.project.unwrap_or_default();
        Ok(IssueSummary {
            permalink: w
                .permalink
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| self.issue_permalink(&id)),
            short_id: w.short_id.unwrap_or_else(|| id.clone()),
            title: w.title.unwrap_or_default(),
            culprit: w.culprit.filter(|c| !c.is_empty()),
            level: w.level.unwrap_or_else(|| "error".to_owned()),
            project: project.slug.or(project.id.0).unwrap_or_default(),
            count: w.count.0.and_then(|c| c.parse().ok()).unwrap_or(0),
            user_count: w.user_count.0.and_then(|c| c.parse().ok()).unwrap_or(0),
            first_seen: w.first_seen,
            last_seen: w.last_seen,
            id,
        })
    }

    /// `GET /organizations/{org}/issues/`: one page of issues (cached ~30 s).
    pub async fn list_issues(&self, q: &IssueQuery) -> Result<Page<IssueSummary>, SentryError> {
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &q.query {
            query.push(("query", s.clone()));
        }
        if let Some(p) = &q.stats_period {
            query.push(("statsPeriod", p.clone()));
        }
        if let Some(s) = q.start {
            query.push((
                "start",
                s.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ));
        }
        if let Some(e) = q.end {
            query.push(("end", e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        }
        query.extend(q.project.iter().map(|p| ("project", p.clone())));
        query.extend(q.environment.iter().map(|e| ("environment", e.clone())));
        if let Some(s) = q.sort {
            query.push(("sort", s.as_str().to_owned()));
        }
        if let Some(l) = q.limit {
            query.push(("limit", l.clamp(1, 100).to_string()));
        }
        if let Some(c) = &q.cursor {
            query.push(("cursor", c.clone()));
        }
        let url = self
            .transport
            .url(&["organizations", &self.org, "issues"], &query)?;
        let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
        let list: Vec<IssueWire> = decode(url.path(), &raw.body)?;
        let items = list
            .into_iter()
            .map(|w| self.summary(url.path(), w))
            .collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            next_cursor: raw.next_cursor.clone(),
        })
    }

    /// `GET /organizations/{org}/projects/`: the organization's projects as (numeric id, slug), sorted by
    /// slug (every page, up to 1,000 projects; cached like lists). The issue list filters by numeric id;
    /// people type slugs.
    pub async fn projects(&self) -> Result<Vec<(String, String)>, SentryError> {
        let mut out: Vec<(String, String)> = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let mut query = vec![("per_page", "100".to_owned())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let url = self
                .transport
                .url(&["organizations", &self.org, "projects"], &query)?;
            let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
            let list: Vec<wire::IssueProjectWire> = decode(url.path(), &raw.body)?;
            out.extend(list.into_iter().filter_map(|p| Some((p.id.0?, p.slug?))));
            match &raw.next_cursor {
                Some(c) => cursor = Some(c.clone()),
                None => break,
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out.dedup();
        Ok(out)
    }

    /// One issue by numeric id or short id (`SHOP-12`).
    pub async fn issue(&self, id_or_short_id: &str) -> Result<IssueSummary, SentryError> {
        let s = id_or_short_id.trim();
        if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
            let url = self
                .transport
                .url(&["organizations", &self.org, "issues", s], &[])?;
            let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
            let w: IssueWire = decode(url.path(), &raw.body)?;
            self.summary(url.path(), w)
        } else {
            let url = self
                .transport
                .url(&["organizations", &self.org, "shortids", s], &[])?;
            self.resolve_short_id(s)
                .await?
                .ok_or_else(|| SentryError::NotFound {
                    path: url.path().to_owned(),
                    detail: "\"no such short id\"".into(),
                })
        }
    }

    /// `GET /organizations/{org}/shortids/{short_id}/`: the issue behind a short id, `None` on 404.
    pub async fn resolve_short_id(
        &self,
        short_id: &str,
    ) -> Result<Option<IssueSummary>, SentryError> {
        let short = short_id.trim();
        if short.is_empty() {
            return Err(SentryError::Config("an empty short id".into()));
        }
        let url = self
            .transport
            .url(&["organizations", &self.org, "shortids", short], &[])?;
        let raw = match self.transport.get(url.clone(), CacheClass::Short).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let w: ShortIdWire = decode(url.path(), &raw.body)?;
        let mut group = w.group.unwrap_or_default();
        if group.id.0.is_none() {
            group.id = w.group_id;
        }
        if group.short_id.is_none() {
            group.short_id = w.short_id;
        }
        if group.project.as_ref().is_none_or(|p| p.slug.is_none()) {
            group.project = Some(wire::IssueProjectWire {
                id: wire::Loose(None),
                slug: w.project_slug,
            });
        }
        self.summary(url.path(), group).map(Some)
    }

    /// `GET /organizations/{org}/issues/{id}/events/latest/`: the newest event of an issue, with the
    /// issue's short id and permalink.
    pub async fn latest_event(&self, issue_id: &str) -> Result<ErrorEvent, SentryError> {
        let id = issue_id_segment(issue_id)?;
        let ev = self.fetch_latest_event(id).await?;
        let issue = match self.issue(id).await {
            Ok(i) => Some(i),
            Err(e) => {
                tracing::warn!(error = %e, "Sentry issue details unavailable; the event link is built without them");
                None
            }
        };
        Ok(self.decorate(
            ev,
            Some(id),
            issue.as_ref().map(|i| i.short_id.as_str()),
            issue.as_ref().map(|i| i.project.as_str()),
            issue.as_ref().map(|i| i.permalink.as_str()),
        ))
    }

    /// The newest event of an issue without the issue's details (one request; for lists that already
    /// have them).
    pub async fn latest_event_only(&self, issue_id: &str) -> Result<ErrorEvent, SentryError> {
        let id = issue_id_segment(issue_id)?;
        let ev = self.fetch_latest_event(id).await?;
        Ok(self.decorate(ev, Some(id), None, None, None))
    }

    async fn fetch_latest_event(&self, id: &str) -> Result<ErrorEvent, SentryError> {
        let url = self.transport.url(
            &["organizations", &self.org, "issues", id, "events", "latest"],
            &[],
        )?;
        let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
        decode_event(url.path(), &raw.body)
    }

    /// `GET /organizations/{org}/issues/{id}/events/`: one page of an issue's events (slim: no stack
    /// traces or breadcrumbs; fetch one with [`Self::project_event`] for the full event).
    pub async fn issue_events(
        &self,
        issue_id: &str,
        cursor: Option<&str>,
    ) -> Result<Page<ErrorEvent>, SentryError> {
        let id = issue_id_segment(issue_id)?;
        let mut query = vec![("per_page", "100".to_owned())];
        if let Some(c) = cursor {
            query.push(("cursor", c.to_owned()));
        }
        let url = self.transport.url(
            &["organizations", &self.org, "issues", id, "events"],
            &query,
        )?;
        let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
        let list: Vec<serde_json::Value> = decode(url.path(), &raw.body)?;
        let items = list
            .iter()
            .map(|v| {
                let ev = decode_event(url.path(), v.to_string().as_bytes())?;
                Ok(self.decorate(ev, Some(id), None, None, None))
            })
            .collect::<Result<_, SentryError>>()?;
        Ok(Page {
            items,
            next_cursor: raw.next_cursor.clone(),
        })
    }

    /// `GET /organizations/{org}/eventids/{event_id}/`: the project and full event of an event id,
    /// `None` when the organization has no such event.
    pub async fn resolve_event_id(
        &self,
        event_id: EventId,
    ) -> Result<Option<(String, ErrorEvent)>, SentryError> {
        let eid = event_id.to_hex();
        let url = self
            .transport
            .url(&["organizations", &self.org, "eventids", &eid], &[])?;
        let raw = match self.transport.get(url.clone(), CacheClass::Long).await {
            Ok(r) => r,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let head: EventIdHeadWire = decode(url.path(), &raw.body)?;
        let ev = decode_event(url.path(), &raw.body)?;
        let project = head
            .project_slug
            .or_else(|| ev.project.clone())
            .unwrap_or_default();
        let ev = self.decorate(ev, head.group_id.0.as_deref(), None, Some(&project), None);
        Ok(Some((project, ev)))
    }

    /// `GET /projects/{org}/{project}/events/{event_id}/`: one full event (cached for long).
    pub async fn project_event(
        &self,
        project: &str,
        event_id: EventId,
    ) -> Result<ErrorEvent, SentryError> {
        let eid = event_id.to_hex();
        let url = self.transport.url(
            &["projects", &self.org, project.trim(), "events", &eid],
            &[],
        )?;
        let raw = self.transport.get(url.clone(), CacheClass::Long).await?;
        let ev = decode_event(url.path(), &raw.body)?;
        Ok(self.decorate(ev, None, None, Some(project.trim()), None))
    }

    /// The full error events of one trace, oldest first. See [`Self::events_for_trace_detailed`].
    pub async fn events_for_trace(
        &self,
        trace_id: TraceId,
    ) -> Result<Vec<ErrorEvent>, SentryError> {
        Ok(self.events_for_trace_detailed(trace_id).await?.events)
    }

    /// The full error events of one trace and how they were found: the events endpoint with
    /// `dataset=errors&query=trace:<id>` (all pages), or, when this Sentry rejects that query (400/404),
    /// the trace endpoint. Full events are fetched with bounded concurrency; a span id from the listing
    /// (left-padded to 16 digits) fills in an event that has none.
    pub async fn events_for_trace_detailed(
        &self,
        trace: TraceId,
    ) -> Result<TraceEvents, SentryError> {
        let hex = trace.to_hex();
        let by_trace = async {
            match self.trace_refs_from_events(&hex).await {
                Ok(refs) => Ok((refs, TraceLookup::EventsQuery)),
                Err(
                    e @ (SentryError::Status { status: 400, .. } | SentryError::NotFound { .. }),
                ) => {
                    tracing::warn!(trace_id = %hex, error = %e, "Sentry rejected the errors query; using the trace endpoint");
                    Ok((
                        self.trace_refs_from_trace(&hex).await?,
                        TraceLookup::TraceEndpoint,
                    ))
                }
                Err(e) => Err(e),
            }
        };
        // The OpenTelemetry trace id carried as a tag by apps that link by hand (`otel.trace_id`):
        // Sentry files those events under its own trace id, so `trace:` alone misses them.
        let tag_query = query::tag_is(OTEL_TRACE_ID_TAG, &hex).unwrap_or_default();
        let by_tag = self.refs_for_query(&tag_query);
        let (listed, tagged) = futures::join!(by_trace, by_tag);
        let (refs, via) = listed?;
        let mut notices = Vec::new();
        let tagged = match tagged {
            Ok((t, _)) => t,
            Err(e) => {
                tracing::warn!(trace_id = %hex, error = %e, "Sentry search by otel.trace_id tag failed");
                notices.push(format!("Sentry search `{tag_query}` failed: {e}"));
                Vec::new()
            }
        };
        tracing::info!(trace_id = %hex, via = ?via, errors = refs.len(), tagged = tagged.len(), "Sentry errors of a trace listed");
        let mut seen: std::collections::HashSet<String> =
            refs.iter().map(|r| r.event_id.clone()).collect();
        let jobs = refs.into_iter().map(|r| (r, Some(trace))).chain(
            tagged
                .into_iter()
                .filter(|r| seen.insert(r.event_id.clone()))
                .map(|r| (r, None)),
        );
        let mut events: Vec<ErrorEvent> = futures::stream::iter(jobs)
            .map(|(r, t)| self.full_event(r, t))
            .buffer_unordered(self.concurrency)
            .try_filter_map(|ev| async move { Ok(ev) })
            .try_collect()
            .await?;
        events.sort_by(|a, b| {
            (a.timestamp_ns, a.event_id.map(|e| e.to_hex()))
                .cmp(&(b.timestamp_ns, b.event_id.map(|e| e.to_hex())))
        });
        Ok(TraceEvents {
            events,
            via,
            notices,
        })
    }

    async fn trace_refs_from_events(&self, trace_hex: &str) -> Result<Vec<EventRef>, SentryError> {
        let (refs, cut) = self.refs_for_query(&format!("trace:{trace_hex}")).await?;
        if cut {
            tracing::warn!(trace_id = trace_hex, "more than {MAX_TRACE_PAGES} pages of Sentry errors in one trace; the rest is left out");
        }
        Ok(refs)
    }

    /// Which of these traces have Sentry errors (compare mode keeps them out of the healthy
    /// baselines): Discover over `dataset=errors` with `trace:[…]`, then `tags[otel.trace_id]:[…]`
    /// for apps that link by hand, 25 ids a query, one page each (a trace with any error is enough).
    pub async fn traces_with_errors(
        &self,
        ids: &[TraceId],
    ) -> Result<std::collections::HashSet<TraceId>, SentryError> {
        #[derive(serde::Deserialize, Default)]
        #[serde(default)]
        struct Page {
            data: Vec<std::collections::HashMap<String, serde_json::Value>>,
        }
        let mut found = std::collections::HashSet::new();
        let hex: Vec<String> = ids.iter().map(|t| t.to_hex()).collect();
        let otel_field = query::tag_key(OTEL_TRACE_ID_TAG).unwrap_or_default();
        let mut searches: Vec<(String, String)> = query::traces_in_batches(ids.iter().copied())
            .into_iter()
            .map(|q| (q, "trace".to_owned()))
            .collect();
        let (tagged, _) = query::tag_in_batches(OTEL_TRACE_ID_TAG, hex.iter().map(String::as_str));
        searches.extend(tagged.into_iter().map(|q| (q, otel_field.clone())));
        for (search, field) in searches {
            let query = vec![
                ("dataset", "errors".to_owned()),
                ("field", "id".to_owned()),
                ("field", field.clone()),
                ("query", search),
                ("statsPeriod", self.trace_stats_period.clone()),
                ("per_page", "100".to_owned()),
            ];
            let url = self
                .transport
                .url(&["organizations", &self.org, "events"], &query)?;
            let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
            let page: Page = decode(url.path(), &raw.body)?;
            for row in page.data {
                if let Some(t) = row
                    .get(&field)
                    .and_then(|v| v.as_str())
                    .and_then(|v| crate::domain::trace_id_lenient(v).ok())
                {
                    found.insert(t);
                }
            }
        }
        Ok(found)
    }

    /// The errors dataset for one search query, every page up to [`MAX_TRACE_PAGES`] (`true` when
    /// more pages were left out): `GET /organizations/{org}/events/?dataset=errors&query=…`.
    pub(crate) async fn refs_for_query(
        &self,
        search: &str,
    ) -> Result<(Vec<EventRef>, bool), SentryError> {
        let mut refs: Vec<EventRef> = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 0..MAX_TRACE_PAGES {
            let mut query = vec![("dataset", "errors".to_owned())];
            for f in [
                "id",
                "project",
                "trace.span",
                "issue.id",
                "issue",
                "timestamp",
            ] {
                query.push(("field", f.to_owned()));
            }
            query.push(("query", search.to_owned()));
            query.push(("sort", "timestamp".to_owned()));
            query.push(("statsPeriod", self.trace_stats_period.clone()));
            query.push(("per_page", "100".to_owned()));
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let url = self
                .transport
                .url(&["organizations", &self.org, "events"], &query)?;
            let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
            let body: DiscoverPage = decode(url.path(), &raw.body)?;
            for row in body.data {
                let Some(id) = row.id.filter(|i| !i.is_empty()) else {
                    continue;
                };
                if refs.iter().any(|r| r.event_id == id) {
                    continue;
                }
                refs.push(EventRef {
                    event_id: id,
                    project: row.project,
                    issue_id: row.issue_id.0,
                    short_id: row.issue,
                    span: row.trace_span.0,
                });
            }
            match &raw.next_cursor {
                Some(c) if page + 1 < MAX_TRACE_PAGES => cursor = Some(c.clone()),
                Some(_) => return Ok((refs, true)),
                None => break,
            }
        }
        Ok((refs, false))
    }

    async fn trace_refs_from_trace(&self, trace_hex: &str) -> Result<Vec<EventRef>, SentryError> {
        let url = self.transport.url(
            &["organizations", &self.org, "trace", trace_hex],
            &[("statsPeriod", self.trace_stats_period.clone())],
        )?;
        let raw = self.transport.get(url.clone(), CacheClass::Short).await?;
        let v: serde_json::Value = decode(url.path(), &raw.body)?;
        let mut errors = Vec::new();
        wire::trace_errors(&v, &mut errors);
        Ok(errors.into_iter().map(EventRef::from).collect())
    }

    /// Fetches one listed event in full; `None` if Sentry no longer has it.
    ///
    /// `trace` is the trace the event was listed under by `trace:<id>`: it fills a missing trace
    /// context. Events found another way keep what they carry.
    pub(crate) async fn full_event(
        &self,
        r: EventRef,
        trace: Option<TraceId>,
    ) -> Result<Option<ErrorEvent>, SentryError> {
        // Sentry's listings spell event ids in more than one way: read them leniently, here only.
        let Ok(event_id) = event_id_lenient(&r.event_id) else {
            tracing::warn!(event_id = %r.event_id, "a listed Sentry event id is not an event id; skipped");
            return Ok(None);
        };
        let fetched = match r.project.as_deref() {
            Some(p) => self.project_event(p, event_id).await.map(Some),
            None => self
                .resolve_event_id(event_id)
                .await
                .map(|o| o.map(|(_, ev)| ev)),
        };
        let ev = match fetched {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(None),
            Err(e) if e.is_not_found() => {
                tracing::warn!(event_id = %r.event_id, error = %e, "a listed Sentry event is gone");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut ev = self.decorate(
            ev,
            r.issue_id.as_deref(),
            r.short_id.as_deref(),
            r.project.as_deref(),
            None,
        );
        if let (Some(span), Some(trace)) = (r.span.as_deref().and_then(padded_span), trace) {
            let tc = ev.trace_context.get_or_insert_with(TraceContext::default);
            if tc.span_id.is_none() {
                tc.span_id = Some(span);
            }
            if tc.trace_id.is_none() {
                tc.trace_id = Some(trace);
            }
        }
        Ok(Some(ev))
    }

    /// Checks the token for startup and `/readyz`: it is accepted, has `org:read`, `project:read` and
    /// `event:read` (or their write/admin supersets), and can see the organization.
    pub async fn check(&self) -> Result<TokenStatus, SentryError> {
        let url = self.transport.url(&[], &[])?;
        let raw = self.transport.get(url.clone(), CacheClass::None).await?;
        let index: IndexWire = decode(url.path(), &raw.body)?;
        let scopes = index.auth.map(|a| a.scopes);
        if let Some(have) = &scopes {
            let missing: Vec<String> = REQUIRED_SCOPES
                .iter()
                .filter(|req| {
                    let area = req.split(':').next().unwrap_or_default();
                    !["read", "write", "admin"]
                        .iter()
                        .any(|lvl| have.iter().any(|h| *h == format!("{area}:{lvl}")))
                })
                .map(|s| (*s).to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(SentryError::MissingScopes {
                    missing,
                    have: have.clone(),
                    token_url: self.token_url(),
                });
            }
        }
        let url = self.transport.url(&["organizations", &self.org], &[])?;
        let raw = self.transport.get(url.clone(), CacheClass::None).await?;
        let org: OrgWire = decode(url.path(), &raw.body)?;
        Ok(TokenStatus {
            scopes,
            org_name: org.name.or(org.slug),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let n = |s: &str| normalize_base_url(s).map(|u| u.to_string());
        assert_eq!(n("us").as_deref(), Ok("https://us.sentry.io/"));
        assert_eq!(n("de").as_deref(), Ok("https://de.sentry.io/"));
        assert_eq!(n("sentry.io").as_deref(), Ok("https://sentry.io/"));
        assert_eq!(
            n("https://sentry.example.com/api/0/").as_deref(),
            Ok("https://sentry.example.com/")
        );
        assert!(n("").is_err());
        assert!(n("ftp://x").is_err());
    }

    #[test]
    fn span_padding_and_ids() {
        assert_eq!(
            padded_span("1be27e16851934d")
                .map(|s| s.to_hex())
                .as_deref(),
            Some("01be27e16851934d")
        );
        assert_eq!(padded_span("x"), None);
    }

    #[test]
    fn links_point_at_the_org_ui() {
        let c = SentryClient::new(SentryConfig::new("de", "acme", SecretString::from("t")))
            .expect("client");
        assert_eq!(c.issue_permalink("7"), "https://acme.sentry.io/issues/7/");
        assert_eq!(
            c.token_url(),
            "https://sentry.io/settings/account/api/auth-tokens/"
        );
        let s = SentryClient::new(SentryConfig::new(
            "http://sentry.internal:9000/",
            "acme",
            SecretString::from("t"),
        ))
        .expect("client");
        assert_eq!(
            s.issue_permalink("7"),
            "http://sentry.internal:9000/organizations/acme/issues/7/"
        );
    }
}
