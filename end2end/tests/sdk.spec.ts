import { test, expect } from "@playwright/test";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { storePort } from "../playwright.config";
import { hydrated, expectEventOnSpan } from "./live";

// Real clients, no fakes: the pinned Python Sentry and OpenTelemetry SDKs (end2end/.venv, made by
// `make setup-test` from examples/python/requirements.txt) run the example shop against a tracepin
// with an empty local store, once per linking style. Each error must land on the span the app says,
// in the JSON export and on the page.
const base = `http://127.0.0.1:${storePort}`;
const python = path.resolve(__dirname, "../.venv/bin/python");
const app = path.resolve(__dirname, "../../examples/python/app.py");

type Truth = { style: string; event_id: string; trace_id: string; span_id: string; span_name: string; service: string };

function run(style: string): Truth[] {
  if (!fs.existsSync(python)) throw new Error(`${python} is missing: run \`make setup-test\``);
  const out = execFileSync(
    python,
    [app, "--style", style, "--dsn", `http://public@127.0.0.1:${storePort}/1`, "--otlp", `${base}/v1/traces`],
    { encoding: "utf8", timeout: 60_000 },
  );
  return out.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

const matchedBy: Record<string, string> = {
  "otel-integration": "span_id",
  manual: "otel_context",
  tag: "correlation_tag",
};

for (const style of Object.keys(matchedBy)) {
  test(`${style}: the SDKs' error is pinned on its span (export and page)`, async ({ page, request }) => {
    const truth = run(style);
    expect(truth.length).toBeGreaterThan(0);
    for (const t of truth) {
      await expect
        .poll(async () => {
          const r = await request.get(`${base}/api/export/${t.trace_id}`);
          if (!r.ok()) return null;
          const pin = (await r.json()).timelines[0].pins.find((p: any) => p.event_id === t.event_id);
          return pin ? { span: pin.span_id, by: pin.matched_by } : null;
        })
        .toEqual({ span: t.span_id, by: matchedBy[style] });
      await page.goto(`${base}/event/${t.event_id}`);
      await expect(page).toHaveURL(new RegExp(`/trace/${t.trace_id}\\?.*event=${t.event_id}`));
      await hydrated(page);
      await expectEventOnSpan(page, t.event_id, t.span_id, t.span_name);
    }
  });
}

test("the home page lists the received errors as issues with their traces", async ({ page }) => {
  const truth = run("manual");
  await page.goto(base);
  await hydrated(page);
  const row = page.locator(`[data-testid=local-issue][data-event-id="${truth[0].event_id}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId("local-issue-trace")).toHaveAttribute("data-state", "trace");
  await expect(row).toContainText("shop-manual");
  // New data shows up without a reload: another run of the same error joins the issue.
  const count = Number(await row.getByTestId("local-issue-count").textContent());
  const again = run("manual");
  await expect(page.locator(`[data-testid=local-issue][data-event-id="${again[0].event_id}"]`)).toBeVisible({
    timeout: 15_000,
  });
  await expect(
    page.locator(`[data-testid=local-issue][data-event-id="${again[0].event_id}"] [data-testid=local-issue-count]`),
  ).toHaveText(String(count + 1));
});

test("a trace still receiving spans says how many arrived and refreshes on a click", async ({ page, request }) => {
  const trace = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e";
  const span = (id: string, parent?: string) => ({
    traceId: trace,
    spanId: id,
    ...(parent ? { parentSpanId: parent } : {}),
    name: `op-${id.slice(0, 4)}`,
    kind: 2,
    startTimeUnixNano: "1700000000000000000",
    endTimeUnixNano: "1700000000100000000",
  });
  const send = async (spans: any[]) => {
    const r = await request.post(`${base}/v1/traces`, {
      headers: { "content-type": "application/json" },
      data: { resourceSpans: [{ resource: { attributes: [{ key: "service.name", value: { stringValue: "live" } }] }, scopeSpans: [{ spans }] }] },
    });
    expect(r.status()).toBe(200);
  };
  await send([span("1111111111111111")]);
  await page.goto(`${base}/trace/${trace}`);
  await hydrated(page);
  await expect(page.locator("[data-testid=waterfall-row]")).toHaveCount(1);
  await send([span("2222222222222222", "1111111111111111"), span("3333333333333333", "1111111111111111")]);
  await expect(page.getByTestId("new-spans")).toContainText("2 new spans", { timeout: 15_000 });
  await page.getByTestId("refresh-trace").click();
  await hydrated(page);
  await expect(page.locator("[data-testid=waterfall-row]")).toHaveCount(3);
  await expect(page.getByTestId("new-spans")).toHaveCount(0);
});
