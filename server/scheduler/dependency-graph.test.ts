import { describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { DependencyCycleError, DependencyGraph } from "./dependency-graph";

function graph(...ids: string[]): DependencyGraph {
  const g = new DependencyGraph();
  for (const id of ids) g.add(id, []);
  return g;
}

describe("DependencyGraph wait modes", () => {
  it("wait_all is ready only when every dependency succeeded", () => {
    const g = graph("a", "b");
    expect(g.add("join", ["a", "b"], "wait_all")).toEqual({ state: "waiting", on: ["a", "b"] });
    // Still waiting (on fewer lanes): not a status change.
    expect(g.onSettled("a", "succeeded")).toEqual({ ready: [], waiting: [], blocked: [] });
    expect(g.status("join")).toEqual({ state: "waiting", on: ["b"] });
    expect(g.onSettled("b", "succeeded").ready).toEqual(["join"]);
    expect(g.status("join")).toEqual({ state: "ready" });
  });

  it("wait_any is ready at the first success and blocked only when all failed", () => {
    const g = graph("a", "b", "c");
    g.add("any", ["a", "b"], "wait_any");
    g.add("any2", ["b", "c"], "wait_any");
    expect(g.onSettled("a", "failed").blocked).toEqual([]);
    expect(g.onSettled("b", "succeeded").ready).toEqual(["any", "any2"]);
    const g2 = graph("x", "y");
    g2.add("any", ["x", "y"], "wait_any");
    g2.onSettled("x", "failed");
    const { blocked } = g2.onSettled("y", "failed", { reason: "tests red" });
    expect(blocked).toHaveLength(1);
    expect(blocked[0]!.reason).toMatch(/every dependency failed/);
  });

  it("a lane with no dependencies, or depending on lanes that already succeeded, is ready at once", () => {
    const g = graph("a");
    g.onSettled("a", "succeeded");
    expect(g.add("b", ["a"])).toEqual({ state: "ready" });
  });
});

describe("DependencyGraph artifacts", () => {
  it("waits for a commit, and blocks when the dependency succeeded without one", () => {
    const g = graph("a", "b");
    g.add("needs-commit", ["a"], "wait_all", { kind: "commit" });
    g.add("needs-file", ["b"], "wait_all", { kind: "file", path: "dist/plan.md" });
    expect(g.onSettled("a", "succeeded", { commits: ["abc123"] }).ready).toEqual(["needs-commit"]);
    const { blocked } = g.onSettled("b", "succeeded", { files: ["other.md"] });
    expect(blocked).toEqual([{ laneId: "needs-file", dep: "b", reason: "dependency b did not produce dist/plan.md" }]);
  });
});

describe("DependencyGraph failure propagation", () => {
  it("blocks dependants transitively with the failed dependency and its reason", () => {
    const g = graph("a");
    g.add("b", ["a"]);
    g.add("c", ["b"]);
    g.add("d", ["c", "a"], "wait_any");
    const { blocked } = g.onSettled("a", "failed", { reason: "compile error" });
    expect(blocked.map((x) => x.laneId).sort()).toEqual(["b", "c", "d"]);
    expect(g.status("b")).toEqual({ state: "blocked", laneId: "a", reason: "dependency a failed: compile error" });
    expect(g.status("c")).toMatchObject({ state: "blocked", laneId: "b", reason: expect.stringContaining("dependency a failed: compile error") });
  });

  it("reopening the failed lane (restart) puts its dependants back to waiting", () => {
    const g = graph("a");
    g.add("b", ["a"]);
    g.add("c", ["b"]);
    g.onSettled("a", "failed");
    const changes = g.reopen("a");
    expect(changes.ready).toEqual(["a"]);
    expect(changes.waiting.sort()).toEqual(["b", "c"]);
    expect(g.onSettled("a", "succeeded").ready).toEqual(["b"]);
  });
});

describe("DependencyGraph validation", () => {
  it("rejects a self-dependency, naming it", () => {
    const g = graph("a");
    expect(() => g.add("b", ["a", "b"])).toThrow(DependencyCycleError);
    try {
      g.add("b", ["b"]);
    } catch (err) {
      expect((err as DependencyCycleError).cycle).toEqual(["b", "b"]);
      expect((err as Error).message).toBe("dependsOn: a lane cannot depend on itself: b → b");
    }
    expect(g.has("b")).toBe(false);
  });

  it("rejects a cycle created by changing dependencies, naming the cycle, and changes nothing", () => {
    const g = graph("a");
    g.add("b", ["a"]);
    g.add("c", ["b"]);
    const before = JSON.stringify(g.snapshot());
    let err: unknown;
    try {
      g.add("a", ["c"]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DependencyCycleError);
    expect(isAppError(err)).toBe(true);
    expect((err as DependencyCycleError).cycle).toEqual(["a", "c", "b", "a"]);
    expect((err as Error).message).toContain("a → c → b → a");
    expect((err as DependencyCycleError).details).toMatchObject({ fields: ["dependsOn"] });
    expect(JSON.stringify(g.snapshot())).toBe(before);
  });

  it("rejects a cycle inside a batch", () => {
    const g = new DependencyGraph();
    expect(() =>
      g.addBatch([
        { laneId: "x", deps: ["y"] },
        { laneId: "y", deps: ["z"] },
        { laneId: "z", deps: ["x"] },
      ]),
    ).toThrow(/x → y → z → x/);
    expect(g.size).toBe(0);
  });

  it("rejects a dependency on a lane that does not exist, naming the field", () => {
    const g = graph("a");
    try {
      g.add("b", ["a", "ghost"]);
      throw new Error("no error");
    } catch (err) {
      expect(isAppError(err)).toBe(true);
      expect((err as { details: unknown }).details).toEqual({ fields: ["dependsOn.1"] });
      expect((err as Error).message).toBe("dependsOn.1: no lane ghost");
    }
    expect(g.has("b")).toBe(false);
  });
});

describe("DependencyGraph fan-out / fan-in and durability", () => {
  it("a parent fans out children and a join lane waits for all of them", () => {
    const g = graph("parent");
    const added = g.fanOut({ parentId: "parent", childIds: ["c1", "c2", "c3"], joinId: "join" });
    expect(added.ready).toEqual(["c1", "c2", "c3"]);
    expect(added.waiting).toEqual(["join"]);
    expect(g.parentOf("c2")).toBe("parent");
    g.onSettled("c1", "succeeded");
    g.onSettled("c3", "succeeded");
    expect(g.status("join")).toEqual({ state: "waiting", on: ["c2"] });
    expect(g.onSettled("c2", "succeeded").ready).toEqual(["join"]);
  });

  it("a graph restored from its snapshot reports the same statuses", () => {
    const g = graph("a", "b");
    g.add("c", ["a", "b"]);
    g.add("d", ["c"], "wait_any");
    g.onSettled("a", "succeeded");
    g.onSettled("b", "failed", { reason: "red" });
    const r = DependencyGraph.restore(JSON.parse(JSON.stringify(g.snapshot())));
    for (const id of ["a", "b", "c", "d"]) expect(r.status(id)).toEqual(g.status(id));
  });

  it("settling one lane touches only its dependants (incremental)", () => {
    const g = new DependencyGraph();
    const n = 20_000;
    g.addBatch(Array.from({ length: n }, (_, i) => ({ laneId: `l${i}`, deps: i % 100 ? [`l${i - 1}`] : [] })));
    // 200 chains of 100. Settling the head of one chain readies exactly its successor.
    expect(g.onSettled("l500", "succeeded")).toEqual({ ready: ["l501"], waiting: [], blocked: [] });
    // A failure blocks exactly the rest of that chain (99 lanes), no other chain.
    expect(g.onSettled("l0", "failed").blocked).toHaveLength(99);
  });
});
