import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { isScrollSettled, SETTLE_MS, subscribeScrollSettled } from "./use-scroll-settled";

// The page as the module sees it: a document that takes the scroll listener, and animation frames
// run by the test, as a browser runs them after a frame's scroll events.
let onScroll: (() => void) | null = null;
let unsubscribe = () => {};
let frames: FrameRequestCallback[] = [];
const scroll = () => onScroll!();
const frame = () => {
  const run = frames;
  frames = [];
  for (const cb of run) cb(performance.now());
};

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  vi.stubGlobal("document", {
    addEventListener: (_type: string, l: () => void) => (onScroll = l),
    removeEventListener: () => (onScroll = null),
  });
  vi.stubGlobal("requestAnimationFrame", (cb: FrameRequestCallback) => frames.push(cb));
  vi.stubGlobal("cancelAnimationFrame", () => (frames = []));
});
afterEach(() => {
  unsubscribe();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  frames = [];
});

describe("scroll settled", () => {
  it("is settled once SETTLE_MS passed with no scroll and a frame came", () => {
    const told = vi.fn();
    unsubscribe = subscribeScrollSettled(told);
    expect(isScrollSettled()).toBe(true);
    scroll();
    expect(isScrollSettled()).toBe(false);
    vi.advanceTimersByTime(SETTLE_MS);
    frame();
    expect(isScrollSettled()).toBe(true);
    expect(told).toHaveBeenCalledTimes(2);
  });

  it("stays unsettled through a frame longer than SETTLE_MS in a running scroll", () => {
    unsubscribe = subscribeScrollSettled(() => undefined);
    scroll();
    // A slow frame: the timer fires before the frame's scroll event is dispatched.
    vi.advanceTimersByTime(SETTLE_MS + 100);
    expect(isScrollSettled()).toBe(false);
    scroll();
    frame();
    expect(isScrollSettled()).toBe(false);
    // The scroll goes on, a frame at a time: never settled.
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(16);
      scroll();
      frame();
      expect(isScrollSettled()).toBe(false);
    }
    // It stops: settled SETTLE_MS after the last scroll, in the next frame.
    vi.advanceTimersByTime(SETTLE_MS);
    frame();
    expect(isScrollSettled()).toBe(true);
  });

  it("forgets a scroll in progress once nothing listens", () => {
    unsubscribe = subscribeScrollSettled(() => undefined);
    scroll();
    unsubscribe();
    expect(onScroll).toBeNull();
    expect(isScrollSettled()).toBe(true);
  });
});
