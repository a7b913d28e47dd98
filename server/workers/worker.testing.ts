/**
 * Test helpers for lanes with agent engines on a real runtime: a model server started per test,
 * packets for each engine, and reading a lane's events back. Not imported by runtime code.
 */
import fs from "node:fs/promises";
import path from "node:path";
import type { LaneEvent, LaneEventOf, LaneEventType } from "@/lib/lane-events";
import type { TaskPacketInput } from "@/lib/task-packet";
import type { ConfigInput } from "../config";
import { startModelServer, type ModelServer } from "../model-server/model-server";
import type { Conversation } from "../model-server/script";
import type { Runtime } from "../runtime";
import { startTestRuntime, type TestRuntime } from "../testing/runtime-harness";

/** The prompt marker the scripted conversations match on. */
export const TASK = "LANE-TASK";

export interface AgentRig {
  h: TestRuntime;
  server: ModelServer;
  close(): Promise<void>;
}

/**
 * A model server answering `turns` for prompts containing {@link TASK} (with `serverOpts.apiKey`,
 * only to that key: any other gets the API's 401), and a runtime whose engines point at it (Codex on `gpt-5.5` with full access, so it can commit; short retries).
 */
export async function startAgentRig(turns: Conversation["turns"], config: Partial<ConfigInput> = {}, serverOpts: { apiKey?: string } = {}): Promise<AgentRig> {
  const server = await startModelServer({ script: [{ name: "lane", match: TASK, turns }], ...serverOpts });
  const h = await startTestRuntime({
    anthropicBaseUrl: server.url,
    openaiBaseUrl: `${server.url}/v1`,
    codexModel: "gpt-5.5",
    codexSandbox: "danger-full-access",
    claudeMaxRetries: 0,
    codexMaxRetries: 0,
    anthropicMaxRetries: 1,
    anthropicRetryBaseMs: 5,
    ...config,
  });
  return {
    h,
    server,
    async close() {
      await h.close();
      await server.close();
    },
  };
}

let seq = 0;
/** A packet for an agent engine (`command` overrides the engine's program, e.g. a fake CLI). */
export function agentPacket(repoId: string, engine: "claude" | "codex" | "anthropic", extra: Partial<TaskPacketInput> & { command?: string[] } = {}): TaskPacketInput {
  const { command, ...rest } = extra;
  return {
    objective: `${engine} lane ${++seq}`,
    repo: repoId,
    branch: `lane/${engine}-${process.pid}-${seq}`,
    worker: { engine, prompt: `${TASK}: do the work`, ...(command ? { command } : {}) },
    ...rest,
  };
}

/** Every event of a lane, oldest first. */
export async function laneEvents(rt: Runtime, laneId: string): Promise<LaneEvent[]> {
  return (await rt.events.listAfter(0, { laneId, limit: 5000 })).events;
}

/** The payloads of one event type. */
export function payloads<T extends LaneEventType>(events: LaneEvent[], type: T): LaneEventOf<T>["payload"][] {
  return events.filter((e) => e.type === type).map((e) => e.payload as LaneEventOf<T>["payload"]);
}

/** The worker's state sequence (from `worker.state_changed`), e.g. ["spawning", "ready_for_prompt", …]. */
export function workerStates(events: LaneEvent[]): string[] {
  return payloads(events, "worker.state_changed").map((p) => p.to);
}

/**
 * Write a fake agent CLI (a node script) into `dir` and return its argv, for a packet's
 * `command`. The script gets the prompt on stdin like the real one; `body` is its source.
 */
export async function fakeAgent(dir: string, name: string, body: string): Promise<string[]> {
  const file = path.join(dir, `${name}.cjs`);
  await fs.writeFile(file, body);
  return [process.execPath, file];
}

/**
 * Resolve with the first event of `type` of the lane that satisfies `pred`, already stored or
 * published later (checked on every event of the lane).
 * @throws Error after `timeoutMs`
 */
export async function waitForEvent<T extends LaneEventType>(
  rt: Runtime,
  laneId: string,
  type: T,
  pred: (payload: LaneEventOf<T>["payload"]) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<LaneEventOf<T>> {
  const find = async () => (await laneEvents(rt, laneId)).find((e) => e.type === type && pred(e.payload as LaneEventOf<T>["payload"])) as LaneEventOf<T> | undefined;
  return new Promise((resolve, reject) => {
    let chain = Promise.resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${type} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const check = () => {
      chain = chain.then(async () => {
        const found = await find();
        if (!found) return;
        clearTimeout(timer);
        off();
        resolve(found);
      });
    };
    const off = rt.bus.on("lane.event", (e) => {
      if (e.laneId === laneId) check();
    });
    check();
  });
}
