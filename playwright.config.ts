import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { SERVER_ENV_PREFIX, SERVER_NODE_FLAGS } from "./server/node-flags";

// One fresh data directory per run, shared by the main process and its workers through env.
process.env.LANEBOARD_E2E_DATA ??= fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-e2e-"));
const port = Number(process.env.LANEBOARD_E2E_PORT ?? 3917);
// The project's scripted model server, for the agent lanes of the lane-page tests (real Claude Code CLI).
const modelPort = port + 1;
// The suite's PostgreSQL run (scripts/test-postgres.ts) gives the server a database of its own.
const databaseArgs = process.env.LANEBOARD_E2E_DATABASE_URL ? ` --database-url ${process.env.LANEBOARD_E2E_DATABASE_URL}` : "";

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  timeout: 120_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1440, height: 900 },
    trace: "retain-on-failure",
    launchOptions: {
      // Debian's chromium; Playwright's own browser download cannot work offline.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    },
  },
  webServer: [
    {
      command: `node --import tsx server/model-server/main.ts --port ${modelPort} --script e2e/fixtures/model-script.json`,
      url: `http://127.0.0.1:${modelPort}/`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "pipe",
      stderr: "pipe",
    },
    {
      command: `${SERVER_ENV_PREFIX} node ${SERVER_NODE_FLAGS.join(" ")} --import tsx server/main.ts --port ${port} --data-dir ${process.env.LANEBOARD_E2E_DATA} --kill-grace-ms 1500 --kill-on-exit${databaseArgs}`,
      url: `http://127.0.0.1:${port}/api/v1/board`,
      timeout: 180_000,
      reuseExistingServer: false,
      env: { NODE_ENV: "production", LANEBOARD_ANTHROPIC_BASE_URL: `http://127.0.0.1:${modelPort}`, LANEBOARD_ANTHROPIC_API_KEY: "e2e-key" },
      stdout: "pipe",
      stderr: "pipe",
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
    },
  ],
});
