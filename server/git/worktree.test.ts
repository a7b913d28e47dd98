import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { aheadBehind, branchExists, headSha } from "./repo";
import { looseBranchHead } from "./refs";
import { git } from "./runner";
import { commitFile, exists, initRepo, tempDirPerTest } from "./git.testing";
import { addWorktree, createBranch, createWorktree, removeWorktree } from "./worktree";
import { WORKTREE_LOCK_NAME, WORKTREE_LOCK_STALE_MS } from "./worktree-lock";

const tmp = tempDirPerTest();
let repo: string;
let wt: string;
beforeEach(async () => {
  repo = await initRepo(path.join(tmp.dir, "repo"));
  wt = path.join(tmp.dir, "worktrees", "lane-1");
});

async function worktreeList(): Promise<string> {
  return (await git(["worktree", "list", "--porcelain"], { cwd: repo })).stdout;
}

describe("createWorktree", () => {
  it("creates the branch at base, checked out in a new directory", async () => {
    const mainSha = await headSha(repo);
    const { baseSha } = await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/one", base: "main" });
    expect(baseSha).toBe(mainSha);
    expect(await headSha(wt)).toBe(mainSha);
    expect((await git(["branch", "--show-current"], { cwd: wt })).stdout).toBe("lane/one");
    expect(await fs.readFile(path.join(wt, "README.md"), "utf8")).toContain("test repo");
    expect(await worktreeList()).toContain(`worktree ${wt}\n`);
  });

  it("throws branch_exists for an existing branch and creates nothing", async () => {
    await git(["branch", "lane/taken"], { cwd: repo });
    await expect(createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/taken", base: "main" })).rejects.toMatchObject({ code: "branch_exists" });
    expect(await exists(wt)).toBe(false);
  });

  it("rejects hostile branch names before git runs, creating no file, branch or directory", async () => {
    const mark = path.join(tmp.dir, "pwned");
    for (const branch of ["-b", `--output=${mark}`, "a..b", `$(touch ${mark})`, `x;rm -rf ${repo}`]) {
      await expect(createWorktree({ repoPath: repo, worktreePath: wt, branch, base: "main" }), branch).rejects.toMatchObject({ code: "invalid_input" });
    }
    expect(await exists(mark)).toBe(false);
    expect(await exists(wt)).toBe(false);
    expect((await git(["branch", "--format=%(refname:short)"], { cwd: repo })).stdout).toBe("main");
  });

  it("throws not_found for an unknown or option-like base and leaves no branch", async () => {
    for (const base of ["nope", "--orphan"]) {
      await expect(createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/x", base }), base).rejects.toMatchObject({ code: "not_found" });
    }
    expect(await branchExists(repo, "lane/x")).toBe(false);
  });

  it("throws already_exists for an occupied path and does not create the branch", async () => {
    await fs.mkdir(wt, { recursive: true });
    await fs.writeFile(path.join(wt, "keep.txt"), "mine");
    await expect(createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/x", base: "main" })).rejects.toMatchObject({ code: "already_exists" });
    expect(await branchExists(repo, "lane/x")).toBe(false);
    expect(await fs.readFile(path.join(wt, "keep.txt"), "utf8")).toBe("mine");
  });

  it("rejects a relative worktree path", async () => {
    await expect(createWorktree({ repoPath: repo, worktreePath: "rel/wt", branch: "lane/x", base: "main" })).rejects.toMatchObject({ code: "invalid_input" });
  });

  it("cleans up a half-made worktree when git fails after creating it", async () => {
    // A failing post-checkout hook (allowed to run) makes `git worktree add` exit 3 after it has
    // created the branch and the directory: the realistic half-made case.
    const hook = path.join(repo, ".git", "hooks", "post-checkout");
    await fs.writeFile(hook, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    await expect(createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/hooked", base: "main", runCheckoutHook: true })).rejects.toMatchObject({ code: "internal" });
    expect(await exists(wt)).toBe(false);
    expect(await branchExists(repo, "lane/hooked")).toBe(false);
    expect(await worktreeList()).not.toContain(wt);
  });

  it("runs no post-checkout hook unless asked to", async () => {
    await fs.writeFile(path.join(repo, ".git", "hooks", "post-checkout"), "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/unhooked", base: "main" });
    expect(await exists(path.join(wt, "README.md"))).toBe(true);
  });

  it("serializes concurrent creations in one repository", async () => {
    const made = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => createWorktree({ repoPath: repo, worktreePath: `${wt}-${i}`, branch: `lane/p${i}`, base: "main" })),
    );
    expect(made).toHaveLength(5);
    for (const i of [1, 2, 3, 4, 5]) expect(await branchExists(repo, `lane/p${i}`)).toBe(true);
  });

  it("takes over the worktree lock of a node that died holding it (stale), and releases its own", async () => {
    // What a SIGKILLed node leaves: the lock directory, no longer touched by anyone.
    const lockDir = path.join(repo, ".git", WORKTREE_LOCK_NAME);
    await fs.mkdir(lockDir);
    const longAgo = new Date(Date.now() - WORKTREE_LOCK_STALE_MS - 1000);
    await fs.utimes(lockDir, longAgo, longAgo);
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/after-crash", base: "main" });
    expect(await branchExists(repo, "lane/after-crash")).toBe(true);
    expect(await exists(lockDir)).toBe(false);
  });

  it("fails at once with not_found, not after waiting for the lock, once the repository was deleted", async () => {
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/doomed", base: "main" }); // its lock dir is cached now
    await fs.rm(repo, { recursive: true, force: true });
    await expect(removeWorktree(repo, wt)).rejects.toMatchObject({ code: "not_found" });
  });

  it("gives the branch no upstream, even from a remote-tracking base", async () => {
    await git(["update-ref", "refs/remotes/origin/main", "main"], { cwd: repo });
    const { baseSha } = await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/tracked", base: "origin/main" });
    expect(baseSha).toBe(await headSha(repo));
    const upstream = await git(["config", "--get", "branch.lane/tracked.remote"], { cwd: repo, allowFailure: true });
    expect(upstream.exitCode).toBe(1);
  });

  it("starts from what a tag or revision names, peeled to its commit", async () => {
    const first = await headSha(repo);
    await commitFile(repo, "b.txt", "b", "second");
    await git(["-c", "user.name=t", "-c", "user.email=t@t.invalid", "tag", "-a", "-m", "v1", "v1", first], { cwd: repo });
    expect((await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/tag", base: "v1" })).baseSha).toBe(first);
    expect((await createWorktree({ repoPath: repo, worktreePath: `${wt}-2`, branch: "lane/rev", base: "main~1" })).baseSha).toBe(first);
  });

  it("reads the new branch's commit from its loose ref; a packed one is left to git (null)", async () => {
    const { baseSha } = await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/loose", base: "main" });
    expect(looseBranchHead(wt, "lane/loose")).toBe(baseSha); // from a linked worktree (.git is a file)
    expect(looseBranchHead(repo, "lane/loose")).toBe(baseSha); // from the main work tree (.git is the directory)
    await git(["pack-refs", "--all"], { cwd: repo });
    expect(looseBranchHead(wt, "lane/loose")).toBeNull();
    expect(looseBranchHead(repo, "lane/loose")).toBeNull();
  });

  it("records a base that ahead/behind then measures against", async () => {
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/ab", base: "main" });
    await commitFile(wt, "lane.txt", "l", "lane work");
    await commitFile(repo, "main1.txt", "1", "main 1");
    await commitFile(repo, "main2.txt", "2", "main 2");
    expect(await aheadBehind(repo, "main", "lane/ab")).toEqual({ ahead: 1, behind: 2 });
  });
});

describe("createBranch, then addWorktree (a lane's create, then its checkout)", () => {
  it("makes the branch alone (no worktree, no upstream), then checks it out where asked", async () => {
    const { baseSha } = await createBranch(repo, "lane/two-step", "main");
    expect(baseSha).toBe(await headSha(repo));
    expect(await branchExists(repo, "lane/two-step")).toBe(true);
    expect((await git(["worktree", "list", "--porcelain"], { cwd: repo })).stdout).not.toContain("lane/two-step");
    expect((await git(["config", "--get", "branch.lane/two-step.remote"], { cwd: repo, allowFailure: true })).exitCode).toBe(1);
    await addWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/two-step" });
    expect((await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: wt })).stdout).toBe("lane/two-step");
    expect(await headSha(wt)).toBe(baseSha);
  });

  it("createBranch says branch_exists and not_found (an option-like base too) and leaves no branch behind", async () => {
    await createBranch(repo, "lane/taken", "main");
    await expect(createBranch(repo, "lane/taken", "main")).rejects.toMatchObject({ code: "branch_exists" });
    await expect(createBranch(repo, "lane/nobase", "no-such-branch")).rejects.toMatchObject({ code: "not_found" });
    await expect(createBranch(repo, "lane/optbase", "--orphan")).rejects.toMatchObject({ code: "not_found" });
    await expect(createBranch(repo, "-bad", "main")).rejects.toMatchObject({ code: "invalid_input" });
    expect(await branchExists(repo, "lane/nobase")).toBe(false);
    expect(await branchExists(repo, "lane/optbase")).toBe(false);
  });

  it("addWorktree that fails (an occupied path; a branch checked out elsewhere) leaves no registration, and keeps the branch", async () => {
    await createBranch(repo, "lane/keep", "main");
    await fs.mkdir(wt, { recursive: true });
    await fs.writeFile(path.join(wt, "someone-elses.txt"), "x");
    await expect(addWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/keep" })).rejects.toMatchObject({ code: "already_exists" });
    await git(["checkout", "-q", "lane/keep"], { cwd: repo }); // now checked out in the main work tree
    const other = path.join(tmp.dir, "other-wt");
    await expect(addWorktree({ repoPath: repo, worktreePath: other, branch: "lane/keep" })).rejects.toMatchObject({ code: "internal" });
    expect(await exists(other)).toBe(false);
    expect((await git(["worktree", "list", "--porcelain"], { cwd: repo })).stdout).not.toContain(other);
    expect(await branchExists(repo, "lane/keep")).toBe(true);
  });
});

describe("removeWorktree", () => {
  it("removes a dirty worktree and its branch, and is idempotent", async () => {
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/rm", base: "main" });
    await fs.writeFile(path.join(wt, "dirty.txt"), "uncommitted");
    await removeWorktree(repo, wt, { deleteBranch: "lane/rm" });
    expect(await exists(wt)).toBe(false);
    expect(await branchExists(repo, "lane/rm")).toBe(false);
    expect(await worktreeList()).not.toContain(wt);
    await expect(removeWorktree(repo, wt, { deleteBranch: "lane/rm" })).resolves.toBeUndefined();
  });

  it("keeps the branch unless asked", async () => {
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/keep", base: "main" });
    await removeWorktree(repo, wt);
    expect(await branchExists(repo, "lane/keep")).toBe(true);
  });

  it("handles a worktree whose directory was deleted by hand", async () => {
    await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/gone", base: "main" });
    await fs.rm(wt, { recursive: true });
    await removeWorktree(repo, wt, { deleteBranch: "lane/gone" });
    expect(await worktreeList()).not.toContain(wt);
    expect(await branchExists(repo, "lane/gone")).toBe(false);
  });

  it("refuses the main work tree and directories that are not its worktrees", async () => {
    await expect(removeWorktree(repo, repo)).rejects.toMatchObject({ code: "invalid_input" });
    const other = path.join(tmp.dir, "other");
    await fs.mkdir(other);
    await fs.writeFile(path.join(other, "precious.txt"), "x");
    await expect(removeWorktree(repo, other)).rejects.toMatchObject({ code: "conflict" });
    expect(await exists(path.join(other, "precious.txt"))).toBe(true);
  });

  it("rejects a hostile branch to delete", async () => {
    await expect(removeWorktree(repo, wt, { deleteBranch: "-D" })).rejects.toMatchObject({ code: "invalid_input" });
    expect(await branchExists(repo, "main")).toBe(true);
  });
});
