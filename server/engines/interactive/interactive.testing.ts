/**
 * Test helpers for interactive sessions: a temp data dir with its own tmux server, and awaiting
 * a session's events (never sleeping). Not imported by runtime code.
 */
import path from "node:path";
import { afterEach, beforeEach } from "vitest";
import { makeTempDir } from "../../git/git.testing";
import { InteractiveSession } from "./interactive-session";
import type { InteractiveSessionEvents, InteractiveSessionOptions } from "./session-types";
import { TmuxServer } from "./tmux";

export const FIXTURES = path.join(import.meta.dirname, "fixtures");

/** A tmux server of a test's own: `tmux.sock` in a fresh temp dir `dir`. Both throw outside a test. */
export interface TmuxHandle<T extends TmuxServer> {
  readonly dir: string;
  readonly tmux: T;
}

/**
 * A tmux server of its own for every test of the calling file (vitest beforeEach/afterEach):
 * `make` builds the client on the socket path; after the test the server is killed and the
 * directory removed.
 */
export function tmuxPerTest<T extends TmuxServer>(make: (socket: string) => T): TmuxHandle<T> {
  let current: { dir: string; tmux: T; cleanup: () => Promise<void> } | null = null;
  const get = () => {
    if (!current) throw new Error("tmuxPerTest: read inside a test");
    return current;
  };
  beforeEach(async () => {
    const tmp = await makeTempDir("lb-tmux-");
    current = { dir: tmp.dir, tmux: make(path.join(tmp.dir, "tmux.sock")), cleanup: tmp.cleanup };
  });
  afterEach(async () => {
    await current?.tmux.killServer();
    await current?.cleanup();
    current = null;
  });
  return { get dir() { return get().dir; }, get tmux() { return get().tmux; } };
}

export interface SessionHarness {
  dir: string;
  /** A new session on this harness's tmux server; every event it emits is recorded in `log`. */
  session(name: string, opts?: Partial<InteractiveSessionOptions>): InteractiveSession;
  /** `[event, payload]` in emission order, across all sessions (without `output`). */
  log: [string, unknown][];
  cleanup(): Promise<void>;
}

const RECORDED: (keyof InteractiveSessionEvents)[] = ["trust_required", "trust_resolved", "blocked", "ready_for_prompt", "prompt_sent", "prompt_accepted", "busy", "prompt_misdelivery", "warning", "exited"];

export async function makeSessionHarness(): Promise<SessionHarness> {
  const tmp = await makeTempDir("lb-tmux-");
  const log: [string, unknown][] = [];
  const sessions: InteractiveSession[] = [];
  return {
    dir: tmp.dir,
    log,
    session(name, opts = {}) {
      const s = new InteractiveSession({ name, dataDir: tmp.dir, ...opts });
      for (const ev of RECORDED) s.on(ev, ((payload?: unknown) => log.push([ev, payload])) as never);
      sessions.push(s);
      return s;
    },
    async cleanup() {
      // kill() waits until each agent process is gone, so nothing writes into the temp dir being removed.
      for (const s of sessions) await s.kill();
      await new TmuxServer(path.join(tmp.dir, "tmux.sock")).killServer();
      await tmp.cleanup();
    },
  };
}

/**
 * The next `event` of `session` (payload), failing after `timeoutMs` with the last screen in
 * the message so a failure shows what the agent showed.
 */
export function nextEvent<E extends keyof InteractiveSessionEvents>(session: InteractiveSession, event: E, timeoutMs = 30_000): Promise<InteractiveSessionEvents[E][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.off(event, handler as never);
      reject(new Error(`no ${event} from ${session.name} within ${timeoutMs} ms (state ${session.state}); screen:\n${session.screen}`));
    }, timeoutMs);
    const handler = (payload: InteractiveSessionEvents[E][0]) => {
      clearTimeout(timer);
      resolve(payload);
    };
    session.once(event, handler as never);
  });
}
