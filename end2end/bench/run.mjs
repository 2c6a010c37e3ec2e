// Browser benchmark: starts tracepin on generated traces (files backend) and prints first-row time,
// time to all rows loaded, JS heap and the longest task while scrolling top to bottom; median of 3.
// Usage (from the project root, after a release build): node end2end/bench/run.mjs [1000 10000 100000]
// With BENCH_SOURCE=store the generated files are loaded with `tracepin import` and served from the
// local store instead of the files backend.
import { chromium } from "playwright-core";
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
if (!sizes.length) sizes.push(1000, 10000, 100000);
const bin = process.env.TRACEPIN_BIN ?? path.join(root, "target/release/tracepin");
const port = 3300;
const source = process.env.BENCH_SOURCE === "store" ? "store" : "files";
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function waitUp(url) {
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(url)).ok) return; } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

const results = [];
for (const n of sizes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tracepin-bench-${n}-`));
  execFileSync("node", [path.join(root, "end2end/bench/gen.mjs"), String(n), dir], { stdio: "inherit" });
  const traceId = fs.readFileSync(path.join(dir, "TRACE_ID"), "utf8").trim();
  let args = ["--files-dir", dir];
  if (source === "store") {
    const data = path.join(dir, ".store");
    // TRACE_ID is not a trace file: `import` reports it and exits 1 after loading the rest.
    try { execFileSync(bin, ["import", "--data", data, dir], { cwd: root, stdio: "ignore" }); } catch {}
    args = ["--data", data];
  }
  const server = spawn(bin, [...args, "--addr", `127.0.0.1:${port}`], { cwd: root, stdio: "ignore" });
  try {
    await waitUp(`http://127.0.0.1:${port}/healthz`);
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--enable-precise-memory-info"],
    });
    const runs = [];
    for (let r = 0; r < 3; r++) {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const url = `http://127.0.0.1:${port}/trace/${traceId}`;
      const t0 = Date.now();
      const res = await page.goto(url, { waitUntil: "commit" });
      const htmlBytes = Number((await res.headerValue("content-length")) ?? 0) || (await res.body()).length;
      await page.waitForSelector("[data-testid=waterfall-row]");
      const firstRow = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        return performance.now() - (nav ? nav.startTime : 0);
      });
      await page.waitForFunction(() => document.documentElement.dataset.hydrated === "true");
      // All rows have arrived when the scroll height covers every row.
      await page.waitForFunction((n) => {
        const s = document.querySelector("[data-testid=waterfall-scroller]");
        return s && s.scrollHeight >= (n - 1) * 26;
      }, n, { timeout: 120000 });
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
      runs.push({ firstRow, idle, heap, wasm, longest: longest.worst, frame: longest.worstFrame, htmlBytes, rowsInDom });
      await page.close();
    }
    await browser.close();
    const rowsBytes = fs.statSync(path.join(dir, "trace.otlp.json")).size;
    results.push({
      spans: n,
      firstRowMs: Math.round(median(runs.map((r) => r.firstRow))),
      allRowsMs: Math.round(median(runs.map((r) => r.idle))),
      heapMB: +(median(runs.map((r) => r.heap)) / 1e6).toFixed(1),
      wasmMB: +(median(runs.map((r) => r.wasm)) / 1e6).toFixed(1),
      frameMs: Math.round(median(runs.map((r) => r.frame))),
      longestScrollTaskMs: Math.round(median(runs.map((r) => r.longest))),
      htmlKB: +(median(runs.map((r) => r.htmlBytes)) / 1024).toFixed(1),
      rowsInDom: median(runs.map((r) => r.rowsInDom)),
      otlpMB: +(rowsBytes / 1e6).toFixed(1),
    });
  } finally {
    server.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`\nsource: ${source}`);
console.log("\n| spans | first row (ms) | all rows loaded (ms) | JS heap (MB) | WASM memory (MB) | longest task while scrolling (ms, 0 = none over 50) | slowest scroll step (ms) | HTML (KB) | rows in DOM | source OTLP JSON (MB) |");
console.log("|---|---|---|---|---|---|---|---|---|---|");
for (const r of results) {
  console.log(`| ${r.spans} | ${r.firstRowMs} | ${r.allRowsMs} | ${r.heapMB} | ${r.wasmMB} | ${r.longestScrollTaskMs} | ${r.frameMs} | ${r.htmlKB} | ${r.rowsInDom} | ${r.otlpMB} |`);
}
