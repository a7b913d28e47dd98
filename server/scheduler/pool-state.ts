/**
 * The per-pool structure of the dispatch queue (see dispatch-queue.ts for the algorithm): per
 * repo one heap of items per engine (a *flow*), per engine an index heap of non-empty flows, and
 * the pool's Start-time Fair Queueing state (virtual time, per-repo tags). These functions keep
 * the heaps and indexes consistent; the policy (what starts next, gates, caps) stays in
 * DispatchQueue.
 */
import { IndexedHeap, type HeapNode } from "./heap";
import { compareHeads, compareItems } from "./order";
import type { Pool } from "./schemas";
import type { CapacityView, QueueItem, WaitReason } from "./types";

export interface ItemNode extends HeapNode {
  item: QueueItem;
  parked: WaitReason | null;
}

export interface RepoNode {
  repoId: string;
  flows: Map<string, FlowNode>;
  /** Unparked items. */
  size: number;
  tag: number;
}

/** One repo's lanes for one engine ("" = no engine); sits in its engine's index while non-empty. */
export interface FlowNode extends HeapNode {
  key: string;
  repo: RepoNode;
  heap: IndexedHeap<ItemNode>;
}

export interface PoolState {
  pool: Pool;
  repos: Map<string, RepoNode>;
  /** Engine key → index of that engine's non-empty flows. */
  indexes: Map<string, IndexedHeap<FlowNode>>;
  vtime: number;
  /** Engines rate-limited as of the last decision → retryAt. */
  blocked: Map<string, number>;
  count: number;
}

export const flowKey = (item: QueueItem): string => item.engine ?? "";
export const byItem = (a: ItemNode, b: ItemNode) => compareItems(a.item, b.item);
export const byFlow = (a: FlowNode, b: FlowNode) => compareHeads(a.repo.tag, a.heap.peek()!.item, b.repo.tag, b.heap.peek()!.item);

export function repoOf(ps: PoolState, repoId: string): RepoNode {
  let r = ps.repos.get(repoId);
  if (!r) ps.repos.set(repoId, (r = { repoId, flows: new Map(), size: 0, tag: ps.vtime }));
  return r;
}

export function flowOf(repo: RepoNode, key: string): FlowNode {
  let f = repo.flows.get(key);
  if (!f) repo.flows.set(key, (f = { key, repo, heap: new IndexedHeap(byItem), heapPos: -1 }));
  return f;
}

export function indexOf(ps: PoolState, key: string): IndexedHeap<FlowNode> {
  let idx = ps.indexes.get(key);
  if (!idx) ps.indexes.set(key, (idx = new IndexedHeap(byFlow)));
  return idx;
}

/** Fix a flow's place in its engine index after its head changed. */
export function reindex(ps: PoolState, flow: FlowNode): void {
  const idx = indexOf(ps, flow.key);
  if (flow.heap.size === 0) idx.remove(flow);
  else if (idx.has(flow)) idx.update(flow);
  else idx.push(flow);
}

/** Put an unparked node into its flow; `activate` applies the SFQ join rule for an idle repo. */
export function insertNode(ps: PoolState, node: ItemNode, activate = true): void {
  const repo = repoOf(ps, node.item.repoId);
  if (activate && repo.size === 0) repo.tag = Math.max(repo.tag, ps.vtime);
  const flow = flowOf(repo, flowKey(node.item));
  flow.heap.push(node);
  repo.size++;
  reindex(ps, flow);
}

export function extractNode(ps: PoolState, node: ItemNode): void {
  const repo = ps.repos.get(node.item.repoId)!;
  const flow = repo.flows.get(flowKey(node.item))!;
  flow.heap.remove(node);
  repo.size--;
  reindex(ps, flow);
}

/** Ask the view which engines are rate-limited right now (O(engines)). */
export function refreshEngines(ps: PoolState, view: CapacityView, now: number): void {
  ps.blocked.clear();
  if (!view.engineRetryAt) return;
  for (const [key, idx] of ps.indexes) {
    if (key === "" || idx.size === 0) continue;
    const retryAt = view.engineRetryAt(key, now);
    if (retryAt !== null && retryAt > now) ps.blocked.set(key, retryAt);
  }
}
