/**
 * Merging, provenance and ref questions on real repositories in temp directories.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { changedFiles, commitInfo, commitsExcluding, missingCommits, newCommitsSince, patchIds } from "./commits";
import { integrateIntoBase, mergeForward, mergeTree, rebaseOnto } from "./merge";
import { branchHeads, gitCommonDir, isAncestor, listBranchHeads, listWorktrees, worktreeState, worktreeStateFromFiles } from "./refs";
import { resolveCommit } from "./repo";
import { git } from "./runner";
import { commitFile, exists, initRepo, makeTempDir } from "./git.testing";
import { createWorktree } from "./worktree";

let tmp: { dir: string; cleanup: () => Promise<void> };
let repo: string;
let wt: string;
beforeEach(async () => {
  tmp = await makeTempDir("laneboard-merge-");
  repo = await initRepo(path.join(tmp.dir, "repo"));
  await commitFile(repo, "a.txt", "one\ntwo\nthree\n", "add a");
  wt = path.join(tmp.dir, "wt");
  await createWorktree({ repoPath: repo, worktreePath: wt, branch: "lane/x", base: "main" });
});
afterEach(() => tmp.cleanup());

describe("refs", () => {
  it("lists every branch head in one call, finds the shared git dir from a worktree, and answers ancestry", async () => {
    const lane = await commitFile(wt, "b.txt", "b\n", "lane adds b");
    const heads = await listBranchHeads(repo);
    expect(heads.get("lane/x")).toBe(lane);
    expect(heads.get("main")).toBe(await resolveCommit(repo, "main"));
    expect(await gitCommonDir(wt)).toBe(await fs.realpath(path.join(repo, ".git")));
    expect(await isAncestor(repo, "main", "lane/x")).toBe(true);
    expect(await isAncestor(repo, "lane/x", "main")).toBe(false);
    expect((await listWorktrees(repo)).map((w) => [w.branch, w.main])).toEqual([["main", true], ["lane/x", false]]);
  });

  it("tells a worktree on its branch from a detached HEAD, a deleted one and one without its .git file", async () => {
    expect(await worktreeState(wt)).toMatchObject({ kind: "branch", branch: "lane/x" });
    await git(["checkout", "--quiet", "--detach"], { cwd: wt });
    expect(await worktreeState(wt)).toMatchObject({ kind: "detached" });
    await fs.rm(path.join(wt, ".git"));
    expect((await worktreeState(wt)).kind).toBe("not_a_worktree");
    await fs.rm(wt, { recursive: true });
    expect(await worktreeState(wt)).toEqual({ kind: "missing" });
  });

  it("reads a worktree's state from its files as git does, and leaves to git every case it cannot read", async () => {
    const heads = await listBranchHeads(repo);
    const viaGit = await worktreeState(wt);
    expect(viaGit).toMatchObject({ kind: "branch", branch: "lane/x" });
    expect(await worktreeStateFromFiles(wt, heads)).toEqual(viaGit);
    await git(["checkout", "--quiet", "--detach"], { cwd: wt });
    expect(await worktreeStateFromFiles(wt, heads)).toEqual(await worktreeState(wt));
    await git(["checkout", "--quiet", "main"], { cwd: repo }); // the repository's own work tree: a .git directory
    expect(await worktreeStateFromFiles(repo, heads)).toBeNull();
    await fs.writeFile(path.join(wt, ".git"), "gitdir: /nonexistent/worktrees/x\n");
    expect(await worktreeStateFromFiles(wt, heads)).toBeNull(); // git says what that is
    await fs.rm(path.join(wt, ".git"));
    expect(await worktreeStateFromFiles(wt, heads)).toBeNull(); // git would find the enclosing repository
    await fs.rm(wt, { recursive: true });
    expect(await worktreeStateFromFiles(wt, heads)).toEqual({ kind: "missing" });
  });

  it("reads only the named branch heads, each literally, in one call", async () => {
    const lane = await commitFile(wt, "b.txt", "b\n", "lane adds b");
    await git(["branch", "lane/xy", "main"], { cwd: repo });
    const heads = await branchHeads(repo, ["lane/x", "main", "nope", "lane/*", "-v"]);
    expect([...heads.entries()].sort()).toEqual([
      ["lane/x", lane],
      ["main", await resolveCommit(repo, "main")],
    ]);
    expect((await branchHeads(repo, ["lane"])).size).toBe(0); // a prefix of lane/x is not lane/x
  });
});

describe("provenance", () => {
  it("reports author, parents and files, and the lane's own commits without main's", async () => {
    const c1 = await commitFile(wt, "src/b.txt", "b\n", "lane adds b");
    const info = await commitInfo(wt, c1);
    expect(info).toMatchObject({ sha: c1, subject: "lane adds b", author: "Test <test@laneboard.invalid>", files: ["src/b.txt"], filesChanged: 1 });
    expect(info.parents).toEqual([await resolveCommit(repo, "main")]);
    const m1 = await commitFile(repo, "m.txt", "m\n", "main moves");
    const merged = await mergeForward(wt, m1, "Merge main into lane/x");
    expect(merged.ok).toBe(true);
    const own = await commitsExcluding(repo, "lane/x", [c1, "main"]);
    expect(own).toHaveLength(1); // only the merge commit, not main's m1
    expect((await commitInfo(repo, own[0]!)).parents).toEqual([c1, m1]);
    expect(await changedFiles(repo, "main", "lane/x")).toEqual(["src/b.txt"]);
  });

  it("commitsExcluding answers not_found for what names no commit, and passes no name on as a range or an option", async () => {
    const c1 = await commitFile(wt, "b.txt", "b\n", "lane adds b");
    expect(await commitsExcluding(repo, "refs/heads/lane/x", [await resolveCommit(repo, "main")])).toEqual([c1]);
    const missing = "0123456789012345678901234567890123456789";
    for (const [head, exclude] of [["nope", ["main"]], [missing, ["main"]], ["lane/x", [missing]], ["main..lane/x", []], ["^main", []], ["--all", []], ["lane/x", ["--output=/tmp/x"]]] as const) {
      await expect(commitsExcluding(repo, head, exclude), `${head} ^${exclude.join(" ^")}`).rejects.toMatchObject({ code: "not_found" });
    }
  });

  it("patch ids match a commit before and after a rebase", async () => {
    const before = await commitFile(wt, "b.txt", "b\n", "lane adds b");
    const m1 = await commitFile(repo, "m.txt", "m\n", "main moves");
    const rebased = await rebaseOnto(wt, m1);
    expect(rebased.ok).toBe(true);
    const after = await resolveCommit(wt, "HEAD");
    expect(after).not.toBe(before);
    const ids = await patchIds(repo, [before, after]);
    expect(ids.get(before)).toBeDefined();
    expect(ids.get(before)).toBe(ids.get(after));
  });
});

describe("newCommitsSince", () => {
  it("after a rebase, each new commit supersedes the old one with the same patch id", async () => {
    const base0 = await resolveCommit(repo, "main");
    const b1 = await commitFile(wt, "b.txt", "b\n", "b");
    const c1 = await commitFile(wt, "c.txt", "c\n", "c");
    expect((await newCommitsSince(repo, { since: base0, head: "lane/x", base: "main" })).map((c) => [c.sha, c.rewrite])).toEqual([[b1, false], [c1, false]]);
    const m = await commitFile(repo, "m.txt", "m\n", "main moves");
    expect(await missingCommits(repo, "lane/x", "main")).toEqual([{ sha: m, subject: "main moves" }]);
    expect((await rebaseOnto(wt, m)).ok).toBe(true);
    const got = await newCommitsSince(repo, { since: c1, head: "lane/x", base: "main" });
    expect(got.map((c) => [c.subject, c.supersedes, c.rewrite])).toEqual([["b", [b1], true], ["c", [c1], true]]);
  });

  it("an amend that changes the content supersedes the amended commit; main's commits merged in are not the lane's", async () => {
    const b1 = await commitFile(wt, "b.txt", "b\n", "b");
    await fs.writeFile(path.join(wt, "b.txt"), "b, better\n");
    await git(["-c", "user.name=T", "-c", "user.email=t@t.invalid", "commit", "--quiet", "--amend", "-am", "b (amended)"], { cwd: wt });
    const [amended] = await newCommitsSince(repo, { since: b1, head: "lane/x", base: "main" });
    expect(amended).toMatchObject({ subject: "b (amended)", supersedes: [b1], rewrite: true, files: ["b.txt"] });
    await commitFile(repo, "m.txt", "m\n", "main moves");
    const before = await resolveCommit(wt, "HEAD");
    expect((await mergeForward(wt, await resolveCommit(repo, "main"), "Merge main")).ok).toBe(true);
    const merged = await newCommitsSince(repo, { since: before, head: "lane/x", base: "main" });
    expect(merged.map((c) => [c.subject, c.parents.length, c.author])).toEqual([["Merge main", 2, "Laneboard <laneboard@localhost>"]]);
  });
});

describe("merge-tree", () => {
  it("says clean or conflicting without touching any work tree", async () => {
    await commitFile(wt, "a.txt", "one\nTWO-lane\nthree\n", "lane edits line 2");
    expect(await mergeTree(repo, "main", "lane/x")).toMatchObject({ clean: true, conflicts: [] });
    await commitFile(repo, "a.txt", "one\nTWO-main\nthree\n", "main edits line 2");
    const statusBefore = (await git(["status", "--porcelain"], { cwd: wt })).stdout;
    const res = await mergeTree(repo, "main", "lane/x");
    expect(res).toMatchObject({ clean: false, conflicts: ["a.txt"] });
    expect(res.messages.some((m) => m.startsWith("CONFLICT (content)"))).toBe(true);
    expect((await git(["status", "--porcelain"], { cwd: wt })).stdout).toBe(statusBefore);
    expect((await git(["status", "--porcelain"], { cwd: repo })).stdout).toBe("");
  });
});

describe("merge-forward", () => {
  it("aborts a conflicting merge-forward and leaves the worktree as it was", async () => {
    const lane = await commitFile(wt, "a.txt", "one\nTWO-lane\nthree\n", "lane edits line 2");
    const m = await commitFile(repo, "a.txt", "one\nTWO-main\nthree\n", "main edits line 2");
    const res = await mergeForward(wt, m, "merge main");
    expect(res).toMatchObject({ ok: false, kind: "conflict", conflicts: ["a.txt"] });
    expect(await resolveCommit(wt, "HEAD")).toBe(lane);
    expect((await git(["status", "--porcelain"], { cwd: wt })).stdout).toBe("");
    expect(await exists(path.join(repo, ".git", "worktrees", "wt", "MERGE_HEAD"))).toBe(false);
  });

  it("reports a lock file left by a crashed git as locked", async () => {
    await commitFile(wt, "b.txt", "b\n", "lane adds b");
    const m = await commitFile(repo, "m.txt", "m\n", "main moves");
    await fs.writeFile(path.join(repo, ".git", "worktrees", "wt", "index.lock"), "");
    const res = await mergeForward(wt, m, "merge main");
    expect(res).toMatchObject({ ok: false, kind: "locked" });
    expect(await exists(path.join(repo, ".git", "worktrees", "wt", "MERGE_HEAD"))).toBe(false); // untouched
  });
});

describe("integrateIntoBase", () => {
  it("fast-forwards a base that is not checked out with update-ref, guarded by its old value", async () => {
    await git(["checkout", "--quiet", "--detach"], { cwd: repo }); // main is checked out nowhere
    const lane = await commitFile(wt, "b.txt", "b\n", "lane adds b");
    const res = await integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "ff", message: "unused" });
    expect(res).toMatchObject({ strategy: "ff", sha: lane, updatedWorktree: null });
    expect(await resolveCommit(repo, "main")).toBe(lane);
  });

  it("makes a merge commit and advances the checked-out main work tree with it", async () => {
    await commitFile(wt, "b.txt", "b\n", "lane adds b");
    const m = await commitFile(repo, "m.txt", "m\n", "main moves");
    await expect(integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "ff", message: "x" })).rejects.toMatchObject({
      code: "conflict",
      details: { kind: "not_fast_forward" },
    });
    const res = await integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "merge", message: "Merge lane/x" });
    expect(res.updatedWorktree).toBe(repo);
    const info = await commitInfo(repo, "main");
    expect(info.parents).toEqual([m, await resolveCommit(repo, "lane/x")]);
    expect(info.author).toBe("Laneboard <laneboard@localhost>");
    expect(await fs.readFile(path.join(repo, "b.txt"), "utf8")).toBe("b\n"); // the work tree followed
    expect((await git(["status", "--porcelain"], { cwd: repo })).stdout).toBe("");
    await expect(integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "merge", message: "again" })).rejects.toMatchObject({
      details: { kind: "up_to_date" },
    });
  });

  it("squashes into one commit with one parent", async () => {
    await commitFile(wt, "b.txt", "b\n", "b");
    await commitFile(wt, "c.txt", "c\n", "c");
    const before = await resolveCommit(repo, "main");
    await integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "squash", message: "lane x, squashed" });
    const info = await commitInfo(repo, "main");
    expect(info).toMatchObject({ parents: [before], subject: "lane x, squashed", files: ["b.txt", "c.txt"] });
  });

  it("refuses a conflicting merge and local edits in the checked-out base that would be overwritten, changing nothing", async () => {
    await commitFile(wt, "a.txt", "one\nTWO-lane\nthree\n", "lane edits line 2");
    await commitFile(repo, "a.txt", "one\nTWO-main\nthree\n", "main edits line 2");
    const main = await resolveCommit(repo, "main");
    await expect(integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "merge", message: "m" })).rejects.toMatchObject({
      details: { kind: "merge_conflict", conflicts: ["a.txt"] },
    });
    expect(await resolveCommit(repo, "main")).toBe(main);

    await git(["reset", "--quiet", "--hard", "HEAD~1"], { cwd: repo }); // main back to before its edit
    const base = await resolveCommit(repo, "main");
    await fs.writeFile(path.join(repo, "a.txt"), "user's unsaved work\n");
    await expect(integrateIntoBase({ repo, base: "main", branch: "lane/x", strategy: "ff", message: "m" })).rejects.toMatchObject({
      details: { kind: "dirty_checkout" },
    });
    expect(await resolveCommit(repo, "main")).toBe(base);
    expect(await fs.readFile(path.join(repo, "a.txt"), "utf8")).toBe("user's unsaved work\n");
  });

  it("treats branch names with shell metacharacters literally", async () => {
    const weird = "we;ird$(touch${IFS}pwned)|x&y`z`";
    await git(["branch", "--end-of-options", weird, "lane/x"], { cwd: repo });
    await commitFile(wt, "b.txt", "b\n", "b");
    await git(["update-ref", `refs/heads/${weird}`, await resolveCommit(repo, "lane/x")], { cwd: repo });
    const res = await integrateIntoBase({ repo, base: "main", branch: weird, strategy: "merge", message: "m" });
    expect(res.sha).toBe(await resolveCommit(repo, "main"));
    expect(await exists(path.join(repo, "pwned"))).toBe(false);
    expect(await exists(path.join(process.cwd(), "pwned"))).toBe(false);
  });
});
