"use client";
/**
 * Talking to a lane's agent: the conversation so far, read from the lane's events (prompts from
 * `worker.prompted`, tool calls and failed results from `worker.activity`, the agent's answer from
 * its `final_message`, attempts from `lane.started`), and a prompt box.
 *
 * The box is enabled only when a prompt can be taken, and says why next to it: a live agent in
 * `ready_for_prompt` gets the prompt typed in; a Claude Code or Codex lane whose run has ended
 * takes a follow-up (a new attempt resuming the agent's session). Anything else is refused by
 * the server too (409 `not_ready`), and its reason is shown.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { forwardRef, useState } from "react";
import type { LaneView } from "@/lib/api";
import { clipText, WORKER_STATE_WORDS } from "@/lib/event-sentence";
import type { LaneEvent } from "@/lib/lane-events";
import { TERMINAL_LANE_STATES } from "@/lib/lane-state";
import { engineResumes } from "@/lib/task-packet";
import { api, errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";
import { formatAbsolute } from "./time";
import { useLaneEvents } from "./use-lane-events";
import { SectionHeading } from "./section-heading";


type Turn =
  | { kind: "prompt"; id: number; at: string; text: string; source: string }
  | { kind: "answer"; id: number; at: string; text: string }
  | { kind: "tool"; id: number; at: string; name: string; detail: string; failed: boolean; skipped: number }
  | { kind: "divider"; id: number; at: string; text: string };

/** The conversation turns in a lane's events, oldest first. */
export function conversationOf(events: readonly LaneEvent[]): Turn[] {
  const turns: Turn[] = [];
  for (const e of events) {
    const base = { id: e.id, at: e.at };
    if (e.type === "worker.prompted") turns.push({ ...base, kind: "prompt", text: e.payload.text, source: e.payload.source });
    else if (e.type === "lane.started") turns.push({ ...base, kind: "divider", text: `Attempt ${e.payload.attempt}` });
    else if (e.type === "worker.activity") {
      if (e.payload.kind === "final_message") turns.push({ ...base, kind: "answer", text: e.payload.detail });
      else turns.push({ ...base, kind: "tool", name: e.payload.name ?? "tool", detail: e.payload.detail, failed: e.payload.kind === "tool_error", skipped: e.payload.skipped ?? 0 });
    } else if (e.type === "lane.failed") turns.push({ ...base, kind: "divider", text: `Run failed: ${clipText(e.payload.reason, 100)}` });
  }
  return turns;
}

/** Whether a prompt can be sent now, and what to say next to the box. */
export function promptAvailability(lane: LaneView): { enabled: boolean; mode: "prompt" | "follow_up" | null; reason: string } {
  const state = lane.worker?.state;
  if (TERMINAL_LANE_STATES.has(lane.state)) {
    if (!engineResumes(lane.engine)) return { enabled: false, mode: null, reason: `The run has ended; the ${lane.engine} engine cannot continue it (restart the lane instead)` };
    if (!lane.worker?.sessionId) return { enabled: false, mode: null, reason: "The run ended before the agent started a session: restart the lane" };
    return { enabled: true, mode: "follow_up", reason: "The run has ended: your message starts a follow-up run that resumes the agent's session" };
  }
  if (state === "ready_for_prompt") return { enabled: true, mode: "prompt", reason: "The agent is ready for a prompt" };
  if (!state) return { enabled: false, mode: null, reason: `The lane is ${lane.state}: its agent has not started yet` };
  return { enabled: false, mode: null, reason: `The agent is ${WORKER_STATE_WORDS[state]}: wait until it is ready for a prompt` };
}

function TurnView({ turn }: { turn: Turn }) {
  const time = (
    <time dateTime={turn.at} title={formatAbsolute(turn.at)} className="text-[11px] text-zinc-400">
      {formatAbsolute(turn.at).slice(11)}
    </time>
  );
  switch (turn.kind) {
    case "divider":
      return (
        <li className="flex items-center gap-2 py-1 text-[11px] text-zinc-400" data-testid="conversation-divider">
          <span aria-hidden className="h-px flex-1 bg-zinc-800" />
          {turn.text}
          <span aria-hidden className="h-px flex-1 bg-zinc-800" />
        </li>
      );
    case "prompt":
      return (
        <li className="ml-auto max-w-[85%] rounded-lg bg-sky-950/70 px-3 py-2 ring-1 ring-sky-800/60" data-testid="conversation-prompt">
          <div className="mb-1 flex items-center gap-2 text-[11px] text-sky-200">
            {turn.source === "packet" ? "Task prompt" : turn.source === "follow_up" ? "Follow-up" : turn.source === "replay" ? "Prompt (replayed)" : "You"} {time}
          </div>
          <p className="whitespace-pre-wrap break-words text-sm text-zinc-100">{turn.text}</p>
        </li>
      );
    case "answer":
      return (
        <li className="mr-auto max-w-[85%] rounded-lg bg-zinc-800/70 px-3 py-2 ring-1 ring-zinc-700/60" data-testid="conversation-answer">
          <div className="mb-1 flex items-center gap-2 text-[11px] text-zinc-300">Agent {time}</div>
          <p className="whitespace-pre-wrap break-words text-sm text-zinc-100">{turn.text}</p>
        </li>
      );
    case "tool":
      return (
        <li className={`mr-auto max-w-[85%] font-mono text-xs ${turn.failed ? "text-red-300" : "text-zinc-300"}`} data-testid="conversation-tool">
          <span aria-hidden>{turn.failed ? "✗ " : "⚙ "}</span>
          <span className="font-semibold">{turn.name}</span> <span className="break-all">{clipText(turn.detail, 200)}</span>
          {turn.skipped > 0 && <span className="text-zinc-400"> (+{turn.skipped} more calls)</span>}
        </li>
      );
  }
}

export const LaneConversation = forwardRef<HTMLTextAreaElement, { lane: LaneView }>(function LaneConversation({ lane }, boxRef) {
  const qc = useQueryClient();
  const events = useLaneEvents(lane.id);
  const [text, setText] = useState("");
  const send = useMutation({
    mutationFn: (t: string) => api.prompt(lane.id, t),
    onSuccess: () => {
      setText("");
      void qc.invalidateQueries({ queryKey: laneKeys.detail(lane.id) });
    },
  });
  const turns = conversationOf(events.data ?? []);
  const avail = promptAvailability(lane);
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    if (text.trim() && avail.enabled) send.mutate(text);
  };
  return (
    <section aria-labelledby="conversation-heading" className="flex flex-col gap-3" data-testid="lane-conversation">
      <SectionHeading id="conversation-heading">Conversation</SectionHeading>
      <ol className="flex max-h-[55vh] flex-col gap-2 overflow-auto rounded-lg border border-zinc-800 bg-zinc-900/40 p-3">
        {turns.length === 0 && <li className="text-xs text-zinc-400">{events.isPending ? "Loading…" : "Nothing said yet."}</li>}
        {turns.map((t) => (
          <TurnView key={t.id} turn={t} />
        ))}
      </ol>
      <form onSubmit={submit} className="flex flex-col gap-2" aria-describedby="prompt-state">
        <label htmlFor="prompt-box" className="text-xs text-zinc-300">
          {avail.mode === "follow_up" ? "Follow-up" : "Prompt"}
        </label>
        <textarea
          id="prompt-box"
          ref={boxRef}
          data-testid="prompt-box"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.metaKey || e.ctrlKey)) submit(e);
          }}
          disabled={!avail.enabled || send.isPending}
          rows={3}
          placeholder={avail.enabled ? "Tell the agent what to do next… (Ctrl+Enter sends)" : ""}
          className="w-full resize-y rounded-md border border-zinc-700 bg-zinc-950 px-3 py-2 text-sm text-zinc-100 placeholder:text-zinc-500 focus-visible:outline-2 focus-visible:outline-sky-500 disabled:cursor-not-allowed disabled:opacity-50"
        />
        <div className="flex flex-wrap items-center gap-3">
          <button
            type="submit"
            data-testid="prompt-send"
            disabled={!avail.enabled || send.isPending || !text.trim()}
            className="rounded-md bg-sky-600 px-3 py-1.5 text-xs font-medium text-white hover:bg-sky-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-400 disabled:cursor-not-allowed disabled:opacity-40"
          >
            {send.isPending ? "Sending…" : avail.mode === "follow_up" ? "Send follow-up" : "Send"}
          </button>
          <span id="prompt-state" data-testid="prompt-state" data-enabled={avail.enabled} className={`text-xs ${avail.enabled ? "text-emerald-300" : "text-zinc-400"}`}>
            {avail.reason}
          </span>
          {send.error && (
            <span role="alert" data-testid="prompt-error" className="text-xs text-red-300">
              {errorMessage(send.error)}
            </span>
          )}
        </div>
      </form>
    </section>
  );
});
