/**
 * The git helper process (spawner.ts, git-helper.mjs): git runs as the helper's child, not the
 * server's; a helper that dies fails only the calls it had, and the next call starts another; the
 * helper neither keeps the server alive nor outlives it, except to let the git calls in flight end.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { readProcStat } from "../processes/procfs";
import { git } from "./runner";
import { gitHelperPid, spawnInHelper } from "./spawner";
import { initRepo, tempDirPerTest } from "./git.testing";

const CHILD = path.join(import.meta.dirname, "testdata", "git-helper-child.ts");
const tmp = tempDirPerTest();

const gone = (pid: number) => {
  const stat = readProcStat(pid);
  return stat === null || stat.state === "Z";
};

/** Start testdata/git-helper-child.ts; resolves with the helper pid it printed, and its exit. */
function startChild(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const helper = new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { helper: number }).helper);
    });
    void exit.then((code) => reject(new Error(`child exited (${code}) before printing: ${out}`)));
  });
  return { child, helper, exit };
}

describe("git helper process", () => {
  it("runs git as its own child, one helper for all calls", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    // The alias's shell reads its parent's (git's) stat: field 4 is git's parent.
    const res = await git(["-c", "alias.parent=!cat /proc/$PPID/stat", "parent"], { cwd: repo });
    const helper = gitHelperPid();
    expect(helper).toEqual(expect.any(Number));
    expect(Number(res.stdout.slice(res.stdout.lastIndexOf(")") + 2).split(" ")[1])).toBe(helper);
    expect(readProcStat(helper!)?.ppid).toBe(process.pid);
    await git(["status", "--porcelain"], { cwd: repo });
    expect(gitHelperPid()).toBe(helper);
  });

  it("fails the call in flight with unavailable when the helper dies, and the next call starts a new one", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    const fifo = path.join(tmp.dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const call = git(["-c", `alias.wait=!read x < '${fifo}'`, "wait"], { cwd: repo });
    const before = gitHelperPid()!;
    // Opening the fifo for writing waits for git's shell to open it: the call is in flight.
    const writer = await fs.open(fifo, "w");
    process.kill(before, "SIGKILL");
    await expect(call).rejects.toMatchObject({ code: "unavailable", message: expect.stringContaining("git helper exited (SIGKILL)") });
    await writer.close();
    expect((await git(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo })).stdout).toBe("main");
    expect(gitHelperPid()).not.toBe(before);
  });

  it("kills a command that writes more than maxBuffer and says which stream; feeds input to stdin", async () => {
    const env = { PATH: process.env.PATH ?? "" };
    const big = await spawnInHelper({ file: "yes", args: [], cwd: tmp.dir, env, timeoutMs: 10_000, maxBuffer: 1000 });
    expect(big).toMatchObject({ overflow: "stdout", exitCode: null, signal: "SIGKILL", timedOut: false, error: null });
    const echo = await spawnInHelper({ file: "cat", args: [], cwd: tmp.dir, env, input: "a\nb\n", timeoutMs: 10_000, maxBuffer: 1000 });
    expect(echo).toMatchObject({ stdout: "a\nb", exitCode: 0, overflow: null });
    const missing = await spawnInHelper({ file: "no-such-program-here", args: [], cwd: tmp.dir, env, timeoutMs: 10_000, maxBuffer: 1000 });
    expect(missing).toMatchObject({ exitCode: null, error: { code: "ENOENT" } });
  });

  it("does not keep its server alive: a process whose last git call ended exits by itself", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    const { helper, exit } = startChild(["once", repo]);
    const pid = await helper;
    expect(await exit).toBe(0);
    await vi.waitFor(() => expect(gone(pid)).toBe(true), { timeout: 10_000, interval: 20 });
  });

  it("outlives a SIGKILLed server only until the git call it was running has ended", async () => {
    const repo = await initRepo(path.join(tmp.dir, "r"));
    const fifo = path.join(tmp.dir, "fifo");
    const marker = path.join(tmp.dir, "done");
    execFileSync("mkfifo", [fifo]);
    const { child, helper, exit } = startChild(["wait", repo, fifo, marker]);
    const pid = await helper;
    const writer = await fs.open(fifo, "w"); // git's alias shell has it open: the call runs
    child.kill("SIGKILL");
    await exit;
    expect(gone(pid), "the helper waits for the git call it runs").toBe(false);
    await writer.write("go\n");
    await writer.close();
    await vi.waitFor(() => expect(gone(pid)).toBe(true), { timeout: 10_000, interval: 20 });
    expect(await fs.readFile(marker, "utf8")).toBe("done\n");
  });
});
