/**
 * The lane summary as a pure fold over a lane's events (docs/domain.md, "Lane summary"): {@link reduceSummary}
 * folds one event into a {@link SummaryState}; {@link renderSummary} turns the state into the
 * four facts of `LaneSummary` (lib/lane-summary.ts). Pure, so the same code serves a fold over
 * the stored history and the incremental update on each new event.
 *
 * Rules, all grounded in one event each:
 * - phase: from the last `lane.state_changed` and `worker.state_changed` (worker states map to
 *   booting / awaiting_trust / blocked / ready / working);
 * - last checkpoint: the newest of `lane.ready`, `trust_resolved`, `lane.commit.created`,
 *   `lane.green`, `lane.finished`, `lane.pr.opened`, `lane.merge.ready`;
 * - blocker: the newest of the events {@link blockerOf} recognises, cleared when the lane starts
 *   a new attempt, when trust is resolved (a trust blocker), when the worker works again (a
 *   dialog or misdelivery), or when the level turns green (a red check); a branch behind its
 *   base is the blocker when nothing else is;
 * - next action: from the phase and the blocker's failure class and reason; once the lane is
 *   escalated (`lane.escalated`, until a restart or a merge, as `LaneView.blocked`), never an
 *   automatic action (`restart_worker`, `merge_forward`): `ask_human`.
 */
import type { LaneEvent } from "@/lib/lane-events";
import type { FailureClass, LaneState, WorkerState } from "@/lib/lane-state";
import type { LanePhase, LaneSummary, NextAction } from "@/lib/lane-summary";

export interface SummaryState {
  laneId: string;
  laneState: LaneState;
  workerState: WorkerState | null;
  attempt: number;
  lastCheckpoint: LaneSummary["lastCheckpoint"];
  blocker: LaneSummary["blocker"];
  /** Set by `branch.stale_against_main`, cleared when the branch is no longer behind. */
  stale: { behind: number; baseBranch: string; eventId: number; at: string } | null;
  /** Last tool the agent ran, while working. */
  activity: string | null;
  checkingLevel: string | null;
  /** From `lane.stalled`, cleared by any later event of the lane. */
  stalled: LaneSummary["stalled"];
  /** The newest `lane.escalated` since the last restart or merge (automatic recovery gave up). */
  escalated: { eventId: number; at: string } | null;
  eventId: number;
}

export function initialSummary(laneId: string): SummaryState {
  return { laneId, laneState: "queued", workerState: null, attempt: 0, lastCheckpoint: null, blocker: null, stale: null, activity: null, checkingLevel: null, stalled: null, escalated: null, eventId: 0 };
}

const short = (sha: string) => sha.slice(0, 7);

/** A failure as an event reports it: class, finer reason key when known, one-line reason. */
export interface ReportedFailure {
  failureClass: FailureClass | null;
  failureReason: string | null;
  reason: string;
}

/** The failure an event reports, if it is one (also used for "last error"). */
export function blockerOf(e: LaneEvent): ReportedFailure | null {
  const of = (failureClass: FailureClass | null, reason: string, failureReason: string | null = null) => ({ failureClass, failureReason, reason });
  switch (e.type) {
    case "lane.failed":
      return of(e.payload.failureClass, e.payload.reason, e.payload.failureReason);
    case "lane.red":
      return of(e.payload.failureClass, `${e.payload.level} check red: ${e.payload.command.join(" ")} (exit ${e.payload.exitCode ?? "none"})`, e.payload.failureReason);
    case "lane.blocked":
      return of(e.payload.failureClass ?? null, e.payload.reason);
    case "lane.escalated":
      return of(e.payload.failureClass, e.payload.reason, e.payload.failureReason);
    case "branch.workspace_mismatch":
      return of("workspace_mismatch", `${e.payload.source ?? "worker"} outside the worktree: ${e.payload.actual}`);
    case "lane.prompt_misdelivery":
      return of("prompt_delivery", `prompt misdelivered: ${e.payload.evidence}`);
    case "lane.phantom_completion":
      return of("tool_runtime", "the worker reported success but changed nothing against the base", "phantom_completion");
    case "trust_required":
      return of("trust_gate", `folder trust prompt for ${e.payload.path}`);
    default:
      return null;
  }
}

/** Fold one event (ids must increase; older ids are ignored). */
export function reduceSummary(s: SummaryState, e: LaneEvent): SummaryState {
  if (e.id <= s.eventId) return s;
  const next: SummaryState = { ...s, eventId: e.id };
  const ref = { eventId: e.id, at: e.at };
  const found = blockerOf(e);
  if (found) next.blocker = { ...found, ...ref };
  // Anything that happens ends a stall (the detector also says so with lane.stall_ended).
  if (e.type === "lane.stalled") next.stalled = { since: e.payload.since, idleMs: e.payload.idleMs, ...ref };
  else next.stalled = null;
  switch (e.type) {
    case "lane.state_changed":
      next.laneState = e.payload.to;
      if (e.payload.to !== "checking") next.checkingLevel = null;
      break;
    case "lane.started":
      next.attempt = e.payload.attempt;
      next.blocker = null;
      next.activity = null;
      break;
    case "lane.restarted":
      next.blocker = null;
      next.escalated = null;
      break;
    case "lane.escalated":
      next.escalated = ref;
      break;
    case "lane.merged":
      next.escalated = null;
      break;
    case "worker.state_changed":
      next.workerState = e.payload.to;
      if ((e.payload.to === "running" || e.payload.to === "ready_for_prompt") && (s.blocker?.failureClass === "prompt_delivery" || s.blocker?.failureClass === "trust_gate" || s.blocker?.failureClass === null)) next.blocker = null;
      break;
    case "trust_resolved":
      if (s.blocker?.failureClass === "trust_gate") next.blocker = null;
      next.lastCheckpoint = { kind: "trust_resolved", label: `trust resolved by ${e.payload.by}`, ...ref };
      break;
    case "worker.activity":
      if (e.payload.kind === "tool_use") next.activity = `${e.payload.name ?? "tool"}${e.payload.detail ? `: ${e.payload.detail}` : ""}`;
      break;
    case "check.started":
      next.checkingLevel = e.payload.level;
      break;
    case "lane.ready":
      next.lastCheckpoint = { kind: "worker_ready", label: `worker ready (attempt ${next.attempt || 1})`, ...ref };
      break;
    case "lane.commit.created":
      next.lastCheckpoint = { kind: "commit", label: `commit ${short(e.payload.sha)} ${e.payload.subject}`, ...ref };
      break;
    case "lane.green":
      next.lastCheckpoint = { kind: "green", label: `${e.payload.level} green: ${e.payload.command.join(" ")}`, ...ref };
      if (s.blocker?.failureClass === "test" || s.blocker?.failureClass === "compile") next.blocker = null;
      break;
    case "lane.finished":
      next.lastCheckpoint = { kind: "finished", label: "worker finished", ...ref };
      break;
    case "lane.pr.opened":
      next.lastCheckpoint = { kind: "pr_opened", label: `PR opened: ${e.payload.url}`, ...ref };
      break;
    case "lane.merge.ready":
      next.lastCheckpoint = { kind: "merge_ready", label: `merge ready at ${short(e.payload.sha)}`, ...ref };
      break;
    case "branch.stale_against_main":
      next.stale = { behind: e.payload.behind, baseBranch: e.payload.baseBranch, ...ref };
      break;
    case "branch.freshness":
      if (e.payload.behind === 0) next.stale = null;
      else if (s.stale) next.stale = { ...s.stale, behind: e.payload.behind };
      break;
  }
  return next;
}

function phaseOf(s: SummaryState): LanePhase {
  switch (s.laneState) {
    case "queued":
      return "queued";
    case "starting":
      return "booting";
    case "checking":
      return "checking";
    case "running":
      switch (s.workerState) {
        case "trust_required":
          return "awaiting_trust";
        case "blocked":
          return "blocked";
        case "ready_for_prompt":
          return "ready";
        case "prompt_accepted":
        case "running":
        case "finished":
        case "failed":
          return "working";
        default:
          return "booting";
      }
    default:
      return s.laneState;
  }
}

function nextActionOf(phase: LanePhase, s: SummaryState, blocker: LaneSummary["blocker"]): { action: NextAction; label: string } {
  const next = baseNextAction(phase, s, blocker);
  // Recovery already tried (or has no recipe) and handed the lane to a person: an automatic
  // action now would repeat what failed.
  if (s.escalated && (next.action === "restart_worker" || next.action === "merge_forward")) {
    return { action: "ask_human", label: `automatic recovery gave up (event ${s.escalated.eventId}): a person must decide before it is restarted` };
  }
  return next;
}

function baseNextAction(phase: LanePhase, s: SummaryState, blocker: LaneSummary["blocker"]): { action: NextAction; label: string } {
  const act = (action: NextAction, label: string) => ({ action, label });
  const stalled = () => (s.stalled ? act("inspect_stall", `no output and no event since ${s.stalled.since}: read the output; kill and restart the lane if it is stuck`) : null);
  const credentials = () => act("fix_credentials", "the model API rejected the engine's key (401/403): fix the key in the server's environment, then restart");
  switch (phase) {
    case "queued":
      return act("wait", "wait for a worker slot");
    case "booting":
      return stalled() ?? act("wait", "wait for the worker to be ready");
    case "working":
      return stalled() ?? act("wait", "wait for the worker to finish");
    case "checking":
      return stalled() ?? act("wait", "wait for the acceptance checks");
    case "awaiting_trust":
      return act("resolve_trust", "resolve the folder-trust prompt or allowlist the repo");
    case "blocked":
      if (blocker?.failureClass === "provider_auth") return credentials();
      return act("answer_dialog", `answer the agent's dialog: ${blocker?.reason ?? "see the log"}`);
    case "ready":
      return act("send_prompt", "send the agent a prompt");
    case "finished":
      return s.stale ? act("merge_forward", `merge ${s.stale.baseBranch} forward (${s.stale.behind} behind) and rerun checks`) : act("review_and_merge", "review the branch and merge");
    case "killed":
    case "lost":
      return act("restart_worker", "restart the lane if its work is still wanted");
    case "failed": {
      const cls = blocker?.failureClass ?? null;
      if (cls === "provider_auth") return credentials();
      if (s.stale || cls === "branch_divergence") return act("merge_forward", `merge ${s.stale?.baseBranch ?? "the base"} forward, then restart`);
      if (cls === "workspace_mismatch") return act("inspect_workspace", "inspect what the worker touched outside its worktree before restarting");
      if (blocker?.failureReason === "phantom_completion") return act("inspect_workspace", "the agent reported success but its worktree has no change: find where its work went before running it again");
      if (cls === "test" || cls === "compile") return act("fix_and_restart", "fix the red check (see the log), then restart");
      // Startup, delivery, infra and runtime failures: recovery before escalation, one restart.
      return act("restart_worker", "restart the lane");
    }
  }
}

/** The summary of a state. Short by construction: every field is one line. */
export function renderSummary(s: SummaryState): LaneSummary {
  const phase = phaseOf(s);
  const staleBlocker = s.stale ? { failureClass: "branch_divergence" as const, failureReason: "branch_behind", reason: `${s.stale.behind} commits behind ${s.stale.baseBranch}`, eventId: s.stale.eventId, at: s.stale.at } : null;
  const live = phase !== "finished" && phase !== "failed" && phase !== "killed" && phase !== "lost";
  // A live lane's old failure is history, not its blocker; gates and dialogs are.
  const blocker = s.blocker && (!live || phase === "awaiting_trust" || phase === "blocked" || s.blocker.failureClass === "prompt_delivery") ? s.blocker : staleBlocker;
  const detail =
    phase === "working" ? s.activity : phase === "checking" && s.checkingLevel ? `${s.checkingLevel} checks` : phase === "queued" && s.attempt > 0 ? `after attempt ${s.attempt}` : phase === "failed" || phase === "blocked" ? (blocker?.reason ?? null) : null;
  return {
    laneId: s.laneId,
    phase,
    phaseDetail: detail ? detail.slice(0, 200) : null,
    lastCheckpoint: s.lastCheckpoint,
    blocker,
    nextAction: nextActionOf(phase, s, blocker),
    stalled: live ? s.stalled : null,
    eventId: s.eventId,
  };
}
