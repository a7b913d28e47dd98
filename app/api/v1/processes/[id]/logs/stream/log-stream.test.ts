/**
 * Following a process's output as server-sent events over real HTTP, against a real runtime and
 * a real child process: from a byte offset, across a dropped connection, to the end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSse } from "@/client/sse";
import type { LogLine, ProcessView } from "@/lib/api";
import { isTerminal, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import { startHttpRuntime, type HttpTestRuntime } from "../../../../../_testing/route-server";

let h: HttpTestRuntime;
beforeAll(async () => {
  h = await startHttpRuntime();
});
afterAll(() => h.close());

describe("GET /api/v1/processes/:id/logs/stream", () => {
  it("GET /api/v1/processes/:id/logs/stream – follows live output across a dropped connection, every line once, then end", async () => {
    // 3,000 numbered lines in 30 bursts over 6 s, then a last line without a newline.
    const script = 'for i in $(seq 1 30); do seq $((i*100-99)) $((i*100)); sleep 0.2; done; printf "last"';
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", script]));
    const running = await waitForLane(h.rt, lane.id, (l) => l.currentProcessId !== null);
    const url = `${h.url}/api/v1/processes/${running.currentProcessId}/logs/stream?from=0`;
    const texts: string[] = [];
    let lastId: string | undefined;
    let end: { process: ProcessView; next: number } | null = null;
    let connections = 0;
    while (!end) {
      connections++;
      const abort = new AbortController();
      for await (const m of readSse(url, { headers: h.headers, lastEventId: lastId, signal: abort.signal })) {
        lastId = m.id;
        if (m.event === "end") {
          end = JSON.parse(m.data);
          break;
        }
        const batch = JSON.parse(m.data) as { lines: LogLine[]; next: number };
        expect(String(batch.next)).toBe(m.id);
        texts.push(...batch.lines.map((l) => l.text));
        // Hang up after the first batch of each of the first three connections.
        if (connections <= 3) abort.abort();
      }
    }
    expect(connections).toBeGreaterThanOrEqual(4);
    expect(texts).toEqual([...Array.from({ length: 3000 }, (_, i) => String(i + 1)), "last"]);
    expect(end.process).toMatchObject({ id: running.currentProcessId, status: "exited", exitCode: 0 });
    await waitForLane(h.rt, lane.id, isTerminal);
  });

  it("GET /api/v1/processes/:id/logs/stream – resumes from a byte offset (Last-Event-ID wins over from)", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["sh", "-c", "printf 'a\\nbb\\nccc\\n'"]));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    const processId = (await h.rt.lanes.logs(done.id, { limit: 10 })).processId!;
    const read = async (query: string, lastEventId?: string) => {
      const out: string[] = [];
      for await (const m of readSse(`${h.url}/api/v1/processes/${processId}/logs/stream?${query}`, { headers: h.headers, lastEventId })) {
        if (m.event === "end") break;
        out.push(...(JSON.parse(m.data) as { lines: LogLine[] }).lines.map((l) => l.text));
      }
      return out;
    };
    expect(await read("from=2")).toEqual(["bb", "ccc"]);
    expect(await read("from=0", "5")).toEqual(["ccc"]);
  });

  it("GET /api/v1/processes/:id/logs/stream – unknown process is 404, an offset past the end 416", async () => {
    expect((await fetch(`${h.url}/api/v1/processes/nope/logs/stream`, { headers: h.headers })).status).toBe(404);
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["echo", "hi"]));
    const done = await waitForLane(h.rt, lane.id, isTerminal);
    const res = await fetch(`${h.url}/api/v1/processes/${done.currentProcessId}/logs/stream?from=999`, { headers: h.headers });
    expect(res.status).toBe(416);
    expect((await res.json()).error.code).toBe("range_not_satisfiable");
  });
});
