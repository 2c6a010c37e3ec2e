import { test, expect, Page } from "@playwright/test";
import { filesPort } from "../playwright.config";
import { liveURL, ids } from "./live";

// Every page runs under its Content-Security-Policy: hydration works (the nonce on Leptos's inline
// scripts matches the header), and nothing the page needs is blocked.
const DEMO_TRACE = "d623a6d859f6f10504aae53c873bafc5";
const HOSTILE = `http://127.0.0.1:${filesPort}/trace/4a1c0ffee0ddba11deadbeefcafe0001?event=4a1c0ffee0ddba11deadbeefcafe9999`;

async function watch(page: Page) {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) violations.push(m.text());
  });
  page.on("pageerror", (e) => violations.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  return violations;
}

for (const url of [
  "/",
  `/trace/${DEMO_TRACE}`,
  `/trace/${DEMO_TRACE}?v=1&q=status%3Derror`,
  "/lookup?q=not+an+id",
  "/no/such/page",
  HOSTILE,
  `${liveURL}/`,
  `${liveURL}/trace/${ids.traces.e}`,
]) {
  test(`CSP holds and the page hydrates: ${url}`, async ({ page }) => {
    const violations = await watch(page);
    const res = await page.goto(url);
    expect(res).not.toBeNull();
    const h = res!.headers();
    expect(h["content-security-policy"]).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
    expect(h["x-frame-options"]).toBe("DENY");
    expect(h["x-content-type-options"]).toBe("nosniff");
    await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
    // The lookup box is driven by the WebAssembly recogniser: it answers as you type.
    await page.getByPlaceholder(/Paste a trace id/).fill("0af7651916cd43dd8448eb211c80319c");
    await expect(page.locator("header")).toContainText("Enter opens");
    expect(violations).toEqual([]);
  });
}

test("a page cannot be framed", async ({ page, baseURL }) => {
  await page.goto("/healthz");
  await page.setContent(`<iframe id="f" src="${baseURL}/"></iframe>`);
  const frame = await (await page.waitForSelector("#f")).contentFrame();
  expect(frame).not.toBeNull();
  await frame!.waitForLoadState("load");
  // Framed, the browser refuses the page (X-Frame-Options, frame-ancestors); at top level it loads.
  expect(await frame!.locator("header").count()).toBe(0);
  const top = await page.context().newPage();
  await top.goto("/");
  await expect(top.locator("header")).toHaveCount(1);
});
