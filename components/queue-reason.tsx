"use client";
/**
 * Why a queued lane has not started: the cap, dependency, budget or rate limit that
 * holds it, as one short line under the card header. Blocked lanes (a dependency failed, so it
 * can never start as things stand) are shown in red. Renders nothing for lanes that are not queued.
 */
import type { LaneView } from "@/lib/api";
import { describeWait } from "@/lib/scheduling";

const TONE: Record<string, string> = {
  cap: "text-zinc-400",
  turn: "text-zinc-500",
  dependency: "text-sky-300/90",
  budget: "text-amber-300",
  rate_limit: "text-amber-300/80",
  blocked: "text-red-300",
};

export function QueueReason({ lane }: { lane: LaneView }) {
  const w = lane.waitingFor;
  if (lane.state !== "queued" || !w) return null;
  const kind = w.kind === "dependency" && w.blockedBy ? "blocked" : w.kind;
  const text = describeWait(w);
  return (
    <p data-testid="queue-reason" data-kind={kind} className={`truncate text-xs ${TONE[kind] ?? "text-zinc-400"}`} title={text}>
      {text}
    </p>
  );
}
