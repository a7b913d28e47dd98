import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isAppError } from "@/lib/errors";
import { EventBus } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import { databasePerFile } from "../store/db.testing";
import { backoffDelay, WebhookService } from "./webhook-service";

interface Hit {
  body: unknown;
  headers: IncomingMessage["headers"];
  at: number;
}

/** A real HTTP receiver on 127.0.0.1 answering with the next status of `plan` (then 200). */
async function receiver(plan: number[]): Promise<{ url: string; hits: Hit[]; next: () => Promise<Hit>; server: Server }> {
  const hits: Hit[] = [];
  const waiters: ((h: Hit) => void)[] = [];
  const server = createServer((req, res) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => {
      const hit = { body: JSON.parse(data) as unknown, headers: req.headers, at: Date.now() };
      hits.push(hit);
      res.writeHead(plan.shift() ?? 200).end("ok");
      waiters.shift()?.(hit);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, hits, server, next: () => new Promise((r) => waiters.push(r)) };
}

describe("WebhookService over real SQLite and a real HTTP receiver", () => {
  const store = databasePerFile("laneboard-webhooks-");
  let db: Db;
  let log: EventLog;
  let service: WebhookService;
  let repoId: string;
  let laneId: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    db = store.db;
    const bus = new EventBus();
    log = new EventLog(db, bus);
    service = new WebhookService({ db, bus, options: { baseDelayMs: 40, maxDelayMs: 1000, maxAttempts: 3, timeoutMs: 2000 } });
    await service.start();
    repoId = (await db.repo.create({ data: { path: "/srv/demo", name: "demo", mainBranch: "main" } })).id;
    laneId = (
      await db.lane.create({ data: { repoId, slug: "a", objective: "a", branch: "lane/a", baseBranch: "main", worktreePath: "/w/a", engine: "script", packet: "{}", state: "queued" } })
    ).id;
  });

  afterAll(async () => {
    await service.stop();
    for (const s of servers) s.close();
  });

  const red = () => log.append({ type: "lane.red", laneId, repoId, payload: { level: "targeted", command: ["npm", "test"], exitCode: 1, durationMs: 5, failureClass: "test" } });

  it("POSTs a lane event that needs a person as its JSON, and skips the others", async () => {
    const rx = await receiver([]);
    servers.push(rx.server);
    const hook = await service.create(repoId, { url: rx.url });
    const got = rx.next();
    await log.append({ type: "lane.ready", laneId, repoId, payload: { workerId: "w" } });
    const ev = await red();
    const hit = await got;
    expect(hit.body).toMatchObject({ id: ev.id, type: "lane.red", laneId, repoId, payload: { level: "targeted", exitCode: 1 } });
    expect(hit.headers["x-laneboard-event"]).toBe("lane.red");
    expect(rx.hits).toHaveLength(1);
    await vi.waitFor(async () => expect((await service.list(repoId)).find((h) => h.id === hook.id)?.deliveries[0]).toMatchObject({ status: "delivered", attempts: 1, lastStatusCode: 200 }));
    await service.remove(repoId, hook.id);
  });

  it("retries a failing URL with exponential backoff, then delivers; the append never waits for it", async () => {
    const rx = await receiver([500, 503]);
    servers.push(rx.server);
    const hook = await service.create(repoId, { url: rx.url, events: ["lane.red"] });
    const hits = [rx.next(), rx.next(), rx.next()];
    await red(); // resolves as soon as the event is stored: delivery runs on its own
    const [a, b, c] = await Promise.all(hits);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(40);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(80);
    await vi.waitFor(async () => expect((await service.list(repoId)).find((h) => h.id === hook.id)?.deliveries[0]).toMatchObject({ status: "delivered", attempts: 3, lastStatusCode: 200 }));
    await service.remove(repoId, hook.id);
  });

  it("gives up after the last attempt and keeps the failure to show", async () => {
    const closed = await receiver([]);
    closed.server.close(); // nothing listens there any more: connection refused
    const hook = await service.create(repoId, { url: closed.url });
    await red();
    await vi.waitFor(
      async () => {
        const d = (await service.list(repoId)).find((h) => h.id === hook.id)?.deliveries[0];
        expect(d).toMatchObject({ status: "failed", attempts: 3, lastStatusCode: null, nextAttemptAt: null });
        expect(d?.lastError).toMatch(/ECONNREFUSED|refused|fetch failed/i);
      },
      { timeout: 10_000 },
    );
  });

  it("refuses a URL that is not http(s), an unknown event type and an unknown repo", async () => {
    for (const body of [{ url: "file:///etc/passwd" }, { url: "javascript:alert(1)" }, { url: "http://127.0.0.1/x", events: ["nope"] }, { url: 42 }]) {
      const err = await service.create(repoId, body).catch((e: unknown) => e);
      expect(isAppError(err) && err.code).toBe("invalid_input");
    }
    const err = await service.create("no-such-repo", { url: "http://127.0.0.1/x" }).catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("not_found");
  });

  it("backs off exponentially up to the cap", () => {
    const o = { baseDelayMs: 1000, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, o))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});
