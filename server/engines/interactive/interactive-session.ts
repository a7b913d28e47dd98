/**
 * One interactive agent (e.g. Claude Code without `-p`) in a tmux session, driven from its
 * screen: a {@link PaneWatcher} polls the pane (./tmux.ts) and classifies each new screen
 * (./screen-classifier.ts); the session turns what it sees into typed events (the table in
 * ./session-types.ts). A human can watch or take over at any time with
 * {@link InteractiveSession.attachCommand}.
 *
 * State is re-derived from the screen, so after {@link InteractiveSession.reattach} the current
 * state is announced again (e.g. `ready_for_prompt` with `turn: 0`).
 */
import { EventEmitter } from "node:events";
import fs from "node:fs/promises";
import path from "node:path";
import { AppError, isAppError } from "@/lib/errors";
import { ANTHROPIC_SECRET_ENV, childEnv } from "../../processes/child-env";
import { killScope } from "../../processes/kill-group";
import { ScopeWatcher, groupScope } from "../../processes/process-scope";
import { readExitStatus, readLaunchDir, writeLaunchDir } from "./pane-launch";
import { PaneWatcher } from "./pane-watcher";
import { transcriptAbove, type ScreenClass } from "./screen-classifier";
import type { InteractiveSessionEvents, InteractiveSessionOptions, PromptDelivery, SessionState, TrustResolver } from "./session-types";
import { SESSION_NAME, shellQuote, TmuxServer, tmuxSocketFor, type TmuxKey } from "./tmux";
import { TrustPolicy } from "./trust-policy";

/** How long a pasted prompt may take to appear before Enter is pressed anyway (ms). */
const ECHO_TIMEOUT_MS = 2000;
/** How long an answered dialog may take to go away (ms). */
const ANSWER_TIMEOUT_MS = 10_000;
/** How long a killed agent may take to exit after SIGHUP/SIGTERM before SIGKILL (ms). */
const KILL_GRACE_MS = 5000;
/** One /proc scanner for every session's kill. */
const groups = new ScopeWatcher();

export class InteractiveSession extends EventEmitter<InteractiveSessionEvents> {
  readonly name: string;
  readonly tmux: TmuxServer;
  readonly launchDir: string;
  readonly #opts: Required<Omit<InteractiveSessionOptions, "trustPolicy" | "tmuxBin">> & { trustPolicy: TrustPolicy };
  #watcher: PaneWatcher | null = null;
  #cwd: string | null = null;
  #state: SessionState = "starting";
  #blockedKey = "";
  #turn = 0;
  /** Set while an operation owns the screen (answering trust/dialog, delivering): the observer only watches. */
  #quiet = false;
  #delivering = false;
  #killing = false;

  /** @throws AppError `invalid_input` for a bad name or an overlong socket path */
  constructor(opts: InteractiveSessionOptions) {
    super();
    if (!SESSION_NAME.test(opts.name)) throw new AppError("invalid_input", `bad session name ${JSON.stringify(opts.name)} (letters, digits, _ and -)`);
    this.name = opts.name;
    const dataDir = path.resolve(opts.dataDir);
    this.tmux = new TmuxServer(tmuxSocketFor(dataDir), opts.tmuxBin);
    this.launchDir = path.join(dataDir, "interactive", opts.name);
    this.#opts = {
      name: opts.name, dataDir, trustPolicy: opts.trustPolicy ?? TrustPolicy.none(), width: opts.width ?? 200, height: opts.height ?? 50,
      pollMs: opts.pollMs ?? 150, idlePollMs: opts.idlePollMs ?? 1000, acceptTimeoutMs: opts.acceptTimeoutMs ?? 15_000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000, inheritEnv: opts.inheritEnv ?? true,
    };
  }

  get state(): SessionState { return this.#state; }
  /** The last screen seen (lines joined with "\n"). */
  get screen(): string { return this.#watcher?.screen ?? ""; }
  get classification(): ScreenClass { return this.#watcher?.classification ?? { kind: "unknown" }; }
  get paneId(): string | null { return this.#watcher?.paneId ?? null; }

  /**
   * Start `argv` in `cwd` in a new tmux session and begin watching it. Attach listeners first.
   * `env` is laid over the server's environment (see `inheritEnv`); TERM defaults to tmux-256color.
   * @throws AppError `invalid_input` (bad argv/env/cwd), `already_exists` (name taken),
   *   `command_not_found` (no tmux), `unavailable` (tmux failed or too old)
   */
  async start(argv: string[], cwd: string, env: Record<string, string> = {}): Promise<void> {
    if (this.#watcher) throw new AppError("conflict", `session ${this.name} was already started`);
    // The server's environment without its withheld secrets (../../processes/child-env.ts): this
    // session is Claude Code's, so it may have the Anthropic credentials and nothing else.
    const base = this.#opts.inheritEnv ? Object.fromEntries(Object.entries(childEnv({}, ANTHROPIC_SECRET_ENV)).filter(([k]) => !k.startsWith("TMUX"))) : {};
    const cwdAbs = path.resolve(cwd);
    await this.tmux.version();
    // Checked before writing: the launch files of a running session must not be replaced.
    if (await this.tmux.hasSession(this.name)) throw new AppError("already_exists", `tmux session ${this.name} already exists`);
    await fs.mkdir(path.dirname(this.tmux.socketPath), { recursive: true });
    const command = await writeLaunchDir(this.launchDir, { argv, cwd: cwdAbs, env: { ...base, TERM: "tmux-256color", ...env } });
    let paneId: string;
    try {
      ({ paneId } = await this.tmux.newSession(this.name, command, { width: this.#opts.width, height: this.#opts.height }));
    } catch (err) {
      // Not for a name that is taken: those launch files belong to the running session.
      if (!(isAppError(err) && err.code === "already_exists")) await fs.rm(this.launchDir, { recursive: true, force: true });
      throw err;
    }
    this.#cwd = cwdAbs;
    this.#watch(paneId);
  }

  /**
   * Watch an existing session again (after a server restart). Attach listeners first.
   * @throws AppError `not_found` when no session of this name runs on the data dir's tmux server
   */
  async reattach(): Promise<void> {
    const paneId = await this.tmux.findPane(this.name);
    if (!paneId) throw new AppError("not_found", `no tmux session ${this.name} on ${this.tmux.socketPath}`);
    this.#cwd = (await readLaunchDir(this.launchDir))?.cwd ?? null;
    this.#watch(paneId);
  }

  /** The shell line a human runs to watch or take over this session. */
  attachCommand(): string {
    return this.tmux.attachArgv(this.name).map(shellQuote).join(" ");
  }

  /**
   * Answer the trust prompt with "Yes" (selects option 1, Enter) and wait until it is gone.
   * @throws AppError `conflict` when no trust prompt is on screen or another operation runs;
   *   `unavailable` when the prompt does not go away within 10 s
   */
  async resolveTrust(by: TrustResolver): Promise<void> {
    await this.#exclusive("trust_prompt", async () => {
      await this.#choose(1);
      if (!(await this.#waitFor(() => this.classification.kind !== "trust_prompt" && this.#settled(), ANSWER_TIMEOUT_MS))) {
        throw new AppError("unavailable", `the trust prompt of ${this.name} did not go away`);
      }
      this.emit("trust_resolved", { by });
      this.#state = "starting";
    });
  }

  /**
   * Answer the dialog on screen: option number `choice` (1-based; moves the selection with
   * Up/Down, then Enter), `"enter"` (the selected option) or `"escape"`. Resolves once the
   * dialog is gone; the session then reports what follows (e.g. `ready_for_prompt`).
   * @throws AppError `conflict` when no dialog is on screen or another operation runs;
   *   `unavailable` when the dialog stays
   */
  async answerDialog(choice: number | "enter" | "escape"): Promise<void> {
    await this.#exclusive("dialog", async () => {
      const before = dialogKey(this.classification);
      if (choice === "escape" || choice === "enter") await this.tmux.sendKeys(this.#pane(), [choice === "escape" ? "Escape" : "Enter"]);
      else await this.#choose(choice);
      if (!(await this.#waitFor(() => dialogKey(this.classification) !== before && this.#settled(), ANSWER_TIMEOUT_MS))) {
        throw new AppError("unavailable", `the dialog of ${this.name} did not go away`);
      }
      this.#state = "starting";
    });
  }

  /**
   * Deliver a prompt: paste it into the agent's input line, press Enter, and check on screen
   * that the agent took it. If a shell got it instead, emit `prompt_misdelivery`, relaunch the
   * agent in the pane (`respawn-pane`), wait for `ready_for_prompt` and replay once; a second
   * misdelivery, a replay that never gets ready, or a prompt not accepted in time → `blocked`
   * with `failureClass: "prompt_delivery"`.
   * @throws AppError `invalid_input` for an empty prompt; `not_ready` unless the agent's input
   *   line is waiting; `conflict` while another prompt is being delivered
   */
  async sendPrompt(text: string): Promise<PromptDelivery> {
    if (text.trim() === "") throw new AppError("invalid_input", "the prompt is empty");
    if (this.#delivering) throw new AppError("conflict", `a prompt is already being delivered to ${this.name}`);
    const c = this.classification;
    if (this.#state !== "ready" || this.#quiet || c.kind !== "agent_ready" || c.input !== "") {
      throw new AppError("not_ready", `${this.name} is not ready for a prompt (state: ${this.#state}, screen: ${c.kind})`);
    }
    this.#delivering = true;
    try {
      for (let attempt = 1; ; attempt++) {
        this.#quiet = true;
        this.#state = "delivering";
        this.emit("prompt_sent", { attempt });
        const verdict = await this.#deliverOnce(text);
        if (verdict.kind === "exited") return { outcome: "exited", attempts: attempt };
        if (verdict.kind === "accepted") {
          this.#turn++;
          this.#state = "busy";
          this.emit("prompt_accepted", { attempt });
          return { outcome: "accepted", attempts: attempt };
        }
        if (verdict.kind === "timeout") return this.#deliveryBlocked(attempt, `the prompt was not accepted within ${this.#opts.acceptTimeoutMs} ms`);
        const replaying = attempt === 1;
        this.emit("prompt_misdelivery", { evidence: verdict.evidence, attempt, replaying });
        if (!replaying) return this.#deliveryBlocked(attempt, `the prompt landed in a shell again after a relaunch: ${verdict.evidence}`);
        // Re-establish the agent, then let the observer walk it through trust/dialogs to ready.
        await this.tmux.respawn(this.#pane());
        this.#state = "starting";
        this.#watcher?.reset();
        this.#quiet = false;
        if (!(await this.#waitFor(() => this.#state === "ready" && !this.#quiet, this.#opts.readyTimeoutMs))) {
          if (this.#exited()) return { outcome: "exited", attempts: attempt };
          return this.#deliveryBlocked(attempt, `the relaunched agent was not ready within ${this.#opts.readyTimeoutMs} ms (screen: ${this.classification.kind})`);
        }
      }
    } finally {
      this.#delivering = false;
      this.#quiet = false;
    }
  }

  /**
   * Kill the session (SIGHUP to the agent) and stop watching; also removes the tmux session of
   * an agent that already exited. Emits `exited { killed: true }` unless it had exited. Never throws.
   */
  async kill(): Promise<void> {
    this.#killing = true;
    const pid = this.#watcher?.pid ?? null;
    await this.tmux.killSession(this.name);
    // kill-session only sends SIGHUP; the agent must be gone before this resolves (a caller may
    // remove the worktree next). tmux makes each pane's process a session and group leader, so
    // the supervisor's kill sequence applies: SIGTERM, SIGKILL after the grace period.
    if (pid !== null) await killScope(groupScope(pid), { graceMs: KILL_GRACE_MS, startedAtMs: 0, groups }).catch(() => undefined);
    if (this.#exited()) return;
    const exited = new Promise<void>((resolve) => this.once("exited", () => resolve()));
    this.#finish({ code: null, signal: null, killed: true });
    await exited;
  }

  /** Stop watching but leave the agent running (server shutdown); {@link reattach} resumes. */
  detach(): void {
    this.#watcher?.stop();
    this.#watcher = null;
  }

  // ── delivery ──────────────────────────────────────────────────────────────────────────────

  async #deliverOnce(text: string): Promise<{ kind: "accepted" } | { kind: "timeout" } | { kind: "exited" } | { kind: "misdelivered"; evidence: string }> {
    const pane = this.#pane();
    const beforePaste = this.screen;
    await this.tmux.paste(pane, text, `lb-${this.name}`);
    // Wait until the paste shows (Claude draws it in its input line) before pressing Enter.
    await this.#waitFor(() => this.screen !== beforePaste && this.#settled(), ECHO_TIMEOUT_MS);
    if (this.#exited()) return { kind: "exited" };
    const echoed = this.classification;
    if (echoed.kind === "shell_prompt") {
      // Echoed by a shell and not yet run: wipe the line instead of pressing Enter.
      await this.tmux.sendKeys(pane, ["C-u"]);
      return { kind: "misdelivered", evidence: echoed.evidence ?? `the prompt was echoed by a shell: ${lastLine(this.screen)}` };
    }
    const transcript = transcriptAbove(this.screen);
    await this.tmux.sendKeys(pane, ["Enter"]);
    let verdict: { kind: "accepted" } | { kind: "misdelivered"; evidence: string } | null = null;
    await this.#waitFor(() => {
      const c = this.classification;
      if (c.kind === "shell_prompt") verdict = { kind: "misdelivered", evidence: c.evidence ?? `a shell prompt showed after the prompt was sent: ${lastLine(this.screen)}` };
      else if (c.kind === "agent_busy" || c.kind === "dialog" || (c.kind === "agent_ready" && c.input === "" && transcriptAbove(this.screen) !== transcript)) verdict = { kind: "accepted" };
      return verdict !== null;
    }, this.#opts.acceptTimeoutMs);
    if (this.#exited()) return { kind: "exited" };
    return verdict ?? { kind: "timeout" };
  }

  #deliveryBlocked(attempts: number, reason: string): PromptDelivery {
    this.#state = "blocked";
    // The screen that caused this is not announced again as a second `blocked`.
    this.#blockedKey = dialogKey(this.classification);
    this.emit("blocked", { text: reason, failureClass: "prompt_delivery" });
    return { outcome: "blocked", attempts, reason };
  }

  // ── operations on dialogs ─────────────────────────────────────────────────────────────────

  /** Run `op` while the observer only watches; the screen must show `kind` when it starts. */
  async #exclusive(kind: "trust_prompt" | "dialog", op: () => Promise<void>): Promise<void> {
    // Not refused during a delivery's relaunch phase (quiet is off then): the relaunched agent's
    // trust prompt and dialogs must be answerable for the replay to happen.
    if (this.#quiet) throw new AppError("conflict", `${this.name} is busy with another operation`);
    if (this.classification.kind !== kind) throw new AppError("conflict", `${this.name} shows no ${kind === "dialog" ? "dialog" : "trust prompt"} (screen: ${this.classification.kind})`);
    this.#quiet = true;
    try {
      await op();
    } finally {
      this.#quiet = false;
    }
  }

  /** Move the selection to option `n` (waiting for each move to show), then Enter. */
  async #choose(n: number): Promise<void> {
    const pane = this.#pane();
    const selected = () => {
      const c = this.classification;
      return c.kind === "dialog" || c.kind === "trust_prompt" ? c.selected : undefined;
    };
    const current = selected();
    if (current !== undefined && current !== n) {
      const key: TmuxKey = n < current ? "Up" : "Down";
      await this.tmux.sendKeys(pane, Array<TmuxKey>(Math.abs(n - current)).fill(key));
      if (!(await this.#waitFor(() => selected() === n, ANSWER_TIMEOUT_MS))) throw new AppError("unavailable", `could not select option ${n} on ${this.name}`);
    }
    await this.tmux.sendKeys(pane, ["Enter"]);
  }

  // ── observing ─────────────────────────────────────────────────────────────────────────────

  #pane(): string {
    const w = this.#watcher;
    if (!w || this.#exited()) throw new AppError("not_running", `session ${this.name} is not running`);
    return w.paneId;
  }

  #watch(paneId: string): void {
    const watcher = new PaneWatcher(this.tmux, paneId, { pollMs: this.#opts.pollMs, idlePollMs: this.#opts.idlePollMs }, {
      onOutput: (screen, cls) => this.emit("output", { screen, kind: cls.kind }),
      onPoll: () => {
        if (!this.#quiet) this.#observe();
      },
      onEnd: (exit) => this.#finish({ code: exit?.code ?? null, signal: exit?.signal ?? null, killed: this.#killing }),
      onWarning: (message) => this.emit("warning", { message }),
      wantsFast: () => this.#quiet,
    });
    this.#watcher = watcher;
    watcher.start();
  }

  /** See {@link PaneWatcher.waitFor}; false at once when the session is not watched. */
  #waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    return this.#watcher ? this.#watcher.waitFor(pred, timeoutMs) : Promise.resolve(pred());
  }

  /** Turn the current classification into a state and its event (once per change). */
  #observe(): void {
    const c = this.classification;
    if (c.kind === "agent_busy") {
      // Busy screens animate (spinner, timer) and never settle: act at once.
      if (this.#state !== "busy") {
        this.#state = "busy";
        this.emit("busy");
      }
      return;
    }
    if (!this.#settled()) return;
    switch (c.kind) {
      case "trust_prompt":
        if (this.#state === "trust_required") return;
        this.#state = "trust_required";
        this.emit("trust_required", { path: c.path ?? this.#cwd ?? "" });
        void this.#autoTrust(c.path);
        return;
      case "dialog":
      case "shell_prompt": {
        const key = dialogKey(c);
        if ((this.#state === "blocked" || this.#state === "shell") && this.#blockedKey === key) return;
        this.#state = c.kind === "dialog" ? "blocked" : "shell";
        this.#blockedKey = key;
        this.emit("blocked", { text: c.kind === "dialog" ? c.text : `a shell owns the terminal, not the agent${c.evidence ? `: ${c.evidence}` : ""}` });
        return;
      }
      case "agent_ready":
        // Text in the input line (a human typing in the attached session, an unsent prompt) is not "ready".
        if (this.#state === "ready" || c.input !== "") return;
        this.#state = "ready";
        this.emit("ready_for_prompt", { turn: this.#turn });
        return;
      case "unknown":
        return;
    }
  }

  /** Answer the trust prompt when the policy allows both the session's cwd and the path on screen. */
  async #autoTrust(screenPath: string | undefined): Promise<void> {
    const policy = this.#opts.trustPolicy;
    const paths = [this.#cwd, screenPath].filter((p): p is string => !!p);
    if (paths.length === 0) return;
    for (const p of paths) if (!(await policy.isAllowed(p))) return;
    await this.resolveTrust("allowlist").catch((err: Error) => this.emit("warning", { message: `automatic trust failed: ${err.message}` }));
  }

  #settled(): boolean {
    return this.#watcher?.settled ?? false;
  }

  /** A method, not a field test, so TypeScript does not narrow `#state` across awaits. */
  #exited(): boolean {
    return this.#state === "exited";
  }

  #finish(exit: { code: number | null; signal: string | null; killed: boolean }): void {
    if (this.#exited()) return;
    this.#state = "exited";
    this.#watcher?.stop();
    void (async () => {
      // The launcher's record wins: it is written before the pane dies (see pane-launch.ts).
      const code = exit.killed ? null : ((await readExitStatus(this.launchDir)) ?? exit.code);
      // The launch files hold the agent's environment (API keys): gone before `exited` is announced.
      await fs.rm(this.launchDir, { recursive: true, force: true }).catch(() => undefined);
      this.emit("exited", { ...exit, code });
    })();
  }
}

/** A dialog's identity for "is it still the same one": its text without the selection marker. */
function dialogKey(c: ScreenClass): string {
  if (c.kind === "dialog") return `dialog:${c.text.replace(/❯ ?/g, "")}`;
  if (c.kind === "shell_prompt") return `shell:${c.evidence ?? ""}`;
  return c.kind;
}

function lastLine(screen: string): string {
  return screen.split("\n").filter((l) => l.trim() !== "").pop()?.trim() ?? "";
}
