import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { beforeEach, describe, expect, it } from "vitest";
import type { ScriptStep } from "@/lib/task-packet";
import { git } from "../git/runner";
import { exists, initRepo, tempDirPerTest } from "../git/git.testing";
import { SCRIPT_AGENT_PATH } from "./engine-command";

const tmp = tempDirPerTest();
let repo: string;
beforeEach(async () => {
  repo = await initRepo(path.join(tmp.dir, "repo"));
});

/** Run the agent as a real child process in `repo` with `steps` (a value written as JSON, or raw text). */
async function runAgent(steps: unknown, opts: { raw?: string; args?: string[] } = {}) {
  const file = path.join(tmp.dir, "steps.json");
  await fs.writeFile(file, opts.raw ?? JSON.stringify(steps));
  const res = await execa(process.execPath, [SCRIPT_AGENT_PATH, ...(opts.args ?? [file])], { cwd: repo, reject: false });
  return { exitCode: res.exitCode, stdout: String(res.stdout), stderr: String(res.stderr) };
}

const read = (rel: string) => fs.readFile(path.join(repo, rel), "utf8");

describe("script agent", () => {
  it("writes and appends files and says lines, one » line per step", async () => {
    const steps: ScriptStep[] = [
      { op: "write", path: "src/new/file.txt", content: "one\n" },
      { op: "append", path: "src/new/file.txt", content: "two\n" },
      { op: "say", text: "\u001b[32mhello\u001b[0m" },
    ];
    const res = await runAgent(steps);
    expect(res.exitCode).toBe(0);
    expect(await read("src/new/file.txt")).toBe("one\ntwo\n");
    expect(res.stdout.split("\n")).toEqual(["» write src/new/file.txt", "» append src/new/file.txt", "\u001b[32mhello\u001b[0m"]);
  });

  it("commits everything as the script agent, whatever the repo's configured identity", async () => {
    await git(["config", "user.name", "Someone Else"], { cwd: repo });
    await git(["config", "user.email", "else@example.com"], { cwd: repo });
    const res = await runAgent([
      { op: "write", path: "a.txt", content: "a" },
      { op: "commit", message: "Add a" },
    ]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain('» commit "Add a"');
    const log = await git(["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"], { cwd: repo });
    expect(log.stdout).toBe("Laneboard Script Agent <script-agent@laneboard.invalid>|Laneboard Script Agent <script-agent@laneboard.invalid>|Add a");
    expect((await git(["status", "--porcelain"], { cwd: repo })).stdout).toBe("");
    expect((await git(["show", "--name-only", "--format=", "HEAD"], { cwd: repo })).stdout).toBe("a.txt");
  });

  it("treats a commit with nothing to commit as already done (a restarted lane replays its script)", async () => {
    const before = (await git(["rev-parse", "HEAD"], { cwd: repo })).stdout;
    const res = await runAgent([{ op: "commit", message: "empty" }, { op: "say", text: "after" }]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain("nothing to commit (already committed)");
    expect(res.stdout.trim().endsWith("after")).toBe(true);
    expect((await git(["rev-parse", "HEAD"], { cwd: repo })).stdout).toBe(before);
  });

  it("runs argv without a shell and continues after success", async () => {
    const mark = path.join(tmp.dir, "pwned");
    const res = await runAgent([
      { op: "run", argv: ["node", "-e", "console.log('arg=' + process.argv[1])", `$(touch ${mark});touch ${mark}`] },
      { op: "say", text: "after" },
    ]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain(`arg=$(touch ${mark});touch ${mark}`);
    expect(res.stdout.trim().endsWith("after")).toBe(true);
    expect(await exists(mark)).toBe(false);
  });

  it("stops at a failing run with its exit code", async () => {
    const res = await runAgent([
      { op: "run", argv: ["node", "-e", "process.exit(7)"] },
      { op: "write", path: "never.txt", content: "x" },
    ]);
    expect(res.exitCode).toBe(7);
    expect(res.stderr).toContain("node exited with code 7");
    expect(await exists(path.join(repo, "never.txt"))).toBe(false);
  });

  it("continues past a failing run with allowFailure", async () => {
    const res = await runAgent([
      { op: "run", argv: ["node", "-e", "process.exit(7)"], allowFailure: true },
      { op: "write", path: "after.txt", content: "x" },
    ]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toContain("exit code 7 (allowed)");
    expect(await read("after.txt")).toBe("x");
  });

  it("exits 127 when a program cannot be started", async () => {
    const res = await runAgent([{ op: "run", argv: ["laneboard-no-such-program"] }]);
    expect(res.exitCode).toBe(127);
  });

  it("prints numbered progress lines", async () => {
    const res = await runAgent([
      { op: "progress", count: 3, intervalMs: 1, text: "indexing" },
      { op: "progress", count: 1, intervalMs: 0 },
    ]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout.split("\n")).toEqual(["[1/3] indexing", "[2/3] indexing", "[3/3] indexing", "[1/1] working"]);
  });

  it("stops at an exit step with its code", async () => {
    const res = await runAgent([
      { op: "exit", code: 5 },
      { op: "write", path: "never.txt", content: "x" },
    ]);
    expect(res.exitCode).toBe(5);
    expect(await exists(path.join(repo, "never.txt"))).toBe(false);
  });

  it("rejects paths outside the worktree with exit code 2", async () => {
    await fs.symlink(tmp.dir, path.join(repo, "escape-link"));
    const outside = ["../outside.txt", path.join(tmp.dir, "abs.txt"), "a/../../outside2.txt", "escape-link/via-link.txt", "."];
    for (const p of outside) {
      const res = await runAgent([{ op: "write", path: p, content: "x" }]);
      expect(res.exitCode, p).toBe(2);
      expect(res.stderr, p).toContain("path is outside the worktree");
    }
    for (const f of ["outside.txt", "abs.txt", "outside2.txt", "via-link.txt"]) expect(await exists(path.join(tmp.dir, f))).toBe(false);
  });

  it("exits 2 for a bad steps file or usage", async () => {
    expect((await runAgent(null, { raw: "not json" })).exitCode).toBe(2);
    expect((await runAgent({ op: "say", text: "x" })).exitCode).toBe(2);
    expect((await runAgent([{ op: "dance" }])).exitCode).toBe(2);
    expect((await runAgent([{ op: "run", argv: [] }])).exitCode).toBe(2);
    expect((await runAgent([], { args: [] })).exitCode).toBe(2);
  });
});
