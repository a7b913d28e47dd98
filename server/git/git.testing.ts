/**
 * Test helpers: real git repositories in fresh temp directories (never mocks). Used by the tests
 * of server/git, server/engines and server/demo. Not imported by runtime code.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import { git } from "./runner";

/** Identity for commits made by tests, passed with `-c` so no global config is needed. */
export const TEST_IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@laneboard.invalid", "-c", "commit.gpgsign=false"];

/** A fresh, realpath'd temp directory; `cleanup` removes it. */
export async function makeTempDir(prefix = "laneboard-test-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  // Retried: a data dir's fence watchdog (server/cluster/fence.ts, a detached process) may still
  // write its pid file there while the dir is removed, which then fails with ENOTEMPTY.
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }) };
}

/** A temp directory that a test file's hooks replace: `dir` is valid inside tests only. */
export interface TempDirHandle {
  dir: string;
}

function tempDirWith(before: typeof beforeEach, after: typeof afterEach, prefix?: string): TempDirHandle {
  const handle: TempDirHandle = { dir: "" };
  let cleanup: (() => Promise<void>) | null = null;
  before(async () => {
    const tmp = await makeTempDir(prefix);
    handle.dir = tmp.dir;
    cleanup = tmp.cleanup;
  });
  after(async () => {
    await cleanup?.();
    cleanup = null;
  });
  return handle;
}

/** A fresh temp directory for every test of the calling file (vitest beforeEach/afterEach), removed after it. */
export function tempDirPerTest(prefix?: string): TempDirHandle {
  return tempDirWith(beforeEach, afterEach, prefix);
}

/** One temp directory shared by all tests of the calling file (vitest beforeAll/afterAll). */
export function tempDirPerFile(prefix?: string): TempDirHandle {
  return tempDirWith(beforeAll, afterAll, prefix);
}

/** `git init` a repository at `dir` on `branch` with one commit holding README.md (unless `empty`). */
export async function initRepo(dir: string, opts: { branch?: string; empty?: boolean } = {}): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await git(["init", "--quiet", `--initial-branch=${opts.branch ?? "main"}`], { cwd: dir });
  if (!opts.empty) await commitFile(dir, "README.md", "# test repo\n", "initial commit");
  return dir;
}

/** Write `file` (relative to `cwd`) and commit it; returns the new commit's SHA. */
export async function commitFile(cwd: string, file: string, content: string, message: string): Promise<string> {
  await fs.mkdir(path.dirname(path.join(cwd, file)), { recursive: true });
  await fs.writeFile(path.join(cwd, file), content);
  await git(["add", "--", file], { cwd });
  await git([...TEST_IDENTITY, "commit", "--quiet", "-m", message], { cwd });
  return (await git(["rev-parse", "HEAD"], { cwd })).stdout;
}

/** Whether a path exists. */
export async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}
