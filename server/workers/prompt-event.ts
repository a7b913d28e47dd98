/**
 * The `worker.prompted` event's payload: every prompt that reaches a worker is recorded as an
 * event, so the conversation with an agent can be read from the lane's events alone.
 */
import type { LaneEventOf } from "@/lib/lane-events";

/** Most prompt characters kept in the event (the full text stays in the worker row). */
export const PROMPT_EVENT_CHARS = 4000;

/** The payload for `text` sent to `workerId`, cut to {@link PROMPT_EVENT_CHARS}. */
export function promptPayload(workerId: string, text: string, source: LaneEventOf<"worker.prompted">["payload"]["source"]): LaneEventOf<"worker.prompted">["payload"] {
  return text.length > PROMPT_EVENT_CHARS ? { workerId, text: text.slice(0, PROMPT_EVENT_CHARS), source, truncated: true } : { workerId, text, source };
}
