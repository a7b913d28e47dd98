/**
 * The realtime layer over a real HTTP server and a real Socket.IO client: lane events reach the
 * board room, and a late subscriber gets the tail and then live lines, in order, with no gap.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogLine } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { decodeChunk, unpackOutput } from "@/lib/log-chunk";
import { ServerToClient, type ServerToClientEvents, type SubscribeAck } from "@/lib/socket-events";
import { shellPacket, waitForLane, waitForOutput, type TestRuntime } from "../testing/runtime-harness";
import { io as connect } from "socket.io-client";
import { startRealtime, type RealtimeFixture } from "./realtime.testing";

type PartialMsg = Parameters<ServerToClientEvents["process:partial"]>[0];
type OutputMsg = Parameters<ServerToClientEvents["process:output"]>[0];

describe("realtime", () => {
  let fx: RealtimeFixture;
  let h: TestRuntime;
  let client: RealtimeFixture["client"];

  beforeEach(async () => {
    fx = await startRealtime();
    ({ h, client } = fx);
  });
  afterEach(() => fx.close());

  it("every client receives lane events, each valid against the catalog", async () => {
    const received: LaneEvent[] = [];
    client.on("lane:event", (e) => received.push(e));
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["true"]));
    await waitForLane(h.rt, lane.id, (l) => l.state === "finished");
    const last = (await h.rt.events.listAfter(0, { laneId: lane.id, limit: 1000 })).events.at(-1)!;
    await new Promise<void>((resolve) => {
      const check = () => (received.some((e) => e.id === last.id) ? resolve() : client.once("lane:event", check));
      check();
    });
    const mine = received.filter((e) => e.laneId === lane.id);
    expect(mine.map((e) => e.type)).toContain("lane.finished");
    for (const e of mine) expect(ServerToClient["lane:event"].safeParse(e).success).toBe(true);
    const ids = mine.map((e) => e.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("a late subscriber gets the recent tail, then live lines, in order and without gaps", async () => {
    // Prints 1..400, pausing after 100 until released through stdin, so the subscriber is
    // provably late (it joins after line 100) and live lines provably follow.
    const script = "i=1; while [ $i -le 400 ]; do echo line-$i; if [ $i -eq 100 ]; then read go; fi; i=$((i+1)); done";
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", script]));
    await waitForOutput(h.rt, lane.id, "line-100");
    const live: LogLine[] = [];
    client.on("process:output", (msg) => {
      for (const { laneId, processId, chunk } of unpackOutput(msg)) if (laneId === lane.id) live.push(...decodeChunk(processId, chunk));
    });
    const ack = await new Promise<SubscribeAck>((resolve) => client.emit("lane:subscribe", { laneId: lane.id, tail: 50 }, resolve));
    expect(ack.ok).toBe(true);
    const tail = ack.ok ? ack.lines : [];
    expect(tail.map((l) => l.text)).toEqual(Array.from({ length: 50 }, (_, i) => `line-${51 + i}`));

    const view = await h.rt.lanes.get(lane.id);
    await h.rt.supervisor.writeStdin(view.currentProcessId!, "go\n");
    await waitForLane(h.rt, lane.id, (l) => l.state === "finished");
    await new Promise<void>((resolve) => {
      const check = () => (live.some((l) => l.text === "line-400") ? resolve() : client.once("process:output", check));
      check();
    });
    // The client's merge: tail then live, deduplicated by (process, stream, offset).
    const seen = new Set<string>();
    const merged = [...tail, ...live].filter((l) => {
      const key = `${l.processId}:${l.stream}:${l.offset}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    expect(merged.map((l) => l.text)).toEqual(Array.from({ length: 350 }, (_, i) => `line-${51 + i}`));
  });

  it("a prompt with no newline is shown as process:partial, also to a later subscriber, until the answer completes its line", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", 'echo ready; printf "Continue? [y/N] "; read answer; echo "answer=$answer"']));
    const partialOf = (c: typeof client) =>
      new Promise<PartialMsg>((resolve) => {
        const on = (m: PartialMsg) => {
          if (m.laneId !== lane.id) return;
          c.off("process:partial", on);
          resolve(m);
        };
        c.on("process:partial", on);
      });
    const shown = partialOf(client);
    await new Promise<SubscribeAck>((resolve) => client.emit("lane:subscribe", { laneId: lane.id, tail: 10 }, resolve));
    const p = await shown;
    const processId = (await h.rt.lanes.get(lane.id)).currentProcessId!;
    expect(p).toEqual({ laneId: lane.id, processId, stream: "stdout", offset: "ready\n".length, text: "Continue? [y/N] " });
    expect(ServerToClient["process:partial"].safeParse(p).success).toBe(true);

    // A client subscribing while the process waits is shown the prompt right after its ack.
    const late = connect(fx.url, { transports: ["websocket"], auth: { token: fx.token } });
    try {
      const lateShown = partialOf(late);
      const ack = await new Promise<SubscribeAck>((resolve) => late.emit("lane:subscribe", { laneId: lane.id, tail: 10 }, resolve));
      expect(ack.ok && ack.lines.map((l) => l.text)).toEqual(["ready"]);
      expect(await lateShown).toEqual(p);
    } finally {
      late.close();
    }

    // The answer completes the line: it arrives as a line starting where the partial one did.
    const completed = new Promise<LogLine>((resolve) => {
      const on = (msg: OutputMsg) => {
        const line = unpackOutput(msg).flatMap(({ processId: id, chunk }) => decodeChunk(id, chunk)).find((l) => l.offset === p.offset);
        if (!line) return;
        client.off("process:output", on);
        resolve(line);
      };
      client.on("process:output", on);
    });
    await h.rt.supervisor.writeStdin(processId, "y\n");
    expect(await completed).toMatchObject({ processId, stream: "stdout", text: "Continue? [y/N] answer=y" });
  });

  it("subscribing to an unknown lane is refused with a typed error", async () => {
    const ack = await new Promise<SubscribeAck>((resolve) => client.emit("lane:subscribe", { laneId: "nope", tail: 10 }, resolve));
    expect(ack).toEqual({ ok: false, error: { code: "not_found", message: expect.any(String) } });
  });

  it("refuses a handshake without a token, with a wrong one, or from a foreign Origin (with the token)", async () => {
    const attempt = (opts: Parameters<typeof connect>[1]) =>
      new Promise<string>((resolve) => {
        const c = connect(fx.url, { transports: ["websocket"], reconnection: false, ...opts });
        c.once("connect", () => (c.close(), resolve("connected")));
        c.once("connect_error", (err) => (c.close(), resolve(err.message)));
      });
    expect(await attempt({})).toBe("unauthorized");
    expect(await attempt({ auth: { token: "lb_wrong" } })).toBe("unauthorized");
    expect(await attempt({ auth: { token: fx.token }, extraHeaders: { origin: "https://evil.example" } })).not.toBe("connected");
    expect(await attempt({ auth: { token: fx.token }, extraHeaders: { origin: "null" } })).not.toBe("connected");
    expect(await attempt({ auth: { token: fx.token }, extraHeaders: { origin: fx.url } })).toBe("connected");
  });
});
