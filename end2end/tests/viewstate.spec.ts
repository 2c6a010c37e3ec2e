import { test, expect, Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";

// The view state in the URL: every parameter survives "Copy link" → a fresh browser, filters with
// `=`, `>`, `:` and spaces included; and a filter that matches nothing says so instead of blanking
// the waterfall.
const fixtures = path.resolve(__dirname, "../../tests/fixtures/sdk");
const expected = (scenario: string) =>
  JSON.parse(fs.readFileSync(path.join(fixtures, scenario, "expected.json"), "utf8"));
const E_TRACE = "d623a6d859f6f10504aae53c873bafc5";

const selectedRow = (page: Page) => page.locator('[data-testid=waterfall-row][data-selected="true"]');

async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

async function viewOf(page: Page) {
  return {
    selected: await selectedRow(page).getAttribute("data-span-id").catch(() => null),
    event: await page.getByTestId("event-detail").getAttribute("data-event-id").catch(() => null),
    filter: await page.getByTestId("filter-input").inputValue(),
    count: await page.getByTestId("filter-count").innerText(),
    rows: await page.getByTestId("waterfall-row").evaluateAll((els) => els.map((e) => e.getAttribute("data-span-id"))),
    axis: await page.getByTestId("time-axis").innerText(),
    errorsOnly: await page.getByTestId("errors-only").isChecked(),
    adjusted: await page.getByTestId("adjusted-toggle").isChecked(),
  };
}

test("a shared link with a filter opens filtered, on the server and after hydration", async ({ page, browser }) => {
  const link = `/trace/${E_TRACE}?v=1&q=service%3Dpayments`;
  // Before any WebAssembly: the server's first paint.
  const ctx = await browser.newContext({ javaScriptEnabled: false });
  const noJs = await ctx.newPage();
  const res = await noJs.goto(new URL(link, test.info().project.use.baseURL!).toString());
  expect(res?.status()).toBe(200);
  await expect(noJs.getByTestId("filter-input")).toHaveValue("service=payments");
  await expect(noJs.getByTestId("filter-count")).toHaveText(/^[1-9]\d* match(es)?$/);
  expect(await noJs.getByTestId("waterfall-row").count()).toBeGreaterThan(0);
  await expect(noJs.getByTestId("waterfall-empty")).toHaveCount(0);
  const ssrCount = await noJs.getByTestId("filter-count").innerText();
  await ctx.close();

  await page.goto(link);
  await hydrated(page);
  await expect(page.getByTestId("filter-input")).toHaveValue("service=payments");
  await expect(page.getByTestId("filter-count")).toHaveText(ssrCount);
  const n = parseInt(ssrCount, 10);
  await expect(page.locator('[data-testid=waterfall-row][data-match="true"]')).toHaveCount(n);
});

test("every URL parameter round-trips: page → Copy link → a fresh browser → the same view", async ({ page, browser }) => {
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "GatewayTimeout" && e.span_exported);
  await page.goto(`/trace/${E_TRACE}`);
  await hydrated(page);
  await expect(page.getByTestId("waterfall-row").first()).toBeVisible();
  // Build a view by hand: an error selected, a filter with `=`, `>`, `:` and spaces, only the paths
  // to errors, raw times.
  await page.locator(`[data-testid=error-pin][data-event-id*="${ev.event_id}"]`).first().click();
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", ev.event_id);
  await page.getByTestId("filter-input").fill("duration>1ms service=payments");
  await expect(page.getByTestId("filter-count")).toHaveText(/^[1-9]\d* match(es)?$/);
  await page.getByTestId("errors-only").check();
  const adjusted = await page.getByTestId("adjusted-toggle").isChecked();
  await page.getByTestId("adjusted-toggle").setChecked(!adjusted);
  const before = await viewOf(page);

  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByTestId("copy-link").click();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(page.url());
  const u = new URL(copied);
  expect(u.searchParams.get("q")).toBe("duration>1ms service=payments");
  expect(u.searchParams.get("event")).toBe(ev.event_id);
  expect(u.searchParams.get("path")).toBe("errors");

  const fresh = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const other = await fresh.newPage();
  await other.goto(copied);
  await hydrated(other);
  await expect(other.getByTestId("event-detail")).toHaveAttribute("data-event-id", ev.event_id);
  await expect(other.getByTestId("filter-count")).toHaveText(before.count);
  expect(await viewOf(other)).toEqual(before);
  await fresh.close();
});

test("a filter that matches nothing says so, offers a way out, and keeps the errors usable", async ({ page }) => {
  const exp = expected("e_nasty_multi_error");
  const ev = exp.events.find((e: any) => e.exception_type === "EmailDeliveryError");
  await page.goto(`/trace/${E_TRACE}?v=1&q=${encodeURIComponent("service=no-such-service")}`);
  await hydrated(page);
  await expect(page.getByTestId("filter-count")).toHaveText("0 matches");
  await expect(page.getByTestId("waterfall-empty")).toContainText("No span matches service=no-such-service");
  // The pins' error list still opens an error.
  await page.locator(`[data-testid=error-list-item][data-event-id="${ev.event_id}"]`).first().click();
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", ev.event_id);
  // The way out.
  await page.getByTestId("waterfall-empty-clear").click();
  await expect(page.getByTestId("waterfall-empty")).toHaveCount(0);
  await expect(page.getByTestId("filter-input")).toHaveValue("");
  expect(await page.getByTestId("waterfall-row").count()).toBeGreaterThan(5);
  await expect(page).not.toHaveURL(/q=/);
});
