/**
 * The long poll behind "await" routes: re-run a check after each lane event of one lane until it
 * gives an answer, or give the check's answer at the timeout.
 *
 * Runs never overlap (the check reads the database); events that arrive while a run is under
 * way cause exactly one more run after it, so a burst of events costs two runs, not one per
 * event. The first run happens at once, after subscribing, so an event cannot slip between
 * the first look and the subscription.
 */
import type { LaneEvent } from "@/lib/lane-events";
import type { EventBus } from "./event-bus";

/**
 * @param check resolves with the answer, or null to keep waiting; called with `timedOut: true`
 *   once `timeoutMs` has passed, when it must answer
 * @param relevant which events of the lane can change the answer (default: all)
 * @throws whatever `check` throws; Error if it gives no answer at the timeout
 */
export function pollOnLaneEvents<T>(
  bus: EventBus,
  laneId: string,
  timeoutMs: number,
  check: (timedOut: boolean) => Promise<T | null>,
  relevant: (e: LaneEvent) => boolean = () => true,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let running = false;
    let again = false;
    let timedOut = false;
    let done = false;
    const end = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      settle();
    };
    const run = async (): Promise<void> => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          const late = timedOut;
          const answer = await check(late);
          if (answer !== null) return end(() => resolve(answer));
          if (late) return end(() => reject(new Error(`long poll on lane ${laneId}: no answer at the timeout`)));
        } while ((again || timedOut) && !done);
      } catch (err) {
        end(() => reject(err));
      } finally {
        running = false;
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      void run();
    }, timeoutMs);
    const off = bus.on("lane.event", (e) => {
      if (e.laneId === laneId && relevant(e)) void run();
    });
    void run();
  });
}
