/**
 * Merge readiness, the merge action, checks, freshness and policy through their real route
 * handlers, against a real runtime over a temp data dir and real git repositories.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { LaneChecksResponse, LaneFreshness, MergeReadiness, MergeResult, PolicyView } from "@/lib/api";
import { git } from "@/server/git/git";
import { commitFile } from "@/server/git/git.testing";
import { COMMIT, eventually, laneEvents, ofType, POLICY_BAD_ACTION, POLICY_NO_AUTO_MERGE, SH, writePolicyFile } from "@/server/recovery/lane-fixtures.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import * as laneChecks from "./lanes/[id]/checks/route";
import * as laneFreshness from "./lanes/[id]/freshness/route";
import * as laneMerge from "./lanes/[id]/merge/route";
import * as repoPolicy from "./repos/[id]/policy/route";

const h = runtimePerTest({ workerCap: 4 }, { global: true });

const id = (x: string) => ({ params: Promise.resolve({ id: x }) });
const req = (method: string, url: string, body?: unknown, contentType = "application/json") => apiRequest(method, url, body, { "content-type": contentType });

/** A lane that writes `file` and commits, with a merge_ready check. */
async function greenLane(file: string, extra: Parameters<typeof shellPacket>[2] = {}) {
  const lane = await h.rt.lanes.create(
    shellPacket(h.repoId, SH(`mkdir -p "$(dirname ${file})" && echo lane > ${file} && git add -A && ${COMMIT} -m "add ${file}"`), {
      acceptance: [{ level: "merge_ready", argv: ["test", "-f", file] }],
      ...extra,
    }),
  );
  const done = await waitForLane(h.rt, lane.id, isTerminal);
  expect(done.state).toBe("finished");
  return lane;
}

describe("merge", () => {
  it("GET /api/v1/lanes/:id/merge – merge-ready after green at merge_ready; POST – fast-forward, then cleanup of worktree and branch", async () => {
    const lane = await greenLane("docs/a.md");
    await eventually(h.rt, lane.id, "lane.merge.ready");
    const ready = (await (await laneMerge.GET(req("GET", `/api/v1/lanes/${lane.id}/merge`), id(lane.id))).json()) as MergeReadiness;
    expect(ready).toMatchObject({ ready: true, reasons: [], level: "merge_ready", fastForward: true, behind: 0, conflicts: [] });
    expect((await h.rt.lanes.get(lane.id)).mergeReady).toBe(true);

    const res = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, { strategy: "ff", cleanup: true }), id(lane.id));
    expect(res.status).toBe(200);
    const merged = (await res.json()) as MergeResult;
    expect(merged).toMatchObject({ strategy: "ff", baseBranch: "main", cleanedUp: true, updatedWorktree: h.repoPath });
    expect((await git(["rev-parse", "main"], { cwd: h.repoPath })).stdout).toBe(merged.sha);
    expect(await fs.readFile(path.join(h.repoPath, "docs/a.md"), "utf8")).toBe("lane\n"); // the checked-out main followed
    await expect(fs.access(lane.worktreePath)).rejects.toThrow();
    expect((await git(["branch", "--list", lane.branch], { cwd: h.repoPath })).stdout).toBe("");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.merged")[0]?.payload).toMatchObject({ strategy: "ff", by: "admin", sha: merged.sha });
    expect(ofType(events, "lane.cleaned_up")[0]?.payload).toMatchObject({ worktreeRemoved: true, branchDeleted: true });
    expect(await h.rt.lanes.get(lane.id)).toMatchObject({ merged: true, mergeReady: null });
    const again = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, {}), id(lane.id));
    expect(again.status).toBe(409);
  });

  it("POST /api/v1/lanes/:id/merge – a merge commit after main moved; the policy's cleanup removes the worktree", async () => {
    const lane = await greenLane("b.txt", { merge: { requiredLevel: "merge_ready", strategy: "merge" } });
    const moved = await commitFile(h.repoPath, "c.txt", "c\n", "main moves");
    await eventually(h.rt, lane.id, "branch.stale_against_main");
    const notReady = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, {}), id(lane.id));
    expect(notReady.status).toBe(409);
    expect(((await notReady.json()) as { error: { code: string } }).error.code).toBe("not_ready");
    const ffRefused = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, { strategy: "ff", force: true }), id(lane.id));
    expect(ffRefused.status).toBe(409);
    const res = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, { force: true }), id(lane.id));
    expect(res.status).toBe(200);
    const merged = (await res.json()) as MergeResult;
    expect(merged).toMatchObject({ strategy: "merge", previous: moved, cleanedUp: true });
    const parents = (await git(["rev-list", "--parents", "-n", "1", "main"], { cwd: h.repoPath })).stdout.split(" ").slice(1);
    expect(parents).toEqual([moved, (await laneEvents(h.rt, lane.id)).filter((e) => e.type === "lane.commit.created").at(-1)!.payload.sha]);
    const decided = ofType(await laneEvents(h.rt, lane.id), "policy.decided").map((e) => e.payload);
    expect(decided).toContainEqual(expect.objectContaining({ ruleId: "merged-cleanup", action: "cleanup_worktree", trigger: "lane.merged" }));
    expect((await git(["branch", "--list", lane.branch], { cwd: h.repoPath })).stdout).toBe("");
  });

  it("the default policy merges a merge-ready lane whose diff stays within its scope, by itself", async () => {
    const lane = await greenLane("src/feature.js", { scope: ["src/"] });
    const merged = await eventually(h.rt, lane.id, "lane.merged");
    expect(merged.payload).toMatchObject({ strategy: "merge", by: "policy:green-merge" });
    await eventually(h.rt, lane.id, "lane.cleaned_up");
    const decided = ofType(await laneEvents(h.rt, lane.id), "policy.decided").map((e) => e.payload.ruleId);
    expect(decided).toEqual(expect.arrayContaining(["green-merge", "merged-cleanup"]));
    const outOfScope = await greenLane("elsewhere.txt", { scope: ["src/"] });
    await eventually(h.rt, outOfScope.id, "lane.merge.ready");
    expect(ofType(await laneEvents(h.rt, outOfScope.id), "lane.merged")).toEqual([]);
  });

  it("a real conflict blocks merge readiness and is escalated; the merge is refused", async () => {
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, SH(`echo lane > shared.txt && git add -A && ${COMMIT} -m "lane edits shared" && read go`), {
        acceptance: [{ level: "targeted", argv: ["true"] }],
        merge: { requiredLevel: "targeted" },
      }),
    );
    await eventually(h.rt, lane.id, "lane.commit.created");
    await commitFile(h.repoPath, "shared.txt", "main\n", "main edits shared");
    await eventually(h.rt, lane.id, "branch.stale_against_main");
    await h.rt.supervisor.writeStdin((await h.rt.lanes.get(lane.id)).currentProcessId!, "go\n");
    const blocked = await eventually(h.rt, lane.id, "lane.merge.blocked");
    expect(blocked.payload).toMatchObject({ conflicts: ["shared.txt"], level: "targeted" });
    expect(blocked.payload.reasons).toEqual(expect.arrayContaining(["stale", "conflict"]));
    const escalated = await eventually(h.rt, lane.id, "lane.escalated");
    expect(escalated.payload).toMatchObject({ failureClass: "branch_divergence", failureReason: "merge_conflict" });
    const view = await h.rt.lanes.get(lane.id);
    expect(view).toMatchObject({ state: "finished", mergeReady: false, blocked: { failureClass: "branch_divergence" } });
    const res = await laneMerge.POST(req("POST", `/api/v1/lanes/${lane.id}/merge`, { force: true }), id(lane.id));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { details: { kind: string } } }).error.details.kind).toBe("merge_conflict");
  });
});

describe("checks and freshness", () => {
  it("GET /api/v1/lanes/:id/checks – every run with counts; GET …/freshness – ahead/behind and missing commits", async () => {
    const tap = "echo 'TAP version 13'; echo 'ok 1 - a'; echo 'ok 2 - b # SKIP later'; echo 'not ok 3 - c'; echo '1..3'; exit 1";
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"], { acceptance: [{ level: "package", argv: SH(tap) }] }));
    await waitForLane(h.rt, lane.id, isTerminal);
    const checks = (await (await laneChecks.GET(req("GET", "/x"), id(lane.id))).json()) as LaneChecksResponse;
    expect(checks.runs[0]).toMatchObject({ level: "package", status: "red", exitCode: 1, tests: { format: "tap", passed: 1, failed: 1, skipped: 1, total: 3 }, failure: { failureClass: "test" } });
    expect(checks.levels.package).toMatchObject({ status: "red", tests: { failed: 1 }, failureClass: "test" });
    expect((await h.rt.lanes.get(lane.id)).checks.package?.tests).toMatchObject({ passed: 1, failed: 1, skipped: 1 });
    const main = await commitFile(h.repoPath, "n.txt", "n\n", "main: n");
    await eventually(h.rt, lane.id, "branch.stale_against_main");
    const f = (await (await laneFreshness.GET(req("GET", "/x"), id(lane.id))).json()) as LaneFreshness;
    expect(f).toMatchObject({ stale: true, behind: 1, ahead: 0, baseMoved: true, missing: [{ sha: main, subject: "main: n" }], worktree: "ok" });
    expect((await laneFreshness.GET(req("GET", "/x"), id("nope"))).status).toBe(404);
  });
});

describe("policy", () => {
  const good = POLICY_NO_AUTO_MERGE;
  const bad = POLICY_BAD_ACTION;

  it("loads the repo's policy file, rejects a bad edit with its line while the previous rules stay in force", async () => {
    await writePolicyFile(h.repoPath, good);
    await eventually(h.rt, null, "policy.loaded", (e) => e.repoId === h.repoId && e.payload.source === "file");
    let view = (await (await repoPolicy.GET(req("GET", "/x"), id(h.repoId))).json()) as PolicyView;
    expect(view).toMatchObject({ source: "file", file: path.join(h.repoPath, ".laneboard", "policy.yaml") });
    expect(view.rules[0]).toMatchObject({ id: "no-auto-merge", then: { action: "notify" } });

    await writePolicyFile(h.repoPath, bad);
    const rejected = await eventually(h.rt, null, "policy.rejected", (e) => e.repoId === h.repoId);
    expect(rejected.payload).toMatchObject({ source: "file", errors: [{ line: 6, column: 15 }] });
    view = (await (await repoPolicy.GET(req("GET", "/x"), id(h.repoId))).json()) as PolicyView;
    expect(view.rules[0]?.id).toBe("no-auto-merge");
  });

  it("loads a policy file that is there when the repo is registered; a broken one leaves the defaults, with its line", async () => {
    const { makeTempDir, initRepo } = await import("@/server/git/git.testing");
    const dirs = [await makeTempDir("laneboard-pol-"), await makeTempDir("laneboard-pol-")];
    try {
      await initRepo(dirs[0]!.dir);
      await writePolicyFile(dirs[0]!.dir, good);
      const withFile = await h.rt.repos.register({ path: dirs[0]!.dir });
      await eventually(h.rt, null, "policy.loaded", (e) => e.repoId === withFile.id && e.payload.source === "file");
      expect((await h.rt.policy.get(withFile.id)).rules[0]?.id).toBe("no-auto-merge");
      await initRepo(dirs[1]!.dir);
      await writePolicyFile(dirs[1]!.dir, JSON.stringify({ rules: [{ id: "x", description: "d", when: {}, then: { action: "fly" } }] }, null, 2), "policy.json");
      const broken = await h.rt.repos.register({ path: dirs[1]!.dir });
      const rejected = await eventually(h.rt, null, "policy.rejected", (e) => e.repoId === broken.id);
      expect(rejected.payload.errors[0]).toMatchObject({ line: 8 });
      expect((await h.rt.policy.get(broken.id)).source).toBe("defaults");
    } finally {
      await Promise.all(dirs.map((d) => d.cleanup()));
    }
  });

  it("PUT /api/v1/repos/:id/policy – bad text is a 422 with line and column; good text replaces the rules; DELETE goes back to the defaults", async () => {
    const res = await repoPolicy.PUT(req("PUT", "/x", bad, "text/yaml"), id(h.repoId));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string; details: { errors: Array<{ line: number; column: number; message: string }> } } };
    expect(body.error.code).toBe("invalid_input");
    expect(body.error.details.errors[0]).toMatchObject({ line: 6, column: 15 });
    expect(body.error.message).toContain("line 6");
    expect(((await (await repoPolicy.GET(req("GET", "/x"), id(h.repoId))).json()) as PolicyView).source).toBe("defaults");

    const ok = await repoPolicy.PUT(req("PUT", "/x", { text: good }), id(h.repoId));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as PolicyView)).toMatchObject({ source: "api", rules: expect.arrayContaining([expect.objectContaining({ id: "no-auto-merge" })]) });
    const asRules = await repoPolicy.PUT(req("PUT", "/x", { rules: [{ id: "x", description: "d", when: {}, then: { action: "rebase" } }] }), id(h.repoId));
    expect(((await asRules.json()) as PolicyView).rules.map((r) => r.id)).toEqual(["x"]);
    const badJson = await repoPolicy.PUT(req("PUT", "/x", { rules: [{ id: "x", description: "d", when: { stale: "yes" }, then: { action: "rebase" } }] }), id(h.repoId));
    expect(badJson.status).toBe(422);
    expect(((await (await repoPolicy.GET(req("GET", "/x"), id(h.repoId))).json()) as PolicyView).rules.map((r) => r.id)).toEqual(["x"]);
    const reset = (await (await repoPolicy.DELETE(req("DELETE", "/x"), id(h.repoId))).json()) as PolicyView;
    expect(reset.source).toBe("defaults");
    expect((await repoPolicy.GET(req("GET", "/x"), id("nope"))).status).toBe(404);
  });
});
