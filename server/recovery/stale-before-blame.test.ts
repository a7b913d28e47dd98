/**
 * Branch freshness before blame, on a real runtime and real repositories: main fixes a bug the
 * lane's tests run into after the lane started.
 *
 * - before a workspace check, the stale lane is merged forward (policy) and its check is green:
 *   no red is ever reported;
 * - a targeted check red on the stale branch is recovered once (merge-forward, rerun) → green;
 * - a red that survives the merge-forward is escalated after exactly one attempt;
 * - a merge-forward that conflicts fails the lane as branch_divergence and escalates it.
 */
import fs from "node:fs/promises";
import { beforeEach, describe, expect, it } from "vitest";
import { commitFile } from "../git/git.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "../testing/runtime-harness";
import { addBuggyCalculator, COMMIT, eventually, fixCalculatorOnMain, laneEvents, mulWorker, NODE_TEST, ofType, releaseWhenStale, SH, tellWorker } from "./lane-fixtures.testing";

/**
 * How long a wait here gives a lane. Each test runs a worker, then checks, git merges and a second
 * check round: at load 20 on the 2-core machine that took more than 30 s. The waits are on events
 * (they return as soon as the lane gets there); this only bounds how long a stuck lane is waited for.
 */
const WAIT_MS = 90_000;

describe("stale before blame", { timeout: WAIT_MS + 60_000 }, () => {
  const h = runtimePerTest({ workerCap: 4 });
  beforeEach(async () => {
    await addBuggyCalculator(h.repoPath);
  });

  /** Create a lane whose worker commits mul.js and waits; fix main; let the worker finish. */
  async function laneOnStaleBranch(acceptance: { level: "targeted" | "workspace" | "merge_ready"; argv: string[] }[], worker = mulWorker({ wait: true })) {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, worker, { acceptance }));
    await eventually(h.rt, lane.id, "lane.commit.created", (e) => e.payload.subject === "add mul", WAIT_MS);
    const fix = await fixCalculatorOnMain(h.repoPath);
    await eventually(h.rt, lane.id, "branch.stale_against_main", (e) => e.payload.baseHead === fix, WAIT_MS);
    await tellWorker(h.rt, lane.id, "go");
    return { lane, fix };
  }

  it("merges a stale lane forward before its workspace check: green, and no red is reported", async () => {
    const t0 = Date.now();
    const { lane, fix } = await laneOnStaleBranch([{ level: "workspace", argv: NODE_TEST }]);
    const done = await waitForLane(h.rt, lane.id, isTerminal, WAIT_MS);
    expect(done.state).toBe("finished");
    expect(done.checks.workspace).toMatchObject({ status: "green", tests: { format: "node-test", passed: 2, failed: 0, skipped: 0, total: 2 } });
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.red")).toEqual([]);
    expect(ofType(events, "policy.decided").map((e) => e.payload)).toContainEqual(expect.objectContaining({ ruleId: "stale-merge-forward-before-checks", action: "merge_forward", trigger: "check.started" }));
    expect(ofType(events, "branch.stale_against_main").some((e) => e.payload.trigger === "before_check")).toBe(true);
    const merged = ofType(events, "branch.merged_forward")[0]!;
    expect(merged.payload).toMatchObject({ method: "merge", baseSha: fix, fastForward: false, by: "stale-merge-forward-before-checks" });
    // The merge commit Laneboard made is a lane commit with provenance; main's fix is not.
    const commits = ofType(events, "lane.commit.created").map((e) => e.payload);
    expect(commits.map((c) => c.subject)).toEqual(["add mul", `Merge main into ${lane.branch}`]);
    expect(commits[1]).toMatchObject({ author: "Laneboard <laneboard@localhost>", parents: [expect.any(String), fix] });
    const types = events.map((e) => e.type);
    expect(types.lastIndexOf("branch.merged_forward")).toBeLessThan(types.indexOf("check.started"));
    expect(done.behind).toBe(0);
    console.info(`[stale-before-blame] workspace path: ${Date.now() - t0} ms`);
  });

  it("a targeted check red on the stale branch is recovered once (merge-forward, rerun) and turns green", async () => {
    const t0 = Date.now();
    const { lane, fix } = await laneOnStaleBranch([{ level: "targeted", argv: NODE_TEST }]);
    const done = await waitForLane(h.rt, lane.id, isTerminal, WAIT_MS);
    expect(done.state).toBe("finished");
    const events = await laneEvents(h.rt, lane.id);
    const [red] = ofType(events, "lane.red");
    expect(red?.payload).toMatchObject({ level: "targeted", stale: true, failureClass: "test", failureReason: "tests_failed", tests: { passed: 1, failed: 1 } });
    expect(red?.payload.evidence?.some((l) => l.includes("adds"))).toBe(true);
    const attempts = ofType(events, "lane.recovery.attempted");
    expect(attempts.map((e) => e.payload)).toEqual([expect.objectContaining({ recipe: "merge-forward", key: "stale_branch", action: "merge_forward", failureClass: "test" })]);
    expect(ofType(events, "branch.merged_forward")[0]?.payload).toMatchObject({ baseSha: fix, by: "merge-forward" });
    expect(ofType(events, "lane.green")[0]?.payload).toMatchObject({ level: "targeted", tests: { passed: 2, failed: 0 } });
    expect(ofType(events, "lane.escalated")).toEqual([]);
    expect(done.checks.targeted).toMatchObject({ status: "green" }); // the rerun's round wins over the stale red
    const report = await h.rt.merge.checkReport(lane.id);
    expect(report.runs.map((r) => [r.round, r.status, r.stale])).toEqual([
      [0, "red", true],
      [1, "green", false],
    ]);
    console.info(`[stale-before-blame] recovery path: ${Date.now() - t0} ms`);
  });

  it("a red that survives the merge-forward is escalated after exactly one attempt, with the evidence", async () => {
    const { lane } = await laneOnStaleBranch([{ level: "targeted", argv: NODE_TEST }], mulWorker({ wait: true, mulBody: "a + b" }));
    const done = await waitForLane(h.rt, lane.id, isTerminal, WAIT_MS);
    expect(done.state).toBe("failed");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "lane.recovery.attempted")).toHaveLength(1);
    expect(ofType(events, "lane.red")).toHaveLength(2);
    const [escalated] = ofType(events, "lane.escalated");
    expect(escalated?.payload).toMatchObject({ failureClass: "test", recipe: "merge-forward", failureReason: "tests_failed" });
    expect(escalated?.payload.reason).toContain('came back after the automatic "merge-forward"');
    expect(escalated?.payload.evidence.some((l) => l.includes("multiplies"))).toBe(true);
    expect(ofType(events, "policy.decided").map((e) => e.payload.ruleId)).toEqual(expect.arrayContaining(["failure-recover-once", "failure-escalate-after-recovery"]));
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "test", role: "check", failureReason: "tests_failed" });
    const view = await h.rt.lanes.get(lane.id);
    expect(view.blocked).toMatchObject({ failureClass: "test", eventId: escalated!.id });
    // A human restart clears the block (and gives the lane its one attempt again).
    await h.rt.lanes.restart(lane.id, { by: "api" });
    expect((await h.rt.lanes.get(lane.id)).blocked).toBeNull();
  });

  it("a merge-forward that conflicts fails the lane as branch_divergence, escalated, before any broad check runs", async () => {
    const worker = SH(`printf 'export const add = (a, b) => b + a;\\n' > src/add.js && git add -A && ${COMMIT} -m "lane rewrites add" && read go`);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, worker, { acceptance: [{ level: "merge_ready", argv: NODE_TEST }] }));
    await eventually(h.rt, lane.id, "lane.commit.created", undefined, WAIT_MS);
    await fixCalculatorOnMain(h.repoPath); // edits the same line
    const { done, events } = await releaseWhenStale(h.rt, lane.id, WAIT_MS);
    expect(done.state).toBe("failed");
    expect(ofType(events, "branch.conflict")[0]?.payload).toMatchObject({ files: ["src/add.js"], during: "merge_forward" });
    expect(ofType(events, "lane.failed")[0]?.payload).toMatchObject({ failureClass: "branch_divergence", failureReason: "merge_conflict" });
    const [escalated] = ofType(events, "lane.escalated");
    expect(escalated?.payload).toMatchObject({ failureClass: "branch_divergence", failureReason: "merge_conflict" });
    expect(escalated?.payload.evidence.some((l) => l.startsWith("CONFLICT (content)"))).toBe(true);
    expect(ofType(events, "policy.decided").map((e) => e.payload.ruleId)).toContain("conflict-escalate");
    expect(ofType(events, "check.started")).toEqual([]);
    // The aborted merge left the worktree as the worker left it.
    expect(await fs.readFile(`${lane.worktreePath}/src/add.js`, "utf8")).toBe("export const add = (a, b) => b + a;\n");
    const view = await h.rt.lanes.get(lane.id);
    expect(view.blocked).toMatchObject({ failureClass: "branch_divergence" });
    const readiness = await h.rt.merge.readiness(lane.id);
    expect(readiness).toMatchObject({ ready: false, conflicts: ["src/add.js"] });
    expect(readiness.reasons).toEqual(expect.arrayContaining(["not_green", "stale", "conflict"]));
  });

  it("compile red after a refactor on main (a module moved): merged forward once by its recipe, then green", async () => {
    const worker = SH(
      [
        "mkdir -p test",
        `printf 'import assert from "node:assert/strict";\nimport { add } from "../src/math/add.js";\nassert.equal(add(1, 1), 2);\n' > test/sum-check.mjs`,
        `git add -A && ${COMMIT} -m "sum check against the new layout" && read go`,
      ].join(" && "),
    );
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, worker, { acceptance: [{ level: "package", argv: ["node", "test/sum-check.mjs"] }] }));
    await eventually(h.rt, lane.id, "lane.commit.created", undefined, WAIT_MS);
    // Main's refactor: src/add.js moves to src/math/add.js (and is fixed on the way).
    await fs.mkdir(`${h.repoPath}/src/math`, { recursive: true });
    await fs.rm(`${h.repoPath}/src/add.js`);
    await commitFile(h.repoPath, "src/math/add.js", "export const add = (a, b) => a + b;\n", "refactor: move add to src/math");
    const { done, events } = await releaseWhenStale(h.rt, lane.id, WAIT_MS);
    expect(done.state).toBe("finished");
    expect(ofType(events, "lane.red")[0]?.payload).toMatchObject({ failureClass: "compile", failureReason: "module_not_found", stale: true });
    expect(ofType(events, "lane.recovery.attempted").map((e) => e.payload)).toEqual([
      expect.objectContaining({ recipe: "merge-forward-after-main-refactor", key: "compile_red_after_main_refactor", failureClass: "compile" }),
    ]);
    expect(ofType(events, "lane.green")).toHaveLength(1);
  });

  it("a repo policy that rebases instead: the lane's commit is replayed and reported as superseding the old one", async () => {
    await h.rt.policy.put(h.repoId, {
      text: `includeDefaults: true
rules:
  - id: stale-rebase-before-checks
    description: Rebase stale lanes before broad checks.
    when: { event: check.started, checkLevel: [workspace, merge_ready], stale: true }
    then: { action: rebase }
`,
    });
    const { lane, fix } = await laneOnStaleBranch([{ level: "workspace", argv: NODE_TEST }]);
    const done = await waitForLane(h.rt, lane.id, isTerminal, WAIT_MS);
    expect(done.state).toBe("finished");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "branch.merged_forward")[0]?.payload).toMatchObject({ method: "rebase", baseSha: fix, by: "stale-rebase-before-checks" });
    const commits = ofType(events, "lane.commit.created").map((e) => e.payload);
    expect(commits).toHaveLength(2);
    expect(commits[1]).toMatchObject({ subject: "add mul", rewrite: true, supersedes: [commits[0]!.sha], parents: [fix] });
    expect(ofType(events, "lane.red")).toEqual([]);
  });

  it("a lane whose checks are green but that fell behind while they ran is merged forward and checked again", async () => {
    const worker = SH(`echo ok > ok.txt && git add -A && ${COMMIT} -m "ok"`);
    const gate = "while [ ! -f \"$GATE\" ]; do sleep 0.05; done"; // released by the test below
    const gateFile = `${h.dataDir}/gate-${Date.now()}`;
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, worker, {
        acceptance: [{ level: "targeted", argv: ["sh", "-c", gate.replaceAll("$GATE", gateFile)] }],
        merge: { requiredLevel: "targeted" },
      }),
    );
    await eventually(h.rt, lane.id, "check.started", undefined, WAIT_MS);
    await commitFile(h.repoPath, "other.txt", "other\n", "main moves during checks");
    await eventually(h.rt, lane.id, "branch.stale_against_main", undefined, WAIT_MS);
    await fs.writeFile(gateFile, "");
    const done = await waitForLane(h.rt, lane.id, (l) => isTerminal(l), WAIT_MS);
    expect(done.state).toBe("finished");
    const events = await laneEvents(h.rt, lane.id);
    expect(ofType(events, "policy.decided").map((e) => e.payload.ruleId)).toContain("green-but-stale-merge-forward");
    expect(ofType(events, "lane.green")).toHaveLength(2);
    await eventually(h.rt, lane.id, "lane.merge.ready", undefined, WAIT_MS);
    expect((await h.rt.lanes.get(lane.id)).mergeReady).toBe(true);
  });
});
