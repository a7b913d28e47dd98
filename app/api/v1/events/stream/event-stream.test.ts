/**
 * The event stream and the event list over real HTTP (the route handlers behind a loopback
 * server), against a real runtime: resume after dropped connections at 1,000 events/s, filters,
 * heartbeats, `410 gone`, newest-first paging.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse } from "@/client/sse";
import type { ApiError } from "@/lib/api-error";
import type { LaneEvent } from "@/lib/lane-events";
import { shellPacket } from "@/server/testing/runtime-harness";
import { startHttpRuntime, type HttpTestRuntime } from "../../../_testing/route-server";

let h: HttpTestRuntime;
beforeAll(async () => {
  h = await startHttpRuntime();
});
afterAll(() => h.close());

const warning = (message: string) => h.rt.events.append({ type: "warning", laneId: null, payload: { failureClass: "infra", message } });
const stream = (query: string) => `${h.url}/api/v1/events/stream?${query}`;

describe("GET /api/v1/events/stream", () => {
  it("GET /api/v1/events/stream – drops the connection mid-stream at 1,000 events/s and resumes with Last-Event-ID: none missed, none twice", async () => {
    const start = await h.rt.events.latestId();
    const total = 3000;
    const appended: number[] = [];
    // The producer: 1,000 events/s (10 every 10 ms) for 3 s.
    const producing = (async () => {
      const t0 = performance.now();
      for (let n = 0; n < total; n += 10) {
        const batch = await Promise.all(Array.from({ length: 10 }, (_, i) => warning(`flood ${n + i}`)));
        appended.push(...batch.map((e) => e.id));
        const due = t0 + (n + 10);
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
    const received: number[] = [];
    let lastId = String(start);
    let drops = 0;
    // Drop the connection after every 700 events received, while the producer runs.
    while (received.length < total) {
      const abort = new AbortController();
      let sinceConnect = 0;
      try {
        for await (const m of readSse(stream("types=warning"), { headers: h.headers, lastEventId: lastId, signal: abort.signal })) {
          const event = JSON.parse(m.data) as LaneEvent;
          expect(m.id).toBe(String(event.id));
          received.push(event.id);
          lastId = m.id!;
          if (++sinceConnect === 700 && received.length < total) {
            drops++;
            abort.abort();
          }
          if (received.length === total) abort.abort();
        }
      } catch (err) {
        if (!abort.signal.aborted) throw err;
      }
    }
    await producing;
    expect(drops).toBeGreaterThanOrEqual(4);
    expect(new Set(received).size).toBe(received.length);
    expect(received).toEqual(appended);
    // The producer aims at 1,000 appends/s; PostgreSQL on a loaded 2-core machine takes up to a minute
    // for the 3,000 (each append draws its id under a transaction lock), hence the longer timeout.
  }, 180_000);

  it("GET /api/v1/events/stream – ?after= replays from the cursor, then live; laneId and types filter", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const from = (await h.rt.events.listAfter(0, { laneId: lane.id, limit: 1 })).events[0]!.id - 1;
    const abort = new AbortController();
    const seen: LaneEvent[] = [];
    for await (const m of readSse(stream(`after=${from}&laneId=${lane.id}&types=lane.finished,lane.failed,lane.created`), { headers: h.headers, signal: abort.signal })) {
      const event = JSON.parse(m.data) as LaneEvent;
      seen.push(event);
      if (event.type === "lane.finished" || event.type === "lane.failed") abort.abort();
    }
    expect(seen.map((e) => e.type)).toEqual(["lane.created", "lane.finished"]);
    expect(seen.every((e) => e.laneId === lane.id && e.repoId === h.repoId)).toBe(true);
  });

  it("GET /api/v1/events/stream – repoId filters by the lane's repo", async () => {
    const other = await warning("no repo");
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    const abort = new AbortController();
    const seen: LaneEvent[] = [];
    for await (const m of readSse(stream(`after=${other.id - 1}&repoId=${h.repoId}`), { headers: h.headers, signal: abort.signal })) {
      const event = JSON.parse(m.data) as LaneEvent;
      seen.push(event);
      if (event.laneId === lane.id) abort.abort();
    }
    expect(seen.some((e) => e.id === other.id)).toBe(false);
    expect(seen.every((e) => e.repoId === h.repoId)).toBe(true);
  });

  it("GET /api/v1/events/stream – sends heartbeat comments while idle", async () => {
    const abort = new AbortController();
    const comments: string[] = [];
    const messages = [];
    for await (const m of readSse(stream("heartbeatMs=1000&types=lane.merged"), {
      headers: h.headers,
      signal: abort.signal,
      onComment: (c) => {
        comments.push(c.trim());
        if (c.trim() === "ping") abort.abort();
      },
    }))
      messages.push(m);
    expect(messages).toEqual([]);
    expect(comments).toEqual(["connected", "ping"]);
  });

  it("GET /api/v1/events/stream – an unknown type or a bad Last-Event-ID is 422 naming the field", async () => {
    const e1 = await readSse(stream("types=lane.nope"), { headers: h.headers }).next().catch((e: ApiError) => e);
    expect(e1).toMatchObject({ status: 422, code: "invalid_input" });
    expect((e1 as ApiError).message).toContain("types");
    const e2 = await readSse(stream(""), { headers: h.headers, lastEventId: "abc" }).next().catch((e: ApiError) => e);
    expect(e2).toMatchObject({ status: 422, code: "invalid_input" });
    expect((e2 as ApiError).message).toContain("Last-Event-ID");
  });
});

describe("GET /api/v1/events", () => {
  it("GET /api/v1/events – order=desc pages newest first with before=", async () => {
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push((await warning(`page ${i}`)).id);
    const get = async (q: string) => (await fetch(`${h.url}/api/v1/events?${q}`, { headers: h.headers })).json();
    const first = await get("order=desc&types=warning&limit=2");
    expect(first.events.map((e: LaneEvent) => e.id)).toEqual([mine[4], mine[3]]);
    expect(first.cursor).toBe(mine[4]);
    const second = await get(`before=${first.before}&types=warning&limit=2`);
    expect(second.events.map((e: LaneEvent) => e.id)).toEqual([mine[2], mine[1]]);
  });

  it("GET /api/v1/events – a cursor older than the oldest kept event is 410 gone with the oldest cursor (and so is the stream)", async () => {
    const keep = await warning("kept");
    // What a retention pass does: the oldest rows are deleted.
    const oldest = (await h.rt.events.listAfter(0, { limit: 1 })).events[0]!.id;
    await h.rt.db.laneEvent.deleteMany({ where: { id: { lte: oldest + 3 } } });
    const kept = (await h.rt.events.oldestId())!;
    for (const url of [`${h.url}/api/v1/events?after=${oldest}`, stream(`after=${oldest}`)]) {
      const res = await fetch(url, { headers: h.headers });
      expect(res.status).toBe(410);
      const body = await res.json();
      expect(body.error).toMatchObject({ code: "gone", details: { oldestCursor: kept - 1 } });
    }
    // From the oldest cursor on it works.
    const ok = await fetch(`${h.url}/api/v1/events?after=${kept - 1}&limit=5000`, { headers: h.headers });
    expect(ok.status).toBe(200);
    expect((await ok.json()).events.map((e: LaneEvent) => e.id)).toContain(keep.id);
  });
});
