import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { inspectRepo } from "../git/repo";
import { git } from "../git/runner";
import { tempDirPerTest } from "../git/git.testing";
import { createDemoRepo, DEMO_FILES, isDemoRepo } from "./create-demo-repo";

const tmp = tempDirPerTest();

describe("createDemoRepo", () => {
  it("creates a git repository on main whose node --test suite passes", async () => {
    const repo = await createDemoRepo(path.join(tmp.dir, "demo"));
    expect(await inspectRepo(repo)).toEqual({ root: repo, name: "demo", mainBranch: "main" });
    expect(await isDemoRepo(repo)).toBe(true);
    expect((await git(["status", "--porcelain"], { cwd: repo })).stdout).toBe("");
    const files = (await git(["ls-files"], { cwd: repo })).stdout.split("\n").sort();
    expect(files).toEqual(Object.keys(DEMO_FILES).sort());
    expect((await git(["log", "--format=%an <%ae>"], { cwd: repo })).stdout).toBe("Laneboard Demo <demo@laneboard.invalid>");

    const res = await execa("node", ["--test"], { cwd: repo, reject: false });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/# pass 8\n/);
    expect(res.stdout).toMatch(/# fail 0\n/);
  });

  it("is idempotent: a second call returns the same repository untouched", async () => {
    const repo = await createDemoRepo(path.join(tmp.dir, "demo"));
    const head = (await git(["rev-parse", "HEAD"], { cwd: repo })).stdout;
    expect(await createDemoRepo(path.join(tmp.dir, "demo"))).toBe(repo);
    expect((await git(["rev-parse", "HEAD"], { cwd: repo })).stdout).toBe(head);
    expect((await git(["rev-list", "--count", "HEAD"], { cwd: repo })).stdout).toBe("1");
  });

  it("refuses a non-empty directory that is not a demo repository and leaves it alone", async () => {
    const dir = path.join(tmp.dir, "mine");
    await fs.mkdir(dir);
    await fs.writeFile(path.join(dir, "notes.txt"), "keep");
    await expect(createDemoRepo(dir)).rejects.toMatchObject({ code: "conflict" });
    expect(await fs.readdir(dir)).toEqual(["notes.txt"]);
  });
});
