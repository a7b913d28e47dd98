/**
 * The dispatch queue: which queued lane starts next, respecting pool caps (global and per repo),
 * per-repo fairness and, inside a repo, priority → deadline → age.
 *
 * ## Algorithm
 * Each pool (`agent`, `check`, `background`) is an independent queue with its own caps, so
 * long background runs never take agent slots. Inside a pool:
 * - every repo has one binary heap per engine (a *flow*) ordered by {@link compareItems}
 *   (priority desc, deadline asc with null last, enqueuedAt asc, seq asc);
 * - per engine, an index heap of that engine's non-empty flows orders repos by
 *   {@link compareHeads}: the flow head's priority first (strict priority bands, as in POSIX
 *   SCHED_RR or Kubernetes API Priority and Fairness), then the repo's virtual start tag, then
 *   the heads themselves;
 * - the tags implement Start-time Fair Queueing (Goyal, Vin & Cheng, SIGCOMM 1996) with unit
 *   cost per start: serving repo r gives `start = max(tag_r, V)`, `V = start`,
 *   `tag_r = start + 1/weight_r`. A repo that becomes backlogged joins at `max(tag_r, V)`, so
 *   idleness earns no credit. Within one priority band this is weighted round-robin across
 *   repos: a repo with 500 queued lanes delays another repo's single lane by at most one start
 *   per other backlogged repo. A repo skipped because of its own cap keeps its tag and is
 *   served first when it can start again (bounded by its cap).
 *
 * `next()` takes the best top over the indexes of engines that are not rate-limited (an
 * engine's rate limit skips its whole index, so a rate-limited lane never blocks the lanes
 * behind it), popping aside repos that are at their per-repo cap or gated until an eligible one
 * is on top. A decision costs O(E·log R + log n + k·log R) for E engines (≤ 6), R repos and k
 * repos skipped (usually 0); a start re-keys the served repo's ≤ E flows. Lane-level gates
 * (budget spent) park the lane: it leaves its heap until {@link DispatchQueue.release}.
 *
 * Positions ({@link DispatchQueue.positions}) are exact but lazy: the pool's order is simulated
 * as if caps and gates allowed every start (O(n log n)), and cached until the next mutation.
 *
 * Pure and deterministic: no I/O, no wall clock (`now` is passed in), total orders (seq is
 * unique) so a queue rebuilt from {@link DispatchQueue.snapshot} chooses exactly as before.
 */
import { AppError } from "@/lib/errors";
import { parseOrThrow } from "@/lib/validate";
import { IndexedHeap } from "./heap";
import { POOLS, PrioritySchema, QueueItemSchema, EpochMsSchema, type Pool, type QueueItemInput } from "./schemas";
import type { CapacityView, DispatchDecision, Explanation, QueueItem, QueueSnapshot, WaitReason } from "./types";

export type { DispatchDecision, Explanation, QueueSnapshot } from "./types";
import { z } from "zod";
import { simulateOrder, toItem } from "./order";
import {
  byFlow, byItem, extractNode, flowKey, flowOf, indexOf, insertNode, refreshEngines, repoOf,
  type FlowNode, type ItemNode, type PoolState,
} from "./pool-state";

export { compareHeads, compareItems } from "./order";

export const QueueUpdateSchema = z
  .object({ priority: PrioritySchema.optional(), deadline: EpochMsSchema.nullable().optional() })
  .strict();

/** State of one `next()` decision in one pool. */
interface Choice {
  ps: PoolState;
  view: CapacityView;
  now: number;
  verdicts: Map<string, WaitReason | null>;
  /** Flows popped off their index because their repo may not start; pushed back at the end. */
  aside: FlowNode[];
  passedOver: DispatchDecision["passedOver"];
  parked: DispatchDecision["parked"];
}

const PASSED_OVER_LISTED = 20;

export class DispatchQueue {
  #items = new Map<string, ItemNode>();
  #pools: Record<Pool, PoolState>;
  #weights = new Map<string, number>();
  #nextSeq = 0;
  #version = 0;
  #positions: { version: number; pool: Pool; map: Map<string, number> }[] = [];
  /** Lanes parked by a lane-level gate in {@link next} since the last {@link takeGateParked}. */
  #gateParked: Array<{ laneId: string; waitingFor: WaitReason }> = [];

  constructor() {
    const make = (pool: Pool): PoolState => ({ pool, repos: new Map(), indexes: new Map(), vtime: 0, blocked: new Map(), count: 0 });
    this.#pools = { agent: make("agent"), check: make("check"), background: make("background") };
  }

  get size(): number {
    return this.#items.size;
  }
  sizeOf(pool: Pool): number {
    return this.#pools[pool].count;
  }
  has(laneId: string): boolean {
    return this.#items.has(laneId);
  }
  get(laneId: string): (QueueItem & { parked: WaitReason | null }) | undefined {
    const n = this.#items.get(laneId);
    return n && { ...n.item, parked: n.parked };
  }

  /**
   * Queue a lane. `seq` is assigned when absent. A lane that must wait for something the queue
   * does not watch (dependencies, a lane budget) enters parked with `waitingFor`.
   * @throws AppError invalid_input (field named) for a bad item; conflict if the lane is queued.
   */
  enqueue(input: QueueItemInput, waitingFor?: WaitReason): QueueItem {
    const parsed = parseOrThrow(QueueItemSchema, input);
    if (this.#items.has(parsed.laneId)) throw new AppError("conflict", `laneId: lane ${parsed.laneId} is already queued`, { fields: ["laneId"] });
    if (parsed.seq !== undefined && parsed.seq < this.#nextSeq)
      throw new AppError("invalid_input", `seq: must be at least ${this.#nextSeq} (seqs are unique)`, { fields: ["seq"] });
    const item = toItem(parsed, parsed.seq ?? this.#nextSeq);
    this.#nextSeq = Math.max(this.#nextSeq, item.seq + 1);
    const node: ItemNode = { item, parked: waitingFor ?? null, heapPos: -1 };
    this.#items.set(item.laneId, node);
    const ps = this.#pools[item.pool];
    ps.count++;
    if (!node.parked) insertNode(ps, node);
    else repoOf(ps, item.repoId);
    this.#version++;
    return item;
  }

  /**
   * Put back an item that {@link next} handed out but that could not start (it keeps its age and
   * seq; its repo's fair-share tag stays advanced). @throws AppError conflict if it is queued.
   */
  reinsert(item: QueueItem): void {
    if (this.#items.has(item.laneId)) throw new AppError("conflict", `laneId: lane ${item.laneId} is already queued`, { fields: ["laneId"] });
    const node: ItemNode = { item: toItem(item, item.seq), parked: null, heapPos: -1 };
    this.#items.set(item.laneId, node);
    const ps = this.#pools[item.pool];
    ps.count++;
    insertNode(ps, node);
    this.#version++;
  }

  /** Drop a lane from the queue (started elsewhere, killed, deleted). Returns false if absent. */
  remove(laneId: string): boolean {
    const node = this.#items.get(laneId);
    if (!node) return false;
    const ps = this.#pools[node.item.pool];
    if (!node.parked) extractNode(ps, node);
    this.#items.delete(laneId);
    ps.count--;
    this.#version++;
    return true;
  }

  /**
   * Change a queued lane's priority and/or deadline; its age and seq are kept.
   * @throws AppError invalid_input naming the field; not_found if the lane is not queued.
   */
  update(laneId: string, patch: z.input<typeof QueueUpdateSchema>): QueueItem {
    const p = parseOrThrow(QueueUpdateSchema, patch);
    const node = this.#items.get(laneId);
    if (!node) throw new AppError("not_found", `laneId: lane ${laneId} is not queued`, { fields: ["laneId"] });
    const ps = this.#pools[node.item.pool];
    const wasIn = !node.parked;
    if (wasIn) extractNode(ps, node);
    const old = node.item;
    node.item = toItem({ ...old, priority: p.priority ?? old.priority, deadline: p.deadline === undefined ? old.deadline : p.deadline }, old.seq);
    if (wasIn) insertNode(ps, node, false);
    this.#version++;
    return node.item;
  }

  /** Hold a queued lane out of dispatch with a reason (dependency, budget); re-park updates it. */
  park(laneId: string, waitingFor: WaitReason): boolean {
    const node = this.#items.get(laneId);
    if (!node) return false;
    if (!node.parked) extractNode(this.#pools[node.item.pool], node);
    node.parked = waitingFor;
    this.#version++;
    return true;
  }

  /** Let a parked lane compete again (keeps its age and seq). Returns false if not parked. */
  release(laneId: string): boolean {
    const node = this.#items.get(laneId);
    if (!node?.parked) return false;
    node.parked = null;
    insertNode(this.#pools[node.item.pool], node);
    this.#version++;
    return true;
  }

  /**
   * Lanes parked by a lane-level gate (spent budget) during {@link next} calls since the last
   * call of this method — also those parked by a call that found nothing to start.
   */
  takeGateParked(): Array<{ laneId: string; waitingFor: WaitReason }> {
    const out = this.#gateParked;
    this.#gateParked = [];
    return out.filter((p) => this.#items.get(p.laneId)?.parked === p.waitingFor);
  }

  /** Lanes currently parked, with why. */
  parked(): Array<{ laneId: string; waitingFor: WaitReason }> {
    const out: Array<{ laneId: string; waitingFor: WaitReason }> = [];
    for (const n of this.#items.values()) if (n.parked) out.push({ laneId: n.item.laneId, waitingFor: n.parked });
    return out;
  }

  /** Fair-share weight of a repo (default 1): a weight-2 repo gets two starts per round. */
  setWeight(repoId: string, weight: number): void {
    if (!(weight > 0 && weight <= 1000)) throw new AppError("invalid_input", "weight: must be > 0 and ≤ 1000", { fields: ["weight"] });
    this.#weights.set(repoId, weight);
  }

  /**
   * Choose and remove the next lane to start: pools in order agent → check → background, each
   * only while it has a free global slot; within a pool, the best repo (see module doc) that has
   * a free per-repo slot and passes the gates. Returns null when nothing can start now.
   * The caller starts the lane and records it as running in its capacity view.
   */
  next(view: CapacityView, now: number): { item: QueueItem; decision: DispatchDecision } | null {
    for (const pool of POOLS) {
      const ps = this.#pools[pool];
      if (ps.count === 0 || view.globalFree(pool) <= 0) continue;
      refreshEngines(ps, view, now);
      const pick: Choice = { ps, view, now, verdicts: new Map(), aside: [], passedOver: [], parked: [] };
      let chosen: { node: ItemNode; round: number } | null = null;
      for (let best = this.#best(pick); best && !chosen; best = this.#best(pick)) {
        const node = best.heap.peek()!;
        const laneBlock = view.laneBlock?.(node.item, now);
        if (!laneBlock) chosen = { node, round: this.#take(ps, node) };
        else {
          this.park(node.item.laneId, laneBlock);
          pick.parked.push({ laneId: node.item.laneId, waitingFor: laneBlock });
          this.#gateParked.push({ laneId: node.item.laneId, waitingFor: laneBlock });
        }
      }
      for (const f of pick.aside) indexOf(ps, f.key).push(f);
      if (chosen) {
        const { item } = chosen.node;
        const decision: DispatchDecision = { pool, repoId: item.repoId, laneId: item.laneId, round: chosen.round, passedOver: pick.passedOver, parked: pick.parked, queuedInPool: ps.count };
        return { item, decision };
      }
    }
    return null;
  }

  /** The best flow over the indexes of engines not rate-limited, after setting aside blocked repos. */
  #best(pick: Choice): FlowNode | null {
    let best: FlowNode | null = null;
    for (const [key, index] of pick.ps.indexes) {
      if (pick.ps.blocked.has(key)) continue;
      let top = index.peek();
      while (top && this.#verdict(pick, top.repo.repoId)) {
        pick.aside.push(index.pop()!);
        top = index.peek();
      }
      if (top && (!best || byFlow(top, best) < 0)) best = top;
    }
    return best;
  }

  /** Why a repo may not start anything in this decision (its cap, a repo-wide gate), or null. Asked once per repo. */
  #verdict(pick: Choice, repoId: string): WaitReason | null {
    let v = pick.verdicts.get(repoId);
    if (v !== undefined) return v;
    const { ps, view, now } = pick;
    v = view.repoFree(ps.pool, repoId) <= 0 ? { kind: "cap", pool: ps.pool, scope: "repo" } : (view.repoBlock?.(repoId, now) ?? null);
    pick.verdicts.set(repoId, v);
    if (v && pick.passedOver.length < PASSED_OVER_LISTED) pick.passedOver.push({ repoId, waitingFor: v });
    return v;
  }

  /**
   * Why a queued lane is waiting and where it stands. Null if the lane is not queued.
   * Precedence of reasons: parked reason, engine rate limit, global cap, repo cap, repo gate, turn.
   */
  explain(laneId: string, view: CapacityView, now: number): Explanation | null {
    const node = this.#items.get(laneId);
    if (!node) return null;
    const { repoId, pool, engine } = node.item;
    const base = { laneId, repoId, pool };
    if (node.parked) return { ...base, position: null, waitingFor: node.parked };
    const position = this.positions(pool).get(laneId) ?? null;
    const retryAt = engine === null ? null : view.engineRetryAt?.(engine, now);
    let waitingFor: WaitReason = { kind: "turn" };
    if (engine !== null && retryAt != null && retryAt > now) waitingFor = { kind: "rate_limit", engine, retryAt };
    else if (view.globalFree(pool) <= 0) waitingFor = { kind: "cap", pool, scope: "global" };
    else if (view.repoFree(pool, repoId) <= 0) waitingFor = { kind: "cap", pool, scope: "repo" };
    else waitingFor = view.repoBlock?.(repoId, now) ?? waitingFor;
    return { ...base, position, waitingFor };
  }

  /**
   * 1-based dispatch order of the pool's unparked lanes, simulated as if every start were
   * allowed (same comparators and tag rule as {@link next}). O(n log n); cached per mutation.
   */
  positions(pool: Pool): Map<string, number> {
    const hit = this.#positions.find((p) => p.pool === pool && p.version === this.#version);
    if (hit) return hit.map;
    const ps = this.#pools[pool];
    const repos: Array<{ repoId: string; tag: number; items: QueueItem[] }> = [];
    for (const r of ps.repos.values()) {
      if (r.size === 0) continue;
      const items: QueueItem[] = [];
      for (const f of r.flows.values()) for (const n of f.heap.values()) items.push(n.item);
      repos.push({ repoId: r.repoId, tag: r.tag, items });
    }
    const map = simulateOrder(repos, ps.vtime, (repoId) => this.#weights.get(repoId) ?? 1);
    this.#positions = [...this.#positions.filter((p) => p.version === this.#version && p.pool !== pool), { version: this.#version, pool, map }];
    return map;
  }

  /** Everything needed to rebuild this queue exactly (items by seq, fairness tags, weights). */
  snapshot(): QueueSnapshot {
    const items = [...this.#items.values()]
      .map((n) => (n.parked ? { ...n.item, parked: n.parked } : { ...n.item }))
      .sort((a, b) => a.seq - b.seq);
    return { version: 1, items, ...this.snapshotFairness() };
  }

  /**
   * The part of a snapshot that persisted items cannot give back: fair-share tags and virtual
   * time per pool, weights, next seq. O(repos), so it can be saved after every dispatch pass.
   */
  snapshotFairness(): Omit<QueueSnapshot, "version" | "items"> {
    const fairness = {} as QueueSnapshot["fairness"];
    for (const pool of POOLS) {
      const ps = this.#pools[pool];
      fairness[pool] = { vtime: ps.vtime, tags: Object.fromEntries([...ps.repos.values()].map((r) => [r.repoId, r.tag])) };
    }
    return { nextSeq: this.#nextSeq, fairness, weights: Object.fromEntries(this.#weights) };
  }

  /**
   * Rebuild a queue from a snapshot, or from persisted rows alone (`fairness` absent: all tags
   * start at 0, so order falls back to priority/deadline/age across repos). Heaps are built
   * bottom-up in O(n). Items are trusted (they were validated when first queued).
   * @throws AppError conflict on a duplicate laneId or seq.
   */
  static restore(snap: Pick<QueueSnapshot, "items"> & Partial<QueueSnapshot>): DispatchQueue {
    const q = new DispatchQueue();
    const seqs = new Set<number>();
    const perFlow = new Map<FlowNode, ItemNode[]>();
    for (const raw of snap.items) {
      const item = toItem(raw, raw.seq);
      const parked = (raw as { parked?: WaitReason }).parked;
      if (q.#items.has(item.laneId) || seqs.has(item.seq)) throw new AppError("conflict", `duplicate lane ${item.laneId} or seq ${item.seq} in snapshot`);
      seqs.add(item.seq);
      const node: ItemNode = { item, parked: parked ?? null, heapPos: -1 };
      q.#items.set(item.laneId, node);
      q.#nextSeq = Math.max(q.#nextSeq, item.seq + 1);
      const ps = q.#pools[item.pool];
      ps.count++;
      const repo = repoOf(ps, item.repoId);
      if (node.parked) continue;
      const flow = flowOf(repo, flowKey(item));
      let nodes = perFlow.get(flow);
      if (!nodes) perFlow.set(flow, (nodes = []));
      nodes.push(node);
      repo.size++;
    }
    for (const [flow, nodes] of perFlow) flow.heap = IndexedHeap.build(byItem, nodes);
    q.#nextSeq = Math.max(q.#nextSeq, snap.nextSeq ?? 0);
    for (const [repoId, w] of Object.entries(snap.weights ?? {})) q.#weights.set(repoId, w);
    for (const pool of POOLS) {
      const ps = q.#pools[pool];
      const fair = snap.fairness?.[pool];
      ps.vtime = fair?.vtime ?? 0;
      for (const repoId of Object.keys(fair?.tags ?? {})) repoOf(ps, repoId);
      const byKey = new Map<string, FlowNode[]>();
      for (const repo of ps.repos.values()) {
        repo.tag = fair?.tags[repo.repoId] ?? ps.vtime;
        for (const f of repo.flows.values()) {
          if (!f.heap.size) continue;
          const list = byKey.get(f.key);
          if (list) list.push(f);
          else byKey.set(f.key, [f]);
        }
      }
      for (const [key, flows] of byKey) ps.indexes.set(key, IndexedHeap.build(byFlow, flows));
    }
    return q;
  }

  /** Dispatch `node`: remove it and advance its repo's fair-share tag. @returns the start tag. */
  #take(ps: PoolState, node: ItemNode): number {
    const repo = ps.repos.get(node.item.repoId)!;
    const start = Math.max(repo.tag, ps.vtime);
    extractNode(ps, node);
    ps.vtime = start;
    repo.tag = start + 1 / (this.#weights.get(repo.repoId) ?? 1);
    for (const f of repo.flows.values()) if (f.heap.size) indexOf(ps, f.key).update(f);
    this.#items.delete(node.item.laneId);
    ps.count--;
    this.#version++;
    return start;
  }
}
