"use client";
/**
 * A lane's output as React state: optional REST history (`GET /api/v1/lanes/:id/logs?limit=`)
 * merged with the Socket.IO subscription (ack tail + live `process:output`), deduplicated and
 * ordered by {@link LogBuffer}. `process:dropped` becomes a marker entry; `process:partial` (a
 * prompt or other output with no newline yet) is shown after the lines until a line completes it. Re-renders are coalesced
 * to one per animation frame, however fast lines arrive.
 *
 * Remount (React `key`) per lane id: the hook does not clear its state when `laneId` changes.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, errorMessage } from "./api-client";
import { LogBuffer, ShownPartials, type LogEntry } from "./log-buffer";
import { laneKeys } from "./query-keys";
import { useRealtime } from "./realtime-context";

export interface LaneLogOptions {
  /** Lines the subscribe ack should carry (0..5000). */
  tail: number;
  /** Lines of REST history to load first (1..100000); omit for tail only. Reloaded after a reconnect. */
  history?: number;
  /** Entries kept in the browser (oldest dropped first). */
  maxEntries: number;
}

export interface LaneLogState {
  /** Kept lines and markers in order, then the partial lines on show. */
  entries: LogEntry[];
  /** The server said older output was cut (retention or the history limit). */
  truncated: boolean;
  /** Entries dropped in the browser to respect `maxEntries`. */
  trimmed: number;
  /** Total lines the server reported as dropped for this subscriber. */
  dropped: number;
  /** History or subscription failed (message fit for people). */
  error: string | null;
  /** The first batch (history or ack) has arrived. */
  loaded: boolean;
}

const INITIAL: LaneLogState = { entries: [], truncated: false, trimmed: 0, dropped: 0, error: null, loaded: false };

export function useLaneLog(laneId: string, { tail, history, maxEntries }: LaneLogOptions): LaneLogState {
  const realtime = useRealtime();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LaneLogState>(INITIAL);

  useEffect(() => {
    const buffer = new LogBuffer(maxEntries);
    const partials = new ShownPartials();
    let meta: Omit<LaneLogState, "entries" | "trimmed"> = { truncated: false, dropped: 0, error: null, loaded: false };
    let frame: number | null = null;
    let cancelled = false;

    const publish = (patch: Partial<typeof meta> = {}) => {
      meta = { ...meta, ...patch };
      if (frame !== null || cancelled) return;
      frame = requestAnimationFrame(() => {
        frame = null;
        if (!cancelled) setState({ ...meta, entries: [...buffer.snapshot(), ...partials.entries()], trimmed: buffer.trimmed });
      });
    };

    const loadHistory = (limit: number) =>
      queryClient
        .fetchQuery({ queryKey: laneKeys.logs(laneId), queryFn: () => api.laneLogs(laneId, limit), staleTime: 0 })
        .then(
          (res) => {
            buffer.add(res.lines);
            partials.complete(res.lines);
            publish({ truncated: res.truncated, loaded: true, error: null });
          },
          (err: unknown) => publish({ error: errorMessage(err), loaded: true }),
        );

    if (history) void loadHistory(history);
    const unsubscribe = realtime.subscribeLane(laneId, tail, {
      onLines(lines, { fromAck, resubscribed }) {
        // After a reconnect the gap may exceed the ack's tail: reload the history too.
        if (resubscribed && history) void loadHistory(history);
        const added = buffer.add(lines);
        const completed = partials.complete(lines);
        if (fromAck && !history) publish({ loaded: true });
        else if (added > 0 || completed) publish();
      },
      onPartial(p) {
        if (buffer.hasLine(p)) return; // its line is here already
        partials.set(p, Date.now());
        publish();
      },
      onDropped({ count }) {
        buffer.addMarker(`${count} line${count === 1 ? "" : "s"} dropped here: this view fell behind (the server's log file keeps them)`);
        publish({ dropped: meta.dropped + count });
      },
      onError(message) {
        publish({ error: message, loaded: true });
      },
    });

    return () => {
      cancelled = true;
      if (frame !== null) cancelAnimationFrame(frame);
      unsubscribe();
    };
  }, [laneId, tail, history, maxEntries, realtime, queryClient]);

  return state;
}
