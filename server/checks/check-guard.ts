/**
 * The {@link CheckHooks} of the check runner: branch freshness before blame, around a lane's
 * acceptance checks (docs/domain.md, Principles: branch freshness before blame, recovery before escalation).
 *
 * - Before each check: the lane's freshness is computed now. A worktree that is gone, not a
 *   worktree, or not on the lane's branch fails the lane at once (`workspace_mismatch`), since
 *   the check would test something else. Before a `workspace` or `merge_ready` check a stale
 *   lane gets `branch.stale_against_main` and the repo policy decides (default rule
 *   `stale-merge-forward-before-checks`): merge the base forward (or rebase) first, so a red
 *   result is the lane's own. A merge-forward that conflicts fails the lane (`branch_divergence`)
 *   and the policy escalates it.
 * - After a red check: the recovery service (recipes once, then escalate).
 * - After all checks are green: if the lane is green at its required level but fell behind
 *   meanwhile, the policy (default `green-but-stale-merge-forward`) merges forward and the checks
 *   run again; at most {@link MAX_ROUNDS} rounds.
 * - After the lane finished: merge readiness (server/merge/merge-service.ts).
 */
import type { LaneFreshness } from "@/lib/api";
import type { LaneState } from "@/lib/lane-state";
import type { AcceptanceCheck, GreenLevel, TaskPacket } from "@/lib/task-packet";
import type { LaneEventType } from "@/lib/lane-events";
import type { FailureClassification, FailureLike } from "./classify-failure";
import type { EventLog } from "../events/event-log";
import type { BeforeCheckVerdict, CheckHooks } from "./check-runner";
import { currentRound, greenLevels, parseCheckRuns, type CheckRun } from "./check-runs";
import type { FreshnessTracker } from "../freshness/freshness";
import type { LaneRow } from "../records/lane-store";
import type { BranchSync, SyncMethod } from "../freshness/branch-sync";
import type { PolicyService } from "../policy/policy-service";

/**
 * What the guard asks of recovery (server/recovery RecoveryService). Declared here, not imported:
 * recovery reads check runs, so checks must not depend on it.
 */
export interface CheckRecovery {
  decide(
    lane: Pick<LaneRow, "id" | "repoId" | "state">,
    failure: FailureLike,
    ctx: { trigger: LaneEventType; role: "worker" | "check"; stale?: boolean; checkLevel?: GreenLevel },
  ): Promise<unknown>;
  onCheckRed(lane: LaneRow, run: CheckRun, failure: FailureLike): Promise<"rerun" | "settle">;
}

/** What the guard asks of merging (server/merge MergeService); declared here for the same reason. */
export interface CheckMerge {
  withinScope(lane: LaneRow, packet: TaskPacket): Promise<boolean | undefined>;
  /** Evaluate merge readiness in the background; never throws. */
  evaluateLater(laneId: string): void;
}

export interface CheckGuardDeps {
  events: EventLog;
  freshness: FreshnessTracker;
  policy: PolicyService;
  sync: BranchSync;
  recovery: CheckRecovery;
  merge: CheckMerge;
}

/** Levels before which a stale branch is brought up to date (docs/domain.md, "Green levels"). */
export const BROAD_LEVELS: readonly GreenLevel[] = ["workspace", "merge_ready"];

/** Most check rounds per lane attempt (a base that keeps moving must not loop forever). */
export const MAX_ROUNDS = 5;

export class CheckGuard implements CheckHooks {
  constructor(private readonly deps: CheckGuardDeps) {}

  async beforeCheck(lane: LaneRow, check: AcceptanceCheck): Promise<BeforeCheckVerdict> {
    const f = await this.deps.freshness.assess(lane.id, "before_check");
    if (f.worktree !== "ok" && f.problem) {
      return { kind: "fail", classification: { failureClass: f.problem.failureClass, reason: f.problem.problem, summary: f.problem.message, evidence: [f.problem.message] } };
    }
    if (!BROAD_LEVELS.includes(check.level)) return { kind: "run", stale: f.stale };
    if (f.problem && !f.baseHead) {
      // Cannot tell whether the branch is stale, so a broad red could not be blamed on the lane.
      return { kind: "fail", classification: { failureClass: f.problem.failureClass, reason: f.problem.problem, summary: f.problem.message, evidence: [f.problem.message] } };
    }
    if (f.stale) await this.#announceStale(lane, f, "before_check");
    const decision = await this.deps.policy.decide(lane, "check.started", { state: lane.state as LaneState, checkLevel: check.level, stale: f.stale });
    const method = syncMethod(decision?.action.action);
    if (!f.stale || !method || !decision) return { kind: "run", stale: f.stale };
    const synced = await this.deps.sync.sync(lane, method, decision.ruleId);
    if (synced.ok) return { kind: "run", stale: false };
    const failure = { failureClass: synced.problem.failureClass, reason: synced.problem.problem, summary: synced.problem.message, evidence: synced.problem.evidence };
    await this.deps.recovery.decide(lane, failure, { trigger: "check.started", role: "check", stale: true, checkLevel: check.level });
    return { kind: "fail", classification: failure };
  }

  async staleNow(lane: LaneRow): Promise<boolean | undefined> {
    const f = await this.deps.freshness.assess(lane.id, "after_red");
    return f.baseHead ? f.stale : undefined;
  }

  afterRed(lane: LaneRow, run: CheckRun, classification: FailureClassification): Promise<"rerun" | "settle"> {
    if (currentRound(parseCheckRuns(lane.checks)) + 1 >= MAX_ROUNDS) return Promise.resolve("settle");
    return this.deps.recovery.onCheckRed(lane, run, classification);
  }

  async afterGreen(lane: LaneRow): Promise<"rerun" | "settle"> {
    const runs = parseCheckRuns(lane.checks);
    if (currentRound(runs) + 1 >= MAX_ROUNDS) return "settle";
    const packet = lane.packet;
    const green = greenLevels(runs);
    const requiredGreen = green.includes(packet.merge?.requiredLevel ?? "merge_ready");
    const f = await this.deps.freshness.assess(lane.id, "after_green");
    if (!f.stale) return "settle"; // the only green-time decision is about a stale branch
    const decision = await this.deps.policy.decide(lane, "lane.green", {
      state: lane.state as LaneState,
      green,
      requiredGreen,
      stale: f.stale,
      withinScope: await this.deps.merge.withinScope(lane, packet).catch(() => undefined),
    });
    const method = syncMethod(decision?.action.action);
    if (!method || !decision) return "settle";
    await this.#announceStale(lane, f, "after_green");
    const synced = await this.deps.sync.sync(lane, method, decision.ruleId);
    return synced.ok ? "rerun" : "settle"; // a conflict shows up again in merge readiness
  }

  afterFinished(laneId: string): void {
    this.deps.merge.evaluateLater(laneId);
  }

  async #announceStale(lane: LaneRow, f: LaneFreshness, trigger: string): Promise<void> {
    await this.deps.events.append({
      type: "branch.stale_against_main",
      laneId: lane.id,
      repoId: lane.repoId,
      payload: {
        ahead: f.ahead ?? 0,
        behind: f.behind ?? 0,
        baseBranch: lane.baseBranch,
        baseSha: lane.baseSha,
        ...(f.baseHead ? { baseHead: f.baseHead } : {}),
        ...(f.baseMoved !== null ? { baseMoved: f.baseMoved } : {}),
        missing: f.missing.slice(0, 20),
        trigger,
      },
    });
  }
}

function syncMethod(action: string | undefined): SyncMethod | null {
  return action === "merge_forward" ? "merge" : action === "rebase" ? "rebase" : null;
}
