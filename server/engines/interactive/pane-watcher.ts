/**
 * Watches one tmux pane: polls its screen (`capture-pane`, one tmux call per poll), classifies
 * each new screen, and tells its owner about changes, the pane's end, and whatever a caller is
 * waiting for ({@link PaneWatcher.waitFor}).
 *
 * Why polling: tmux has no cheap "screen changed" push for a client that is not attached
 * (control mode would attach a client, which takes part in the window's size). Polling is
 * adaptive: every `pollMs` while the screen changes or someone waits, every `idlePollMs` once it
 * was still for {@link IDLE_AFTER_MS}.
 */
import { classifyScreen, type ScreenClass } from "./screen-classifier";
import type { PaneSnapshot, TmuxServer } from "./tmux";

/** After this long without a change (ms) the watcher polls at the idle rate. */
export const IDLE_AFTER_MS = 3000;
/** How many more polls wait for the exit status of a pane already seen dead. */
const DEAD_STATUS_POLLS = 10;

export interface PaneWatcherHooks {
  /** The screen differs from the last poll (`kind` is its classification). */
  onOutput(screen: string, cls: ScreenClass): void;
  /** After every poll of a live pane, changed or not (then waiters are checked). */
  onPoll(): void;
  /** The pane's process ended (`code`/`signal` from tmux), or the pane or server vanished (null). */
  onEnd(exit: { code: number | null; signal: string | null } | null): void;
  onWarning(message: string): void;
  /** Poll fast regardless of changes (an operation is in progress). */
  wantsFast(): boolean;
}

export class PaneWatcher {
  #screen = "";
  #class: ScreenClass = { kind: "unknown" };
  #settled = false;
  #pid: number | null = null;
  #lastChange = 0;
  #timer: NodeJS.Timeout | null = null;
  #inPoll = false;
  #running = false;
  #waiters = new Set<() => void>();
  /** Polls that saw the pane dead without its exit status yet. */
  #deadPolls = 0;
  /** Bumped by {@link reset}: a poll that started before it is discarded. */
  #generation = 0;

  constructor(
    private readonly tmux: TmuxServer,
    readonly paneId: string,
    private readonly opts: { pollMs: number; idlePollMs: number },
    private readonly hooks: PaneWatcherHooks,
  ) {}

  /** The last screen seen (lines joined with "\n", trailing spaces removed). */
  get screen(): string { return this.#screen; }
  get classification(): ScreenClass { return this.#class; }
  /** The last two polls saw the same screen: safe to act on (Claude redraws in steps). */
  get settled(): boolean { return this.#settled; }
  /** The pane's process id, once a poll has seen it. */
  get pid(): number | null { return this.#pid; }

  start(): void {
    this.#running = true;
    this.#schedule(0);
  }

  /** Stop polling; pending waiters resolve false. */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Forget the screen (after `respawn-pane` the next screens belong to a new process): the
   * classification is `unknown` until the next poll, and a poll already in flight is discarded.
   */
  reset(): void {
    this.#generation++;
    this.#screen = "";
    this.#class = { kind: "unknown" };
    this.#settled = false;
  }

  /**
   * Resolve true on the first poll after which `pred()` holds (checked at once, too), false
   * after `timeoutMs` or when watching stops. Polls fast while anyone waits.
   */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    if (!this.#running) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(ok);
      };
      const check = () => {
        if (pred()) done(true);
        else if (!this.#running) done(false);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(check);
      this.#schedule(Math.min(this.opts.pollMs, 50));
    });
  }

  #schedule(ms: number): void {
    // A poll in flight schedules the next one itself when it ends; never run two at once.
    if (this.#inPoll || !this.#running) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#poll(), ms);
  }

  async #poll(): Promise<void> {
    this.#timer = null;
    this.#inPoll = true;
    const generation = this.#generation;
    let ended = false;
    try {
      const snap = await this.tmux.snapshot(this.paneId);
      // After a reset this screen may belong to the process that was replaced: drop it, poll again.
      if (this.#running && generation === this.#generation) ended = this.#apply(snap);
    } catch (err) {
      this.hooks.onWarning(`poll of pane ${this.paneId} failed: ${(err as Error).message}`);
    } finally {
      this.#inPoll = false;
    }
    if (ended || !this.#running) return;
    if (generation === this.#generation) for (const w of [...this.#waiters]) w();
    const fast = this.#waiters.size > 0 || this.hooks.wantsFast() || Date.now() - this.#lastChange < IDLE_AFTER_MS;
    this.#schedule(fast ? this.opts.pollMs : this.opts.idlePollMs);
  }

  /** Take in one snapshot. @returns true when the pane has ended */
  #apply(snap: PaneSnapshot | null): boolean {
    if (!snap) {
      this.#end(null);
      return true;
    }
    if (snap.pid !== null) this.#pid = snap.pid;
    const changed = snap.screen !== this.#screen;
    this.#settled = !changed;
    if (changed) {
      this.#screen = snap.screen;
      this.#class = classifyScreen(snap.screen);
      this.#lastChange = Date.now();
      this.hooks.onOutput(snap.screen, this.#class);
    }
    // tmux may mark a pane dead a moment before it has the exit status: ask again a few times.
    if (snap.dead && (snap.exitCode !== null || snap.signal !== null || ++this.#deadPolls > DEAD_STATUS_POLLS)) {
      this.#end({ code: snap.exitCode, signal: snap.signal });
      return true;
    }
    if (snap.dead) return false;
    this.hooks.onPoll();
    return false;
  }

  #end(exit: { code: number | null; signal: string | null } | null): void {
    this.stop();
    this.hooks.onEnd(exit);
  }
}
