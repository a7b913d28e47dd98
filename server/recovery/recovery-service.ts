/**
 * Recovery before escalation (docs/domain.md, Principles), wired into the runtime: a classified failure → its
 * recipe (server/recovery/recovery-recipes.ts) → the repo policy decides (`recover_once` /
 * `escalate`, a `policy.decided` event naming the rule) → exactly one automatic attempt per lane
 * and failure kind (`lane.recovery.attempted`, with what was tried), and if the failure comes
 * back, `lane.escalated` with the evidence: the lane shows as blocked until a human restarts it.
 *
 * Which attempts a lane has used is rebuilt from its events each time (the attempts after the
 * last restart a human asked for), so it survives a server restart and a human restart resets it.
 *
 * Recipes performed here:
 * | recipe | when | action |
 * | --- | --- | --- |
 * | merge-forward | a red check on a branch behind its base | merge the base forward, rerun the checks |
 * | merge-forward-after-main-refactor | compile red on a stale branch | same |
 * | restart-worker | a worker failed within 30 s of starting: an agent (claude, codex, anthropic), or a shell/script worker that printed nothing | restart the lane (same worktree) |
 * | retry-after-backoff | the engine was rate-limited | wait (`backoffMs`, default the recipe's 60 s), restart |
 * | inspect-workspace | a phantom completion (success, nothing changed) | read the worktree again and escalate with what was found; never a second agent run |
 * | requeue-on-another-node | the lane's node was lost (its lease lapsed; docs/scale-out.md) | restart the lane: a live node runs it from its branch |
 *
 * Trust prompt unresolved and prompt misdelivery are raised by interactive engines: they call
 * {@link RecoveryService.onWorkerFailure}, which decides and, for `restart_worker` /
 * `retry_after_backoff`, performs the restart itself unless the caller passes `perform`
 * (needed for `resolve_trust`, which only the engine can do).
 */
import type { LaneEvent, LaneEventType } from "@/lib/lane-events";
import type { LaneState } from "@/lib/lane-state";
import type { FailureLike } from "../checks/classify-failure";
import { engineDefinition } from "../engines/engine-command";
import { RECOVERY_RECIPES, RecoveryLedger, recoveryKeyFor, type RecoveryKey, type RecoveryRecipe } from "./recovery-recipes";
import type { EventBus } from "../events/event-bus";
import { isRemoteEvent, type EventLog } from "../events/event-log";
import type { CheckRun } from "../checks/check-runs";
import type { FreshnessTracker } from "../freshness/freshness";
import { findLane, type LaneRow } from "../records/lane-store";
import type { BranchSync } from "../freshness/branch-sync";
import type { PolicyService } from "../policy/policy-service";
import type { ProcessSupervisor } from "../processes/supervisor";
import type { Db } from "../store/db";
import { inspectWorkspace } from "./inspect-workspace";

/** A classified failure (classifyFailure's verdict, or a git problem as one). */
export type Failure = FailureLike;

export interface RecoveryDeps {
  db: Db;
  events: EventLog;
  policy: PolicyService;
  freshness: FreshnessTracker;
  sync: BranchSync;
  /** Reads a worker's output (whether a shell worker printed anything before it died). */
  supervisor: Pick<ProcessSupervisor, "tail">;
  /** Restarts a lane with the `lane.restart` request (answered by the lane service). */
  bus: EventBus;
  /** Wait before a rate-limited retry, in ms; default the recipe's (60 000). */
  backoffMs?: number;
}

export type RecoveryVerdict = { kind: "attempt"; recipe: RecoveryRecipe } | { kind: "escalate" } | { kind: "none" };

/** Who a restart is attributed to when recovery does it; a restart by anyone else resets the ledger. */
export const RECOVERY_ACTOR = "recovery";

export class RecoveryService {
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;
  /** Wait before a rate-limited retry, in ms (undefined: the recipe's 60 s). Tunable at runtime, e.g. by tests. */
  backoffMs: number | undefined;

  constructor(private readonly deps: RecoveryDeps) {
    this.backoffMs = deps.backoffMs;
  }

  /** Cancel pending backoffs and wait for recoveries in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#inflight]);
  }

  readonly #inflight = new Set<Promise<unknown>>();

  #track(p: Promise<unknown>): void {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /**
   * Decide about a failure: look up its recipe, ask the policy, and on `recover_once` record the
   * attempt (`lane.recovery.attempted`) — the caller then performs it; on `escalate` emit
   * `lane.escalated`. Never throws.
   */
  async decide(
    lane: Pick<LaneRow, "id" | "repoId" | "state">,
    failure: Failure,
    ctx: { trigger: LaneEventType; role: "worker" | "check"; stale?: boolean; uptimeMs?: number | null; checkLevel?: CheckRun["level"]; detail?: string },
  ): Promise<RecoveryVerdict> {
    const { ledger, thisAttempt } = await this.#ledger(lane.id);
    // A check still red after its merge-forward recipe "came back", even though the branch is
    // no longer stale (so no recipe matches any more): it is the same failure, now the lane's own.
    const key =
      recoveryKeyFor({ classification: failure, role: ctx.role, stale: ctx.stale ?? false, workerUptimeMs: ctx.uptimeMs ?? null }) ??
      (ctx.role === "check" ? (thisAttempt.find((k) => RECOVERY_RECIPES[k].rerunChecks) ?? null) : null);
    const used = key ? !ledger.shouldAttempt(lane.id, key) : false;
    const decision = await this.deps.policy.decide(lane, ctx.trigger, {
      state: lane.state as LaneState,
      failureClass: failure.failureClass,
      stale: ctx.stale,
      recoverable: key !== null,
      recoveryAttempted: used,
      checkLevel: ctx.checkLevel,
    });
    const action = decision?.action.action;
    if (action === "recover_once" && key && !used) {
      const recipe = RECOVERY_RECIPES[key];
      const { event } = ledger.decide(lane.id, key, failure) as Extract<ReturnType<RecoveryLedger["decide"]>, { kind: "attempt" }>;
      await this.deps.events.append({
        ...event,
        repoId: lane.repoId,
        payload: { ...event.payload, key, action: recipe.action, steps: [...recipe.steps], detail: ctx.detail ?? failure.summary },
      });
      return { kind: "attempt", recipe };
    }
    if (action === "escalate" || (action === "recover_once" && (!key || used))) {
      await this.escalate(lane, failure, key ? RECOVERY_RECIPES[key] : null, used);
      return { kind: "escalate" };
    }
    return { kind: "none" };
  }

  /** Emit `lane.escalated` with the evidence (the lane is then blocked until a human restarts it). */
  async escalate(lane: Pick<LaneRow, "id" | "repoId">, failure: Failure, recipe: RecoveryRecipe | null, afterAttempt: boolean): Promise<void> {
    const reason =
      recipe && afterAttempt
        ? `${failure.summary} — came back after the automatic "${recipe.recipe}" (${recipe.steps.join("; ")})`
        : `${failure.summary} — no automatic recovery for ${failure.failureClass}/${failure.reason}; a human must act`;
    await this.deps.events.append({
      type: "lane.escalated",
      laneId: lane.id,
      repoId: lane.repoId,
      payload: { reason, failureClass: failure.failureClass, evidence: failure.evidence, recipe: recipe?.recipe ?? null, failureReason: failure.reason },
    });
  }

  /**
   * A check is red (the lane is still `checking`): run its recipe once if there is one and the
   * policy agrees. @returns `rerun` when the branch was merged forward and the checks should run
   * again, else `settle`.
   */
  async onCheckRed(lane: LaneRow, run: CheckRun, failure: Failure): Promise<"rerun" | "settle"> {
    const verdict = await this.decide(lane, failure, { trigger: "lane.red", role: "check", stale: run.stale, checkLevel: run.level });
    if (verdict.kind !== "attempt") return "settle";
    if (verdict.recipe.action !== "merge_forward") return "settle";
    const synced = await this.deps.sync.sync(lane, "merge", verdict.recipe.recipe);
    if (synced.ok) return "rerun";
    // The recipe itself failed (e.g. a conflict): that is the failure now, and a human's.
    await this.escalate(lane, { failureClass: synced.problem.failureClass, reason: synced.problem.problem, summary: synced.problem.message, evidence: synced.problem.evidence }, verdict.recipe, true);
    return "settle";
  }

  /**
   * Bus listener for lane events: a worker's `lane.failed` goes to its recipe. Only events this
   * node appended: with several nodes every node sees every event, and one decides. Never throws.
   */
  handleEvent = (event: LaneEvent): void => {
    if (event.type !== "lane.failed" || event.payload.role !== "worker" || !event.laneId || isRemoteEvent(event)) return;
    const { failureClass, failureReason, summary, evidence, reason } = event.payload;
    const failure: Failure = { failureClass, reason: failureReason ?? "worker_failed", summary: summary ?? reason, evidence: evidence ?? [] };
    this.#track(this.#onWorkerFailed(event.laneId, failure).catch((err) => console.error(`[recovery] ${event.laneId}:`, err instanceof Error ? err.message : err)));
  };

  async #onWorkerFailed(laneId: string, failure: Failure): Promise<void> {
    if (this.#stopped) return;
    const lane = await findLane(this.deps.db, laneId);
    // A lane lost with its node ends `lost`, not `failed`; its recipe queues it again.
    if (!lane || !(lane.state === "failed" || (lane.state === "lost" && failure.reason === "node_lost"))) return;
    const proc = await this.deps.db.process.findFirst({ where: { laneId, role: "worker" }, orderBy: { createdAt: "desc" }, select: { id: true, startedAt: true, endedAt: true } });
    // "Crashed at startup": an agent (whose boot errors are output) that failed to boot, or a shell/script worker that died
    // without printing a line. A shell worker that printed output ran and reported its own
    // result with its exit code; rerunning a command with side effects is not a safe default.
    const booted = proc && !engineDefinition(lane.engine)?.agent ? (await this.deps.supervisor.tail(proc.id, 1).catch(() => [])).length > 0 : false;
    const uptimeMs = proc?.startedAt && !booted ? (proc.endedAt ?? new Date()).getTime() - proc.startedAt.getTime() : null;
    const stale = failure.failureClass === "compile" ? ((await this.deps.freshness.refresh(laneId, "after_failure"))?.stale ?? false) : false;
    const verdict = await this.decide(lane, failure, { trigger: "lane.failed", role: "worker", stale, uptimeMs });
    if (verdict.kind === "attempt") await this.#perform(lane, verdict.recipe, failure);
  }

  /**
   * For interactive engines: a worker is blocked by `failure` (a trust prompt nobody
   * answered: class `trust_gate`; a prompt that landed in a shell: `prompt_delivery`; …).
   * Decides with the repo policy (trigger `lane.blocked`) and records the attempt or escalates.
   * With `perform`, the caller carries the attempt out (e.g. answers the trust prompt); without
   * it, `restart_worker` and `retry_after_backoff` are performed here (the lane must have
   * settled: they restart it), and other actions are left undone.
   *
   * @returns what was decided; never throws.
   */
  async onWorkerFailure(laneId: string, failure: Failure, opts: { perform?: (recipe: RecoveryRecipe) => Promise<void> } = {}): Promise<RecoveryVerdict> {
    const lane = await findLane(this.deps.db, laneId);
    if (!lane) return { kind: "none" };
    const verdict = await this.decide(lane, failure, { trigger: "lane.blocked", role: "worker" }).catch(() => ({ kind: "none" }) as const);
    if (verdict.kind === "attempt") {
      if (opts.perform) await opts.perform(verdict.recipe).catch((err) => console.error(`[recovery] perform ${verdict.recipe.recipe} failed:`, err));
      else await this.#perform(lane, verdict.recipe, failure);
    }
    return verdict;
  }

  async #perform(lane: LaneRow, recipe: RecoveryRecipe, failure: Failure): Promise<void> {
    const restart = () => this.deps.bus.request("lane.restart", { laneId: lane.id, by: RECOVERY_ACTOR }).catch((err) => console.error(`[recovery] restart of ${lane.id} failed:`, err instanceof Error ? err.message : err));
    if (recipe.action === "merge_forward") {
      const synced = await this.deps.sync.sync(lane, "merge", recipe.recipe);
      if (synced.ok) await restart();
      else await this.escalate(lane, { failureClass: synced.problem.failureClass, reason: synced.problem.problem, summary: synced.problem.message, evidence: synced.problem.evidence }, recipe, true);
    } else if (recipe.action === "restart_worker") {
      await restart();
    } else if (recipe.action === "inspect_workspace") {
      const found = await inspectWorkspace(this.deps.db, lane);
      await this.deps.events.append({
        type: "lane.escalated",
        laneId: lane.id,
        repoId: lane.repoId,
        payload: { reason: `${failure.summary} — "${recipe.recipe}": ${found.finding}; no second agent run, a person must decide`, failureClass: failure.failureClass, evidence: found.evidence, recipe: recipe.recipe, failureReason: failure.reason },
      });
    } else if (recipe.action === "retry_after_backoff") {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.#stopped) void restart();
      }, this.backoffMs ?? recipe.delayMs ?? 60_000);
      timer.unref();
      this.#timers.add(timer);
    }
  }

  /**
   * The lane's attempts since the last restart a human (not recovery) asked for, and the keys
   * attempted during the lane's current run (since its last `lane.started`).
   */
  async #ledger(laneId: string): Promise<{ ledger: RecoveryLedger; thisAttempt: RecoveryKey[] }> {
    const rows = await this.deps.db.laneEvent.findMany({
      where: { laneId, type: { in: ["lane.recovery.attempted", "lane.restarted", "lane.started"] } },
      orderBy: { id: "asc" },
      select: { type: true, laneId: true, at: true, payload: true },
    });
    const events = rows.map((r) => ({ type: r.type, laneId: r.laneId, at: r.at.toISOString(), payload: JSON.parse(r.payload) as { by?: string } }));
    const lastHuman = events.findLastIndex((e) => e.type === "lane.restarted" && e.payload.by !== RECOVERY_ACTOR);
    const ledger = RecoveryLedger.fromEvents(events.slice(lastHuman + 1));
    const lastStart = events.findLastIndex((e) => e.type === "lane.started");
    const thisAttempt = RecoveryLedger.fromEvents(events.slice(Math.max(lastStart, lastHuman) + 1)).attemptsOf(laneId).map((a) => a.key);
    return { ledger, thisAttempt };
  }
}
