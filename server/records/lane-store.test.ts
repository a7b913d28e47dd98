/**
 * parseTaskPacket keeps what it parsed by the stored text: the same text gives the same (frozen)
 * packet without zod, another text its own, a bad text throws every time, and only the last
 * PACKETS_KEPT texts are kept. transitionLane on a real database (SQLite, or PostgreSQL in the
 * suite's PostgreSQL run): the row it answers is the row as written, a stale writer loses.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import { eventStorePerFile } from "../testing/event-store";
import { loadLane, PACKETS_KEPT, parseTaskPacket, transitionLane } from "./lane-store";

const text = (objective: string) => JSON.stringify({ objective, repo: "r1", baseBranch: "main", branch: "lane/a", worker: { engine: "shell", command: ["true"] } });

describe("parseTaskPacket", () => {
  it("answers the same text with the same packet, defaults applied, frozen to its depths", () => {
    const first = parseTaskPacket(text("same"));
    expect(first).toMatchObject({ objective: "same", scope: [], acceptance: [], worker: { engine: "shell", command: ["true"] } });
    expect(parseTaskPacket(text("same"))).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.worker) && Object.isFrozen(first.scope)).toBe(true);
    expect(() => {
      (first.worker as { engine: string }).engine = "claude";
    }).toThrow(TypeError);
  });

  it("gives another text its own packet, and throws for a bad text each time (nothing kept)", () => {
    expect(parseTaskPacket(text("one")).objective).toBe("one");
    expect(parseTaskPacket(text("two")).objective).toBe("two");
    const bad = JSON.stringify({ objective: "", repo: "r1", branch: "lane/a", worker: { engine: "shell", command: ["true"] } });
    expect(() => parseTaskPacket(bad)).toThrow(/objective/);
    expect(() => parseTaskPacket(bad)).toThrow(/objective/);
    expect(() => parseTaskPacket("{not json")).toThrow(SyntaxError);
  });

  it("keeps only the last PACKETS_KEPT texts, the least recently read going first", () => {
    const first = parseTaskPacket(text("lru-0"));
    const second = parseTaskPacket(text("lru-1"));
    for (let i = 2; i <= PACKETS_KEPT; i++) {
      parseTaskPacket(text(`lru-${i}`));
      parseTaskPacket(text("lru-1")); // read again and again: stays
    }
    expect(parseTaskPacket(text("lru-1"))).toBe(second);
    const again = parseTaskPacket(text("lru-0"));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe("transitionLane", () => {
  const store = eventStorePerFile("laneboard-lane-store-");
  const { published } = store;
  let db: Db;
  let events: EventLog;
  let repoId: string;
  beforeAll(() => {
    ({ db, events, repoId } = store);
  });
  const queuedLane = async (slug: string) =>
    (await db.lane.create({ data: { repoId, slug, objective: "o", branch: `lane/${slug}`, baseBranch: "main", worktreePath: store.dir, engine: "shell", packet: text(slug), state: "queued" } })).id;

  it("answers with the row as written (packet parsed), and announces the change with its closing events", async () => {
    const lane = await loadLane(db, await queuedLane("written"));
    const before = published.length;
    const row = await transitionLane({ db, events }, lane, "starting", { attempt: 1 });
    expect(row).toMatchObject({ id: lane.id, state: "starting", stateVersion: lane.stateVersion + 1, attempt: 1, packet: { objective: "written" } });
    expect(row).toEqual(await loadLane(db, lane.id));
    const killed = await transitionLane({ db, events }, row!, "killed", {}, [{ type: "lane.killed", laneId: lane.id, repoId, payload: { by: "test", signal: null, graceMs: 0 } }]);
    expect(killed).toMatchObject({ state: "killed" });
    expect(published.slice(before).map((e) => e.type)).toEqual(["lane.state_changed", "lane.state_changed", "lane.killed"]);
  });

  it("a stale writer loses (null, nothing written, nothing announced); a forbidden transition throws", async () => {
    const lane = await loadLane(db, await queuedLane("stale"));
    expect(await transitionLane({ db, events }, lane, "starting")).not.toBeNull();
    const before = published.length;
    expect(await transitionLane({ db, events }, lane, "killed")).toBeNull();
    expect(await loadLane(db, lane.id)).toMatchObject({ state: "starting", stateVersion: lane.stateVersion + 1 });
    expect(published.length).toBe(before);
    await expect(transitionLane({ db, events }, { ...lane, state: "finished" }, "running")).rejects.toThrow(/illegal transition/);
    expect(await transitionLane({ db, events }, { ...lane, id: "no-such-lane" }, "starting")).toBeNull();
  });
});
