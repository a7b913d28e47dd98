/**
 * The rules in force for a repo without a policy file, in evaluation order (first match wins).
 * They encode the examples: startup blocked → recover once, then escalate; stale →
 * merge-forward before checks; green at merge_ready + diff within scope + not stale → merge;
 * finished → close out and clean up the worktree.
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
    id: "stale-merge-forward-before-checks",
    description: "A stale lane merges its base branch forward before its checks run, so red is not stale-branch noise.",
    when: { event: "lane.state_changed", state: "checking", stale: true },
    then: { action: "merge_forward" },
  },
  {
    id: "green-merge",
    description: "Green at merge_ready, diff within the packet's scope, not stale: merge.",
    when: { event: "lane.green", green: "merge_ready", withinScope: true, stale: false },
    then: { action: "merge" },
  },
  {
    id: "green-but-stale-merge-forward",
    description: "Green at merge_ready but behind its base branch: merge forward (its checks then run again) instead of merging.",
    when: { event: "lane.green", green: "merge_ready", stale: true },
    then: { action: "merge_forward" },
  },
  {
    id: "finished-cleanup",
    description: "A finished lane is closed out: its worktree is removed (the branch is kept).",
    when: { event: "lane.finished" },
    then: { action: "cleanup_worktree", deleteBranch: false },
  },
];

/** Validated at import: a broken default is a bug that must fail loudly. */
export const DEFAULT_POLICY_RULES: readonly PolicyRule[] = Object.freeze(RULES.map((r) => PolicyRuleSchema.parse(r)));
