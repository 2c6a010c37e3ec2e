import { defineConfig } from "@playwright/test";
import os from "node:os";
import path from "node:path";

// tracepin's end-to-end tests. Playwright starts the release binary itself on the built-in demo data
// (a port of its own, so a `make run` on :3000 is left alone) and stops it at the end.
// The browser is Debian's Chromium; Playwright never downloads one.
const port = Number(process.env.TRACEPIN_E2E_PORT ?? 3123);
const root = path.resolve(__dirname, "..");
const binary = process.env.TRACEPIN_BIN ?? "./target/release/tracepin";
export const filesPort = port + 1;
// A fake Tempo + Sentry (end2end/fake-upstreams.mjs) and a tracepin that talks to it over HTTP.
export const fakePort = port + 2;
export const livePort = port + 3;
export const liveToken = "e2e-token";
// A tracepin with a fresh local store that the real Python SDKs send to (tests/sdk.spec.ts).
export const storePort = port + 4;
const storeDir = path.join(os.tmpdir(), `tracepin-e2e-store-${port}`);

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: "list",
  outputDir: "./test-results",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 900 },
    trace: "off",
  },
  projects: [
    {
      name: "chromium",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
          args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        },
      },
    },
  ],
  webServer: [
    {
      // The local store, empty at every run: the real SDKs of end2end/.venv send to it.
      command: `rm -rf ${storeDir} && exec ${binary} --addr 127.0.0.1:${storePort} --data ${storeDir}`,
      cwd: root,
      url: `http://127.0.0.1:${storePort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // The built-in demo incident (real SDK payloads).
      command: `${binary} --demo --addr 127.0.0.1:${port}`,
      cwd: root,
      url: `http://127.0.0.1:${port}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // The files backend on hand-written hostile data.
      command: `${binary} --files-dir end2end/fixtures/hostile --addr 127.0.0.1:${port + 1}`,
      cwd: root,
      url: `http://127.0.0.1:${port + 1}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    {
      // Fake upstreams: Grafana Tempo and the Sentry Web API of org `acme` (end2end/fixtures/upstream).
      // Listed before the live tracepin so that it is up first. Its request log goes to stderr.
      command: `node end2end/fake-upstreams.mjs --port ${fakePort} --token ${liveToken}`,
      cwd: root,
      url: `http://127.0.0.1:${fakePort}/api/echo`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: "ignore",
      stderr: "ignore", // one line per request; run fake-upstreams.mjs by hand to see them
    },
    {
      // tracepin against the fake Tempo and Sentry, over real HTTP.
      command:
        `${binary} --addr 127.0.0.1:${livePort} --sentry-url http://127.0.0.1:${fakePort} ` +
        `--sentry-org acme --tempo-url http://127.0.0.1:${fakePort}`,
      cwd: root,
      env: {
        SENTRY_AUTH_TOKEN: liveToken,
        RUST_LOG: "warn",
        TRACEPIN_GRAFANA_URL: "https://grafana.example.com/",
        TRACEPIN_GRAFANA_TEMPO_DATASOURCE: "tempo-e2e",
        TRACEPIN_JAEGER_UI_URL: "https://jaeger.example.com/jaeger",
      },
      url: `http://127.0.0.1:${livePort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
  ],
});
