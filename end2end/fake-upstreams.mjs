#!/usr/bin/env node
// Fake upstreams for tracepin's end-to-end tests: one HTTP server that answers as a Grafana Tempo and as
// the Sentry Web API of the organization `acme`, from the data in end2end/fixtures/upstream/ (see the
// README there). No dependencies: Node 20's standard library only.
//
//   node end2end/fake-upstreams.mjs --port 3125 [--host 127.0.0.1] [--token e2e-token] [--fixtures DIR]
//
// Tempo:
//   GET /api/echo                 "echo"
//   GET /api/v2/traces/{id}       {"trace": <OTLP JSON>}, or 404 "trace not found"
//   GET /api/search?q=&limit=     TraceQL search: every trace, or with `status = error` in q only those
//                                 with an error span; start/end are ignored (the fixture never ages)
// Sentry (every /api/0/ request needs `Authorization: Bearer <token>`; with --token only that one):
//   GET /api/0/                                            API index with the token's scopes
//   GET /api/0/organizations/{org}/                        the organization
//   GET /api/0/organizations/{org}/projects/               its projects
//   GET /api/0/organizations/{org}/issues/                 issues: query, project (numeric ids), projectSlug,
//                                                          environment, statsPeriod/start/end, sort, limit, cursor
//   GET /api/0/organizations/{org}/issues/{id}/            one issue (numeric id or short id)
//   GET /api/0/organizations/{org}/issues/{id}/events/     its events, newest first (full=true: full events)
//   GET /api/0/organizations/{org}/issues/{id}/events/{latest|oldest|recommended|<event id>}/
//   GET /api/0/organizations/{org}/shortids/{short id}/    {organizationSlug, projectSlug, groupId, shortId, group}
//   GET /api/0/organizations/{org}/eventids/{event id}/    {organizationSlug, projectSlug, groupId, eventId, event}
//   GET /api/0/organizations/{org}/events/?dataset=errors&field=…&query=trace:<id>   Discover rows
//   GET /api/0/projects/{org}/{project}/events/{event id}/ one full event
// Anything else is a 404 (`{"detail": …}` under /api/0/). Each request is logged to stderr.
//
// Time: the fake's clock is the fixture's `now` (sentry.json), so `statsPeriod=24h` always means the same
// issues. Cursors are `0:<offset>:<is_prev>` with an absolute offset; lists carry Sentry's `Link` header
// (`rel="previous"` and `rel="next"` with `results` and `cursor`).

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opts = { port: null, host: "127.0.0.1", token: null, fixtures: path.join(here, "fixtures", "upstream") };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case "--port":
        opts.port = Number(value());
        break;
      case "--host":
        opts.host = value();
        break;
      case "--token":
        opts.token = value();
        break;
      case "--fixtures":
        opts.fixtures = path.resolve(value());
        break;
      case "--help":
      case "-h":
        console.log("usage: node end2end/fake-upstreams.mjs --port N [--host 127.0.0.1] [--token T] [--fixtures DIR]");
        process.exit(0);
      default:
        console.error(`fake-upstreams: unknown argument ${argv[i]}`);
        process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port <= 0 || opts.port > 65535) {
    console.error("fake-upstreams: --port N is required");
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ------------------------------------------------------------------------------------------------ data

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const sentry = readJson(path.join(opts.fixtures, "sentry.json"));
const traces = new Map();
for (const name of fs.readdirSync(path.join(opts.fixtures, "tempo")).sort()) {
  if (name.endsWith(".json")) traces.set(name.slice(0, -5), readJson(path.join(opts.fixtures, "tempo", name)));
}
const NOW = Date.parse(sentry.now);
const ORG = sentry.org.slug;
const SCOPES = ["org:read", "project:read", "event:read"];

const issueById = new Map(sentry.issues.map((i) => [i.id, i]));
const issueByShortId = new Map(sentry.issues.map((i) => [i.shortId.toUpperCase(), i]));
const eventById = new Map(sentry.events.map((e) => [e.eventID, e]));
// Each issue's events, newest first.
const eventsOf = new Map(sentry.issues.map((i) => [i.id, []]));
for (const e of sentry.events) eventsOf.get(e.groupID).push(e);
for (const list of eventsOf.values()) list.sort((a, b) => Date.parse(b.dateCreated) - Date.parse(a.dateCreated));
const projectById = new Map(sentry.projects.map((p) => [p.id, p]));
const projectBySlug = new Map(sentry.projects.map((p) => [p.slug, p]));
const environments = new Set(sentry.events.map((e) => tag(e, "environment")).filter(Boolean));

function tag(event, key) {
  return (event.tags ?? []).find((t) => t.key === key)?.value ?? null;
}

// -------------------------------------------------------------------------------------------- answers

class HttpError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}
const notFound = (what = "The requested resource does not exist") => new HttpError(404, what);
const badRequest = (detail) => new HttpError(400, detail);

function send(res, status, body, headers = {}) {
  const json = typeof body !== "string";
  const text = json ? JSON.stringify(body) : body;
  res.writeHead(status, {
    "content-type": json ? "application/json" : "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

// ---------------------------------------------------------------------------------------------- Tempo

function tempo(res, url) {
  const p = url.pathname;
  if (p === "/api/echo") return send(res, 200, "echo");
  const m = p.match(/^\/api\/v2\/traces\/([^/]+)$/);
  if (m) {
    const raw = decodeURIComponent(m[1]).toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(raw)) return send(res, 400, `invalid trace id: ${raw}`);
    const trace = traces.get(raw.padStart(32, "0"));
    if (!trace) return send(res, 404, "trace not found");
    return send(res, 200, { trace });
  }
  if (p === "/api/search") return send(res, 200, search(url.searchParams));
  return send(res, 404, "404 page not found");
}

function search(params) {
  const onlyErrors = /status\s*=\s*error/.test(params.get("q") ?? "");
  const limit = Number(params.get("limit") ?? 20) || 20;
  const rows = [];
  for (const [traceID, trace] of traces) {
    const spans = trace.resourceSpans.flatMap((rs) => {
      const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue;
      return rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, service })));
    });
    const errors = spans.filter((s) => s.status?.code === 2);
    if (onlyErrors && errors.length === 0) continue;
    const root = spans.find((s) => !s.parentSpanId) ?? spans[0];
    const start = spans.reduce((m, s) => (BigInt(s.startTimeUnixNano) < m ? BigInt(s.startTimeUnixNano) : m), BigInt(root.startTimeUnixNano));
    const end = spans.reduce((m, s) => (BigInt(s.endTimeUnixNano) > m ? BigInt(s.endTimeUnixNano) : m), 0n);
    const matched = onlyErrors ? errors : spans;
    rows.push({
      traceID,
      rootServiceName: root.service,
      rootTraceName: root.name,
      startTimeUnixNano: String(start),
      durationMs: Number((end - start) / 1_000_000n),
      spanSets: [
        {
          spans: matched.slice(0, 3).map((s) => ({
            spanID: s.spanId,
            name: s.name,
            startTimeUnixNano: s.startTimeUnixNano,
            durationNanos: String(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)),
            attributes: [{ key: "service.name", value: { stringValue: s.service } }],
          })),
          matched: matched.length,
        },
      ],
    });
  }
  rows.sort((a, b) => (BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano) ? 1 : -1));
  return { traces: rows.slice(0, limit), metrics: { inspectedTraces: traces.size, completedJobs: 1, totalJobs: 1 } };
}

// --------------------------------------------------------------------------------------------- Sentry

const ROUTES = [
  [/^$/, apiIndex],
  [/^organizations\/([^/]+)\/$/, organization],
  [/^organizations\/([^/]+)\/projects\/$/, projects],
  [/^organizations\/([^/]+)\/issues\/$/, issueList],
  [/^organizations\/([^/]+)\/issues\/([^/]+)\/$/, issueDetails],
  [/^organizations\/([^/]+)\/issues\/([^/]+)\/events\/$/, issueEvents],
  [/^organizations\/([^/]+)\/issues\/([^/]+)\/events\/([^/]+)\/$/, issueEvent],
  [/^organizations\/([^/]+)\/shortids\/([^/]+)\/$/, shortId],
  [/^organizations\/([^/]+)\/eventids\/([^/]+)\/$/, eventIdLookup],
  [/^organizations\/([^/]+)\/events\/$/, discover],
  [/^projects\/([^/]+)\/([^/]+)\/events\/([^/]+)\/$/, projectEvent],
];

function sentryApi(req, res, url) {
  const headers = {
    "x-sentry-rate-limit-limit": "40",
    "x-sentry-rate-limit-remaining": "39",
    "x-sentry-rate-limit-reset": String(Math.ceil(Date.now() / 1000) + 1),
  };
  try {
    const auth = req.headers.authorization ?? "";
    const bearer = auth.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!auth) throw new HttpError(401, "Authentication credentials were not provided.");
    if (!bearer || (opts.token !== null && bearer !== opts.token)) throw new HttpError(401, "Invalid token");
    const rest = url.pathname.slice("/api/0/".length);
    for (const [re, handler] of ROUTES) {
      const m = rest.match(re);
      if (!m) continue;
      const args = m.slice(1).map((s) => decodeURIComponent(s));
      const out = handler(args, url.searchParams, url);
      return send(res, out.status ?? 200, out.body, { ...headers, ...(out.headers ?? {}) });
    }
    throw notFound(`no such endpoint: ${url.pathname}`);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return send(res, e.status, { detail: e.message }, headers);
  }
}

function checkOrg(org) {
  if (org !== ORG) throw notFound();
}

function apiIndex() {
  return { body: { version: "0", auth: { scopes: SCOPES }, user: { id: "1", name: "tracepin e2e", username: "tracepin-e2e" } } };
}

function organization([org]) {
  checkOrg(org);
  return { body: sentry.org };
}

function projects([org], params, url) {
  checkOrg(org);
  return page(url, params, sentry.projects, { perPageKey: "per_page", defaultSize: 100 });
}

/** A page of `items` with Sentry's `Link` header. */
function page(url, params, items, { perPageKey, defaultSize, wrap }) {
  const rawSize = params.get(perPageKey);
  const size = rawSize === null ? defaultSize : Number(rawSize);
  if (!Number.isInteger(size) || size < 1) throw badRequest(`Invalid ${perPageKey}: ${rawSize}`);
  const limit = Math.min(size, 100);
  let offset = 0;
  const cursor = params.get("cursor");
  if (cursor !== null && cursor !== "") {
    const m = cursor.match(/^-?\d+:(\d+):[01]$/);
    if (!m) throw badRequest("Invalid cursor parameter.");
    offset = Number(m[1]);
  }
  const slice = items.slice(offset, offset + limit);
  const prev = Math.max(0, offset - limit);
  const next = offset + limit;
  const href = (c) => {
    const q = new URLSearchParams(params);
    q.set("cursor", c);
    return `${url.origin}${url.pathname}?${q}`;
  };
  const link =
    `<${href(`0:${prev}:1`)}>; rel="previous"; results="${offset > 0}"; cursor="0:${prev}:1", ` +
    `<${href(`0:${next}:0`)}>; rel="next"; results="${next < items.length}"; cursor="0:${next}:0"`;
  return { body: wrap ? wrap(slice) : slice, headers: { link, "x-hits": String(items.length), "x-max-hits": "1000" } };
}

/** Projects of the `project` (numeric ids; -1 = all) and `projectSlug` parameters; null = all. */
function requestedProjects(params) {
  const ids = params.getAll("project").filter((p) => p !== "");
  const slugs = params.getAll("projectSlug").filter((p) => p !== "");
  if (ids.length === 0 && slugs.length === 0) return null;
  const out = new Set();
  for (const id of ids) {
    if (!/^-?\d+$/.test(id)) throw badRequest("Invalid project parameter. Values must be numbers.");
    if (id === "-1") return null;
    const p = projectById.get(id);
    if (!p) throw new HttpError(403, "You do not have permission to perform this action.");
    out.add(p.slug);
  }
  for (const slug of slugs) {
    if (slug === "$all") return null;
    if (!projectBySlug.has(slug)) throw new HttpError(403, "You do not have permission to perform this action.");
    out.add(slug);
  }
  return out;
}

/** `environment` parameters; an unknown name is a 404, as in Sentry. null = all. */
function requestedEnvironments(params) {
  const envs = params.getAll("environment").filter((e) => e !== "");
  if (envs.length === 0) return null;
  for (const e of envs) if (!environments.has(e)) throw notFound();
  return new Set(envs);
}

const UNIT_MS = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** [start, end] in ms from `statsPeriod` or `start`/`end`, measured from the fixture's `now`; null = no bound. */
function requestedRange(params) {
  const period = params.get("statsPeriod");
  if (period) {
    const m = period.match(/^(\d+)([smhdw])$/);
    if (!m) throw badRequest(`Invalid statsPeriod: ${period}`);
    return [NOW - Number(m[1]) * UNIT_MS[m[2]], NOW];
  }
  const start = params.get("start");
  const end = params.get("end");
  if (start || end) {
    const s = start ? Date.parse(start) : -Infinity;
    const e = end ? Date.parse(end) : Infinity;
    if (Number.isNaN(s) || Number.isNaN(e)) throw badRequest("start and end must be dates");
    return [s, e];
  }
  return null;
}

/** Sentry search syntax, the simple part: `key:value` filters (quotes allowed, `!` negates) and free text. */
function parseSearch(q) {
  const tokens = q.match(/!?[A-Za-z_.]+:"[^"]*"|"[^"]*"|\S+/g) ?? [];
  const filters = [];
  const text = [];
  for (const t of tokens) {
    const m = t.match(/^(!?)([A-Za-z_.]+):(.+)$/s);
    if (m) filters.push({ negate: m[1] === "!", key: m[2], value: m[3].replace(/^"(.*)"$/s, "$1") });
    else text.push(t.replace(/^"(.*)"$/s, "$1"));
  }
  return { filters, text: text.join(" ").toLowerCase() };
}

const traceOf = (e) => e.contexts?.trace?.trace_id ?? null;

/** Does an issue pass one search filter? `is:` is the status, `trace:` any event's trace, others are tags. */
function issuePasses(issue, { key, value }) {
  const events = eventsOf.get(issue.id);
  switch (key) {
    case "is":
      if (["unresolved", "resolved", "ignored"].includes(value)) return issue.status === value;
      if (value === "archived") return issue.status === "ignored";
      return true; // assigned, bookmarked, … : nobody is assigned or bookmarks in this org
    case "trace":
      return events.some((e) => traceOf(e) === value.toLowerCase());
    case "project":
      return issue.project.slug === value;
    case "issue":
      return issue.shortId.toUpperCase() === value.toUpperCase();
    case "level":
      return issue.level === value;
    default:
      return events.some((e) => tag(e, key) === value);
  }
}

const SORTS = {
  date: (a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen),
  new: (a, b) => Date.parse(b.firstSeen) - Date.parse(a.firstSeen),
  freq: (a, b) => Number(b.count) - Number(a.count),
  user: (a, b) => b.userCount - a.userCount,
};
// Sentry's other orders are ranked by signals this fixture does not have: they are last seen here.
for (const s of ["trends", "recommended", "inbox", "priority"]) SORTS[s] = SORTS.date;

function issueList([org], params, url) {
  checkOrg(org);
  const projectsWanted = requestedProjects(params);
  const envs = requestedEnvironments(params);
  const range = requestedRange(params);
  const sort = params.get("sort") || "date";
  if (!SORTS[sort]) throw badRequest(`Invalid sort: ${sort}`);
  const search = parseSearch(params.has("query") ? params.get("query").trim() : "is:unresolved");
  const matches = sentry.issues.filter((i) => {
    if (projectsWanted && !projectsWanted.has(i.project.slug)) return false;
    if (envs && !eventsOf.get(i.id).some((e) => envs.has(tag(e, "environment")))) return false;
    if (range && !(Date.parse(i.lastSeen) >= range[0] && Date.parse(i.firstSeen) <= range[1])) return false;
    if (search.text && !`${i.title}\n${i.culprit ?? ""}`.toLowerCase().includes(search.text)) return false;
    return search.filters.every((f) => issuePasses(i, f) !== f.negate);
  });
  matches.sort((a, b) => SORTS[sort](a, b) || Number(a.id) - Number(b.id));
  return page(url, params, matches, { perPageKey: "limit", defaultSize: 25 });
}

function findIssue(org, id) {
  checkOrg(org);
  const issue = /^\d+$/.test(id) ? issueById.get(id) : issueByShortId.get(id.toUpperCase());
  if (!issue) throw notFound();
  return issue;
}

function issueDetails([org, id]) {
  return { body: findIssue(org, id) };
}

/** The event as issue event lists serve it (Sentry's SimpleEventSerializer: no entries or contexts). */
function simpleEvent(e) {
  const keys = ["id", "groupID", "eventID", "projectID", "message", "title", "location", "culprit", "user", "tags",
    "platform", "dateCreated", "crashFile", "metadata"];
  return { ...Object.fromEntries(keys.map((k) => [k, e[k] ?? null])), "event.type": e.type };
}

function issueEvents([org, id], params, url) {
  const issue = findIssue(org, id);
  const envs = requestedEnvironments(params);
  const full = ["1", "true"].includes(params.get("full") ?? "");
  const list = eventsOf
    .get(issue.id)
    .filter((e) => !envs || envs.has(tag(e, "environment")))
    .map((e) => (full ? e : simpleEvent(e)));
  return page(url, params, list, { perPageKey: "per_page", defaultSize: 100 });
}

function issueEvent([org, id, which]) {
  const issue = findIssue(org, id);
  const events = eventsOf.get(issue.id);
  let event;
  if (which === "latest" || which === "recommended") event = events[0];
  else if (which === "oldest") event = events[events.length - 1];
  else event = events.find((e) => e.eventID === normalEventId(which));
  if (!event) throw notFound("Event not found");
  return { body: event };
}

function normalEventId(raw) {
  const hex = raw.toLowerCase().replace(/-/g, "");
  return /^[0-9a-f]{32}$/.test(hex) ? hex : null;
}

function shortId([org, short]) {
  checkOrg(org);
  const issue = issueByShortId.get(short.toUpperCase());
  if (!issue) throw notFound();
  return {
    body: { organizationSlug: ORG, projectSlug: issue.project.slug, groupId: issue.id, shortId: issue.shortId, group: issue },
  };
}

function eventIdLookup([org, raw]) {
  checkOrg(org);
  const event = eventById.get(normalEventId(raw));
  if (!event) throw notFound();
  return {
    body: { organizationSlug: ORG, projectSlug: event.projectSlug, groupId: event.groupID, eventId: event.eventID, event },
  };
}

function projectEvent([org, project, raw]) {
  checkOrg(org);
  const p = projectBySlug.get(project) ?? projectById.get(project);
  if (!p) throw notFound();
  const event = eventById.get(normalEventId(raw));
  if (!event || event.projectSlug !== p.slug) throw notFound("Event not found");
  return { body: event };
}

const discoverTime = (e) => new Date(Math.floor(Date.parse(e.dateCreated) / 1000) * 1000).toISOString().replace(".000Z", "+00:00");

// Discover columns the fake knows, with their meta type.
const COLUMNS = {
  id: ["string", (e) => e.eventID],
  project: ["string", (e) => e.projectSlug],
  "project.name": ["string", (e) => e.projectSlug],
  "project.id": ["integer", (e) => Number(e.projectID)],
  trace: ["string", (e) => traceOf(e)],
  // A UInt64 column in Sentry's storage: the hex comes back without its leading zeros.
  "trace.span": ["string", (e) => e.contexts?.trace?.span_id?.replace(/^0+/, "") ?? null],
  "issue.id": ["integer", (e) => Number(e.groupID)],
  issue: ["string", (e) => issueById.get(e.groupID)?.shortId ?? null],
  timestamp: ["date", discoverTime],
  title: ["string", (e) => e.title],
  message: ["string", (e) => e.message || e.title],
  culprit: ["string", (e) => e.culprit],
  "event.type": ["string", (e) => e.type],
  level: ["string", (e) => tag(e, "level")],
  environment: ["string", (e) => tag(e, "environment")],
  release: ["string", (e) => tag(e, "release")],
  transaction: ["string", (e) => tag(e, "transaction")],
};

function eventPasses(e, { key, value }) {
  switch (key) {
    case "trace":
      return traceOf(e) === value.toLowerCase();
    case "id":
      return e.eventID === normalEventId(value);
    case "issue":
      return issueById.get(e.groupID)?.shortId.toUpperCase() === value.toUpperCase();
    case "issue.id":
      return e.groupID === value;
    case "project":
      return e.projectSlug === value;
    case "event.type":
      return e.type === value;
    default:
      return tag(e, key) === value;
  }
}

function discover([org], params, url) {
  checkOrg(org);
  const dataset = params.get("dataset");
  if (dataset !== "errors") throw badRequest(`this fake Sentry serves dataset=errors only, not ${dataset ?? "(none)"}`);
  const fields = params.getAll("field");
  if (fields.length === 0) throw badRequest("No columns selected");
  for (const f of fields) if (!COLUMNS[f]) throw badRequest(`Unknown field: ${f}`);
  const projectsWanted = requestedProjects(params);
  const envs = requestedEnvironments(params);
  const range = requestedRange(params);
  const search = parseSearch(params.get("query") ?? "");
  const rows = sentry.events.filter((e) => {
    const t = Date.parse(e.dateCreated);
    if (projectsWanted && !projectsWanted.has(e.projectSlug)) return false;
    if (envs && !envs.has(tag(e, "environment"))) return false;
    if (range && !(t >= range[0] && t <= range[1])) return false;
    if (search.text && !e.title.toLowerCase().includes(search.text)) return false;
    return search.filters.every((f) => eventPasses(e, f) !== f.negate);
  });
  const sort = params.get("sort") ?? "-timestamp";
  const dir = sort.startsWith("-") ? -1 : 1;
  if (sort.replace(/^-/, "") !== "timestamp") throw badRequest(`this fake Sentry sorts by timestamp only, not ${sort}`);
  rows.sort((a, b) => dir * (Date.parse(a.dateCreated) - Date.parse(b.dateCreated)) || a.eventID.localeCompare(b.eventID));
  const table = rows.map((e) => Object.fromEntries(fields.map((f) => [f, COLUMNS[f][1](e)])));
  const meta = { fields: Object.fromEntries(fields.map((f) => [f, COLUMNS[f][0]])), units: Object.fromEntries(fields.map((f) => [f, null])), isMetricsData: false, tips: {} };
  return page(url, params, table, { perPageKey: "per_page", defaultSize: 50, wrap: (data) => ({ data, meta }) });
}

// --------------------------------------------------------------------------------------------- server

const server = http.createServer((req, res) => {
  const started = process.hrtime.bigint();
  res.on("finish", () => {
    const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    process.stderr.write(`fake-upstreams: ${req.method} ${req.url} -> ${res.statusCode} (${ms} ms)\n`);
  });
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `${opts.host}:${opts.port}`}`);
  try {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return send(res, 405, url.pathname.startsWith("/api/0/") ? { detail: `Method "${req.method}" not allowed.` } : "method not allowed");
    }
    if (url.pathname.startsWith("/api/0/")) return sentryApi(req, res, url);
    return tempo(res, url);
  } catch (e) {
    process.stderr.write(`fake-upstreams: ${e.stack}\n`);
    if (!res.headersSent) send(res, 500, { detail: "fake-upstreams failed; see its log" });
  }
});

server.listen(opts.port, opts.host, () => {
  process.stderr.write(
    `fake-upstreams: Tempo and Sentry (org ${ORG}) on http://${opts.host}:${opts.port} ` +
      `(${traces.size} traces, ${sentry.issues.length} issues, ${sentry.events.length} events)\n`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close();
    process.exit(0);
  });
}
