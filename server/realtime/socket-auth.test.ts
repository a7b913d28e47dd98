/**
 * What a Socket.IO connection may see, by its token: a token limited to a repo receives only
 * that repo's lane events and may subscribe only to its lanes; revoking a token closes its open
 * connections at once, and so does its expiry. Real runtime, real Socket.IO server and clients, tokens made through the
 * token service (as POST /api/v1/tokens does).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneEvent } from "@/lib/lane-events";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@/lib/socket-events";
import { io as connect, type Socket } from "socket.io-client";
import { commitFile, initRepo, makeTempDir } from "../git/git.testing";
import { shellPacket } from "../testing/runtime-harness";
import type { Caller } from "../auth/auth-service";
import { startRealtime, type RealtimeFixture } from "./realtime.testing";

let fx: RealtimeFixture;
let otherRepoId: string;
let otherRepo: { dir: string; cleanup: () => Promise<void> };
const adminCaller: Caller = { by: "admin", tokenId: null, scopes: ["admin"], repos: null, via: "bearer", expiresAt: null };

beforeAll(async () => {
  fx = await startRealtime();
  otherRepo = await makeTempDir("laneboard-repo-");
  await initRepo(otherRepo.dir);
  await commitFile(otherRepo.dir, "README", "other\n", "init");
  otherRepoId = (await fx.h.rt.repos.register({ path: otherRepo.dir })).id;
});
afterAll(async () => {
  await fx?.close();
  await otherRepo?.cleanup();
});

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
async function connected(token: string): Promise<Client> {
  const c: Client = connect(fx.url, { transports: ["websocket"], reconnection: false, auth: { token } });
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("connect_error", reject);
  });
  return c;
}

describe("Socket.IO and scoped tokens", () => {
  it("a token limited to one repo receives only that repo's lane events, and is refused a subscription to another repo's lane", async () => {
    const { token } = await fx.h.rt.tokens.create({ name: "sock-repo-a", scopes: ["read"], repos: [fx.h.repoId] }, adminCaller);
    const limited = await connected(token);
    const seen: LaneEvent[] = [];
    limited.on("lane:event", (e) => seen.push(e));
    const adminSeen: LaneEvent[] = [];
    fx.client.on("lane:event", (e) => adminSeen.push(e));

    const theirs = await fx.h.rt.lanes.create(shellPacket(otherRepoId, ["true"]));
    const mine = await fx.h.rt.lanes.create(shellPacket(fx.h.repoId, ["true"]));
    // Events reach clients in id order: once the limited client has mine's lane.created, the
    // admin client has had theirs' (appended before), and the limited one would have too.
    await expect.poll(() => seen.some((e) => e.laneId === mine.id && e.type === "lane.created")).toBe(true);
    await expect.poll(() => adminSeen.some((e) => e.laneId === theirs.id)).toBe(true);
    expect(seen.every((e) => e.repoId === fx.h.repoId)).toBe(true);
    expect(seen.some((e) => e.laneId === theirs.id)).toBe(false);

    const refused = await new Promise<SubscribeAck>((resolve) => limited.emit("lane:subscribe", { laneId: theirs.id, tail: 10 }, resolve));
    expect(refused).toMatchObject({ ok: false, error: { code: "forbidden" } });
    const allowed = await new Promise<SubscribeAck>((resolve) => limited.emit("lane:subscribe", { laneId: mine.id, tail: 10 }, resolve));
    expect(allowed.ok).toBe(true);
    limited.close();
  });

  it("revoking a token closes its open connections at once and refuses it from then on; other connections stay", async () => {
    const created = await fx.h.rt.tokens.create({ name: "sock-revoked", scopes: ["read"] }, adminCaller);
    const doomed = await connected(created.token);
    const closed = new Promise<string>((resolve) => doomed.once("disconnect", (reason) => resolve(reason)));
    await fx.h.rt.tokens.revoke(created.id, adminCaller);
    expect(await closed).toBe("io server disconnect");
    await expect(connected(created.token)).rejects.toThrow("unauthorized");
    expect(fx.client.connected).toBe(true);
  });

  it("a token reaching its expiresAt has its open connections closed then, and is refused from then on", async () => {
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const created = await fx.h.rt.tokens.create({ name: "sock-expiring", scopes: ["read"], expiresAt }, adminCaller);
    const expiring = await connected(created.token);
    const closed = new Promise<string>((resolve) => expiring.once("disconnect", (reason) => resolve(reason)));
    expect(await closed).toBe("io server disconnect");
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    await expect(connected(created.token)).rejects.toThrow("unauthorized");
    expect(fx.client.connected).toBe(true);
  });
});
