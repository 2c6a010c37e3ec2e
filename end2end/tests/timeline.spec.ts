import { test, expect, Page } from "@playwright/test";
import { liveURL } from "./live";
import fs from "node:fs";
import path from "node:path";

// Ground truth written by the SDK data generator for the scenarios embedded in the demo.
const fixtures = path.resolve(__dirname, "../../tests/fixtures/sdk");
const expected = (scenario: string) =>
  JSON.parse(fs.readFileSync(path.join(fixtures, scenario, "expected.json"), "utf8"));
const E_TRACE = "d623a6d859f6f10504aae53c873bafc5";

async function ready(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("waterfall-row").first()).toBeVisible();
}

const selectedRow = (page: Page) => page.locator('[data-testid=waterfall-row][data-selected="true"]');

for (const scenario of ["e_nasty_multi_error", "a1_otlp_integration"]) {
  test(`pins land on the spans the ground truth names (${scenario})`, async ({ page }) => {
    const exp = expected(scenario);
    const placed = exp.events.filter((e: any) => e.span_exported);
    expect(placed.length).toBeGreaterThan(0);
    for (const ev of placed) {
      await page.goto(`/trace/${ev.trace_id}?v=1&event=${ev.event_id}`);
      await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", ev.event_id);
      await expect(selectedRow(page)).toHaveAttribute("data-span-id", ev.span_id);
      const row = page.locator(`[data-testid=waterfall-row][data-span-id="${ev.span_id}"]`);
      await expect(row.locator(`[data-testid=error-pin][data-event-id*="${ev.event_id}"]`)).toHaveCount(1);
    }
  });
}

test("clicking a pin opens the error with its stack trace; n walks through every error", async ({ page }) => {
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "EmailDeliveryError");
  await page.goto(`/trace/${E_TRACE}`);
  await ready(page);
  await page.locator(`[data-testid=error-pin][data-event-id*="${ev.event_id}"]`).click();
  const detail = page.getByTestId("event-detail");
  await expect(detail).toHaveAttribute("data-event-id", ev.event_id);
  await expect(detail).toContainText("EmailDeliveryError");
  await expect(page.getByTestId("matched-by")).toContainText("matched by span id from the Sentry OTel integration");
  await expect(detail.locator('[data-testid=frame][data-in-app="true"]').first()).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`event=${ev.event_id}`));

  // n / N: every pinned error in time order, wrapping around.
  const pins = await page.getByTestId("error-pin").evaluateAll((els) =>
    els.flatMap((e) => (e.getAttribute("data-event-id") ?? "").split(",")),
  );
  expect(pins.length).toBe(5);
  await page.keyboard.press("Escape");
  const seen = new Set<string>();
  let shown = "";
  for (let i = 0; i < pins.length; i++) {
    await page.keyboard.press("n");
    // The URL names the next error at once; the panel keeps the previous one until it has loaded.
    await expect(page).not.toHaveURL(new RegExp(`event=${shown || "none"}(&|$)`));
    const id = new URL(page.url()).searchParams.get("event");
    expect(id).toBeTruthy();
    await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", id!);
    shown = id!;
    seen.add(id!);
  }
  expect([...seen].sort()).toEqual([...pins].sort());
  const before = await page.getByTestId("event-detail").getAttribute("data-event-id");
  await page.keyboard.press("N");
  await page.keyboard.press("n");
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", before!);
});

test("collapsing a parent shows a hollow pin with the hidden count", async ({ page }) => {
  await page.goto(`/trace/${E_TRACE}`);
  await ready(page);
  const root = page.getByTestId("waterfall-row").first();
  await root.getByTestId("toggle").click();
  await expect(page.getByTestId("waterfall-row")).toHaveCount(1);
  await expect(root.getByTestId("hidden-pin")).toHaveText("5");
  await expect(page).toHaveURL(/c=[0-9a-f]{8}/);
  // Arrow keys expand again.
  await root.click();
  await page.keyboard.press("ArrowRight");
  await expect(page.getByTestId("waterfall-row")).toHaveCount(28);
});

test("the filter narrows rows, counts matches and steps through them", async ({ page }) => {
  await page.goto(`/trace/${E_TRACE}`);
  await ready(page);
  await page.keyboard.press("/");
  await expect(page.getByTestId("filter-input")).toBeFocused();
  await page.keyboard.type("service=payments status=error");
  await expect(page.getByTestId("filter-count")).toHaveText(/^[1-9]\d* match(es)?$/);
  // Answers to the partly typed filter may still be arriving: the count and the marked rows agree
  // once the last one is in.
  await expect
    .poll(async () => {
      const n = parseInt((await page.getByTestId("filter-count").textContent()) ?? "0", 10);
      const marked = await page.locator('[data-testid=waterfall-row][data-match="true"]').count();
      return n > 0 && n === marked;
    })
    .toBe(true);
  const rows = await page.getByTestId("waterfall-row").count();
  expect(rows).toBeLessThan(28);
  await page.keyboard.press("Enter");
  await expect(selectedRow(page)).toHaveAttribute("data-match", "true");
  await expect(page).toHaveURL(/q=service%3Dpayments/);
});

async function visibleState(page: Page) {
  return {
    selected: await selectedRow(page).getAttribute("data-span-id"),
    event: await page.getByTestId("event-detail").getAttribute("data-event-id"),
    filter: await page.getByTestId("filter-input").inputValue(),
    rows: await page.getByTestId("waterfall-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-span-id"))),
    axis: await page.getByTestId("time-axis").innerText(),
  };
}

test("a deep link reopens the identical view, also before any WebAssembly runs", async ({ page, browser }) => {
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "GatewayTimeout" && e.span_exported);
  const link = `/trace/${E_TRACE}?v=1&event=${ev.event_id}&w=5000-40000&q=payments`;
  await page.goto(link);
  await ready(page);
  const a = await visibleState(page);
  expect(a.selected).toBe(ev.span_id);
  expect(a.filter).toBe("payments");

  // Copy link gives the same state.
  await page.reload();
  await ready(page);
  expect(await visibleState(page)).toEqual(a);

  // JavaScript disabled: the server renders the same first paint.
  const ctx = await browser.newContext({ javaScriptEnabled: false, baseURL: page.url() });
  const noJs = await ctx.newPage();
  const res = await noJs.goto(link);
  expect(res?.status()).toBe(200);
  expect(await visibleState(noJs)).toEqual(a);
  await ctx.close();
});

test("back and forward move between selections", async ({ page }) => {
  await page.goto(`/trace/${E_TRACE}`);
  await ready(page);
  const rows = page.getByTestId("waterfall-row");
  const first = await rows.nth(2).getAttribute("data-span-id");
  const second = await rows.nth(5).getAttribute("data-span-id");
  await rows.nth(2).click();
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", first!);
  await rows.nth(5).click();
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", second!);
  await page.goBack();
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", first!);
  await page.goForward();
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", second!);
});

test("an event id the trace does not have is reported", async ({ page }) => {
  await page.goto(`/trace/${E_TRACE}?v=1&event=ffffffffffffffffffffffffffffffff`);
  await expect(page.locator('[data-testid=notice][data-kind="event_missing"]')).toContainText("ffffffffffffffffffffffffffffffff");
});

test("a trace that exists nowhere is a clear 404 that says where tracepin looked", async ({ page }) => {
  const res = await page.goto("/trace/0123456789abcdef0123456789abcdef");
  expect(res?.status()).toBe(404);
  await expect(page.getByTestId("trace-problem")).toContainText("Trace not found");
  await expect(page.getByTestId("trace-problem")).toContainText("Looked in");
  const bad = await page.goto("/trace/not-a-trace");
  expect(bad?.status()).toBe(400);
});

test("screenshots in light and dark mode", async ({ page }, testInfo) => {
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "GatewayTimeout" && e.span_exported);
  await page.setViewportSize({ width: 1440, height: 900 });
  for (const scheme of ["light", "dark"] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`/trace/${E_TRACE}?v=1&event=${ev.event_id}`);
    await ready(page);
    await expect(page.getByTestId("event-detail")).toBeVisible();
    const out = testInfo.outputPath(`timeline-${scheme}.png`);
    await page.screenshot({ path: out });
    if (process.env.UPDATE_SCREENSHOTS) {
      fs.copyFileSync(out, path.resolve(__dirname, `../../docs/timeline-${scheme}.png`));
    }
  }
});

test("copy link, copy as Markdown and download JSON", async ({ page, context }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "EmailDeliveryError");
  await page.goto(`/trace/${E_TRACE}?v=1&event=${ev.event_id}`);
  await ready(page);
  await expect(page.getByTestId("event-detail")).toBeVisible();

  await page.getByTestId("copy-link").click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(page.url());

  await page.getByTestId("copy-markdown").click();
  const md = await page.evaluate(() => navigator.clipboard.readText());
  expect(md).toContain("EmailDeliveryError");
  expect(md).toContain("Span path: frontend `POST /checkout`");
  expect(md).toContain(`/trace/${E_TRACE}?v=1&event=${ev.event_id}`);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("download-json").click()]);
  const file = await download.path();
  const json = JSON.parse(fs.readFileSync(file!, "utf8"));
  expect(json.timelines).toHaveLength(1);
  expect(json.timelines[0].trace_id).toBe(E_TRACE);
  const pin = json.timelines[0].pins.find((p: any) => p.event_id === ev.event_id);
  expect(pin).toMatchObject({ span_id: ev.span_id, matched_by: "span_id" });
  expect(json.events.length).toBe(5);
});

test("n scrolls the waterfall to every error of a trace taller than the screen", async ({ page }) => {
  // Scenario f: hundreds of spans, 20 errors spread over them; at this height most are off-screen.
  const exp = expected("f_large_trace");
  const trace = exp.events[0].trace_id;
  const placed = exp.events.filter((e: any) => e.span_exported && e.trace_id === trace);
  expect(placed.length).toBeGreaterThan(10);
  await page.setViewportSize({ width: 1280, height: 700 });
  // Served by the tracepin on the fake Tempo + Sentry, which has every SDK scenario.
  await page.goto(`${liveURL}/trace/${trace}`);
  await ready(page);
  const scroller = page.getByTestId("waterfall-scroller");
  const rows = await page.getByTestId("waterfall-row").count();
  expect(await scroller.evaluate((s) => s.scrollHeight > 3 * s.clientHeight)).toBe(true);
  const seen = new Set<string>();
  let scrolled = false;
  for (let i = 0; i < placed.length; i++) {
    await page.keyboard.press("n");
    const row = selectedRow(page);
    await expect(row).toHaveCount(1);
    const ev = new URL(page.url()).searchParams.get("event")!;
    await expect(row.locator(`[data-testid=error-pin][data-event-id*="${ev}"]`)).toHaveCount(1);
    // Inside the scroller's visible part, not merely in the DOM.
    const inView = await row.evaluate((r) => {
      const s = document.querySelector("[data-testid=waterfall-scroller]")!.getBoundingClientRect();
      const b = r.getBoundingClientRect();
      return b.top >= s.top - 1 && b.bottom <= s.bottom + 1;
    });
    expect(inView, `error ${ev} is scrolled into view`).toBe(true);
    scrolled ||= (await scroller.evaluate((s) => s.scrollTop)) > 0;
    seen.add(ev);
  }
  expect(seen.size).toBe(placed.length);
  expect(scrolled, `some error lies below the first ${rows} rendered rows`).toBe(true);
});

test("an error chosen with n while the rows are still arriving is scrolled into view when they arrive", async ({ page }) => {
  // The first screen holds 80 rows around the selection; the rest arrive through timeline_rows, held
  // back here until an error below the first screen has been chosen.
  const exp = expected("f_large_trace");
  const trace = exp.events[0].trace_id;
  const placed = exp.events.filter((e: any) => e.span_exported && e.trace_id === trace);
  await page.setViewportSize({ width: 1280, height: 700 });
  let release = () => {};
  const held = new Promise<void>((r) => (release = r));
  await page.route("**/api/timeline_rows*", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto(`${liveURL}/trace/${trace}`);
  await ready(page);
  // Step with n until the chosen error's row is not among the rows the page has yet.
  let ev: string | null = null;
  for (let i = 0; i < placed.length && ev === null; i++) {
    await page.keyboard.press("n");
    await expect(page.getByTestId("event-detail")).toBeVisible();
    const chosen = new URL(page.url()).searchParams.get("event");
    if ((await selectedRow(page).count()) === 0) ev = chosen;
  }
  expect(ev, "some error lies outside the first screen").not.toBeNull();
  release();
  const row = selectedRow(page);
  await expect(row.locator(`[data-testid=error-pin][data-event-id*="${ev}"]`)).toHaveCount(1);
  await expect
    .poll(() =>
      row.evaluate((r) => {
        const s = document.querySelector("[data-testid=waterfall-scroller]")!.getBoundingClientRect();
        const b = r.getBoundingClientRect();
        return b.top >= s.top - 1 && b.bottom <= s.bottom + 1;
      }),
    )
    .toBe(true);
  expect(new URL(page.url()).searchParams.get("event")).toBe(ev);
});
