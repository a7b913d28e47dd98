import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { BudgetLedger, BudgetSchema, RateLimiter } from "./budgets";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 3, 12, 0, 0);

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (!isAppError(err)) throw err;
    return (err.details?.fields as string[]) ?? [];
  }
  throw new Error("expected an AppError");
}

describe("BudgetLedger", () => {
  it("preflight refuses a lane whose own budget is spent, naming scope and numbers", () => {
    const l = new BudgetLedger();
    l.registerLane("a", { repoId: "r", budget: { maxTokens: 1000 } });
    expect(l.preflight("a", T0)).toEqual({ ok: true });
    l.record("a", { inputTokens: 600, outputTokens: 400 }, T0);
    expect(l.preflight("a", T0)).toEqual({ ok: false, refused: true, scope: "lane", key: "a", metric: "tokens", spent: 1000, limit: 1000 });
  });

  it("reports a mid-run breach once, and exceeded() names it for the stop", () => {
    const l = new BudgetLedger();
    l.registerLane("a", { repoId: "r", budget: { maxCostUsd: 1 } });
    expect(l.record("a", { costUsd: 0.6 }, T0)).toEqual([]);
    expect(l.exceeded("a", T0)).toBeNull();
    expect(l.record("a", { costUsd: 0.5 }, T0)).toEqual([{ scope: "lane", key: "a", metric: "costUsd", spent: 1.1, limit: 1 }]);
    expect(l.record("a", { costUsd: 0.1 }, T0)).toEqual([]); // already spent: no second breach
    expect(l.exceeded("a", T0)).toMatchObject({ scope: "lane", metric: "costUsd" });
  });

  it("rolls usage up from children to parents, so a child's spend counts against the parent budget", () => {
    const l = new BudgetLedger();
    l.registerLane("parent", { repoId: "r", budget: { maxTokens: 100 } });
    l.registerLane("child", { repoId: "r", parentId: "parent" });
    l.registerLane("grandchild", { repoId: "r", parentId: "child" });
    const breaches = l.record("grandchild", { inputTokens: 100 }, T0);
    expect(breaches).toEqual([{ scope: "lane", key: "parent", metric: "tokens", spent: 100, limit: 100 }]);
    expect(l.usage("lane", "child", T0)).toEqual({ tokens: 100, costUsd: 0 });
    expect(l.usage("repo", "r", T0).tokens).toBe(100);
    // A sibling of the spender may not start either: its ancestor's budget is spent.
    l.registerLane("sibling", { repoId: "r", parentId: "parent" });
    expect(l.preflight("sibling", T0)).toMatchObject({ ok: false, scope: "lane", key: "parent" });
  });

  it("repo, repo-per-day and per-day budgets refuse every lane they cover; a new UTC day resets the daily ones", () => {
    const l = new BudgetLedger();
    l.setRepoBudget("r", { daily: { maxTokens: 50 } });
    l.setDailyBudget({ maxCostUsd: 10 });
    l.registerLane("a", { repoId: "r" });
    l.registerLane("b", { repoId: "r" });
    l.registerLane("other", { repoId: "q" });
    l.record("a", { outputTokens: 50 }, T0);
    expect(l.preflight("b", T0)).toMatchObject({ ok: false, scope: "repo_day", key: "2026-11-03|r" });
    expect(l.preflight("other", T0)).toEqual({ ok: true });
    l.record("other", { costUsd: 10 }, T0);
    expect(l.preflight("other", T0)).toMatchObject({ ok: false, scope: "day", key: "2026-11-03" });
    expect(l.preflight("b", T0 + DAY)).toEqual({ ok: true });
    l.setRepoBudget("r", { total: { maxTokens: 60 } });
    l.record("a", { outputTokens: 10 }, T0 + DAY);
    expect(l.preflight("b", T0 + DAY)).toMatchObject({ ok: false, scope: "repo", key: "r", spent: 60 });
  });

  it("rejects NaN, negative and infinite budgets and usage with the field named, changing nothing", () => {
    const l = new BudgetLedger();
    expect(fieldsOf(() => l.registerLane("a", { repoId: "r", budget: { maxTokens: Number.NaN } }))).toEqual(["budget.maxTokens"]);
    expect(l.hasLane("a")).toBe(false);
    expect(fieldsOf(() => l.setRepoBudget("r", { daily: { maxCostUsd: -1 } }))).toEqual(["daily.maxCostUsd"]);
    expect(fieldsOf(() => l.setDailyBudget({ maxCostUsd: Number.POSITIVE_INFINITY }))).toEqual(["maxCostUsd"]);
    l.registerLane("a", { repoId: "r" });
    expect(fieldsOf(() => l.record("a", { inputTokens: -5 }, T0))).toEqual(["inputTokens"]);
    expect(fieldsOf(() => l.record("a", { costUsd: Number.NaN }, T0))).toEqual(["costUsd"]);
    expect(l.usage("lane", "a", T0)).toEqual({ tokens: 0, costUsd: 0 });
    expect(BudgetSchema.safeParse({ maxTokens: 10, extra: 1 }).success).toBe(false);
  });

  it("survives a snapshot round trip through JSON", () => {
    const l = new BudgetLedger();
    l.registerLane("p", { repoId: "r", budget: { maxTokens: 10 } });
    l.registerLane("c", { repoId: "r", parentId: "p" });
    l.setRepoBudget("r", { daily: { maxCostUsd: 2 } });
    l.record("c", { inputTokens: 4, costUsd: 1.5 }, T0);
    const r = BudgetLedger.restore(JSON.parse(JSON.stringify(l.snapshot())));
    expect(r.snapshot()).toEqual(l.snapshot());
    r.record("c", { inputTokens: 6, costUsd: 0.5 }, T0);
    expect(r.exceeded("c", T0)).toMatchObject({ scope: "lane", key: "p" });
  });
});

describe("RateLimiter", () => {
  it("a token bucket allows `burst` at once, then one request per 60000/rpm ms", () => {
    const rl = new RateLimiter();
    rl.configure("claude", { requestsPerMinute: 6, burst: 2 }, 0);
    expect(rl.tryAcquire("claude", 0)).toBe(true);
    expect(rl.tryAcquire("claude", 0)).toBe(true);
    expect(rl.tryAcquire("claude", 0)).toBe(false);
    expect(rl.nextAllowedAt("claude", 0)).toBe(10_000);
    expect(rl.tryAcquire("claude", 9_999)).toBe(false);
    expect(rl.tryAcquire("claude", 10_000)).toBe(true);
    expect(rl.nextAllowedAt("codex", 5)).toBe(5); // unconfigured: unlimited
  });

  it("backs off exponentially on throttling, honours Retry-After, and resets after a success", () => {
    const rl = new RateLimiter({ baseMs: 1000, maxMs: 8000 });
    expect(rl.onThrottled("claude", 0)).toBe(1000);
    expect(rl.onThrottled("claude", 1000)).toBe(3000);
    expect(rl.onThrottled("claude", 3000)).toBe(7000);
    expect(rl.onThrottled("claude", 7000)).toBe(15_000);
    expect(rl.onThrottled("claude", 15_000)).toBe(23_000); // capped at 8 s
    expect(rl.nextAllowedAt("claude", 20_000)).toBe(23_000);
    expect(rl.tryAcquire("claude", 22_999)).toBe(false);
    rl.onSuccess("claude");
    expect(rl.onThrottled("claude", 30_000, 5000)).toBe(35_000); // Retry-After beats the 1 s base
  });

  it("rejects a bad limit with the field named", () => {
    const rl = new RateLimiter();
    expect(fieldsOf(() => rl.configure("claude", { requestsPerMinute: 0 }))).toEqual(["requestsPerMinute"]);
    expect(fieldsOf(() => rl.configure("claude", { requestsPerMinute: 10, burst: Number.NaN }))).toEqual(["burst"]);
    expect(rl.limitOf("claude")).toBeNull();
  });
});
