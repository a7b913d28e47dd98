"use client";
/**
 * A lane's output as React state: optional REST history (`GET /api/v1/lanes/:id/logs?limit=`)
 * merged with the Socket.IO subscription (ack tail + live `process:output`), deduplicated and
 * ordered by {@link LogBuffer}. Re-renders are coalesced to one per animation frame, however fast
 * lines arrive.
 *
 * Nothing is missed across a disconnect: the hook remembers, per process and stream, the byte
 * offset of the newest line it holds, and after a reconnect reads on from exactly there through
 * the range API (`GET /api/v1/processes/:id/logs?stream=&from=`) up to where the fresh ack tail
 * begins — not a fresh tail with a hole before it. Output left out on purpose is marked where it
 * was left out: bytes retention deleted, or a gap larger than `resumeBudget` lines (the person can
 * load it from the marker), and `process:dropped` when the server skipped output for a slow view.
 *
 * `loadEarlier` reads the lines before the oldest held one of each stream (and the tails of the
 * attempt's processes not held at all), so a person can go back beyond the initial history.
 *
 * Remount (React `key`) per lane id: the hook does not clear its state when `laneId` changes.
 */
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { LogLine } from "@/lib/api";
import { api, errorMessage } from "./api-client";
import { LogBuffer, logLineKey, ShownPartials, type LogEntry } from "./log-buffer";
import { laneKeys } from "./query-keys";
import { useRealtime } from "./realtime-context";
import { isScrollSettled, subscribeScrollSettled } from "./use-scroll-settled";

export interface LaneLogOptions {
  /** Lines the subscribe ack should carry (0..5000). */
  tail: number;
  /** Lines of REST history to load first (1..100000); omit for tail only. */
  history?: number;
  /** Entries kept in the browser (oldest dropped first; "load earlier" raises it). */
  maxEntries: number;
  /** Lines read through the range API to fill a gap after a reconnect; beyond that, a marker offers the rest. Omit to not resume (a short tail view). */
  resumeBudget?: number;
  /**
   * Least ms between two re-renders (default: one per animation frame). A glance view such as a
   * board card's tail sets a few hundred: dozens of cards each re-rendering at the frame rate
   * keep the main thread too busy to scroll.
   */
  renderIntervalMs?: number;
  /**
   * Hold re-renders while the page scrolls (components/use-scroll-settled.ts) and render what came
   * meanwhile once it is still. For a glance view on a virtualized board: a re-render of a card on
   * screen mid-scroll costs the scroll its frame (the card is laid out and painted again, and the
   * virtualizer's read of the scroll position waits for that layout), for lines nobody reads while
   * they fly past. Lines are still received and kept meanwhile.
   */
  holdWhileScrolling?: boolean;
}

export interface LaneLogState {
  /** Kept lines and markers in order, then the partial lines on show. */
  entries: LogEntry[];
  /** Older output exists that is not held (history limit, retention): "load earlier" may bring it. */
  truncated: boolean;
  /** Entries dropped in the browser to respect `maxEntries`. */
  trimmed: number;
  /** Total lines the server reported as dropped for this subscriber. */
  dropped: number;
  /** History or subscription failed (message fit for people). */
  error: string | null;
  /** The first batch (history or ack) has arrived. */
  loaded: boolean;
  /** A load (earlier output, a gap, a resume) is running. */
  busy: boolean;
}

export interface LaneLogHandle extends LaneLogState {
  /** Read up to `lines` more lines before the oldest held ones. */
  loadEarlier(lines: number): void;
  /** Load the output a gap marker stands for. */
  loadGap(markerKey: string): void;
}

const INITIAL: LaneLogState = { entries: [], truncated: false, trimmed: 0, dropped: 0, error: null, loaded: false, busy: false };
/** Lines per range request. */
const PAGE = 5_000;

type StreamKey = `${string}:${"stdout" | "stderr"}`;
const sk = (l: Pick<LogLine, "processId" | "stream">): StreamKey => `${l.processId}:${l.stream}`;

export function useLaneLog(laneId: string, { tail, history, maxEntries, resumeBudget, renderIntervalMs = 0, holdWhileScrolling = false }: LaneLogOptions): LaneLogHandle {
  const realtime = useRealtime();
  const queryClient = useQueryClient();
  const [state, setState] = useState<LaneLogState>(INITIAL);
  const actions = useRef<Pick<LaneLogHandle, "loadEarlier" | "loadGap">>({ loadEarlier: () => undefined, loadGap: () => undefined });

  useEffect(() => {
    const buffer = new LogBuffer(maxEntries);
    const partials = new ShownPartials();
    /** Per stream: logical offsets of the oldest and newest line held, and the line's key. */
    const held = new Map<StreamKey, { first: number; last: number; lastKey: string; processId: string; stream: LogLine["stream"] }>();
    /** Streams whose beginning (offset 0 or retention's floor) is held. */
    const atStart = new Set<StreamKey>();
    let meta: Omit<LaneLogState, "entries" | "trimmed"> = { truncated: false, dropped: 0, error: null, loaded: false, busy: false };
    let frame: number | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let lastRender = -Infinity;
    let cancelled = false;
    /** A render was held back by a scroll (holdWhileScrolling): publish once the page is still. */
    let heldByScroll = false;
    const unwatchScroll = holdWhileScrolling
      ? subscribeScrollSettled(() => {
          if (!heldByScroll || !isScrollSettled()) return;
          heldByScroll = false;
          publish();
        })
      : null;
    /** Loads run one at a time, in order. */
    let queue: Promise<unknown> = Promise.resolve();
    const enqueue = (job: () => Promise<void>) => {
      publish({ busy: true });
      queue = queue.then(job).catch((err: unknown) => publish({ error: errorMessage(err) })).finally(() => publish({ busy: false }));
    };

    const publish = (patch: Partial<typeof meta> = {}) => {
      meta = { ...meta, ...patch };
      if (frame !== null || timer !== null || heldByScroll || cancelled) return;
      const render = () => {
        frame = null;
        if (unwatchScroll && !isScrollSettled()) {
          heldByScroll = true;
          return;
        }
        lastRender = performance.now();
        if (!cancelled) setState({ ...meta, entries: [...buffer.snapshot(), ...partials.entries()], trimmed: buffer.trimmed });
      };
      const wait = lastRender + renderIntervalMs - performance.now();
      if (wait <= 0) frame = requestAnimationFrame(render);
      else
        timer = setTimeout(() => {
          timer = null;
          frame = requestAnimationFrame(render);
        }, wait);
    };

    const note = (lines: readonly LogLine[]) => {
      for (const l of lines) {
        const k = sk(l);
        const h = held.get(k);
        if (!h) held.set(k, { first: l.offset, last: l.offset, lastKey: logLineKey(l), processId: l.processId, stream: l.stream });
        else {
          if (l.offset < h.first) h.first = l.offset;
          if (l.offset > h.last) {
            h.last = l.offset;
            h.lastKey = logLineKey(l);
          }
        }
        if (l.offset === 0) atStart.add(k);
      }
    };
    const add = (lines: readonly LogLine[]) => {
      note(lines);
      return buffer.add(lines);
    };

    /**
     * Read `[from, to)` of one stream into the buffer, at most `budget` lines (`grow`: make room
     * for them, see LogBuffer.addEarlier). @returns where it stopped and whether it reached `to` (or the end).
     */
    const readRange = async (processId: string, stream: LogLine["stream"], from: number, to: number | undefined, budget: number, grow: boolean) => {
      let at = from;
      let read = 0;
      for (;;) {
        if (cancelled) return { at, done: true, read };
        const page = await api.processLogRange(processId, { stream, from: at, ...(to !== undefined ? { to } : {}), limit: Math.min(PAGE, Math.max(1, budget - read)) });
        if (page.truncatedBefore > at) {
          const lost = page.truncatedBefore - at;
          buffer.addMarkerAfter(held.get(`${processId}:${stream}`)?.lastKey ?? null, `${formatBytes(lost)} of ${stream} deleted by log retention before this point`);
        }
        buffer.addEarlier(page.lines, { grow });
        note(page.lines);
        read += page.lines.length;
        at = page.to;
        publish();
        if (page.eof || page.lines.length === 0 || (to !== undefined && at >= to)) return { at, done: true, read };
        if (read >= budget) return { at, done: false, read };
      }
    };

    /** After a reconnect: read every followed stream on from its newest held line up to the ack's first line. */
    const resume = (ack: readonly LogLine[]) => {
      // Where each stream stood before the ack's lines are added (they may be far ahead of it).
      const streams = new Map<StreamKey, { processId: string; stream: LogLine["stream"]; from: number; afterKey: string }>();
      for (const h of held.values()) streams.set(`${h.processId}:${h.stream}`, { processId: h.processId, stream: h.stream, from: h.last, afterKey: h.lastKey });
      enqueue(async () => {
        const ackFirst = new Map<StreamKey, number>();
        for (const l of ack) if (!ackFirst.has(sk(l)) || ackFirst.get(sk(l))! > l.offset) ackFirst.set(sk(l), l.offset);
        // Processes of the current attempt that produced output while we were away, even unseen ones.
        const attempts = await api.attempts(laneId).catch(() => null);
        for (const p of attempts?.attempts.at(-1)?.processes ?? []) {
          for (const stream of ["stdout", "stderr"] as const) if (!streams.has(`${p.id}:${stream}`)) streams.set(`${p.id}:${stream}`, { processId: p.id, stream, from: 0, afterKey: "" });
        }
        let budget = resumeBudget ?? 0;
        for (const [k, s] of streams) {
          const to = ackFirst.get(k);
          if (to !== undefined && to <= s.from) continue; // the ack overlaps what we hold: no gap
          const res = await readRange(s.processId, s.stream, s.from, to, budget, false).catch((err: unknown) => ({ at: s.from, done: true, read: 0, err }));
          budget -= res.read;
          if (!res.done) {
            const end = to ?? Number.MAX_SAFE_INTEGER;
            const gap = { processId: s.processId, stream: s.stream, from: res.at, to: end };
            // After the newest line held before the gap; at the start when none is held any
            // more (a short view trimmed it): the gap lies before everything on show.
            const anchor = lastKeyBelow(k, res.at) ?? (buffer.snapshot().some((e) => e.key === s.afterKey) ? s.afterKey : null);
            buffer.addMarkerAfter(anchor, `Output skipped here to keep the view fast${to !== undefined ? ` (${formatBytes(to - res.at)} of ${s.stream})` : ""}: load it`, { gap });
          }
        }
        publish();
      });
    };

    /** Key of the held line of stream `k` with the greatest offset below `offset`. */
    const lastKeyBelow = (k: StreamKey, offset: number): string | null => {
      let best: { offset: number; key: string } | null = null;
      for (const e of buffer.snapshot()) {
        if (e.kind === "line" && sk(e.line) === k && e.line.offset < offset && (!best || e.line.offset > best.offset)) best = { offset: e.line.offset, key: e.key };
      }
      return best?.key ?? null;
    };

    const loadGap = (markerKey: string) =>
      enqueue(async () => {
        const m = buffer.snapshot().find((e) => e.key === markerKey);
        if (!m || m.kind !== "marker" || !m.gap) return;
        buffer.removeMarker(markerKey);
        const { processId, stream, from, to } = m.gap;
        await readRange(processId, stream, from, to === Number.MAX_SAFE_INTEGER ? undefined : to, Number.MAX_SAFE_INTEGER, true);
      });

    const loadEarlier = (lines: number) =>
      enqueue(async () => {
        let any = false;
        for (const [k, h] of held) {
          if (atStart.has(k) || h.first === 0) continue;
          any = true;
          // Bytes per line from what is held, to guess how far back `lines` lines start.
          const count = buffer.snapshot().filter((e) => e.kind === "line" && sk(e.line) === k).length;
          const perLine = count > 1 ? Math.max(16, (h.last - h.first) / (count - 1)) : 120;
          let from = Math.max(0, Math.floor(h.first - lines * perLine * 1.25));
          for (let tries = 0; tries < 4; tries++) {
            const page = await api.processLogRange(h.processId, { stream: h.stream, from, to: h.first, limit: 100_000 });
            if (page.lines.length >= lines || from === 0 || page.from <= page.truncatedBefore) {
              buffer.addEarlier(page.lines);
              note(page.lines);
              if (from === 0 || page.from <= page.truncatedBefore) {
                atStart.add(k);
                if (page.truncatedBefore > 0) buffer.addMarkerAfter(null, `${formatBytes(page.truncatedBefore)} of older ${h.stream} deleted by log retention`);
              }
              break;
            }
            from = Math.max(0, h.first - (h.first - from) * 3);
          }
        }
        // Processes of the current attempt not held at all (e.g. the worker, when a check filled the history).
        const attempts = await api.attempts(laneId).catch(() => null);
        const heldProcs = new Set([...held.values()].map((h) => h.processId));
        for (const p of attempts?.attempts.at(-1)?.processes ?? []) {
          if (heldProcs.has(p.id)) continue;
          any = true;
          const res = await api.laneLogs(laneId, lines, p.id);
          buffer.addEarlier(res.lines);
          note(res.lines);
        }
        publish({ truncated: any && [...held.keys()].some((k) => !atStart.has(k)) });
      });

    actions.current = { loadEarlier, loadGap };

    const loadHistory = (limit: number) =>
      queryClient
        .fetchQuery({ queryKey: laneKeys.logs(laneId), queryFn: () => api.laneLogs(laneId, limit), staleTime: 0 })
        .then(
          (res) => {
            buffer.addEarlier(res.lines);
            note(res.lines);
            partials.complete(res.lines);
            publish({ truncated: res.truncated, loaded: true, error: null });
          },
          (err: unknown) => publish({ error: errorMessage(err), loaded: true }),
        );

    if (history) void loadHistory(history);
    // A view re-rendering every renderIntervalMs needs its lines no sooner: the server may hold
    // them that long and send them together (one message instead of one per write).
    const unsubscribe = realtime.subscribeLane(laneId, tail, {
      onLines(lines, { fromAck, resubscribed }) {
        if (resubscribed && resumeBudget !== undefined && held.size > 0) resume(lines);
        const added = add(lines);
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
        buffer.addMarker(`${count.toLocaleString("en")} line${count === 1 ? "" : "s"} skipped here: this view fell too far behind (the log file keeps them; download the log to read them)`);
        publish({ dropped: meta.dropped + count });
      },
      onError(message) {
        publish({ error: message, loaded: true });
      },
    }, Math.min(renderIntervalMs, 1000));

    return () => {
      cancelled = true;
      if (frame !== null) cancelAnimationFrame(frame);
      if (timer !== null) clearTimeout(timer);
      unwatchScroll?.();
      unsubscribe();
    };
  }, [laneId, tail, history, maxEntries, resumeBudget, renderIntervalMs, holdWhileScrolling, realtime, queryClient]);

  return { ...state, loadEarlier: (n) => actions.current.loadEarlier(n), loadGap: (k) => actions.current.loadGap(k) };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
