/**
 * The partial last lines on show: per process stream, the latest `process.partial` (output with
 * no newline yet that has stayed unchanged, e.g. a prompt waiting for an answer), until the line
 * is completed (`process.output` reaches its offset) or the process ends. Kept here so a client
 * that subscribes to a lane while one of its processes waits at a prompt is shown the prompt too.
 *
 * Messages carry the partial line's text, decoded from at most its last {@link PARTIAL_TEXT_BYTES}
 * bytes (a progress bar redrawn with `\r` grows one long line; its end is what matters).
 */
import { utf8SafeCut } from "@/lib/log-chunk";
import type { ServerToClientEvents } from "@/lib/socket-events";
import type { ProcessOutput, ProcessPartial } from "../events/event-bus";

/** Most bytes of a partial line sent to clients (its end). */
export const PARTIAL_TEXT_BYTES = 16 * 1024;

export type PartialMessage = Parameters<ServerToClientEvents["process:partial"]>[0];

/** The `process:partial` message for a partial line with a lane. */
export function partialMessage(p: ProcessPartial & { laneId: string }): PartialMessage {
  const { data } = p;
  const start = data.length > PARTIAL_TEXT_BYTES ? utf8SafeCut(data, 0, data.length - PARTIAL_TEXT_BYTES) : 0;
  return { laneId: p.laneId, processId: p.processId, stream: p.stream, offset: p.offset, text: data.toString("utf8", start) };
}

export class PartialLines {
  /** processId → stream → message. */
  #byProcess = new Map<string, Map<string, PartialMessage>>();

  /** Record a partial line; returns its message, or null for a process without a lane. */
  set(p: ProcessPartial): PartialMessage | null {
    if (!p.laneId) return null;
    const msg = partialMessage({ ...p, laneId: p.laneId });
    let streams = this.#byProcess.get(p.processId);
    if (!streams) this.#byProcess.set(p.processId, (streams = new Map()));
    streams.set(p.stream, msg);
    return msg;
  }

  /** Bus listener for `process.output`: a chunk reaching a partial line's offset completed it. */
  onOutput = (batch: ProcessOutput): void => {
    const streams = this.#byProcess.get(batch.processId);
    if (!streams) return;
    for (const c of batch.chunks) {
      const shown = streams.get(c.stream);
      if (shown && c.offset + c.data.length > shown.offset) streams.delete(c.stream);
    }
    if (streams.size === 0) this.#byProcess.delete(batch.processId);
  };

  /** The process ended (its partial lines were published as lines). */
  forget(processId: string): void {
    this.#byProcess.delete(processId);
  }

  /** Partial lines on show for a lane's processes. */
  forLane(laneId: string): PartialMessage[] {
    const out: PartialMessage[] = [];
    for (const streams of this.#byProcess.values()) for (const m of streams.values()) if (m.laneId === laneId) out.push(m);
    return out;
  }
}
