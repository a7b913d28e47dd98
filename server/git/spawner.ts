/**
 * Runs commands in the git helper process (git-helper.mjs) instead of forking the server.
 *
 * Why: `child_process.spawn` forks the calling process synchronously, and fork(2) copies its page
 * tables. The server maps a lot (V8's heap; Prisma's WebAssembly query compiler reserves tens of
 * GB of address space), and each spawn blocked its main thread for 8 to 20 ms on a loaded 2-core
 * machine, while a lane's life takes several git calls (worktree add, freshness's for-each-ref,
 * what it produced). Under many lanes those forks were the largest part of the server's busy
 * time. The helper's forks cost about as much, but in another process, on another core, while
 * the server goes on; the server only sends and receives one IPC message per call.
 *
 * One helper per server process, started on the first call and again after it died. It never
 * keeps the server alive: its handle and channel are unreferenced while no call is in flight.
 * It exits when the server goes away, after the calls in flight (see git-helper.mjs).
 *
 * The process supervisor's wrappers are spawned here too ({@link spawnDetachedInHelper}): the
 * same fork, once per lane start. They are detached (a session of their own), so they outlive
 * the helper as they outlive the server; their ends are reported by the helper while it lives.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { AppError } from "@/lib/errors";

const HELPER = fileURLToPath(new URL("./git-helper.mjs", import.meta.url));

export interface SpawnRequest {
  file: string;
  args: string[];
  /** Absolute directory the command runs in. */
  cwd: string;
  /** The command's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** Written to stdin, which is closed after it; stdin is /dev/null without it. */
  input?: string;
  /** The process group is SIGKILLed after this many ms. */
  timeoutMs: number;
  /** Bytes kept per stream; more gets the group SIGKILLed and `overflow` set. */
  maxBuffer: number;
}

export interface SpawnResult {
  /** null when killed by a signal or never started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** UTF-8, final newline removed. */
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The stream that went over `maxBuffer`, if one did. */
  overflow: "stdout" | "stderr" | null;
  /** Set when the command could not be started (`code` e.g. ENOENT: no such file, or no such cwd). */
  error: { code: string | null; message: string } | null;
}

export interface DetachedRequest {
  file: string;
  args: string[];
  /** Absolute directory the process runs in. */
  cwd: string;
  /** The process's whole environment (nothing is inherited). */
  env: Record<string, string>;
  /** Files its stdout and stderr are appended to (stdin is /dev/null). */
  stdout: string;
  stderr: string;
}

/** The end of a detached process as the OS told its parent: `signal` is a name (SIGKILL). */
export type DetachedStatus = { exitCode: number | null; signal: string | null };

export interface Detached {
  pid: number;
  /** proc(5) stat field 22 of the process, read before its parent could reap it; null if unreadable. */
  startTime: string | null;
  /**
   * Resolves with its status when it ends; with null when the helper went away first (the
   * process runs on, no longer anyone's child here: follow it as one found after a restart).
   * Never rejects.
   */
  done: Promise<DetachedStatus | null>;
}

interface Pending {
  resolve: (answer: never) => void;
  reject: (err: Error) => void;
}

type DetachedAnswer = { pid: number | null; startTime: string | null; error: SpawnResult["error"] };

class GitHelper {
  #child: ChildProcess | null = null;
  readonly #pending = new Map<number, Pending>();
  /** Detached processes started by the running helper whose end it has not told yet, by request id. */
  readonly #running = new Map<number, (status: DetachedStatus | null) => void>();
  #nextId = 1;

  /**
   * Run one command in the helper.
   * @throws AppError `unavailable` when the helper cannot be started or dies with the call in flight
   */
  run(req: SpawnRequest): Promise<SpawnResult> {
    return this.#call<SpawnResult>({ ...req });
  }

  /**
   * Spawn a detached process in the helper; resolves once it runs.
   * @throws AppError `unavailable` when the helper cannot be started or dies first, or the spawn
   *   failed (the message says why, e.g. ENOENT)
   */
  async spawnDetached(req: DetachedRequest): Promise<Detached> {
    let report!: (status: DetachedStatus | null) => void;
    const done = new Promise<DetachedStatus | null>((resolve) => (report = resolve));
    const id = this.#nextId++; // its end is reported under the request's id
    this.#running.set(id, report);
    const answer = await this.#call<DetachedAnswer>({ detached: true, ...req }, id).catch((err: unknown) => {
      this.#running.delete(id);
      throw err;
    });
    if (answer.pid === null) {
      this.#running.delete(id);
      throw new AppError("unavailable", `the OS refused to start the process: ${answer.error?.message ?? "no pid"}`);
    }
    return { pid: answer.pid, startTime: answer.startTime, done };
  }

  #call<T>(msg: object, id = this.#nextId++): Promise<T> {
    const child = this.#ensure();
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as Pending["resolve"], reject });
      this.#hold(child, true);
      child.send({ id, ...msg }, (err) => {
        if (!err) return;
        this.#settle(id)?.reject(new AppError("unavailable", `could not send a command to the git helper: ${err.message}`));
      });
    });
  }

  /** The pid of the helper now running, or null (for tests). */
  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  #ensure(): ChildProcess {
    if (this.#child) return this.#child;
    // No loader flags or NODE_OPTIONS of the server: the helper is plain JavaScript. (Its own
    // environment does not reach git: every request carries the command's.)
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const child = fork(HELPER, [], { execArgv: [], env, stdio: ["ignore", "ignore", "inherit", "ipc"], serialization: "json" });
    child.on("message", (msg: { id: number } | ({ exitOf: number } & DetachedStatus)) => {
      if ("exitOf" in msg) {
        this.#running.get(msg.exitOf)?.({ exitCode: msg.exitCode, signal: msg.signal });
        this.#running.delete(msg.exitOf);
        return;
      }
      const { id, ...answer } = msg;
      this.#settle(id)?.resolve(answer as never);
    });
    const gone = (why: string) => {
      if (this.#child !== child) return;
      this.#child = null;
      const err = new AppError("unavailable", why);
      for (const id of [...this.#pending.keys()]) this.#settle(id)?.reject(err);
      // Their ends will not be told: each caller follows its process another way.
      for (const report of this.#running.values()) report(null);
      this.#running.clear();
    };
    child.once("exit", (code, signal) => gone(`the git helper exited (${signal ?? `code ${code}`}) with a call in flight`));
    // A fork that failed (no pid) may emit no exit (Node's docs): its calls fail here. Other
    // errors (a message that could not be sent) reach the send callback.
    child.on("error", (err) => {
      if (child.pid === undefined) gone(`could not start the git helper: ${err.message}`);
    });
    this.#child = child;
    this.#hold(child, false);
    return child;
  }

  #settle(id: number): Pending | undefined {
    const p = this.#pending.get(id);
    this.#pending.delete(id);
    if (this.#pending.size === 0 && this.#child) this.#hold(this.#child, false);
    return p;
  }

  /** Keep the server's event loop alive for the helper only while a call waits for it. */
  #hold(child: ChildProcess, busy: boolean): void {
    if (busy) {
      child.ref();
      child.channel?.ref();
    } else {
      child.unref();
      child.channel?.unref();
    }
  }
}

let helper: GitHelper | null = null;

/**
 * Run `req` in this process's git helper (started on first use).
 * @throws AppError `unavailable` when the helper cannot be started or dies during the call
 */
export function spawnInHelper(req: SpawnRequest): Promise<SpawnResult> {
  helper ??= new GitHelper();
  return helper.run(req);
}

/**
 * Spawn `req` detached (its own session and process group) as a child of this process's git
 * helper, so the fork does not block this process's main thread (see the module's comment).
 * @throws AppError `unavailable` when the helper cannot be started or dies first, or the OS refused
 */
export function spawnDetachedInHelper(req: DetachedRequest): Promise<Detached> {
  helper ??= new GitHelper();
  return helper.spawnDetached(req);
}

/** The helper's pid, or null when none runs (for tests). */
export function gitHelperPid(): number | null {
  return helper?.pid ?? null;
}
