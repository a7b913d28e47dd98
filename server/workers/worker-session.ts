/**
 * The hook between an interactive worker (an agent in a pseudo-terminal or tmux, see
 * server/engines/interactive/) and the worker state machine. The interactive engine owns the
 * terminal and recognises screens; the {@link WorkerService} owns state, events and prompts.
 *
 * Protocol, for the engine that runs the session:
 * 1. After the lane runner has started the worker (its Worker row exists, state `spawning`),
 *    call `runtime.workers.attachSession(workerId, session)` with an {@link SessionHook}.
 * 2. Report what the screen shows with `runtime.workers.signal(workerId, signal)`:
 *    | signal | transition | events |
 *    | --- | --- | --- |
 *    | `trust_required { path }` | `spawning/blocked → trust_required` | `trust_required` |
 *    | `trust_resolved { by }` (allowlist answered it) | `trust_required → spawning` | `trust_resolved` |
 *    | `blocked { text }` (e.g. the API-key dialog) | `→ blocked` | `lane.blocked` |
 *    | `ready_for_prompt` (the agent's input line) | `→ ready_for_prompt` | `lane.ready` (first time); then the service delivers the packet's prompt through `session.deliverPrompt` (`→ prompt_accepted`) |
 *    | `working` (the agent answers) | `prompt_accepted → running`, `blocked → running` | — |
 *    | `prompt_misdelivery { evidence, replaying? }` (the text landed in a shell) | `prompt_accepted/running → spawning`, and at the next `ready_for_prompt` the service replays the prompt once (`lane.recovery.attempted` `replay-prompt`), unless `replaying` says the session does it itself (then it reports `prompt_sent { attempt: 2 }`); a misdelivery after the replay fails the lane (`prompt_delivery`) and stops the worker | `lane.prompt_misdelivery` |
 *    | `prompt_sent { attempt }` (the session typed a prompt itself) | `(spawning →) ready_for_prompt → prompt_accepted` | `lane.recovery.attempted` for attempt ≥ 2 |
 * 3. The process's exit is handled like any worker's (finished / failed / killed by exit status).
 *
 * A human (board button) or a claw (`POST /api/v1/lanes/:id/worker/trust`) resolves a gated
 * trust prompt through `session.resolveTrust()`; the service then records `trust_resolved`.
 * Prompts from the API (`POST …/worker/prompt`) are accepted only in `ready_for_prompt`.
 */
import type { FailureClass } from "@/lib/lane-state";

/** What the interactive engine reports (see the table above). */
export type SessionSignal =
  | { kind: "trust_required"; path: string }
  | { kind: "trust_resolved"; by: string }
  | { kind: "blocked"; text: string; failureClass?: FailureClass }
  | { kind: "ready_for_prompt" }
  | { kind: "working" }
  /** The session itself typed a prompt (e.g. its own replay, `attempt` 2). Not needed for prompts the service delivers. */
  | { kind: "prompt_sent"; attempt: number }
  /** `replaying`: the session replays the prompt itself, so the service must not. */
  | { kind: "prompt_misdelivery"; evidence: string; replaying?: boolean };

/** What the service asks of a live interactive session. Both may throw; the service handles it. */
export interface SessionHook {
  /** Type `text` into the agent's input line and submit it. Resolves once it was sent (not answered). */
  deliverPrompt(text: string): Promise<void>;
  /** Answer the folder-trust prompt positively. */
  resolveTrust(): Promise<void>;
}
