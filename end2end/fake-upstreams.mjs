#!/usr/bin/env node
// Fake upstreams for tracepin's tests: one HTTP server that answers as a Grafana Tempo, as a Jaeger query
// service and as the Sentry Web API of the organization `acme`, from the data in end2end/fixtures/upstream/
// (see the README there) and the SDK captures in tests/fixtures/sdk/. No dependencies: Node 20's standard
// library only.
//
//   node end2end/fake-upstreams.mjs --port N [--host 127.0.0.1] [--token T] [--fixtures DIR] [--sdk DIR]
//
//   --port 0      picks a free port. Once listening, the fake prints exactly one line to stdout,
//                 `listening on http://127.0.0.1:<port>` (the --host given), and nothing else there; its
//                 request log goes to stderr (one line per request).
//   --token T     the only Sentry bearer token accepted (without it, any bearer token is).
//   --fixtures    default end2end/fixtures/upstream; --sdk default tests/fixtures/sdk (where the seven
//                 scenarios' otlp.json are read at startup).
//
// Data. Tempo and Jaeger serve the traces of fixtures/tempo/*.json plus every trace of every SDK scenario's
// otlp.json, split per trace id (the scenarios listed in fixtures/scenarios.json; each scenario's spans are
// moved by its `time_shift_ns`, 0 for a1 and e, -20 days for a2, b, c, d and f, the same shift derive.py
// applied to their Sentry events), and the healthy runs of five of them (tests/fixtures/sdk-healthy/, the
// same shift). Sentry serves sentry.json and sentry-sdk.json as one org.
//
// Tempo:
//   GET /api/echo                 "echo"
//   GET /api/status/buildinfo     a Tempo version
//   GET /api/v2/traces/{id}       {"trace": <OTLP JSON>}, or 404 "trace not found" (start/end ignored)
//   GET /api/search?q=&limit=&spss=&start=&end=
//                                 TraceQL search, Tempo's answer shape ({traces:[{traceID, rootServiceName,
//                                 rootTraceName, startTimeUnixNano, durationMs, spanSets:[{spans, matched}],
//                                 spanSet}], metrics}), newest trace first, `limit` traces (20), `spss` spans
//                                 per spanset (3). start/end are ignored (the fixture never ages). No q, or a
//                                 blank one, is `{}` (every span). Supported TraceQL: spansets `{ … }` joined
//                                 by `&&`/`||` (trace level); inside one: `&&`, `||`, `!`, parentheses;
//                                 comparisons `= != > >= < <= =~ !~` (regexes fully anchored) between
//                                 `span.key`, `resource.key`, `.key` (span, then resource), quoted names
//                                 (`span."key.with-dash"`), intrinsics (status, statusMessage, name, kind,
//                                 duration, also as span:status…, rootServiceName, rootName, traceDuration,
//                                 trace:rootService, trace:rootName, trace:duration) and literals (strings
//                                 "…" with backslash escapes or `…`, integers, floats, durations such as
//                                 150ms, true/false, nil, error/ok/unset, server/client/…). Anything else
//                                 (pipelines `| …`, unbalanced braces or quotes, unknown words) is a 400 with
//                                 a plain-text "invalid TraceQL query: parse error at line 1, col N: …".
// Jaeger (same data, same port; Tempo has no /api/services and tracepin's Tempo client only reaches
// /api/traces/{id} after a 404 from /api/v2/traces/{id}, which this fake then also answers with a 404):
//   GET /api/services                          {"data": [service names], "total", "limit", "offset", "errors"}
//   GET /api/services/{service}/operations     {"data": [span names], …}
//   GET /api/traces/{id}                       Jaeger v1 JSON {"data": [trace], "errors": null} (16 or 32
//                                              hex); 404 {"data": null, "errors": [{code: 404, msg: "trace
//                                              not found"}]}
//   GET /api/traces?service=S&tags={"k":"v"}&tag=k:v&operation=&limit=&start=&end=&lookback=
//                                              traces with a span of service S (and operation) on which every
//                                              tag matches the span's tags or its process tags (values
//                                              compared as text); `service` is required (400 as Jaeger);
//                                              limit 20 by default; start/end/lookback ignored
//   GET /api/v3/services, /api/v3/traces/{id}, /api/v3/traces?query.serviceName=S&query.attributes=…
//                                              api_v3 JSON ({"result": <OTLP JSON>}; 404
//                                              {"error": {"httpCode": 404, "message": "No traces found"}})
//   OTLP -> Jaeger v1 as the collector translates it: lowercase hex ids (a 128-bit id with a zero high half
//   printed as 16 hex), µs times, span kind -> tag span.kind, status error -> tags otel.status_code=ERROR and
//   error=true, status message -> otel.status_description, scope -> otel.scope.name/version, span events ->
//   logs (field `event` = name), resource attributes but service.name -> process tags.
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
//   GET /api/0/organizations/{org}/events/?dataset=errors&field=…&query=…&statsPeriod=…&sort=…&per_page=…&cursor=…
//                                                          Discover rows {data: [{<field>: value}], meta}
//   GET /api/0/projects/{org}/{project}/events/{event id}/ one full event
//   Discover fields: id, project, project.name, project.id, trace, trace.span, trace.parent_span, issue.id,
//   issue, timestamp, title, message, culprit, event.type, level, environment, release, transaction,
//   platform, user.id, tags[<key>]; any other plain name is the tag of that name (as in Sentry); aggregates
//   such as count() are a 400. `sort` is a selected field, `-` for descending (default -timestamp).
// Search (issues and Discover, Sentry's syntax): whitespace-separated terms, all of which must hold.
//   key:value, key:"value with spaces and \"quotes\"" (backslash escapes), key:[a, "b c", d] (any of),
//   tags[key]:value and tags[key]:[a, b] (always the tag), !key:value and !key:[…] (none of), has:key and
//   !has:key, free text (matches the title, and for issues the culprit; case-insensitive). `*` in a value is a
//   wildcard; otherwise values match exactly (ids and trace ids ignore case and dashes). Built-in keys:
//   id, trace (contexts.trace.trace_id), trace.span, trace.parent_span, event.type, issue (short id),
//   issue.id, project / project.name, project.id, title, message, culprit, platform, user.id, error.type,
//   error.value, is (the issue's status); for issues also level (the issue's). Every other key, dotted ones
//   such as otel.trace_id included, is the event's tag of that name (for issues: any of its events'), as
//   real Sentry treats unknown keys. Parentheses, OR/AND, unbalanced quotes or brackets, an empty value or
//   an empty list are a 400 {"detail": "Parse error at …"}, as Sentry answers an invalid query.
// Anything else is a 404 (`{"detail": …}` under /api/0/).
//
// Time: the Sentry clock is the fixture's `now` (sentry.json), so `statsPeriod=24h` always means the same
// issues. Cursors are `0:<offset>:<is_prev>` with an absolute offset; lists carry Sentry's `Link` header
// (`rel="previous"` and `rel="next"` with `results` and `cursor`).
//
// Test control (not under /api/, no auth, never logged, never faulted):
//   POST   /__faults   body: a JSON array (or one object) of faults; replaces all faults. Each fault:
//                       {"match": "<substring of the request's path+query>", "regex": false, "method": "GET",
//                        "status": 500, "body": "…" | <JSON value>, "content_type": "…", "headers": {…},
//                        "retry_after": 2, "delay_ms": 0, "hang": false, "reset": false, "times": N}
//                       `match` is tested against the raw path+query and its percent-decoded form; with
//                       "regex": true it is a JavaScript regex source. The first armed fault that matches
//                       a request applies: after `delay_ms`, `hang` never answers (the connection stays
//                       open until the client gives up), `reset` destroys the connection without an answer,
//                       otherwise `status` is answered with `body` (a string as is, text/plain; any other
//                       JSON value serialized, application/json; or `content_type`), `headers` and
//                       `Retry-After: <retry_after>`. Without `status` (and not hang/reset) the request is
//                       served normally after `delay_ms`. `times` arms the fault for that many requests
//                       (default: every request). Answers {"faults": N}; 400 on a malformed body.
//   GET    /__faults   the faults with `hits` (requests they applied to) and `remaining`.
//   DELETE /__faults   clears them.
//   GET    /__requests the requests served since the start or the last DELETE, in arrival order:
//                       [{"seq", "method", "path" (path+query as sent), "upstream" ("tempo" | "jaeger" |
//                       "sentry" | "other"), "status" (null while pending or when hung, 0 when reset),
//                       "fault" (index of the fault applied, or null), "ms"}]; `?match=<substring>` filters.
//   DELETE /__requests clears the list.

import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");

function parseArgs(argv) {
  const opts = { port: null, host: "127.0.0.1", token: null, fixtures: path.join(here, "fixtures", "upstream"), sdk: null };
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
      case "--sdk":
        opts.sdk = path.resolve(value());
        break;
      case "--help":
      case "-h":
        console.log("usage: node end2end/fake-upstreams.mjs --port N [--host 127.0.0.1] [--token T] [--fixtures DIR] [--sdk DIR]");
        process.exit(0);
      default:
        console.error(`fake-upstreams: unknown argument ${argv[i]}`);
        process.exit(2);
    }
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    console.error("fake-upstreams: --port N is required (0 picks a free port)");
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ------------------------------------------------------------------------------------------------ data

const readJson = (file) => JSON.parse(fs.readFileSync(file, "utf8"));
const readJsonIf = (file, fallback) => (fs.existsSync(file) ? readJson(file) : fallback);
const sentry = readJson(path.join(opts.fixtures, "sentry.json"));
const sentrySdk = readJsonIf(path.join(opts.fixtures, "sentry-sdk.json"), { issues: [], events: [] });
const scenarios = readJsonIf(path.join(opts.fixtures, "scenarios.json"), { sdk_dir: "tests/fixtures/sdk", scenarios: {} });
const sdkDir = opts.sdk ?? path.resolve(repo, scenarios.sdk_dir);

/** trace id (32 lowercase hex) -> {"resourceSpans": [...]} */
const traces = new Map();
for (const name of fs.readdirSync(path.join(opts.fixtures, "tempo")).sort()) {
  if (name.endsWith(".json")) traces.set(name.slice(0, -5), readJson(path.join(opts.fixtures, "tempo", name)));
}

/** Moves every time of an OTLP span by `shift` nanoseconds (a BigInt). */
function shiftSpan(s, shift) {
  if (shift === 0n) return s;
  const t = (v) => (v === undefined ? v : String(BigInt(v) + shift));
  return {
    ...s,
    startTimeUnixNano: t(s.startTimeUnixNano),
    endTimeUnixNano: t(s.endTimeUnixNano),
    ...(s.events ? { events: s.events.map((e) => ({ ...e, timeUnixNano: t(e.timeUnixNano) })) } : {}),
  };
}

/** Every trace of one scenario's otlp.json, merged per (resource, scope) in arrival order (as derive.py). */
function scenarioTraces(dir, shift) {
  const out = new Map();
  for (const rs of readJson(path.join(dir, "otlp.json")).resourceSpans) {
    for (const ss of rs.scopeSpans) {
      const byTrace = new Map();
      for (const s of ss.spans) {
        const id = s.traceId.toLowerCase();
        if (!byTrace.has(id)) byTrace.set(id, []);
        byTrace.get(id).push(shiftSpan(s, shift));
      }
      for (const [id, spans] of byTrace) {
        if (!out.has(id)) out.set(id, { resourceSpans: [] });
        out.get(id).resourceSpans.push({ resource: rs.resource, scopeSpans: [{ scope: ss.scope, spans }] });
      }
    }
  }
  return out;
}

/** trace id -> scenario name, for the traces read from the SDK captures. */
const traceScenario = new Map();
for (const [name, sc] of Object.entries(scenarios.scenarios)) {
  const dir = path.join(sdkDir, name);
  if (!fs.existsSync(path.join(dir, "otlp.json"))) {
    process.stderr.write(`fake-upstreams: no ${dir}/otlp.json; scenario ${name}'s traces are not served\n`);
    continue;
  }
  for (const [id, trace] of scenarioTraces(dir, BigInt(sc.time_shift_ns ?? "0"))) {
    traceScenario.set(id, name);
    if (!traces.has(id)) traces.set(id, trace); // fixtures/tempo/ wins (a1 and e are there, unshifted)
  }
}

// Healthy runs of the same scenarios (tests/fixtures/sdk-healthy/<scenario>/otlp.json, baselines for
// "Compare with healthy traces"), moved by their scenario's time_shift_ns like its failing traces.
const healthyDir = path.join(sdkDir, "..", "sdk-healthy");
for (const [name, sc] of Object.entries(scenarios.scenarios)) {
  const dir = path.join(healthyDir, name);
  if (!fs.existsSync(path.join(dir, "otlp.json"))) continue;
  for (const [id, trace] of scenarioTraces(dir, BigInt(sc.time_shift_ns ?? "0"))) {
    if (!traces.has(id)) traces.set(id, trace);
  }
}

const NOW = Date.parse(sentry.now);
const ORG = sentry.org.slug;
const SCOPES = ["org:read", "project:read", "event:read"];

const allIssues = [...sentry.issues, ...sentrySdk.issues];
const allEvents = [...sentry.events, ...sentrySdk.events];
const issueById = new Map(allIssues.map((i) => [i.id, i]));
const issueByShortId = new Map(allIssues.map((i) => [i.shortId.toUpperCase(), i]));
const eventById = new Map(allEvents.map((e) => [e.eventID, e]));
// Each issue's events, newest first.
const eventsOf = new Map(allIssues.map((i) => [i.id, []]));
for (const e of allEvents) eventsOf.get(e.groupID).push(e);
for (const list of eventsOf.values()) list.sort((a, b) => Date.parse(b.dateCreated) - Date.parse(a.dateCreated));
const projectById = new Map(sentry.projects.map((p) => [p.id, p]));
const projectBySlug = new Map(sentry.projects.map((p) => [p.slug, p]));
const environments = new Set(allEvents.map((e) => tag(e, "environment")).filter(Boolean));

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

/** The spans of a trace with their resource and scope, cached. */
const flatCache = new Map();
function flatSpans(traceId) {
  let out = flatCache.get(traceId);
  if (out) return out;
  out = [];
  for (const rs of traces.get(traceId).resourceSpans) {
    const resource = rs.resource?.attributes ?? [];
    const service = resource.find((a) => a.key === "service.name")?.value?.stringValue ?? "unknown_service";
    for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) out.push({ s, resource, service, scope: ss.scope ?? {} });
  }
  flatCache.set(traceId, out);
  return out;
}

function anyValue(v) {
  if (!v) return null;
  if ("stringValue" in v) return v.stringValue;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("boolValue" in v) return Boolean(v.boolValue);
  return JSON.stringify(v);
}
const attr = (attrs, key) => {
  const a = (attrs ?? []).find((x) => x.key === key);
  return a ? anyValue(a.value) : undefined;
};

/** Root span, start, end (ns, BigInt) of a trace, cached (trace-level TraceQL fields ask per span). */
const shapeCache = new Map();
function traceShape(traceId) {
  let shape = shapeCache.get(traceId);
  if (!shape) {
    shape = computeShape(traceId);
    shapeCache.set(traceId, shape);
  }
  return shape;
}

function computeShape(traceId) {
  const spans = flatSpans(traceId);
  const root = spans.find((x) => !x.s.parentSpanId) ?? null;
  let start = null;
  let end = 0n;
  for (const { s } of spans) {
    const a = BigInt(s.startTimeUnixNano);
    const b = BigInt(s.endTimeUnixNano);
    if (start === null || a < start) start = a;
    if (b > end) end = b;
  }
  return { root, start: start ?? 0n, end };
}

// ---------------------------------------------------------------------------------------------- Tempo

function tempo(res, url) {
  const p = url.pathname;
  if (p === "/api/echo") return send(res, 200, "echo");
  if (p === "/api/status/buildinfo") return send(res, 200, { version: "2.6.1", revision: "fake", branch: "fake", goVersion: "go1.23.2" });
  const m = p.match(/^\/api\/v2\/traces\/([^/]+)$/);
  if (m) {
    const raw = decodeURIComponent(m[1]).toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(raw)) return send(res, 400, `invalid trace id: ${raw}`);
    const trace = traces.get(raw.padStart(32, "0"));
    if (!trace) return send(res, 404, "trace not found");
    return send(res, 200, { trace });
  }
  if (p === "/api/search") {
    let query;
    try {
      query = parseTraceQL(url.searchParams.get("q") ?? "");
    } catch (e) {
      if (e instanceof TraceQLError) return send(res, 400, e.message);
      throw e;
    }
    return send(res, 200, search(query, url.searchParams));
  }
  return null; // not Tempo's
}

class TraceQLError extends Error {}

const KINDS = { unspecified: 0, internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };
const STATUSES = { unset: 0, ok: 1, error: 2 };
const DURATION_NS = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const INTRINSICS = {
  status: "status", "span:status": "status", statusMessage: "statusMessage", "span:statusMessage": "statusMessage",
  name: "name", "span:name": "name", kind: "kind", "span:kind": "kind", duration: "duration", "span:duration": "duration",
  "span:id": "spanID", "trace:id": "traceID",
  rootServiceName: "rootServiceName", "trace:rootService": "rootServiceName", rootName: "rootName",
  "trace:rootName": "rootName", traceDuration: "traceDuration", "trace:duration": "traceDuration",
};

/** TraceQL tokens: {t: kind, v: value, col}. */
function lexTraceQL(q) {
  const toks = [];
  let i = 0;
  const fail = (col, what) => {
    throw new TraceQLError(`invalid TraceQL query: parse error at line 1, col ${col + 1}: ${what}`);
  };
  const readString = (quote) => {
    const start = i++;
    let out = "";
    while (i < q.length && q[i] !== quote) {
      if (quote === '"' && q[i] === "\\" && i + 1 < q.length) {
        const c = q[i + 1];
        out += { n: "\n", t: "\t", r: "\r" }[c] ?? c;
        i += 2;
      } else out += q[i++];
    }
    if (i >= q.length) fail(start, "literal not terminated");
    i++;
    return out;
  };
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i;
    const two = q.slice(i, i + 2);
    if (["&&", "||", "!=", "=~", "!~", ">=", "<="].includes(two)) {
      toks.push({ t: two, col });
      i += 2;
    } else if ("{}()=<>!|".includes(c)) {
      toks.push({ t: c, col });
      i++;
    } else if (c === '"' || c === "`") {
      toks.push({ t: "str", v: readString(c), col });
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(q[i + 1] ?? ""))) {
      const m = q.slice(i).match(/^-?[0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h)?/);
      i += m[0].length;
      if (m[2]) toks.push({ t: "dur", v: parseFloat(m[0]) * DURATION_NS[m[2]], col });
      else toks.push({ t: "num", v: Number(m[0]), col });
    } else if (/[A-Za-z_.:]/.test(c)) {
      // An identifier or attribute; a quoted part (span."a.b-c") is part of the name.
      let name = "";
      let quoted = false;
      while (i < q.length) {
        if (q[i] === '"' && name.endsWith(".")) {
          name += readString('"');
          quoted = true;
        } else if (/[A-Za-z0-9_.:\-\/@]/.test(q[i])) name += q[i++];
        else break;
      }
      toks.push({ t: "id", v: name, quoted, col });
    } else fail(col, `syntax error: unexpected ${JSON.stringify(c)}`);
  }
  toks.push({ t: "end", col: q.length });
  return toks;
}

/** Parses TraceQL into {ast, attrs}: ast nodes are spansets, trace-level and/or, and field expressions. */
function parseTraceQL(q) {
  if (q.trim() === "") return { ast: { k: "spanset", expr: null }, attrs: [] };
  const toks = lexTraceQL(q);
  let p = 0;
  const attrs = [];
  const peek = () => toks[p];
  const desc = (tok) => (tok.t === "end" ? "$end" : tok.t === "id" ? `IDENTIFIER ${tok.v}` : tok.t === "str" ? "STRING" : tok.t === "num" || tok.t === "dur" ? "NUMBER" : tok.t);
  const fail = (tok, expecting) => {
    throw new TraceQLError(
      `invalid TraceQL query: parse error at line 1, col ${tok.col + 1}: syntax error: unexpected ${desc(tok)}${expecting ? `, expecting ${expecting}` : ""}`,
    );
  };
  const eat = (t) => {
    if (peek().t !== t) fail(peek(), t);
    return toks[p++];
  };

  // Trace level: spanset (('&&' | '||') spanset)*, parentheses allowed.
  function traceExpr() {
    let left = traceTerm();
    while (peek().t === "&&" || peek().t === "||") {
      const op = toks[p++].t;
      left = { k: op, a: left, b: traceTerm() };
    }
    return left;
  }
  function traceTerm() {
    if (peek().t === "(") {
      p++;
      const e = traceExpr();
      eat(")");
      return e;
    }
    eat("{");
    if (peek().t === "}") {
      p++;
      return { k: "spanset", expr: null };
    }
    const expr = orExpr();
    eat("}");
    return { k: "spanset", expr };
  }
  function orExpr() {
    let left = andExpr();
    while (peek().t === "||") {
      p++;
      left = { k: "or", a: left, b: andExpr() };
    }
    return left;
  }
  function andExpr() {
    let left = notExpr();
    while (peek().t === "&&") {
      p++;
      left = { k: "and", a: left, b: notExpr() };
    }
    return left;
  }
  function notExpr() {
    if (peek().t === "!") {
      p++;
      return { k: "not", a: notExpr() };
    }
    if (peek().t === "(") {
      p++;
      const e = orExpr();
      eat(")");
      return e;
    }
    return comparison();
  }
  function field() {
    const tok = peek();
    if (tok.t !== "id") fail(tok, "IDENTIFIER");
    p++;
    const name = tok.v;
    if (INTRINSICS[name]) return { intrinsic: INTRINSICS[name] };
    const m = name.match(/^(span|resource)?\.(.+)$/s);
    if (!m || m[2] === "" || (!tok.quoted && /(^\.|\.$|\.\.)/.test(m[2]))) fail(tok, "attribute or intrinsic");
    const f = { scope: m[1] ?? "any", key: m[2] };
    attrs.push(f);
    return f;
  }
  function literal() {
    const tok = toks[p++];
    if (tok.t === "str") return { type: "string", v: tok.v };
    if (tok.t === "num") return { type: "number", v: tok.v };
    if (tok.t === "dur") return { type: "duration", v: tok.v };
    if (tok.t === "id") {
      if (tok.v === "true" || tok.v === "false") return { type: "bool", v: tok.v === "true" };
      if (tok.v === "nil") return { type: "nil" };
      if (tok.v in STATUSES) return { type: "status", v: STATUSES[tok.v] };
      if (tok.v in KINDS) return { type: "kind", v: KINDS[tok.v] };
    }
    p--;
    fail(tok, "literal");
  }
  function comparison() {
    if (peek().t === "id" && (peek().v === "true" || peek().v === "false")) {
      const v = toks[p++].v === "true";
      return { k: "const", v };
    }
    const f = field();
    const op = peek().t;
    if (!["=", "!=", ">", ">=", "<", "<=", "=~", "!~"].includes(op)) fail(peek(), "comparison operator");
    p++;
    const lit = literal();
    if ((op === "=~" || op === "!~") && lit.type !== "string") fail(toks[p - 1], "STRING");
    let re = null;
    if (lit.type === "string" && (op === "=~" || op === "!~")) {
      try {
        re = new RegExp(`^(?:${lit.v})$`, "s");
      } catch (e) {
        throw new TraceQLError(`invalid TraceQL query: error parsing regexp: ${e.message}`);
      }
    }
    return { k: "cmp", f, op, lit, re };
  }

  const ast = traceExpr();
  if (peek().t === "|") throw new TraceQLError(`invalid TraceQL query: parse error at line 1, col ${peek().col + 1}: pipelines are not supported by this fake Tempo`);
  if (peek().t !== "end") fail(peek());
  return { ast, attrs };
}

/** The value of a field on one span (undefined: absent). */
function fieldValue(traceId, x, f) {
  if (f.intrinsic) {
    const s = x.s;
    switch (f.intrinsic) {
      case "status":
        return { type: "status", v: s.status?.code ?? 0 };
      case "statusMessage":
        return { type: "string", v: s.status?.message ?? "" };
      case "name":
        return { type: "string", v: s.name };
      case "kind":
        return { type: "kind", v: s.kind ?? 0 };
      case "duration":
        return { type: "duration", v: Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) };
      case "spanID":
        return { type: "string", v: s.spanId };
      case "traceID":
        return { type: "string", v: traceId };
      case "rootServiceName":
      case "rootName": {
        const root = traceShape(traceId).root;
        if (!root) return undefined;
        return { type: "string", v: f.intrinsic === "rootName" ? root.s.name : root.service };
      }
      case "traceDuration": {
        const { start, end } = traceShape(traceId);
        return { type: "duration", v: Number(end - start) };
      }
    }
  }
  let v;
  if (f.scope === "span" || f.scope === "any") v = attr(x.s.attributes, f.key);
  if (v === undefined && (f.scope === "resource" || f.scope === "any")) v = attr(x.resource, f.key);
  if (v === undefined) return undefined;
  return { type: typeof v === "string" ? "string" : typeof v === "boolean" ? "bool" : "number", v };
}

function compare(val, op, lit, re) {
  if (lit.type === "nil") return op === "=" ? val === undefined : op === "!=" ? val !== undefined : false;
  if (val === undefined) return false;
  const numeric = (t) => t === "number" || t === "duration";
  let a = val.v;
  let b = lit.v;
  if (re) return op === "=~" ? val.type === "string" && re.test(a) : val.type === "string" && !re.test(a);
  const same = val.type === lit.type || (numeric(val.type) && numeric(lit.type));
  if (!same) return false;
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
  }
  return false;
}

function spanMatches(traceId, x, e) {
  if (e === null) return true;
  switch (e.k) {
    case "and":
      return spanMatches(traceId, x, e.a) && spanMatches(traceId, x, e.b);
    case "or":
      return spanMatches(traceId, x, e.a) || spanMatches(traceId, x, e.b);
    case "not":
      return !spanMatches(traceId, x, e.a);
    case "const":
      return e.v;
    case "cmp":
      return compare(fieldValue(traceId, x, e.f), e.op, e.lit, e.re);
  }
  return false;
}

/** The spans of a trace a trace-level expression selects (empty: the trace does not match). */
function traceMatches(traceId, node) {
  if (node.k === "spanset") return flatSpans(traceId).filter((x) => spanMatches(traceId, x, node.expr));
  const a = traceMatches(traceId, node.a);
  if (node.k === "&&") {
    if (a.length === 0) return [];
    const b = traceMatches(traceId, node.b);
    return b.length === 0 ? [] : [...new Set([...a, ...b])];
  }
  return [...new Set([...a, ...traceMatches(traceId, node.b)])];
}

function search({ ast, attrs }, params) {
  const limit = Number(params.get("limit") ?? 20) || 20;
  const spss = Number(params.get("spss") ?? 3) || 3;
  const rows = [];
  for (const traceID of traces.keys()) {
    const matched = traceMatches(traceID, ast);
    if (matched.length === 0) continue;
    const { root, start, end } = traceShape(traceID);
    matched.sort((a, b) => (BigInt(a.s.startTimeUnixNano) < BigInt(b.s.startTimeUnixNano) ? -1 : 1));
    const spanSet = {
      spans: matched.slice(0, spss).map((x) => {
        const attributes = [{ key: "service.name", value: { stringValue: x.service } }];
        for (const f of attrs) {
          const v = fieldValue(traceID, x, f);
          if (v === undefined || attributes.some((a) => a.key === f.key)) continue;
          const value = v.type === "string" ? { stringValue: v.v } : v.type === "bool" ? { boolValue: v.v } : Number.isInteger(v.v) ? { intValue: String(v.v) } : { doubleValue: v.v };
          attributes.push({ key: f.key, value });
        }
        return {
          spanID: x.s.spanId,
          name: x.s.name,
          startTimeUnixNano: x.s.startTimeUnixNano,
          durationNanos: String(BigInt(x.s.endTimeUnixNano) - BigInt(x.s.startTimeUnixNano)),
          attributes,
        };
      }),
      matched: matched.length,
    };
    rows.push({
      traceID,
      rootServiceName: root ? root.service : "<root span not yet received>",
      ...(root ? { rootTraceName: root.s.name } : {}),
      startTimeUnixNano: String(start),
      durationMs: Number((end - start) / 1_000_000n),
      spanSet,
      spanSets: [spanSet],
    });
  }
  rows.sort((a, b) => (BigInt(b.startTimeUnixNano) > BigInt(a.startTimeUnixNano) ? 1 : BigInt(b.startTimeUnixNano) < BigInt(a.startTimeUnixNano) ? -1 : a.traceID.localeCompare(b.traceID)));
  return { traces: rows.slice(0, limit), metrics: { inspectedTraces: traces.size, inspectedBytes: "0", completedJobs: 1, totalJobs: 1 } };
}

// --------------------------------------------------------------------------------------------- Jaeger

const JAEGER_KIND = { 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer" };

function jaegerTag(key, v) {
  if (v && "stringValue" in v) return { key, type: "string", value: v.stringValue };
  if (v && "intValue" in v) return { key, type: "int64", value: Number(v.intValue) };
  if (v && "doubleValue" in v) return { key, type: "float64", value: v.doubleValue };
  if (v && "boolValue" in v) return { key, type: "bool", value: v.boolValue };
  return { key, type: "string", value: JSON.stringify(v) };
}

/** Jaeger's spelling of a trace id: lowercase hex, 16 digits when the high half is zero. */
const jaegerTraceId = (id) => (id.startsWith("0000000000000000") ? id.slice(16) : id).toLowerCase();

/** OTLP -> Jaeger v1 UI model, as the collector's translator maps it (tests/fixtures/formats/derive.py). */
const jaegerCache = new Map();
function jaegerTrace(traceId) {
  if (jaegerCache.has(traceId)) return jaegerCache.get(traceId);
  const tid = jaegerTraceId(traceId);
  const processes = {};
  const pidOf = new Map();
  const spans = [];
  for (const rs of traces.get(traceId).resourceSpans) {
    const attrs = rs.resource?.attributes ?? [];
    const service = attrs.find((a) => a.key === "service.name")?.value?.stringValue ?? "unknown_service";
    let pid = pidOf.get(service);
    if (!pid) {
      pid = `p${pidOf.size + 1}`;
      pidOf.set(service, pid);
      processes[pid] = { serviceName: service, tags: attrs.filter((a) => a.key !== "service.name").map((a) => jaegerTag(a.key, a.value)) };
    }
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const tags = (s.attributes ?? []).map((a) => jaegerTag(a.key, a.value));
        if (ss.scope?.name) tags.push({ key: "otel.scope.name", type: "string", value: ss.scope.name });
        if (ss.scope?.version) tags.push({ key: "otel.scope.version", type: "string", value: ss.scope.version });
        if (JAEGER_KIND[s.kind]) tags.push({ key: "span.kind", type: "string", value: JAEGER_KIND[s.kind] });
        const code = s.status?.code ?? 0;
        if (code === 2) {
          tags.push({ key: "otel.status_code", type: "string", value: "ERROR" });
          tags.push({ key: "error", type: "bool", value: true });
        } else if (code === 1) tags.push({ key: "otel.status_code", type: "string", value: "OK" });
        if (s.status?.message) tags.push({ key: "otel.status_description", type: "string", value: s.status.message });
        const references = [];
        if (s.parentSpanId) references.push({ refType: "CHILD_OF", traceID: tid, spanID: s.parentSpanId.toLowerCase() });
        for (const l of s.links ?? []) references.push({ refType: "FOLLOWS_FROM", traceID: jaegerTraceId(l.traceId), spanID: l.spanId.toLowerCase() });
        const start = BigInt(s.startTimeUnixNano);
        spans.push({
          traceID: tid,
          spanID: s.spanId.toLowerCase(),
          operationName: s.name,
          references,
          startTime: Number(start / 1000n),
          duration: Number((BigInt(s.endTimeUnixNano) - start) / 1000n),
          tags,
          logs: (s.events ?? []).map((e) => ({
            timestamp: Number(BigInt(e.timeUnixNano) / 1000n),
            fields: [{ key: "event", type: "string", value: e.name }, ...(e.attributes ?? []).map((a) => jaegerTag(a.key, a.value))],
          })),
          processID: pid,
          warnings: null,
        });
      }
    }
  }
  const out = { traceID: tid, spans, processes, warnings: null };
  jaegerCache.set(traceId, out);
  return out;
}

const jaegerBody = (data, errors = null) => ({ data, total: 0, limit: 0, offset: 0, errors });
const jaegerError = (res, code, msg) => send(res, code, jaegerBody(null, [{ code, msg }]));

function allServices() {
  const out = new Set();
  for (const id of traces.keys()) for (const x of flatSpans(id)) out.add(x.service);
  return [...out].sort();
}

/** A trace id as Jaeger accepts it (1 to 32 hex), padded to 32; null if it is not one. */
function jaegerLookupId(raw) {
  const hex = raw.toLowerCase();
  return /^[0-9a-f]{1,32}$/.test(hex) ? hex.padStart(32, "0") : null;
}

function jaeger(res, url) {
  const p = url.pathname;
  const params = url.searchParams;
  if (p === "/api/services") {
    const s = allServices();
    return send(res, 200, { data: s, total: s.length, limit: 0, offset: 0, errors: null });
  }
  let m = p.match(/^\/api\/services\/([^/]+)\/operations$/);
  if (m) {
    const service = decodeURIComponent(m[1]);
    const ops = new Set();
    for (const id of traces.keys()) for (const x of flatSpans(id)) if (x.service === service) ops.add(x.s.name);
    return send(res, 200, { data: [...ops].sort(), total: ops.size, limit: 0, offset: 0, errors: null });
  }
  m = p.match(/^\/api\/traces\/([^/]+)$/);
  if (m) {
    const id = jaegerLookupId(decodeURIComponent(m[1]));
    if (!id) return jaegerError(res, 400, `strconv.ParseUint: parsing ${JSON.stringify(decodeURIComponent(m[1]))}: invalid syntax`);
    if (!traces.has(id)) return jaegerError(res, 404, "trace not found");
    return send(res, 200, jaegerBody([jaegerTrace(id)]));
  }
  if (p === "/api/traces") {
    const service = params.get("service");
    if (!service) return jaegerError(res, 400, "parameter 'service' is required");
    const want = [];
    const tagsParam = params.get("tags");
    if (tagsParam) {
      let obj;
      try {
        obj = JSON.parse(tagsParam);
      } catch (e) {
        return jaegerError(res, 400, `malformed 'tags' parameter: ${e.message}`);
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj) || Object.values(obj).some((v) => typeof v !== "string")) {
        return jaegerError(res, 400, "malformed 'tags' parameter: want a JSON object of strings");
      }
      want.push(...Object.entries(obj));
    }
    for (const t of params.getAll("tag")) {
      const i = t.indexOf(":");
      if (i < 1) return jaegerError(res, 400, `malformed 'tag' parameter, expecting key:value, received: ${t}`);
      want.push([t.slice(0, i), t.slice(i + 1)]);
    }
    const operation = params.get("operation");
    const rawLimit = params.get("limit");
    const limit = rawLimit ? Number(rawLimit) : 20;
    if (!Number.isInteger(limit) || limit < 0) return jaegerError(res, 400, `unable to parse param 'limit': ${rawLimit}`);
    const text = (t) => String(t.value);
    const found = [];
    for (const id of traces.keys()) {
      const jt = jaegerTrace(id);
      const hit = jt.spans.some((s) => {
        const proc = jt.processes[s.processID];
        if (proc.serviceName !== service) return false;
        if (operation && s.operationName !== operation) return false;
        return want.every(([k, v]) => [...s.tags, ...proc.tags].some((t) => t.key === k && text(t) === v));
      });
      if (hit) found.push(jt);
    }
    found.sort((a, b) => Math.min(...b.spans.map((s) => s.startTime)) - Math.min(...a.spans.map((s) => s.startTime)) || a.traceID.localeCompare(b.traceID));
    return send(res, 200, jaegerBody(limit > 0 ? found.slice(0, limit) : found));
  }
  // api_v3 (grpc-gateway JSON).
  const v3Error = (code, message) => send(res, code, { error: { httpCode: code, message } });
  if (p === "/api/v3/services") return send(res, 200, { services: allServices() });
  if (p === "/api/v3/operations") {
    const service = params.get("service");
    const ops = new Set();
    for (const id of traces.keys()) for (const x of flatSpans(id)) if (x.service === service) ops.add(x.s.name);
    return send(res, 200, { operations: [...ops].sort().map((name) => ({ name, spanKind: "" })) });
  }
  m = p.match(/^\/api\/v3\/traces\/([^/]+)$/);
  if (m) {
    const id = jaegerLookupId(decodeURIComponent(m[1]));
    if (!id) return v3Error(400, `malformed parameter trace_id: ${decodeURIComponent(m[1])}`);
    if (!traces.has(id)) return v3Error(404, "No traces found");
    return send(res, 200, { result: traces.get(id) });
  }
  if (p === "/api/v3/traces") {
    const service = params.get("query.serviceName");
    if (!service) return v3Error(400, "service name must not be empty");
    const operation = params.get("query.operationName");
    // Jaeger 2.19+: `query.attributes` is a JSON object of strings (`{"k":"v"}`); the bracket form
    // `query.attributes[k]=v` is accepted too.
    const wantMap = {};
    for (const [k, v] of params.entries()) {
      if (k === "query.attributes") {
        let parsed;
        try {
          parsed = JSON.parse(v);
        } catch {
          return v3Error(400, "malformed parameter query.attributes");
        }
        if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return v3Error(400, "malformed parameter query.attributes");
        for (const [ak, av] of Object.entries(parsed)) wantMap[ak] = String(av);
      } else if (k.startsWith("query.attributes[")) {
        wantMap[k.replace(/^query\.attributes\[|\]$/g, "")] = v;
      }
    }
    const want = Object.entries(wantMap);
    const depth = Number(params.get("query.searchDepth") ?? 20) || 20;
    const hits = [];
    for (const id of traces.keys()) {
      const hit = flatSpans(id).some(
        (x) =>
          x.service === service &&
          (!operation || x.s.name === operation) &&
          want.every(([k, v]) => {
            const a = attr(x.s.attributes, k) ?? attr(x.resource, k);
            return a !== undefined && String(a) === v;
          }),
      );
      if (hit) hits.push(id);
    }
    if (hits.length === 0) return v3Error(404, "No traces found");
    hits.sort((a, b) => (traceShape(b).start > traceShape(a).start ? 1 : -1));
    return send(res, 200, { result: { resourceSpans: hits.slice(0, depth).flatMap((id) => traces.get(id).resourceSpans) } });
  }
  return null;
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

/**
 * Sentry search syntax: whitespace-separated terms, all AND-ed. Returns {terms, text}: terms are
 * {negate, key, tagOnly, values: [..]} or {negate, has: key}; text is the free text, lowercased. Throws a 400
 * on what Sentry refuses in this search (parentheses, OR/AND, unbalanced quotes or brackets, empty values).
 */
function parseSearch(q) {
  const terms = [];
  const text = [];
  let i = 0;
  const n = q.length;
  const fail = (at, why = "This is commonly caused by unmatched parentheses. Enclose any text in double quotes.") => {
    throw badRequest(`Parse error at '${q.slice(at, at + 30)}' (column ${at + 1}). ${why}`);
  };
  const quoted = () => {
    const start = i++;
    let out = "";
    while (i < n && q[i] !== '"') {
      if (q[i] === "\\" && i + 1 < n) {
        out += q[i + 1];
        i += 2;
      } else out += q[i++];
    }
    if (i >= n) fail(start, "Unbalanced quotes: a quoted value has no closing \".");
    i++;
    return out;
  };
  const bare = (stop) => {
    const start = i;
    while (i < n && !/\s/.test(q[i]) && !stop.includes(q[i])) {
      if (q[i] === '"' || q[i] === "(" || q[i] === ")") fail(i);
      i++;
    }
    return q.slice(start, i);
  };
  while (i < n) {
    if (/\s/.test(q[i])) {
      i++;
      continue;
    }
    const start = i;
    if (q[i] === "(" || q[i] === ")") fail(i, "Parentheses are not supported in this search.");
    let negate = false;
    if (q[i] === "!") {
      negate = true;
      i++;
    }
    let key = null;
    let tagOnly = false;
    const tm = q.slice(i).match(/^tags\[([^\]\s]+)\]:/);
    const km = q.slice(i).match(/^([A-Za-z0-9_.\-@\/]+):/);
    if (tm) {
      key = tm[1];
      tagOnly = true;
      i += tm[0].length;
    } else if (km) {
      key = km[1];
      i += km[0].length;
    }
    if (key === null) {
      // Free text.
      i = start;
      const word = q[i] === '"' ? quoted() : bare("");
      if (word === "OR" || word === "AND" || word === "||" || word === "&&") {
        fail(start, `Boolean statements containing "OR" or "AND" are not supported in this search.`);
      }
      text.push(word);
      continue;
    }
    let values;
    if (q[i] === '"') values = [quoted()];
    else if (q[i] === "[") {
      const open = i++;
      values = [];
      for (;;) {
        while (i < n && /\s/.test(q[i])) i++;
        if (i >= n) fail(open, "Unbalanced brackets: a list has no closing ].");
        if (q[i] === '"') values.push(quoted());
        else {
          const v = bare(",]").trim();
          if (v === "") fail(i, "Lists may not contain empty values.");
          if (v.includes("[")) fail(i);
          values.push(v);
        }
        while (i < n && /\s/.test(q[i])) i++;
        if (q[i] === ",") {
          i++;
          continue;
        }
        if (q[i] === "]") {
          i++;
          break;
        }
        fail(i >= n ? open : i, "Unbalanced brackets: a list has no closing ].");
      }
      if (i < n && !/\s/.test(q[i])) fail(i);
    } else {
      const v = bare("");
      if (v === "") fail(start, `Empty string after '${key}:'`);
      if (v.includes("[") || v.includes("]")) fail(start, "Unbalanced brackets.");
      values = [v];
    }
    if (key === "has" && !tagOnly) {
      if (values.length !== 1) fail(start, "has: takes one key.");
      const hm = values[0].match(/^tags\[(.+)\]$/);
      terms.push({ negate, has: hm ? hm[1] : values[0], tagOnly: Boolean(hm) });
    } else terms.push({ negate, key, tagOnly, values });
  }
  return { terms, text: text.join(" ").toLowerCase() };
}

/** Does `actual` (a value, an array of values, or null) match `want` (`*` is a wildcard)? `fold`: ignore case and dashes. */
function valueMatches(actual, want, fold = false) {
  if (actual === null || actual === undefined) return false;
  if (Array.isArray(actual)) return actual.some((a) => valueMatches(a, want, fold));
  let a = String(actual);
  let w = want;
  if (fold) {
    a = a.toLowerCase().replace(/-/g, "");
    w = w.toLowerCase().replace(/-/g, "");
  }
  if (!w.includes("*")) return a === w;
  const re = new RegExp(`^${w.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");
  return re.test(a);
}

const traceOf = (e) => e.contexts?.trace?.trace_id ?? null;
const FOLDED = new Set(["id", "trace", "trace.span", "trace.parent_span"]);

/** The value(s) of a search key or Discover field on an event; null when it has none. */
function eventValue(e, key, tagOnly = false) {
  if (tagOnly) return tag(e, key);
  const excs = e.entries?.find((x) => x.type === "exception")?.data?.values ?? [];
  switch (key) {
    case "id":
      return e.eventID;
    case "trace":
      return traceOf(e);
    case "trace.span":
      return e.contexts?.trace?.span_id ?? null;
    case "trace.parent_span":
      return e.contexts?.trace?.parent_span_id ?? null;
    case "event.type":
      return e.type;
    case "issue":
      return issueById.get(e.groupID)?.shortId ?? null;
    case "issue.id":
      return e.groupID;
    case "project":
    case "project.name":
      return e.projectSlug;
    case "project.id":
      return e.projectID;
    case "title":
      return e.title;
    case "message":
      return e.message || e.title;
    case "culprit":
      return e.culprit;
    case "platform":
      return e.platform;
    case "user.id":
      return e.user?.id ?? null;
    case "error.type":
      return excs.length ? excs.map((x) => x.type) : null;
    case "error.value":
      return excs.length ? excs.map((x) => x.value) : null;
    case "is":
      return issueById.get(e.groupID)?.status ?? null;
    default:
      return tag(e, key);
  }
}

function eventTermPasses(e, t) {
  if (t.has !== undefined) return eventValue(e, t.has, t.tagOnly) !== null;
  const actual = eventValue(e, t.key, t.tagOnly);
  if (t.key === "is" && !t.tagOnly) return t.values.some((v) => isStatus(actual, v));
  return t.values.some((v) => valueMatches(actual, v, !t.tagOnly && FOLDED.has(t.key)));
}

/** `is:` against an issue status; values that need data this fixture has not (assigned, …) always hold. */
function isStatus(status, v) {
  if (["unresolved", "resolved", "ignored"].includes(v)) return status === v;
  if (v === "archived") return status === "ignored";
  return true;
}

/** Does an issue pass one term? `is`, `project`, `issue`, `level` are the issue's; the rest any event's. */
function issueTermPasses(issue, t) {
  const events = eventsOf.get(issue.id);
  if (t.has !== undefined) return events.some((e) => eventValue(e, t.has, t.tagOnly) !== null);
  if (!t.tagOnly) {
    switch (t.key) {
      case "is":
        return t.values.some((v) => isStatus(issue.status, v));
      case "project":
      case "project.name":
        return t.values.some((v) => valueMatches(issue.project.slug, v));
      case "issue":
        return t.values.some((v) => valueMatches(issue.shortId.toUpperCase(), v.toUpperCase()));
      case "issue.id":
        return t.values.some((v) => valueMatches(issue.id, v));
      case "level":
        return t.values.some((v) => valueMatches(issue.level, v));
    }
  }
  return events.some((e) => eventTermPasses(e, t));
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
  const matches = allIssues.filter((i) => {
    if (projectsWanted && !projectsWanted.has(i.project.slug)) return false;
    if (envs && !eventsOf.get(i.id).some((e) => envs.has(tag(e, "environment")))) return false;
    if (range && !(Date.parse(i.lastSeen) >= range[0] && Date.parse(i.firstSeen) <= range[1])) return false;
    if (search.text && !`${i.title}\n${i.culprit ?? ""}`.toLowerCase().includes(search.text)) return false;
    return search.terms.every((t) => issueTermPasses(i, t) !== t.negate);
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

// Discover columns with their meta type; any other plain name is a tag column (as in Sentry).
const COLUMNS = {
  id: ["string", (e) => e.eventID],
  project: ["string", (e) => e.projectSlug],
  "project.name": ["string", (e) => e.projectSlug],
  "project.id": ["integer", (e) => Number(e.projectID)],
  trace: ["string", (e) => traceOf(e)],
  // A UInt64 column in Sentry's storage: the hex comes back without its leading zeros.
  "trace.span": ["string", (e) => e.contexts?.trace?.span_id?.replace(/^0+/, "") ?? null],
  "trace.parent_span": ["string", (e) => e.contexts?.trace?.parent_span_id ?? null],
  "issue.id": ["integer", (e) => Number(e.groupID)],
  issue: ["string", (e) => issueById.get(e.groupID)?.shortId ?? null],
  timestamp: ["date", discoverTime],
  title: ["string", (e) => e.title],
  message: ["string", (e) => e.message || e.title],
  culprit: ["string", (e) => e.culprit],
  "event.type": ["string", (e) => e.type],
  platform: ["string", (e) => e.platform],
  "user.id": ["string", (e) => e.user?.id ?? null],
  level: ["string", (e) => tag(e, "level")],
  environment: ["string", (e) => tag(e, "environment")],
  release: ["string", (e) => tag(e, "release")],
  transaction: ["string", (e) => tag(e, "transaction")],
};

function column(field) {
  if (COLUMNS[field]) return COLUMNS[field];
  const t = field.match(/^tags\[([^\]]+)\]$/);
  if (t) return ["string", (e) => tag(e, t[1])];
  if (/^[A-Za-z0-9_.\-@\/]+$/.test(field)) return ["string", (e) => tag(e, field)];
  throw badRequest(`Invalid field: ${field}. This fake Sentry serves plain columns and tags[…], no aggregates.`);
}

function discover([org], params, url) {
  checkOrg(org);
  const dataset = params.get("dataset");
  if (dataset !== "errors") throw badRequest(`this fake Sentry serves dataset=errors only, not ${dataset ?? "(none)"}`);
  const fields = params.getAll("field");
  if (fields.length === 0) throw badRequest("No columns selected");
  const columns = fields.map(column);
  const projectsWanted = requestedProjects(params);
  const envs = requestedEnvironments(params);
  const range = requestedRange(params);
  const search = parseSearch(params.get("query") ?? "");
  const rows = allEvents.filter((e) => {
    const t = Date.parse(e.dateCreated);
    if (projectsWanted && !projectsWanted.has(e.projectSlug)) return false;
    if (envs && !envs.has(tag(e, "environment"))) return false;
    if (range && !(t >= range[0] && t <= range[1])) return false;
    if (search.text && !`${e.title}\n${e.message ?? ""}`.toLowerCase().includes(search.text)) return false;
    return search.terms.every((term) => eventTermPasses(e, term) !== term.negate);
  });
  const sort = params.get("sort") || "-timestamp";
  const dir = sort.startsWith("-") ? -1 : 1;
  const sortField = sort.replace(/^-/, "");
  if (sortField !== "timestamp" && !fields.includes(sortField)) {
    throw badRequest(`Cannot sort by a field that is not selected: ${sortField}`);
  }
  const sortValue = sortField === "timestamp" ? (e) => Date.parse(e.dateCreated) : column(sortField)[1];
  const cmp = (a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1);
  rows.sort((a, b) => dir * cmp(sortValue(a), sortValue(b)) || a.eventID.localeCompare(b.eventID));
  const table = rows.map((e) => Object.fromEntries(fields.map((f, k) => [f, columns[k][1](e)])));
  const meta = {
    fields: Object.fromEntries(fields.map((f, k) => [f, columns[k][0]])),
    units: Object.fromEntries(fields.map((f) => [f, null])),
    isMetricsData: false,
    tips: {},
  };
  return page(url, params, table, { perPageKey: "per_page", defaultSize: 50, wrap: (data) => ({ data, meta }) });
}

// ------------------------------------------------------------------------------------- test control

let faults = [];
let requests = [];
let seq = 0;

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function compileFault(f, k) {
  if (!f || typeof f !== "object" || Array.isArray(f)) throw new Error(`fault ${k}: not an object`);
  if (typeof f.match !== "string") throw new Error(`fault ${k}: "match" must be a string`);
  const known = ["match", "regex", "method", "status", "body", "content_type", "headers", "retry_after", "delay_ms", "hang", "reset", "times"];
  for (const key of Object.keys(f)) if (!known.includes(key)) throw new Error(`fault ${k}: unknown key ${JSON.stringify(key)}`);
  if (f.status !== undefined && f.status !== null && !(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599)) {
    throw new Error(`fault ${k}: "status" must be an HTTP status`);
  }
  if (f.times !== undefined && f.times !== null && !(Number.isInteger(f.times) && f.times >= 0)) throw new Error(`fault ${k}: "times" must be a count`);
  if (f.delay_ms !== undefined && !(Number.isFinite(f.delay_ms) && f.delay_ms >= 0)) throw new Error(`fault ${k}: "delay_ms" must be >= 0`);
  if (f.headers !== undefined && (typeof f.headers !== "object" || Array.isArray(f.headers))) throw new Error(`fault ${k}: "headers" must be an object`);
  let re = null;
  if (f.regex) {
    try {
      re = new RegExp(f.match);
    } catch (e) {
      throw new Error(`fault ${k}: bad regex: ${e.message}`);
    }
  }
  return { spec: f, re, hits: 0, remaining: f.times ?? null };
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

/** The first armed fault for this request (and uses it up), with its index; null if none. */
function takeFault(method, rawPath) {
  const decoded = safeDecode(rawPath);
  for (let k = 0; k < faults.length; k++) {
    const f = faults[k];
    if (f.remaining === 0) continue;
    if (f.spec.method && f.spec.method.toUpperCase() !== method) continue;
    const hit = f.re ? f.re.test(rawPath) || f.re.test(decoded) : rawPath.includes(f.spec.match) || decoded.includes(f.spec.match);
    if (!hit) continue;
    f.hits++;
    if (f.remaining !== null) f.remaining--;
    return { fault: f.spec, index: k };
  }
  return null;
}

async function control(req, res, url) {
  const p = url.pathname;
  if (p === "/__faults") {
    if (req.method === "GET") {
      return send(res, 200, faults.map((f) => ({ ...f.spec, hits: f.hits, remaining: f.remaining })));
    }
    if (req.method === "DELETE") {
      faults = [];
      return send(res, 200, { faults: 0 });
    }
    if (req.method === "POST" || req.method === "PUT") {
      let list;
      try {
        const body = JSON.parse((await readBody(req)) || "[]");
        list = (Array.isArray(body) ? body : [body]).map(compileFault);
      } catch (e) {
        return send(res, 400, { detail: `bad faults: ${e.message}` });
      }
      faults = list;
      return send(res, 200, { faults: faults.length });
    }
    return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
  }
  if (p === "/__requests") {
    if (req.method === "GET") {
      const m = url.searchParams.get("match");
      return send(res, 200, m ? requests.filter((r) => r.path.includes(m) || safeDecode(r.path).includes(m)) : requests);
    }
    if (req.method === "DELETE") {
      requests = [];
      return send(res, 200, { requests: 0 });
    }
    return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
  }
  return send(res, 404, "no such control endpoint: /__faults and /__requests exist");
}

// --------------------------------------------------------------------------------------------- server

function upstreamOf(p) {
  if (p.startsWith("/api/0/")) return "sentry";
  if (p === "/api/echo" || p === "/api/search" || p.startsWith("/api/v2/") || p.startsWith("/api/status/")) return "tempo";
  if (p.startsWith("/api/services") || p.startsWith("/api/traces") || p.startsWith("/api/v3/")) return "jaeger";
  return "other";
}

function serve(req, res, url) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return send(res, 405, url.pathname.startsWith("/api/0/") ? { detail: `Method "${req.method}" not allowed.` } : "method not allowed");
  }
  if (url.pathname.startsWith("/api/0/")) return sentryApi(req, res, url);
  if (tempo(res, url) === null && jaeger(res, url) === null) send(res, 404, "404 page not found");
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const server = http.createServer(async (req, res) => {
  const started = process.hrtime.bigint();
  const url = new URL(req.url ?? "/", `http://${req.headers.host ?? `${opts.host}:${opts.port}`}`);
  if (url.pathname.startsWith("/__")) {
    try {
      return await control(req, res, url);
    } catch (e) {
      process.stderr.write(`fake-upstreams: ${e.stack}\n`);
      if (!res.headersSent) return send(res, 500, { detail: "fake-upstreams failed; see its log" });
      return;
    }
  }
  const entry = { seq: ++seq, method: req.method, path: req.url ?? "/", upstream: upstreamOf(url.pathname), status: null, fault: null, ms: null };
  requests.push(entry);
  const done = () => {
    entry.ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
    process.stderr.write(`fake-upstreams: ${req.method} ${req.url} -> ${entry.status ?? "-"} (${entry.ms} ms)${entry.fault !== null ? ` [fault ${entry.fault}]` : ""}\n`);
  };
  res.on("finish", () => {
    entry.status = res.statusCode;
    done();
  });
  try {
    const taken = takeFault(req.method, req.url ?? "/");
    if (taken) {
      const f = taken.fault;
      entry.fault = taken.index;
      if (f.delay_ms) await sleep(f.delay_ms);
      if (f.hang) {
        res.on("close", () => {
          if (!res.writableFinished) done();
        });
        return; // never answered
      }
      if (f.reset) {
        entry.status = 0;
        done();
        req.socket.destroy();
        return;
      }
      if (f.status !== undefined && f.status !== null) {
        const body = f.body === undefined ? "" : f.body;
        const text = typeof body === "string" ? body : JSON.stringify(body);
        const headers = {
          "content-type": f.content_type ?? (typeof body === "string" ? "text/plain; charset=utf-8" : "application/json"),
          "content-length": Buffer.byteLength(text),
          ...(f.retry_after !== undefined ? { "retry-after": String(f.retry_after) } : {}),
          ...Object.fromEntries(Object.entries(f.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)])),
        };
        res.writeHead(f.status, headers);
        return res.end(text);
      }
    }
    serve(req, res, url);
  } catch (e) {
    process.stderr.write(`fake-upstreams: ${e.stack}\n`);
    if (!res.headersSent) send(res, 500, { detail: "fake-upstreams failed; see its log" });
  }
});

server.listen(opts.port, opts.host, () => {
  const { port } = server.address();
  opts.port = port;
  process.stdout.write(`listening on http://${opts.host}:${port}\n`);
  process.stderr.write(
    `fake-upstreams: Tempo, Jaeger and Sentry (org ${ORG}) on http://${opts.host}:${port} ` +
      `(${traces.size} traces, ${allIssues.length} issues, ${allEvents.length} events)\n`,
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close();
    process.exit(0);
  });
}
