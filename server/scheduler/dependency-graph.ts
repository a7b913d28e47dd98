/**
 * Lane dependencies: a lane waits for other lanes (`wait_all` or `wait_any`),
 * optionally for an artifact they produce (a commit on their branch, or a file). Cycles and
 * self-dependencies are rejected with the cycle named; when a dependency fails, its dependants
 * become `blocked` with that reason (transitively), never silently stuck.
 *
 * Edges point from a lane to what it depends on. A dependency edge resolves
 * - positively when the dependency succeeded and produced the required artifact (if any);
 * - negatively when it failed, succeeded without the artifact, or is itself blocked;
 * - not yet otherwise.
 * `wait_all` is ready when every edge is positive and blocked at the first negative one;
 * `wait_any` is ready at the first positive edge and blocked when every edge is negative.
 *
 * Updates are incremental: settling a lane recomputes only its dependants (O(their in-degree)),
 * and recursion continues only through lanes whose blocked-ness changed. Cycle detection is a
 * depth-first search with grey/black colouring (CLRS §22.3) over the lanes being added and
 * whatever they reach; when only new lanes are added, existing lanes cannot lead back to
 * them, so the search stays inside the batch.
 */
import { AppError } from "@/lib/errors";
import type { Artifact, DependencyMode } from "./schemas";

export type DepStatus =
  | { state: "ready" }
  | { state: "waiting"; on: string[] }
  | { state: "blocked"; laneId: string; reason: string }
  | { state: "settled"; outcome: Outcome };
export type Outcome = "succeeded" | "failed";

export interface DependencySpec {
  laneId: string;
  deps: string[];
  mode?: DependencyMode;
  artifact?: Artifact | null;
  /** The lane that spawned this one (fan-out lineage; budgets roll up along it). */
  parentId?: string | null;
}

/** What a settled lane produced, for artifact dependencies. */
export interface Produced {
  commits?: string[];
  files?: string[];
  /** Why it failed, quoted in dependants' blocked reason. */
  reason?: string;
}

/** Lanes whose scheduling status changed, by new status. */
export interface StatusChanges {
  ready: string[];
  waiting: string[];
  blocked: Array<{ laneId: string; dep: string; reason: string }>;
}

export interface GraphSnapshot {
  version: 1;
  nodes: Array<Required<DependencySpec> & { outcome: Outcome | null; produced: Produced | null }>;
}

/** Thrown when dependencies would form a cycle; `cycle` lists it as `[a, b, c, a]` (a depends on b …). */
export class DependencyCycleError extends AppError {
  constructor(readonly cycle: string[]) {
    const self = cycle.length === 2;
    super("invalid_input", `dependsOn: ${self ? "a lane cannot depend on itself" : "would create a cycle"}: ${cycle.join(" → ")}`, { fields: ["dependsOn"], cycle });
  }
}

interface Node {
  laneId: string;
  deps: string[];
  mode: DependencyMode;
  artifact: Artifact | null;
  parentId: string | null;
  outcome: Outcome | null;
  produced: Produced | null;
  dependants: Set<string>;
  status: Exclude<DepStatus, { state: "settled" }>;
}

const READY = { state: "ready" } as const;

export class DependencyGraph {
  #nodes = new Map<string, Node>();

  has(laneId: string): boolean {
    return this.#nodes.has(laneId);
  }

  get size(): number {
    return this.#nodes.size;
  }

  /**
   * Add a lane (or replace an existing lane's dependencies).
   * @returns its status.
   * @throws DependencyCycleError (self-dependency or cycle, named); AppError invalid_input naming
   *   `dependsOn.<i>` for an unknown lane. The graph is unchanged when it throws.
   */
  add(laneId: string, deps: string[], mode: DependencyMode = "wait_all", artifact?: Artifact | null, parentId?: string | null): DepStatus {
    this.addBatch([{ laneId, deps, mode, artifact, parentId }]);
    return this.status(laneId);
  }

  /**
   * Add several lanes at once; they may depend on each other (fan-out/fan-in). All or nothing.
   * @throws as {@link add}; unknown ids are reported with their index: `[1].dependsOn.0`.
   */
  addBatch(specs: DependencySpec[]): StatusChanges {
    return this.#addBatch(specs, false);
  }

  /** `restoring`: specs carry their persisted outcome, applied before statuses are computed. */
  #addBatch(specs: Array<DependencySpec & { outcome?: Outcome | null; produced?: Produced | null }>, restoring: boolean): StatusChanges {
    const batch = new Map<string, (typeof specs)[number]>();
    for (const s of specs) batch.set(s.laneId, s);
    for (let i = 0; i < specs.length; i++) {
      const { laneId, deps } = specs[i]!;
      for (let j = 0; j < deps.length; j++) {
        const d = deps[j]!;
        if (d === laneId) throw new DependencyCycleError([d, d]);
        if (batch.has(d) || this.#nodes.has(d)) continue;
        const field = `${specs.length === 1 ? "" : `[${i}].`}dependsOn.${j}`;
        throw new AppError("invalid_input", `${field}: no lane ${d}`, { fields: [field] });
      }
    }
    const order = this.#topoOrder(batch);
    const changes: StatusChanges = { ready: [], waiting: [], blocked: [] };
    for (const id of order) {
      const s = batch.get(id)!;
      const old = this.#nodes.get(id);
      for (const d of old?.deps ?? []) this.#nodes.get(d)?.dependants.delete(id);
      const node: Node = {
        laneId: id,
        deps: [...s.deps],
        mode: s.mode ?? "wait_all",
        artifact: s.artifact ?? null,
        parentId: s.parentId ?? old?.parentId ?? null,
        outcome: (restoring ? s.outcome : old?.outcome) ?? null,
        produced: (restoring ? s.produced : old?.produced) ?? null,
        dependants: old?.dependants ?? new Set(),
        status: READY,
      };
      this.#nodes.set(id, node);
      for (const d of node.deps) this.#nodes.get(d)!.dependants.add(id);
      const before = old?.status;
      node.status = this.#compute(node);
      this.#record(node, changes, before);
      if (old && isBlocked(before) !== isBlocked(node.status) && !node.outcome) this.#propagate([...node.dependants], changes);
    }
    return changes;
  }

  /**
   * Fan-out/fan-in: add child lanes of `parentId` (each depending on `childDeps`, default none)
   * and a join lane waiting for the children (`wait_all` by default). All or nothing.
   */
  fanOut(spec: { parentId: string; childIds: string[]; joinId: string; mode?: DependencyMode; childDeps?: string[]; artifact?: Artifact }): StatusChanges {
    return this.addBatch([
      ...spec.childIds.map((id) => ({ laneId: id, deps: spec.childDeps ?? [], parentId: spec.parentId })),
      { laneId: spec.joinId, deps: spec.childIds, mode: spec.mode ?? "wait_all", artifact: spec.artifact ?? null, parentId: spec.parentId },
    ]);
  }

  /** @throws AppError not_found for an unknown lane. */
  status(laneId: string): DepStatus {
    const n = this.#get(laneId);
    return n.outcome ? { state: "settled", outcome: n.outcome } : n.status;
  }

  dependencies(laneId: string): string[] {
    return [...this.#get(laneId).deps];
  }
  dependants(laneId: string): string[] {
    return [...this.#get(laneId).dependants];
  }
  parentOf(laneId: string): string | null {
    return this.#get(laneId).parentId;
  }
  mode(laneId: string): DependencyMode {
    return this.#get(laneId).mode;
  }
  artifact(laneId: string): Artifact | null {
    return this.#get(laneId).artifact;
  }

  /**
   * A lane finished. Its dependants (and theirs, through blocked lanes) are recomputed.
   * @returns lanes that became ready, waiting or blocked.
   */
  onSettled(laneId: string, outcome: Outcome, produced: Produced = {}): StatusChanges {
    const n = this.#get(laneId);
    n.outcome = outcome;
    n.produced = produced;
    const changes: StatusChanges = { ready: [], waiting: [], blocked: [] };
    this.#propagate([...n.dependants], changes);
    return changes;
  }

  /** A settled lane was restarted: it and its dependants wait again on their dependencies. */
  reopen(laneId: string): StatusChanges {
    const n = this.#get(laneId);
    const changes: StatusChanges = { ready: [], waiting: [], blocked: [] };
    if (!n.outcome) return changes;
    n.outcome = null;
    n.produced = null;
    const before = n.status;
    n.status = this.#compute(n);
    this.#record(n, changes, before, true);
    this.#propagate([...n.dependants], changes);
    return changes;
  }

  /**
   * Forget a lane. @throws AppError conflict naming the unsettled lanes that still depend on it.
   */
  remove(laneId: string): void {
    const n = this.#get(laneId);
    const live = [...n.dependants].filter((d) => !this.#nodes.get(d)!.outcome);
    if (live.length) throw new AppError("conflict", `lanes ${live.join(", ")} depend on ${laneId}`, { fields: ["laneId"], dependants: live });
    for (const d of n.deps) this.#nodes.get(d)?.dependants.delete(laneId);
    for (const d of n.dependants) {
      const dep = this.#nodes.get(d)!;
      dep.deps = dep.deps.filter((x) => x !== laneId);
    }
    this.#nodes.delete(laneId);
  }

  snapshot(): GraphSnapshot {
    const nodes = [...this.#nodes.values()].map((n) => ({
      laneId: n.laneId, deps: [...n.deps], mode: n.mode, artifact: n.artifact, parentId: n.parentId, outcome: n.outcome, produced: n.produced,
    }));
    return { version: 1, nodes };
  }

  /**
   * Rebuild from a snapshot (or from persisted lanes): validates and checks cycles like
   * {@link addBatch}, with outcomes in place, computing each status once in dependency order.
   */
  static restore(snap: GraphSnapshot): DependencyGraph {
    const g = new DependencyGraph();
    g.#addBatch(snap.nodes, true);
    return g;
  }

  #get(laneId: string): Node {
    const n = this.#nodes.get(laneId);
    if (!n) throw new AppError("not_found", `no lane ${laneId} in the dependency graph`, { fields: ["laneId"] });
    return n;
  }

  /** Batch ids ordered dependencies-first. @throws DependencyCycleError naming the first cycle met. */
  #topoOrder(batch: Map<string, DependencySpec>): string[] {
    const replacing = [...batch.keys()].some((id) => this.#nodes.has(id));
    const depsOf = (id: string): string[] => batch.get(id)?.deps ?? (replacing ? (this.#nodes.get(id)?.deps ?? []) : []);
    const colour = new Map<string, 1 | 2>(); // 1 = on the stack (grey), 2 = done (black)
    const order: string[] = [];
    for (const root of batch.keys()) {
      if (colour.has(root)) continue;
      const stack: Array<{ id: string; i: number }> = [{ id: root, i: 0 }];
      colour.set(root, 1);
      while (stack.length) {
        const top = stack[stack.length - 1]!;
        const deps = depsOf(top.id);
        if (top.i < deps.length) {
          const d = deps[top.i++]!;
          const c = colour.get(d);
          if (c === 1) {
            const from = stack.findIndex((f) => f.id === d);
            throw new DependencyCycleError([...stack.slice(from).map((f) => f.id), d]);
          }
          if (c === undefined) {
            colour.set(d, 1);
            stack.push({ id: d, i: 0 });
          }
        } else {
          colour.set(top.id, 2);
          if (batch.has(top.id)) order.push(top.id);
          stack.pop();
        }
      }
    }
    return order;
  }

  /** Positive (true), negative (reason) or unresolved (null) edge from `n` to `dep`. */
  #edge(dep: Node, n: Node): true | string | null {
    if (dep.outcome === "failed") return `dependency ${dep.laneId} failed${dep.produced?.reason ? `: ${dep.produced.reason}` : ""}`;
    if (dep.outcome === "succeeded") {
      const a = n.artifact;
      if (a?.kind === "commit" && !dep.produced?.commits?.length) return `dependency ${dep.laneId} succeeded without a commit`;
      if (a?.kind === "file" && !dep.produced?.files?.includes(a.path)) return `dependency ${dep.laneId} did not produce ${a.path}`;
      return true;
    }
    if (dep.status.state === "blocked") return `dependency ${dep.laneId} is blocked (${dep.status.reason})`;
    return null;
  }

  #compute(n: Node): Node["status"] {
    if (n.deps.length === 0) return READY;
    let positive = 0;
    let negative = 0;
    let first: { laneId: string; reason: string } | null = null;
    const on: string[] = [];
    for (const d of n.deps) {
      const e = this.#edge(this.#nodes.get(d)!, n);
      if (e === true) positive++;
      else if (e === null) on.push(d);
      else {
        negative++;
        first ??= { laneId: d, reason: e };
      }
    }
    if (n.mode === "wait_all") {
      if (first) return { state: "blocked", ...first };
      return positive === n.deps.length ? READY : { state: "waiting", on };
    }
    if (positive > 0) return READY;
    if (negative === n.deps.length) return { state: "blocked", laneId: first!.laneId, reason: `every dependency failed; first: ${first!.reason}` };
    return { state: "waiting", on };
  }

  /** Recompute unsettled dependants breadth-first; continue through those whose blocked-ness flipped. */
  #propagate(queue: string[], changes: StatusChanges): void {
    for (let i = 0; i < queue.length; i++) {
      const n = this.#nodes.get(queue[i]!)!;
      if (n.outcome) continue;
      const before = n.status;
      n.status = this.#compute(n);
      this.#record(n, changes, before);
      if (isBlocked(before) !== isBlocked(n.status)) queue.push(...n.dependants);
    }
  }

  #record(n: Node, changes: StatusChanges, before: Node["status"] | undefined, force = false): void {
    const s = n.status;
    if (!force && before && before.state === s.state && (s.state !== "blocked" || (before as typeof s).reason === s.reason)) return;
    if (s.state === "ready") changes.ready.push(n.laneId);
    else if (s.state === "waiting") changes.waiting.push(n.laneId);
    else changes.blocked.push({ laneId: n.laneId, dep: s.laneId, reason: s.reason });
  }
}

const isBlocked = (s: { state: string } | undefined): boolean => s?.state === "blocked";
