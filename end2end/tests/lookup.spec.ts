import { test, expect, Page } from "@playwright/test";
import { liveURL, ids, expected, hydrated, expectAt, expectEventOnSpan, selectedRow, spanName } from "./live";

// "Paste anything": the header's lookup box on a tracepin that talks to a fake Tempo and a fake Sentry
// (end2end/fake-upstreams.mjs). Every recognised form must land on the page it names; text that is no
// id is refused with the reason; an id that names two things offers both; an id found nowhere says where
// tracepin looked.
test.use({ baseURL: liveURL });

const E = expected("e_nasty_multi_error");
const A1 = expected("a1_otlp_integration");
const E_TRACE: string = ids.traces.e; // in Tempo; its events are in Sentry
const AMBIGUOUS: string = ids.ambiguous.id; // a1's CardDeclined trace id AND a Sentry event id on E_TRACE
const MISSING: string = ids.missing; // neither a trace nor an event anywhere

const eventTruth = (exp: any, id: string) => {
  const ev = exp.events.find((e: any) => e.event_id === id);
  expect(ev, id).toBeTruthy();
  expect(ev.span_exported, id).toBe(true);
  return ev as { event_id: string; trace_id: string; span_id: string; span_name: string };
};
const EMAIL = eventTruth(E, ids.issues.order_worker.latest_event); // ORDER-WORKER-24's latest
const GATEWAY_1 = eventTruth(E, ids.issues.payments_gateway.latest_event); // PAYMENTS-21
const GATEWAY_2 = eventTruth(E, ids.issues.payments_gateway_2.latest_event); // PAYMENTS-22
const EMAIL_A1 = eventTruth(A1, ids.issues.order_worker.older_event); // ORDER-WORKER-24's older event
const CARD = eventTruth(A1, ids.ambiguous.card_declined_event); // on the ambiguous id's trace

/** A span of scenario e's trace, with its name as Tempo serves it. */
const span = (id: string) => ({ id, name: spanName(E_TRACE, id) });
const SEND_EMAIL = span("c601b0c098fad007"); // send confirmation email (order-worker)
const VALIDATE_CART = span("1534d42382cf978a"); // validate cart (checkout-api)
const FRAUD_CHECK = span("6bee6594c14641eb"); // fraud check (payments)
const PROCESS_ORDERS = span("81c219da1d7acad1"); // process orders (order-worker)

const box = (page: Page) => page.locator('form[action="/lookup"] input[name="q"]');

/** Types `text` into the header's lookup box on the home page and submits it. */
async function paste(page: Page, text: string) {
  await page.goto("/");
  await hydrated(page);
  await expect(box(page)).toHaveCount(1);
  await box(page).fill(text);
  await box(page).press("Enter");
}

const grafanaExplore = (trace: string, spanId: string) => {
  const panes = {
    x7f: {
      datasource: "tempo-uid",
      queries: [{ refId: "A", datasource: { type: "tempo", uid: "tempo-uid" }, queryType: "traceql", query: trace }],
      range: { from: "now-1h", to: "now" },
      panelsState: { trace: { spanId } },
    },
  };
  return `https://grafana.acme.dev/explore?schemaVersion=1&panes=${encodeURIComponent(JSON.stringify(panes))}&orgId=1`;
};

type Landing = { trace: string; event?: { id: string; span: string; spanName: string }; span?: { id: string; name: string }; rows?: number };

const forms: [string, string, Landing][] = [
  ["a 32-hex trace id that only Tempo has", E_TRACE, { trace: E_TRACE, rows: 28 }],
  ["a 16-hex Jaeger trace id, padded to 32", ids.traces.jaeger64, { trace: ids.traces.jaeger64_padded, rows: 18 }],
  ["a W3C traceparent", `00-${E_TRACE}-${SEND_EMAIL.id}-01`, { trace: E_TRACE, span: SEND_EMAIL }],
  ["a sentry-trace header value", `${E_TRACE}-${VALIDATE_CART.id}-1`, { trace: E_TRACE, span: VALIDATE_CART }],
  [
    "a Sentry event id (32 hex)",
    EMAIL.event_id,
    { trace: E_TRACE, event: { id: EMAIL.event_id, span: EMAIL.span_id, spanName: EMAIL.span_name } },
  ],
  [
    "a Sentry event id (dashed UUID)",
    GATEWAY_1.event_id.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5"),
    { trace: E_TRACE, event: { id: GATEWAY_1.event_id, span: GATEWAY_1.span_id, spanName: GATEWAY_1.span_name } },
  ],
  [
    "a Sentry short id",
    ids.issues.payments_gateway_2.short_id,
    { trace: E_TRACE, event: { id: GATEWAY_2.event_id, span: GATEWAY_2.span_id, spanName: GATEWAY_2.span_name } },
  ],
  [
    "a numeric Sentry issue id",
    ids.issues.order_worker.id,
    { trace: E_TRACE, event: { id: EMAIL.event_id, span: EMAIL.span_id, spanName: EMAIL.span_name } },
  ],
  [
    "a Sentry issue URL",
    `https://acme.sentry.io/issues/${ids.issues.payments_gateway.id}/`,
    { trace: E_TRACE, event: { id: GATEWAY_1.event_id, span: GATEWAY_1.span_id, spanName: GATEWAY_1.span_name } },
  ],
  [
    // Not the issue's latest event: the one the link names, on its own trace.
    "a Sentry event URL",
    `https://acme.sentry.io/issues/${ids.issues.order_worker.id}/events/${EMAIL_A1.event_id}/`,
    { trace: EMAIL_A1.trace_id, event: { id: EMAIL_A1.event_id, span: EMAIL_A1.span_id, spanName: EMAIL_A1.span_name } },
  ],
  ["a Grafana Explore URL", grafanaExplore(E_TRACE, FRAUD_CHECK.id), { trace: E_TRACE, span: FRAUD_CHECK }],
  ["a Jaeger UI URL", `http://jaeger:16686/trace/${E_TRACE}?uiFind=${PROCESS_ORDERS.id}`, { trace: E_TRACE, span: PROCESS_ORDERS }],
  [
    "a tracepin link from another host",
    `https://tracepin.acme.dev/trace/${E_TRACE}?v=1&event=${GATEWAY_2.event_id}`,
    { trace: E_TRACE, event: { id: GATEWAY_2.event_id, span: GATEWAY_2.span_id, spanName: GATEWAY_2.span_name } },
  ],
];

for (const [name, text, land] of forms) {
  test(`pasting ${name} opens it`, async ({ page }) => {
    await paste(page, text);
    await expectAt(page, `/trace/${land.trace}`, { event: land.event?.id, span: land.span?.id });
    await hydrated(page);
    if (land.rows) await expect(page.getByTestId("waterfall-row")).toHaveCount(land.rows);
    if (land.event) await expectEventOnSpan(page, land.event.id, land.event.span, land.event.spanName);
    if (land.span) {
      await expect(selectedRow(page)).toHaveAttribute("data-span-id", land.span.id);
      await expect(selectedRow(page)).toContainText(land.span.name);
    }
  });
}

const malformed: [string, RegExp][] = [
  ["4bf92f3577b34da6a3ce929d0e0e473", /\b31\b/], // 31 hex digits: one short of a trace id
  ["hello world", /\S/],
];

for (const [text, problem] of malformed) {
  test(`malformed input ${JSON.stringify(text)} is refused with the reason and the accepted forms`, async ({ page }) => {
    const expectRefused = async () => {
      await expect(page.getByTestId("lookup-message")).toBeVisible();
      await expect(page.getByTestId("lookup-message")).toHaveText(problem);
      await expect(page.getByTestId("accepted-forms")).toBeVisible();
      await expect.poll(() => page.getByTestId("accepted-forms").locator("li").count()).toBeGreaterThanOrEqual(8);
      await expect(box(page)).toHaveValue(text);
    };
    // Typed into the box.
    await paste(page, text);
    await expectRefused();
    // The same text as a link to /lookup.
    const res = await page.goto(`/lookup?q=${encodeURIComponent(text)}`);
    expect(res?.status()).toBe(400);
    await hydrated(page);
    await expectRefused();
  });
}

test("an id that is both a trace and a Sentry event offers both, and each choice opens its page", async ({ page }) => {
  expect(ids.traces.in_tempo).toContain(AMBIGUOUS);
  await paste(page, AMBIGUOUS);
  const choices = page.getByTestId("lookup-choices");
  await expect(choices).toBeVisible();
  const toTrace = choices.locator("a[data-testid=choice-trace]");
  const toEvent = choices.locator("a[data-testid=choice-event]");
  await expect(toTrace).toHaveCount(1);
  await expect(toEvent).toHaveCount(1);
  const target = async (a: typeof toTrace) => {
    const u = new URL((await a.getAttribute("href"))!, liveURL);
    return { pathname: u.pathname, event: u.searchParams.get("event"), span: u.searchParams.get("span") };
  };
  expect(await target(toTrace)).toEqual({ pathname: `/trace/${AMBIGUOUS}`, event: null, span: null });
  expect(await target(toEvent)).toEqual({ pathname: `/trace/${ids.ambiguous.as_event_trace}`, event: AMBIGUOUS, span: null });
  const lookupUrl = page.url();

  // The trace: a1's CardDeclined checkout, with its own error pinned.
  await toTrace.click();
  await expectAt(page, `/trace/${AMBIGUOUS}`);
  await hydrated(page);
  await expect(page.getByTestId("waterfall-row")).toHaveCount(12);
  await expect(
    page.locator(`[data-testid=waterfall-row][data-span-id="${CARD.span_id}"] [data-testid=error-pin][data-event-id*="${CARD.event_id}"]`),
  ).toHaveCount(1);

  // The event: on scenario e's trace, at its span.
  await page.goto(lookupUrl);
  await hydrated(page);
  await page.getByTestId("lookup-choices").locator("a[data-testid=choice-event]").click();
  await expectAt(page, `/trace/${ids.ambiguous.as_event_trace}`, { event: AMBIGUOUS });
  await hydrated(page);
  await expectEventOnSpan(page, AMBIGUOUS, ids.ambiguous.as_event_span, ids.ambiguous.as_event_span_name);
  await expect(page.getByTestId("event-detail")).toContainText("OrderTotalMismatch");
});

test("an id found nowhere is a 404 that names every place tracepin looked", async ({ page }) => {
  const expectNotFound = async () => {
    const notFound = page.getByTestId("lookup-not-found");
    await expect(notFound).toBeVisible();
    const places = notFound.locator("li[data-testid=looked-in]");
    await expect(places.filter({ hasText: /Tempo/ }).first()).toBeVisible();
    await expect(places.filter({ hasText: /Sentry/ }).first()).toBeVisible();
  };
  const res = await page.goto(`/lookup?q=${MISSING}`);
  expect(res?.status()).toBe(404);
  await hydrated(page);
  await expectNotFound();

  await paste(page, MISSING);
  await expectNotFound();
});

test("links out to Grafana Explore and Jaeger focus the span, and pasting them back lands on it", async ({ page }) => {
  await page.goto(`/trace/${E_TRACE}?v=1&span=${FRAUD_CHECK.id}`);
  await hydrated(page);
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", FRAUD_CHECK.id);
  const detail = page.getByTestId("span-detail");
  const grafana = await detail.getByTestId("open-in-grafana").getAttribute("href");
  const jaeger = await detail.getByTestId("open-in-jaeger").getAttribute("href");
  expect(grafana).toMatch(/^https:\/\/grafana\.example\.com\/explore\?/);
  const panes = JSON.parse(new URL(grafana!).searchParams.get("panes")!);
  const pane: any = Object.values(panes)[0];
  expect(pane.datasource).toBe("tempo-e2e");
  expect(pane.queries[0].query).toBe(E_TRACE);
  expect(pane.panelsState.trace.spanId).toBe(FRAUD_CHECK.id);
  expect(jaeger).toBe(`https://jaeger.example.com/jaeger/trace/${E_TRACE}?uiFind=${FRAUD_CHECK.id}`);
  // The trace header links the whole trace (no span), the Sentry trace view too.
  const header = page.getByTestId("trace-header");
  await expect(header.getByTestId("open-in-grafana")).toHaveAttribute("href", /grafana\.example\.com/);
  await expect(header.getByTestId("open-in-sentry")).toHaveAttribute("href", new RegExp(`/performance/trace/${E_TRACE}/`));
  for (const link of [grafana!, jaeger!]) {
    await paste(page, link);
    await expectAt(page, `/trace/${E_TRACE}`, { span: FRAUD_CHECK.id });
    await hydrated(page);
    await expect(selectedRow(page)).toHaveAttribute("data-span-id", FRAUD_CHECK.id);
  }
});
