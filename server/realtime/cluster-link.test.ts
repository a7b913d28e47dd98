/**
 * Socket.IO's PostgreSQL adapter as the nodes use it (cluster-link.ts), on a real PostgreSQL
 * server: messages between two Socket.IO servers still flow after the database cut their
 * sessions (a restart does the same). Needs a PostgreSQL server: runs in the suite's PostgreSQL
 * run (`npm run test:postgres`); e2e/cluster.spec.ts covers a whole database restart with nodes.
 */
import { createServer } from "node:http";
import pg from "pg";
import { Server } from "socket.io";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testPostgresUrl } from "../testing/test-database";
import { postgresAdapter } from "./cluster-link";

const admin = testPostgresUrl();

describe.skipIf(!admin)("Socket.IO's PostgreSQL adapter between nodes", () => {
  let url: string;
  const servers: Server[] = [];
  const pools: pg.Pool[] = [];

  beforeAll(async () => {
    url = await createTestDatabase(admin!, `t_socketio_${process.pid}`);
  });
  afterAll(async () => {
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
});
