"use client";
/**
 * The header's counts: "needs you" and lanes per state. Each count is a toggle that filters the
 * board (the choice goes to the URL like every other filter).
 */
import type { BoardQuery } from "@/lib/board-query";
import { LANE_STATES } from "@/lib/lane-state";

const COLOR: Record<string, string> = {
  running: "text-blue-300",
  checking: "text-amber-300",
  queued: "text-zinc-200",
  failed: "text-red-300",
  finished: "text-emerald-300",
};

const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

export function BoardCounts({
  byState,
  needsYou,
  query,
  onChange,
}: {
  byState: Map<string, number>;
  needsYou: number;
  query: BoardQuery;
  onChange: (patch: Partial<BoardQuery>) => void;
}) {
  const needsOn = query.needs.includes("any");
  const pill = (on: boolean) =>
    `inline-flex shrink-0 items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs ring-1 ring-inset ${on ? "bg-sky-500/20 text-zinc-100 ring-sky-500/60" : "text-zinc-300 ring-zinc-800 hover:bg-zinc-800"}`;
  return (
    <ul aria-label="Lanes by state (click to filter)" data-testid="board-counts" className="flex min-w-0 flex-wrap items-center gap-1.5 py-1 lg:flex-nowrap lg:overflow-x-auto">
      <li>
        <button
          type="button"
          data-testid="count-needs-you"
          data-count={needsYou}
          aria-pressed={needsOn}
          onClick={() => onChange({ needs: needsOn ? [] : ["any"] })}
          className={`${pill(needsOn)} ${needsYou > 0 ? "font-semibold text-amber-200" : ""}`}
        >
          <span className="font-mono">{needsYou}</span> needs you
        </button>
      </li>
      {LANE_STATES.filter((s) => byState.get(s)).map((state) => {
        const on = query.state.includes(state);
        return (
          <li key={state}>
            <button type="button" data-testid={`count-${state}`} aria-pressed={on} onClick={() => onChange({ state: toggle(query.state, state) })} className={pill(on)}>
              <span className={`font-mono font-semibold ${COLOR[state] ?? "text-zinc-200"}`}>{byState.get(state)}</span> {state}
            </button>
          </li>
        );
      })}
    </ul>
  );
}
