import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    environment: "node",
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real processes and git; 2 cores are shared, so keep parallelism modest.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["lib/**/*.test.ts", "server/**/*.test.ts", "app/**/*.test.ts", "cli/**/*.test.ts", "client/**/*.test.ts", "mcp/**/*.test.ts", "scripts/**/*.test.ts", "components/**/*.test.ts"],
          exclude: ["node_modules/**", "e2e/**", ".laneboard/**"],
        },
      },
      {
        extends: true,
        // Attack cases against the real server process (test/security/harness.ts), which serves the
        // production build: the global setup builds it when there is none.
        test: { name: "security", include: ["test/security/**/*.test.ts"], globalSetup: ["test/security/global-setup.ts"], hookTimeout: 180_000 },
      },
    ],
  },
});
