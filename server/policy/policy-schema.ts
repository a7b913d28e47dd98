/**
 * Policy rules as data (docs/domain.md, Principles: "policy is executable"): one rule = when these lane facts
 * hold, take this action. A repo's rules live in a YAML or JSON file (see load-policy.ts) and are
 * validated with these schemas; unknown keys are errors, so a typo cannot silently disable a
 * condition.
 *
 * ```yaml
 * version: 1
 * includeDefaults: true        # append the default rules after these (same id: this file wins)
 * rules:
 *   - id: green-merge
 *     description: Merge a fresh, in-scope lane that is green at merge_ready.
 *     when: { event: lane.green, green: merge_ready, withinScope: true, stale: false }
 *     then: { action: merge, strategy: squash }
 * git:
 *   runCheckoutHook: true      # let the repo's post-checkout hook run when a lane's worktree is made
 * ```
 */
import { z } from "zod";
import { LANE_EVENT_TYPES, type LaneEventType } from "@/lib/lane-events";
import { FailureClassSchema, LaneStateSchema } from "@/lib/lane-state";
import { GreenLevelSchema } from "@/lib/task-packet";

export const POLICY_ACTIONS = ["merge", "merge_forward", "rebase", "run_checks", "recover_once", "escalate", "cleanup_worktree", "notify"] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

const LaneEventTypeSchema = z.enum(LANE_EVENT_TYPES as [LaneEventType, ...LaneEventType[]]);

/**
 * Conditions; every one present must hold (AND). An absent condition does not constrain. A fact
 * the caller did not supply never satisfies a condition on it.
 */
export const PolicyWhenSchema = z
  .object({
    event: LaneEventTypeSchema.optional().describe("The lane event that prompted the evaluation"),
    state: LaneStateSchema.optional().describe("The lane's state"),
    green: GreenLevelSchema.optional().describe("The lane is green at this level"),
    requiredGreen: z.boolean().optional().describe("The lane is green at the level its packet requires for merging (default merge_ready)"),
    checkLevel: z.union([GreenLevelSchema, z.array(GreenLevelSchema).min(1)]).optional().describe("Level of the check being started or that failed (one level or any of a list)"),
    stale: z.boolean().optional().describe("The lane's branch is behind its base branch"),
    failureClass: FailureClassSchema.optional().describe("Class of the failure being handled"),
    withinScope: z.boolean().optional().describe("The lane's diff touches only paths in its packet's scope"),
    recoveryAttempted: z.boolean().optional().describe("The automatic recovery for this failure was already used"),
    recoverable: z.boolean().optional().describe("A recovery recipe exists for this failure (server/recovery/recovery-recipes.ts)"),
  })
  .strict();
export type PolicyWhen = z.infer<typeof PolicyWhenSchema>;

/** The action and its parameters, discriminated by `action`. */
export const PolicyThenSchema = z.discriminatedUnion("action", [
  z.object({ action: z.literal("merge"), strategy: z.enum(["ff", "merge", "squash"]).default("merge") }).strict(),
  z.object({ action: z.literal("merge_forward") }).strict().describe("Merge the base branch into the lane's branch"),
  z.object({ action: z.literal("rebase") }).strict(),
  z.object({ action: z.literal("run_checks"), level: GreenLevelSchema.optional() }).strict(),
  z.object({ action: z.literal("recover_once") }).strict().describe("Run the failure's recovery recipe (server/recovery/recovery-recipes.ts)"),
  z.object({ action: z.literal("escalate"), reason: z.string().min(1).max(500).optional() }).strict(),
  z.object({ action: z.literal("cleanup_worktree"), deleteBranch: z.boolean().default(false) }).strict(),
  z.object({ action: z.literal("notify"), message: z.string().min(1).max(500) }).strict(),
]);
export type PolicyThen = z.infer<typeof PolicyThenSchema>;

export const PolicyRuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "lowercase letters, digits, '.', '_' and '-'").max(100),
    description: z.string().trim().min(1).max(1000),
    when: PolicyWhenSchema,
    then: PolicyThenSchema,
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;
export type PolicyRuleInput = z.input<typeof PolicyRuleSchema>;

/**
 * What Laneboard's own git calls may run of the repository's code. By default nothing: no hook,
 * no fsmonitor (server/git/runner.ts).
 */
export const PolicyGitSchema = z
  .object({
    runCheckoutHook: z
      .boolean()
      .default(false)
      .describe(
        "Run the repo's post-checkout hook when a lane's worktree is created. Honoured only in a policy set through the API (admin scope): a repository's own file cannot allow its own code to run.",
      ),
  })
  .strict();
export type PolicyGit = z.infer<typeof PolicyGitSchema>;

export const PolicyFileSchema = z
  .object({
    version: z.literal(1).default(1),
    includeDefaults: z.boolean().default(false),
    rules: z.array(PolicyRuleSchema).max(500),
    git: PolicyGitSchema.default({ runCheckoutHook: false }),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: "custom", path: ["rules", i, "id"], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
    });
  });
export type PolicyFile = z.infer<typeof PolicyFileSchema>;
