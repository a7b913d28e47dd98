/**
 * What a person should know about a lane at a glance, derived from its view (pure, shared by the
 * board, the lane page, toasts and notifications):
 *
 * - {@link attentionOf}: does the lane need a person now, why, and the one action that resolves it
 *   (trust prompt, blocked or escalated, red, prompt misdelivered, over budget, waiting for a
 *   prompt, merge-ready). `null` when nothing is asked of a person.
 * - {@link statusOf}: the badge — the lane state, unless the worker waits for trust or a prompt or
 *   is blocked, which a person must see instead of "running".
 * - {@link exitSummaryOf}: which process exited how (the worker, a red check), so a lane that
 *   failed on a check does not read as a green "exit 0".
 */
import type { LaneView } from "./api";
import { compareCodeUnits } from "./compare";

/** Why a lane needs a person, most urgent first (the order of the attention list's tie-break). */
export const ATTENTION_KINDS = ["trust", "blocked", "misdelivered", "red", "over_budget", "prompt", "merge_ready"] as const;
export type AttentionKind = (typeof ATTENTION_KINDS)[number];

/** The one action that resolves an attention item; `open` means the lane page. */
export type AttentionAction = "trust" | "restart" | "merge" | "open";

export interface Attention {
  kind: AttentionKind;
  /** One line a person can read: what happened. */
  reason: string;
  action: AttentionAction;
  /** ISO 8601 time of the lane's newest event (sort key: newest first). */
  at: string;
}

/** Words for each kind, for filters, header counts and notifications. */
export const ATTENTION_LABEL: Record<AttentionKind, string> = {
  trust: "waiting for trust",
  blocked: "blocked",
  misdelivered: "prompt misdelivered",
  red: "red",
  over_budget: "over budget",
  prompt: "waiting for a prompt",
  merge_ready: "merge-ready",
};

const isAgentWaiting = (lane: LaneView, state: string) => lane.worker?.state === state && (lane.state === "running" || lane.state === "starting");

function redCheck(lane: LaneView): { level: string; exitCode: number | null } | null {
  for (const c of Object.values(lane.checks)) if (c.status === "red") return { level: c.level, exitCode: c.exitCode };
  return null;
}

/** Does this lane need a person now? See the module docs. */
export function attentionOf(lane: LaneView): Attention | null {
  const at = lane.lastEvent?.at ?? lane.endedAt ?? lane.startedAt ?? lane.createdAt;
  const mk = (kind: AttentionKind, reason: string, action: AttentionAction): Attention => ({ kind, reason, action, at });
  const blocker = lane.summary?.blocker ?? null;
  if (lane.merged) return null;
  if (isAgentWaiting(lane, "trust_required") || lane.summary?.phase === "awaiting_trust") {
    return mk("trust", "the agent asks whether to trust its folder", "trust");
  }
  if (lane.blocked) return mk("blocked", `escalated: ${lane.blocked.reason}`, lane.state === "failed" || lane.state === "killed" || lane.state === "lost" ? "restart" : "open");
  if (isAgentWaiting(lane, "blocked") || lane.summary?.phase === "blocked") {
    return mk("blocked", `blocked: ${blocker?.reason ?? "the agent waits for an answer"}`, "open");
  }
  if (blocker?.failureClass === "prompt_delivery" || lane.worker?.lastError?.failureClass === "prompt_delivery") {
    return mk("misdelivered", `the prompt did not reach the agent: ${blocker?.reason ?? lane.worker?.lastError?.message ?? "misdelivery"}`, "restart");
  }
  if (lane.waitingFor?.kind === "budget" || blocker?.failureClass === "budget_exceeded") {
    return mk("over_budget", "over budget: raise the budget to let it run", "open");
  }
  if (lane.state === "failed") {
    const red = redCheck(lane);
    const why = red ? `${red.level} check red${red.exitCode !== null ? ` (exit ${red.exitCode})` : ""}` : (blocker?.reason ?? lane.summary?.phaseDetail ?? "the worker failed");
    return mk("red", why, "restart");
  }
  if (isAgentWaiting(lane, "ready_for_prompt")) return mk("prompt", "the agent waits for your prompt", "open");
  if (lane.mergeReady === true && lane.state === "finished") return mk("merge_ready", "green and up to date: ready to merge", "merge");
  return null;
}

/** Newest first; equal times by urgency. Returns a new array. */
export function sortAttention<T extends { attention: Attention }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareCodeUnits(b.attention.at, a.attention.at) || ATTENTION_KINDS.indexOf(a.attention.kind) - ATTENTION_KINDS.indexOf(b.attention.kind));
}

/** What the badge says: the worker's wait when a person is needed, else the lane state. */
export type BadgeStatus = LaneView["state"] | "waiting_trust" | "waiting_prompt" | "blocked";

export function statusOf(lane: LaneView): BadgeStatus {
  if (isAgentWaiting(lane, "trust_required")) return "waiting_trust";
  if (isAgentWaiting(lane, "ready_for_prompt")) return "waiting_prompt";
  if (isAgentWaiting(lane, "blocked")) return "blocked";
  return lane.state;
}

export const STATUS_LABEL: Record<BadgeStatus, string> = {
  queued: "queued",
  starting: "starting",
  running: "running",
  checking: "checking",
  finished: "finished",
  failed: "failed",
  killed: "killed",
  lost: "lost",
  waiting_trust: "trust needed",
  waiting_prompt: "awaiting prompt",
  blocked: "blocked",
};

/** One process's exit, for the exit line. `tone` decides the colour: a worker's 0 on a lane that failed later is neutral, not green. */
export interface ExitPart {
  who: string;
  code: number | null;
  tone: "ok" | "bad" | "neutral";
}

/** Which process exited how: the worker's exit, then any red check's. Empty before anything exited. */
export function exitSummaryOf(lane: LaneView): ExitPart[] {
  const parts: ExitPart[] = [];
  if (lane.lastExitCode !== null) {
    // A failed lane whose worker exited 0 failed elsewhere (a check, phantom completion): that 0 is no success.
    const tone = lane.lastExitCode !== 0 ? "bad" : lane.state === "failed" ? "neutral" : "ok";
    parts.push({ who: "worker", code: lane.lastExitCode, tone });
  }
  for (const c of Object.values(lane.checks)) {
    if (c.status === "red") parts.push({ who: `${c.level} check`, code: c.exitCode, tone: "bad" });
  }
  return parts;
}

/**
 * Lane event types that mean a person is needed now (or that a lane went red): the browser's
 * toasts and notifications fire on these, and a repo webhook sends these by default.
 */
export const ALERT_EVENT_TYPES = ["trust_required", "lane.blocked", "lane.escalated", "lane.red", "lane.failed", "lane.prompt_misdelivery", "lane.merge.ready"] as const;
export type AlertEventType = (typeof ALERT_EVENT_TYPES)[number];

const ALERT_TITLE: Record<AlertEventType, { title: string; tone: "warning" | "error" | "success" }> = {
  trust_required: { title: "A lane waits for trust", tone: "warning" },
  "lane.blocked": { title: "A lane is blocked", tone: "warning" },
  "lane.escalated": { title: "A lane needs a human", tone: "error" },
  "lane.red": { title: "A lane went red", tone: "error" },
  "lane.failed": { title: "A lane failed", tone: "error" },
  "lane.prompt_misdelivery": { title: "A prompt did not reach its agent", tone: "error" },
  "lane.merge.ready": { title: "A lane is ready to merge", tone: "success" },
};

export function isAlertEvent(type: string): type is AlertEventType {
  return (ALERT_EVENT_TYPES as readonly string[]).includes(type);
}

/** The alert for an event of an alert type, worded for a person; `lane` names it when known. */
export function alertOf(type: AlertEventType, lane: Pick<LaneView, "objective" | "branch"> | null): { title: string; body: string; tone: "warning" | "error" | "success" } {
  const { title, tone } = ALERT_TITLE[type];
  return { title, tone, body: lane ? `${lane.objective} (${lane.branch})` : "Open the board to see which one." };
}
