/**
 * Merge readiness and the merge action.
 *
 * Readiness (docs/domain.md, "Green levels") = the lane finished green at its required level (the packet's
 * `merge.requiredLevel`, default `merge_ready`) + not stale against its base + no conflict with
 * it, the last checked with `git merge-tree --write-tree` (object store only: no work tree is
 * touched). Evaluated after a lane finishes green ({@link evaluate}): `lane.merge.ready`, or
 * `lane.merge.blocked` with the reasons — and a conflict goes to the policy, whose default rule
 * escalates it. When merge-ready, the repo policy may merge at once (default rule `green-merge`:
 * only a lane whose diff stays within its packet's scope).
 *
 * The merge ({@link merge}, also `POST /api/v1/lanes/:id/merge`) lands the lane on its base by
 * fast-forward, merge commit or squash (server/git/merge.ts integrateIntoBase: the base ref is
 * moved with its old value as a guard; a base checked out in a work tree is advanced there with
 * `merge --ff-only`, which refuses rather than overwrite local edits), emits `lane.merged`, stops
 * tracking the lane's freshness, and cleans up its worktree and branch when asked (the request,
 * else the packet, else the policy's `lane.merged` rule).
 */
import type { LaneChecksResponse, MergeBody, MergeReadiness, MergeResult, MergeStrategy } from "@/lib/api";
import { AppError, isAppError } from "@/lib/errors";
import type { CleanupResult } from "@/lib/review-api";
import { LIVE_LANE_STATES, type LaneState } from "@/lib/lane-state";
import type { TaskPacket } from "@/lib/task-packet";
import type { EventLog } from "../events/event-log";
import { changedFiles, integrateIntoBase, mergeBase, mergeTree, problemFromError, removeWorktree } from "../git/git";
import { checksByLevel, greenLevels, parseCheckRuns, shownCheckRuns } from "../checks/check-runs";
import type { FreshnessTracker } from "../freshness/freshness";
import { loadLane, type LaneRow } from "../records/lane-store";
import type { PolicyService } from "../policy/policy-service";
import type { RecoveryService } from "../recovery/recovery-service";
import type { Db } from "../store/db";
import { withinScope } from "./scope";
import { clearIntent, landedSha, leftIntents, mergeTrailer, writeIntent } from "./merge-journal";
import { resolveCommit } from "../git/repo";

export interface MergeDeps {
  db: Db;
  events: EventLog;
  freshness: FreshnessTracker;
  policy: PolicyService;
  recovery: RecoveryService;
  /** Where lanes' directories are (a merge's intent is kept there: merge-journal.ts). */
  dataDir: string;
  /** Resolves once a new lane's background worktree checkout has ended (server/lanes/worktree-checkouts.ts). */
  worktreeReady?: (laneId: string) => Promise<void>;
}

/** Serializes merges per repository: two lanes landing at once would race on the base ref. */
const repoQueues = new Map<string, Promise<unknown>>();
function serialized<T>(repoId: string, fn: () => Promise<T>): Promise<T> {
  const next = (repoQueues.get(repoId) ?? Promise.resolve()).catch(() => undefined).then(fn);
  repoQueues.set(repoId, next);
  return next;
}

export class MergeService {
  readonly #inflight = new Set<Promise<unknown>>();
  #stopped = false;

  constructor(private readonly deps: MergeDeps) {}

  /** Stop evaluating and wait for evaluations (and the merges they started) in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled([...this.#inflight]);
  }

  /** {@link evaluate} in the background, tracked so shutdown can wait for it. */
  evaluateLater(laneId: string): void {
    if (this.#stopped) return;
    const p = this.evaluate(laneId);
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /** The lane's check runs (all rounds of the current attempt) and their roll-up per level. @throws AppError not_found */
  async checkReport(laneId: string): Promise<LaneChecksResponse> {
    const lane = await loadLane(this.deps.db, laneId);
    const runs = shownCheckRuns(lane.checks);
    return { laneId, runs, levels: checksByLevel(runs) };
  }

  /** Merge readiness computed now. @throws AppError not_found */
  async readiness(laneId: string): Promise<MergeReadiness> {
    const lane = await loadLane(this.deps.db, laneId);
    const packet = lane.packet;
    const level = packet.merge?.requiredLevel ?? "merge_ready";
    const green = greenLevels(parseCheckRuns(lane.checks));
    const base = { laneId, level, green, conflicts: [] as string[], fastForward: false };
    if (await this.#merged(laneId)) {
      return { ...base, ready: false, reasons: [], behind: null, head: null, baseHead: null, merged: true, message: "already merged" };
    }
    const reasons: MergeReadiness["reasons"] = [];
    const state = lane.state as LaneState;
    if (LIVE_LANE_STATES.has(state) || state === "queued") reasons.push("live");
    else if (state !== "finished" || !green.includes(level)) reasons.push("not_green");
    const f = await this.deps.freshness.assess(laneId, "merge_check");
    if (!f.head) reasons.push("no_branch");
    else if (!f.baseHead) reasons.push("problem");
    if (f.stale) reasons.push("stale");
    let conflicts: string[] = [];
    if (f.head && f.baseHead) {
      const repo = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
      const mt = await mergeTree(repo.path, f.baseHead, f.head);
      conflicts = mt.conflicts;
      if (!mt.clean) reasons.push("conflict");
    }
    const message = reasons.length === 0 ? `ready to merge into ${lane.baseBranch}` : describe(reasons, { state, level, behind: f.behind, baseBranch: lane.baseBranch, conflicts, problem: f.problem?.message });
    return { ...base, ready: reasons.length === 0, reasons, behind: f.behind, conflicts, head: f.head, baseHead: f.baseHead, fastForward: f.behind === 0, merged: false, message };
  }

  /**
   * After a lane finished green: emit `lane.merge.ready` or `lane.merge.blocked` (a conflict is
   * escalated by policy), and merge when the policy says so. Only for lanes whose packet has
   * checks at the required level or an explicit `merge` section. Never throws.
   */
  async evaluate(laneId: string): Promise<void> {
    try {
      const lane = await loadLane(this.deps.db, laneId);
      const packet = lane.packet;
      const level = packet.merge?.requiredLevel ?? "merge_ready";
      if (!packet.merge && !packet.acceptance.some((c) => c.level === level)) return;
      const r = await this.readiness(laneId);
      if (r.merged) return;
      const base = { laneId, repoId: lane.repoId };
      if (!r.ready) {
        await this.deps.events.append({ ...base, type: "lane.merge.blocked", payload: { reasons: r.reasons, level, conflicts: r.conflicts, message: r.message } });
        if (r.reasons.includes("conflict")) {
          await this.deps.events.append({ ...base, type: "branch.conflict", payload: { baseBranch: lane.baseBranch, files: r.conflicts, during: "merge_check", evidence: r.conflicts.map((f) => `CONFLICT (merge-tree): ${f}`) } });
          const failure = { failureClass: "branch_divergence" as const, reason: "merge_conflict", summary: r.message, evidence: r.conflicts.map((f) => `CONFLICT (merge-tree): ${f}`) };
          await this.deps.recovery.decide(lane, failure, { trigger: "lane.merge.blocked", role: "check", stale: r.reasons.includes("stale") });
        }
        return;
      }
      await this.deps.events.append({ ...base, type: "lane.merge.ready", payload: { sha: r.head!, baseBranch: lane.baseBranch, baseHead: r.baseHead!, level, fastForward: r.fastForward } });
      const decision = await this.deps.policy.decide(lane, "lane.merge.ready", {
        state: lane.state as LaneState,
        green: r.green,
        requiredGreen: true,
        stale: false,
        withinScope: await this.withinScope(lane, packet),
      });
      if (decision?.action.action === "merge") {
        await this.merge(laneId, { strategy: packet.merge?.strategy ?? decision.action.strategy, force: false }, `policy:${decision.ruleId}`).catch(() => undefined);
      }
    } catch (err) {
      console.error(`[merge] evaluating ${laneId}:`, err instanceof Error ? err.message : err);
    }
  }

  /** Whether the lane's diff against its merge base stays within its packet's scope (undefined: no scope). */
  async withinScope(lane: LaneRow, packet: TaskPacket = lane.packet): Promise<boolean | undefined> {
    if (packet.scope.length === 0) return undefined;
    const repo = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
    const from = await mergeBase(repo.path, `refs/heads/${lane.baseBranch}`, `refs/heads/${lane.branch}`).catch(() => null);
    if (!from) return undefined;
    return withinScope(packet.scope, await changedFiles(repo.path, from, `refs/heads/${lane.branch}`))?.within;
  }

  /**
   * Land the lane on its base branch.
   * @throws AppError not_found; conflict (still running, already merged, a conflict, a stale lane
   *   for `ff`, the base moved, local edits in a checked-out base, a git lock file; `details.kind`
   *   says which); not_ready (not green at the required level, or stale, without `force`).
   */
  merge(laneId: string, body: MergeBody, by = "api"): Promise<MergeResult> {
    return loadLane(this.deps.db, laneId).then((lane) => serialized(lane.repoId, () => this.#merge(lane, body, by)));
  }

  async #merge(lane: LaneRow, body: MergeBody, by: string): Promise<MergeResult> {
    const r = await this.readiness(lane.id);
    if (r.merged) throw new AppError("conflict", `lane ${lane.id} is already merged`, { kind: "up_to_date" });
    if (r.reasons.includes("live")) throw new AppError("conflict", `lane ${lane.id} is ${lane.state}; merge it once it has finished`, { kind: "live" });
    if (r.reasons.includes("conflict")) throw new AppError("conflict", r.message, { kind: "merge_conflict", conflicts: r.conflicts });
    if (r.reasons.includes("no_branch") || r.reasons.includes("problem")) throw new AppError("conflict", r.message, { kind: "problem" });
    if (!r.ready && !body.force) throw new AppError("not_ready", `${r.message}; pass force: true to merge anyway`, { reasons: r.reasons });
    const packet = lane.packet;
    const repo = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
    const strategy: MergeStrategy = body.strategy ?? packet.merge?.strategy ?? this.#policyStrategy(lane.repoId) ?? "merge";
    const message = `Merge ${lane.branch} into ${lane.baseBranch}\n\n${lane.objective}\n\n${mergeTrailer(lane.id)} (${by}).`;
    const [previous, head] = await Promise.all([resolveCommit(repo.path, `refs/heads/${lane.baseBranch}`), resolveCommit(repo.path, `refs/heads/${lane.branch}`)]);
    await writeIntent(this.deps.dataDir, lane.id, { strategy, baseBranch: lane.baseBranch, previous, head, by });
    let res;
    try {
      res = await integrateIntoBase({ repo: repo.path, base: lane.baseBranch, branch: lane.branch, strategy, message });
    } catch (err) {
      await clearIntent(this.deps.dataDir, lane.id); // refused: the base did not move
      if (isAppError(err) && err.details?.kind === "locked") {
        const problem = problemFromError(err, "merge");
        await this.deps.events.append({ type: "branch.problem", laneId: lane.id, repoId: lane.repoId, payload: { ...problem, operation: "merge" } });
      }
      throw err;
    }
    const base = { laneId: lane.id, repoId: lane.repoId };
    await this.deps.events.append({ ...base, type: "lane.merged", payload: { strategy, baseBranch: lane.baseBranch, previous: res.previous, sha: res.sha, by, updatedWorktree: res.updatedWorktree } });
    await clearIntent(this.deps.dataDir, lane.id);
    this.deps.freshness.close(lane.id);
    let cleanup: { deleteBranch: boolean } | null = null;
    if (body.cleanup !== undefined) cleanup = body.cleanup ? { deleteBranch: true } : null;
    else if (packet.merge?.cleanup !== undefined) cleanup = packet.merge.cleanup ? { deleteBranch: true } : null;
    else {
      const decision = await this.deps.policy.decide(lane, "lane.merged", { state: lane.state as LaneState });
      if (decision?.action.action === "cleanup_worktree") cleanup = { deleteBranch: decision.action.deleteBranch };
    }
    const cleanedUp = cleanup ? (await this.#removeWorktree(lane, repo.path, cleanup.deleteBranch, by), true) : false;
    return { laneId: lane.id, strategy, baseBranch: lane.baseBranch, previous: res.previous, sha: res.sha, updatedWorktree: res.updatedWorktree, cleanedUp };
  }

  /**
   * At start, before requests: settle each merge a stopped server left half-recorded
   * (merge-journal.ts). The base took the lane's work → `lane.merged` (as the merge itself would
   * have said it); it did not → a warning that the base is untouched and the lane not merged.
   * Never merges anything. @returns lane ids recorded as merged and as not merged
   */
  async recoverInterrupted(): Promise<{ merged: string[]; notMerged: string[] }> {
    const out = { merged: [] as string[], notMerged: [] as string[] };
    for (const { laneId, intent } of await leftIntents(this.deps.dataDir)) {
      const lane = await this.deps.db.lane.findUnique({ where: { id: laneId }, select: { id: true, repoId: true } });
      const repo = lane && (await this.deps.db.repo.findUnique({ where: { id: lane.repoId } }));
      if (lane && repo && !(await this.#merged(laneId))) {
        const sha = await landedSha(repo.path, laneId, intent);
        const base = { laneId, repoId: lane.repoId };
        if (sha) {
          await this.deps.events.append({ ...base, type: "lane.merged", payload: { strategy: intent.strategy, baseBranch: intent.baseBranch, previous: intent.previous, sha, by: intent.by, updatedWorktree: null } });
          this.deps.freshness.close(laneId);
          out.merged.push(laneId);
        } else {
          const message = `the merge into ${intent.baseBranch} stopped with the server before ${intent.baseBranch} moved: ${intent.baseBranch} is untouched and the lane is not merged`;
          await this.deps.events.append({ ...base, type: "warning", payload: { failureClass: "infra", message } });
          out.notMerged.push(laneId);
        }
      }
      await clearIntent(this.deps.dataDir, laneId);
    }
    return out;
  }

  /**
   * Remove a merged lane's worktree and, by default, its branch: the cleanup offered after a
   * merge that did not clean up by itself. Idempotent.
   * @throws AppError not_found; not_ready (the lane is not merged: its work would be lost)
   */
  async cleanup(laneId: string, deleteBranch: boolean, by = "api"): Promise<CleanupResult> {
    const lane = await loadLane(this.deps.db, laneId);
    if (!(await this.#merged(laneId))) throw new AppError("not_ready", `lane ${laneId} is not merged; cleaning up would throw its work away`);
    const repo = await this.deps.db.repo.findUniqueOrThrow({ where: { id: lane.repoId } });
    return serialized(lane.repoId, async () => {
      await this.#removeWorktree(lane, repo.path, deleteBranch, by);
      return { laneId, worktreeRemoved: true, branchDeleted: deleteBranch };
    });
  }

  async #removeWorktree(lane: LaneRow, repoPath: string, deleteBranch: boolean, by: string): Promise<void> {
    await this.deps.worktreeReady?.(lane.id); // else the checkout could land after the removal
    await removeWorktree(repoPath, lane.worktreePath, deleteBranch ? { deleteBranch: lane.branch } : {});
    await this.deps.events.append({ laneId: lane.id, repoId: lane.repoId, type: "lane.cleaned_up", payload: { worktreeRemoved: true, branchDeleted: deleteBranch, by } });
  }

  /** The strategy of the repo policy's merge rule for a merge-ready, in-scope lane, if any. */
  #policyStrategy(repoId: string): MergeStrategy | undefined {
    const d = this.deps.policy.store.evaluate(repoId, { event: "lane.merge.ready", requiredGreen: true, withinScope: true, stale: false });
    return d?.action.action === "merge" ? d.action.strategy : undefined;
  }

  async #merged(laneId: string): Promise<boolean> {
    return (await this.deps.db.laneEvent.count({ where: { laneId, type: "lane.merged" } })) > 0;
  }
}

function describe(
  reasons: MergeReadiness["reasons"],
  f: { state: string; level: string; behind: number | null; baseBranch: string; conflicts: string[]; problem?: string },
): string {
  const parts = reasons.map((r) => {
    switch (r) {
      case "live":
        return `the lane is still ${f.state}`;
      case "not_green":
        return `not green at ${f.level} (lane ${f.state})`;
      case "stale":
        return `${f.behind} commit(s) behind ${f.baseBranch}`;
      case "conflict":
        return `conflicts with ${f.baseBranch} in ${f.conflicts.join(", ")}`;
      case "no_branch":
        return "the lane's branch is missing";
      case "problem":
        return f.problem ?? `base branch ${f.baseBranch} is missing`;
    }
  });
  return `not merge-ready: ${parts.join("; ")}`;
}
