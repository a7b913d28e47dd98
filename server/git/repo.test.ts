import fs from "node:fs/promises";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { aheadBehind, assertValidBranchName, branchExists, commitsBetween, headSha, inspectRepo, resolveCommit } from "./repo";
import { BranchNameSchema } from "@/lib/task-packet";
import { git } from "./runner";
import { commitFile, exists, initRepo, tempDirPerTest } from "./git.testing";

const tmp = tempDirPerTest();
let repo: string;
beforeEach(async () => {
  repo = await initRepo(path.join(tmp.dir, "repo"));
});

/** Names that must never reach a shell or be read as git options. `MARK` is replaced by a marker path. */
const HOSTILE = ["-x", "--output=MARK", "a..b", "$(touch MARK)", "`touch MARK`", "x;touch MARK", "a b", "x|touch MARK", "x&&touch MARK"];
const hostile = (mark: string) => HOSTILE.map((n) => n.replace("MARK", mark));

describe("inspectRepo", () => {
  it("returns the realpath'd root, its name and main", async () => {
    const link = path.join(tmp.dir, "link");
    await fs.symlink(repo, link);
    await fs.mkdir(path.join(repo, "sub"));
    expect(await inspectRepo(path.join(link, "sub"))).toEqual({ root: repo, name: "repo", mainBranch: "main" });
  });

  it("refuses a link, or a chain of links, to /proc/self/cwd (an alias of the server's own tree that realpath resolves to a plain path)", async () => {
    await fs.symlink("/proc/self/cwd", path.join(tmp.dir, "cwd"));
    await fs.symlink("cwd", path.join(tmp.dir, "chain"));
    await fs.symlink("/proc", path.join(tmp.dir, "procfs"));
    for (const p of [path.join(tmp.dir, "cwd"), path.join(tmp.dir, "chain"), path.join(tmp.dir, "procfs", "self", "cwd"), path.join(tmp.dir, "chain", "server")]) {
      await expect(inspectRepo(p), p).rejects.toMatchObject({ code: "invalid_input", details: { field: "path" } });
    }
  });

  it("throws not_found for a path that does not exist", async () => {
    await expect(inspectRepo(path.join(tmp.dir, "missing"))).rejects.toMatchObject({ code: "not_found" });
  });

  it("throws not_a_git_repo for a plain directory, a file, a bare repository and a .git directory", async () => {
    const plain = path.join(tmp.dir, "plain");
    await fs.mkdir(plain);
    const file = path.join(tmp.dir, "file.txt");
    await fs.writeFile(file, "x");
    const bare = path.join(tmp.dir, "bare.git");
    await fs.mkdir(bare);
    await git(["init", "--quiet", "--bare"], { cwd: bare });
    for (const p of [plain, file, bare, path.join(repo, ".git")]) {
      await expect(inspectRepo(p), p).rejects.toMatchObject({ code: "not_a_git_repo" });
    }
  });

  it("finds master in a master-only repository", async () => {
    const m = await initRepo(path.join(tmp.dir, "m"), { branch: "master" });
    expect((await inspectRepo(m)).mainBranch).toBe("master");
  });

  it("prefers a configured main branch that exists, else falls back to main", async () => {
    await git(["branch", "trunk"], { cwd: repo });
    expect((await inspectRepo(repo, "trunk")).mainBranch).toBe("trunk");
    expect((await inspectRepo(repo, "nope")).mainBranch).toBe("main");
  });

  it("throws no_main_branch listing the branches it looked for", async () => {
    const d = await initRepo(path.join(tmp.dir, "d"), { branch: "develop" });
    const err = await inspectRepo(d, "trunk").catch((e: Error) => e);
    expect(err).toMatchObject({ code: "no_main_branch" });
    expect((err as Error).message).toContain("'trunk', 'main', 'master'");
    const empty = await initRepo(path.join(tmp.dir, "e"), { empty: true });
    await expect(inspectRepo(empty)).rejects.toMatchObject({ code: "no_main_branch" });
  });
});

describe("assertValidBranchName", () => {
  it("accepts ordinary lane branch names", () => {
    for (const name of ["lane/fix-login", "feature/a.b_c+d", "x", "x/HEAD", "a./b"]) expect(() => assertValidBranchName(name), name).not.toThrow();
  });

  it("rejects hostile and malformed names with invalid_input, executing nothing", async () => {
    const mark = path.join(tmp.dir, "pwned");
    for (const name of [...hostile(mark), "HEAD", "a.lock", "a.lock/b", "a/", "@{-1}", "@", ".hidden", "a/.b", "x.", ""]) {
      expect(() => assertValidBranchName(name), name).toThrow(expect.objectContaining({ code: "invalid_input" }));
    }
    expect(await exists(mark)).toBe(false);
  });

  it("accepts only names git check-ref-format --branch accepts too (it no longer asks git)", async () => {
    // Names built from the pieces git's rules are about, from a fixed seed (Park–Miller), so the run is repeatable.
    const pieces = ["a", "B", "9", ".", "/", "-", "_", "+", "lock", ".lock", "HEAD", "@", "{", " ", "~"];
    let seed = 20_261_205;
    const next = () => (seed = (seed * 48_271) % 2_147_483_647);
    const names = Array.from({ length: 160 }, () => Array.from({ length: 1 + (next() % 5) }, () => pieces[next() % pieces.length]).join(""));
    const gitAccepts = async (name: string) => (await git(["check-ref-format", "--branch", name], { cwd: tmp.dir, allowFailure: true })).exitCode === 0;
    const ours = (name: string) => BranchNameSchema.safeParse(name).success;
    const accepted = names.filter(ours);
    expect(accepted.length).toBeGreaterThan(20); // the sample exercises acceptance, not only refusals
    const gitRefused: string[] = [];
    for (let i = 0; i < accepted.length; i += 8) {
      const batch = accepted.slice(i, i + 8);
      const answers = await Promise.all(batch.map(gitAccepts));
      gitRefused.push(...batch.filter((_, j) => !answers[j]));
    }
    expect(gitRefused).toEqual([]);
  });
});

describe("branchExists / resolveCommit / headSha", () => {
  it("matches branch names exactly", async () => {
    await commitFile(repo, "a.txt", "a", "second");
    expect(await branchExists(repo, "main")).toBe(true);
    expect(await branchExists(repo, "nope")).toBe(false);
    expect(await branchExists(repo, "main~1")).toBe(false);
    expect(await branchExists(repo, "-x")).toBe(false);
  });

  it("resolves refs to full SHAs and throws not_found for unknown or hostile refs", async () => {
    const first = await headSha(repo);
    const second = await commitFile(repo, "a.txt", "a", "second");
    expect(first).toMatch(/^[0-9a-f]{40}$/);
    expect(await resolveCommit(repo, "main")).toBe(second);
    expect(await resolveCommit(repo, "HEAD~1")).toBe(first);
    expect(await headSha(repo)).toBe(second);
    const mark = path.join(tmp.dir, "pwned");
    for (const ref of ["nope", ...hostile(mark)]) {
      await expect(resolveCommit(repo, ref), ref).rejects.toMatchObject({ code: "not_found" });
    }
    expect(await exists(mark)).toBe(false);
  });

  it("headSha throws not_found before the first commit", async () => {
    const empty = await initRepo(path.join(tmp.dir, "e"), { empty: true });
    await expect(headSha(empty)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("aheadBehind", () => {
  it("counts commits only on the branch as ahead and commits only on base as behind", async () => {
    await git(["branch", "lane/x"], { cwd: repo });
    expect(await aheadBehind(repo, "main", "lane/x")).toEqual({ ahead: 0, behind: 0 });
    await commitFile(repo, "main.txt", "m", "on main");
    await git(["checkout", "--quiet", "lane/x"], { cwd: repo });
    await commitFile(repo, "l1.txt", "1", "lane 1");
    await commitFile(repo, "l2.txt", "2", "lane 2");
    expect(await aheadBehind(repo, "main", "lane/x")).toEqual({ ahead: 2, behind: 1 });
    expect(await aheadBehind(repo, "lane/x", "main")).toEqual({ ahead: 1, behind: 2 });
  });

  it("throws not_found for an unknown or option-like ref and writes no file", async () => {
    const mark = path.join(tmp.dir, "out");
    await expect(aheadBehind(repo, `--output=${mark}`, "main")).rejects.toMatchObject({ code: "not_found" });
    await expect(aheadBehind(repo, "main", "nope")).rejects.toMatchObject({ code: "not_found" });
    expect(await exists(mark)).toBe(false);
  });
});

describe("commitsBetween", () => {
  it("lists commits in from..to oldest first with their subjects", async () => {
    const base = await headSha(repo);
    const a = await commitFile(repo, "a.txt", "a", "first\tthing");
    const b = await commitFile(repo, "b.txt", "b", "second thing");
    expect(await commitsBetween(repo, base, "main")).toEqual([
      { sha: a, subject: "first\tthing" },
      { sha: b, subject: "second thing" },
    ]);
    expect(await commitsBetween(repo, "main", "main")).toEqual([]);
  });
});
