/**
 * Rule evaluation: the first rule (in list order) whose every condition holds decides. Order is
 * the file's order; with `includeDefaults`, the file's rules come before the defaults. Pure.
 */
import type { LaneEventType } from "@/lib/lane-events";
import type { FailureClass, LaneState } from "@/lib/lane-state";
import type { GreenLevel } from "@/lib/task-packet";
import type { PolicyRule, PolicyThen, PolicyWhen } from "./policy-schema";

/** What the lane runner knows when it asks the policy; leave out what it does not know. */
export interface PolicyFacts {
  event?: LaneEventType;
  state?: LaneState;
  /** Levels the lane is currently green at. */
  green?: readonly GreenLevel[];
  /** Green at the level the packet requires for merging. */
  requiredGreen?: boolean;
  /** Level of the check being started or that failed. */
  checkLevel?: GreenLevel;
  /** A recovery recipe exists for the failure being handled. */
  recoverable?: boolean;
  stale?: boolean;
  failureClass?: FailureClass | null;
  withinScope?: boolean;
  recoveryAttempted?: boolean;
}

/** The decision, to be emitted as an event naming `ruleId`. */
export interface PolicyDecision {
  ruleId: string;
  action: PolicyThen;
  description: string;
}

/** True when every condition of `when` holds for `facts`. */
export function ruleMatches(when: PolicyWhen, facts: PolicyFacts): boolean {
  if (when.event !== undefined && facts.event !== when.event) return false;
  if (when.state !== undefined && facts.state !== when.state) return false;
  if (when.green !== undefined && !(facts.green ?? []).includes(when.green)) return false;
  if (when.requiredGreen !== undefined && facts.requiredGreen !== when.requiredGreen) return false;
  if (when.checkLevel !== undefined && (facts.checkLevel === undefined || ![when.checkLevel].flat().includes(facts.checkLevel))) return false;
  if (when.recoverable !== undefined && facts.recoverable !== when.recoverable) return false;
  if (when.stale !== undefined && facts.stale !== when.stale) return false;
  if (when.failureClass !== undefined && facts.failureClass !== when.failureClass) return false;
  if (when.withinScope !== undefined && facts.withinScope !== when.withinScope) return false;
  if (when.recoveryAttempted !== undefined && facts.recoveryAttempted !== when.recoveryAttempted) return false;
  return true;
}

/** First matching rule's decision, or null when no rule applies (then: do nothing special). */
export function evaluatePolicy(rules: readonly PolicyRule[], facts: PolicyFacts): PolicyDecision | null {
  const rule = rules.find((r) => ruleMatches(r.when, facts));
  return rule ? { ruleId: rule.id, action: rule.then, description: rule.description } : null;
}
