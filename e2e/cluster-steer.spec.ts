/**
 * One board, any node (docs/scale-out.md): a claw talking to node A steers an agent lane that
 * runs on another node, and a claw reading node C's SSE stream sees that lane's events, written
 * by that other node, in cursor order. All real: a throwaway PostgreSQL, `server/main.ts` nodes,
 * the real Claude Code CLI against the project's scripted model server (started by
 * playwright.config.ts on the board's port + 1; e2e/fixtures/model-script.json).
 *
 * Runs in the browser suite's first run (it brings its own database; the suite's PostgreSQL
 * rerun skips it).
 */
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import type { LaneView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { readSse } from "@/client/sse";
import { allEvents, api, ClusterFixture, makeRepo, nodeArgs, nodes } from "./cluster-support";

test.describe.configure({ mode: "serial" });
test.skip(!!process.env.LANEBOARD_E2E_DATABASE_URL, "runs once, in the first browser run (it starts its own PostgreSQL)");

const cluster = new ClusterFixture();
test.beforeAll(async () => {
  test.setTimeout(300_000);
  await cluster.start();
});
test.afterAll(() => cluster.stop());


test("trust, prompts and restart sent to node A reach an interactive agent lane on node Y; node C's SSE stream carries its events in cursor order", async ({ baseURL }) => {
  test.setTimeout(600_000);
  const model = { LANEBOARD_ANTHROPIC_BASE_URL: `http://127.0.0.1:${Number(new URL(baseURL!).port) + 1}`, LANEBOARD_ANTHROPIC_API_KEY: "e2e-key" };
  const a = await cluster.boot("node-a", nodeArgs(4), { env: model });
  const c = await cluster.boot("node-c", nodeArgs(4), { env: model });
  const repo = (await api<{ id: string }>(a.url, "POST", "/api/v1/repos", { path: makeRepo("steer") })).id;
  // Node Y takes only this repo and has the most free slots (8 against 4): a lane goes to the node
  // with the most (server/cluster/dispatcher.ts), so this repo's lanes run there.
  await cluster.boot("node-y", nodeArgs(8, ["--node-repos", repo]), { env: model });
  const ready = async () => {
    const list = (await nodes(a.url)).nodes;
    return list.some((n) => n.leader) && ["node-a", "node-c", "node-y"].every((id) => list.find((n) => n.id === id)?.alive);
  };
  await expect.poll(ready, { timeout: 60_000 }).toBe(true);

  // A claw on node C follows the event stream from here on.
  const cursor = (await allEvents(c.url)).at(-1)?.id ?? 0;
  const hangUp = new AbortController();
  const streamed: LaneEvent[] = [];
  const reading = (async () => {
    const stream = readSse(`${c.url}/api/v1/events/stream?after=${cursor}`, { headers: { authorization: `Bearer ${c.token}` }, signal: hangUp.signal });
    for await (const m of stream) streamed.push(JSON.parse(m.data) as LaneEvent);
  })();

  // The real interactive Claude Code in tmux on node Y: its terminal exists only there, so a trust
  // answer or a prompt that node A handled itself would fail (no session to type into).
  const created = await api<LaneView>(a.url, "POST", "/api/v1/lanes", {
    objective: "answer from node Y",
    repo,
    branch: "lane/steer",
    worker: { engine: "claude", mode: "interactive", prompt: "[e2e:cluster-steer] answer" },
  });
  const view = () => api<LaneView>(a.url, "GET", `/api/v1/lanes/${created.id}`);
  const at = async () => {
    const l = await view();
    return `${l.worker?.state ?? l.state} on ${l.nodeId}`;
  };
  const ofLane = async () => (await allEvents(a.url, cursor)).filter((e) => e.laneId === created.id);
  // What the scripted agent's Bash calls wrote in the lane's worktree (e2e/fixtures/model-script.json).
  const notes = async () => fs.readFileSync(path.join((await view()).worktreePath, "notes.txt"), "utf8").split("\n").filter(Boolean);
  /** Times the agent finished a turn (its worker went from `running` back to `ready_for_prompt`). */
  const turnsDone = async () => (await ofLane()).filter((e) => e.type === "worker.state_changed" && e.payload.from === "running" && e.payload.to === "ready_for_prompt").length;

  await expect.poll(at, { timeout: 180_000 }).toBe("trust_required on node-y");
  await api(a.url, "POST", `/api/v1/lanes/${created.id}/worker/trust`, { by: "claw on node A" });
  await expect.poll(turnsDone, { timeout: 180_000 }).toBe(1);
  expect(await notes()).toEqual(["answered"]);

  // A prompt through node A, typed into the live agent on node Y.
  const sent = await api<{ mode: string }>(a.url, "POST", `/api/v1/lanes/${created.id}/worker/prompt`, { text: "[e2e:cluster-steer] a prompt typed through node A" });
  expect(sent.mode).toBe("delivered");
  await expect.poll(turnsDone, { timeout: 180_000 }).toBe(2);
  expect(await notes()).toEqual(["answered", "prompt from node A"]);
  // `/exit` through node A ends the agent there: the lane finishes.
  await api(a.url, "POST", `/api/v1/lanes/${created.id}/worker/prompt`, { text: "/exit" });
  await expect.poll(async () => `${(await view()).state} on ${(await view()).nodeId}`, { timeout: 120_000 }).toBe("finished on node-y");

  // A restart through node A: queued again, and run again on node Y (Claude Code remembers the
  // folder's trust now); then killed through node A.
  // `attempt` counts starts: the answer may come before node Y has started it (queued, attempt 1)
  // or after (attempt 2); either way the lane is live again.
  const restarted = await api<LaneView>(a.url, "POST", `/api/v1/lanes/${created.id}/restart`);
  expect(["queued", "starting", "running"]).toContain(restarted.state);
  await expect.poll(async () => `attempt ${(await view()).attempt}: ${await at()}`, { timeout: 180_000 }).toBe("attempt 2: ready_for_prompt on node-y");
  const killed = await api<LaneView>(a.url, "POST", `/api/v1/lanes/${created.id}/kill`, { graceMs: 500 });
  expect(killed.state).toBe("killed");

  // Node C's stream: every event of the lane that node A's log holds, in the same cursor order,
  // ids strictly rising: written by node Y (the worker's) and by node A (the restart).
  // Both read afresh each time: the killed worker's last events may still be on their way.
  const streamedIds = () => streamed.filter((e) => e.laneId === created.id).map((e) => e.id);
  const both = async () => `streamed ${streamedIds().join(",")} | logged ${(await ofLane()).map((e) => e.id).join(",")}`;
  await expect.poll(both, { timeout: 60_000 }).toMatch(/^streamed ([\d,]+) \| logged \1$/);
  hangUp.abort();
  await reading;
  const ids = streamed.map((e) => e.id);
  expect(ids).toEqual([...ids].sort((p, q) => p - q));
  expect(new Set(ids).size).toBe(ids.length);
  const types = streamed.filter((e) => e.laneId === created.id).map((e) => e.type);
  expect(types.filter((t) => t === "lane.started")).toHaveLength(2);
  expect(types).toEqual(expect.arrayContaining(["trust_resolved", "worker.prompted", "lane.finished", "lane.restarted", "lane.killed"]));
  const prompted = streamed.flatMap((e) => (e.type === "worker.prompted" && e.laneId === created.id ? [e.payload] : []));
  expect(prompted.filter((p) => p.source === "api").map((p) => p.text)).toEqual(["[e2e:cluster-steer] a prompt typed through node A", "/exit"]);
  // No node was declared lost while it was steered.
  expect((await allEvents(c.url, cursor)).filter((e) => e.type === "node.lost")).toEqual([]);
});
