/**
 * Whether a lane takes a prompt now, and how: the one decision behind `POST …/worker/prompt`,
 * the worker view's `acceptsPrompt`/`promptMode` and `ready` in `GET …/worker/ready`, so that
 * "ready" means exactly "a prompt sent now is accepted" (a view is a snapshot: the worker may move
 * on before the prompt arrives, which the prompt then answers with its own 409).
 *
 * | lane / worker | verdict |
 * | --- | --- |
 * | ended, engine resumes sessions (claude, codex), an agent session id is known | `follow_up`: a new run resuming it |
 * | ended, engine without sessions (anthropic, shell, script) | 422 `not_supported` |
 * | ended, no session id was ever reported | 409 `conflict` |
 * | queued, or its worker is of an earlier attempt | 409 `not_ready` |
 * | worker `prompt_accepted` | 409 `conflict` (a prompt is being taken) |
 * | worker `ready_for_prompt` with an interactive session attached | `delivered`: typed into the live agent |
 * | anything else (booting, working, gated, blocked; a headless agent, which took its prompt at start) | 409 `not_ready` |
 */
import { TERMINAL_LANE_STATES, type LaneState } from "@/lib/lane-state";
import { engineDefinition } from "../engines/engine-command";
import type { LaneRow } from "../records/lane-store";
import type { WorkerRow } from "./worker-state-machine";

export type PromptMode = "delivered" | "follow_up";
export type PromptVerdict = { mode: PromptMode } | { mode: null; code: "not_ready" | "conflict" | "not_supported"; message: string };

export interface PromptFacts {
  lane: Pick<LaneRow, "id" | "state" | "attempt" | "engine">;
  /** The lane's current worker (its newest attempt), null before the first start. */
  worker: Pick<WorkerRow, "id" | "state" | "attempt" | "engine"> | null;
  /** An interactive session is attached to `worker` (./worker-session.ts). */
  session: boolean;
  /** Some worker of the lane reported an agent session id (what a follow-up resumes). */
  agentSession: boolean;
}

/** Pure: the verdict for a prompt sent now. */
export function promptVerdict({ lane, worker, session, agentSession }: PromptFacts): PromptVerdict {
  const refuse = (code: "not_ready" | "conflict" | "not_supported", message: string): PromptVerdict => ({ mode: null, code, message });
  if (TERMINAL_LANE_STATES.has(lane.state as LaneState)) {
    if (!resumes(lane.engine)) {
      return refuse("not_supported", `the ${lane.engine} engine takes its prompt at start and has no session to continue; restart the lane or create a new one`);
    }
    if (!agentSession) return refuse("conflict", `lane ${lane.id} has no agent session to continue (its worker never reported ready)`);
    return { mode: "follow_up" };
  }
  if (!worker || worker.attempt !== lane.attempt || lane.state === "queued") return refuse("not_ready", `lane ${lane.id} is ${lane.state}: its worker has not started yet`);
  if (worker.state === "prompt_accepted") return refuse("conflict", `worker ${worker.id} is still accepting a prompt`);
  if (worker.state === "ready_for_prompt" && session) return { mode: "delivered" };
  const why = session ? `it is ${worker.state}` : `the ${worker.engine} engine took its prompt at start and is ${worker.state}; send a follow-up once the run has ended`;
  return refuse("not_ready", `worker ${worker.id} is not ready for a prompt: ${why}`);
}

/** Whether {@link promptVerdict} needs `agentSession` (only ended lanes of resuming engines). */
export function needsAgentSession(lane: Pick<LaneRow, "state" | "engine">): boolean {
  return TERMINAL_LANE_STATES.has(lane.state as LaneState) && resumes(lane.engine);
}

/** The engine can continue an agent session (engine registry: `resume`). */
const resumes = (engine: string) => !!engineDefinition(engine)?.resume;
