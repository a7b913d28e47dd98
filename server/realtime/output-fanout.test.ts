/**
 * Flow control of live output over a real HTTP server, real Socket.IO client and real processes:
 * a subscriber whose TCP socket stops being read falls behind, then catches up from the log
 * files with every line once and in order; one too far behind skips ahead with a dropped notice.
 */
import type { Socket as NetSocket } from "node:net";
import { io as connect } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import type { LogLine } from "@/lib/api";
import { decodeChunk, unpackOutput } from "@/lib/log-chunk";
import type { SubscribeAck } from "@/lib/socket-events";
import { shellPacket, waitForLane, waitForOutput, type TestRuntime } from "../testing/runtime-harness";
import { SlabPool, type FanoutOptions } from "./output-fanout";
import { startRealtime, type RealtimeFixture } from "./realtime.testing";
import type { Realtime } from "./socket-server";

const LINES = 150_000;
/** 100 digits + "\n": 15 MB in all, more than loopback socket buffers absorb. */
const SCRIPT = `echo ready; read go; yes "$(printf '%0100d' 7)" | head -n ${LINES}`;

describe("output flow control", () => {
  let fx: RealtimeFixture;
  let h: TestRuntime;
  let realtime: Realtime;
  let client: RealtimeFixture["client"];

  async function start(opts: FanoutOptions) {
    fx = await startRealtime(opts);
    ({ h, realtime, client } = fx);
  }
  afterEach(() => fx.close());

  /** The client's TCP socket (engine.io-client's websocket transport, `ws` in Node). */
  const tcp = () => (client.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } }).transport.ws._socket;

  /** Run SCRIPT in a lane with the client subscribed and its socket paused until the process ended. */
  async function floodWhilePaused(): Promise<{ lines: LogLine[]; dropped: number }> {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", SCRIPT]));
    await waitForOutput(h.rt, lane.id, "ready");
    const got = { lines: [] as LogLine[], dropped: 0 };
    let notify = () => {};
    client.on("process:output", (msg) => {
      for (const { laneId, processId, chunk } of unpackOutput(msg)) if (laneId === lane.id && chunk.stream === "stdout") got.lines.push(...decodeChunk(processId, chunk));
      notify();
    });
    client.on("process:dropped", ({ count }) => {
      got.dropped += count;
      notify();
    });
    const ack = await new Promise<SubscribeAck>((resolve) => client.emit("lane:subscribe", { laneId: lane.id, tail: 0 }, resolve));
    expect(ack.ok).toBe(true);
    tcp().pause();
    const view = await h.rt.lanes.get(lane.id);
    await h.rt.supervisor.writeStdin(view.currentProcessId!, "go\n");
    await waitForLane(h.rt, lane.id, (l) => l.state === "finished");
    tcp().resume();
    await new Promise<void>((resolve) => {
      notify = () => {
        if (got.lines.length + got.dropped >= LINES) resolve();
      };
      notify();
    });
    return got;
  }

  it("a subscriber that stops reading catches up from the log files: every line once, in order", async () => {
    await start({ maxQueuedBytes: 64 * 1024, messageBytes: 16 * 1024, stepBytes: 64 * 1024 });
    const { lines, dropped } = await floodWhilePaused();
    expect(dropped).toBe(0);
    expect(lines).toHaveLength(LINES);
    // "ready\n" is 6 bytes; then LINES lines of 101 bytes, contiguous.
    lines.forEach((l, i) => {
      if (l.offset !== 6 + i * 101 || l.text !== "0".repeat(99) + "7") throw new Error(`line ${i}: offset ${l.offset}, text ${l.text.slice(0, 20)}…`);
    });
    expect(realtime.fanout.stats.catchUpBytes).toBeGreaterThan(1_000_000);
    expect(realtime.fanout.stats.droppedLines).toBe(0);
    // Message memory is reused once written (and every line above arrived intact): 15 MB went
    // through slabs of 256 KiB, so without reuse there would be about 60 of them.
    const { slabBytes } = realtime.fanout.pool;
    const sent = realtime.fanout.stats.liveBytes + realtime.fanout.stats.catchUpBytes;
    expect(sent / slabBytes).toBeGreaterThan(50);
    expect(realtime.fanout.pool.allocated).toBeLessThan(12);
  });

  it("a subscriber too far behind skips to newer output with a dropped notice, then gets the rest in order", async () => {
    await start({ maxQueuedBytes: 64 * 1024, messageBytes: 16 * 1024, stepBytes: 64 * 1024, maxLagBytes: 512 * 1024 });
    const { lines, dropped } = await floodWhilePaused();
    expect(dropped).toBeGreaterThan(0);
    expect(lines.length + dropped).toBe(LINES);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.offset).toBeGreaterThan(lines[i - 1]!.offset);
    expect(lines.at(-1)!.offset).toBe(6 + (LINES - 1) * 101);
    expect(realtime.fanout.stats.droppedLines).toBe(dropped);
  });
});

describe("paced subscriptions (lane:subscribe everyMs)", () => {
  let fx: RealtimeFixture;
  afterEach(() => fx.close());

  it("a paced subscriber gets every line, in order, in fewer messages than one that is not; an unpaced one gets each write as it is read", async () => {
    fx = await startRealtime();
    const { h, client: eager, url, token } = fx;
    const paced = connect(url, { transports: ["websocket"], auth: { token } });
    try {
      const WRITES = 10;
      const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", `echo ready; for i in $(seq ${WRITES}); do read x; echo "got $x"; done`]));
      await waitForOutput(h.rt, lane.id, "ready");
      const got = { eager: { texts: [] as string[], messages: 0 }, paced: { texts: [] as string[], messages: 0 } };
      let onEager = () => {};
      let onPaced = () => {};
      const follow = (sock: typeof eager, into: (typeof got)["eager"], notify: () => () => void) =>
        sock.on("process:output", (msg) => {
          into.messages++;
          for (const { laneId, processId, chunk } of unpackOutput(msg)) if (laneId === lane.id) into.texts.push(...decodeChunk(processId, chunk).map((l) => l.text));
          notify()();
        });
      follow(eager, got.eager, () => onEager);
      follow(paced, got.paced, () => onPaced);
      const subscribe = (sock: typeof eager, everyMs: number) => new Promise<SubscribeAck>((resolve) => sock.emit("lane:subscribe", { laneId: lane.id, tail: 0, everyMs }, resolve));
      expect((await subscribe(eager, 0)).ok).toBe(true);
      expect((await subscribe(paced, 1000)).ok).toBe(true);
      const processId = (await h.rt.lanes.get(lane.id)).currentProcessId!;
      const t0 = performance.now();
      // One write at a time, each after the eager subscriber has received the one before: so
      // every write is read (and sent to it) on its own.
      for (let i = 1; i <= WRITES; i++) {
        const seen = new Promise<void>((resolve) => (onEager = () => got.eager.texts.length >= i && resolve()));
        await h.rt.supervisor.writeStdin(processId, `${i}\n`);
        await seen;
      }
      const elapsed = performance.now() - t0;
      await new Promise<void>((resolve) => {
        onPaced = () => got.paced.texts.length >= WRITES && resolve();
        onPaced();
      });
      const expected = Array.from({ length: WRITES }, (_, i) => `got ${i + 1}`);
      expect(got.eager.texts).toEqual(expected);
      expect(got.paced.texts).toEqual(expected);
      expect(got.eager.messages).toBe(WRITES);
      // Held up to 1 s from the first line held: at most one message per second the writes took, plus the last.
      expect(got.paced.messages).toBeLessThanOrEqual(Math.floor(elapsed / 1000) + 2);
      expect(got.paced.messages).toBeLessThan(WRITES);
    } finally {
      paced.close();
    }
  });
});

describe("SlabPool", () => {
  it("reuses a slab once its last reference is released, and keeps at most keepFree", () => {
    const pool = new SlabPool(1024, 1);
    const a = pool.take();
    a.refs++; // a message in it
    pool.release(a); // the builder lets go: the message still holds it
    const b = pool.take();
    expect(b.buf).not.toBe(a.buf);
    pool.release(a); // message written: back to the pool
    expect(pool.take().buf).toBe(a.buf);
    expect(pool.allocated).toBe(2);
    // Only keepFree (1) slabs are kept: the second released one is left to the GC.
    const c = pool.take();
    pool.release(b);
    pool.release(c);
    expect(pool.take().buf).toBe(b.buf);
    expect(pool.take().buf).not.toBe(c.buf);
    expect(pool.allocated).toBe(4);
  });
});
