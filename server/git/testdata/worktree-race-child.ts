/**
 * One "node" of the cross-process worktree test (../worktree.cross-process.test.ts): a separate
 * OS process that runs Laneboard's real createWorktree, removeWorktree and checkoutWorktree on a
 * repository other such processes use at the same moment.
 *
 * argv: `<repoPath> <worktreesDir> <childId> <iterations>`. Protocol (IPC): sends `{ ready: true }`
 * once loaded, waits for the parent's `"go"` (a barrier, so all children start together without a
 * sleep), then for each iteration i creates `<worktreesDir>/c<id>-<i>` on branch `lane/c<id>-<i>`;
 * every odd i removes it again with its branch (remove + prune + branch -D), every i ≡ 2 (mod 4)
 * removes it keeping the branch and checks the branch out again; after every create it also
 * removes a worktree that is already gone (only `git worktree prune` does anything then). Every failure is recorded, not
 * thrown, and the run goes on. Finally sends `{ errors, kept }`: the error messages and the
 * worktrees that should still exist (path → branch), then exits.
 */
import path from "node:path";
import { checkoutWorktree, createWorktree, removeWorktree } from "../worktree";

const [repoPath = "", worktreesDir = "", childId = "", iterationsArg = "0"] = process.argv.slice(2);
const iterations = Number(iterationsArg);

async function run(): Promise<{ errors: string[]; kept: Record<string, string> }> {
  const errors: string[] = [];
  const kept: Record<string, string> = {};
  for (let i = 0; i < iterations; i++) {
    const worktreePath = path.join(worktreesDir, `c${childId}-${i}`);
    const branch = `lane/c${childId}-${i}`;
    const step = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
      try {
        await fn();
        return true;
      } catch (err) {
        errors.push(`child ${childId} ${what} ${i}: ${(err as Error).message}`);
        return false;
      }
    };
    if (!(await step("create", () => createWorktree({ repoPath, worktreePath, branch, base: "main" })))) continue;
    // Cleaning up a lane whose worktree is already gone: `worktree remove` finds nothing, then
    // `worktree prune` runs, the command that deletes a slot another add has not filled yet.
    await step("remove-gone", () => removeWorktree(repoPath, path.join(worktreesDir, `gone-${childId}-${i}`)));
    if (i % 2 === 1) {
      await step("remove", () => removeWorktree(repoPath, worktreePath, { deleteBranch: branch }));
    } else if (i % 4 === 2) {
      if ((await step("remove-keep-branch", () => removeWorktree(repoPath, worktreePath))) && (await step("checkout", () => checkoutWorktree(repoPath, worktreePath, branch)))) {
        kept[worktreePath] = branch;
      }
    } else {
      kept[worktreePath] = branch;
    }
  }
  return { errors, kept };
}

process.on("message", (msg) => {
  if (msg !== "go") return;
  run().then(
    (result) => process.send?.(result, () => process.exit(0)),
    (err: unknown) => process.send?.({ errors: [`child ${childId} crashed: ${String(err)}`], kept: {} }, () => process.exit(1)),
  );
});
process.send?.({ ready: true });
