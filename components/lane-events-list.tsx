"use client";
/**
 * A lane's events as sentences (lib/event-sentence.ts), newest first, each with its key fields and
 * its raw JSON one click away. Optionally limited to one attempt's id range. Noise (freshness
 * ticks, usage updates, scheduler and policy decisions) can be hidden.
 */
import { useState } from "react";
import { describeLaneEvent, type EventTone } from "@/lib/event-sentence";
import type { LaneEvent } from "@/lib/lane-events";
import { errorMessage } from "./api-client";
import { formatAbsolute, formatRelative, useNow } from "./time";
import { useLaneEvents } from "./use-lane-events";
import { SectionHeading } from "./section-heading";

const TONE: Record<EventTone, string> = {
  good: "text-emerald-300",
  bad: "text-red-300",
  warn: "text-amber-300",
  info: "text-zinc-100",
  muted: "text-zinc-300",
};
const DOT: Record<EventTone, string> = {
  good: "bg-emerald-400",
  bad: "bg-red-400",
  warn: "bg-amber-400",
  info: "bg-sky-400",
  muted: "bg-zinc-500",
};

/** Events shown at once (newest first); more on request. */
const PAGE = 200;

function EventRow({ ev, now }: { ev: LaneEvent; now: number }) {
  const [raw, setRaw] = useState(false);
  const d = describeLaneEvent(ev);
  return (
    <li data-testid="lane-event" data-event-type={ev.type} className="px-3 py-2">
      <div className="flex items-start gap-2 text-xs">
        <span aria-hidden className={`mt-1.5 size-1.5 shrink-0 rounded-full ${DOT[d.tone]}`} />
        <p data-testid="event-sentence" className={`min-w-0 flex-1 break-words ${TONE[d.tone]}`}>
          {d.sentence}
        </p>
        <time dateTime={ev.at} title={formatAbsolute(ev.at)} className="shrink-0 text-zinc-400">
          {formatRelative(ev.at, now)}
        </time>
      </div>
      <div className="ml-3.5 mt-0.5 flex flex-wrap items-baseline gap-x-3 gap-y-0.5 text-[11px] text-zinc-400">
        {d.fields.map((f) => (
          <span key={f.label} className="min-w-0 break-all">
            {f.label}: <span className="font-mono text-zinc-300">{f.value}</span>
          </span>
        ))}
        <button
          type="button"
          data-testid="event-raw-toggle"
          aria-expanded={raw}
          onClick={() => setRaw((r) => !r)}
          className="rounded text-sky-300 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-sky-500"
        >
          {raw ? "hide JSON" : "JSON"}
        </button>
        <span className="font-mono text-zinc-500">#{ev.id}</span>
      </div>
      {raw && (
        <pre data-testid="event-raw" className="ml-3.5 mt-1 max-h-64 overflow-auto whitespace-pre-wrap break-all rounded bg-black/50 p-2 font-mono text-[11px] text-zinc-300">
          {JSON.stringify(ev, null, 2)}
        </pre>
      )}
    </li>
  );
}

const NOISE = new Set(["branch.freshness", "worker.usage", "scheduler.decision", "policy.decided", "lane.state_changed", "worker.state_changed", "process.started"]);

export function LaneEventsList({ laneId, range }: { laneId: string; range?: { from: number; until: number | null } }) {
  const now = useNow();
  const events = useLaneEvents(laneId);
  const [all, setAll] = useState(false);
  const [shown, setShown] = useState(PAGE);
  const inRange = (events.data ?? []).filter((e) => !range || (e.id >= range.from && (range.until === null || e.id < range.until)));
  const visible = (all ? inRange : inRange.filter((e) => !NOISE.has(e.type))).slice().reverse();
  return (
    <section aria-labelledby="events-heading" className="flex min-h-0 flex-col gap-2">
      <div className="flex flex-wrap items-center gap-3">
        <SectionHeading id="events-heading">Events</SectionHeading>
        <span className="text-xs text-zinc-400">{visible.length.toLocaleString("en")} shown</span>
        <label className="ml-auto flex items-center gap-1.5 text-xs text-zinc-300">
          <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} className="accent-sky-500" data-testid="events-all" />
          include routine events
        </label>
      </div>
      {events.isError && (
        <p role="alert" className="text-xs text-red-300">
          {errorMessage(events.error)}
        </p>
      )}
      <ol data-testid="lane-events" className="divide-y divide-zinc-800/70 rounded-lg border border-zinc-800 bg-zinc-900/40">
        {visible.length === 0 && <li className="p-3 text-xs text-zinc-400">{events.isPending ? "Loading…" : "No events."}</li>}
        {visible.slice(0, shown).map((ev) => (
          <EventRow key={ev.id} ev={ev} now={now} />
        ))}
      </ol>
      {visible.length > shown && (
        <button type="button" onClick={() => setShown((n) => n + PAGE)} className="self-start text-xs text-sky-300 hover:underline">
          Show {Math.min(PAGE, visible.length - shown)} older events
        </button>
      )}
    </section>
  );
}
