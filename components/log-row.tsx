"use client";
/**
 * One row of process output (a line, a partial line on show, or a marker), shared by the card's tail and the lane page's
 * virtualized log. stderr rows carry a red rule and tint; ANSI colours are rendered by
 * ansi.ts, whose library escapes the text (see there).
 */
import { memo } from "react";
import { ansiLineToHtml } from "./ansi";
import type { LogEntry } from "./log-buffer";

const pad = (n: number) => String(n).padStart(2, "0");
const clock = (ts: number) => {
  const d = new Date(ts);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
};

export const LogRow = memo(function LogRow({
  entry,
  showTime = false,
  mark,
  onLoadGap,
}: {
  entry: LogEntry;
  showTime?: boolean;
  /** A search match, or the current one. */
  mark?: "match" | "current";
  /** Offered on a gap marker: load the output it stands for. */
  onLoadGap?: (markerKey: string) => void;
}) {
  if (entry.kind === "marker") {
    const divider = entry.key.startsWith("proc:");
    return (
      <div
        data-testid={divider ? "log-divider" : "log-marker"}
        data-gap={entry.gap ? "true" : undefined}
        role="note"
        className={`sticky left-0 flex h-full w-full items-center gap-2 px-2 text-[11px] ${divider ? "text-sky-200" : "text-amber-200"}`}
      >
        <span aria-hidden className={`h-px flex-1 ${divider ? "bg-sky-500/40" : "bg-amber-500/40"}`} />
        <span className="shrink-0">{entry.text}</span>
        {entry.gap && onLoadGap && (
          <button type="button" data-testid="load-gap" onClick={() => onLoadGap(entry.key)} className="shrink-0 rounded bg-amber-500/20 px-1.5 text-amber-100 hover:bg-amber-500/30">
            Load
          </button>
        )}
        <span aria-hidden className={`h-px flex-1 ${divider ? "bg-sky-500/40" : "bg-amber-500/40"}`} />
      </div>
    );
  }
  const { line } = entry;
  const stderr = line.stream === "stderr";
  const partial = entry.kind === "partial";
  return (
    <div
      data-testid={partial ? "log-partial" : "log-line"}
      data-stream={line.stream}
      data-mark={mark}
      className={`flex h-full min-w-0 border-l-2 pr-2 ${stderr ? "border-red-500/70 bg-red-500/[0.06] text-red-100" : "border-transparent text-zinc-300"} ${mark === "current" ? "!bg-amber-400/25 outline outline-1 -outline-offset-1 outline-amber-300" : mark === "match" ? "!bg-amber-400/10" : ""}`}
    >
      {showTime && (
        <span aria-hidden className="w-[4.5rem] shrink-0 select-none pl-2 text-zinc-400">
          {clock(line.ts)}
        </span>
      )}
      <span className="sr-only">{stderr ? "stderr: " : ""}</span>
      <span
        className="min-w-0 whitespace-pre pl-2"
        // Safe: ansi-to-html runs with escapeXML, so the output's text is entity-encoded.
        dangerouslySetInnerHTML={{ __html: ansiLineToHtml(line.text) }}
      />
      {partial && (
        // No newline yet (a prompt, a progress bar): a cursor marks the line as still open.
        <span aria-label="(no newline yet)" title="No newline yet: the process may be waiting for input" className="ml-0.5 inline-block w-[0.5em] shrink-0 animate-pulse bg-zinc-400/70" />
      )}
    </div>
  );
});
