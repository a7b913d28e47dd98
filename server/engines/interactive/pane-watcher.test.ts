/**
 * PaneWatcher around a real tmux pane. The race test gates the real `snapshot` so that a reset
 * lands exactly while a poll is in flight (a regression: such a poll used to end the polling).
 */
import { describe, expect, it } from "vitest";
import { tmuxPerTest } from "./interactive.testing";
import { PaneWatcher, type PaneWatcherHooks } from "./pane-watcher";
import { TmuxServer, type PaneSnapshot } from "./tmux";

/** The real tmux, with each snapshot held until the test releases it. */
class GatedTmux extends TmuxServer {
  calls = 0;
  #open = false;
  #gates: Array<() => void> = [];
  #arrived: Array<() => void> = [];
  override async snapshot(paneId: string): Promise<PaneSnapshot | null> {
    this.calls++;
    for (const a of this.#arrived.splice(0)) a();
    if (!this.#open) await new Promise<void>((release) => this.#gates.push(release));
    return super.snapshot(paneId);
  }
  /** Resolves when the next snapshot call is waiting at the gate. */
  arrival(): Promise<void> {
    return this.#gates.length > 0 ? Promise.resolve() : new Promise((r) => this.#arrived.push(r));
  }
  release(): void {
    this.#gates.shift()?.();
  }
  /** Stop holding snapshots (and let the waiting one go). */
  open(): void {
    this.#open = true;
    for (const g of this.#gates.splice(0)) g();
  }
}

const srv = tmuxPerTest((socket) => new GatedTmux(socket));

const hooks = (): PaneWatcherHooks & { outputs: string[] } => {
  const outputs: string[] = [];
  return { outputs, onOutput: (s) => outputs.push(s), onPoll: () => undefined, onEnd: () => undefined, onWarning: () => undefined, wantsFast: () => false };
};

describe("PaneWatcher", () => {
  it("keeps polling when reset() lands during a poll, and drops that poll's stale screen", async () => {
    const { paneId } = await srv.tmux.newSession("w", ["/bin/sh", "-c", "echo before-reset; exec sleep 1000"], { width: 80, height: 10 });
    const h = hooks();
    const w = new PaneWatcher(srv.tmux, paneId, { pollMs: 20, idlePollMs: 20 }, h);
    w.start();
    await srv.tmux.arrival();
    w.reset();
    const seen = w.waitFor(() => w.screen.includes("before-reset"), 10_000);
    srv.tmux.release(); // the poll that started before the reset
    await srv.tmux.arrival(); // a new poll follows
    expect(h.outputs).toEqual([]); // the stale one was dropped
    expect(srv.tmux.calls).toBe(2);
    srv.tmux.open();
    expect(await seen).toBe(true);
    w.stop();
  });
});
