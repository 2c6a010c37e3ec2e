import { test, expect } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { liveURL, hydrated, selectedRow, expectEventOnSpan } from "./live";

// Errors linked to traces by hand, through the fake Tempo and Sentry over HTTP: a manual
// `otel_trace` context with an `otel.trace_id` tag (scenario b) and a shared `transaction_id`
// (scenario c). Sentry files both under its own trace id; tracepin must still land on the
// OpenTelemetry trace, pin the error where the ground truth says, and say which id it used.
const upstream = path.resolve(__dirname, "../fixtures/upstream");
const scenarios = JSON.parse(fs.readFileSync(path.join(upstream, "scenarios.json"), "utf8")).scenarios;
/** Sentry's own trace id of an event (`contexts.trace.trace_id`), if it has one. */
const sentryTraceOf = (() => {
  const events = JSON.parse(fs.readFileSync(path.join(upstream, "sentry-sdk.json"), "utf8")).events;
  return (id: string): string | undefined => events.find((e: any) => e.eventID === id)?.contexts?.trace?.trace_id;
})();

for (const name of ["b_manual_context", "c_custom_correlation_id"]) {
  const s = scenarios[name];
  const placed = s.events.filter((e: any) => e.span_exported);

  test(`${name}: /event/{id} lands on the OpenTelemetry trace with the error on its span`, async ({ page }) => {
    expect(placed.length).toBeGreaterThan(0);
    for (const ev of placed.slice(0, 3)) {
      await page.goto(`${liveURL}/event/${ev.event_id}`);
      await expect(page).toHaveURL(new RegExp(`/trace/${ev.trace_id}\\?.*event=${ev.event_id}`));
      await hydrated(page);
      await expectEventOnSpan(page, ev.event_id, ev.span_id, ev.span_name);
      // Sentry's own trace id, when it has one, is named, not hidden.
      const own = sentryTraceOf(ev.event_id);
      if (own && own !== ev.trace_id) {
        await expect(page.getByTestId("trace-note")).toContainText(`Sentry files this event under its own trace id ${own}`);
      } else {
        await expect(page.getByTestId("trace-note")).toHaveCount(0);
      }
    }
  });

  test(`${name}: the trace page finds every error linked to it`, async ({ page }) => {
    const byTrace = new Map<string, any[]>();
    for (const ev of placed) byTrace.set(ev.trace_id, [...(byTrace.get(ev.trace_id) ?? []), ev]);
    for (const [trace, evs] of byTrace) {
      await page.goto(`${liveURL}/trace/${trace}`);
      await hydrated(page);
      for (const ev of evs) {
        const row = page.locator(`[data-testid=waterfall-row][data-span-id="${ev.span_id}"]`);
        await expect(row.locator(`[data-testid=error-pin][data-event-id*="${ev.event_id}"]`)).toHaveCount(1);
      }
      await expect(selectedRow(page)).toHaveCount(0);
    }
  });
}
