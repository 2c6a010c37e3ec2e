// Browser benchmark: starts tracepin on generated traces and prints, per size, when the first row was
// painted (Element Timing) and when the page became interactive (hydrated), cold (after the server's
// caches expired) and warm, the time until every row has arrived, page memory (JS heap
// + WebAssembly), the longest task while scrolling top to bottom, and the server's memory: idle, peak,
// and after its caches expired. At 1M spans (and whenever BENCH_WALK=1) it also walks the page: the
// last row scrolled into view, then every error stepped through with `n`.
// Usage (from the project root, after a release build): node end2end/bench/run.mjs [1000 10000 100000]
// BENCH_SOURCE: `files` (default, the files backend), `store` (loaded with `tracepin import`, served
// from the local store) or `jaeger` (a Jaeger api_v3 endpoint in this process serves the trace).
// BENCH_EXPIRY_WAIT: seconds to wait for the caches to expire before the last RSS reading (60: a
// timeline lives 30 s after its last read, the sweep runs every 5 s, and jemalloc hands freed pages
// back over about 10 s more).
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(1000, 10000, 100000);
const bin = process.env.TRACEPIN_BIN ?? path.join(root, "target/release/tracepin");
const port = 3300;
const source = ["store", "jaeger"].includes(process.env.BENCH_SOURCE) ? process.env.BENCH_SOURCE : "files";
const expiryWait = Number(process.env.BENCH_EXPIRY_WAIT ?? 60);
// Cold loads per size (each after the server's caches expired): one cold load on a shared machine
// varies by a few hundred milliseconds, so the table shows their median and range.
const coldLoads = Math.max(1, Number(process.env.BENCH_COLD ?? 3));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUp(url) {
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(url)).ok) return; } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not come up`);
}

/** The server's resident memory now and at its peak, in MB (Linux /proc). */
function rss(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, "m")) ?? [0, 0])[1]);
  return { now: +(kb("VmRSS") / 1024).toFixed(0), peak: +(kb("VmHWM") / 1024).toFixed(0) };
}

/** A Jaeger api_v3 GetTrace endpoint serving one OTLP JSON file for one trace id. */
function jaegerServer(traceId, file) {
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === `/api/v3/traces/${traceId}`) {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"result":');
      const s = fs.createReadStream(file);
      s.on("end", () => res.end("}"));
      s.pipe(res, { end: false });
      return;
    }
    if (url.pathname.startsWith("/api/v3/traces/")) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end('{"error":{"httpCode":404,"message":"No traces found"}}');
    }
    if (url.pathname === "/api/v3/services") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end('{"services":[]}');
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"result":{"resourceSpans":[]}}');
  });
  return new Promise((resolve) => srv.listen(0, "127.0.0.1", () => resolve(srv)));
}

/** One page load: first row, all rows, memory, scrolling; the walk when asked. */
async function load(browser, url, n, walk, errors) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  // Before the page's own code: note when the first waterfall row enters the DOM and mark its text
  // for the Element Timing API, which then reports when that text was painted; and note when the
  // page has hydrated (`data-hydrated` set), i.e. became interactive.
  await page.addInitScript(() => {
    window.__bench = { inDom: null, painted: null, interactive: null };
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) if (window.__bench.painted === null) window.__bench.painted = e.renderTime || e.loadTime;
    }).observe({ type: "element", buffered: true });
    new MutationObserver((_, obs) => {
      const row = document.querySelector("[data-testid=waterfall-row]");
      if (!row) return;
      window.__bench.inDom = performance.now();
      for (const el of row.querySelectorAll("span")) el.setAttribute("elementtiming", "first-row");
      obs.disconnect();
    }).observe(document, { childList: true, subtree: true });
    new MutationObserver((_, obs) => {
      if (document.documentElement.dataset.hydrated !== "true") return;
      window.__bench.interactive = performance.now();
      obs.disconnect();
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
  const t0 = Date.now();
  const res = await page.goto(url, { waitUntil: "commit", timeout: 300000 });
  const htmlBytes = Number((await res.headerValue("content-length")) ?? 0) || (await res.body()).length;
  await page.waitForSelector("[data-testid=waterfall-row]", { timeout: 300000 });
  // What earlier versions of this bench reported as the first row: when the harness, polling the
  // page, saw a row. It waits for the main thread, so it includes hydration.
  const seen = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    return performance.now() - (nav ? nav.startTime : 0);
  });
  await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true", null, { timeout: 300000 });
  // Painted: the row's text on screen (Element Timing); where the API reports nothing, the row's
  // arrival in the DOM stands in.
  const { firstRow, interactive } = await page.evaluate(() => {
    const b = window.__bench;
    return { firstRow: b.painted ?? b.inDom, interactive: b.interactive };
  });
  // All rows have arrived when the scroll height covers every row.
  await page.waitForFunction((n) => {
    const s = document.querySelector("[data-testid=waterfall-scroller]");
    return s && s.scrollHeight >= (n - 1) * 26;
  }, n, { timeout: 600000, polling: 200 });
  const idle = Date.now() - t0;
  const heap = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
  const wasm = await page.evaluate(() => (window.tracepinWasmMemory ? window.tracepinWasmMemory.buffer.byteLength : 0));
  const longest = await page.evaluate(async () => {
    const s = document.querySelector("[data-testid=waterfall-scroller]");
    let worst = 0;
    let worstFrame = 0;
    const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) worst = Math.max(worst, e.duration); });
    obs.observe({ type: "longtask", buffered: false });
    const steps = 60;
    for (let i = 1; i <= steps; i++) {
      const t = performance.now();
      s.scrollTop = (s.scrollHeight * i) / steps;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      worstFrame = Math.max(worstFrame, performance.now() - t);
    }
    await new Promise((r) => setTimeout(r, 200));
    obs.disconnect();
    return { worst, worstFrame };
  });
  const rowsInDom = await page.locator("[data-testid=waterfall-row]").count();
  let walked = null;
  if (walk) {
    // The last row: scrolled to the bottom above, it must be in the DOM now.
    await page.waitForFunction((n) =>
      [...document.querySelectorAll("[data-testid=waterfall-row]")].some((r) => Number(r.dataset.row) === n - 1), n, { timeout: 10000 })
      .then(() => true, () => false)
      .then((lastRow) => { walked = { lastRow, errors: 0, of: errors }; });
    // Every error with `n`: each press selects the next error (the URL's `event=` changes) and its
    // row must be in the DOM, holding a pin, inside the scroller's view. The walk ends when it comes
    // back to an error already seen.
    await page.evaluate(() => {
      document.querySelector("[data-testid=waterfall-scroller]").scrollTop = 0;
      if (document.activeElement) document.activeElement.blur();
    });
    const seen = new Set();
    let last = null;
    for (let i = 0; i < errors + 1; i++) {
      await page.keyboard.press("n");
      const ev = await page.waitForFunction((prev) => {
        const e = new URL(location.href).searchParams.get("event");
        if (!e || e === prev) return null;
        const s = document.querySelector("[data-testid=waterfall-scroller]");
        const r = document.querySelector("[data-testid=waterfall-row][data-selected=true]");
        if (!r || !r.querySelector("[data-testid=error-pin]")) return null;
        const a = r.getBoundingClientRect(), b = s.getBoundingClientRect();
        return a.top >= b.top - 1 && a.bottom <= b.bottom + 1 ? e : null;
      }, last, { timeout: 10000 }).then((h) => h.jsonValue(), () => null);
      if (ev === null || seen.has(ev)) break;
      seen.add(ev);
      last = ev;
    }
    walked.errors = seen.size;
  }
  await page.close();
  return { firstRow, seen, interactive, idle, heap, wasm, longest: longest.worst, frame: longest.worstFrame, htmlBytes, rowsInDom, walked };
}

const results = [];
for (const n of sizes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tracepin-bench-${n}-`));
  execFileSync("node", ["--max-old-space-size=8192", path.join(root, "end2end/bench/gen.mjs"), String(n), dir], { stdio: "inherit" });
  const traceId = fs.readFileSync(path.join(dir, "TRACE_ID"), "utf8").trim();
  const errors = fs.readdirSync(dir).filter((f) => f.endsWith(".envelope")).length;
  let args = ["--files-dir", dir];
  let env = { ...process.env };
  let jaeger = null;
  if (source === "store") {
    const data = path.join(dir, ".store");
    // TRACE_ID is not a trace file: `import` reports it and exits 1 after loading the rest.
    try { execFileSync(bin, ["import", "--data", data, dir], { cwd: root, stdio: "ignore" }); } catch {}
    args = ["--data", data];
  } else if (source === "jaeger") {
    jaeger = await jaegerServer(traceId, path.join(dir, "trace.otlp.json"));
    // The project's Leptos.toml (the site settings) plus the Jaeger backend, its answers up to 2 GB.
    const config = path.join(dir, "bench.toml");
    fs.writeFileSync(config, `${fs.readFileSync(path.join(root, "Leptos.toml"), "utf8")}
[[jaeger]]
name = "bench"
url = "http://127.0.0.1:${jaeger.address().port}"
max_response_mb = 2048
`);
    args = ["--config", config, "--files-dir", path.join(dir, "errors")];
    fs.mkdirSync(path.join(dir, "errors"));
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith(".envelope"))) fs.renameSync(path.join(dir, f), path.join(dir, "errors", f));
  }
  const server = spawn(bin, [...args, "--addr", `127.0.0.1:${port}`], { cwd: root, stdio: "ignore", env });
  try {
    await waitUp(`http://127.0.0.1:${port}/healthz`);
    await sleep(1000);
    const idleRss = rss(server.pid).now;
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-precise-memory-info"],
    });
    const url = `http://127.0.0.1:${port}/trace/${traceId}`;
    const walk = n >= 1000000 || process.env.BENCH_WALK === "1";
    // A first load indexes the files and warms the browser; then, once the server's caches have
    // expired (30 s after the last read, swept every 5 s), run 1 is a cold load and runs 2 and 3 are warm.
    const first = await load(browser, url, n, false, errors);
    await sleep(37000);
    // The walk goes with the last run, after the figures of the three loads are taken (at 1M it lasts
    // minutes; when cache entries lived 30 s from creation it made the next "warm" run cold).
    const runs = [];
    for (let r = 0; r < 3; r++) runs.push(await load(browser, url, n, walk && r === 2, errors));
    // More cold loads, each after the caches expired again (their scrolling is not in the figures).
    const colds = [runs[0]];
    while (colds.length < coldLoads) {
      await sleep(37000);
      colds.push(await load(browser, url, n, false, errors));
    }
    await browser.close();
    const afterLoads = rss(server.pid);
    await sleep(expiryWait * 1000);
    const afterExpiry = rss(server.pid).now;
    const warm = runs.slice(1);
    results.push({
      spans: n,
      firstLoadMs: Math.round(first.firstRow),
      coldFirstRowMs: Math.round(median(colds.map((r) => r.firstRow))),
      coldFirstRows: colds.map((r) => Math.round(r.firstRow)),
      coldInteractiveMs: Math.round(median(colds.map((r) => r.interactive))),
      coldSeenMs: Math.round(median(colds.map((r) => r.seen))),
      interactiveMs: Math.round(median(warm.map((r) => r.interactive))),
      seenMs: Math.round(median(warm.map((r) => r.seen))),
      coldAllRowsMs: Math.round(median(colds.map((r) => r.idle))),
      firstRowMs: Math.round(median(warm.map((r) => r.firstRow))),
      allRowsMs: Math.round(median(warm.map((r) => r.idle))),
      pageMB: +((Math.max(...runs.map((r) => r.heap + r.wasm))) / 1e6).toFixed(1),
      heapMB: +(Math.max(...runs.map((r) => r.heap)) / 1e6).toFixed(1),
      wasmMB: +(Math.max(...runs.map((r) => r.wasm)) / 1e6).toFixed(1),
      frameMs: Math.round(Math.max(...runs.map((r) => r.frame))),
      longestScrollTaskMs: Math.round(Math.max(...runs.map((r) => r.longest))),
      htmlKB: +(median(runs.map((r) => r.htmlBytes)) / 1024).toFixed(1),
      rowsInDom: median(runs.map((r) => r.rowsInDom)),
      srcMB: +(fs.statSync(path.join(dir, "trace.otlp.json")).size / 1e6).toFixed(1),
      idleRss, peakRss: afterLoads.peak, afterLoadsRss: afterLoads.now, afterExpiry,
      walked: runs[2].walked,
    });
    console.log(JSON.stringify(results.at(-1)));
  } finally {
    server.kill("SIGTERM");
    if (jaeger) jaeger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`\nsource: ${source}; span attributes: ${process.env.GEN_ATTRS === "rich" ? "rich (15 a span)" : "one a span"}; cold = median of ${coldLoads} loads, each after the server's caches expired (a first load indexed the files; the range of the cold first rows in brackets), warm = median of the two loads after the first cold one; memory = the largest of the three loads`);
console.log("\n| spans | first row painted, cold / warm (ms) | interactive, cold / warm (ms) | row seen by the harness, cold / warm (ms) | all rows cold / warm (ms) | page memory: JS heap + WASM (MB) | longest task while scrolling (ms, 0 = none over 50) | slowest scroll step (ms) | HTML (KB) | rows in DOM | server RSS idle / peak / after loads / after expiry (MB) | source OTLP JSON (MB) | walk: last row, errors reached with n |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  const walked = r.walked ? `${r.walked.lastRow ? "yes" : "NO"}, ${r.walked.errors} of ${r.walked.of}` : "";
  console.log(`| ${r.spans} | ${r.coldFirstRowMs} (${Math.min(...r.coldFirstRows)}–${Math.max(...r.coldFirstRows)}) / ${r.firstRowMs} | ${r.coldInteractiveMs} / ${r.interactiveMs} | ${r.coldSeenMs} / ${r.seenMs} | ${r.coldAllRowsMs} / ${r.allRowsMs} | ${r.pageMB} (${r.heapMB} + ${r.wasmMB}) | ${r.longestScrollTaskMs} | ${r.frameMs} | ${r.htmlKB} | ${r.rowsInDom} | ${r.idleRss} / ${r.peakRss} / ${r.afterLoadsRss} / ${r.afterExpiry} | ${r.srcMB} | ${walked} |`);
}
