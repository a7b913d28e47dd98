/**
 * Answers of the real server (Next.js behind it) to requests no route handler serves: an unknown
 * API route is a JSON 404, a wrong method a JSON 405, a malformed percent-encoding or an id far
 * too long a 4xx, and every answer carries a request id.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, sigkill, startServer, test, type OwnServer } from "./support";

const PORT = Number(process.env.LANEBOARD_E2E_PORT ?? 3917) + 3;
const base = `http://127.0.0.1:${PORT}`;
let server: OwnServer | null = null;
let dataDir = "";
let repo = "";
test.afterEach(async () => {
  if (server) await sigkill(server.child);
  server = null;
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(repo, { recursive: true, force: true });
});

test.beforeEach(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-fuzz-"));
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-fuzz-repo-"));
  execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
  server = await startServer(PORT, dataDir, ["--kill-grace-ms", "200", "--kill-on-exit"]);
});

test("unknown /api/v1 routes answer a JSON 404, wrong methods a JSON 405, and every answer carries a request id", async () => {
  const headers = { authorization: `Bearer ${server!.token}` };
  const unknown = await fetch(`${base}/api/v1/no-such-route`, { headers });
  expect(unknown.status).toBe(404);
  expect(unknown.headers.get("content-type")).toContain("application/json");
  expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
  const wrong = await fetch(`${base}/api/v1/board`, { method: "DELETE", headers });
  expect(wrong.status).toBe(405);
  expect(((await wrong.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "method_not_allowed", message: "DELETE is not allowed on /api/v1/board" });
  expect(wrong.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  // A lane id that is a malformed percent-encoding, or far too long, never reaches the store.
  for (const [url, status] of [["/api/v1/lanes/%ZZ/summary", 400], ["/api/v1/processes/%E0%A4%A", 400], [`/api/v1/lanes/${"x".repeat(5000)}`, 404]] as const) {
    const res = await fetch(base + url, { headers });
    expect(res.status, url).toBe(status);
    expect(((await res.json()) as { error: { code: string } }).error.code.length).toBeGreaterThan(0);
  }
  // A client's own request id is kept when it is sane, replaced when not.
  expect((await fetch(`${base}/api/v1/board`, { headers: { ...headers, "x-request-id": "claw-42" } })).headers.get("x-request-id")).toBe("claw-42");
});
