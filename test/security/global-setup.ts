/**
 * The security suite serves the production build, as `npm start` does: build it once before the
 * suite's files start when there is none (`npm test` builds before the unit tests; run
 * `npm run build` after changing app code when running the suite alone, as for the e2e tests).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "@/server/testing/server-process";

export function setup(): void {
  if (existsSync(path.join(REPO_ROOT, ".next", "BUILD_ID"))) return;
  const built = spawnSync("npx", ["next", "build"], { cwd: REPO_ROOT, stdio: "inherit", env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" } });
  if (built.status !== 0) throw new Error(`next build failed (${built.status ?? built.signal}); the security suite needs the production build`);
}
