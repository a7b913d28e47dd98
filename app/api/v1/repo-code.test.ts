/**
 * A repository runs none of its code until a lane's command does, and the server reads nothing
 * of a repository it was not meant to: attack cases through the real route handlers, against a
 * real runtime and real git repositories with hooks and an fsmonitor that leave marker files.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { PolicyView } from "@/lib/api";
import { git } from "@/server/git/git";
import { makeTempDir } from "@/server/git/git.testing";
import { COMMIT, eventually, SH, writePolicyFile } from "@/server/recovery/lane-fixtures.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import * as laneMerge from "./lanes/[id]/merge/route";
import * as repoPolicy from "./repos/[id]/policy/route";
import * as repos from "./repos/route";

const h = runtimePerTest({ workerCap: 4 }, { global: true });

const id = (x: string) => ({ params: Promise.resolve({ id: x }) });
const noParams = { params: Promise.resolve({}) };

/** Put executable `hooks` (name → nothing) in the harness repo; each appends its name to `marker`. */
async function installHooks(marker: string, names: string[]): Promise<void> {
  const dir = path.join(h.repoPath, ".git", "hooks");
  for (const name of names) await fs.writeFile(path.join(dir, name), `#!/bin/sh\necho ${name} >> '${marker}'\n`, { mode: 0o755 });
}

/** What the hooks and the fsmonitor wrote (empty when none ran). */
async function markers(marker: string): Promise<string[]> {
  const text = await fs.readFile(marker, "utf8").catch(() => "");
  return [...new Set(text.split("\n").filter(Boolean))].sort();
}

async function errorOf(res: Response): Promise<{ status: number; code: string; body: { error: { code: string; message: string; details?: Record<string, unknown> } } }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return { status: res.status, code: body.error.code, body };
}

describe("a repository's code does not run in Laneboard's git calls", () => {
  it("POST /api/v1/lanes – creating the worktree runs no post-checkout or reference-transaction hook and no fsmonitor", async () => {
    const tmp = await makeTempDir("laneboard-marker-");
    const marker = path.join(tmp.dir, "ran");
    await installHooks(marker, ["post-checkout", "reference-transaction"]);
    const monitor = path.join(tmp.dir, "fsmonitor.sh");
    await fs.writeFile(monitor, `#!/bin/sh\necho fsmonitor >> '${marker}'\n`, { mode: 0o755 });
    await git(["config", "core.fsmonitor", monitor], { cwd: h.repoPath });
    // The hooks are live: git run by hand (as a lane's command would) runs them.
    await git(["-c", "core.hooksPath=.git/hooks", "update-ref", "refs/heads/probe", "HEAD"], { cwd: h.repoPath });
    expect(await markers(marker)).toEqual(["reference-transaction"]);
    await fs.rm(marker);

    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const done = await waitForLane(h.rt, lane.id, isTerminal); // its worktree is checked out before it starts
    expect(done.state).toBe("finished");
    expect(await fs.readFile(path.join(lane.worktreePath, "package.json"), "utf8")).toContain("fixture");
    expect(await markers(marker)).toEqual([]);
    await tmp.cleanup();
  });

  it("POST /api/v1/lanes/:id/merge – merging into the base runs none of the repo's hooks", async () => {
    const tmp = await makeTempDir("laneboard-marker-");
    const marker = path.join(tmp.dir, "ran");
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(`echo x > x.txt && git add x.txt && ${COMMIT} -m x`), { acceptance: [{ level: "merge_ready", argv: ["test", "-f", "x.txt"] }] }));
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
    await eventually(h.rt, lane.id, "lane.merge.ready");
    await installHooks(marker, ["reference-transaction", "post-merge", "pre-merge-commit", "post-checkout", "post-commit"]);

    const res = await laneMerge.POST(apiRequest("POST", `/api/v1/lanes/${lane.id}/merge`, { strategy: "merge", cleanup: true }), id(lane.id));
    expect(res.status).toBe(200);
    expect(await fs.readFile(path.join(h.repoPath, "x.txt"), "utf8")).toBe("x\n");
    expect(await markers(marker)).toEqual([]);
    await tmp.cleanup();
  });

  it("PUT /api/v1/repos/:id/policy – git.runCheckoutHook lets the post-checkout hook (only) run as a worktree is made", async () => {
    const tmp = await makeTempDir("laneboard-marker-");
    const marker = path.join(tmp.dir, "ran");
    await installHooks(marker, ["post-checkout", "reference-transaction"]);
    const put = await repoPolicy.PUT(apiRequest("PUT", `/api/v1/repos/${h.repoId}/policy`, { rules: [], includeDefaults: true, git: { runCheckoutHook: true } }), id(h.repoId));
    expect(put.status).toBe(200);
    expect(((await put.json()) as PolicyView).runCheckoutHook).toBe(true);

    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished"); // checked out before it started
    expect(await markers(marker)).toEqual(["post-checkout"]);
    await tmp.cleanup();
  });

  it("GET /api/v1/repos/:id/policy – the repo's own file cannot opt in to its hook", async () => {
    const tmp = await makeTempDir("laneboard-marker-");
    const marker = path.join(tmp.dir, "ran");
    await installHooks(marker, ["post-checkout"]);
    await writePolicyFile(h.repoPath, "version: 1\nincludeDefaults: true\nrules: []\ngit:\n  runCheckoutHook: true\n");
    await h.rt.policy.loadRepo(h.repoId);
    const view = (await (await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId))).json()) as PolicyView;
    expect(view).toMatchObject({ source: "file", runCheckoutHook: false });
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished"); // checked out before it started
    expect(await markers(marker)).toEqual([]);
    await tmp.cleanup();
  });
});

describe("a repo's policy file is read only when it is a small regular file inside the repo", () => {
  it("GET /api/v1/repos/:id/policy – a policy.yaml linked to a file outside the repo: 422 policy_file_outside_repo, the file's text is not served", async () => {
    const tmp = await makeTempDir("laneboard-outside-");
    const secret = path.join(tmp.dir, "secret.yaml");
    await fs.writeFile(secret, "version: 1\nrules: []\n# SECRET-CONTENT\n");
    await fs.mkdir(path.join(h.repoPath, ".laneboard"));
    await fs.symlink(secret, path.join(h.repoPath, ".laneboard", "policy.yaml"));
    await h.rt.policy.loadRepo(h.repoId);
    const res = await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId));
    const err = await errorOf(res);
    expect(err).toMatchObject({ status: 422, code: "invalid_input" });
    expect(err.body.error.details).toMatchObject({ reason: "policy_file_outside_repo" });
    expect(JSON.stringify(err.body)).not.toContain("SECRET-CONTENT");
    expect(h.rt.policy.store.get(h.repoId)).toMatchObject({ source: "defaults" });
    await tmp.cleanup();
  });

  it("GET /api/v1/repos/:id/policy – a .laneboard directory linked outside the repo is refused too", async () => {
    const tmp = await makeTempDir("laneboard-outside-");
    await fs.writeFile(path.join(tmp.dir, "policy.yaml"), "version: 1\nrules: []\n");
    await fs.symlink(tmp.dir, path.join(h.repoPath, ".laneboard"));
    const err = await errorOf(await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId)));
    expect(err).toMatchObject({ status: 422, code: "invalid_input", body: { error: { details: { reason: "policy_file_outside_repo" } } } });
    await tmp.cleanup();
  });

  it("GET /api/v1/repos/:id/policy – a policy.yaml linked to /dev/zero: 422 at once, no unbounded read, the server goes on", async () => {
    await fs.mkdir(path.join(h.repoPath, ".laneboard"));
    await fs.symlink("/dev/zero", path.join(h.repoPath, ".laneboard", "policy.yaml"));
    const before = process.memoryUsage().rss;
    await h.rt.policy.loadRepo(h.repoId);
    const err = await errorOf(await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId)));
    expect(err).toMatchObject({ status: 422, code: "invalid_input" });
    expect(["policy_file_outside_repo", "policy_file_not_regular"]).toContain(err.body.error.details?.reason);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
    const list = await repos.GET(apiRequest("GET", "/api/v1/repos"), noParams);
    expect(list.status).toBe(200);
  });

  it("GET /api/v1/repos/:id/policy – a FIFO inside the repo is not a regular file: 422 policy_file_not_regular, no hang", async () => {
    await fs.mkdir(path.join(h.repoPath, ".laneboard"));
    await git(["-c", "alias.mkfifo=!mkfifo", "mkfifo", path.join(h.repoPath, ".laneboard", "policy.yaml")], { cwd: h.repoPath });
    const err = await errorOf(await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId)));
    expect(err).toMatchObject({ status: 422, code: "invalid_input", body: { error: { details: { reason: "policy_file_not_regular" } } } });
  });

  it("GET /api/v1/repos/:id/policy – a policy file over 64 KiB: 422 policy_file_too_large; one inside the limit is served", async () => {
    const file = await writePolicyFile(h.repoPath, `version: 1\nrules: []\n${"#".repeat(64 * 1024)}\n`);
    const err = await errorOf(await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId)));
    expect(err).toMatchObject({ status: 422, code: "invalid_input", body: { error: { details: { reason: "policy_file_too_large" } } } });
    await fs.writeFile(file, "version: 1\nrules: []\n");
    await h.rt.policy.loadRepo(h.repoId);
    const ok = await repoPolicy.GET(apiRequest("GET", `/api/v1/repos/${h.repoId}/policy`), id(h.repoId));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as PolicyView).source).toBe("file");
  });

  it("PUT /api/v1/repos/:id/policy – a deeply nested YAML document: 422 invalid_input, the rules in force stay", async () => {
    for (const text of [`rules: ${"[".repeat(20_000)}`, `${"? ".repeat(100_000)}x`]) {
      const res = await repoPolicy.PUT(apiRequest("PUT", `/api/v1/repos/${h.repoId}/policy`, text, { "content-type": "application/yaml" }), id(h.repoId));
      const err = await errorOf(res);
      expect(err).toMatchObject({ status: 422, code: "invalid_input" });
      expect(err.body.error.message).toContain("nests deeper than 64 levels");
    }
    expect(h.rt.policy.store.get(h.repoId).source).toBe("defaults");
  });
});

describe("a repo path is an absolute path of a real directory", () => {
  const register = (body: unknown) => repos.POST(apiRequest("POST", "/api/v1/repos", body), noParams);

  it("POST /api/v1/repos – a relative path: 422 invalid_input, not resolved against the server's directory", async () => {
    for (const p of [".", "repo", "../x"]) {
      const err = await errorOf(await register({ path: p }));
      expect(err, p).toMatchObject({ status: 422, code: "invalid_input" });
      expect(err.body.error.message).toContain("absolute");
    }
  });

  it("POST /api/v1/repos – a NUL byte in the path: 422 invalid_input", async () => {
    const err = await errorOf(await register({ path: `${h.repoPath}\u0000/x` }));
    expect(err).toMatchObject({ status: 422, code: "invalid_input" });
    expect(err.body.error.message).toContain("NUL");
  });

  it("POST /api/v1/repos – /proc aliases of the server's own tree, /sys and /dev: 422 invalid_input", async () => {
    for (const p of ["/proc/self/cwd", `/proc/${process.pid}/root${process.cwd()}`, "/proc/../proc/self/cwd", "//proc/self/cwd", "/sys", "/dev/shm"]) {
      const err = await errorOf(await register({ path: p }));
      expect(err, p).toMatchObject({ status: 422, code: "invalid_input" });
      expect(err.body.error.message, p).toContain("/proc");
    }
    expect((await h.rt.repos.list()).map((r) => r.id)).toEqual([h.repoId]);
  });
});
