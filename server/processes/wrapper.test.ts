/**
 * The `sh` wrapper's files, read the way recovery reads them: the exit status (written in one
 * write, valid only with its newline) and the pid file that proves a wrapper is ours, for the
 * current script and for the one earlier versions started (a wrapper that outlived an upgrade).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExitRecorder } from "./exit-recorder";
import { EARLIER_WRAPPER_SCRIPTS, EXIT_PLACEHOLDER, WRAPPER_SCRIPT, findWrapper, processPaths, readExitFile } from "./wrapper";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "lb-wrapper-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** The wrapper's arguments before the command: scripts since cgroups also take one ("" = none). */
const lead = (script: string, dir: string) => (script.startsWith("d=$1; mode=$2; cg=$3;") ? [dir, "null", ""] : [dir, "null"]);

/** Run a wrapper script to completion for process `id`; its own exit code. */
async function runWrapper(script: string, id: string, argv: string[]): Promise<number | undefined> {
  const p = processPaths(dataDir, id);
  await mkdir(p.dir, { recursive: true });
  const r = await execa("/bin/sh", ["-c", script, "sh", ...lead(script, p.dir), ...argv], { reject: false });
  return r.exitCode;
}

describe("the exit file", () => {
  it("holds the command's status with a newline, and a signal death as 128+N", async () => {
    expect(await runWrapper(WRAPPER_SCRIPT, "a", ["sh", "-c", "exit 3"])).toBe(3);
    expect(readExitFile(processPaths(dataDir, "a").exit)).toMatchObject({ exitCode: 3, signal: null });
    await runWrapper(WRAPPER_SCRIPT, "b", ["sh", "-c", "kill -TERM $$"]);
    expect(readExitFile(processPaths(dataDir, "b").exit)).toMatchObject({ exitCode: null, signal: "SIGTERM" });
  });

  it("keeps the shell's own job messages out of the command's stderr ('Killed' is not the command's output)", async () => {
    const p = processPaths(dataDir, "k");
    await mkdir(p.dir, { recursive: true });
    const r = await execa("/bin/sh", ["-c", WRAPPER_SCRIPT, "sh", ...lead(WRAPPER_SCRIPT, p.dir), "sh", "-c", "echo own >&2; kill -KILL $$"], { reject: false });
    expect(readExitFile(p.exit)).toMatchObject({ signal: "SIGKILL" });
    expect(r.stderr).toBe("own");
  });

  it("counts only a whole status: empty (not written yet), no newline, or not a number read as none", () => {
    const file = path.join(dataDir, "exit");
    for (const text of ["", "14", "abc\n", "1 2\n", "\n", EXIT_PLACEHOLDER, "14      ", " 3\n     "]) {
      writeFileSync(file, text);
      expect(readExitFile(file), JSON.stringify(text)).toBeNull();
    }
    for (const [text, exitCode] of [["0\n", 0], ["75\n     ", 75]] as const) {
      writeFileSync(file, text);
      expect(readExitFile(file), JSON.stringify(text)).toMatchObject({ exitCode, signal: null });
    }
    expect(readExitFile(path.join(dataDir, "missing"))).toBeNull();
  });

  it("is written the same way by the earlier script (tmp file + mv), which leaves no tmp file", async () => {
    expect(await runWrapper(EARLIER_WRAPPER_SCRIPTS[2]!, "c", ["sh", "-c", "exit 7"])).toBe(7);
    expect(readExitFile(processPaths(dataDir, "c").exit)).toMatchObject({ exitCode: 7 });
    expect(existsSync(`${processPaths(dataDir, "c").exit}.tmp`)).toBe(false);
  });
});

describe("the exit file on a full disk", () => {
  let disk: string;
  beforeEach(async (ctx) => {
    // A 64 KiB tmpfs the command fills. Needs the privilege to mount; skipped (visibly) without it.
    disk = path.join(dataDir, "disk");
    await mkdir(disk);
    if ((await execa("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk], { reject: false })).exitCode !== 0) ctx.skip();
  });
  afterEach(async () => {
    await execa("umount", ["-l", disk], { reject: false });
  });

  /** Run `script` in a process directory on the tmpfs, with a command that fills it and then exits 75 (EX_TEMPFAIL). */
  async function fillAndExit(script: string, id: string) {
    const p = processPaths(disk, id);
    await mkdir(p.dir, { recursive: true });
    await execa("/bin/sh", ["-c", script, "sh", ...lead(script, p.dir), "sh", "-c", 'cat /dev/zero > "$0/fill"; exit 75', disk], { reject: false });
    return p;
  }

  it("holds the status of a command that ended because the disk filled: reserved at start, written in place", async () => {
    const p = await fillAndExit(WRAPPER_SCRIPT, "full");
    expect(readExitFile(p.exit)).toMatchObject({ exitCode: 75, signal: null });
    // The earlier script, which creates the file only at the end, loses it on the same disk.
    const before = await fillAndExit(EARLIER_WRAPPER_SCRIPTS[0]!, "full-before");
    expect(readExitFile(before.exit)).toBeNull();
  });

  it("is written over the placeholder by the server when the wrapper left none (ExitRecorder.keepExitFile)", async () => {
    const p = processPaths(disk, "kept");
    await mkdir(p.dir, { recursive: true });
    writeFileSync(p.exit, EXIT_PLACEHOLDER);
    await execa("sh", ["-c", 'cat /dev/zero > "$0/fill"', disk], { reject: false });
    ExitRecorder.keepExitFile(p.exit, { exitCode: 75, signal: null });
    expect(readExitFile(p.exit)).toMatchObject({ exitCode: 75 });
    ExitRecorder.keepExitFile(p.exit, { exitCode: 3, signal: null }); // a status already there is kept
    expect(readExitFile(p.exit)).toMatchObject({ exitCode: 75 });
  });
});

describe("findWrapper", () => {
  it.each([
    ["the current script", WRAPPER_SCRIPT],
    ["the script creating the exit file at the end", EARLIER_WRAPPER_SCRIPTS[0]!],
    ["the script without a cgroup", EARLIER_WRAPPER_SCRIPTS[1]!],
    ["the script with tmp file + mv", EARLIER_WRAPPER_SCRIPTS[2]!],
  ])("finds a running wrapper of %s by its pid file, and not once it has ended", async (_name, script) => {
    const p = processPaths(dataDir, "w");
    await mkdir(p.dir, { recursive: true });
    // Killed (the whole group) once checked; `sleep` keeps it running until then.
    const child = execa("/bin/sh", ["-c", script, "sh", ...lead(script, p.dir), "sleep", "30"], { reject: false, detached: true });
    try {
      await expect.poll(() => findWrapper(p)?.pid, { timeout: 10_000 }).toBe(child.pid);
      expect(findWrapper(processPaths(dataDir, "other"))).toBeNull();
    } finally {
      process.kill(-child.pid!, "SIGKILL");
      await child;
    }
    expect(findWrapper(p)).toBeNull();
  });
});
