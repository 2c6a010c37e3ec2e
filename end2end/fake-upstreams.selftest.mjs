#!/usr/bin/env node
// Self-test of end2end/fake-upstreams.mjs: starts it on port 0 and checks what tracepin relies on, for every
// SDK scenario in end2end/fixtures/upstream/scenarios.json. Node 20, no dependencies.
//   node end2end/fake-upstreams.selftest.mjs      (exit status 1 on any failure)
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const fixtures = path.join(here, "fixtures", "upstream");
const readJson = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
const scenarios = readJson(path.join(fixtures, "scenarios.json")).scenarios;
const TOKEN = "selftest-token";

let failures = 0;
let checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) {
    failures++;
    console.log(`FAIL ${what}`);
  }
}
const section = (s) => console.log(`-- ${s}`);

const child = spawn(process.execPath, [path.join(here, "fake-upstreams.mjs"), "--port", "0", "--token", TOKEN], {
  stdio: ["ignore", "pipe", "pipe"],
});
child.stderr.resume();
const base = await new Promise((resolve, reject) => {
  const lines = readline.createInterface({ input: child.stdout });
  const timer = setTimeout(() => reject(new Error("no listening line within 10 s")), 10_000);
  lines.once("line", (line) => {
    clearTimeout(timer);
    const m = line.match(/^listening on (http:\/\/127\.0\.0\.1:\d+)$/);
    if (!m) reject(new Error(`unexpected first stdout line: ${line}`));
    resolve(m[1]);
  });
  child.once("exit", (code) => reject(new Error(`fake exited early (${code})`)));
});
console.log(`fake listening at ${base}`);

async function get(p, { auth = true } = {}) {
  const res = await fetch(base + p, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, text, json, headers: res.headers };
}
const qs = (o) => new URLSearchParams(o).toString();
const discoverUrl = (query, extra = []) => {
  const p = new URLSearchParams([["dataset", "errors"], ...["id", "project", "project.name", "trace", "trace.span", "timestamp", "title", "issue.id", "issue", "tags[transaction_id]", "tags[otel.trace_id]"].map((f) => ["field", f]), ["query", query], ["statsPeriod", "30d"], ["sort", "timestamp"], ["per_page", "100"], ...extra]);
  return `/api/0/organizations/acme/events/?${p}`;
};

try {
  let eventsChecked = 0;
  let tracesChecked = 0;
  for (const [name, sc] of Object.entries(scenarios)) {
    section(`${name} (${sc.correlation}, ${sc.traces.length} traces, ${sc.events.length} events)`);
    const expected = readJson(path.join(repo, "tests/fixtures/sdk", name, "expected.json"));
    check(expected.events.length === sc.events.length, `${name}: index has every expected.json event`);
    for (const t of sc.traces) {
      const r = await get(`/api/v2/traces/${t.trace_id}`, { auth: false });
      const n = r.json?.trace?.resourceSpans?.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)).length;
      check(r.status === 200 && n === t.span_count, `${name}: Tempo serves ${t.trace_id} with ${t.span_count} spans (got ${r.status}, ${n})`);
      const j = await get(`/api/traces/${t.trace_id}`, { auth: false });
      check(j.status === 200 && j.json.data[0].spans.length === t.span_count && j.json.errors === null, `${name}: Jaeger serves ${t.trace_id}`);
      tracesChecked++;
    }
    for (const ev of expected.events) {
      const idx = sc.events.find((e) => e.event_id === ev.event_id);
      const r = await get(discoverUrl(idx.sentry_query));
      const row = r.json?.data?.find((d) => d.id === ev.event_id);
      check(r.status === 200 && row, `${name}: ${idx.sentry_query} finds ${ev.event_id} (${r.status})`);
      if (row) {
        check(row.project === idx.project && row["project.name"] === idx.project, `${name}: row project of ${ev.event_id}`);
        check(String(row["issue.id"]) === idx.issue_id && row.issue === idx.short_id, `${name}: row issue of ${ev.event_id}`);
        check(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/.test(row.timestamp), `${name}: row timestamp of ${ev.event_id}`);
      }
      // Every SDK event the query finds belongs to that trace (by the scenario's own link); the fixture's
      // invented events (e.g. the ambiguous one on scenario e's trace) belong to no scenario.
      for (const d of r.json?.data ?? []) {
        const e = Object.values(scenarios).flatMap((s) => s.events).find((x) => x.event_id === d.id);
        check(!e || e.trace_id === ev.trace_id, `${name}: ${idx.sentry_query} finds only events of trace ${ev.trace_id} (got ${d.id})`);
      }
      const byId = await get(`/api/0/organizations/acme/eventids/${ev.event_id}/`);
      check(byId.status === 200 && byId.json.eventId === ev.event_id && byId.json.projectSlug === idx.project && byId.json.groupId === idx.issue_id, `${name}: eventids/${ev.event_id}`);
      const full = await get(`/api/0/projects/acme/${idx.project}/events/${ev.event_id}/`);
      const e = full.json;
      check(full.status === 200 && e.eventID === ev.event_id && Array.isArray(e.entries) && Array.isArray(e.tags) && e.tags.every((t) => "key" in t && "value" in t), `${name}: project event ${ev.event_id} is a full event`);
      check(Object.values(e?.contexts ?? {}).every((c) => typeof c.type === "string"), `${name}: contexts of ${ev.event_id} carry a type`);
      if (sc.correlation === "contexts.trace") check(e?.contexts?.trace?.trace_id === ev.trace_id, `${name}: contexts.trace of ${ev.event_id} is the OTel trace`);
      if (sc.correlation === "otel_trace") {
        check(e?.contexts?.otel_trace?.trace_id === ev.trace_id && e?.contexts?.trace?.trace_id !== ev.trace_id, `${name}: otel_trace context of ${ev.event_id} (and a decoy contexts.trace)`);
        const dotted = await get(discoverUrl(`otel.trace_id:${ev.trace_id}`));
        check(dotted.json?.data?.some((d) => d.id === ev.event_id), `${name}: plain dotted key otel.trace_id: is the tag`);
      }
      const issue = await get(`/api/0/organizations/acme/issues/${idx.issue_id}/`);
      check(issue.status === 200 && issue.json.shortId === idx.short_id, `${name}: issue ${idx.short_id}`);
      const shortId = await get(`/api/0/organizations/acme/shortids/${idx.short_id}/`);
      check(shortId.status === 200 && shortId.json.groupId === idx.issue_id, `${name}: shortids/${idx.short_id}`);
      eventsChecked++;
    }
    if (sc.correlation === "transaction_id") {
      for (const t of sc.traces) {
        const r = await get(`/api/search?${qs({ q: t.tempo_query, limit: "20" })}`, { auth: false });
        const ids = r.json?.traces?.map((x) => x.traceID);
        check(r.status === 200 && ids.length === 1 && ids[0] === t.trace_id, `${name}: Tempo ${t.tempo_query} -> ${t.trace_id} (got ${ids})`);
        const set = r.json?.traces?.[0]?.spanSets?.[0];
        check(set && set.matched >= 1 && set.spans.every((s) => s.attributes.some((a) => a.key === "transaction_id" && a.value.stringValue === t.transaction_ids[0])), `${name}: spanset shape and matched attributes`);
        const [svc] = t.services.filter((s) => s !== "frontend");
        const j = await get(`/api/traces?${qs({ service: svc, tags: JSON.stringify({ transaction_id: t.transaction_ids[0] }), limit: "20" })}`, { auth: false });
        check(j.status === 200 && j.json.data.length === 1 && j.json.data[0].traceID === t.trace_id, `${name}: Jaeger tag search ${svc} transaction_id=${t.transaction_ids[0]}`);
      }
    }
  }
  console.log(`   ${eventsChecked} events and ${tracesChecked} traces found the way tracepin asks`);

  section("Sentry search syntax");
  const c = scenarios.c_custom_correlation_id;
  const txns = c.traces.flatMap((t) => t.transaction_ids);
  const find = async (q) => {
    const r = await get(discoverUrl(q));
    return { status: r.status, ids: (r.json?.data ?? []).map((d) => d.id).sort(), detail: r.json?.detail };
  };
  const cEvents = c.events.map((e) => e.event_id).sort();
  check((await find(`transaction_id:[${txns.join(", ")}]`)).ids.join() === cEvents.join(), "list syntax: any of");
  check((await find(`tags[transaction_id]:[${txns.map((t) => `"${t}"`).join(",")}]`)).ids.join() === cEvents.join(), "tags[key]:[quoted, …]");
  check((await find(`transaction_id:"${c.events[0].sentry_query.match(/txn-[0-9a-f]+/)[0]}" event.type:error`)).ids.length === 1, "quoted value AND event.type:error");
  check((await find(`has:transaction_id !transaction_id:${txns[1]}`)).ids.length === 2, "has: and negation");
  check((await find(`has:transaction_id !has:trace`)).ids.length === 1, "!has:trace: the payments event without contexts.trace");
  check((await find(`transaction_id:txn-*`)).ids.join() === cEvents.join(), "wildcard");
  check((await find(`id:${c.events[0].event_id.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5")}`)).ids.join() === c.events[0].event_id, "id: with a dashed UUID");
  check((await find(`title:"${"x \\\"quoted\\\" y"}"`)).ids.length === 0, "backslash escapes in quotes parse");
  const e = scenarios.e_nasty_multi_error;
  check((await find(`trace:${e.traces[0].trace_id.toUpperCase()}`)).ids.length === 6, "trace: (scenario e's five and the ambiguous event)");
  for (const bad of ["(trace:abc)", "a OR b", 'title:"unbalanced', "transaction_id:[a, b", "transaction_id:[]", "key:", "tags[x]:[a,,b]"]) {
    const r = await find(bad);
    check(r.status === 400 && /Parse error|Lists/.test(r.detail ?? ""), `400 for ${JSON.stringify(bad)} (${r.status} ${r.detail})`);
  }
  const paged = await get(discoverUrl("", [["per_page", "10"]]).replace("per_page=100&", ""));
  check(/rel="next"; results="true"/.test(paged.headers.get("link") ?? "") && paged.json.data.length === 10, "Discover pages with a Link header");

  section("issue list: what browse.spec.ts sees is unchanged");
  const sentry = readJson(path.join(fixtures, "sentry.json"));
  const list = async (o) => {
    const out = [];
    let cursor = "";
    for (;;) {
      const r = await get(`/api/0/organizations/acme/issues/?${qs({ ...o, limit: "25", ...(cursor ? { cursor } : {}) })}`);
      out.push(...r.json.map((i) => i.id));
      const next = (r.headers.get("link") ?? "").match(/rel="next"; results="true"; cursor="([^"]+)"/);
      if (!next) return out;
      cursor = next[1];
    }
  };
  const l14 = await list({ query: "is:unresolved", statsPeriod: "14d" });
  check(l14.length === 52 && new Set(l14).size === 52 && l14.every((id) => sentry.issues.some((i) => i.id === id)), `14d: the 52 issues of sentry.json (${l14.length})`);
  check((await list({ query: "is:unresolved", statsPeriod: "24h" })).length === 13, "24h: 13");
  check((await list({ query: "GatewayTimeout", statsPeriod: "14d" })).join() === "6012345112,6012345111", "GatewayTimeout: PAYMENTS-22, PAYMENTS-21");
  check((await list({ query: "is:unresolved", statsPeriod: "30d" })).length === 69, "30d: 52 + the 17 issues of sentry-sdk.json");
  check((await list({ query: "transaction_id:txn-935746d4", statsPeriod: "30d" })).length === 1, "issue search by tag");

  section("Tempo TraceQL");
  const tq = async (q) => get(`/api/search?${qs({ q, limit: "100" })}`, { auth: false });
  const errTraces = (await tq("{ status = error }")).json.traces;
  check(errTraces.every((t) => t.spanSets[0].matched >= 1) && errTraces.length === 17, `{ status = error }: ${errTraces.length} traces with an error span`);
  check((await tq("{}")).json.traces.length === 23, "{}: every trace");
  check((await tq('{ resource.service.name = "order-worker" && span."messaging.system" = "queue" || .transaction_id = "nope" }')).status === 200, "quoted attribute names, && and ||");
  const sev = scenarios.b_manual_context.events[0];
  const r = await tq(`{ span.sentry.event_id = "${sev.event_id}" }`);
  check(r.json.traces.length === 1 && r.json.traces[0].traceID === sev.trace_id, "b: span attribute sentry.event_id finds the trace");
  check((await tq('{ .transaction_id = "a\\"b" }')).status === 200, "string escapes");
  check((await tq("{ kind = server && duration > 1ms }")).json.traces.length > 0, "intrinsics and durations");
  for (const bad of ["{ status = error", "{ span.x = }", '{ span.x = "open }', "{ status = bogus }", "{ } | count() > 1", "status = error"]) {
    const x = await tq(bad);
    check(x.status === 400 && x.text.startsWith("invalid TraceQL query"), `400 for TraceQL ${JSON.stringify(bad)} (${x.status} ${x.text})`);
  }

  section("Jaeger");
  const ref = readJson(path.join(repo, "tests/fixtures/formats/jaeger-v1.d2-inventory.json")).data[0];
  const got = (await get(`/api/traces/${ref.traceID}`, { auth: false })).json.data[0];
  const shiftUs = Number(BigInt(scenarios.d_dedupe_record_exception.time_shift_ns) / 1000n);
  const unshift = (t) => ({ ...t, spans: t.spans.map((s) => ({ ...s, startTime: s.startTime - shiftUs, logs: s.logs.map((l) => ({ ...l, timestamp: l.timestamp - shiftUs })) })) });
  check(JSON.stringify(unshift(got)) === JSON.stringify(ref), "OTLP -> Jaeger v1 equals tests/fixtures/formats/jaeger-v1.d2-inventory.json (times moved by the scenario's shift)");
  const nf = await get(`/api/traces/0badf00d0badf00d0badf00d0badf00d`, { auth: false });
  check(nf.status === 404 && nf.json.data === null && nf.json.errors[0].code === 404 && nf.json.errors[0].msg === "trace not found", "Jaeger 404");
  const noSvc = await get(`/api/traces?tags=${encodeURIComponent('{"a":"b"}')}`, { auth: false });
  check(noSvc.status === 400 && noSvc.json.errors[0].msg === "parameter 'service' is required", "Jaeger search needs service");
  const errTag = await get(`/api/traces?${qs({ service: "payments", tags: JSON.stringify({ error: "true", "deployment.environment.name": "demo" }) })}`, { auth: false });
  check(errTag.status === 200 && errTag.json.data.length > 0, "Jaeger tags on span and process tags (error=true, a resource attribute)");
  check((await get(`/api/traces/ede14f0c0a1f207d`, { auth: false })).json.data[0].traceID === "ede14f0c0a1f207d", "Jaeger 64-bit id");
  check((await get(`/api/v3/traces/${ref.traceID}`, { auth: false })).json.result.resourceSpans.length > 0, "api_v3 trace");
  check((await get(`/api/v3/services`, { auth: false })).json.services.length === 5, "api_v3 services");

  section("faults and the request log");
  const post = (body) => fetch(`${base}/__faults`, { method: "POST", body: JSON.stringify(body) });
  await fetch(`${base}/__requests`, { method: "DELETE" });
  check((await post([{ match: "/api/0/organizations/acme/events/", status: 429, retry_after: 3, body: { detail: "slow down" }, times: 1 }])).status === 200, "POST /__faults");
  const f1 = await get(discoverUrl("trace:abc"));
  check(f1.status === 429 && f1.headers.get("retry-after") === "3" && f1.json.detail === "slow down", "429 with Retry-After, once");
  check((await get(discoverUrl(`trace:${e.traces[0].trace_id}`))).status === 200, "… then served again");
  await post({ match: "trace:" + e.traces[0].trace_id, status: 200, body: "<html>garbage", content_type: "text/html" });
  const g = await get(discoverUrl(`trace:${e.traces[0].trace_id}`));
  check(g.status === 200 && g.text === "<html>garbage" && g.headers.get("content-type") === "text/html", "garbage body; match on the decoded query");
  await post([{ match: "^/api/v2/traces/", regex: true, hang: true }, { match: "/api/0/", status: 401, body: { detail: "Invalid token" } }]);
  const ctl = new AbortController();
  const t0 = Date.now();
  const hung = await fetch(`${base}/api/v2/traces/${e.traces[0].trace_id}`, { signal: AbortSignal.timeout(300) }).then(() => "answered", (err) => err.name);
  check(hung === "TimeoutError" && Date.now() - t0 >= 250, `hang (${hung})`);
  check((await get("/api/0/")).status === 401, "401");
  await post({ match: "/api/echo", delay_ms: 200 });
  const t1 = Date.now();
  const echo = await get("/api/echo", { auth: false });
  check(echo.text === "echo" && Date.now() - t1 >= 190, "delay only, then served");
  check((await post({ match: 5 })).status === 400, "malformed faults are a 400");
  const listed = (await get("/__faults", { auth: false })).json;
  check(listed.length === 1 && listed[0].hits === 1, "GET /__faults with hits");
  await fetch(`${base}/__faults`, { method: "DELETE" });
  check((await get("/api/0/")).status === 200, "DELETE /__faults clears");
  const log = (await get("/__requests", { auth: false })).json;
  const sentryCount = log.filter((x) => x.upstream === "sentry").length;
  check(log.length === 7 && sentryCount === 5 && log[0].status === 429 && log[0].fault === 0 && log.some((x) => x.status === null), `request log (${log.length} requests, ${sentryCount} Sentry)`);
  check(log.every((x) => !x.path.startsWith("/__")), "control requests are not logged");
  await fetch(`${base}/__requests`, { method: "DELETE" });
  check((await get("/__requests", { auth: false })).json.length === 0, "DELETE /__requests");
} catch (e) {
  failures++;
  console.log(`FAIL ${e.stack}`);
} finally {
  child.kill("SIGTERM");
}
console.log(`${checks} checks, ${failures} failed`);
process.exit(failures ? 1 : 0);
