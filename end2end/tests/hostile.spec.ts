import { test, expect } from "@playwright/test";
import { filesPort } from "../playwright.config";

// A trace full of hostile strings, served by the files backend.
const base = `http://127.0.0.1:${filesPort}`;
const TRACE = "4a1c0ffee0ddba11deadbeefcafe0001";
const EVENT = "4a1c0ffee0ddba11deadbeefcafe9999";

test("hostile strings render inert and readable", async ({ page }) => {
  const dialogs: string[] = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  await page.goto(`${base}/trace/${TRACE}?v=1&event=${EVENT}`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const waterfall = page.getByTestId("waterfall");
  await expect(waterfall).toContainText("<img src=x onerror=alert(1)>");
  await expect(waterfall).toContainText("طلب الدفع 💳 payment");
  await expect(waterfall.locator("img")).toHaveCount(0);

  const detail = page.getByTestId("event-detail");
  await expect(detail).toContainText("<img src=x onerror=alert(2)>");
  await expect(detail).toContainText("javascript:alert(3)");
  await expect(page.getByTestId("breadcrumbs")).toContainText("clicked <a href=javascript:alert(5)>pay</a> 💳");
  await expect(page.locator('a[href^="javascript:" i]')).toHaveCount(0);
  await expect(page.locator("script:not([src])").filter({ hasText: "alert" })).toHaveCount(0);

  // The span with the 10 kB attribute: clipped, RTL text readable.
  await page.locator('[data-testid=waterfall-row][data-span-id="1000000000000002"]').click();
  const attrs = page.getByTestId("span-attributes");
  await expect(attrs).toContainText("مرحبا بالعالم");
  await expect(attrs).toContainText("🔥🚀✅");
  await expect(attrs).toContainText("more bytes");
  expect(dialogs).toEqual([]);
});

// A flood of errors in one trace (flood.otlp.json + flood-errors.json, 60 errors): the side panel lists
// the first 50 and says how many more there are; "Show all" lists every one, and each entry selects its
// error.
test("an error flood lists the first 50 errors, then all on request", async ({ page }) => {
  await page.goto(`${base}/trace/4a1c0ffee0ddba11deadbeefcafe0060`);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("error-count")).toContainText("60");
  const list = page.getByTestId("side-errors");
  await expect(list.getByTestId("side-error")).toHaveCount(50);
  const more = page.getByTestId("side-errors-more");
  await expect(more).toHaveText("Show all 60 errors (10 more)");
  await more.click();
  await expect(list.getByTestId("side-error")).toHaveCount(60);
  await expect(more).toBeHidden();
  await list.getByTestId("side-error").last().getByRole("button").click();
  await expect(page).toHaveURL(/event=60[0-9a-f]{30}/);
  await expect(page.getByTestId("event-detail")).toContainText("RowRejected");
});
