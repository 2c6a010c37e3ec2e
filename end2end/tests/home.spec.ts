import { test, expect } from "@playwright/test";

// The demo incident is real SDK data (scenarios e and a1): 8 Sentry events, 6 traces.
test("home page lists the demo incident and hydrates", async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));

  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.getByTestId("brand")).toHaveText("tracepin");
  await expect(page.getByTestId("data-source")).toContainText("demo incident");
  await expect(page.getByTestId("error-row")).toHaveCount(8);
  await expect(page.getByTestId("trace-row")).toHaveCount(6);
  // A real pin from scenario e: the payments GatewayTimeout lands on its span.
  await expect(
    page.locator('[data-event-id="e3de285bd47c404c9a4e8c0a4d2a7b3b"]'),
  ).toContainText("GatewayTimeout");

  // Hydration: the WebAssembly app marks <html>, and the theme toggle responds to a click.
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const toggle = page.getByTestId("theme-toggle");
  await expect(toggle).toHaveAttribute("data-theme", "system");
  await toggle.click();
  await expect(toggle).toHaveAttribute("data-theme", "light");
  await expect(page.locator("html")).not.toHaveClass(/dark/);
  await toggle.click();
  await expect(toggle).toHaveAttribute("data-theme", "dark");
  await expect(page.locator("html")).toHaveClass(/dark/);
  // The choice survives a reload.
  await page.reload();
  await expect(page.locator("html")).toHaveClass(/dark/);
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  await expect(page.getByTestId("theme-toggle")).toHaveAttribute("data-theme", "dark");

  await page.screenshot({ path: testInfo.outputPath("home-dark.png"), fullPage: true });
  await page.getByTestId("theme-toggle").click(); // back to system
  await page.screenshot({ path: testInfo.outputPath("home.png"), fullPage: true });
  expect(errors).toEqual([]);
});

test("unknown paths get a real 404 page", async ({ page }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByTestId("not-found")).toContainText("Nothing lives at this address");
  await expect(page.getByTestId("not-found")).toContainText("/no/such/page");
});

test("health and readiness endpoints answer JSON", async ({ request }) => {
  const health = await request.get("/healthz");
  expect(health.status()).toBe(200);
  const ready = await request.get("/readyz");
  expect(ready.status()).toBe(200);
  const body = await ready.json();
  expect(body.demo).toBe(true);
  expect(body.status).toBe("ready");
});

test("the lookup box opens a pasted traceparent at its span, and explains what it accepts", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
  const box = page.getByTestId("lookup-input");
  await box.fill(" 00-d623a6d859f6f10504aae53c873bafc5-538711f5379750dc-01 ");
  // Recognised in the browser while typing.
  await expect(page.getByTestId("lookup-hint")).toHaveText("Enter opens: W3C traceparent");
  await box.press("Enter");
  await expect(page).toHaveURL(/\/trace\/d623a6d859f6f10504aae53c873bafc5\?v=1&span=538711f5379750dc/);
  await expect(page.locator('[data-testid=waterfall-row][data-selected="true"]')).toHaveAttribute(
    "data-span-id",
    "538711f5379750dc",
  );
  await page.getByTestId("lookup-input").fill("not an id");
  await page.getByTestId("lookup-input").press("Enter");
  // Refused in place: the text stays, the reason and the accepted forms appear under the box.
  await expect(page).toHaveURL(/\/trace\/d623a6d859f6f10504aae53c873bafc5/);
  await expect(page.getByTestId("lookup-message")).toBeVisible();
  await expect(page.getByTestId("accepted-forms")).toContainText("W3C traceparent");
  await expect(page.getByTestId("lookup-input")).toHaveValue("not an id");
});
