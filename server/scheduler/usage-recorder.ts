/**
 * Charging workers' usage reports (`worker.usage` events) to the scheduler's budget ledger, and
 * stopping lanes whose budget they exceed. Runs on the scheduler's chain (server/scheduler/scheduler.ts).
 */
import type { LaneEvent } from "@/lib/lane-events";
import { describeWait } from "@/lib/scheduling";
import type { EventBus } from "../events/event-bus";
import { eventFromRow } from "../events/event-log";
import type { Db } from "../store/db";
import type { SchedulerCore, SchedulerEvent } from "./scheduler-core";
import { chargeUsage, type SchedulerStore, type UsageBook } from "./scheduler-store";

export interface UsageRecorderDeps {
  db: Db;
  bus: Pick<EventBus, "request">;
  core: SchedulerCore;
  store: SchedulerStore;
  usage: UsageBook;
  now: () => number;
  emit: (events: SchedulerEvent[]) => Promise<void>;
}

export class UsageRecorder {
  constructor(private readonly d: UsageRecorderDeps) {}

  /**
   * A worker's running usage totals: charge the increase since its previous report. Applied
   * once per event id (the cursor is saved with the usage), so a replay after a restart is exact.
   */
  async record(ev: Extract<LaneEvent, { type: "worker.usage" }>): Promise<void> {
    const { core, usage } = this.d;
    const laneId = ev.laneId;
    if (!laneId || ev.id <= usage.cursor || !core.ledger.hasLane(laneId)) return;
    const delta = chargeUsage(usage, laneId, ev.id, ev.payload);
    const now = this.d.now();
    const events = core.recordUsage(laneId, delta, now);
    // A breach is acted on even when the save fails: the core has already marked those lanes as
    // stopping and never reports them again, so skipping the stop would let them run on over
    // budget. The usage itself is in the ledger; the next save writes it, and after a restart it
    // is charged again from the saved cursor. The save's error is then rethrown (logged).
    const failed = await this.d.store.saveUsage(core, core.ledger.lineage(laneId), usage, now).then(
      () => null,
      (err: unknown) => ({ err }),
    );
    await this.d.emit(events);
    for (const e of events) {
      if (e.type !== "scheduler.budget_exceeded") continue;
      const reason = describeWait({ kind: "budget", ...e.breach });
      void this.d.bus.request("lane.stop", { laneId: e.laneId, failureClass: "budget_exceeded", reason }).catch((err) => console.error(`[scheduler] stopping ${e.laneId} over budget failed`, err));
    }
    if (failed) throw failed.err;
  }

  /** Usage reports appended after the last one applied (the server stopped in between). */
  async replay(): Promise<void> {
    const rows = await this.d.db.laneEvent.findMany({ where: { type: "worker.usage", id: { gt: this.d.usage.cursor } }, orderBy: { id: "asc" } });
    for (const row of rows) {
      const ev = eventFromRow(row);
      if (ev.type === "worker.usage") await this.record(ev);
    }
  }
}
