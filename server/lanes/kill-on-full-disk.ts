/**
 * A kill while the data disk is full. Stopping a lane's processes needs no new space, and it is
 * how a person stops the lane that filled the disk, so it is never refused for lack of room: the
 * process group is killed as usual, and what the database cannot take yet is recorded once it can.
 * - The lane's `killed` state: when its own write was refused, the runner settles the lane as
 *   killed from the process's exit (status `killed`, the kill being ours), which the supervisor
 *   keeps while the database refuses it and records once there is room (exit-recorder.ts).
 * - `lane.killed`: appended once that exit has been recorded, announced and handled, so it comes
 *   after `process.exited` and the lane's settlement in the log, as for a kill with room; kept by
 *   the supervisor's outbox while the database refuses it for a passing reason.
 */
import type { NewLaneEvent } from "@/lib/lane-events";
import { storageFailureOf } from "@/lib/storage-errors";
import type { EventLog } from "../events/event-log";
import type { ProcessSupervisor } from "../processes/supervisor";
import type { LaneRunner } from "./lane-runner";

/** True when `err` is the database or the file system refusing a write for lack of space (ENOSPC, EDQUOT, SQLITE_FULL). */
export function isDiskFull(err: unknown): boolean {
  return storageFailureOf(err) === "disk_full";
}

/**
 * Append `event` (a `lane.killed`) once the exit of `processId` has been recorded and handled
 * (checked every `retryMs`), through the supervisor's outbox (server/store/write-outbox.ts): kept
 * behind the writes it still keeps, such as that exit's own `process.exited`, while the database
 * refuses it for lack of space or a busy database. Returns at once; never throws (an event
 * refused for good is logged and dropped by the outbox).
 */
export function appendKilledWhenRecorded(
  deps: { events: EventLog; supervisor: ProcessSupervisor; runner: LaneRunner },
  processId: string,
  event: NewLaneEvent,
  retryMs = 500,
): void {
  let handed = false;
  const timer = setInterval(() => void attempt(), retryMs);
  timer.unref();
  const attempt = async (): Promise<void> => {
    if (handed || deps.supervisor.exitKept(processId)) return;
    handed = true;
    clearInterval(timer);
    // The exit left the supervisor's keeping only after its announcement, so the runner's handling is under way or done.
    await deps.runner.whenExitHandled(processId);
    await deps.supervisor.writes.send(`${event.type} event of lane ${event.laneId}`, () => deps.events.append(event));
  };
  void attempt();
}
