/**
 * The board document requested by the page's HTML itself, so it travels while the JavaScript
 * loads and hydrates instead of after: with 1,000 lanes the board query used to start only once
 * hydration was done (about 1.1 s into the page on this 2-core machine), then waited for the
 * document. `app/page.tsx` renders {@link EARLY_BOARD_SCRIPT} inline; the board's first query
 * takes its answer with {@link takeEarlyBoard}, and every later one fetches as usual.
 *
 * The script sends what `api.board()` sends (same path, `Accept`, no HTTP cache) and leaves the
 * parsed JSON, or null on any failure, on `window`: the caller validates it like any answer and
 * falls back to a normal request when it is null (a 401 before sign-in, a network error).
 */

const KEY = "__laneboardEarlyBoard";

/** Inline script for the board page's HTML; runs when the parser reaches it, before the bundles. */
export const EARLY_BOARD_SCRIPT = `window.${KEY}=fetch("/api/v1/board",{headers:{accept:"application/json"},cache:"no-store"}).then(function(r){return r.ok?r.json():null}).catch(function(){return null})`;

/** The early board request's parsed body (once; later calls get null), or null when there was none. */
export function takeEarlyBoard(): Promise<unknown> | null {
  if (typeof window === "undefined") return null;
  const w = window as unknown as Record<string, Promise<unknown> | undefined>;
  const early = w[KEY] ?? null;
  delete w[KEY];
  return early;
}
