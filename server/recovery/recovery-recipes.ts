/**
 * Recovery recipes (docs/domain.md, Principles: "recovery before escalation"): for each known failure, the one
 * automatic attempt Laneboard makes before it asks a human, and a ledger that guarantees that
 * attempt happens at most once per lane and failure kind.
 *
 * Flow for the lane runner: classify the failure ({@link classifyFailure}) → pick the recipe key
 * with {@link recoveryKeyFor} → {@link RecoveryLedger.decide}: either `attempt` (emit its
 * `lane.recovery.attempted` event, call {@link RecoveryLedger.recordAttempt}, run the recipe) or
 * `escalate` (emit its `lane.escalated` event, with the evidence). Pure: no I/O here.
 *
 * The ledger can be rebuilt from the lane's `lane.recovery.attempted` events
 * ({@link RecoveryLedger.fromEvents}) because every recipe has its own name, or kept as JSON
 * ({@link RecoveryLedger.toJSON} / {@link RecoveryLedger.fromJSON}).
 */
import { z } from "zod";
import { AppError } from "@/lib/errors";
import type { LaneEventOf } from "@/lib/lane-events";
import type { FailureClass } from "@/lib/lane-state";
import type { FailureLike } from "../checks/classify-failure";

export const RECOVERY_ACTIONS = ["resolve_trust", "restart_worker", "merge_forward", "retry_after_backoff", "inspect_workspace"] as const;
export type RecoveryAction = (typeof RECOVERY_ACTIONS)[number];

/** What one recipe does; {@link RECIPE_SPECS} keys each by its failure kind. */
interface RecipeSpec {
  /** The name emitted as `lane.recovery.attempted.recipe`; unique per key. */
  recipe: string;
  failureClass: FailureClass;
  action: RecoveryAction;
  /** What is tried, in order: for the board and the escalation message. */
  steps: readonly string[];
  /** Re-deliver the task prompt once the restarted worker is `ready_for_prompt`. */
  redeliverPrompt?: boolean;
  /** Rerun the lane's checks after the action. */
  rerunChecks?: boolean;
  /** Wait before the action, in ms. */
  delayMs?: number;
  maxAttempts: 1;
}

/**
 * The recipe table, keyed by failure kind (the recovery key): the one place the kinds are
 * named. One automatic attempt each; a second occurrence escalates.
 */
const RECIPE_SPECS = {
  trust_prompt_unresolved: {
    recipe: "resolve-trust-prompt",
    failureClass: "trust_gate",
    action: "resolve_trust",
    steps: ["check the worktree is one Laneboard created (allowlisted)", "answer the folder-trust prompt with 'Yes, I trust this folder'", "wait for ready_for_prompt"],
    maxAttempts: 1,
  },
  prompt_misdelivered: {
    recipe: "restart-and-redeliver-prompt",
    failureClass: "prompt_delivery",
    action: "restart_worker",
    steps: ["stop the worker", "start it again in the same worktree", "wait for ready_for_prompt", "deliver the prompt once"],
    redeliverPrompt: true,
    maxAttempts: 1,
  },
  stale_branch: {
    recipe: "merge-forward",
    failureClass: "branch_divergence",
    action: "merge_forward",
    steps: ["merge the base branch into the lane's branch", "rerun the lane's checks"],
    rerunChecks: true,
    maxAttempts: 1,
  },
  compile_red_after_main_refactor: {
    recipe: "merge-forward-after-main-refactor",
    failureClass: "compile",
    action: "merge_forward",
    steps: ["merge the base branch (with its refactor) into the lane's branch", "rerun the lane's checks"],
    rerunChecks: true,
    maxAttempts: 1,
  },
  worker_startup_crash: {
    recipe: "restart-worker",
    failureClass: "tool_runtime",
    action: "restart_worker",
    steps: ["start the worker again with the same packet"],
    redeliverPrompt: true,
    maxAttempts: 1,
  },
  engine_rate_limited: {
    recipe: "retry-after-backoff",
    failureClass: "infra",
    action: "retry_after_backoff",
    steps: ["wait 60 s", "start the worker again with the same packet"],
    delayMs: 60_000,
    redeliverPrompt: true,
    maxAttempts: 1,
  },
  // The agent said it was done and nothing landed: running it again pays for a second run that
  // most likely ends the same way (its writes went elsewhere, or it believed no change was
  // needed). Look, cheaply, and hand the evidence to a person.
  phantom_completion: {
    recipe: "inspect-workspace",
    failureClass: "tool_runtime",
    action: "inspect_workspace",
    steps: ["read the worktree again: commits since the start point, uncommitted changes", "quote the agent's final message", "escalate with what was found; no second agent run"],
    maxAttempts: 1,
  },
  node_lost: {
    recipe: "requeue-on-another-node",
    failureClass: "lost",
    action: "restart_worker",
    steps: ["queue the lane again (a live node picks it up)", "its worker starts from the lane's branch"],
    redeliverPrompt: true,
    maxAttempts: 1,
  },
} satisfies Record<string, RecipeSpec>;

/** A failure kind that has a recipe. */
export type RecoveryKey = keyof typeof RECIPE_SPECS;
/** The recovery keys, in the table's order (the cast: `Object.keys` types its result as `string[]`). */
export const RECOVERY_KEYS = Object.keys(RECIPE_SPECS) as [RecoveryKey, ...RecoveryKey[]];
export const RecoveryKeySchema = z.enum(RECOVERY_KEYS);

export interface RecoveryRecipe extends RecipeSpec {
  key: RecoveryKey;
}

export const RECOVERY_RECIPES: Readonly<Record<RecoveryKey, RecoveryRecipe>> = Object.fromEntries(
  RECOVERY_KEYS.map((key): [RecoveryKey, RecoveryRecipe] => [key, { key, ...RECIPE_SPECS[key] }]),
) as Record<RecoveryKey, RecoveryRecipe>;

const RECIPE_BY_NAME = new Map(Object.values(RECOVERY_RECIPES).map((r) => [r.recipe, r]));

/** A worker that fails sooner than this after it started "crashed at startup" (ms). */
export const STARTUP_WINDOW_MS = 30_000;

export interface RecoveryFacts {
  classification: Pick<FailureLike, "failureClass" | "reason">;
  role: "worker" | "check";
  /** The lane's branch is behind its base branch. */
  stale: boolean;
  /** How long the worker ran before it failed, in ms (null if unknown). */
  workerUptimeMs?: number | null;
}

/**
 * Which recipe applies, or null (no automatic recovery: escalate at once). A merge conflict has
 * no recipe: merging forward again would only conflict again.
 */
export function recoveryKeyFor(f: RecoveryFacts): RecoveryKey | null {
  const { failureClass, reason } = f.classification;
  if (failureClass === "lost" && reason === "node_lost") return "node_lost";
  if (failureClass === "trust_gate") return "trust_prompt_unresolved";
  if (failureClass === "prompt_delivery") return "prompt_misdelivered";
  if (reason === "rate_limited") return "engine_rate_limited";
  if (failureClass === "compile" && f.stale) return "compile_red_after_main_refactor";
  if (reason === "merge_conflict") return null;
  // Before the startup-crash rule: a phantom is a success that left nothing, whatever its uptime.
  if (reason === "phantom_completion") return "phantom_completion";
  if ((failureClass === "branch_divergence" || failureClass === "test") && f.stale) return "stale_branch";
  if (f.role === "worker" && failureClass === "tool_runtime" && f.workerUptimeMs != null && f.workerUptimeMs < STARTUP_WINDOW_MS) return "worker_startup_crash";
  return null;
}

export const RecoveryAttemptSchema = z.object({
  laneId: z.string().min(1),
  key: RecoveryKeySchema,
  recipe: z.string(),
  at: z.string().describe("ISO 8601 time"),
});
export type RecoveryAttempt = z.infer<typeof RecoveryAttemptSchema>;

export const RecoveryLedgerJsonSchema = z.object({ version: z.literal(1), attempts: z.array(RecoveryAttemptSchema) });
export type RecoveryLedgerJson = z.infer<typeof RecoveryLedgerJsonSchema>;

type Attempted = { type: "lane.recovery.attempted"; laneId: string; payload: LaneEventOf<"lane.recovery.attempted">["payload"] };
type Escalated = { type: "lane.escalated"; laneId: string; payload: LaneEventOf<"lane.escalated">["payload"] };

export type RecoveryDecision =
  | { kind: "attempt"; recipe: RecoveryRecipe; event: Attempted }
  | { kind: "escalate"; recipe: RecoveryRecipe | null; event: Escalated };

/** Attempts made so far, per lane and failure kind. Not thread-safe by design: one runtime owns it. */
export class RecoveryLedger {
  readonly #attempts: RecoveryAttempt[] = [];

  constructor(attempts: readonly RecoveryAttempt[] = []) {
    this.#attempts.push(...attempts);
  }

  /** True while this lane has attempts left for this failure kind (at most one, ever). */
  shouldAttempt(laneId: string, key: RecoveryKey): boolean {
    return this.count(laneId, key) < RECOVERY_RECIPES[key].maxAttempts;
  }

  count(laneId: string, key: RecoveryKey): number {
    return this.#attempts.filter((a) => a.laneId === laneId && a.key === key).length;
  }

  /**
   * Record the attempt (call it when the recipe starts, with its event).
   * @throws AppError conflict when the lane already used its attempt for this kind
   */
  recordAttempt(laneId: string, key: RecoveryKey, at: Date = new Date()): RecoveryAttempt {
    if (!this.shouldAttempt(laneId, key)) throw new AppError("conflict", `lane ${laneId} already had its automatic recovery for ${key}`);
    const attempt = { laneId, key, recipe: RECOVERY_RECIPES[key].recipe, at: at.toISOString() };
    this.#attempts.push(attempt);
    return attempt;
  }

  /**
   * What to do about a failure: try its recipe once, or escalate (no recipe, or the attempt is
   * spent: the failure came back). Does not record anything.
   */
  decide(laneId: string, key: RecoveryKey | null, failure: FailureLike): RecoveryDecision {
    const recipe = key ? RECOVERY_RECIPES[key] : null;
    if (recipe && this.shouldAttempt(laneId, recipe.key)) {
      return { kind: "attempt", recipe, event: { type: "lane.recovery.attempted", laneId, payload: { recipe: recipe.recipe, failureClass: failure.failureClass } } };
    }
    const reason = recipe
      ? `${failure.summary} — came back after the automatic "${recipe.recipe}" (${recipe.steps.join("; ")})`
      : `${failure.summary} — no automatic recovery for ${failure.failureClass}/${failure.reason}`;
    return { kind: "escalate", recipe, event: { type: "lane.escalated", laneId, payload: { reason, failureClass: failure.failureClass, evidence: failure.evidence } } };
  }

  /** Attempts of one lane, oldest first. */
  attemptsOf(laneId: string): RecoveryAttempt[] {
    return this.#attempts.filter((a) => a.laneId === laneId);
  }

  /** Drop a lane's attempts (a human restarted it from scratch, or it was deleted). */
  forgetLane(laneId: string): void {
    for (let i = this.#attempts.length - 1; i >= 0; i--) if (this.#attempts[i]!.laneId === laneId) this.#attempts.splice(i, 1);
  }

  toJSON(): RecoveryLedgerJson {
    return { version: 1, attempts: this.#attempts.map((a) => ({ ...a })) };
  }

  /** @throws AppError invalid_input when `value` is not a {@link RecoveryLedgerJson} */
  static fromJSON(value: unknown): RecoveryLedger {
    const parsed = RecoveryLedgerJsonSchema.safeParse(value);
    if (!parsed.success) throw new AppError("invalid_input", `bad recovery ledger: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    return new RecoveryLedger(parsed.data.attempts);
  }

  /** Rebuild from persisted lane events (any order of types; unknown recipe names are skipped). */
  static fromEvents(events: Iterable<{ type: string; laneId: string | null; at: string; payload: unknown }>): RecoveryLedger {
    const attempts: RecoveryAttempt[] = [];
    for (const e of events) {
      if (e.type !== "lane.recovery.attempted" || !e.laneId) continue;
      const recipe = RECIPE_BY_NAME.get((e.payload as { recipe?: string }).recipe ?? "");
      if (recipe) attempts.push({ laneId: e.laneId, key: recipe.key, recipe: recipe.recipe, at: e.at });
    }
    return new RecoveryLedger(attempts);
  }
}
