/**
 * The worker state machine (docs/domain.md "Worker states", diagram in docs/workers.md): the one
 * transition table `from → event → to` and the one guarded writer of `Worker.state`.
 *
 * Every transition is persisted with `updateMany where { id, state: from, stateVersion }` and a
 * `stateVersion` increment, so of two writers that read the same row only the first wins; the
 * other gets `null` back and must re-read (house style §5; documenso's guarded updates). Each
 * transition appends `worker.state_changed { workerId, from, to, trigger }`.
 *
 * The invariant the API relies on: `prompt_sent` exists only from `ready_for_prompt`, so no
 * code path can record a prompt as delivered to a worker that was not ready. Diagram:
 * docs/workers.md.
 */
import { AppError } from "@/lib/errors";
import { END_STATES, type WorkerState } from "@/lib/lane-state";
import { appendAfterWrite, type StateWriteDeps } from "../events/append-after-write";
import type { Db } from "../store/db";
import { updateIfUnchanged } from "../store/guarded-update";
import type { Worker } from "../store/generated/client";

export type WorkerRow = Worker;

/**
 * What can happen to a worker.
 * | event | meaning |
 * | --- | --- |
 * | `trust_prompt` | the agent shows a folder-trust prompt |
 * | `trust_resolved` | the trust prompt was answered (allowlist, human or claw); booting continues |
 * | `ready` | the agent is waiting for a prompt (its input line; headless: it started with the prompt file) |
 * | `prompt_sent` | a prompt was delivered to the agent |
 * | `work_started` | the agent works on its prompt; engines without a prompt (shell, script): the command runs |
 * | `blocked` | a dialog or question stops the agent (its text goes to `lane.blocked`) |
 * | `resumed` | the agent works again after being blocked |
 * | `misdelivery` | the prompt landed somewhere else (e.g. a shell): wait for the agent to be ready again, then replay once |
 * | `finish` | the process ended and the agent reported success |
 * | `fail` | the process ended or must stop with a failure (its class goes to `lastError`) |
 * | `kill` | a human or policy stopped it (kill API, workspace mismatch) |
 * | `lose` | the server could not find its process again after a restart |
 */
export const WORKER_EVENTS = [
  "trust_prompt",
  "trust_resolved",
  "ready",
  "prompt_sent",
  "work_started",
  "blocked",
  "resumed",
  "misdelivery",
  "finish",
  "fail",
  "kill",
  "lose",
] as const;
export type WorkerEvent = (typeof WORKER_EVENTS)[number];

const ENDINGS = { fail: "failed", kill: "killed", lose: "lost" } as const;

/** The transition table. A missing entry means the event is not allowed in that state. */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerState, Readonly<Partial<Record<WorkerEvent, WorkerState>>>>> = {
  spawning: { trust_prompt: "trust_required", ready: "ready_for_prompt", work_started: "running", blocked: "blocked", ...ENDINGS },
  trust_required: { trust_resolved: "spawning", ready: "ready_for_prompt", blocked: "blocked", ...ENDINGS },
  ready_for_prompt: { prompt_sent: "prompt_accepted", blocked: "blocked", finish: "finished", ...ENDINGS },
  prompt_accepted: { work_started: "running", misdelivery: "spawning", blocked: "blocked", finish: "finished", ...ENDINGS },
  running: { ready: "ready_for_prompt", blocked: "blocked", misdelivery: "spawning", finish: "finished", ...ENDINGS },
  blocked: { trust_prompt: "trust_required", ready: "ready_for_prompt", resumed: "running", ...ENDINGS },
  finished: {},
  failed: {},
  killed: {},
  lost: {},
};

export const TERMINAL_WORKER_STATES: ReadonlySet<WorkerState> = new Set(END_STATES);

/** The state `event` leads to from `from`, or null when the table does not allow it. */
export function nextWorkerState(from: WorkerState, event: WorkerEvent): WorkerState | null {
  return WORKER_TRANSITIONS[from]?.[event] ?? null;
}

/** With `supervisor`, a refused `worker.state_changed` is kept, not thrown (server/events/append-after-write.ts). */
export interface WorkerDeps extends StateWriteDeps {
  db: Db;
}

/** Columns a transition may write along with the state (never `state`/`stateVersion` themselves). */
export type WorkerData = Partial<Pick<WorkerRow, "processId" | "sessionId" | "prompt" | "promptDeliveries" | "usage" | "lastError" | "readyAt">>;

/**
 * Apply `event` to `worker` as the caller read it, writing `data` in the same guarded update.
 * Entering a terminal state sets `endedAt`.
 * @returns the updated row, or null when the row changed since it was read (a stale writer loses)
 * @throws AppError `conflict` when the table does not allow `event` in the worker's state
 */
export async function transitionWorker(
  deps: WorkerDeps,
  worker: Pick<WorkerRow, "id" | "laneId" | "state" | "stateVersion">,
  event: WorkerEvent,
  opts: { data?: WorkerData; repoId?: string | null } = {},
): Promise<WorkerRow | null> {
  const from = worker.state as WorkerState;
  const to = nextWorkerState(from, event);
  if (!to) throw new AppError("conflict", `worker ${worker.id} is ${from}: ${event} is not allowed`, { state: from, event });
  // One UPDATE … RETURNING: the row as written, no read back.
  const row = await updateIfUnchanged(() =>
    deps.db.worker.update({
      where: { id: worker.id, state: from, stateVersion: worker.stateVersion },
      data: { ...opts.data, state: to, stateVersion: { increment: 1 }, ...(TERMINAL_WORKER_STATES.has(to) ? { endedAt: new Date() } : {}) },
    }),
  );
  if (!row) return null;
  await appendAfterWrite(deps, `worker ${worker.id}'s ${from} → ${to} event`, [
    { type: "worker.state_changed", laneId: worker.laneId, repoId: opts.repoId ?? null, payload: { workerId: worker.id, from, to, trigger: event } },
  ]);
  return row;
}

/**
 * Apply `event` to the worker's current row, re-reading and retrying when another writer got
 * there first, as long as the event is still allowed.
 * @returns the updated row, or null when the event is not (or no longer) allowed in the worker's state
 */
export async function applyWorkerEvent(
  deps: WorkerDeps,
  workerId: string,
  event: WorkerEvent,
  opts: { data?: WorkerData; repoId?: string | null } = {},
): Promise<WorkerRow | null> {
  // Each lost round means another writer moved the worker; a handful of rounds is plenty.
  for (let round = 0; round < 20; round++) {
    const row = await deps.db.worker.findUnique({ where: { id: workerId } });
    if (!row || !nextWorkerState(row.state as WorkerState, event)) return null;
    const done = await transitionWorker(deps, row, event, opts);
    if (done) return done;
  }
  return null;
}

/**
 * Create a worker row in `spawning` (the machine's initial state) and append
 * `worker.state_changed { from: null, to: "spawning" }`.
 */
export async function createWorker(
  deps: WorkerDeps,
  input: { laneId: string; repoId: string | null; engine: string; attempt: number; prompt?: string | null },
): Promise<WorkerRow> {
  const worker = await deps.db.worker.create({
    data: { laneId: input.laneId, engine: input.engine, state: "spawning", attempt: input.attempt, prompt: input.prompt ?? null },
  });
  await deps.events.append({ type: "worker.state_changed", laneId: input.laneId, repoId: input.repoId, payload: { workerId: worker.id, from: null, to: "spawning", trigger: "spawn" } });
  return worker;
}
