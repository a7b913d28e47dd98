/**
 * The public shapes of an {@link InteractiveSession}: its events, states, options and the
 * outcome of a prompt delivery. Kept apart so the lane runner and the API can import them
 * without the tmux machinery.
 *
 * Events:
 * | event | when |
 * | --- | --- |
 * | `trust_required` | the folder-trust prompt is on screen (auto-resolved when the TrustPolicy allows the cwd) |
 * | `trust_resolved` | the trust prompt was answered (`by`: allowlist, human, claw) and went away |
 * | `blocked` | another dialog waits for an answer (`text`), a shell owns the terminal, or prompt delivery failed (`failureClass: "prompt_delivery"`) |
 * | `ready_for_prompt` | the agent's input line is waiting (`turn`: prompts accepted so far; again after each answered turn) |
 * | `prompt_sent` | a delivery attempt starts (attempt 2 is the replay) |
 * | `prompt_accepted` | the agent took the prompt (it went busy, or its transcript grew and its input emptied) |
 * | `busy` | the agent works ("esc to interrupt") outside a delivery |
 * | `prompt_misdelivery` | the prompt landed in a shell (`evidence`); `replaying` when the one automatic replay follows |
 * | `output` | the screen changed (for live views; frequent while the agent animates) |
 * | `warning` | a poll failed (tmux error); polling goes on |
 * | `exited` | the agent's process ended (`code`: its exit status as the launcher's shell saw it, 128+n after signal n; null when unknown or `killed` after `kill()`) or the session vanished |
 */
import type { FailureClass } from "@/lib/lane-state";
import type { ScreenKind } from "./screen-classifier";
import type { TrustPolicy } from "./trust-policy";

export type TrustResolver = "allowlist" | "human" | "claw";

export interface InteractiveSessionEvents {
  trust_required: [{ path: string }];
  trust_resolved: [{ by: TrustResolver }];
  blocked: [{ text: string; failureClass?: FailureClass }];
  ready_for_prompt: [{ turn: number }];
  prompt_sent: [{ attempt: number }];
  prompt_accepted: [{ attempt: number }];
  busy: [];
  prompt_misdelivery: [{ evidence: string; attempt: number; replaying: boolean }];
  output: [{ screen: string; kind: ScreenKind }];
  warning: [{ message: string }];
  exited: [{ code: number | null; signal: string | null; killed: boolean }];
}

/** Where the session stands, as last derived from its screen (or set by an operation). */
export type SessionState = "starting" | "trust_required" | "blocked" | "shell" | "ready" | "delivering" | "busy" | "exited";

/** How a {@link InteractiveSession.sendPrompt} ended. */
export type PromptDelivery =
  | { outcome: "accepted"; attempts: number }
  | { outcome: "blocked"; attempts: number; reason: string }
  | { outcome: "exited"; attempts: number };

export interface InteractiveSessionOptions {
  /** tmux session name (`[A-Za-z0-9_-]{1,64}`), e.g. `lb-<workerId>`. */
  name: string;
  /** Laneboard's data dir: socket `<dataDir>/tmux.sock`, launch files `<dataDir>/interactive/<name>/`. */
  dataDir: string;
  /** Folders whose trust prompt is answered automatically (default: none). */
  trustPolicy?: TrustPolicy;
  tmuxBin?: string;
  /** Terminal size in cells (default 200×50). */
  width?: number;
  height?: number;
  /** Poll interval while the screen changes or an operation waits (ms, default 150). */
  pollMs?: number;
  /** Poll interval once the screen was still for 3 s (ms, default 1000). */
  idlePollMs?: number;
  /** How long a sent prompt may take to show as accepted (ms, default 15000). */
  acceptTimeoutMs?: number;
  /** How long a relaunched agent may take to be ready for the replay (ms, default 60000). */
  readyTimeoutMs?: number;
  /** Inherit the server's environment under the given one (default true, like the process supervisor). */
  inheritEnv?: boolean;
}
