/**
 * Runs `worker.mode: "interactive"` lanes: the real interactive agent (Claude Code without `-p`)
 * in a tmux session (server/engines/interactive/), wired to the worker state machine through
 * the {@link WorkerService} hook (./worker-session.ts, table in docs/workers.md).
 *
 * Process model: the agent lives in the tmux server (so a human can attach, and it survives a
 * server restart), and the supervisor runs a small **host** process per lane ({@link HOST_SCRIPT})
 * that lives exactly as long as the lane's tmux session. The lane's outcome therefore still comes
 * from a supervised process exit, like every other engine:
 * | what happens | host | lane |
 * | --- | --- | --- |
 * | the agent exits with status n | the driver records n in the worker's exit file and removes the session; the host exits n | finished (0) / failed |
 * | the lane is killed | SIGTERM to the host, whose trap kills the tmux session | killed |
 * | the session vanished (tmux died, server down meanwhile) | no exit file: exits 1 | failed |
 *
 * Session name `lb-<workerId>`; trust policy per lane: the lane's worktree is trusted
 * automatically when its repo is in `trustedRepos` (config `--trusted-repo`), else the trust
 * prompt stays gated until `POST /api/v1/lanes/:id/worker/trust`. The screen (`output`, several
 * times a second) is never persisted.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { laneDir } from "../records/lane-dir";
import { parseTaskPacket } from "../records/lane-store";
import type { Db } from "../store/db";
import type { WorkerSpec } from "@/lib/task-packet";
import { InteractiveSession, listInteractiveSessions, prepareInteractiveClaude, tmuxSocketFor, TrustPolicy, type InteractiveClaudeSettings } from "../engines/interactive";
import { TmuxServer } from "../engines/interactive/tmux";
import type { SessionHook, SessionSignal } from "./worker-session";
import { TERMINAL_WORKER_STATES } from "./worker-state-machine";
import type { WorkerState } from "@/lib/lane-state";

/**
 * The supervised host: `$1` tmux binary, `$2` socket, `$3` session name, `$4` exit file. Polls
 * the session once a second (`sleep & wait`, so the TERM trap runs at once); exits with the
 * status in the exit file, 1 when there is none, 143 after killing the session on TERM/INT/HUP.
 * Fixed text: the inputs arrive as positional parameters, never parsed as shell code.
 */
export const HOST_SCRIPT = `t=$1 s=$2 n=$3 f=$4
trap '"$t" -S "$s" kill-session -t "=$n" 2>/dev/null; exit 143' TERM INT HUP
while "$t" -S "$s" has-session -t "=$n" 2>/dev/null; do sleep 1 & wait $!; done
c=$(cat -- "$f" 2>/dev/null)
case $c in ''|*[!0-9]*) exit 1;; esac
exit "$c"`;

export interface InteractiveDriverDeps {
  db: Db;
  dataDir: string;
  tmuxBin?: string;
  /** Repos whose lanes' trust prompts are answered automatically. */
  trustedRepos: readonly string[];
  /** Model API and binary settings (the headless engine's; see agentEngineSettings). */
  settings: InteractiveClaudeSettings;
  /** The worker service's hook (./worker-session.ts). */
  workers: { attachSession(workerId: string, session: SessionHook): () => void; signal(workerId: string, signal: SessionSignal): Promise<unknown> };
  /** Session options for tests (poll intervals). */
  sessionOptions?: { pollMs?: number; idlePollMs?: number };
}

export interface InteractiveLaunch {
  workerId: string;
  laneDir: string;
  worktreePath: string;
  repoPath: string;
  spec: WorkerSpec;
}

interface Live {
  session: InteractiveSession;
  unhook: () => void;
}

export class InteractiveDriver {
  readonly #live = new Map<string, Live>();
  #closing = false;

  constructor(private readonly deps: InteractiveDriverDeps) {}

  /** tmux session name of a worker. */
  static sessionName(workerId: string): string {
    return `lb-${workerId}`;
  }

  /** The live session of a worker (for tests and `attachCommand`), if this server drives it. */
  session(workerId: string): InteractiveSession | undefined {
    return this.#live.get(workerId)?.session;
  }

  /**
   * Start the agent's tmux session for a freshly created worker and wire it to the worker
   * service. @returns the host argv for the supervisor (run it in the worktree) and `stop`,
   * which kills the session (for a start that fails after this).
   * A session of the same worker left by a start a stopped server cut is replaced first.
   * @throws AppError from prepareInteractiveClaude / InteractiveSession.start (no tmux, no claude)
   */
  async launch(input: InteractiveLaunch): Promise<{ argv: string[]; stop: () => Promise<void> }> {
    const { workerId, spec } = input;
    const trusted = await new TrustPolicy(this.deps.trustedRepos).isAllowed(input.repoPath);
    const cmd = await prepareInteractiveClaude(
      { laneDir: input.laneDir, worktreePath: input.worktreePath },
      // Our own (placeholder or configured) key: approved up front, so its dialog never blocks a lane.
      { ...this.deps.settings, ...(spec.command ? { claudeBin: spec.command } : {}), approveApiKey: true },
    );
    const exitFile = this.#exitFile(input.laneDir, workerId);
    await fs.rm(exitFile, { force: true });
    await this.#replaceStale(workerId);
    const session = this.#newSession(workerId, new TrustPolicy(trusted ? [input.worktreePath] : []));
    this.#wire(workerId, session, exitFile);
    try {
      await session.start(cmd.argv, cmd.cwd, { ...cmd.env, ...spec.env });
    } catch (err) {
      this.#forget(workerId);
      throw err;
    }
    return { argv: this.#hostArgv(workerId, exitFile), stop: () => session.kill() };
  }

  /**
   * At boot: watch again every live interactive worker whose tmux session still runs. A worker
   * whose session is gone needs nothing here: its host finds no session and exits 1 (or the
   * supervisor marks a vanished host lost), which settles the lane.
   * @returns worker ids reattached and those whose session is missing
   */
  async reattachAll(): Promise<{ reattached: string[]; missing: string[] }> {
    const names = new Set(await listInteractiveSessions(this.deps.dataDir, this.deps.tmuxBin).catch(() => [] as string[]));
    const rows = await this.deps.db.worker.findMany({ where: { lane: { state: "running" } }, include: { lane: { select: { packet: true } } } });
    const out = { reattached: [] as string[], missing: [] as string[] };
    for (const w of rows) {
      if (TERMINAL_WORKER_STATES.has(w.state as WorkerState)) continue;
      if (interactiveMode(w.lane.packet) !== "interactive" || this.#live.has(w.id)) continue;
      if (!names.has(InteractiveDriver.sessionName(w.id))) {
        out.missing.push(w.id);
        continue;
      }
      // The trust decision was made at launch; a reattached session never auto-answers a new prompt.
      const session = this.#newSession(w.id, TrustPolicy.none());
      this.#wire(w.id, session, this.#exitFile(laneDir(this.deps.dataDir, w.laneId), w.id));
      try {
        await session.reattach();
        out.reattached.push(w.id);
      } catch {
        this.#forget(w.id);
        out.missing.push(w.id);
      }
    }
    return out;
  }

  /**
   * Server shutdown: stop watching every session. With `kill` (the supervisor kills the hosts,
   * whose traps end the sessions) also end the data dir's tmux server afterwards; call it then
   * after the supervisor's shutdown. Without it the agents keep running for {@link reattachAll}.
   */
  async shutdown(opts: { kill: boolean }): Promise<void> {
    this.#closing = true;
    for (const id of [...this.#live.keys()]) {
      this.#live.get(id)?.session.detach();
      this.#forget(id);
    }
    if (opts.kill) await new TmuxServer(tmuxSocketFor(this.deps.dataDir), this.deps.tmuxBin).killServer().catch(() => undefined);
  }

  /**
   * A session of this worker's name before its start: left by a start of the same worker that a
   * stopped server cut before its host ran (a start made again in place keeps its worker, hence
   * the name), as tmux sessions outlive the server. Nothing follows it and it may hold a
   * half-delivered prompt, so it is replaced, not reused: killed with its agent's process group.
   */
  async #replaceStale(workerId: string): Promise<void> {
    const live = this.#live.get(workerId);
    this.#forget(workerId);
    const stale = live?.session ?? this.#newSession(workerId, TrustPolicy.none());
    if (!live && !(await stale.reattach().then(() => true, () => false))) return;
    console.warn(`[interactive] replacing the tmux session ${InteractiveDriver.sessionName(workerId)} left by an earlier start of worker ${workerId}`);
    await stale.kill();
    stale.removeAllListeners();
  }

  #newSession(workerId: string, trustPolicy: TrustPolicy): InteractiveSession {
    return new InteractiveSession({ name: InteractiveDriver.sessionName(workerId), dataDir: this.deps.dataDir, trustPolicy, ...this.deps.sessionOptions, ...(this.deps.tmuxBin ? { tmuxBin: this.deps.tmuxBin } : {}) });
  }

  #exitFile(laneDir: string, workerId: string): string {
    return path.join(laneDir, `interactive-${workerId}.exit`);
  }

  #hostArgv(workerId: string, exitFile: string): string[] {
    const socket = tmuxSocketFor(path.resolve(this.deps.dataDir));
    return ["/bin/sh", "-c", HOST_SCRIPT, "laneboard-interactive-host", this.deps.tmuxBin ?? "tmux", socket, InteractiveDriver.sessionName(workerId), exitFile];
  }

  #forget(workerId: string): void {
    const live = this.#live.get(workerId);
    if (!live) return;
    live.unhook();
    live.session.removeAllListeners();
    this.#live.delete(workerId);
  }

  /** Forward session events as worker signals, in order (one chain per worker); mapping in docs/workers.md. */
  #wire(workerId: string, s: InteractiveSession, exitFile: string): void {
    const unhook = this.deps.workers.attachSession(workerId, {
      // Outcomes other than a throw (blocked, exited) were already reported by the session's events.
      deliverPrompt: async (text) => void (await s.sendPrompt(text)),
      // The service records who resolved it (human or claw) itself.
      resolveTrust: () => s.resolveTrust("human"),
    });
    this.#live.set(workerId, { session: s, unhook });
    let chain: Promise<unknown> = Promise.resolve();
    const send = (signal: SessionSignal) => {
      if (this.#closing) return;
      chain = chain
        .then(() => this.deps.workers.signal(workerId, signal))
        .catch((err: unknown) => console.warn(`[interactive] signal ${signal.kind} for worker ${workerId} failed: ${(err as Error).message}`));
    };
    s.on("trust_required", ({ path: p }) => send({ kind: "trust_required", path: p }));
    // Human/claw resolutions go through WorkerService.resolveTrust, which records its own `by`.
    s.on("trust_resolved", ({ by }) => by === "allowlist" && send({ kind: "trust_resolved", by }));
    s.on("blocked", ({ text, failureClass }) => send({ kind: "blocked", text, ...(failureClass ? { failureClass } : {}) }));
    s.on("ready_for_prompt", () => send({ kind: "ready_for_prompt" }));
    // Attempt 1 is the service's own delivery; only the session's replay needs recording.
    s.on("prompt_sent", ({ attempt }) => attempt >= 2 && send({ kind: "prompt_sent", attempt }));
    s.on("prompt_accepted", () => send({ kind: "working" }));
    s.on("busy", () => send({ kind: "working" }));
    s.on("prompt_misdelivery", ({ evidence, replaying }) => send({ kind: "prompt_misdelivery", evidence, replaying }));
    s.on("exited", ({ code }) => {
      if (this.#closing) return;
      this.#forget(workerId);
      // The host exits with this status once the session is gone (see HOST_SCRIPT).
      void (async () => {
        await chain;
        if (code !== null) await fs.writeFile(exitFile, `${code}\n`).catch(() => undefined);
        await s.kill();
      })();
    });
  }
}

/** The worker mode of a stored packet; null for a packet that no longer parses (such a lane is not reattached). */
function interactiveMode(packetJson: string): WorkerSpec["mode"] | null {
  try {
    return parseTaskPacket(packetJson).worker.mode;
  } catch {
    return null;
  }
}
