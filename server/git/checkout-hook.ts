/**
 * The one repository hook Laneboard can be allowed to run: `post-checkout` while a lane's
 * worktree is created, for repos whose workflow needs it (generated files, submodule setup) and
 * whose policy opts in (`git.runCheckoutHook`, server/policy/policy-schema.ts). Every other hook
 * stays off: git is pointed at a private directory holding only a link to that one hook, so a
 * `reference-transaction` hook next to it still does not run.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gitCommonDir } from "./refs";
import { git } from "./runner";

/**
 * Where the repo's hooks are: its configured `core.hooksPath` (`~` expanded by
 * `--type=path`; a relative one is taken relative to the directory the hook runs in, the new
 * worktree, as git does), else `<git-common-dir>/hooks`.
 */
async function repoHooksDir(repoPath: string, runDir: string): Promise<string> {
  // The runner's own `-c core.hooksPath` has scope "command": the last value from a config file wins.
  const configured = await git(["config", "--type=path", "--show-scope", "--get-all", "core.hooksPath"], { cwd: repoPath, allowFailure: true });
  const fromFiles = configured.stdout.split("\n").filter((line) => line && !line.startsWith("command\t"));
  const value = fromFiles.at(-1)?.split("\t").slice(1).join("\t") ?? "";
  if (value) return path.resolve(runDir, value);
  return path.join(await gitCommonDir(repoPath), "hooks");
}

/**
 * Run `fn` with a hooks directory (absolute) that holds only a symbolic link named
 * `post-checkout` to the repo's own `post-checkout` hook; removed afterwards. When the repo has
 * no such hook the link dangles and git runs nothing.
 *
 * @param runDir the directory the hook will run in (the new worktree), for a relative `core.hooksPath`
 * @throws AppError from {@link git} when `repoPath` is not a repository; whatever `fn` throws.
 */
export async function withCheckoutHookOnly<T>(repoPath: string, runDir: string, fn: (hooksPath: string) => Promise<T>): Promise<T> {
  const source = path.join(await repoHooksDir(repoPath, runDir), "post-checkout");
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "laneboard-hooks-"));
  try {
    await fs.symlink(source, path.join(dir, "post-checkout"));
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
