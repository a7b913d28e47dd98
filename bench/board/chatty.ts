/**
 * The board benchmark's event load: agent lanes making lane events as running agents make them.
 */
import path from "node:path";
import Database from "better-sqlite3";
import { DB_FILE_NAME } from "../../server/store/db";
import type { BenchServer } from "./server";

/** The stand-in agent that makes the event load (Claude Code's stream-json, a tool call every 100 ms). */
const CHATTY_AGENT = path.join(import.meta.dirname, "chatty-agent.mjs");

/**
 * Start `lanes` claude lanes whose worker is {@link CHATTY_AGENT}: lane events as running agents
 * make them, through the production path (the claude adapter keeps about two tool calls a second
 * per lane as `worker.activity`, server/workers/activity.ts). Resolves once every one runs.
 * @returns a function that counts the events stored over `seconds` (then per second)
 */
export async function startChattyLanes(s: BenchServer, lanes: number, seconds: number): Promise<{ measure: () => Promise<number> }> {
  const ids: string[] = [];
  for (let i = 0; i < lanes; i++) {
    const packet = { objective: `chatty agent ${i}`, repo: s.repoId, branch: `lane/bench-chatty-${i}`, worker: { engine: "claude", prompt: "bench", command: [process.execPath, CHATTY_AGENT, "100", String(seconds + 120)] } };
    const res = await fetch(`${s.url}/api/v1/lanes`, { method: "POST", headers: s.headers, body: JSON.stringify(packet) });
    const body = (await res.json()) as { id?: string; error?: { message: string } };
    if (!body.id) throw new Error(`creating a chatty lane failed: ${res.status} ${body.error?.message}`);
    ids.push(body.id);
  }
  for (const started = performance.now(); ; await new Promise((r) => setTimeout(r, 500))) {
    const board = (await (await fetch(`${s.url}/api/v1/board`, { headers: s.headers })).json()) as { lanes: { id: string; state: string }[] };
    const running = board.lanes.filter((l) => ids.includes(l.id) && l.state === "running").length;
    if (running === lanes) break;
    if (performance.now() - started > 120_000) throw new Error(`only ${running} of ${lanes} chatty lanes run after 120 s`);
  }
  const lastEventId = () => {
    const db = new Database(path.join(s.dataDir, DB_FILE_NAME), { readonly: true });
    try {
      return (db.prepare('SELECT max(id) AS id FROM "LaneEvent"').get() as { id: number }).id;
    } finally {
      db.close();
    }
  };
  return {
    async measure() {
      const [id0, t0] = [lastEventId(), performance.now()];
      await new Promise((r) => setTimeout(r, seconds * 1000));
      return (lastEventId() - id0) / ((performance.now() - t0) / 1000);
    },
  };
}
