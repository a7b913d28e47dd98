/**
 * Test helpers for the freshness / recovery / merge integration tests: real repositories with a
 * small node project whose test exercises a bug that main fixes later, and event-driven waits.
 * Not imported by runtime code.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LaneView } from "@/lib/api";
import type { LaneEvent, LaneEventType } from "@/lib/lane-events";
import { commitFile } from "../git/git.testing";
import type { Runtime } from "../runtime";
import { isTerminal, waitForLane } from "../testing/runtime-harness";

export const SH = (script: string) => ["sh", "-c", script];
/** A commit from inside a worker, with an identity (no global git config in tests). */
export const COMMIT = "git -c user.name=Worker -c user.email=worker@lane.invalid commit -q";

/** `src/add.js` with a bug (a - b), and the test that catches it, committed on main. */
export async function addBuggyCalculator(repo: string): Promise<void> {
  await commitFile(repo, "package.json", '{ "name": "calc", "type": "module" }\n', "package.json");
  await commitFile(repo, "src/add.js", "export const add = (a, b) => a - b;\n", "add (buggy)");
  await commitFile(
    repo,
    "test/add.test.js",
    'import { test } from "node:test";\nimport assert from "node:assert/strict";\nimport { add } from "../src/add.js";\ntest("adds", () => assert.equal(add(2, 3), 5));\n',
    "test add",
  );
}

/** Main fixes the bug the lane's tests run into. Returns the fix's SHA. */
export function fixCalculatorOnMain(repo: string): Promise<string> {
  return commitFile(repo, "src/add.js", "export const add = (a, b) => a + b;\n", "fix add: a + b");
}

/** Worker script: add `src/mul.js` with a passing test and commit it (then wait for a line on stdin when `wait`). */
export function mulWorker(opts: { wait?: boolean; mulBody?: string } = {}): string[] {
  const body = opts.mulBody ?? "a * b";
  return SH(
    [
      "mkdir -p src test",
      `printf 'export const mul = (a, b) => ${body};\\n' > src/mul.js`,
      `printf 'import { test } from "node:test";\\nimport assert from "node:assert/strict";\\nimport { mul } from "../src/mul.js";\\ntest("multiplies", () => assert.equal(mul(2, 3), 6));\\n' > test/mul.test.js`,
      `git add -A && ${COMMIT} -m "add mul"`,
      ...(opts.wait ? ["read go"] : []),
    ].join(" && "),
  );
}

/** `node --test` over the test directory, as an acceptance command. */
export const NODE_TEST = ["node", "--test", "test/"];

export async function laneEvents(rt: Runtime, laneId: string): Promise<LaneEvent[]> {
  return (await rt.events.listAfter(0, { laneId, limit: 5000 })).events;
}

export function ofType<T extends LaneEventType>(events: LaneEvent[], type: T): Array<Extract<LaneEvent, { type: T }>> {
  return events.filter((e) => e.type === type) as Array<Extract<LaneEvent, { type: T }>>;
}

/**
 * Resolve with the first event of `type` (for `laneId`, or any lane when null) matching `pred`,
 * whether it was already logged or arrives later. Rejects after `timeoutMs`.
 */
export function eventually<T extends LaneEventType>(
  rt: Runtime,
  laneId: string | null,
  type: T,
  pred: (e: Extract<LaneEvent, { type: T }>) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<Extract<LaneEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const match = (e: LaneEvent) => e.type === type && (laneId === null || e.laneId === laneId) && pred(e as Extract<LaneEvent, { type: T }>);
    const done = (e: LaneEvent) => {
      clearTimeout(timer);
      off();
      resolve(e as Extract<LaneEvent, { type: T }>);
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event${laneId ? ` for lane ${laneId}` : ""} within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = rt.bus.on("lane.event", (e) => {
      if (match(e)) done(e);
    });
    void rt.events.listAfter(0, { ...(laneId ? { laneId } : {}), limit: 5000 }).then(({ events }) => {
      const found = events.find(match);
      if (found) done(found);
    });
  });
}

/** Write a line to the lane's current worker's stdin. */
export async function tellWorker(rt: Runtime, laneId: string, line: string): Promise<void> {
  const view = await rt.lanes.get(laneId);
  await rt.supervisor.writeStdin(view.currentProcessId!, `${line}\n`);
}

/**
 * Wait until the lane is stale against main, release its worker (which waits on `read go`), and
 * wait for the lane to end. Returns the ended lane and all its events.
 */
export async function releaseWhenStale(rt: Runtime, laneId: string, timeoutMs = 30_000): Promise<{ done: LaneView; events: LaneEvent[] }> {
  await eventually(rt, laneId, "branch.stale_against_main", undefined, timeoutMs);
  await tellWorker(rt, laneId, "go");
  const done = await waitForLane(rt, laneId, isTerminal, timeoutMs);
  return { done, events: await laneEvents(rt, laneId) };
}

/** A valid policy (YAML): one rule, `no-auto-merge`, notifying instead of merging; the defaults after it. */
export const POLICY_NO_AUTO_MERGE = `version: 1
includeDefaults: true
rules:
  - id: no-auto-merge
    description: never merge by itself
    when: { event: lane.merge.ready }
    then: { action: notify, message: ready for review }
`;

/** An invalid policy (YAML): an unknown action, reported at line 6, column 15. */
export const POLICY_BAD_ACTION = `rules:
  - id: broken
    description: a typo in the action
    when: { event: lane.finished }
    then:
      action: explode
`;

/** Write a policy file into the repo's `.laneboard/` directory. */
export async function writePolicyFile(repo: string, text: string, name = "policy.yaml"): Promise<string> {
  const file = path.join(repo, ".laneboard", name);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, text);
  return file;
}
