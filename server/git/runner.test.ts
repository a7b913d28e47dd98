import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { git, gitEnv } from "./runner";
import { initRepo, tempDirPerTest, TEST_IDENTITY } from "./git.testing";

const tmp = tempDirPerTest();

describe("git runner", () => {
  it("returns stdout without the final newline and exit code 0", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    const res = await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo });
    expect(res).toEqual({ stdout: "main", stderr: "", exitCode: 0 });
  });

  it("throws an internal AppError naming the subcommand and git's message on a non-zero exit", async () => {
    const err = await git(["rev-parse", "--verify", "no-such-ref"], { cwd: tmp.dir }).catch((e: unknown) => e);
    expect(isAppError(err)).toBe(true);
    expect(err).toMatchObject({ code: "internal" });
    expect((err as Error).message).toMatch(/^git rev-parse failed \(exit 128\): fatal: not a git repository/);
  });

  it("returns the failure instead with allowFailure", async () => {
    const res = await git(["rev-parse", "--verify", "no-such-ref"], { cwd: tmp.dir, allowFailure: true });
    expect(res.exitCode).toBe(128);
    expect(res.stderr).toContain("not a git repository");
  });

  it("throws not_found for a cwd that does not exist", async () => {
    await expect(git(["status"], { cwd: path.join(tmp.dir, "nope") })).rejects.toMatchObject({ code: "not_found" });
  });

  it("kills git and throws unavailable when it exceeds timeoutMs", async () => {
    // A shell alias is the simplest real git call that takes long; the string is a constant.
    const started = Date.now();
    await expect(git(["-c", "alias.slow=!sleep 5", "slow"], { cwd: tmp.dir, timeoutMs: 300 })).rejects.toMatchObject({
      code: "unavailable",
      message: "git slow timed out after 300 ms",
    });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("ignores GIT_DIR and GIT_WORK_TREE inherited from the server's environment", async () => {
    const a = await initRepo(path.join(tmp.dir, "a"));
    const b = await initRepo(path.join(tmp.dir, "b"));
    const saved = { dir: process.env.GIT_DIR, tree: process.env.GIT_WORK_TREE };
    process.env.GIT_DIR = path.join(b, ".git");
    process.env.GIT_WORK_TREE = b;
    try {
      expect(gitEnv().GIT_DIR).toBeUndefined();
      const res = await git(["rev-parse", "--show-toplevel"], { cwd: a });
      expect(res.stdout).toBe(a);
    } finally {
      if (saved.dir === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved.dir;
      if (saved.tree === undefined) delete process.env.GIT_WORK_TREE;
      else process.env.GIT_WORK_TREE = saved.tree;
    }
  });

  it("sets no prompt, no pager and the C locale", () => {
    expect(gitEnv()).toMatchObject({ GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" });
  });

  it("runs none of the repository's hooks, even one its config points to, and not its fsmonitor", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    const marker = path.join(tmp.dir, "ran");
    const hooks = path.join(tmp.dir, "hooks");
    await fs.mkdir(hooks);
    for (const name of ["pre-commit", "post-commit", "reference-transaction"]) {
      await fs.writeFile(path.join(hooks, name), `#!/bin/sh\necho ${name} >> '${marker}'\n`, { mode: 0o755 });
    }
    await fs.writeFile(path.join(tmp.dir, "monitor"), `#!/bin/sh\necho fsmonitor >> '${marker}'\n`, { mode: 0o755 });
    await git(["config", "core.hooksPath", hooks], { cwd: repo });
    await git(["config", "core.fsmonitor", path.join(tmp.dir, "monitor")], { cwd: repo });
    await fs.writeFile(path.join(repo, "a.txt"), "a\n");
    await git(["status", "--porcelain"], { cwd: repo });
    await git(["add", "--", "a.txt"], { cwd: repo });
    await git([...TEST_IDENTITY, "commit", "-q", "-m", "a"], { cwd: repo });
    await expect(fs.readFile(marker, "utf8")).rejects.toMatchObject({ code: "ENOENT" });

    // The same hooks in a directory the caller names do run: the option is the only way in.
    await git([...TEST_IDENTITY, "commit", "-q", "--allow-empty", "-m", "b"], { cwd: repo, hooksPath: hooks });
    expect(await fs.readFile(marker, "utf8")).toContain("post-commit");
  });
});
