/**
 * Lane events as sentences a person reads: one short sentence per event with its key fields, a
 * tone for colour, and the fields that matter as label/value pairs (the raw JSON stays available
 * to whoever shows it). Shared by the lane page's event list, the board's toasts and its
 * attention reasons, so an event reads the same everywhere.
 *
 * Pure and total: every event type of the catalog (lib/lane-events.ts) has an entry in
 * {@link DESCRIBERS}, which TypeScript checks, so a new event type cannot be added without its
 * sentence. Never throws; a sentence never contains an API path.
 */
import type { LaneEvent, LaneEventOf, LaneEventType } from "./lane-events";
import { describeWait } from "./scheduling";

/** How an event should be coloured: good news, bad news, needs attention, neutral, or noise. */
export type EventTone = "good" | "bad" | "warn" | "info" | "muted";

export interface EventField {
  label: string;
  value: string;
}

export interface EventDescription {
  /** One sentence, capitalised, ending without a full stop (e.g. "Checks at targeted passed in 1.2s"). */
  sentence: string;
  tone: EventTone;
  /** Key fields for a detail line (empty when the sentence says it all). */
  fields: EventField[];
}

/** Longest value shown in a field or quoted in a sentence (characters). */
const MAX_TEXT = 160;

/** `s` cut to `max` characters with an ellipsis, on one line. */
export function clipText(s: string, max = MAX_TEXT): string {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

const shortSha = (sha: string | null | undefined) => (sha ? sha.slice(0, 8) : "?");
const plural = (n: number, word: string) => `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
const argv = (command: readonly string[]) => clipText(command.join(" "), 120);

/** "1.2s", "850ms", "4m 05s": a duration in ms for a sentence. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

/**
 * How a process ended, said plainly: "exited with code 1", "was killed by SIGKILL", "is still
 * running" (both null). Code 0 reads "exited cleanly (code 0)".
 */
export function describeExit(exitCode: number | null, signal: string | null): string {
  if (signal) return `was stopped by ${signal}`;
  if (exitCode === null) return "ended without an exit code";
  return exitCode === 0 ? "exited cleanly (code 0)" : `exited with code ${exitCode}`;
}

/** Cost in US dollars for people: "$0.0123", "$1.20"; "—" for null. */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "—";
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`;
}

const f = (label: string, value: string | number | null | undefined): EventField[] =>
  value === null || value === undefined || value === "" ? [] : [{ label, value: clipText(String(value)) }];

type Describer<T extends LaneEventType> = (p: LaneEventOf<T>["payload"]) => EventDescription;
const d = (sentence: string, tone: EventTone, ...fields: EventField[][]): EventDescription => ({ sentence, tone, fields: fields.flat() });

const testsText = (t: { passed: number; failed: number; skipped: number } | null | undefined) =>
  t ? `${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""}` : null;

/** One entry per event type; the mapped type makes a missing one a compile error. */
const DESCRIBERS: { [T in LaneEventType]: Describer<T> } = {
  "repo.registered": (p) => d(`Repo ${p.name} registered (main branch ${p.mainBranch})`, "info", f("path", p.path)),
  "lane.created": (p) => d(`Lane created on branch ${p.branch} from ${p.baseBranch}, run by ${p.engine}`, "info", f("objective", p.objective), f("worktree", p.worktreePath)),
  "lane.queued": (p) =>
    d(
      p.waitingFor ? `Queued: ${describeWait(p.waitingFor)}` : `Queued${p.position !== null ? ` at position ${p.position}` : ""}`,
      "muted",
      f("reason", p.reason),
    ),
  "lane.state_changed": (p) => d(`Lane went from ${p.from} to ${p.to}`, p.to === "failed" ? "bad" : p.to === "finished" ? "good" : "muted"),
  "lane.started": (p) => d(`Attempt ${p.attempt} started (pid ${p.pid})`, "info", f("process", p.processId), f("worker", p.workerId)),
  "lane.ready": () => d("The worker is up and ready", "info"),
  "lane.prompt_misdelivery": (p) => d("The prompt did not reach the agent (it landed somewhere else)", "bad", f("evidence", p.evidence)),
  "lane.blocked": (p) => d(`Blocked: ${clipText(p.reason)}`, "warn", f("class", p.failureClass), f("dependency", p.dependency)),
  "lane.red": (p) =>
    d(
      `Checks at ${p.level} failed${p.tests ? ` (${testsText(p.tests)})` : p.exitCode !== null ? ` with exit code ${p.exitCode}` : ""}${p.timedOut ? ", timed out" : ""}`,
      "bad",
      f("command", argv(p.command)),
      f("class", p.failureClass),
      f("summary", p.summary),
      f("took", formatMs(p.durationMs)),
      p.stale ? f("note", "the branch was behind its base") : [],
    ),
  "lane.green": (p) => d(`Checks at ${p.level} passed${p.tests ? ` (${testsText(p.tests)})` : ""} in ${formatMs(p.durationMs)}`, "good", f("command", argv(p.command))),
  "lane.commit.created": (p) =>
    d(
      `${p.rewrite ? "Branch rewritten: " : ""}commit ${shortSha(p.sha)} “${clipText(p.subject, 100)}”${p.filesChanged !== undefined ? `, ${plural(p.filesChanged, "file")} changed` : ""}`,
      "info",
      f("branch", p.branch),
      f("author", p.author),
      f("files", p.files?.slice(0, 8).join(", ")),
    ),
  "lane.pr.opened": (p) => d("Pull request opened", "info", f("url", p.url)),
  "lane.merge.ready": (p) =>
    d(`Ready to merge into ${p.baseBranch ?? "its base"}${p.fastForward ? " (fast-forward)" : ""}`, "good", f("head", shortSha(p.sha)), f("green level", p.level)),
  "lane.merge.blocked": (p) =>
    d(`Not mergeable: ${p.reasons.map((r) => MERGE_BLOCKER_WORDS[r]).join(", ")}`, "warn", f("message", p.message), f("conflicts", p.conflicts.join(", "))),
  "lane.merged": (p) => d(`Merged into ${p.baseBranch} (${p.strategy}) by ${p.by}`, "good", f("from", shortSha(p.previous)), f("to", shortSha(p.sha))),
  "lane.cleaned_up": (p) =>
    d(`Cleaned up: ${[p.worktreeRemoved ? "worktree removed" : "worktree kept", p.branchDeleted ? "branch deleted" : "branch kept"].join(", ")}`, "muted", f("by", p.by)),
  "lane.finished": (p) => d(`Lane finished: the worker ${describeExit(p.exitCode, p.signal)}`, "good"),
  "lane.failed": (p) =>
    d(
      `Lane failed: the ${p.role === "check" ? "check" : "worker"} ${describeExit(p.exitCode, p.signal)}${p.failureClass ? ` (${p.failureClass})` : ""}`,
      "bad",
      f("reason", p.reason),
      f("summary", p.summary),
    ),
  "lane.killed": (p) => d(`Killed by ${p.by}${p.signal ? ` with ${p.signal}` : ""}`, "warn", f("grace", formatMs(p.graceMs))),
  "lane.restarted": (p) => d(`Restarted by ${p.by}: attempt ${p.attempt}`, "info"),
  "lane.recovery.attempted": (p) => d(`Automatic recovery tried: ${p.recipe}`, "warn", f("class", p.failureClass), f("detail", p.detail), f("steps", p.steps?.join("; "))),
  "lane.escalated": (p) => d(`Needs a person: ${clipText(p.reason)}`, "bad", f("class", p.failureClass), f("recipe tried", p.recipe), f("evidence", p.evidence.slice(0, 3).join(" | "))),
  "branch.stale_against_main": (p) => d(`Branch is ${plural(p.behind, "commit")} behind ${p.baseBranch}`, "warn", f("ahead", p.ahead), f("newest missing", p.missing?.[0]?.subject)),
  "branch.freshness": (p) => d(`Branch is ${p.ahead} ahead of and ${p.behind} behind ${p.baseBranch}`, "muted"),
  "branch.merged_forward": (p) =>
    d(`${p.method === "merge" ? "Merged" : "Rebased onto"} ${p.baseBranch} ${p.method === "merge" ? "into the branch" : ""}`.trim(), "info", f("head", shortSha(p.head)), f("by", p.by)),
  "branch.conflict": (p) => d(`Conflicts with ${p.baseBranch} in ${plural(p.files.length, "file")}`, "bad", f("files", p.files.join(", ")), f("during", p.during.replace("_", " "))),
  "branch.problem": (p) => d(`Branch problem: ${clipText(p.message)}`, "bad", f("problem", p.problem), f("during", p.operation)),
  "branch.workspace_mismatch": (p) => d("The agent worked outside its worktree", "bad", f("expected", p.expected), f("actual", p.actual), f("source", p.source)),
  "worker.state_changed": (p) => d(`Worker ${p.from ? `went from ${WORKER_STATE_WORDS[p.from]} to` : "is"} ${WORKER_STATE_WORDS[p.to]}`, p.to === "failed" ? "bad" : "muted", f("because", p.trigger)),
  "worker.activity": (p) =>
    p.kind === "tool_use"
      ? d(`Agent used ${p.name ?? "a tool"}${p.skipped ? ` (and ${plural(p.skipped, "more call")})` : ""}`, "muted", f("input", p.detail))
      : p.kind === "tool_error"
        ? d(`Tool ${p.name ?? ""} failed`.replace("  ", " "), "warn", f("error", p.detail))
        : d(`Agent answered: “${clipText(p.detail, 120)}”`, "info"),
  "worker.prompted": (p) =>
    d(`${PROMPT_SOURCE_WORDS[p.source]}: “${clipText(p.text, 120)}”${p.truncated ? " (cut)" : ""}`, "info"),
  "worker.usage": (p) =>
    d(`Used ${plural(Math.round(p.inputTokens), "input token")} and ${plural(Math.round(p.outputTokens), "output token")}${p.costUsd !== null ? `, ${formatUsd(p.costUsd)}` : ""}`, "muted"),
  "lane.stalled": (p) => d(`No output and no event for ${formatMs(p.idleMs)}: the lane may be stuck`, "warn", f("since", p.since), f("threshold", formatMs(p.thresholdMs))),
  "lane.stall_ended": (p) => d(`Active again after ${formatMs(p.idleMs)} of silence`, "info"),
  "lane.worktree_prepared": (p) =>
    d(
      `Branch brought up to ${p.baseBranch} ${shortSha(p.baseSha)}${p.merged.length ? ` with ${p.merged.length} dependency ${p.merged.length === 1 ? "branch" : "branches"} merged in` : ""} before the worker started`,
      "info",
      f("merged", p.merged.map((m) => `${m.branch} ${shortSha(m.sha)}`).join(", ")),
      f("start", shortSha(p.head)),
    ),
  "lane.phantom_completion": (p) => d("The agent reported success but changed nothing", "bad", f("base", shortSha(p.baseSha)), f("head", shortSha(p.head))),
  "trust_required": (p) => d("The agent asks whether to trust this folder", "warn", f("folder", p.path)),
  "trust_resolved": (p) => d(`Folder trusted (by ${p.by})`, "info"),
  "process.started": (p) => d(`${roleWord(p.role)} process started: ${argv(p.command)}`, "muted", f("pid", p.pid), f("process", p.processId)),
  "process.exited": (p) => d(`${roleWord(p.role)} process ${describeExit(p.exitCode, p.signal)}`, p.exitCode === 0 && !p.signal ? "muted" : "warn", f("process", p.processId)),
  "process.lost": (p) => d(`A process was lost: ${clipText(p.reason)}`, "bad", f("process", p.processId)),
  "process.reattached": (p) => d(`Process reattached after a server restart (pid ${p.pid})`, "info", f("process", p.processId)),
  "process.output_truncated": (p) => d(`Older output deleted to keep within the log limit (${formatBytes(p.bytes)})`, "warn", f("process", p.processId)),
  "scheduler.decision": (p) => {
    switch (p.kind) {
      case "dispatched":
        return d(`Scheduler started it in the ${p.pool} pool`, "muted", f("passed over", p.passedOver.length || null));
      case "caps_changed":
        return d("Worker caps changed", "info");
      case "rate_limits_changed":
        return d("Rate limits changed", "info");
      case "budget_changed":
        return d("Budgets changed", "info");
      case "budget_exceeded":
        return d(`Budget spent: ${p.scope} ${p.metric === "costUsd" ? `${formatUsd(p.spent)} of ${formatUsd(p.limit)}` : `${p.spent} of ${p.limit} tokens`}`, "bad");
      case "restored":
        return d(`Scheduler restored ${plural(p.queued, "queued lane")} after a restart`, "muted");
    }
  },
  "check.started": (p) => d(`Checks at ${p.level} started: ${argv(p.command)}`, "muted", f("process", p.processId)),
  "policy.decided": (p) => d(`Policy rule ${p.ruleId} chose ${p.action.replace(/_/g, " ")}`, "muted", f("on", p.trigger), f("rule", p.description)),
  "policy.loaded": (p) => d(`Policy loaded from ${p.source}: ${plural(p.rules, "rule")}`, "muted", f("file", p.path)),
  "policy.rejected": (p) =>
    d(`Policy rejected (${plural(p.errors.length, "error")}); the previous one stays`, "bad", f("first error", p.errors[0] ? `line ${p.errors[0].line}: ${p.errors[0].message}` : null)),
  "warning": (p) => d(`Warning: ${clipText(p.message)}`, "warn", f("class", p.failureClass)),
  "disk.full": (p) => d(`The data disk is full (${formatBytes(p.freeBytes)} free): new work is refused`, "bad", f("directory", p.dir)),
  "disk.space_freed": (p) => d(`The data disk has room again (${formatBytes(p.freeBytes)} free)`, "info", f("directory", p.dir)),
  "token.created": (p) =>
    d(`Token ${p.name} made (${p.scopes.join(", ")})`, "info", f("repos", p.repos?.join(", ") ?? "all"), f("expires", p.expiresAt ?? "never")),
  "token.revoked": (p) => d(`Token ${p.name} revoked`, "warn", f("token id", p.tokenId)),
  "node.joined": (p) =>
    d(`Node ${p.nodeId} ${p.restarted ? "restarted" : "joined"} (${plural(p.capacity, "slot")})`, Math.abs(p.clockSkewMs) > 2000 ? "warn" : "info", f("host", p.host), f("clock skew", Math.abs(p.clockSkewMs) > 2000 ? `${(p.clockSkewMs / 1000).toFixed(1)} s` : null)),
  "node.stopped": (p) => d(`Node ${p.nodeId} stopped`, "muted"),
  "node.lost": (p) => d(`Node ${p.nodeId} was lost: no heartbeat for its ${p.leaseMs / 1000} s lease`, "bad", f("lanes lost", p.laneIds.length || null), f("last heartbeat", p.lastHeartbeatAt)),
  "node.clock_skew": (p) => d(`Node ${p.nodeId}'s clock is ${(Math.abs(p.clockSkewMs) / 1000).toFixed(1)} s ${p.clockSkewMs > 0 ? "ahead of" : "behind"} the database's`, "warn"),
};

const PROMPT_SOURCE_WORDS = { packet: "Prompt from the task", api: "Prompt sent", follow_up: "Follow-up sent", replay: "Prompt replayed" } as const;

/** Merge blockers (lane.merge.blocked / merge readiness reasons) in words. */
export const MERGE_BLOCKER_WORDS: Record<"not_green" | "stale" | "conflict" | "live" | "no_branch" | "problem", string> = {
  not_green: "the required green level is missing",
  stale: "the branch is behind its base",
  conflict: "it conflicts with its base",
  live: "the lane is still running",
  no_branch: "its branch is gone",
  problem: "the branch or worktree has a problem",
};

/** Worker states (lib/lane-state.ts) in words. */
export const WORKER_STATE_WORDS = {
  spawning: "starting",
  trust_required: "waiting for folder trust",
  ready_for_prompt: "ready for a prompt",
  prompt_accepted: "taking the prompt",
  running: "working",
  blocked: "blocked",
  finished: "finished",
  failed: "failed",
  killed: "killed",
  lost: "lost",
} as const;

function roleWord(role: string): string {
  return role === "worker" ? "Worker" : role === "check" ? "Check" : role.charAt(0).toUpperCase() + role.slice(1);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * The sentence, tone and key fields of a lane event. An event of a type this build does not know
 * (a newer server) reads as its type name, muted.
 */
export function describeLaneEvent(ev: Pick<LaneEvent, "type" | "payload">): EventDescription {
  const describe = DESCRIBERS[ev.type] as Describer<LaneEventType> | undefined;
  if (!describe) return d(String(ev.type), "muted");
  try {
    const out = describe(ev.payload as never);
    return { ...out, sentence: out.sentence.charAt(0).toUpperCase() + out.sentence.slice(1) };
  } catch {
    // A payload from an older catalog version missing a field: still say what happened.
    return d(String(ev.type).replace(/[._]/g, " "), "muted");
  }
}
