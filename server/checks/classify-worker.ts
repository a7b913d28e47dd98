/**
 * Classification of a worker that exited non-zero, for `lane.failed` (the lane runner's
 * `classifyWorkerFailure` hook): the worker's own output (both streams, last
 * {@link WORKER_TAIL_LINES} lines) through classifyFailure, with the packet's prompt so a prompt
 * typed into a shell is recognized.
 */
import type { FailureClass } from "@/lib/lane-state";
import { classifyFailure } from "./classify-failure";
import type { ProcessExit } from "../events/event-bus";
import type { FailureDetails } from "./check-runner";
import type { LaneRow } from "../records/lane-store";
import type { ProcessSupervisor } from "../processes/supervisor";

export const WORKER_TAIL_LINES = 2000;

export async function classifyWorkerExit(
  supervisor: ProcessSupervisor,
  lane: LaneRow,
  exit: ProcessExit,
): Promise<{ failureClass: FailureClass } & FailureDetails> {
  const lines = await supervisor.tail(exit.processId, WORKER_TAIL_LINES).catch(() => []);
  const proc = await supervisor.get(exit.processId).catch(() => null);
  const c = classifyFailure({
    exitCode: exit.exitCode,
    signal: exit.signal,
    output: lines.map((l) => l.text).join("\n"),
    role: "worker",
    command: proc?.command ?? [],
    prompt: lane.packet.worker.prompt,
    killRequested: exit.status === "killed",
    oomKilled: exit.oomKilled ?? null,
    wrapperDied: exit.wrapperDied ?? false,
  });
  return { failureClass: c.failureClass, failureReason: c.reason, summary: c.summary, evidence: c.evidence, role: "worker" };
}
