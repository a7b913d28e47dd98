"use client";
/**
 * Whether the page has been still for a moment: false from any scroll (of the window or of a
 * scrolling element, caught in the capture phase since `scroll` does not bubble) until
 * {@link SETTLE_MS} pass without one. Views that are costly to start (a card's live output: a
 * subscription, its first lines, re-renders) wait for it, so cards that fly past during a scroll
 * never start them. One listener and one timer for the whole page, however many cards ask.
 */
import { useSyncExternalStore } from "react";

/** ms without a scroll event after which the page counts as settled. */
export const SETTLE_MS = 150;

let settled = true;
let timer: ReturnType<typeof setTimeout> | null = null;
const listeners = new Set<() => void>();

function set(value: boolean): void {
  if (settled === value) return;
  settled = value;
  for (const l of listeners) l();
}

function onScroll(): void {
  set(false);
  if (timer !== null) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = null;
    set(true);
  }, SETTLE_MS);
}

function subscribe(listener: () => void): () => void {
  if (listeners.size === 0) document.addEventListener("scroll", onScroll, { capture: true, passive: true });
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      document.removeEventListener("scroll", onScroll, { capture: true });
      if (timer !== null) clearTimeout(timer);
      timer = null;
      settled = true;
    }
  };
}

/** @returns true while no scroll happened for {@link SETTLE_MS} ms (true on the server and before any scroll). */
export function useScrollSettled(): boolean {
  return useSyncExternalStore(subscribe, () => settled, () => true);
}
