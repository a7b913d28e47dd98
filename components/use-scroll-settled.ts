"use client";
/**
 * Whether the page has been still for a moment: false from any scroll (of the window or of a
 * scrolling element, caught in the capture phase since `scroll` does not bubble) until
 * {@link SETTLE_MS} pass without one and a frame is drawn with no scroll in it. Views that are
 * costly to start or to update (a card's live output: a subscription, its first lines,
 * re-renders) wait for it, so cards that fly past during a scroll never start them and cards on
 * screen do not re-render while it lasts. One listener, one timer and one frame callback for the
 * whole page, however many cards ask.
 *
 * Why a frame too: on a busy machine a frame of a running scroll can take longer than
 * {@link SETTLE_MS}, so a timer alone fired between two scroll events of one scroll and every card
 * on screen started its live output mid-scroll. A scroll's events are dispatched in the frame's
 * rendering steps, before its animation frame callbacks, so a frame callback that sees no scroll
 * for {@link SETTLE_MS} sees a page that stopped scrolling.
 */
import { useSyncExternalStore } from "react";

/** ms without a scroll event after which the page counts as settled. */
export const SETTLE_MS = 150;

let settled = true;
let lastScroll = 0;
let timer: ReturnType<typeof setTimeout> | null = null;
let frame: number | null = null;
const listeners = new Set<() => void>();

function set(value: boolean): void {
  if (settled === value) return;
  settled = value;
  // A copy: a listener may unsubscribe (or subscribe another) while being told.
  for (const l of [...listeners]) l();
}

/** After SETTLE_MS, in a frame: settled if no scroll came since, else wait out the rest. */
function check(): void {
  timer = null;
  frame = requestAnimationFrame(() => {
    frame = null;
    const since = performance.now() - lastScroll;
    if (since >= SETTLE_MS) set(true);
    else timer = setTimeout(check, SETTLE_MS - since);
  });
}

function onScroll(): void {
  lastScroll = performance.now();
  set(false);
  if (timer === null && frame === null) timer = setTimeout(check, SETTLE_MS);
}

function stop(): void {
  if (timer !== null) clearTimeout(timer);
  if (frame !== null) cancelAnimationFrame(frame);
  timer = frame = null;
  settled = true;
}

/**
 * Be told each time the page starts or stops scrolling (see module docs).
 * @returns unsubscribe; with no listener left, scrolls are no longer watched.
 */
export function subscribeScrollSettled(listener: () => void): () => void {
  if (listeners.size === 0) document.addEventListener("scroll", onScroll, { capture: true, passive: true });
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      document.removeEventListener("scroll", onScroll, { capture: true });
      stop();
    }
  };
}

/** Whether the page is still now (true on the server, and while nothing watches scrolls). */
export function isScrollSettled(): boolean {
  return settled;
}

/** @returns true while no scroll happened for {@link SETTLE_MS} ms (true on the server and before any scroll). */
export function useScrollSettled(): boolean {
  return useSyncExternalStore(subscribeScrollSettled, isScrollSettled, () => true);
}
