// Incident snapshots, as a reviewer meets them: a trace served by the fake Tempo + Sentry is frozen
// from its page, the upstreams go away, and the snapshot still shows the same rows, pins, selected
// event and filter; notes added in the page survive a restart; an exported file imported into a
// second, empty tracepin is the same snapshot; bad files are refused with a reason and store nothing;
// notes holding HTML stay text.
//
// This file starts its own processes (fake upstreams and two tracepins, on ports of their own), since
// it stops and restarts them.
import { test, expect, Page, APIRequestContext } from "@playwright/test";
import { spawn, ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { ids, hydrated, selectedRow } from "./live";

const root = path.resolve(__dirname, "../..");
const binary = path.resolve(root, process.env.TRACEPIN_BIN ?? "./target/release/tracepin");
const base = Number(process.env.TRACEPIN_E2E_PORT ?? 3123) + 20;
const fakePort = base;
const aPort = base + 1;
const bPort = base + 2;
const token = "snapshot-token";
const A = `http://127.0.0.1:${aPort}`;
const B = `http://127.0.0.1:${bPort}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), "tracepin-e2e-snap-"));
const dataA = path.join(work, "a");
const dataB = path.join(work, "b");

const children: ChildProcess[] = [];

async function waitUp(url: string, child: ChildProcess) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

async function stop(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await gone;
}

async function startFakes() {
  const c = spawn("node", ["end2end/fake-upstreams.mjs", "--port", String(fakePort), "--token", token], {
    cwd: root,
    stdio: "ignore",
  });
  children.push(c);
  await waitUp(`http://127.0.0.1:${fakePort}/api/echo`, c);
  return c;
}

/** tracepin A: talks to the fake upstreams, keeps snapshots in `dataA`. */
async function startA() {
  const c = spawn(
    binary,
    [
      "--addr", `127.0.0.1:${aPort}`,
      "--data", dataA,
      "--sentry-url", `http://127.0.0.1:${fakePort}`,
      "--sentry-org", "acme",
      "--tempo-url", `http://127.0.0.1:${fakePort}`,
    ],
    { cwd: root, stdio: "ignore", env: { ...process.env, SENTRY_AUTH_TOKEN: token, RUST_LOG: "warn" } },
  );
  children.push(c);
  await waitUp(`${A}/healthz`, c);
  return c;
}

/** tracepin B: nothing configured but an empty data directory of its own. */
async function startB() {
  const c = spawn(binary, ["--addr", `127.0.0.1:${bPort}`, "--data", dataB], {
    cwd: root,
    stdio: "ignore",
    env: { ...process.env, RUST_LOG: "warn" },
  });
  children.push(c);
  await waitUp(`${B}/healthz`, c);
  return c;
}

const E_TRACE: string = ids.traces.e;
const EVENT: string = ids.issues.order_worker.latest_event;

/** What the waterfall shows: every row's span id and every pin's event ids, in order. */
async function rowsAndPins(page: Page) {
  const rows = await page.getByTestId("waterfall-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-span-id")));
  const pins = await page.getByTestId("error-pin").evaluateAll((els) => els.map((e) => e.getAttribute("data-event-id")));
  return { rows, pins };
}

async function snapshotJson(request: APIRequestContext, origin: string, id: string) {
  const r = await request.get(`${origin}/api/snapshots/${id}/file`);
  expect(r.status()).toBe(200);
  const json = JSON.parse(zlib.gunzipSync(await r.body()).toString("utf8"));
  delete json.snapshot.meta.size_bytes; // the stored size, which each store measures itself
  return json;
}

test.describe.configure({ mode: "serial" });

let fakes: ChildProcess;
let a: ChildProcess;
let snapId = "";
let before: { rows: (string | null)[]; pins: (string | null)[] };

test.beforeAll(async () => {
  fakes = await startFakes();
  a = await startA();
});

test.afterAll(async () => {
  for (const c of children) await stop(c);
  fs.rmSync(work, { recursive: true, force: true });
});

test("freeze a live trace, stop the upstreams: the snapshot shows what the engineer saw", async ({ page }) => {
  test.setTimeout(90_000);
  // The engineer's view: an error selected and a filter typed.
  await page.goto(`${A}/trace/${E_TRACE}?v=1&event=${EVENT}`);
  await hydrated(page);
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", EVENT);
  await page.getByTestId("filter-input").fill("status=error");
  await expect(page.getByTestId("filter-count")).toContainText("match");
  const matches = await page.getByTestId("filter-count").textContent();
  const selectedSpan = await selectedRow(page).getAttribute("data-span-id");
  await expect(page.getByTestId("waterfall-row").first()).toBeVisible();
  before = await rowsAndPins(page);
  expect(before.pins.length).toBeGreaterThan(0);

  await page.getByTestId("freeze").click();
  await page.getByTestId("freeze-title").fill("Checkout incident <b>review</b>");
  await page.getByTestId("freeze-name").fill("ana");
  await page.getByTestId("freeze-submit").click();
  await page.waitForURL(/\/s\/[A-Za-z0-9_-]{22}$/);
  snapId = new URL(page.url()).pathname.split("/")[2];

  // Every upstream gone.
  await stop(fakes);
  expect((await fetch(`http://127.0.0.1:${fakePort}/api/echo`).catch(() => null)) === null).toBe(true);

  await page.goto(`${A}/s/${snapId}`);
  await hydrated(page);
  await expect(page.getByTestId("snapshot-banner")).toContainText("frozen by ana");
  await expect(page.getByTestId("snapshot-title")).toHaveText("Checkout incident <b>review</b>");
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", EVENT);
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", selectedSpan!);
  await expect(page.getByTestId("filter-input")).toHaveValue("status=error");
  await expect(page.getByTestId("filter-count")).toHaveText(matches!);
  expect(await rowsAndPins(page)).toEqual(before);
  // No upstream problem is reported: nothing was asked of them.
  await expect(page.getByTestId("notice").filter({ hasText: /unreachable|failed|refused/i })).toHaveCount(0);

  // Deep-link parameters work on a snapshot as on a live trace.
  await page.goto(`${A}/s/${snapId}?v=1`);
  await hydrated(page);
  await expect(page.getByTestId("filter-input")).toHaveValue("");
  await expect(page.getByTestId("event-detail")).toHaveCount(0);

  // The JSON download of a snapshot comes from the frozen copy too.
  const exp = await page.request.get(`${A}/api/export/${E_TRACE}?snap=${snapId}`);
  expect(exp.status()).toBe(200);
  expect(JSON.stringify(await exp.json())).toContain(EVENT);
});

test("notes added in the page persist across a restart; HTML in a note stays text", async ({ page }) => {
  test.setTimeout(90_000);
  expect(snapId).not.toBe("");
  await page.goto(`${A}/s/${snapId}`);
  await hydrated(page);
  // A note on the selected error's span.
  await page.getByTestId("note-name").fill("bo");
  await page.getByTestId("note-text-input").fill("payments gave up here");
  await page.getByTestId("note-add").click();
  await expect(page.getByTestId("note")).toHaveCount(1);
  // A note on the visible time range, holding markup that must not run.
  const hostile = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script> 14:02 deploy rolled back`;
  await page.getByTestId("note-target-range").check();
  await page.getByTestId("note-text-input").fill(hostile);
  await page.getByTestId("note-add").click();
  await expect(page.getByTestId("note")).toHaveCount(2);
  await expect(page.getByTestId("note-badge")).toHaveCount(1);
  await expect(page.getByTestId("note-range")).toHaveCount(1);

  // The author edits their note.
  await page.getByTestId("note").first().getByTestId("note-edit").click();
  await page.getByTestId("note-edit-text").fill("payments gave up here after 3 retries");
  await page.getByTestId("note-save").click();
  await expect(page.getByTestId("note-text").first()).toHaveText("payments gave up here after 3 retries");

  // Someone else cannot edit it: the server refuses.
  const other = await page.request.post(`${A}/api/annotation_edit`, {
    form: { id: snapId, note: (await page.getByTestId("note").first().getAttribute("data-note-id"))!, text: "mine", name: "eve" },
  });
  expect(other.status()).toBe(400);
  expect(await other.text()).toContain("Only the author");

  // Restart the server (upstreams still gone).
  await stop(a);
  a = await startA();
  await page.goto(`${A}/s/${snapId}`);
  await hydrated(page);
  await expect(page.getByTestId("note")).toHaveCount(2);
  await expect(page.getByTestId("note-text").first()).toHaveText("payments gave up here after 3 retries");
  await expect(page.getByTestId("note-author").first()).toHaveText("bo");
  await expect(page.getByTestId("note-text").nth(1)).toHaveText(hostile);
  expect(await page.getByTestId("notes-list").locator("img, script").count()).toBe(0);
  expect(await page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  // The note on a span is on its row; clicking a note goes to what it is on.
  await page.getByTestId("note-target").nth(1).click();
  await expect(page).toHaveURL(/w=/);
});

test("export, then import into an empty tracepin: the same snapshot", async ({ page }) => {
  test.setTimeout(90_000);
  expect(snapId).not.toBe("");
  const original = await snapshotJson(page.request, A, snapId);
  expect(original.format).toBe("tracepin-snapshot");
  expect(original.snapshot.annotations.length).toBe(2);

  await startB();
  const file = path.join(work, `tracepin-snapshot-${snapId}.tracepin.json.gz`);
  const r = await page.request.get(`${A}/api/snapshots/${snapId}/file`);
  fs.writeFileSync(file, await r.body());

  // Through the upload form, as a person does it.
  await page.goto(`${B}/snapshots`);
  await hydrated(page);
  await expect(page.getByTestId("snapshots-empty")).toBeVisible();
  await page.getByTestId("import-file").setInputFiles(file);
  await page.getByTestId("import-submit").click();
  await page.waitForURL(`${B}/s/${snapId}`);
  await hydrated(page);
  await expect(page.getByTestId("note")).toHaveCount(2);
  expect(await rowsAndPins(page)).toEqual(before);
  expect(await snapshotJson(page.request, B, snapId)).toEqual(original);

  // Importing it again is refused: it is already there.
  const again = await page.request.post(`${B}/api/snapshots/import`, { data: fs.readFileSync(file) });
  expect(again.status()).toBe(409);

  // It is listed with its size; deleting it removes it.
  await page.goto(`${B}/snapshots`);
  await hydrated(page);
  await expect(page.getByTestId("snapshot-row")).toHaveCount(1);
  await expect(page.getByTestId("snapshot-size")).toContainText(/KiB|MiB| B/);
  await page.getByTestId("snapshot-delete").click();
  await expect(page.getByTestId("snapshots-empty")).toBeVisible();
  expect((await page.request.get(`${B}/s/${snapId}`)).status()).toBe(404);
});

test("bad snapshot files are refused with a reason, and nothing is stored", async ({ page }) => {
  test.setTimeout(90_000);
  const good = zlib.gunzipSync(fs.readFileSync(path.join(work, `tracepin-snapshot-${snapId}.tracepin.json.gz`)));
  const future = JSON.parse(good.toString("utf8"));
  future.version = 99;
  future.snapshot.meta.id = "AAAAAAAAAAAAAAAAAAAAAA";
  const gz = zlib.gzipSync(good);
  const cases: [string, Buffer, number, RegExp][] = [
    ["malformed", zlib.gzipSync(Buffer.from('{"format":"tracepin-snapshot","version":1,"snapshot":{"meta":42}}')), 400, /malformed/],
    ["truncated", gz.subarray(0, Math.floor(gz.length / 2)), 400, /not a complete gzip file/],
    ["future version", zlib.gzipSync(Buffer.from(JSON.stringify(future))), 400, /newer tracepin/],
    ["not a snapshot", zlib.gzipSync(Buffer.from('{"resourceSpans":[]}')), 400, /not a tracepin snapshot/],
    ["oversized", Buffer.alloc(65 * 1024 * 1024 + 1, 0x1f), 413, /./],
  ];
  for (const [what, body, status, reason] of cases) {
    const r = await page.request.post(`${B}/api/snapshots/import`, { data: body });
    expect(r.status(), what).toBe(status);
    expect(await r.text(), what).toMatch(reason);
  }
  // The form shows the reason on the list page.
  const truncated = path.join(work, "truncated.tracepin.json.gz");
  fs.writeFileSync(truncated, gz.subarray(0, 200));
  await page.goto(`${B}/snapshots`);
  await hydrated(page);
  await page.getByTestId("import-file").setInputFiles(truncated);
  await page.getByTestId("import-submit").click();
  await expect(page.getByTestId("import-error")).toContainText("not a complete gzip file");
  await expect(page.getByTestId("snapshots-empty")).toBeVisible();
});
