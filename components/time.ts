/**
 * Relative times ("12s ago") with the platform's Intl.RelativeTimeFormat, and one shared clock
 * so every "ago" label on the page ticks together from a single interval.
 */
import { useSyncExternalStore } from "react";

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "narrow" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
  ["second", 1],
];

/** "12s ago", "3m ago", "yesterday"… for an ISO time relative to `nowMs` (ms since the epoch). Empty for an unparsable time. */
export function formatRelative(iso: string, nowMs: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const seconds = Math.round((t - nowMs) / 1000);
  // The shared clock ticks every few seconds and server and browser clocks differ, so a fresh
  // event can look a little in the future; board events are never really ahead of now.
  if (seconds > -2) return "now";
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return rtf.format(Math.trunc(seconds / size), unit);
  }
  return "";
}

/** Local date-time for tooltips, e.g. "2026-11-20 23:14:05". */
export function formatAbsolute(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Duration in ms as "850ms", "12.3s", "4m 05s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s`;
}

const TICK_MS = 5_000;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

const noSubscription = () => () => {};

/**
 * False on the server and while the page hydrates, true after (and at once in a page that was
 * not server-rendered). What depends on the browser's clock or time zone ("3m ago", local
 * times) differs from what the server rendered, so it is shown once hydrated: React then
 * re-renders the few components that asked, instead of finding a mismatch in the HTML.
 */
export function useHydrated(): boolean {
  return useSyncExternalStore(noSubscription, () => true, () => false);
}

/** The current time in ms, re-rendering every 5 s (shared by all callers). */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now, () => now);
}
