/**
 * Interactive agents in tmux: the public surface for the lane runner, the worker state machine
 * and the control API. See interactive-session.ts (the session), session-types.ts (events and
 * options), trust-policy.ts, claude-interactive.ts (the `claude` command) and
 * screen-classifier.ts (what a screen shows).
 */
import { TmuxServer, tmuxSocketFor } from "./tmux";

export { InteractiveSession } from "./interactive-session";
export type { InteractiveSessionEvents, InteractiveSessionOptions, PromptDelivery, SessionState, TrustResolver } from "./session-types";
export { TrustPolicy } from "./trust-policy";
export { prepareInteractiveClaude, approveApiKey, type InteractiveClaudeSettings, type InteractiveCommand } from "./claude-interactive";
export { classifyScreen, type ScreenClass, type ScreenKind } from "./screen-classifier";
export { tmuxSocketFor } from "./tmux";

/**
 * Names of the interactive sessions alive on a data dir's tmux server (for boot: reattach each
 * worker whose session is listed, mark the others `lost`). [] when the server is not running.
 * @throws AppError `command_not_found` when tmux is missing
 */
export function listInteractiveSessions(dataDir: string, tmuxBin?: string): Promise<string[]> {
  return new TmuxServer(tmuxSocketFor(dataDir), tmuxBin).listSessions();
}
