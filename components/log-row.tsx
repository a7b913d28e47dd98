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

export const LogRow = memo(function LogRow({ entry, showTime = false }: { entry: LogEntry; showTime?: boolean }) {
  if (entry.kind === "marker") {
    return (
      <div data-testid="log-marker" role="note" className="flex h-full items-center gap-2 px-2 text-[11px] text-amber-300/90">
        <span aria-hidden className="h-px flex-1 bg-amber-500/30" />
        <span className="shrink-0">{entry.text}</span>
        <span aria-hidden className="h-px flex-1 bg-amber-500/30" />
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
      className={`flex h-full min-w-0 border-l-2 pr-2 ${stderr ? "border-red-500/70 bg-red-500/[0.06] text-red-100" : "border-transparent text-zinc-300"}`}
    >
      {showTime && (
        <span aria-hidden className="w-[4.5rem] shrink-0 select-none pl-2 text-zinc-600">
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
