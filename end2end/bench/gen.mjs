// Generates a synthetic trace of N spans (OTLP JSON) plus Sentry envelopes pinned into it, for the
// browser benchmark. Usage: node gen.mjs N OUT_DIR
import fs from "node:fs";
import path from "node:path";

const n = Number(process.argv[2] ?? 10000);
const out = process.argv[3] ?? `bench-${n}`;
fs.mkdirSync(out, { recursive: true });

let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const hex = (bytes) => Array.from({ length: bytes }, () => Math.floor(rand() * 256).toString(16).padStart(2, "0")).join("");
// Span ids must be unique: the LCG's 8-byte draws repeat (100k draws gave 1,522 distinct ids), so
// each id is a counter through an odd 64-bit multiplier (a bijection). The draw is still made so that
// the rest of the random sequence, and so the tree, stays as before.
let idCounter = 0n;
const spanId = () => {
  hex(8);
  idCounter += 1n;
  return ((idCounter * 0x9e3779b97f4a7c15n) & 0xffffffffffffffffn).toString(16).padStart(16, "0");
};
const services = ["frontend", "checkout-api", "payments", "inventory", "order-worker", "search", "email"];
const traceId = hex(16);
const base = 1763700000000000000n;
const spans = [];
// A wide, moderately deep tree: each span gets children until n spans exist.
const queue = [{ id: spanId(), parent: null, start: 0, dur: 60_000_000_000, depth: 0, svc: 0 }];
// A read index instead of `shift()`, which copies the whole queue each time (hours at 1M spans).
let head = 0;
while (spans.length < n && head < queue.length) {
  const s = queue[head];
  queue[head++] = undefined;
  spans.push(s);
  const kids = s.depth < 12 ? 1 + Math.floor(rand() * 6) : 0;
  let t = s.start + Math.floor(s.dur * 0.02);
  for (let k = 0; k < kids && spans.length + (queue.length - head) < n; k++) {
    const dur = Math.max(1000, Math.floor((s.dur / (kids + 1)) * (0.3 + rand() * 0.6)));
    queue.push({ id: spanId(), parent: s.id, start: t, dur, depth: s.depth + 1, svc: rand() < 0.3 ? Math.floor(rand() * services.length) : s.svc });
    t += Math.floor(dur * 1.05);
  }
}
// GEN_ATTRS=rich gives each span the attributes a real instrumented service records (HTTP, database,
// thread, code location: about 1 KB of OTLP JSON a span, as large as Jaeger JSON of real traces);
// the default is one attribute, as the earlier figures were taken.
const rich = process.env.GEN_ATTRS === "rich";
const str = (key, v) => ({ key, value: { stringValue: v } });
const int = (key, v) => ({ key, value: { intValue: String(v) } });
function attributes(s) {
  const route = `/op/${s.depth}`;
  if (!rich) return [str("http.route", route)];
  return [
    str("http.route", route),
    str("http.request.method", ["GET", "POST", "PUT"][s.depth % 3]),
    str("url.full", `https://${services[s.svc]}.internal.example.com${route}?page=${s.depth % 7}&limit=50`),
    int("http.response.status_code", 200),
    str("server.address", `${services[s.svc]}.internal.example.com`),
    int("server.port", 8080),
    str("network.protocol.version", "1.1"),
    str("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"),
    str("db.system", "postgresql"),
    str("db.query.text", `SELECT id, status, total, created_at FROM orders WHERE customer_id = $1 AND depth = ${s.depth} LIMIT 50`),
    int("thread.id", 1000 + (s.depth % 16)),
    str("thread.name", `worker-${s.depth % 16}`),
    str("code.function", `handle_op_${s.depth}`),
    str("code.filepath", `/app/${services[s.svc]}/handlers/op_${s.depth}.py`),
    str("transaction_id", `tx-${s.id.slice(0, 12)}`),
  ];
}
const bySvc = new Map();
for (const s of spans) {
  const list = bySvc.get(s.svc) ?? [];
  list.push({
    traceId, spanId: s.id, ...(s.parent ? { parentSpanId: s.parent } : {}),
    name: `${["GET", "POST", "SELECT", "publish", "render"][s.depth % 5]} /op/${s.depth}/${Math.floor(rand() * 1000)}`,
    kind: 1 + (s.depth % 5),
    startTimeUnixNano: String(base + BigInt(s.start)),
    endTimeUnixNano: String(base + BigInt(s.start + s.dur)),
    attributes: attributes(s),
    status: rand() < 0.01 ? { code: 2, message: "failed" } : {},
  });
  bySvc.set(s.svc, list);
}
const doc = {
  resourceSpans: [...bySvc.entries()].map(([svc, list]) => ({
    resource: { attributes: [{ key: "service.name", value: { stringValue: services[svc] } }] },
    scopeSpans: [{ scope: { name: "bench" }, spans: list }],
  })),
};
fs.writeFileSync(path.join(out, "trace.otlp.json"), JSON.stringify(doc));
// 1 error per 1000 spans (at least 5; GEN_ERRORS sets another count), each pinned by contexts.trace.
const errors = Number(process.env.GEN_ERRORS ?? Math.max(5, Math.floor(n / 1000)));
for (let i = 0; i < errors; i++) {
  const s = spans[Math.floor(rand() * spans.length)];
  const id = hex(16);
  const ev = {
    event_id: id, level: "error", platform: "python",
    timestamp: Number(base + BigInt(s.start + Math.floor(s.dur / 2))) / 1e9,
    release: `${services[s.svc]}@1.0.0`, server_name: `${services[s.svc]}-host`,
    exception: { values: [{ type: "BenchError", value: `failure ${i}`, stacktrace: { frames: [{ filename: "app.py", function: "handler", lineno: 10, in_app: true }] } }] },
    contexts: { trace: { trace_id: traceId, span_id: s.id } },
  };
  fs.writeFileSync(path.join(out, `${String(i).padStart(4, "0")}.envelope`),
    `${JSON.stringify({ event_id: id })}\n${JSON.stringify({ type: "event" })}\n${JSON.stringify(ev)}\n`);
}
fs.writeFileSync(path.join(out, "TRACE_ID"), traceId);
console.log(`${out}: ${spans.length} spans, ${errors} errors, trace ${traceId}`);
