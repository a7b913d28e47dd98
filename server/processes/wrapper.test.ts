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
import { EARLIER_WRAPPER_SCRIPTS, WRAPPER_SCRIPT, findWrapper, processPaths, readExitFile } from "./wrapper";

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), "lb-wrapper-"));
});
afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** The wrapper's arguments before the command: the current script also takes a cgroup ("" = none). */
const lead = (script: string, dir: string) => (script === WRAPPER_SCRIPT ? [dir, "null", ""] : [dir, "null"]);

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
    for (const text of ["", "14", "abc\n", "1 2\n", "\n"]) {
      writeFileSync(file, text);
      expect(readExitFile(file), JSON.stringify(text)).toBeNull();
    }
    writeFileSync(file, "0\n");
    expect(readExitFile(file)).toMatchObject({ exitCode: 0, signal: null });
    expect(readExitFile(path.join(dataDir, "missing"))).toBeNull();
  });

  it("is written the same way by the earlier script (tmp file + mv), which leaves no tmp file", async () => {
    expect(await runWrapper(EARLIER_WRAPPER_SCRIPTS[1]!, "c", ["sh", "-c", "exit 7"])).toBe(7);
    expect(readExitFile(processPaths(dataDir, "c").exit)).toMatchObject({ exitCode: 7 });
    expect(existsSync(`${processPaths(dataDir, "c").exit}.tmp`)).toBe(false);
  });
});

describe("findWrapper", () => {
  it.each([
    ["the current script", WRAPPER_SCRIPT],
    ["the script without a cgroup", EARLIER_WRAPPER_SCRIPTS[0]!],
    ["the script with tmp file + mv", EARLIER_WRAPPER_SCRIPTS[1]!],
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
