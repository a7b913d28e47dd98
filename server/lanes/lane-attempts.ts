/**
 * Every attempt of a lane, not only the current one: its worker, its processes (worker and
 * checks, each with how it ended), its checks, its usage and the id range of its events, so a
 * person can read what attempt 1 did after attempt 2 replaced it. Plus usage summed over the
 * lane and over its repo.
 *
 * Attempt boundaries come from the records, not from guesses: attempt k's worker is the Worker
 * row with `attempt = k`; a process belongs to the attempt whose worker was created last before
 * it (checks run after their worker); events split at `lane.restarted { attempt: k }` (or, for a
 * lane started without a restart event, `lane.started { attempt: k }`).
 */
import type { Attempt, AttemptProcess, LaneAttempts } from "@/lib/review-api";
import { redactText } from "@/lib/redact";
import { WorkerUsageSchema, type WorkerUsage } from "@/lib/worker-state";
import type { WorkerState } from "@/lib/lane-state";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import { loadLane } from "../records/lane-store";
import { parseJsonColumn } from "../store/json-column";

/** Most events read to split a lane into attempts (a lane has far fewer). */
const MAX_EVENTS = 20_000;
const PAGE = 5_000;


/** Sum usages; cost stays null only when no part has a cost. */
export function addUsage(list: readonly (WorkerUsage | null)[]): WorkerUsage {
  let inputTokens = 0;
  let outputTokens = 0;
  let costUsd: number | null = null;
  for (const u of list) {
    if (!u) continue;
    inputTokens += u.inputTokens;
    outputTokens += u.outputTokens;
    if (u.costUsd !== null) costUsd = (costUsd ?? 0) + u.costUsd;
  }
  return { inputTokens, outputTokens, costUsd };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export class LaneAttemptsService {
  constructor(private readonly deps: { db: Db; events: EventLog }) {}

  /** @throws AppError not_found */
  async list(laneId: string): Promise<LaneAttempts> {
    const { db } = this.deps;
    const lane = await loadLane(db, laneId);
    const [workers, procs, repoWorkers, repoLanes] = await Promise.all([
      db.worker.findMany({ where: { laneId }, orderBy: [{ attempt: "asc" }, { createdAt: "asc" }] }),
      db.process.findMany({ where: { laneId }, orderBy: { createdAt: "asc" } }),
      db.worker.findMany({ where: { lane: { repoId: lane.repoId } }, select: { usage: true } }),
      db.lane.count({ where: { repoId: lane.repoId } }),
    ]);
    const events = await this.#events(laneId);

    // Event boundaries per attempt: the restart that began it, else its start.
    const boundary = new Map<number, number>();
    for (const e of events) {
      if (e.type === "lane.restarted" && !boundary.has(e.payload.attempt)) boundary.set(e.payload.attempt, e.id);
    }
    for (const e of events) {
      if (e.type === "lane.started" && !boundary.has(e.payload.attempt)) boundary.set(e.payload.attempt, e.id);
    }
    const numbers = [...new Set([...workers.map((w) => w.attempt), ...boundary.keys()])].filter((n) => n <= lane.attempt).sort((a, b) => a - b);
    if (numbers.length === 0) numbers.push(Math.max(1, lane.attempt));

    const attempts: Attempt[] = numbers.map((n, i) => {
      const worker = workers.filter((w) => w.attempt === n).at(-1) ?? null;
      const nextNumber = numbers[i + 1];
      const nextWorker = nextNumber === undefined ? null : (workers.find((w) => w.attempt === nextNumber) ?? null);
      const from = worker?.createdAt.getTime() ?? -Infinity;
      const until = nextWorker?.createdAt.getTime() ?? Infinity;
      const own = procs.filter((p) => p.id === worker?.processId || (p.createdAt.getTime() >= from && p.createdAt.getTime() < until));
      const firstEventId = i === 0 ? 0 : (boundary.get(n) ?? 0);
      const nextEventId = nextNumber === undefined ? null : (boundary.get(nextNumber) ?? null);
      const inRange = events.filter((e) => e.id >= firstEventId && (nextEventId === null || e.id < nextEventId));
      return {
        attempt: n,
        startedAt: (worker?.createdAt ?? own[0]?.createdAt ?? lane.createdAt).toISOString(),
        endedAt: iso(worker?.endedAt ?? own.at(-1)?.endedAt ?? null),
        workerId: worker?.id ?? null,
        workerState: (worker?.state as WorkerState | undefined) ?? null,
        processes: own.map(
          (p): AttemptProcess => ({
            id: p.id,
            role: p.role,
            // Shown to every reader of the lane: a token or key in an argument is redacted (lib/redact.ts).
            command: (JSON.parse(p.command) as string[]).map(redactText),
            status: p.status as AttemptProcess["status"],
            exitCode: p.exitCode,
            signal: p.signal,
            truncatedBytes: p.truncatedBytes,
            startedAt: iso(p.startedAt),
            endedAt: iso(p.endedAt),
          }),
        ),
        checks: checksOf(inRange, own),
        usage: worker ? parseJsonColumn(worker.usage, WorkerUsageSchema) : null,
        firstEventId,
        nextEventId,
      };
    });
    const usage = addUsage(workers.map((w) => parseJsonColumn(w.usage, WorkerUsageSchema)));
    return { laneId, attempts, usage, repoUsage: { ...addUsage(repoWorkers.map((w) => parseJsonColumn(w.usage, WorkerUsageSchema))), lanes: repoLanes } };
  }

  async #events(laneId: string) {
    const out = [];
    let after = 0;
    while (out.length < MAX_EVENTS) {
      const page = await this.deps.events.listAfter(after, { laneId, limit: PAGE });
      out.push(...page.events);
      if (page.events.length < PAGE) break;
      after = page.cursor;
    }
    return out;
  }
}

type Ev = Awaited<ReturnType<EventLog["listAfter"]>>["events"][number];

/** Check runs of an attempt: each `check.started`, settled by the next `lane.green` / `lane.red` of its level, else by its process. */
function checksOf(events: readonly Ev[], procs: readonly { id: string; exitCode: number | null; status: string }[]): Attempt["checks"] {
  const out: Attempt["checks"] = [];
  events.forEach((e, i) => {
    if (e.type !== "check.started") return;
    const { level, command, processId } = e.payload;
    const verdict = events.slice(i + 1).find((x) => (x.type === "lane.green" || x.type === "lane.red") && x.payload.level === level);
    const proc = procs.find((p) => p.id === processId);
    const running = !verdict && (!proc || proc.status === "running" || proc.status === "starting");
    const status = verdict ? (verdict.type === "lane.green" ? "green" : "red") : running ? "running" : proc?.exitCode === 0 ? "green" : "red";
    out.push({
      level,
      argv: command,
      status,
      processId,
      exitCode: proc?.exitCode ?? (verdict?.type === "lane.red" ? verdict.payload.exitCode : null),
      durationMs: verdict && (verdict.type === "lane.green" || verdict.type === "lane.red") ? verdict.payload.durationMs : null,
    });
  });
  return out;
}
