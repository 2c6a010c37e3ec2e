// Shared by browse.spec.ts and lookup.spec.ts: the tracepin that talks to the fake Tempo and Sentry
// (end2end/fake-upstreams.mjs), the fixture it serves, and assertions on where a page ended up.
import { expect, Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import { livePort } from "../playwright.config";

export const liveURL = `http://127.0.0.1:${livePort}`;

const upstream = path.resolve(__dirname, "../fixtures/upstream");
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

/** Named ids of the fixture (written by end2end/fixtures/upstream/derive.py). */
export const ids = readJson(path.join(upstream, "ids.json"));

/** What the fake Sentry serves: `now`, `projects`, `issues` (list shape) and full `events`. */
export const sentry: {
  now: string;
  issues: Issue[];
  events: { eventID: string; groupID: string; tags: { key: string; value: string }[] }[];
} = readJson(path.join(upstream, "sentry.json"));

export type Issue = {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  level: string;
  count: string;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  project: { slug: string };
};

/** Ground truth of an SDK scenario: which event is pinned to which span. */
export const expected = (scenario: string) =>
  readJson(path.resolve(__dirname, "../../tests/fixtures/sdk", scenario, "expected.json"));

/** The name of a span of a trace Tempo serves (end2end/fixtures/upstream/tempo/<trace id>.json). */
export function spanName(traceId: string, spanId: string): string {
  const trace = readJson(path.join(upstream, "tempo", `${traceId}.json`));
  for (const rs of trace.resourceSpans)
    for (const ss of rs.scopeSpans) for (const s of ss.spans) if (s.spanId === spanId) return s.name;
  throw new Error(`no span ${spanId} in trace ${traceId}`);
}

export const issueById = (id: string): Issue => {
  const issue = sentry.issues.find((i) => i.id === id);
  if (!issue) throw new Error(`no issue ${id} in the fixture`);
  return issue;
};

/** The environments an issue's events were sent from. */
export const environmentsOf = (issue: Issue) =>
  new Set(
    sentry.events
      .filter((e) => e.groupID === issue.id)
      .map((e) => e.tags.find((t) => t.key === "environment")?.value),
  );

/** Sentry's default order: last seen, newest first (ties by id, as the fake breaks them). */
export const byLastSeen = (a: Issue, b: Issue) =>
  Date.parse(b.lastSeen) - Date.parse(a.lastSeen) || Number(a.id) - Number(b.id);

export async function hydrated(page: Page) {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

export const selectedRow = (page: Page) => page.locator('[data-testid=waterfall-row][data-selected="true"]');

/**
 * The page is at `pathname` with exactly the given `event` and `span` query parameters (absent when not
 * given: a lookup that names no span must not invent one), and `v` when given.
 */
export async function expectAt(page: Page, pathname: string, want: { v?: string; event?: string; span?: string } = {}) {
  const where = () => {
    const u = new URL(page.url());
    return {
      pathname: u.pathname,
      ...("v" in want ? { v: u.searchParams.get("v") ?? undefined } : {}),
      event: u.searchParams.get("event") ?? undefined,
      span: u.searchParams.get("span") ?? undefined,
    };
  };
  await expect.poll(where).toEqual({ pathname, ...want, event: want.event, span: want.span });
}

/** On a trace page: the event's detail is open and its span is the selected row. */
export async function expectEventOnSpan(page: Page, eventId: string, spanId: string, spanName?: string) {
  await expect(page.getByTestId("event-detail")).toHaveAttribute("data-event-id", eventId);
  await expect(selectedRow(page)).toHaveAttribute("data-span-id", spanId);
  if (spanName) await expect(selectedRow(page)).toContainText(spanName);
  await expect(selectedRow(page).locator(`[data-testid=error-pin][data-event-id*="${eventId}"]`)).toHaveCount(1);
}
