/**
 * The rules in force for a repo without a policy file, in evaluation order (first match wins).
 * They encode the examples: startup blocked → recover once, then escalate; a known
 * failure → its recipe once, then escalate; stale → merge-forward before broad checks; green at
 * the required level + diff within scope + not stale (= merge-ready) → merge; merged → close out
 * and clean up the worktree.
 *
 * Where each is evaluated (facts the runtime supplies):
 * | trigger | where | facts |
 * | --- | --- | --- |
 * | `lane.blocked` | recovery.onWorkerFailure (interactive engines) | failureClass, recoverable, recoveryAttempted |
 * | `lane.red`, `lane.failed` | a red check (before the lane settles), a failed worker | failureClass, recoverable, recoveryAttempted, stale, checkLevel |
 * | `check.started` | before each check | checkLevel, stale |
 * | `lane.green` | all checks green, before the lane settles | green, requiredGreen, stale, withinScope |
 * | `lane.merge.ready` | after the lane finished and is merge-ready | green, requiredGreen, stale (false), withinScope |
 * | `lane.merged` | after a merge | — |
 */
import { PolicyRuleSchema, type PolicyRule, type PolicyRuleInput } from "./policy-schema";

const RULES: PolicyRuleInput[] = [
  {
    id: "blocked-recover-once",
    description: "A lane blocked at startup (trust prompt, misdelivered prompt, crash) gets one automatic recovery.",
    when: { event: "lane.blocked", recoveryAttempted: false },
    then: { action: "recover_once" },
  },
  {
    id: "blocked-escalate",
    description: "Blocked again after its automatic recovery: escalate with the evidence.",
    when: { event: "lane.blocked", recoveryAttempted: true },
    then: { action: "escalate" },
  },
  {
    id: "failure-recover-once",
    description: "A known failure (stale branch, compile red after a refactor on main, worker crashed at startup, rate limit) gets its recipe once.",
    when: { recoverable: true, recoveryAttempted: false },
    then: { action: "recover_once" },
  },
  {
    id: "failure-escalate-after-recovery",
    description: "The failure came back after its automatic recovery: escalate with the evidence.",
    when: { recoverable: true, recoveryAttempted: true },
    then: { action: "escalate" },
  },
  {
    id: "conflict-escalate",
    description: "A conflict with the base branch has no automatic fix: escalate at once.",
    when: { failureClass: "branch_divergence" },
    then: { action: "escalate" },
  },
  {
    id: "stale-merge-forward-before-checks",
    description: "A stale lane merges its base branch forward before workspace and merge_ready checks, so red is not stale-branch noise.",
    when: { event: "check.started", checkLevel: ["workspace", "merge_ready"], stale: true },
    then: { action: "merge_forward" },
  },
  {
    id: "green-but-stale-merge-forward",
    description: "Green at the required level but behind its base branch: merge forward (its checks then run again) instead of merging.",
    when: { event: "lane.green", requiredGreen: true, stale: true },
    then: { action: "merge_forward" },
  },
  {
    id: "green-merge",
    description: "Merge-ready (green at the required level, not stale, no conflict) and the diff stays within the packet's scope: merge.",
    when: { event: "lane.merge.ready", requiredGreen: true, withinScope: true, stale: false },
    then: { action: "merge" },
  },
  {
    id: "merged-cleanup",
    description: "A merged lane is closed out: its worktree is removed and its (merged) branch deleted.",
    when: { event: "lane.merged" },
    then: { action: "cleanup_worktree", deleteBranch: true },
  },
];

/** Validated at import: a broken default is a bug that must fail loudly. */
export const DEFAULT_POLICY_RULES: readonly PolicyRule[] = Object.freeze(RULES.map((r) => PolicyRuleSchema.parse(r)));
