/**
 * Socket.IO's PostgreSQL adapter as the nodes use it (cluster-link.ts), on a real PostgreSQL
 * server: messages between two Socket.IO servers still flow after the database cut their
 * sessions (a restart does the same), and a request between nodes sent while its target is not
 * listening yet is answered, run once. Needs a PostgreSQL server: runs in the suite's PostgreSQL
 * run (`npm run test:postgres`); e2e/cluster.spec.ts covers a whole database restart with nodes.
 */
import { createServer } from "node:http";
import pg from "pg";
import { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ClusterRpc } from "../rpc/rpc";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { ClusterLink, postgresAdapter } from "./cluster-link";

const admin = testPostgresUrl();

describe.skipIf(!admin)("Socket.IO's PostgreSQL adapter between nodes", () => {
  let url: string;
  const servers: Server[] = [];
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    url = await createTestDatabase(admin!, `t_socketio_${process.pid}`);
  });
  const links: ClusterLink[] = [];
  afterAll(async () => {
    for (const l of links) l.close();
    for (const s of servers) await s.close();
    for (const p of pools) await p.end().catch(() => undefined);
  });

  async function node(): Promise<Server> {
    const { adapter, pool } = await postgresAdapter(url);
    pools.push(pool);
    const io = new Server(createServer(), { adapter });
    servers.push(io);
    return io;
  }

  /** Cut every Socket.IO session to the database, and wait until their backends are gone. */
  async function cutSessions(): Promise<number> {
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      const sessions = "FROM pg_stat_activity WHERE application_name = 'laneboard-socketio' AND datname = current_database()";
      const { rows } = await killer.query<{ pid: number }>(`SELECT pid ${sessions}`);
      const pids = rows.map((r) => r.pid);
      await killer.query("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", [pids]);
      // A terminated backend lingers for a moment; the adapter listens anew only 1–3 s after.
      for (;;) {
        const left = await killer.query("SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1::int[])", [pids]);
        if (left.rowCount === 0) return pids.length;
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await killer.end();
    }
  }

  /** Emit `ping` from `from` every 100 ms until `to` has received one; resolves with how many were sent. */
  function deliver(from: Server, to: Server): Promise<number> {
    return new Promise((resolve) => {
      let sent = 0;
      const timer = setInterval(() => {
        sent++;
        from.serverSideEmit("ping", sent);
      }, 100);
      to.once("ping", () => {
        clearInterval(timer);
        resolve(sent);
      });
    });
  }

  it("a node's messages reach the others again after the database ended its sessions", async () => {
    const a = await node();
    const b = await node();
    expect(await deliver(a, b)).toBeGreaterThan(0);
    expect(await deliver(b, a)).toBeGreaterThan(0);

    // What a database restart does to each node's two connections (its LISTEN one among them).
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    const { rowCount } = await killer.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'laneboard-socketio' AND datname = current_database()");
    await killer.end();
    expect(rowCount).toBeGreaterThanOrEqual(2);

    // Both directions work again once the adapter has listened anew (it retries within 3 s).
    expect(await deliver(a, b)).toBeGreaterThan(0);
    expect(await deliver(b, a)).toBeGreaterThan(0);
  });

  it("runs a request sent while its target does not listen (a database restart) once, and its answer comes back", async () => {
    const ran = { a: 0, b: 0 };
    const rpcs = { a: new ClusterRpc("node-a"), b: new ClusterRpc("node-b") };
    // Resolved when the waiting request has reached node b a third time.
    let repeated: () => void = () => undefined;
    const thirdArrival = new Promise<void>((r) => (repeated = r));
    let arrivals = 0;
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    for (const name of ["a", "b"] as const) {
      const io = await node();
      // Count what arrives at node b, repeats included (the link's own listener ignores repeats).
      if (name === "b") io.on("cluster:rpc", (m: { req?: { params?: { wait?: boolean } } }) => void (m.req?.params?.wait && ++arrivals === 3 && repeated()));
      links.push(new ClusterLink(io as never, { url, nodeId: `node-${name}`, rpc: rpcs[name] }));
      rpcs[name].handle("count", z.object({ wait: z.boolean() }), async (p) => {
        if (p.wait) await slow;
        return ++ran[name];
      });
    }
    // Both nodes listen: a plain request.
    expect(await rpcs.a.call("node-b", "count", { wait: false }, 15_000)).toBe(1);

    // Both nodes' sessions are cut; the request leaves before either listens again, and its answer
    // may too: it is sent again until answered.
    expect(await cutSessions()).toBeGreaterThanOrEqual(4);
    expect(await rpcs.a.call("node-b", "count", { wait: false }, 15_000)).toBe(2);

    // A request that runs longer than the repeat interval is repeated and still runs once.
    const slowCall = rpcs.a.call("node-b", "count", { wait: true }, 15_000);
    await thirdArrival;
    release();
    expect(await slowCall).toBe(3);
    expect(ran).toEqual({ a: 0, b: 3 });
  });
});
