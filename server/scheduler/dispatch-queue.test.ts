import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { CapacityTracker, DEFAULT_CAPS } from "./capacity";
import { DispatchQueue } from "./dispatch-queue";
import { NaiveQueue, seededRandom } from "./reference-queue";
import type { Pool } from "./schemas";
import { UNLIMITED, type CapacityView, type QueueItem } from "./types";

type Lane = { laneId: string; repoId: string; pool?: Pool; priority?: number; deadline?: number | null; enqueuedAt?: number; engine?: string | null };
const item = (l: Lane) => ({ pool: "agent" as Pool, priority: 0, deadline: null, enqueuedAt: 0, ...l });

/** Drain with the given view, starting (and immediately finishing, if `finish`) each pick. */
function drain(q: DispatchQueue, view: CapacityView = UNLIMITED, now = 0): string[] {
  const out: string[] = [];
  for (let r = q.next(view, now); r; r = q.next(view, now)) out.push(r.item.laneId);
  return out;
}

function expectAppError(fn: () => unknown, field: string): void {
  try {
    fn();
  } catch (err) {
    expect(isAppError(err)).toBe(true);
    expect((err as { details: { fields: string[] } }).details.fields).toContain(field);
    expect((err as Error).message).toContain(field);
    return;
  }
  throw new Error(`expected an AppError naming ${field}`);
}

describe("DispatchQueue ordering inside a repo", () => {
  it("orders by priority, then deadline (null last), then age, then seq", () => {
    const q = new DispatchQueue();
    q.enqueue(item({ laneId: "old-low", repoId: "r", priority: -5, enqueuedAt: 1 }));
    q.enqueue(item({ laneId: "new-nodeadline", repoId: "r", enqueuedAt: 50 }));
    q.enqueue(item({ laneId: "late-deadline", repoId: "r", deadline: 9000, enqueuedAt: 60 }));
    q.enqueue(item({ laneId: "soon-deadline", repoId: "r", deadline: 5000, enqueuedAt: 70 }));
    q.enqueue(item({ laneId: "old-nodeadline", repoId: "r", enqueuedAt: 10 }));
    q.enqueue(item({ laneId: "high", repoId: "r", priority: 7, enqueuedAt: 99 }));
    q.enqueue(item({ laneId: "same-age-second", repoId: "r", enqueuedAt: 10 }));
    expect(drain(q)).toEqual(["high", "soon-deadline", "late-deadline", "old-nodeadline", "same-age-second", "new-nodeadline", "old-low"]);
  });

  it("update changes priority but keeps age; remove drops a lane", () => {
    const q = new DispatchQueue();
    for (const id of ["a", "b", "c"]) q.enqueue(item({ laneId: id, repoId: "r", enqueuedAt: id.charCodeAt(0) }));
    q.update("c", { priority: 3 });
    expect(q.remove("a")).toBe(true);
    expect(q.remove("a")).toBe(false);
    expect(drain(q)).toEqual(["c", "b"]);
  });
});

describe("DispatchQueue fairness across repos", () => {
  it("a repo with 500 queued lanes delays another repo's single lane by at most one start", () => {
    const q = new DispatchQueue();
    for (let i = 0; i < 500; i++) q.enqueue(item({ laneId: `big-${i}`, repoId: "big", enqueuedAt: i }));
    q.enqueue(item({ laneId: "small-0", repoId: "small", enqueuedAt: 1000 }));
    const order = drain(q);
    expect(order.indexOf("small-0")).toBe(1);
  });

  it("a repo that arrives later joins the current round, with no credit for idleness", () => {
    const q = new DispatchQueue();
    for (let i = 0; i < 10; i++) q.enqueue(item({ laneId: `a${i}`, repoId: "A", enqueuedAt: i }));
    for (let i = 0; i < 10; i++) q.enqueue(item({ laneId: `b${i}`, repoId: "B", enqueuedAt: i }));
    const first = [0, 1, 2, 3, 4, 5].map(() => q.next(UNLIMITED, 0)!.item.laneId);
    expect(first).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
    for (let i = 0; i < 3; i++) q.enqueue(item({ laneId: `c${i}`, repoId: "C", enqueuedAt: 100 + i }));
    const rest = drain(q);
    // C joins the round in progress (V = 2, A and B are at 3): one start, then strict
    // round-robin; it does not get three starts in a row for having been idle.
    expect(rest.slice(0, 6)).toEqual(["c0", "a3", "b3", "c1", "a4", "b4"]);
  });

  it("a repo that was idle for many rounds does not bank credit for it", () => {
    const q = new DispatchQueue();
    q.enqueue(item({ laneId: "c-early", repoId: "C" }));
    for (let i = 0; i < 20; i++) q.enqueue(item({ laneId: `a${i}`, repoId: "A", enqueuedAt: i }));
    for (let i = 0; i < 20; i++) q.enqueue(item({ laneId: `b${i}`, repoId: "B", enqueuedAt: i }));
    const first = Array.from({ length: 21 }, () => q.next(UNLIMITED, 0)!.item.laneId);
    expect(first[0]).toBe("c-early");
    for (let i = 0; i < 3; i++) q.enqueue(item({ laneId: `c${i}`, repoId: "C", enqueuedAt: 100 + i }));
    const rest = drain(q).slice(0, 6);
    expect(rest.filter((x) => x.startsWith("c"))).toHaveLength(2);
  });

  it("priority bands are strict across repos; round-robin applies within a band", () => {
    const q = new DispatchQueue();
    q.enqueue(item({ laneId: "a-low", repoId: "A", priority: 0 }));
    q.enqueue(item({ laneId: "a-high", repoId: "A", priority: 5 }));
    q.enqueue(item({ laneId: "b-high1", repoId: "B", priority: 5, enqueuedAt: 1 }));
    q.enqueue(item({ laneId: "b-high2", repoId: "B", priority: 5, enqueuedAt: 2 }));
    q.enqueue(item({ laneId: "c-low", repoId: "C", priority: 0 }));
    // In band 0, C has not been served yet while A has: C first.
    expect(drain(q)).toEqual(["a-high", "b-high1", "b-high2", "c-low", "a-low"]);
  });

  it("weights give a repo proportionally more starts", () => {
    const q = new DispatchQueue();
    q.setWeight("heavy", 2);
    for (let i = 0; i < 6; i++) q.enqueue(item({ laneId: `h${i}`, repoId: "heavy", enqueuedAt: i }));
    for (let i = 0; i < 6; i++) q.enqueue(item({ laneId: `l${i}`, repoId: "light", enqueuedAt: i }));
    const first6 = drain(q).slice(0, 6);
    expect(first6.filter((x) => x.startsWith("h"))).toHaveLength(4);
  });
});

describe("DispatchQueue caps", () => {
  function world(caps = DEFAULT_CAPS) {
    const cap = new CapacityTracker(caps);
    const q = new DispatchQueue();
    const start = (now = 0) => {
      const r = q.next(cap, now);
      if (r) cap.started(r.item.laneId, r.item.repoId, r.item.pool);
      return r;
    };
    return { cap, q, start };
  }

  it("respects the global cap per pool and the per-repo cap, and says which one blocks", () => {
    const { cap, q, start } = world();
    cap.setCaps({ global: { agent: 3 }, repos: { A: { agent: 1 } } });
    for (let i = 0; i < 3; i++) q.enqueue(item({ laneId: `a${i}`, repoId: "A", enqueuedAt: i }));
    for (let i = 0; i < 3; i++) q.enqueue(item({ laneId: `b${i}`, repoId: "B", enqueuedAt: 10 + i }));
    const started = [start(), start(), start(), start()].map((r) => r?.item.laneId ?? null);
    expect(started).toEqual(["a0", "b0", "b1", null]);
    expect(q.explain("a1", cap, 0)!.waitingFor).toEqual({ kind: "cap", pool: "agent", scope: "global" });
    cap.finished("b0");
    expect(q.explain("a1", cap, 0)!.waitingFor).toEqual({ kind: "cap", pool: "agent", scope: "repo" });
    const r = start()!;
    expect(r.item.laneId).toBe("b2");
    expect(r.decision.passedOver).toEqual([{ repoId: "A", waitingFor: { kind: "cap", pool: "agent", scope: "repo" } }]);
  });

  it("lowering a cap never stops running work; it only stops new starts until below the cap", () => {
    const { cap, q, start } = world();
    cap.setCaps({ global: { agent: 4 } });
    for (let i = 0; i < 8; i++) q.enqueue(item({ laneId: `l${i}`, repoId: "r", enqueuedAt: i }));
    for (let i = 0; i < 4; i++) start();
    cap.setCaps({ global: { agent: 2 } });
    expect(cap.running().agent).toBe(4);
    expect(cap.globalFree("agent")).toBe(-2);
    expect(start()).toBeNull();
    cap.finished("l0");
    cap.finished("l1");
    expect(start()).toBeNull(); // 2 running, cap 2
    cap.finished("l2");
    expect(start()!.item.laneId).toBe("l4");
    expect(start()).toBeNull();
  });

  it("a full background pool never holds back agent lanes", () => {
    const { cap, q, start } = world();
    cap.setCaps({ global: { agent: 2, background: 1 } });
    for (let i = 0; i < 50; i++) q.enqueue(item({ laneId: `bg${i}`, repoId: "r", pool: "background", priority: 1000, enqueuedAt: i }));
    q.enqueue(item({ laneId: "interactive", repoId: "r", enqueuedAt: 999 }));
    const picks = [start(), start(), start()].map((r) => r?.item.laneId ?? null);
    expect(picks).toEqual(["interactive", "bg0", null]);
    expect(cap.running()).toEqual({ agent: 1, check: 0, background: 1 });
  });

  it("caps updates are validated with the field named and change nothing on error", () => {
    const { cap } = world();
    const before = cap.caps;
    expectAppError(() => cap.setCaps({ global: { agent: -1 } }), "global.agent");
    expectAppError(() => cap.setCaps({ repos: { A: { check: 1.5 } } }), "repos.A.check");
    expectAppError(() => cap.setCaps({ global: { agent: 2 }, perRepo: { agent: Number.NaN } }), "perRepo.agent");
    expect(cap.caps).toEqual(before);
  });
});

describe("DispatchQueue gates", () => {
  it("a rate-limited engine does not block other engines' lanes behind it, and is explained", () => {
    const q = new DispatchQueue();
    q.enqueue(item({ laneId: "claude-1", repoId: "r", engine: "claude", priority: 9 }));
    q.enqueue(item({ laneId: "codex-1", repoId: "r", engine: "codex" }));
    const view: CapacityView = { ...UNLIMITED, engineRetryAt: (e) => (e === "claude" ? 5000 : null) };
    expect(q.explain("claude-1", view, 1000)!.waitingFor).toEqual({ kind: "rate_limit", engine: "claude", retryAt: 5000 });
    expect(q.next(view, 1000)!.item.laneId).toBe("codex-1");
    expect(q.next(view, 1000)).toBeNull();
    expect(q.next(view, 5000)!.item.laneId).toBe("claude-1");
  });

  it("a lane-level gate parks the lane with its reason until released", () => {
    const q = new DispatchQueue();
    q.enqueue(item({ laneId: "broke", repoId: "r", priority: 5 }));
    q.enqueue(item({ laneId: "fine", repoId: "r" }));
    const reason = { kind: "budget", scope: "lane", key: "broke", metric: "tokens", spent: 10, limit: 10 } as const;
    const view: CapacityView = { ...UNLIMITED, laneBlock: (i) => (i.laneId === "broke" ? reason : null) };
    const r = q.next(view, 0)!;
    expect(r.item.laneId).toBe("fine");
    expect(r.decision.parked).toEqual([{ laneId: "broke", waitingFor: reason }]);
    expect(q.explain("broke", view, 0)).toMatchObject({ position: null, waitingFor: reason });
    expect(q.release("broke")).toBe(true);
    expect(q.next(UNLIMITED, 0)!.item.laneId).toBe("broke");
  });
});

describe("DispatchQueue positions and durability", () => {
  function sample(): DispatchQueue {
    const q = new DispatchQueue();
    let t = 0;
    for (const repo of ["A", "B", "C"]) for (let i = 0; i < 7; i++) q.enqueue(item({ laneId: `${repo}${i}`, repoId: repo, priority: i % 3, deadline: i % 2 ? 10_000 + i : null, enqueuedAt: t++, engine: i % 2 ? "claude" : null }));
    q.setWeight("C", 2);
    q.next(UNLIMITED, 0);
    q.next(UNLIMITED, 0);
    return q;
  }

  it("positions are the order next() would follow with no cap in the way", () => {
    const q = sample();
    const positions = q.positions("agent");
    const order = [...positions.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
    expect(drain(q)).toEqual(order);
  });

  it("a queue restored from its snapshot (through JSON) chooses exactly the same order", () => {
    const q = sample();
    q.park("B3", { kind: "dependency", laneIds: ["X"] });
    const restored = DispatchQueue.restore(JSON.parse(JSON.stringify(q.snapshot())));
    expect(restored.snapshot()).toEqual(q.snapshot());
    expect(restored.parked()).toEqual(q.parked());
    const nextSeq = q.enqueue(item({ laneId: "late", repoId: "A", enqueuedAt: 99 })).seq;
    expect(restored.enqueue(item({ laneId: "late", repoId: "A", enqueuedAt: 99 })).seq).toBe(nextSeq);
    expect(drain(restored)).toEqual(drain(q));
  });

  it("bad input is rejected with the field named and leaves the queue unchanged", () => {
    const q = sample();
    const before = JSON.stringify(q.snapshot());
    expectAppError(() => q.enqueue(item({ laneId: "x", repoId: "r", priority: 1001 })), "priority");
    expectAppError(() => q.enqueue(item({ laneId: "x", repoId: "r", priority: 1.5 })), "priority");
    expectAppError(() => q.enqueue({ ...item({ laneId: "x", repoId: "r" }), pool: "gpu" as Pool }), "pool");
    expectAppError(() => q.enqueue(item({ laneId: "x", repoId: "r", enqueuedAt: Number.NaN })), "enqueuedAt");
    expectAppError(() => q.enqueue(item({ laneId: "A1", repoId: "A" })), "laneId");
    expectAppError(() => q.update("A3", { priority: -2000 }), "priority");
    expect(JSON.stringify(q.snapshot())).toBe(before);
  });
});

describe("DispatchQueue against the naive full-scan reference", () => {
  it("makes the same choice at every step of a random workload with caps and rate limits", () => {
    const rand = seededRandom(42);
    const fast = new DispatchQueue();
    const naive = new NaiveQueue();
    const cap = new CapacityTracker({ global: { agent: 6, check: 2, background: 1 }, perRepo: { agent: 2, check: null, background: null }, repos: { r0: { agent: 1 } } });
    const running: QueueItem[] = [];
    const parked = new Set<string>();
    const engines = ["claude", "codex", null];
    let now = 0;
    let n = 0;
    let picks = 0;
    let nulls = 0;
    const view: CapacityView = { globalFree: (p) => cap.globalFree(p), repoFree: (p, r) => cap.repoFree(p, r), engineRetryAt: (e, t) => (e === "codex" && Math.floor(t / 1000) % 3 === 0 ? (Math.floor(t / 1000) + 1) * 1000 : null) };
    for (let step = 0; step < 3000; step++) {
      now += rand(200);
      const op = rand(10);
      if (op < 4) {
        const it = item({ laneId: `l${n++}`, repoId: `r${rand(6)}`, pool: (["agent", "agent", "check", "background"] as const)[rand(4)], priority: rand(3) - 1, deadline: rand(3) ? null : now + rand(10_000), enqueuedAt: now, engine: engines[rand(3)] });
        const park = rand(5) === 0;
        fast.enqueue(it, park ? { kind: "dependency", laneIds: ["x"] } : undefined);
        naive.enqueue({ ...it, seq: n - 1 }, park);
        if (park) parked.add(it.laneId);
      } else if (op === 4 && parked.size) {
        const id = [...parked][rand(parked.size)]!;
        parked.delete(id);
        fast.release(id);
        naive.release(id);
      } else if (op === 5 && running.length) {
        cap.finished(running.splice(rand(running.length), 1)[0]!.laneId);
      } else {
        const a = fast.next(view, now)?.item ?? null;
        const b = naive.next(view, now);
        expect(a?.laneId ?? null).toBe(b?.laneId ?? null);
        if (a) picks++;
        else nulls++;
        if (a) {
          cap.started(a.laneId, a.repoId, a.pool);
          running.push(a);
        }
      }
    }
    expect(fast.size).toBe(naive.size);
    // The workload exercised both outcomes: starts and "nothing may start" (caps, rate limits).
    expect(picks).toBeGreaterThan(200);
    expect(nulls).toBeGreaterThan(100);
  });
});
