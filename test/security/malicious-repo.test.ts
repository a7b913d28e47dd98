/**
 * Attack: a repository that tries to run its code or read the server's files when Laneboard works
 * on it, not when a lane's command runs: hooks git runs on its own (post-checkout,
 * reference-transaction, merge hooks, …) and a `core.fsmonitor` program, each leaving a marker;
 * a `.laneboard/policy.yaml` linked to a file outside the repo or to `/dev/zero`; repo paths that
 * alias the server's own tree; policy documents nested to exhaust the parser. Against the real
 * server process over HTTP.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { git } from "@/server/git/git";
import { commitFile, initRepo, makeTempDir, TEST_IDENTITY } from "@/server/git/git.testing";
import { expectError, startSecurityServer, type SecurityServer } from "./harness";

/** Hooks git may run on its own during Laneboard's calls (worktree add, status, merge, cleanup). */
const HOOKS = ["post-checkout", "reference-transaction", "pre-merge-commit", "post-merge", "pre-commit", "commit-msg", "post-commit", "post-rewrite", "post-index-change", "pre-auto-gc"];

let s: SecurityServer;
let tmp: { dir: string; cleanup: () => Promise<void> };
/** Each hook and the fsmonitor append their name here. */
let marker: string;
/** A file outside every repo that a linked policy file points at. */
let secretFile: string;

/** A fresh repo with one commit and `links` (path in the repo → link target) made in its work tree. */
async function repo(name: string, links: Record<string, string> = {}): Promise<string> {
  const dir = path.join(tmp.dir, name);
  await fs.mkdir(dir);
  await initRepo(dir);
  await commitFile(dir, "README.md", `${name}\n`, "init");
  for (const [file, target] of Object.entries(links)) {
    await fs.mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await fs.symlink(target, path.join(dir, file));
  }
  return dir;
}

async function markers(): Promise<string[]> {
  const text = await fs.readFile(marker, "utf8").catch(() => "");
  return [...new Set(text.split("\n").filter(Boolean))].sort();
}

async function register(dir: string): Promise<string> {
  const a = await s.api("/api/v1/repos", { method: "POST", body: JSON.stringify({ path: dir }) });
  expect(a.status, a.text).toBe(201);
  return (a.json as { id: string }).id;
}

beforeAll(async () => {
  s = await startSecurityServer();
  tmp = await makeTempDir("laneboard-sec-evil-");
  marker = path.join(tmp.dir, "ran");
  secretFile = path.join(tmp.dir, "server-secret.txt");
  await fs.writeFile(secretFile, "rules: []\n# SECRET-OUTSIDE-THE-REPO\n");
});
afterAll(async () => {
  await s?.stop();
  await tmp?.cleanup();
});

describe("a malicious repository", () => {
  it("registering it, a lane's worktree, diff, freshness, merge and cleanup run none of its hooks and not its fsmonitor", async () => {
    const dir = await repo("hooks");
    for (const name of HOOKS) await fs.writeFile(path.join(dir, ".git", "hooks", name), `#!/bin/sh\necho ${name} >> '${marker}'\n`, { mode: 0o755 });
    const monitor = path.join(tmp.dir, "fsmonitor.sh");
    await fs.writeFile(monitor, `#!/bin/sh\necho fsmonitor >> '${marker}'\n`, { mode: 0o755 });
    await git(["config", "core.fsmonitor", monitor], { cwd: dir });
    // The hooks are live: git run by hand runs them (server/git's runner turns them off, so they are named back).
    await git(["-c", "core.hooksPath=.git/hooks", "update-ref", "refs/heads/probe", "HEAD"], { cwd: dir });
    expect(await markers()).toContain("reference-transaction");
    await fs.rm(marker);

    const repoId = await register(dir);
    // The lane's own command commits with the hooks off, so that any marker is Laneboard's doing.
    const command = ["git", ...TEST_IDENTITY, "-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "commit", "--allow-empty", "-m", "lane work"];
    const created = await s.api("/api/v1/lanes", { method: "POST", body: JSON.stringify({ objective: "evil repo", repo: repoId, branch: "lane/evil", worker: { engine: "shell", command } }) });
    expect(created.status, created.text).toBe(201);
    const laneId = (created.json as { id: string }).id;
    const done = await s.api(`/api/v1/lanes/${laneId}/await?state=finished&timeoutMs=60000`);
    expect((done.json as { outcome: string }).outcome, done.text).toBe("reached");
    for (const p of ["diff", "freshness", "merge"]) expect((await s.api(`/api/v1/lanes/${laneId}/${p}`)).status, p).toBe(200);
    const merged = await s.api(`/api/v1/lanes/${laneId}/merge`, { method: "POST", body: JSON.stringify({ force: true, strategy: "merge", cleanup: true }) });
    expect(merged.status, merged.text).toBe(200);
    expect((await git(["log", "--format=%s", "main"], { cwd: dir })).stdout).toContain("lane work");
    expect(await markers()).toEqual([]);
  });

  it("GET /api/v1/repos/:id/policy – a policy file linked outside the repo is 422 policy_file_outside_repo, and its content is not shown", async () => {
    const repoId = await register(await repo("linked-policy", { ".laneboard/policy.yaml": secretFile }));
    const a = await s.api(`/api/v1/repos/${repoId}/policy`);
    expectError(a, 422, "invalid_input");
    expect(a.json).toMatchObject({ error: { details: { reason: "policy_file_outside_repo" } } });
    expect(a.text).not.toContain("SECRET-OUTSIDE-THE-REPO");
    const events = await s.api(`/api/v1/events?order=desc&limit=50`);
    expect(events.text).not.toContain("SECRET-OUTSIDE-THE-REPO");
  });

  it("GET /api/v1/repos/:id/policy – a policy file linked to /dev/zero, or a linked .laneboard folder, is refused without reading it, and the server serves on", async () => {
    const zero = await register(await repo("zero-policy", { ".laneboard/policy.yaml": "/dev/zero" }));
    const outside = path.join(tmp.dir, "outside-laneboard");
    await fs.mkdir(outside);
    await fs.copyFile(secretFile, path.join(outside, "policy.yaml"));
    const folder = await register(await repo("linked-folder", { ".laneboard": outside }));
    for (const repoId of [zero, folder]) {
      const a = await s.api(`/api/v1/repos/${repoId}/policy`);
      expectError(a, 422, "invalid_input", repoId);
      expect(a.json).toMatchObject({ error: { details: { reason: "policy_file_outside_repo" } } });
      expect(a.text).not.toContain("SECRET-OUTSIDE-THE-REPO");
    }
    expect((await s.api("/api/v1/board")).status).toBe(200);
  });
});

describe("repo paths and policy documents", () => {
  it("POST /api/v1/repos – a relative path, a NUL byte, /proc/self/cwd (the server's own tree), a .. into /proc, /dev, or a link to /proc/self/cwd → 422 invalid_input; nothing changes", async () => {
    const link = path.join(tmp.dir, "proc-link");
    await fs.symlink("/proc/self/cwd", link);
    const before = await s.fingerprint();
    for (const p of [".", "repo", `${s.repoDir}\u0000/x`, "\u0000", "/proc/self/cwd", "/tmp/../proc/self/root", "/dev/shm", "/sys", link]) {
      expectError(await s.api("/api/v1/repos", { method: "POST", body: JSON.stringify({ path: p }) }), 422, "invalid_input", JSON.stringify(p));
    }
    expect(await s.fingerprint()).toBe(before);
  });

  it("PUT /api/v1/repos/:id/policy – a policy nested 50,000 levels deep (YAML flow, YAML block, as JSON text) is 422 and the rules in force stay", async () => {
    const before = await s.fingerprint({ events: false });
    const flow = `rules: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`;
    let block = "rules:\n";
    for (let i = 0; i < 300; i++) block += `${" ".repeat(i + 1)}- \n`;
    const bodies: RequestInit[] = [
      { headers: { "content-type": "application/yaml" }, body: flow },
      { headers: { "content-type": "application/yaml" }, body: block },
      { body: JSON.stringify({ text: flow }) },
      { headers: { "content-type": "application/yaml" }, body: `${"? ".repeat(20_000)}x\n` },
    ];
    for (const init of bodies) {
      const a = await s.api(`/api/v1/repos/${s.repoId}/policy`, { method: "PUT", ...init });
      expectError(a, 422, "invalid_input", String(init.body).slice(0, 40));
      expect(a.text).not.toContain("Maximum call stack");
    }
    expect(await s.fingerprint({ events: false })).toBe(before);
    expect((await s.api("/api/v1/board")).status).toBe(200);
  });
});
