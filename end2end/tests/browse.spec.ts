import { test, expect, Page } from "@playwright/test";
import {
  liveURL,
  ids,
  sentry,
  expected,
  issueById,
  environmentsOf,
  byLastSeen,
  hydrated,
  expectAt,
  expectEventOnSpan,
  Issue,
} from "./live";

// Browsing Sentry issues on a tracepin that talks to a fake Sentry and a fake Tempo over HTTP
// (end2end/fake-upstreams.mjs serving end2end/fixtures/upstream/). The org has 52 issues: scenario e's
// five, a1's (one of them grouped with e's EmailDeliveryError), the ambiguous one, SHOP-12 without any
// trace context, and 43 ordinary ones, all last seen within 14 days of the fixture's `now`.
test.use({ baseURL: liveURL });

const E = expected("e_nasty_multi_error");
const E_TRACE: string = ids.traces.e;
const ORDER_WORKER = ids.issues.order_worker; // ORDER-WORKER-24, latest event on scenario e's trace
const NO_TRACE = ids.issues.no_trace; // SHOP-12
const PAGE_SIZE = 25;

const row = (page: Page, id: string) => page.locator(`[data-testid=issue-row][data-issue-id="${id}"]`);
const rows = (page: Page) => page.getByTestId("issue-row");
const rowIds = (page: Page) => rows(page).evaluateAll((els) => els.map((e) => e.getAttribute("data-issue-id")));
const filters = (page: Page) => page.locator("form[data-testid=issue-filters]");

/** The list shows exactly these issues, in this order (retried: the list may be replaced in place). */
async function expectIssues(page: Page, want: Issue[]) {
  await expect(rows(page)).toHaveCount(want.length);
  await expect.poll(() => rowIds(page)).toEqual(want.map((i) => i.id));
}

/** Sets one field of the filter form (a select or a text box) and submits the form. */
async function applyFilter(page: Page, name: string, value: string) {
  const field = filters(page).locator(`[name="${name}"]`);
  await expect(field).toHaveCount(1);
  if ((await field.evaluate((el) => el.tagName)) === "SELECT") await field.selectOption(value);
  else await field.fill(value);
  await filters(page).evaluate((f: HTMLFormElement) => f.requestSubmit());
  await expect(page).toHaveURL((url) => url.pathname === "/" && url.searchParams.get(name) === value);
}

async function openList(page: Page, url = "/") {
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  await hydrated(page);
}

test("the home page lists the Sentry issues, newest first, with what Sentry says about each", async ({ page }) => {
  await openList(page);
  const all = [...sentry.issues].sort(byLastSeen);
  expect(all.length).toBe(ids.issue_count);
  await expectIssues(page, all.slice(0, PAGE_SIZE));

  // ORDER-WORKER-24 from the SDK captures, and BILLING-1, an ordinary issue first seen days before it was
  // last seen.
  const billing1 = sentry.issues.find((i) => i.shortId === "BILLING-1")!;
  for (const id of [ORDER_WORKER.id, billing1.id]) {
    const issue = issueById(id);
    const r = row(page, id);
    const link = r.locator("a[data-testid=issue-link]");
    await expect(link).toHaveAttribute("href", `/issue/${id}`);
    await expect(r).toContainText(issue.title);
    await expect(r).toContainText(issue.culprit);
    await expect(r).toContainText(issue.level);
    await expect(r).toContainText(issue.project.slug);
    await expect(r.getByTestId("issue-count")).toHaveText(new RegExp(`(^|\\D)${issue.count}(\\D|$)`));
    await expect(r).toContainText(String(issue.userCount));
    // Last seen and first seen: at least their dates.
    await expect(r).toContainText(issue.lastSeen.slice(0, 10));
    await expect(r).toContainText(issue.firstSeen.slice(0, 10));
  }
});

test("each issue says whether its latest event has a trace", async ({ page }) => {
  await openList(page);
  await expect(rows(page)).toHaveCount(PAGE_SIZE);
  // Filled in after the list renders; in the end nothing is left checking (or unknown).
  await expect(page.getByTestId("issue-trace")).toHaveCount(PAGE_SIZE);
  await expect(page.locator('[data-testid=issue-trace]:not([data-state="trace"]):not([data-state="none"])')).toHaveCount(0);
  await expect(row(page, ORDER_WORKER.id).getByTestId("issue-trace")).toHaveAttribute("data-state", "trace");
  await expect(row(page, ids.issues.ambiguous.id).getByTestId("issue-trace")).toHaveAttribute("data-state", "trace");
  await expect(row(page, NO_TRACE.id).getByTestId("issue-trace")).toHaveAttribute("data-state", "none");
  // Every other issue on the page has a trace id; only SHOP-12 has none.
  await expect(page.locator('[data-testid=issue-trace][data-state="none"]')).toHaveCount(1);
});

test("clicking an issue opens its latest event on its trace, with the pinned span selected", async ({ page }) => {
  const truth = E.events.find((e: any) => e.event_id === ORDER_WORKER.latest_event);
  expect(truth).toMatchObject({ span_exported: true, span_id: "c601b0c098fad007", span_name: "send confirmation email" });
  await openList(page);
  await row(page, ORDER_WORKER.id).locator("a[data-testid=issue-link]").click();
  await expectAt(page, `/trace/${E_TRACE}`, { v: "1", event: truth.event_id });
  await hydrated(page);
  await expectEventOnSpan(page, truth.event_id, truth.span_id, truth.span_name);
  await expect(page.getByTestId("event-detail")).toContainText("EmailDeliveryError");
});

test("an issue whose latest event has no trace shows the event alone and says why", async ({ page }) => {
  for (const key of [NO_TRACE.id, NO_TRACE.short_id]) {
    await page.goto(`/issue/${key}`);
    await hydrated(page);
    const alone = page.getByTestId("event-alone");
    await expect(alone).toContainText(NO_TRACE.title);
    await expect(page.getByTestId("no-trace-reason")).toHaveText(/trace/i);
    await expectAt(page, `/issue/${key}`);
  }
});

test("short ids open the same place as numeric issue ids", async ({ page }) => {
  for (const issue of [ORDER_WORKER, ids.issues.payments_gateway]) {
    const truth = E.events.find((e: any) => e.event_id === issue.latest_event);
    for (const key of [issue.id, issue.short_id]) {
      await page.goto(`/issue/${key}`);
      await expectAt(page, `/trace/${issue.trace}`, { v: "1", event: issue.latest_event });
      await hydrated(page);
      await expectEventOnSpan(page, truth.event_id, truth.span_id, truth.span_name);
    }
  }
});

test("the search filter puts the query in the URL and lists only matching issues", async ({ page }) => {
  await openList(page);
  await applyFilter(page, "query", "GatewayTimeout");
  await hydrated(page);
  // PAYMENTS-22 then PAYMENTS-21: the two GatewayTimeout issues, newest first.
  await expectIssues(page, [issueById(ids.issues.payments_gateway_2.id), issueById(ids.issues.payments_gateway.id)]);
  await expect(filters(page).locator('[name="query"]')).toHaveValue("GatewayTimeout");
});

test("the project filter lists only that project's issues", async ({ page }) => {
  await openList(page);
  await applyFilter(page, "project", "payments");
  await hydrated(page);
  const want = sentry.issues.filter((i) => i.project.slug === "payments").sort(byLastSeen);
  expect(want.map((i) => i.shortId)).toEqual(["PAYMENTS-22", "PAYMENTS-21", "PAYMENTS-25"]);
  await expectIssues(page, want);
  await expect(filters(page).locator('[name="project"]')).toHaveValue("payments");
});

test("the environment filter lists only issues seen in that environment", async ({ page }) => {
  await openList(page);
  await applyFilter(page, "environment", "staging");
  await hydrated(page);
  const want = sentry.issues.filter((i) => environmentsOf(i).has("staging")).sort(byLastSeen);
  expect(want.length).toBe(11);
  await expectIssues(page, want);
});

test("the period filter drops issues not seen in that period", async ({ page }) => {
  await openList(page);
  await applyFilter(page, "period", "24h");
  await hydrated(page);
  const since = Date.parse(sentry.now) - 24 * 3600 * 1000;
  const want = sentry.issues.filter((i) => Date.parse(i.lastSeen) >= since).sort(byLastSeen);
  expect(want.length).toBe(13);
  await expectIssues(page, want);
  await expect(filters(page).locator('[name="period"]')).toHaveValue("24h");
});

test("sorting by events puts the most frequent issues first", async ({ page }) => {
  await openList(page);
  await applyFilter(page, "sort", "freq");
  await hydrated(page);
  const want = [...sentry.issues].sort((a, b) => Number(b.count) - Number(a.count)).slice(0, PAGE_SIZE);
  await expectIssues(page, want);
  const counts = async () =>
    (await page.getByTestId("issue-count").allInnerTexts()).map((c) => Number(c.replace(/\D/g, "")));
  await expect.poll(counts).toEqual(want.map((i) => Number(i.count)));
});

test("next-page links walk through every issue once and stop on the last page", async ({ page }) => {
  const all = [...sentry.issues].sort(byLastSeen);
  await openList(page, "/?period=14d");
  const seen: string[] = [];
  for (let p = 0; p * PAGE_SIZE < all.length; p++) {
    const want = all.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE);
    await expectIssues(page, want);
    seen.push(...want.map((i) => i.id));
    const next = page.locator("a[data-testid=next-page]");
    if (seen.length === all.length) {
      await expect(next).toHaveCount(0); // the last page
      break;
    }
    await expect(next).toHaveAttribute("href", /cursor=/);
    const cursor = new URL((await next.getAttribute("href"))!, liveURL).searchParams.get("cursor");
    expect(cursor).toBeTruthy();
    await next.click();
    await expect(page).toHaveURL((url) => url.searchParams.get("cursor") === cursor);
    await hydrated(page);
  }
  expect(seen).toEqual(all.map((i) => i.id));
  expect(new Set(seen).size).toBe(52);
});
