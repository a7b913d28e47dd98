/**
 * Runs a lane's acceptance checks one after another as supervised `check` processes in its
 * worktree, records each run (level, command, exit code, duration, and the pass/fail/skip counts
 * read from its output), emits `lane.green` / `lane.red` per run, and settles the lane when the
 * last check ends or one is red. A check longer than its `timeoutMs` has its process group killed
 * and is red with class `infra` (reason `timed_out`).
 *
 * Around the runs, {@link CheckHooks} (./check-guard.ts) bring in branch
 * freshness and policy: before a check (stale before blame: merge the base forward before broad
 * checks), after a red one (classify, recover once or escalate), after all are green (merge
 * forward if stale, else finish) and after the lane finished (merge readiness). A hook that
 * returns `rerun` starts the checks again from the first, as a new round.
 */
import type { FailureClass } from "@/lib/lane-state";
import type { AcceptanceCheck, TaskPacket } from "@/lib/task-packet";
import { isAppError } from "@/lib/errors";
import { classifyFailure, type FailureClassification, type FailureLike } from "./classify-failure";
import { summarizeTestOutput } from "./test-summary";
import type { ProcessExit } from "../events/event-bus";
import type { ProcessSupervisor } from "../processes/supervisor";
import { currentRound, parseCheckRuns, type CheckRun } from "./check-runs";
import { findLane, updateLane, type LaneDeps, type LaneRow } from "../records/lane-store";
import { appendAfterWrite } from "../events/append-after-write";
import type { NewLaneEvent } from "@/lib/lane-events";

/** Extra fields of `lane.failed` describing the failure (lib/lane-events.ts). */
export interface FailureDetails {
  failureReason?: string;
  summary?: string;
  evidence?: string[];
  role?: "worker" | "check";
}

/** What a hook found before a check: run it, or fail the lane without running it. */
export type BeforeCheckVerdict =
  | { kind: "run"; stale: boolean | undefined }
  | { kind: "fail"; classification: FailureLike };

export interface CheckHooks {
  /** Before check `index` starts (freshness, workspace sanity, merge-forward per policy). */
  beforeCheck(lane: LaneRow, check: AcceptanceCheck, index: number): Promise<BeforeCheckVerdict>;
  /** Whether the lane's branch is behind its base now (for a red check's payload and its recovery). */
  staleNow(lane: LaneRow): Promise<boolean | undefined>;
  /** A check is red: recover once (`rerun`) or give up (`settle`; escalation is the hook's job). */
  afterRed(lane: LaneRow, run: CheckRun, classification: FailureClassification): Promise<"rerun" | "settle">;
  /** Every check is green: `rerun` after bringing a stale branch up to date, else `settle`. */
  afterGreen(lane: LaneRow): Promise<"rerun" | "settle">;
  /** The lane settled `finished` after green checks (merge readiness, auto-merge). Must not throw. */
  afterFinished(laneId: string): void;
}

export interface CheckRunnerDeps extends LaneDeps {
  supervisor: ProcessSupervisor;
  settle: (
    lane: LaneRow,
    to: "finished" | "failed" | "killed" | "lost",
    exit: { exitCode: number | null; signal: string | null },
    failureClass?: FailureClass,
    reason?: string,
    details?: FailureDetails,
  ) => Promise<void>;
  /** Freshness, recovery and policy around the checks (./check-guard.ts, in a check slot: ./check-slots.ts). */
  checkHooks: CheckHooks;
}

/** Lines of a check's output read back for counts and classification. */
const OUTPUT_TAIL_LINES = 5000;

export class CheckRunner {
  /** Check processes killed at their deadline (→ `timed_out`), with the limit in ms. */
  readonly #timedOut = new Map<string, number>();

  constructor(private readonly deps: CheckRunnerDeps) {}

  /**
   * Start check `index` of the packet for a lane in state `checking`, in round `round` (default:
   * the current one). Never throws for a check that cannot start: it is red.
   */
  async start(lane: LaneRow, packet: TaskPacket, index: number, round?: number): Promise<void> {
    const { db, supervisor, checkHooks } = this.deps;
    const check = packet.acceptance[index]!;
    const verdict = await checkHooks.beforeCheck(lane, check, index).catch(() => ({ kind: "run" as const, stale: undefined }));
    const fresh = await findLane(db, lane.id);
    if (!fresh || fresh.state !== "checking") return; // killed while the hook ran
    const runs = parseCheckRuns(fresh.checks);
    const run: CheckRun = {
      index,
      level: check.level,
      argv: check.argv,
      status: "running",
      processId: null,
      exitCode: null,
      durationMs: null,
      startedAt: new Date().toISOString(),
      endedAt: null,
      round: round ?? currentRound(runs),
      ...(verdict.kind === "run" && verdict.stale !== undefined ? { stale: verdict.stale } : {}),
    };
    if (verdict.kind === "fail") {
      const c = verdict.classification;
      Object.assign(run, { status: "red", endedAt: run.startedAt, durationMs: 0, failure: { failureClass: c.failureClass, reason: c.reason, summary: c.summary, evidence: c.evidence } });
      const updated = await updateLane(db, lane.id, { checks: JSON.stringify([...runs, run]) });
      return this.deps.settle(updated, "failed", { exitCode: null, signal: null }, c.failureClass, `check ${check.argv.join(" ")} not run: ${c.summary}`, {
        failureReason: c.reason,
        summary: c.summary,
        evidence: c.evidence,
        role: "check",
      });
    }
    try {
      const proc = await supervisor.start({ laneId: lane.id, role: "check", argv: check.argv, cwd: lane.worktreePath, confineTo: lane.worktreePath });
      run.processId = proc.id;
      await updateLane(db, lane.id, { checks: JSON.stringify([...runs, run]) });
      await this.#announce({ type: "check.started", laneId: lane.id, repoId: lane.repoId, payload: { processId: proc.id, level: check.level, command: check.argv } });
      const timer = setTimeout(() => {
        this.#timedOut.set(proc.id, check.timeoutMs);
        void supervisor.kill(proc.id).catch(() => undefined);
      }, check.timeoutMs);
      timer.unref();
      void supervisor.waitForExit(proc.id).finally(() => clearTimeout(timer)).catch(() => undefined);
    } catch (err) {
      const reason = isAppError(err) ? err.message : String(err);
      const failure = { failureClass: "infra" as const, reason: "check_failed", summary: `check could not start: ${reason}`, evidence: [reason] };
      Object.assign(run, { status: "red", endedAt: new Date().toISOString(), failure });
      const updated = await updateLane(db, lane.id, { checks: JSON.stringify([...runs, run]) });
      await this.#announce({
        type: "lane.red",
        laneId: lane.id,
        repoId: lane.repoId,
        payload: { level: check.level, command: check.argv, exitCode: null, durationMs: 0, failureClass: "infra", failureReason: failure.reason, summary: failure.summary, evidence: failure.evidence },
      });
      await this.deps.settle(updated, "failed", { exitCode: null, signal: null }, "infra", failure.summary, { ...failure, failureReason: failure.reason, role: "check" });
    }
  }

  async onCheckExit(lane: LaneRow, exit: ProcessExit): Promise<void> {
    const { db, checkHooks } = this.deps;
    if (lane.state !== "checking") return;
    const runs = parseCheckRuns(lane.checks);
    const run = runs.find((r) => r.processId === exit.processId);
    if (!run || run.status !== "running") return;
    const green = exit.status === "exited" && exit.exitCode === 0;
    const output = await this.#output(exit.processId);
    const tests = summarizeTestOutput(output);
    run.status = green ? "green" : "red";
    run.exitCode = exit.exitCode;
    run.endedAt = new Date().toISOString();
    run.durationMs = Date.parse(run.endedAt) - Date.parse(run.startedAt);
    run.tests = tests;
    const packet = lane.packet;
    const base = { laneId: lane.id, repoId: lane.repoId };
    if (green) {
      const updated = await updateLane(db, lane.id, { checks: JSON.stringify(runs) });
      await this.#announce({ ...base, type: "lane.green", payload: { level: run.level, command: run.argv, durationMs: run.durationMs, tests } });
      if (run.index + 1 < packet.acceptance.length) return this.start(updated, packet, run.index + 1, run.round);
      if ((await checkHooks.afterGreen(updated).catch(() => "settle" as const)) === "rerun") return this.#rerun(lane.id);
      await this.deps.settle(updated, "finished", exit);
      checkHooks.afterFinished(lane.id);
      return;
    }
    const timeoutMs = this.#timedOut.get(exit.processId);
    this.#timedOut.delete(exit.processId);
    const classification = classifyFailure({
      exitCode: exit.exitCode,
      signal: exit.signal,
      output,
      role: "check",
      command: run.argv,
      killRequested: exit.status === "killed",
      oomKilled: exit.oomKilled ?? null,
      timedOut: timeoutMs !== undefined,
      timeoutMs,
    });
    const stale = run.stale ?? (await checkHooks.staleNow(lane).catch(() => undefined));
    run.failure = { failureClass: classification.failureClass, reason: classification.reason, summary: classification.summary, evidence: classification.evidence };
    if (timeoutMs !== undefined) run.timedOut = true;
    if (stale !== undefined) run.stale = stale;
    const updated = await updateLane(db, lane.id, { checks: JSON.stringify(runs) });
    await this.#announce({
      ...base,
      type: "lane.red",
      payload: {
        level: run.level,
        command: run.argv,
        exitCode: exit.exitCode,
        durationMs: run.durationMs,
        failureClass: classification.failureClass,
        failureReason: classification.reason,
        summary: classification.summary,
        evidence: classification.evidence,
        tests,
        ...(stale !== undefined ? { stale } : {}),
        ...(timeoutMs !== undefined ? { timedOut: true } : {}),
      },
    });
    if ((await checkHooks.afterRed(updated, run, classification).catch(() => "settle" as const)) === "rerun") return this.#rerun(lane.id);
    return this.deps.settle(updated, "failed", exit, classification.failureClass, `check ${run.argv.join(" ")} is red: ${classification.summary}`, {
      failureReason: classification.reason,
      summary: classification.summary,
      evidence: classification.evidence,
      role: "check",
    });
  }

  /**
   * Append the event that says what a check run just recorded in the lane's `checks`: kept by the
   * supervisor's outbox while storage refuses it (server/events/append-after-write.ts), so a
   * full disk does not stop a check's exit from settling its lane once there is room.
   */
  async #announce(event: NewLaneEvent): Promise<void> {
    await appendAfterWrite(this.deps, `${event.type} event of lane ${event.laneId}`, [event]);
  }

  /** Start the packet's checks again from the first, as a new round (the lane stays `checking`). */
  async #rerun(laneId: string): Promise<void> {
    const lane = await findLane(this.deps.db, laneId);
    if (!lane || lane.state !== "checking") return;
    return this.start(lane, lane.packet, 0, currentRound(parseCheckRuns(lane.checks)) + 1);
  }

  /** The check's output, both streams in time order, at most {@link OUTPUT_TAIL_LINES} lines. */
  async #output(processId: string): Promise<string> {
    const lines = await this.deps.supervisor.tail(processId, OUTPUT_TAIL_LINES).catch(() => []);
    return lines.map((l) => l.text).join("\n");
  }
}
