// "Compare with healthy traces" in the browser: on the demo incident a deep link with `cmp=auto` shows
// the summary naming the payment retries and the email error, badges on the rows that differ, and
// "Only differences"; an out-of-stock checkout shows the calls it never made as ghost rows; against the
// fake Tempo the button finds healthy traces through TraceQL search; named baselines come from the field.
import { test, expect, Page } from "@playwright/test";
import { hydrated, liveURL } from "./live";

/** Scenario e's failing checkout: three payment attempts, the email error. */
const FAILING = "d623a6d859f6f10504aae53c873bafc5";
/** Scenario a1's out-of-stock order: no payment, no email. */
const OUT_OF_STOCK = "c0da5e3a99c6a9d849d8831a0ca3340c";

async function summary(page: Page) {
  const panel = page.getByTestId("compare-panel");
  await expect(panel).toBeVisible();
  await expect(page.getByTestId("compare-title")).toHaveText(/Compared with \d+ healthy traces/);
  return panel;
}

test("a compare deep link on the demo names the payment retries and the email error", async ({ page }) => {
  await page.goto(`/trace/${FAILING}?v=1&cmp=auto`);
  await hydrated(page);
  const panel = await summary(page);
  await expect(page.getByTestId("compare-title")).toHaveText("Compared with 20 healthy traces");
  const findings = page.getByTestId("compare-finding");
  await expect(findings.filter({ hasText: "payments 'POST /charge' ran 3 times (healthy: once)" })).toHaveCount(1);
  await expect(findings.filter({ hasText: "order-worker 'send confirmation email' failed (healthy: never)" })).toHaveCount(1);
  await expect(panel.getByTestId("compare-divergence")).toBeVisible();

  // Badges on the rows that differ: the repeated attempts say which call they are.
  const badges = page.getByTestId("diff-badge");
  await expect(badges.filter({ hasText: "call 3 of 3 (usually once)" }).first()).toBeVisible();
  const allRows = await page.getByTestId("waterfall-row").count();

  // A finding leads to its row.
  await findings.filter({ hasText: "send confirmation email" }).getByRole("button").click();
  await expect(page.locator('[data-testid=waterfall-row][data-selected="true"]')).toContainText("send confirmation email");

  // Only differences: fewer rows, every one either marked or on the way to one; in the URL.
  await page.getByTestId("diff-only").check();
  await expect(page).toHaveURL(/diff=only/);
  await expect.poll(() => page.getByTestId("waterfall-row").count()).toBeLessThan(allRows);
  // The link keeps it: reload and the same filtered view comes back.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("diff-only")).toBeChecked();
  await expect(page.getByTestId("diff-badge").first()).toBeVisible();
  // The download carries the comparison.
  await expect(page.getByTestId("download-json")).toHaveAttribute("href", /cmp=auto/);
  const res = await page.request.get(`/api/export/${FAILING}?cmp=auto`);
  expect(res.status()).toBe(200);
  const json = await res.json();
  expect(json.comparison.baselines.count).toBe(20);
  expect(json.comparison.findings.map((f: { text: string }) => f.text).join("\n")).toContain("ran 3 times");

  // Closing the comparison brings the plain timeline back.
  await page.getByTestId("compare-close").click();
  await expect(page.getByTestId("compare-panel")).toHaveCount(0);
  await expect(page.getByTestId("diff-badge")).toHaveCount(0);
  expect(page.url()).not.toContain("cmp=");
});

test("calls an out-of-stock order never made are ghost rows under their parent", async ({ page }) => {
  await page.goto(`/trace/${OUT_OF_STOCK}?v=1&cmp=auto`);
  await hydrated(page);
  await summary(page);
  const ghosts = page.getByTestId("ghost-row");
  await expect(ghosts.filter({ hasText: "POST /charge" })).toHaveCount(1);
  await expect(ghosts.filter({ hasText: "send confirmation email" })).toHaveCount(1);
  await expect(ghosts.first().getByTestId("ghost-badge")).toHaveText(/missing · \d+\/\d+/);
  await expect(page.getByTestId("compare-finding").filter({ hasText: "is missing" }).first()).toBeVisible();
  // Ghosts are not spans: the keyboard steps over them and never selects one.
  await page.getByTestId("waterfall-row").first().click();
  for (let i = 0; i < 40; i++) await page.keyboard.press("j");
  await expect(page.locator('[data-testid=waterfall-row][data-selected="true"]')).toHaveCount(1);
});

test("the button finds healthy traces through the fake Tempo's search, and named baselines work", async ({ page }) => {
  await page.goto(`${liveURL}/trace/${FAILING}`);
  await hydrated(page);
  await page.getByTestId("compare").click();
  await expect(page).toHaveURL(/cmp=auto/);
  await summary(page);
  await expect(page.getByTestId("compare-finding").filter({ hasText: "ran 3 times" })).toHaveCount(1);
  await page.getByText("Baselines and where they came from").click();
  await expect(page.getByTestId("compare-baselines").locator("li")).toHaveCount(20);

  // Name two of them instead.
  const ids = await page.getByTestId("compare-baselines").locator("a").allTextContents();
  await page.getByTestId("compare-ids").fill(`${ids[0]} ${ids[1].toUpperCase()}`);
  await page.getByTestId("compare-ids-submit").click();
  await expect(page).toHaveURL(new RegExp(`cmp=${ids[0]}(,|%2C)${ids[1]}`));
  await expect(page.getByTestId("compare-title")).toHaveText("Compared with 2 named traces");

  // Nothing usable named: a reason, the URL unchanged.
  await page.getByTestId("compare-ids").fill("not an id");
  await page.getByTestId("compare-ids-submit").click();
  await expect(page.getByTestId("compare-name-form").getByRole("alert")).toContainText("32 hex digits");
});

test("a trace with no healthy sibling says where it looked", async ({ page }) => {
  // Scenario f's large trace: no healthy run of it exists.
  await page.goto(`${liveURL}/trace/a99591a8f070a44dfa4d0cf8534c49ec?v=1&cmp=auto`);
  await hydrated(page);
  await expect(page.getByTestId("compare-title")).toHaveText("No healthy trace to compare with");
  await expect(page.getByTestId("compare-searched")).toContainText("TraceQL");
  await expect(page.getByTestId("compare-ids")).toBeVisible();
});
