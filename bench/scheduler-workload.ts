/**
 * The scheduler benchmark's workload and driver, shared by the fast queue and the naive
 * baseline so both see exactly the same sequence of operations (and, being deterministic,
 * must make exactly the same choices).
 *
 * Workload (seeded): `lanes` queued lanes over `repos` repos, skewed (one repo holds ~20 %);
 * pools 80 % agent / 10 % check / 10 % background; engines claude/codex/anthropic on agent lanes;
 * priorities from {-10, 0, 0, 0, 5, 10}; 30 % with a deadline; dependencies: ~35 % of lanes
 * continue a chain in their repo (depend on the previous chain lane), every 25th lane of a repo
 * is a fan-in join over that repo's previous 8 lanes (`wait_all`, every 3rd `wait_any`).
 *
 * Driver: caps agent 64 (8 per repo), check 16, background 8; engines rate-limited (600 rpm,
 * burst 40). Each step advances the clock by 20 ms, completes the oldest running lane when 60
 * run (its dependants are released), times one dispatch decision, and for each start queues a
 * replacement lane (a third of them depending on the lane just started), so the queue stays at
 * ~`lanes`. 3 % of completions fail, blocking their dependants for good.
 */
import { CapacityTracker } from "../server/scheduler/capacity";
import { DependencyGraph, type DependencySpec } from "../server/scheduler/dependency-graph";
import { DispatchQueue } from "../server/scheduler/dispatch-queue";
import { RateLimiter } from "../server/scheduler/rate-limiter";
import { NaiveQueue, seededRandom } from "../server/scheduler/reference-queue";
import { slotsAndRatesView } from "../server/scheduler/scheduler-core";
import type { Pool } from "../server/scheduler/schemas";
import type { CapacityView, QueueItem } from "../server/scheduler/types";

export const T0 = Date.UTC(2026, 10, 3, 8, 0, 0);
export const ENGINES = ["claude", "codex", "anthropic"] as const;

export interface Lane {
  item: Omit<QueueItem, "seq">;
  spec: DependencySpec;
}

/** Generate lanes `from..from+count-1`; chain and fan-in state is kept in `state`. */
export function makeLanes(rand: (n: number) => number, count: number, repos: number, state = { n: 0, perRepo: new Map<number, string[]>(), chainTail: new Map<number, string>() }): { lanes: Lane[]; state: typeof state } {
  const lanes: Lane[] = [];
  for (let k = 0; k < count; k++) {
    const id = `lane-${state.n++}`;
    const repo = rand(5) === 0 ? 0 : 1 + rand(repos - 1);
    const repoId = `repo-${repo}`;
    const poolDie = rand(10);
    const pool: Pool = poolDie < 8 ? "agent" : poolDie === 8 ? "check" : "background";
    const history = state.perRepo.get(repo) ?? [];
    let deps: string[] = [];
    let mode: "wait_all" | "wait_any" = "wait_all";
    if (history.length >= 8 && history.length % 25 === 24) {
      deps = history.slice(-8);
      if (history.length % 3 === 0) mode = "wait_any";
    } else if (rand(20) < 7 && state.chainTail.has(repo)) deps = [state.chainTail.get(repo)!];
    if (deps.length === 1 || rand(4) === 0) state.chainTail.set(repo, id);
    history.push(id);
    state.perRepo.set(repo, history);
    lanes.push({
      item: {
        laneId: id,
        repoId,
        pool,
        priority: [-10, 0, 0, 0, 5, 10][rand(6)]!,
        deadline: rand(10) < 3 ? T0 + 3_600_000 + rand(3_600_000) : null,
        enqueuedAt: T0 + state.n,
        engine: pool === "agent" ? ENGINES[rand(3)]! : null,
      },
      spec: { laneId: id, deps, mode },
    });
  }
  return { lanes, state };
}

export type QueueKind = "fast" | "naive";

/** One scheduler under test plus the world around it (graph, caps, rate limits). */
export class World {
  readonly graph = new DependencyGraph();
  readonly capacity = new CapacityTracker({ global: { agent: 64, check: 16, background: 8 }, perRepo: { agent: 8, check: null, background: null }, repos: {} });
  readonly limiter = new RateLimiter();
  readonly view: CapacityView;
  readonly running: string[] = [];
  readonly picks: string[] = [];
  #q: DispatchQueue | NaiveQueue;
  #rand: (n: number) => number;
  #gen: ReturnType<typeof makeLanes>["state"];
  #repos: number;

  constructor(kind: QueueKind, seed: number, lanes: number, repos: number) {
    this.#q = kind === "fast" ? new DispatchQueue() : new NaiveQueue();
    this.#rand = seededRandom(seed);
    this.#repos = repos;
    for (const e of ENGINES) this.limiter.configure(e, { requestsPerMinute: 600, burst: 40 }, T0);
    this.view = slotsAndRatesView(this.capacity, this.limiter);
    const first = makeLanes(this.#rand, lanes, repos);
    this.#gen = first.state;
    this.#add(first.lanes);
  }

  get queue(): DispatchQueue | NaiveQueue {
    return this.#q;
  }

  /** One step; returns the ns the dispatch decision took. */
  step(now: number): number {
    if (this.running.length >= 60) this.#completeOldest();
    const t0 = process.hrtime.bigint();
    const picked = this.#q instanceof DispatchQueue ? (this.#q.next(this.view, now)?.item ?? null) : this.#q.next(this.view, now);
    const ns = Number(process.hrtime.bigint() - t0);
    if (picked) {
      this.capacity.started(picked.laneId, picked.repoId, picked.pool);
      if (picked.engine) this.limiter.tryAcquire(picked.engine, now);
      this.running.push(picked.laneId);
      this.picks.push(picked.laneId);
      const { lanes } = makeLanes(this.#rand, 1, this.#repos, this.#gen);
      if (this.#rand(3) === 0) lanes[0]!.spec.deps = [picked.laneId];
      this.#add(lanes);
    } else if (this.running.length) this.#completeOldest();
    return ns;
  }

  #add(lanes: Lane[]): void {
    this.graph.addBatch(lanes.map((l) => l.spec));
    for (const l of lanes) {
      const ready = this.graph.status(l.item.laneId).state === "ready";
      if (this.#q instanceof DispatchQueue) this.#q.enqueue(l.item, ready ? undefined : { kind: "dependency", laneIds: l.spec.deps });
      else this.#q.enqueue(l.item, !ready);
    }
  }

  #completeOldest(): void {
    const id = this.running.shift()!;
    this.capacity.finished(id);
    const changes = this.graph.onSettled(id, this.#rand(100) < 3 ? "failed" : "succeeded");
    for (const r of changes.ready) this.#q.release(r);
  }
}
