import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { git } from "../git/git";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { detectPhantomCompletion, realpathLoose, reportedPaths, WorkspaceBinding } from "./workspace-binding";

let tmp: { dir: string; cleanup: () => Promise<void> };
let wt: string;
let laneDir: string;
beforeEach(async () => {
  tmp = await makeTempDir("laneboard-binding-");
  wt = path.join(tmp.dir, "wt");
  laneDir = path.join(tmp.dir, "lane");
  await fs.mkdir(wt);
  await fs.mkdir(path.join(laneDir, "agent-home"), { recursive: true });
});
afterEach(async () => {
  await tmp.cleanup();
});

const tool = (name: string, input: unknown) => ({ kind: "tool_use" as const, name, input });

describe("reportedPaths", () => {
  it("reads cwd from ready and path keys from tool inputs; file-editing tools are writes", () => {
    expect(reportedPaths({ kind: "ready", cwd: "/x" })).toEqual([{ path: "/x", source: "cwd", write: false }]);
    expect(reportedPaths({ kind: "ready" })).toEqual([]);
    expect(reportedPaths(tool("Write", { file_path: "a.txt", content: "x" }))).toEqual([{ path: "a.txt", source: "tool:Write", write: true }]);
    expect(reportedPaths(tool("Grep", { pattern: "x", path: "src" }))).toEqual([{ path: "src", source: "tool:Grep", write: false }]);
    expect(reportedPaths(tool("file_change", { changes: [{ path: "/w/a", kind: "add" }, { kind: "x" }] }))).toEqual([{ path: "/w/a", source: "tool:file_change", write: true }]);
    expect(reportedPaths(tool("Bash", { command: "cat /etc/passwd" }))).toEqual([]);
    expect(reportedPaths({ kind: "message", text: "/etc/passwd" })).toEqual([]);
  });
});

describe("WorkspaceBinding", () => {
  it("accepts paths inside the worktree, relative or absolute", () => {
    const b = new WorkspaceBinding(wt, [laneDir]);
    expect(b.check({ kind: "ready", cwd: wt })).toBeNull();
    expect(b.check(tool("Edit", { file_path: "src/a.ts" }))).toBeNull();
    expect(b.check(tool("Write", { file_path: path.join(wt, "b.txt") }))).toBeNull();
    expect(b.check(tool("list_files", { path: "." }))).toBeNull();
  });

  it("flags a tool call for ../../etc/passwd, an absolute path elsewhere, and a cwd outside", () => {
    const b = new WorkspaceBinding(wt, [laneDir]);
    expect(b.check(tool("read_file", { path: "../../etc/passwd" }))).toEqual({ expected: wt, actual: path.resolve(wt, "../../etc/passwd"), source: "tool:read_file" });
    expect(b.check(tool("Write", { file_path: "/etc/cron.d/x" }))).toMatchObject({ actual: "/etc/cron.d/x", source: "tool:Write" });
    expect(b.check({ kind: "ready", cwd: tmp.dir })).toMatchObject({ actual: tmp.dir, source: "cwd" });
    expect(b.check(tool("file_change", { changes: [{ path: path.join(tmp.dir, "outside.txt") }] }))).toMatchObject({ source: "tool:file_change" });
    // A sibling whose name starts like the worktree is outside too.
    expect(b.check(tool("Write", { file_path: `${wt}-evil/x` }))).not.toBeNull();
  });

  it("lets reads (not writes) into the lane directory, where the agent's HOME is", () => {
    const b = new WorkspaceBinding(wt, [laneDir]);
    const memo = path.join(laneDir, "agent-home", ".claude", "x.md");
    expect(b.check(tool("Read", { file_path: memo }))).toBeNull();
    expect(b.check(tool("Write", { file_path: memo }))).toMatchObject({ actual: memo });
  });

  it("follows symlinks: a link out of the worktree is caught, a worktree reached through a link still matches", async () => {
    await fs.symlink(tmp.dir, path.join(wt, "escape"));
    const b = new WorkspaceBinding(wt);
    expect(b.check(tool("Write", { file_path: "escape/pwned.txt" }))).toMatchObject({ source: "tool:Write" });
    const link = path.join(tmp.dir, "wt-link");
    await fs.symlink(wt, link);
    const viaLink = new WorkspaceBinding(link);
    expect(viaLink.check({ kind: "ready", cwd: await fs.realpath(wt) })).toBeNull();
    expect(realpathLoose(path.join(link, "not", "yet"))).toBe(path.join(await fs.realpath(wt), "not", "yet"));
  });
});

describe("detectPhantomCompletion", () => {
  it("phantom only with no commit since the base and a clean worktree", async () => {
    const repo = await initRepo(path.join(tmp.dir, "repo"));
    const base = (await git(["rev-parse", "HEAD"], { cwd: repo })).stdout.trim();
    expect(await detectPhantomCompletion(repo, base)).toEqual({ phantom: true, head: base, ahead: 0, changed: [] });
    await fs.writeFile(path.join(repo, "untracked.txt"), "x");
    expect(await detectPhantomCompletion(repo, base)).toMatchObject({ phantom: false, ahead: 0, changed: ["?? untracked.txt"] });
    await fs.rm(path.join(repo, "untracked.txt"));
    const sha = await commitFile(repo, "a.txt", "a", "add a");
    expect(await detectPhantomCompletion(repo, base)).toEqual({ phantom: false, head: sha, ahead: 1, changed: [] });
  });
});
