/**
 * Several Laneboard nodes on one PostgreSQL database (docs/scale-out.md), all real: a throwaway
 * PostgreSQL server from Debian's package, three `server/main.ts` processes with their own data
 * dirs and ports, real git repos and lane processes, Debian's chromium for the board.
 *
 * Runs in the browser suite's first run (it brings its own database; the suite's PostgreSQL
 * rerun skips it).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import type { LaneView, ProcessView } from "@/lib/api";
import type { ThrowawayPostgres } from "../scripts/lib/throwaway-postgres";
import { applyPostgresMigrations } from "../server/store/migrate-postgres";
import { allEvents, api, ClusterFixture, groupPaused, groupStates, lanes, libfaketime, makeRepo, nodeArgs, nodes, peakRunning, refusedNode, sigkill, skewedClockEnv, stopNode, type NodeProcess } from "./cluster-support";
import { pidsInGroup } from "./support";

test.describe.configure({ mode: "serial" });
test.skip(!!process.env.LANEBOARD_E2E_DATABASE_URL, "runs once, in the first browser run (it starts its own PostgreSQL)");

const cluster = new ClusterFixture();
const running = cluster.running;
let pg: ThrowawayPostgres;
let url: string;
// Ten seconds: short enough for a quick test, long enough that a node on a loaded machine (two
// cores shared by several test runs) is not declared lost for a slow heartbeat. nodeArgs' default.
const LEASE_MS = 10_000;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  ({ pg, url } = await cluster.start());
});

test.afterAll(() => cluster.stop());

const boot = (id: string, args: string[], dataDir?: string): Promise<NodeProcess> => cluster.boot(id, args, { dataDir });

const alive = (n: NodeProcess) => n.child.exitCode === null && n.child.signalCode === null;

/** Nodes A, B and C (the live process of each id; booted when a test runs without the first). */
async function trio(): Promise<[NodeProcess, NodeProcess, NodeProcess]> {
  const ids = ["node-a", "node-b", "node-c"];
  const have = ids.map((id) => running.findLast((n) => n.id === id && alive(n)));
  const nodesNow = await Promise.all(ids.map((id, i) => have[i] ?? boot(id, nodeArgs(4))));
  // All three alive, and a node leads (the scheduler's API answers only then).
  const ready = async () => {
    const list = (await nodes(nodesNow[0]!.url)).nodes;
    return list.some((n) => n.leader) && ids.every((id) => list.find((n) => n.id === id)?.alive);
  };
  await expect.poll(ready, { timeout: 60_000 }).toBe(true);
  return nodesNow as [NodeProcess, NodeProcess, NodeProcess];
}

/**
 * Gate files: a lane script made by {@link Gates.script} runs until its gate is opened, so a test
 * decides when each lane ends instead of guessing how long it takes.
 */
class Gates {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "laneboard-gates-"));
  script(name: string): string {
    return `echo start ${name}; while [ ! -e ${this.dir}/${name} ]; do sleep 0.1; done; echo end ${name}`;
  }
  open(name: string): void {
    fs.writeFileSync(path.join(this.dir, name), "");
  }
}

const shell = (repo: string, branch: string, script: string, extra: Record<string, unknown> = {}) => ({
  objective: branch,
  repo,
  branch: `lane/${branch}`,
  worker: { engine: "shell", command: ["sh", "-c", script] },
  ...extra,
});

test("three nodes share one PostgreSQL: 60 lanes spread over them, global and per-repo caps hold across nodes, none runs twice", async () => {
  test.setTimeout(900_000);
  const [a, b, c] = await trio();
  expect((await nodes(b.url)).nodes.filter((n) => n.leader)).toHaveLength(1);

  const repoX = (await api<{ id: string }>(a.url, "POST", "/api/v1/repos", { path: makeRepo("x") })).id;
  const repoY = (await api<{ id: string }>(b.url, "POST", "/api/v1/repos", { path: makeRepo("y") })).id;
  // All 60 wait (global cap 0) until every one exists, so the caps are tested under full demand
  // however slowly the lanes are made; then global cap 7 of the 12 slots, repo Y at most 2 at once.
  await api(c.url, "PUT", "/api/v1/scheduler/caps", { global: { agent: 0 }, repos: { [repoY]: { agent: 2 } } });
  const via = [a, b, c];
  const created: LaneView[] = [];
  for (let batch = 0; batch < 60; batch += 6) {
    const made = await Promise.all(
      Array.from({ length: 6 }, (_, k) => batch + k).map((i) =>
        api<LaneView>(via[i % 3]!.url, "POST", "/api/v1/lanes", shell(i % 3 === 0 ? repoY : repoX, `bulk-${i}`, `echo lane ${i} on $(hostname); sleep 1.5; echo done ${i}`)),
      ),
    );
    created.push(...made);
  }
  await expect.poll(async () => (await lanes(b.url)).filter((l) => l.state === "queued").length, { timeout: 120_000 }).toBe(60);
  await api(a.url, "PUT", "/api/v1/scheduler/caps", { global: { agent: 7 }, repos: { [repoY]: { agent: 2 } } });
  await expect.poll(async () => (await lanes(a.url)).filter((l) => l.state === "finished").length, { timeout: 600_000, intervals: [2000] }).toBe(60);

  const all = await lanes(b.url);
  const perNode = new Map<string, number>();
  for (const l of all) perNode.set(l.nodeId!, (perNode.get(l.nodeId!) ?? 0) + 1);
  expect([...perNode.keys()].sort()).toEqual(["node-a", "node-b", "node-c"]);
  const events = await allEvents(c.url);
  const repoOf = new Map(all.map((l) => [l.id, l.repoId]));
  expect(peakRunning(events).get("all")).toBeLessThanOrEqual(7);
  expect(peakRunning(events).get("all")).toBeGreaterThanOrEqual(5);
  expect(peakRunning(events, (id) => repoOf.get(id)!).get(repoY)).toBeLessThanOrEqual(2);
  const starts = new Map<string, number>();
  for (const e of events) if (e.type === "lane.started") starts.set(e.laneId!, (starts.get(e.laneId!) ?? 0) + 1);
  expect(created.every((l) => starts.get(l.id) === 1)).toBe(true);
  // Every node serves the same board and the same events, in the same cursor order.
  expect((await allEvents(a.url)).map((e) => e.id)).toEqual(events.map((e) => e.id));
  // A token made on one node works on every node at once, and a revocation on any node ends it everywhere.
  const made = await api<{ id: string; token: string }>(a.url, "POST", "/api/v1/tokens", { name: "claw-cluster", scopes: ["read"] });
  const asClaw = (base: string) => fetch(`${base}/api/v1/nodes`, { headers: { authorization: `Bearer ${made.token}` } }).then((r) => r.status);
  await expect.poll(() => asClaw(c.url), { timeout: 30_000 }).toBe(200);
  await api(b.url, "DELETE", `/api/v1/tokens/${made.id}`);
  await expect.poll(() => asClaw(a.url), { timeout: 30_000 }).toBe(401);
  // The artifacts folder is made by whichever spec writes there first; this one may be first.
  fs.mkdirSync("e2e/artifacts", { recursive: true });
  fs.writeFileSync("e2e/artifacts/cluster-spread.json", JSON.stringify({ perNode: Object.fromEntries(perNode), peak: Object.fromEntries(peakRunning(events)) }, null, 2));
});

test("a board on node A shows the live output of a lane that runs on another node; kill and stdin sent to A reach that node", async ({ page }) => {
  test.setTimeout(600_000);
  const [a] = await trio();
  const repoZ = (await api<{ id: string }>(a!.url, "POST", "/api/v1/repos", { path: makeRepo("z") })).id;
  // A fourth node that takes only repo Z and has the most free slots (8 against 4): a lane goes to
  // the node with the most free slots (server/cluster/dispatcher.ts), so repo Z's lanes run there.
  const cz = await boot("node-cz", nodeArgs(8, ["--node-repos", repoZ]));
  await api(a!.url, "PUT", "/api/v1/scheduler/caps", { global: { agent: 20 } });
  const ticking = await api<LaneView>(a!.url, "POST", "/api/v1/lanes", shell(repoZ, "ticking", 'i=0; while [ $i -lt 600 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done'));
  await expect.poll(async () => (await api<LaneView>(a!.url, "GET", `/api/v1/lanes/${ticking.id}`)).state, { timeout: 120_000 }).toBe("running");
  expect((await api<LaneView>(a!.url, "GET", `/api/v1/lanes/${ticking.id}`)).nodeId).toBe("node-cz");

  await page.goto(`${a!.url}/?token=${encodeURIComponent(a!.token)}`);
  await page.waitForURL(`${a!.url}/`);
  const card = page.locator(`[data-testid="lane-card"][data-lane-id="${ticking.id}"]`);
  await expect(card).toBeVisible();
  const lines = card.getByTestId("log-line");
  await expect(lines.first()).toBeVisible({ timeout: 60_000 });
  const before = await lines.last().textContent();
  await expect(lines.last()).not.toHaveText(before ?? "", { timeout: 30_000 });
  await page.screenshot({ path: "e2e/artifacts/cluster-board-node-a.png", fullPage: true });

  // stdin through node A to a process on node CZ.
  const reader = await api<LaneView>(a!.url, "POST", "/api/v1/lanes", shell(repoZ, "reader", 'read x; echo "got:$x"'));
  await expect.poll(async () => (await api<LaneView>(a!.url, "GET", `/api/v1/lanes/${reader.id}`)).currentProcessId, { timeout: 120_000 }).not.toBeNull();
  const readerLane = await api<LaneView>(a!.url, "GET", `/api/v1/lanes/${reader.id}`);
  await expect.poll(async () => (await api<ProcessView>(a!.url, "GET", `/api/v1/processes/${readerLane.currentProcessId}`)).status, { timeout: 60_000 }).toBe("running");
  await api(a!.url, "POST", `/api/v1/processes/${readerLane.currentProcessId}/stdin`, { data: "hello\n" });
  await expect.poll(async () => (await api<{ lines: { text: string }[] }>(a!.url, "GET", `/api/v1/lanes/${reader.id}/logs?limit=10`)).lines.map((l) => l.text), { timeout: 60_000 }).toContain("got:hello");

  // Kill through node A: node CZ's process group is gone when the call returns.
  const proc = await api<ProcessView>(a!.url, "GET", `/api/v1/processes/${(await api<LaneView>(a!.url, "GET", `/api/v1/lanes/${ticking.id}`)).currentProcessId}`);
  expect(pidsInGroup(proc.pgid!).length).toBeGreaterThan(0);
  const killed = await api<LaneView>(a!.url, "POST", `/api/v1/lanes/${ticking.id}/kill`, { graceMs: 500 });
  expect(killed.state).toBe("killed");
  expect(pidsInGroup(proc.pgid!)).toEqual([]);
  await stopNode(cz);
});

test("node B is SIGKILLed mid-run: its processes are paused before its lease runs out, the surviving nodes declare it lost from its stale heartbeat, and each of its lanes runs again once on another node", async () => {
  test.setTimeout(600_000);
  const [a, b, c] = await trio();
  const repo = (await api<{ id: string }>(a.url, "POST", "/api/v1/repos", { path: makeRepo("k") })).id;
  await api(a.url, "PUT", "/api/v1/scheduler/caps", { global: { agent: 20 } });
  // Twelve gated lanes fill the three nodes' twelve slots (four each), so four surely run on B.
  const gates = new Gates();
  const made: LaneView[] = [];
  for (let i = 0; i < 12; i++) made.push(await api<LaneView>(b.url, "POST", "/api/v1/lanes", shell(repo, `long-${i}`, gates.script(`long-${i}`))));
  const gateOf = new Map(made.map((l, i) => [l.id, `long-${i}`]));
  const ours = async () => (await lanes(a.url)).filter((l) => gateOf.has(l.id));
  await expect.poll(async () => (await ours()).filter((l) => l.state === "running" && l.currentProcessId).length, { timeout: 180_000 }).toBe(12);
  const placed = await ours();
  const victims = placed.filter((l) => l.nodeId === "node-b");
  expect(victims).toHaveLength(4);
  // The lanes on A and C end, so the survivors have room for B's.
  for (const l of placed) if (l.nodeId !== "node-b") gates.open(gateOf.get(l.id)!);
  await expect.poll(async () => (await ours()).filter((l) => l.state === "finished").length, { timeout: 120_000 }).toBe(8);
  const groups = await Promise.all(victims.map(async (l) => (await api<ProcessView>(a.url, "GET", `/api/v1/processes/${l.currentProcessId}`)).pgid!));
  const cursor = (await allEvents(a.url)).at(-1)!.id;

  await sigkill(b);
  // B's fence pauses its lane processes (SIGSTOP) once its lease is nearly out…
  await expect.poll(() => groups.every(groupPaused), { timeout: 60_000 }).toBe(true);
  // …and the leader among A and C, watching B's heartbeat stand still in the database, declares B
  // lost, naming its running lanes.
  await expect.poll(async () => (await allEvents(c.url, cursor)).some((e) => e.type === "node.lost" && e.payload.nodeId === "node-b"), { timeout: 60_000 }).toBe(true);
  // Filter by node: a node an earlier test stopped is declared lost too (its lease ran out), with
  // no lanes, and its event may land after the cursor.
  const lost = (await allEvents(c.url, cursor)).flatMap((e) => (e.type === "node.lost" && e.payload.nodeId === "node-b" ? [e.payload] : []))[0]!;
  expect([...lost.laneIds].sort()).toEqual(victims.map((v) => v.id).sort());
  expect((await nodes(a.url)).nodes.find((n) => n.id === "node-b")).toMatchObject({ status: "lost", alive: false });
  for (const v of victims) gates.open(gateOf.get(v.id)!);
  for (const v of victims) {
    await expect.poll(async () => (await api<LaneView>(c.url, "GET", `/api/v1/lanes/${v.id}`)).state, { timeout: 180_000 }).toBe("finished");
    const lane = await api<LaneView>(c.url, "GET", `/api/v1/lanes/${v.id}`);
    expect(["node-a", "node-c"]).toContain(lane.nodeId);
    const evs = (await allEvents(a.url)).filter((e) => e.laneId === v.id);
    const failed = evs.flatMap((e) => (e.type === "lane.failed" && e.payload.failureReason === "node_lost" ? [e.payload] : []));
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(new RegExp(`^node node-b was lost: no heartbeat for \\d+ s \\(lease ${LEASE_MS / 1000} s\\)`));
    expect(evs.filter((e) => e.type === "lane.state_changed" && e.payload.to === "lost")).toHaveLength(1);
    expect(evs.filter((e) => e.type === "lane.recovery.attempted")).toHaveLength(1);
    expect(evs.filter((e) => e.type === "lane.started")).toHaveLength(2);
  }
  // B's old processes never ran on, although their gates are open: still paused. B restarted kills them,
  // and its lanes stay where they went.
  expect(groups.every(groupPaused)).toBe(true);
  const b2 = await boot("node-b", nodeArgs(4), b.dataDir);
  await expect.poll(() => groups.every((g) => groupStates(g).length === 0), { timeout: 60_000 }).toBe(true);
  expect((await nodes(b2.url)).nodes.find((n) => n.id === "node-b")?.alive).toBe(true);
  for (const v of victims) {
    const evs = (await allEvents(b2.url)).filter((e) => e.laneId === v.id);
    expect(evs.filter((e) => e.type === "lane.started")).toHaveLength(2);
    expect((await api<LaneView>(b2.url, "GET", `/api/v1/lanes/${v.id}`)).state).toBe("finished");
  }
});

test("a node SIGKILLed and restarted within its lease reattaches its running lane: no loss, no second start", async () => {
  test.setTimeout(600_000);
  const [a] = await trio();
  const repo = (await api<{ id: string }>(a.url, "POST", "/api/v1/repos", { path: makeRepo("d") })).id;
  // Node D takes only this repo and has the most free slots, so the lane runs there; its lease
  // (two minutes) is longer than its restart takes.
  const dArgs = nodeArgs(8, ["--node-repos", repo], 120_000);
  const d = await boot("node-d", dArgs);
  const gates = new Gates();
  const lane = await api<LaneView>(a.url, "POST", "/api/v1/lanes", shell(repo, "survivor", gates.script("survivor")));
  await expect.poll(async () => (await api<LaneView>(a.url, "GET", `/api/v1/lanes/${lane.id}`)).state, { timeout: 120_000 }).toBe("running");
  const before = await api<LaneView>(a.url, "GET", `/api/v1/lanes/${lane.id}`);
  expect(before.nodeId).toBe("node-d");
  const pgid = (await api<ProcessView>(a.url, "GET", `/api/v1/processes/${before.currentProcessId}`)).pgid!;

  await sigkill(d);
  const d2 = await boot("node-d", dArgs, d.dataDir);
  expect((await nodes(a.url)).nodes.find((n) => n.id === "node-d")).toMatchObject({ status: "alive", alive: true });
  expect(groupStates(pgid).length).toBeGreaterThan(0);
  expect(groupStates(pgid).every((s) => s !== "T")).toBe(true);
  gates.open("survivor");
  await expect.poll(async () => (await api<LaneView>(a.url, "GET", `/api/v1/lanes/${lane.id}`)).state, { timeout: 120_000 }).toBe("finished");
  const after = await api<LaneView>(d2.url, "GET", `/api/v1/lanes/${lane.id}`);
  expect(after).toMatchObject({ nodeId: "node-d", currentProcessId: before.currentProcessId });
  const evs = (await allEvents(a.url)).filter((e) => e.laneId === lane.id).map((e) => e.type);
  expect(evs.filter((t) => t === "lane.started")).toHaveLength(1);
  expect(evs).not.toContain("lane.failed");
  expect((await allEvents(a.url)).some((e) => e.type === "node.lost" && e.payload.nodeId === "node-d")).toBe(false);
  const logs = await api<{ lines: { text: string }[] }>(a.url, "GET", `/api/v1/lanes/${lane.id}/logs?limit=10`);
  expect(logs.lines.map((l) => l.text)).toEqual(expect.arrayContaining(["start survivor", "end survivor"]));
  await stopNode(d2);
});

test("bad input: an unreachable database, a node id in use, a node older than the schema: each refused with a clear message, nothing started; a node whose clock is off is told so", async () => {
  // Four node processes started one after another, and a database migrated: over 300 s at a load of 27.
  test.setTimeout(600_000);
  const [a] = await trio();
  const unreachable = await refusedNode({ id: "node-x", databaseUrl: `postgresql://laneboard:secret@127.0.0.1:${pg.port + 1}/nowhere` });
  expect(unreachable.code).toBe(1);
  expect(unreachable.listened).toBe(false);
  expect(unreachable.output).toMatch(/Laneboard did not start: cannot reach PostgreSQL at postgresql:\/\/laneboard:\*\*\*@127\.0\.0\.1/);
  expect(unreachable.output).not.toContain("secret");

  const twin = await refusedNode({ id: "node-a", databaseUrl: url });
  expect(twin.code).toBe(1);
  expect(twin.listened).toBe(false);
  expect(twin.output).toMatch(/node id "node-a" is already running/);

  // A database a newer Laneboard migrated (a database of its own: the running nodes would see the
  // newer schema too, and stop taking lanes as they should).
  const newer = await pg.createDatabase("cluster_newer");
  await applyPostgresMigrations(newer);
  const client = await import("pg");
  const db = new client.default.Client(newer);
  await db.connect();
  await db.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('future', 'x', now(), '29990101000000_from_a_newer_node', 1)`);
  await db.end();
  const older = await refusedNode({ id: "node-old", databaseUrl: newer });
  expect(older.code).toBe(1);
  expect(older.listened).toBe(false);
  expect(older.output).toMatch(/schema version mismatch.*29990101000000_from_a_newer_node/);

  // A node whose wall clock is 15 s ahead (really: libfaketime shifts the whole process's clock) runs,
  // since leases use the database's clock, but it is told so in its output, and every board in an event.
  const lib = libfaketime();
  expect(lib, "Debian's faketime package (libfaketime) is needed: apt-get install faketime").not.toBeNull();
  const cursor = (await allEvents(a.url)).at(-1)!.id;
  const skewed = await cluster.boot("node-skew", nodeArgs(1), { env: skewedClockEnv(lib!, 15) });
  await expect.poll(() => skewed.output(), { timeout: 60_000 }).toMatch(/this node's clock is 1\d\.\d s ahead of the database server's: .*Fix the clock \(NTP\)/);
  await expect.poll(async () => (await allEvents(a.url, cursor)).filter((e) => e.type === "node.clock_skew").length, { timeout: 60_000 }).toBe(1);
  const told = (await allEvents(a.url, cursor)).flatMap((e) => (e.type === "node.clock_skew" ? [e.payload] : []));
  expect(told[0]).toMatchObject({ nodeId: "node-skew" });
  expect(told[0]!.clockSkewMs).toBeGreaterThan(13_000);
  expect(told[0]!.clockSkewMs).toBeLessThan(17_000);
  expect((await nodes(a.url)).nodes.find((n) => n.id === "node-skew")).toMatchObject({ alive: true });
  await stopNode(skewed);
});

test("a database outage stalls the nodes without losing a lane or an event; they resume when it is back", async () => {
  test.setTimeout(600_000);
  const [a, , c] = await trio();
  const repo = (await api<{ id: string }>(a.url, "POST", "/api/v1/repos", { path: makeRepo("r") })).id;
  await api(a.url, "PUT", "/api/v1/scheduler/caps", { global: { agent: 20 } });
  const gates = new Gates();
  const made: LaneView[] = [];
  for (let i = 0; i < 6; i++) made.push(await api<LaneView>(a.url, "POST", "/api/v1/lanes", shell(repo, `through-${i}`, gates.script(`through-${i}`))));
  const ours = async () => (await lanes(a.url)).filter((l) => made.some((m) => m.id === l.id));
  // Named by state and node, so a lane that does not start says where it waits.
  const notRunning = async () => (await ours()).flatMap((l) => (l.state === "running" ? [] : [`${l.id} ${l.state} on ${l.nodeId ?? "no node"}`]));
  await expect.poll(notRunning, { timeout: 120_000, message: "lanes of the six not running yet" }).toEqual([]);

  const groups = await Promise.all((await ours()).map(async (l) => (await api<ProcessView>(a.url, "GET", `/api/v1/processes/${l.currentProcessId}`)).pgid!));
  const cursor = (await allEvents(a.url)).at(-1)!.id;

  // The database goes away (pg_ctl stop -m fast cuts every session). No node can renew its lease,
  // so each node's fence pauses its lanes: the cluster stalls…
  await pg.stopServer();
  await expect.poll(() => groups.every(groupPaused), { timeout: 120_000 }).toBe(true);
  // …the lanes may end now (they will once resumed), and the database comes back.
  for (let i = 0; i < 6; i++) gates.open(`through-${i}`);
  await pg.start();
  await expect.poll(async () => (await ours().catch(() => [])).filter((l) => l.state === "finished").length, { timeout: 300_000, intervals: [2000] }).toBe(6);
  const events = (await allEvents(c.url)).filter((e) => made.some((m) => m.id === e.laneId));
  for (const [i, m] of made.entries()) {
    const evs = events.filter((e) => e.laneId === m.id).map((e) => e.type);
    expect(evs).toEqual(expect.arrayContaining(["lane.created", "lane.started", "lane.finished"]));
    expect(evs.filter((t) => t === "lane.started")).toHaveLength(1);
    expect(evs).not.toContain("lane.failed");
    const logs = await api<{ lines: { text: string }[] }>(c.url, "GET", `/api/v1/lanes/${m.id}/logs?limit=10`);
    expect(logs.lines.map((l) => l.text)).toEqual(expect.arrayContaining([`start through-${i}`, `end through-${i}`]));
  }
  // Every node serves the same events in the same order after the outage, and none of the three
  // was declared lost (the node the previous test stopped is, once its lease runs out, with no lanes).
  expect((await allEvents(a.url)).map((e) => e.id)).toEqual((await allEvents(c.url)).map((e) => e.id));
  const trioIds = ["node-a", "node-b", "node-c"];
  expect((await allEvents(a.url, cursor)).filter((e) => e.type === "node.lost" && trioIds.includes(e.payload.nodeId))).toEqual([]);
  await expect.poll(async () => (await nodes(a.url)).nodes.filter((n) => trioIds.includes(n.id) && n.alive).length, { timeout: 60_000 }).toBe(3);
});
