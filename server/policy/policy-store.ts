/**
 * The policy rules in force, per repo. A repo without rules of its own uses the defaults. A
 * replacement is all or nothing: invalid text is rejected with its line-numbered errors and the
 * previous rules stay in force. In memory; the caller persists the accepted text (the repo's
 * policy file or a row) and replays it with {@link PolicyStore.replace} at boot.
 */
import { AppError } from "@/lib/errors";
import { DEFAULT_POLICY_RULES } from "./default-rules";
import { evaluatePolicy, type PolicyDecision, type PolicyFacts } from "./evaluate-policy";
import { parsePolicyText, type PolicyLoadResult } from "./load-policy";
import type { PolicyRule } from "./policy-schema";

export interface PolicySet {
  repoId: string;
  rules: readonly PolicyRule[];
  /** `defaults` until a valid text is accepted. */
  source: "defaults" | "file" | "api";
  /** The accepted text; null for the defaults. */
  text: string | null;
  /** ISO 8601 time of the last accepted replacement; null for the defaults. */
  updatedAt: string | null;
  /**
   * The repo's post-checkout hook runs when a lane's worktree is created. Only a policy set
   * through the API can turn it on: a file in the repository asking for it is the repository
   * asking to run its own code, which is what the default forbids.
   */
  runCheckoutHook: boolean;
}

export class PolicyStore {
  readonly #sets = new Map<string, PolicySet>();

  constructor(private readonly defaults: readonly PolicyRule[] = DEFAULT_POLICY_RULES) {}

  /** The rules in force for a repo (the defaults when it has none). */
  get(repoId: string): PolicySet {
    return this.#sets.get(repoId) ?? { repoId, rules: this.defaults, source: "defaults", text: null, updatedAt: null, runCheckoutHook: false };
  }

  /**
   * Replace a repo's rules with `text` (YAML or JSON). On errors nothing changes.
   * @returns the parse result: `ok: false` carries `errors` with line and column
   */
  replace(repoId: string, text: string, source: "file" | "api" = "api", now: Date = new Date()): PolicyLoadResult {
    const result = parsePolicyText(text, this.defaults);
    if (result.ok) {
      const runCheckoutHook = source === "api" && (result.file?.git.runCheckoutHook ?? false);
      this.#sets.set(repoId, { repoId, rules: Object.freeze([...result.rules]), source, text, updatedAt: now.toISOString(), runCheckoutHook });
    }
    return result;
  }

  /**
   * {@link replace} for API handlers.
   * @throws AppError invalid_input with `details.errors` (PolicyIssue[]) when the text is invalid
   */
  replaceOrThrow(repoId: string, text: string, source: "file" | "api" = "api"): PolicySet {
    const result = this.replace(repoId, text, source);
    if (!result.ok) {
      const first = result.errors[0]!;
      throw new AppError("invalid_input", `policy rejected: line ${first.line}, column ${first.column}: ${first.message}`, { errors: result.errors });
    }
    return this.get(repoId);
  }

  /** Back to the defaults. */
  reset(repoId: string): void {
    this.#sets.delete(repoId);
  }

  /** Evaluate the repo's rules in force; see {@link evaluatePolicy}. */
  evaluate(repoId: string, facts: PolicyFacts): PolicyDecision | null {
    return evaluatePolicy(this.get(repoId).rules, facts);
  }
}
