/**
 * Acceptance-check runs in the scheduler's `check` pool (global and per-repo caps, fairness
 * across repos) without changing the check runner: {@link withCheckSlots} wraps its hooks so
 * `beforeCheck` first waits for a check slot of the lane's repo. A lane runs its checks one after
 * another, so it holds at most one slot: from `beforeCheck` until its check process exits
 * (`process.exit`, role `check`) or the lane leaves `checking` (red, killed, lost…); a check that
 * the hooks refuse to run gives its slot back at once.
 */
import type { EventBus } from "../events/event-bus";
import type { CheckHooks } from "./check-runner";

export interface CheckSlotsDeps {
  bus: EventBus;
  /** `scheduler.acquire("check", …)`: resolves with the release function once a slot is free. */
  acquire: (opts: { repoId: string; laneId: string; priority: number }) => Promise<() => void>;
}

/** `hooks` with a check slot taken before each check starts (see the module doc). */
export function withCheckSlots(base: CheckHooks, deps: CheckSlotsDeps): CheckHooks {
  const held = new Map<string, () => void>();
  const release = (laneId: string | null) => {
    const r = laneId ? held.get(laneId) : undefined;
    if (!r) return;
    held.delete(laneId!);
    r();
  };
  deps.bus.on("process.exit", (exit) => {
    if (exit.role === "check") release(exit.laneId);
  });
  deps.bus.on("lane.event", (e) => {
    if (e.type === "lane.state_changed" && e.payload.from === "checking") release(e.laneId);
  });
  return {
    async beforeCheck(lane, check, index) {
      if (!held.has(lane.id)) held.set(lane.id, await deps.acquire({ repoId: lane.repoId, laneId: lane.id, priority: lane.priority }));
      // A hook that throws keeps the slot: the runner then runs the check (its one catch).
      const verdict = await base.beforeCheck(lane, check, index);
      if (verdict.kind !== "run") release(lane.id);
      return verdict;
    },
    staleNow: (lane) => base.staleNow(lane),
    afterRed: (lane, run, classification) => base.afterRed(lane, run, classification),
    afterGreen: (lane) => base.afterGreen(lane),
    afterFinished: (laneId) => base.afterFinished(laneId),
  };
}
