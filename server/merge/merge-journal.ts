/**
 * A merge's intent, written to the lane's directory (`merge-intent.json`) before the base branch
 * moves and removed once `lane.merged` is recorded. Moving the ref is atomic (git `update-ref`
 * with the old value as a guard), but recording it is a second step: a server killed between the
 * two would leave the base at the merge commit while the lane says it is not merged, and a second
 * merge would follow. At its next start the server reads each intent left behind and finds out
 * from git which it was ({@link landedSha}): the base took this lane's work (then `lane.merged`
 * is recorded) or it did not (the base is untouched by it, and a warning says so).
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { MergeStrategy } from "@/lib/api";
import { isAncestor } from "../git/refs";
import { resolveCommit } from "../git/repo";
import { git } from "../git/runner";
import { laneDir } from "../records/lane-dir";

export interface MergeIntent {
  strategy: MergeStrategy;
  baseBranch: string;
  /** Base head and lane head (commit ids) when the merge began. */
  previous: string;
  head: string;
  by: string;
}

const FILE = "merge-intent.json";

/** The trailer every merge or squash commit Laneboard makes carries (merge-service.ts writes it). */
export function mergeTrailer(laneId: string): string {
  return `Lane ${laneId}, merged by Laneboard`;
}

/** Write the intent durably (a temp file renamed over) before the base moves. */
export async function writeIntent(dataDir: string, laneId: string, intent: MergeIntent): Promise<void> {
  const dir = laneDir(dataDir, laneId);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${FILE}.tmp`), JSON.stringify(intent), { flush: true });
  await rename(path.join(dir, `${FILE}.tmp`), path.join(dir, FILE));
}

export async function clearIntent(dataDir: string, laneId: string): Promise<void> {
  await rm(path.join(laneDir(dataDir, laneId), FILE), { force: true });
}

/** Intents left behind by a server that stopped mid-merge: lane id and intent. */
export async function leftIntents(dataDir: string): Promise<{ laneId: string; intent: MergeIntent }[]> {
  const lanes = await readdir(path.join(dataDir, "lanes")).catch(() => [] as string[]);
  const out: { laneId: string; intent: MergeIntent }[] = [];
  for (const laneId of lanes) {
    const text = await readFile(path.join(laneDir(dataDir, laneId), FILE), "utf8").catch(() => null);
    if (text !== null) out.push({ laneId, intent: JSON.parse(text) as MergeIntent });
  }
  return out;
}

/**
 * The commit through which the base took the lane's work since the intent was written, or null
 * when it did not (the base is where it was, or moved by others without this lane): for `ff` the
 * lane head now in the base; for `merge`/`squash` the commit in `previous..base` that carries the
 * lane's trailer.
 */
export async function landedSha(repo: string, laneId: string, intent: MergeIntent): Promise<string | null> {
  const now = await resolveCommit(repo, `refs/heads/${intent.baseBranch}`).catch(() => null);
  if (now === null || now === intent.previous) return null;
  if (intent.strategy === "ff") return (await isAncestor(repo, intent.head, now)) ? intent.head : null;
  const res = await git(["rev-list", "--fixed-strings", `--grep=${mergeTrailer(laneId)}`, "--end-of-options", `${intent.previous}..${now}`], { cwd: repo, allowFailure: true });
  return res.exitCode === 0 ? (res.stdout.trim().split("\n").at(-1) || null) : null;
}
