/**
 * A lane's create answers once its branch exists; its worktree is checked out after the answer
 * (./worktree-checkouts.ts). What reads the worktree before the lane starts waits for that
 * checkout, and a lane whose checkout never happened gets it at its first start. Real runtime,
 * real git repo and worktrees, real shell workers; waits are on lane events.
 */
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { git } from "../git/git";
import { isTerminal, runtimePerTest, shellPacket, waitForLane, waitForOutput, type TestRuntime } from "../testing/runtime-harness";
import { laneEvents } from "../workers/worker.testing";

const SH = (script: string) => ["sh", "-c", script];

/** A lane that waits for a line on stdin, and the way to let it finish. */
async function gateLane(h: TestRuntime): Promise<{ id: string; open(): Promise<void> }> {
  const gate = await h.rt.lanes.create(shellPacket(h.repoId, SH("echo waiting && read go")));
  await waitForOutput(h.rt, gate.id, "waiting");
  return {
    id: gate.id,
    open: async () => {
      await h.rt.supervisor.writeStdin((await h.rt.lanes.get(gate.id)).currentProcessId!, "go\n");
      await waitForLane(h.rt, gate.id, isTerminal);
    },
  };
}

describe("a new lane's worktree, checked out after the create answered", () => {
  const h = runtimePerTest({ workerCap: 2 });

  it("freshness asked right after the create waits for the checkout: the worktree is ok, never reported missing", async () => {
    const gate = await gateLane(h);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"], { dependsOn: [gate.id] }));
    const fresh = await h.rt.freshness.refresh(lane.id);
    expect(fresh).toMatchObject({ worktree: "ok", problem: null });
    expect((await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: lane.worktreePath })).stdout).toBe(lane.branch);
    expect((await laneEvents(h.rt, lane.id)).filter((e) => e.type === "branch.problem")).toEqual([]);
    await gate.open();
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
  });

  it("a lane whose worktree is missing at its first start (its checkout never ran) is checked out then, from its branch", async () => {
    const gate = await gateLane(h);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("test -f package.json && git rev-parse --abbrev-ref HEAD && echo ran-in-worktree"), { dependsOn: [gate.id] }));
    await h.rt.freshness.refresh(lane.id); // the checkout has ended
    // As if the server had stopped between the answer and the checkout.
    await git(["worktree", "remove", "--force", "--", lane.worktreePath], { cwd: h.repoPath });
    expect(existsSync(lane.worktreePath)).toBe(false);
    await gate.open();
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    expect(done.state).toBe("finished");
    await waitForOutput(h.rt, lane.id, "ran-in-worktree");
    await waitForOutput(h.rt, lane.id, lane.branch);
    expect(done.worktreePath).toBe(lane.worktreePath);
  });

  it("a checkout cut off at its very start (an empty directory, no `.git` yet) is made at the first start", async () => {
    const gate = await gateLane(h);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("test -f package.json && echo made-in-empty-dir"), { dependsOn: [gate.id] }));
    await h.rt.freshness.refresh(lane.id); // the checkout has ended
    // What a server killed in the first instant of `git worktree add` leaves: the directory alone.
    await git(["worktree", "remove", "--force", "--", lane.worktreePath], { cwd: h.repoPath });
    await fs.mkdir(lane.worktreePath);
    await gate.open();
    const ended = await waitForLane(h.rt, lane.id, isTerminal);
    expect(ended.state).toBe("finished");
    await waitForOutput(h.rt, lane.id, "made-in-empty-dir");
  });

  it("a checkout cut off half-way (git's `locked` file still says initializing, files missing) is made again at the first start", async () => {
    const gate = await gateLane(h);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("test -f package.json && echo complete-checkout"), { dependsOn: [gate.id] }));
    await h.rt.freshness.refresh(lane.id); // the checkout has ended
    // What a server killed during `git worktree add` leaves: the admin dir still locked, files not all there.
    const gitdir = (await fs.readFile(path.join(lane.worktreePath, ".git"), "utf8")).replace(/^gitdir: /, "").trim();
    await fs.writeFile(path.join(gitdir, "locked"), "initializing");
    await fs.rm(path.join(lane.worktreePath, "package.json"));
    await gate.open();
    const ended = await waitForLane(h.rt, lane.id, isTerminal);
    expect(ended.state).toBe("finished");
    await waitForOutput(h.rt, lane.id, "complete-checkout");
    expect(existsSync(path.join(gitdir, "locked"))).toBe(false);
  });

  it("the repo's post-checkout hook (its policy opted in) runs in the checkout; when it fails, the lane fails at its start with the hook's words and its worker never runs", async () => {
    const { rt, repoId, repoPath } = h;
    const hook = path.join(repoPath, ".git", "hooks", "post-checkout");
    await fs.writeFile(hook, "#!/bin/sh\necho hook-ran > hook.txt\n", { mode: 0o755 });
    await rt.policy.put(repoId, { rules: [], includeDefaults: true, git: { runCheckoutHook: true } });
    const ok = await rt.lanes.create(shellPacket(repoId, SH("cat hook.txt")));
    await waitForOutput(rt, ok.id, "hook-ran");

    await fs.writeFile(hook, "#!/bin/sh\necho the-hook-refused >&2\nexit 3\n", { mode: 0o755 });
    const refused = await rt.lanes.create(shellPacket(repoId, SH("echo worker-ran")));
    const failed = await waitForLane(rt, refused.id, isTerminal);
    expect(failed.state).toBe("failed");
    const event = (await laneEvents(rt, refused.id)).find((e) => e.type === "lane.failed");
    expect(JSON.stringify(event?.payload)).toContain("the-hook-refused");
    expect((await laneEvents(rt, refused.id)).some((e) => e.type === "lane.started")).toBe(false);
  });

  it("a lane whose checkout failed, restarted once the hook is fixed: the restart checks the worktree out and the worker runs in it", async () => {
    const { rt, repoId, repoPath } = h;
    const hook = path.join(repoPath, ".git", "hooks", "post-checkout");
    await rt.policy.put(repoId, { rules: [], includeDefaults: true, git: { runCheckoutHook: true } });
    await fs.writeFile(hook, "#!/bin/sh\necho the-hook-refused >&2\nexit 3\n", { mode: 0o755 });
    const lane = await rt.lanes.create(shellPacket(repoId, SH("cat hook.txt && git rev-parse --abbrev-ref HEAD")));
    expect((await waitForLane(rt, lane.id, isTerminal)).state).toBe("failed");
    // git's failed `worktree add` was undone: nothing is left at the lane's path.
    expect(existsSync(lane.worktreePath)).toBe(false);

    await fs.writeFile(hook, "#!/bin/sh\necho hook-ran > hook.txt\n", { mode: 0o755 });
    await rt.lanes.restart(lane.id);
    await waitForOutput(rt, lane.id, "hook-ran");
    const done = await waitForLane(rt, lane.id, isTerminal);
    expect(done.state).toBe("finished");
    expect(done.attempt).toBe(2);
    await waitForOutput(rt, lane.id, lane.branch);
  });
});
