/**
 * Who is making the API call in progress, for the audit trail: every lane event appended while a
 * call is being handled records its caller as `by` (a token's name, `board` for the session
 * cookie, `admin` for the admin token). Events the server decides on its own (the scheduler,
 * policy rules, process exits noticed later) have no `by`.
 *
 * Carried by Node's AsyncLocalStorage rather than threaded through every service call. The
 * frame is closed when the call's answer is ready: a timer or child process started during the
 * call keeps the async context, but what it appends later is no longer that caller's doing.
 *
 * The store lives on `globalThis` under a registered symbol because the route handlers (bundled
 * by Next.js) and the runtime (loaded by the server) each get their own copy of this module.
 */
import { AsyncLocalStorage } from "node:async_hooks";

interface ActorFrame {
  by: string;
  open: boolean;
}

const KEY = Symbol.for("laneboard.actor");
const holder = globalThis as typeof globalThis & { [KEY]?: AsyncLocalStorage<ActorFrame> };
const store = (holder[KEY] ??= new AsyncLocalStorage<ActorFrame>());

/** Run `fn` as a call made by `by`; events appended until it settles record `by`. */
export async function withActor<T>(by: string, fn: () => Promise<T>): Promise<T> {
  const frame: ActorFrame = { by, open: true };
  try {
    return await store.run(frame, fn);
  } finally {
    frame.open = false;
  }
}

/** The caller of the API call in progress, or null outside one (or after it answered). */
export function currentActor(): string | null {
  const frame = store.getStore();
  return frame?.open ? frame.by : null;
}
