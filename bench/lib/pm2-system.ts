/**
 * PM2 as a {@link BenchSystem}, through its programmatic API (`pm2` package): a private daemon
 * under its own `PM2_HOME` (a temp dir, so no other PM2 is touched), apps started in fork mode
 * with PM2's defaults except `autorestart: false` (the printers end by themselves), and the bus
 * (`launchBus`, `log:out`) as the client that receives lines. PM2 sends stdout in chunks, so lines
 * are counted by their newlines (and split, keeping a partial line per app, when texts are wanted).
 *
 * Cleanup is guaranteed by {@link BenchSystem.close}: `killDaemon` (which stops the apps), then
 * SIGKILL to the daemon and to any app pid still alive.
 */
import { readFileSync } from "node:fs";
import { countNewlines, identity, preciseNow } from "./measure";
import { PRINTER, printerNodeFlags, type BenchSystem, type Receiver, type Started } from "./system";

type Cb<T> = (err: unknown, value: T) => void;
const call = <T>(fn: (cb: Cb<T>) => void) =>
  new Promise<T>((resolve, reject) => fn((err, v) => (err ? reject(err instanceof Error ? err : new Error(JSON.stringify(err))) : resolve(v))));

interface Pm2Bus {
  on(event: string, fn: (packet: { process: { name: string }; data: string }) => void): void;
  close(): void;
}
interface Pm2App {
  process?: { pid?: number };
  pm2_env?: { pm_out_log_path?: string; pid?: number };
}

export interface Pm2Options {
  /** The private PM2_HOME (created by the caller, removed by the caller). */
  home: string;
  /** cwd of the apps (not a git repo, so PM2's git metadata lookup has nothing to do). */
  cwd: string;
}

/**
 * Start the private daemon and attach to its bus. Sets `PM2_HOME` (and `PM2_SILENT`) in this
 * process's environment before loading `pm2`, which reads them when first imported; so one
 * bench process runs one PM2 home.
 * @throws Error when the daemon cannot be started (after cleaning up what was started)
 */
export async function startPm2(o: Pm2Options): Promise<BenchSystem> {
  process.env.PM2_HOME = o.home;
  process.env.PM2_SILENT = "true";
  const pm2 = (await import("pm2")).default;
  const sys = new Pm2System(pm2, o);
  try {
    await call<unknown>((cb) => pm2.connect(cb as never));
    sys.adoptDaemon();
    sys.bus = await call<Pm2Bus>((cb) => pm2.launchBus(cb as never));
    sys.listen();
    return sys;
  } catch (err) {
    await sys.close();
    throw err;
  }
}

class Pm2System implements BenchSystem {
  readonly name = "PM2";
  readonly slots = Number.MAX_SAFE_INTEGER;
  daemonPid = 0;
  #daemonId: string | null = null;
  bus: Pm2Bus | null = null;
  #receiver: Receiver | null = null;
  #partial = new Map<string, string>();
  /** Apps of the current run: pid → identity at start (so a reused pid is never signalled). */
  #apps = new Map<number, string | null>();
  #seq = 0;

  constructor(
    private readonly pm2: typeof import("pm2"),
    private readonly o: Pm2Options,
  ) {}

  get serverPid(): number {
    return this.daemonPid;
  }

  /** Read the daemon's pid file (written by `connect`, also when it failed half-way). */
  adoptDaemon(): void {
    try {
      this.daemonPid = Number(readFileSync(`${this.o.home}/pm2.pid`, "utf8").trim()) || 0;
      this.#daemonId = this.daemonPid ? identity(this.daemonPid) : null;
    } catch {
      // no daemon was started
    }
  }

  listen(): void {
    this.bus!.on("log:out", ({ process: { name }, data }) => {
      const receivedAt = preciseNow();
      const r = this.#receiver;
      if (!r?.handles.has(name)) return;
      if (!r.texts) return r.count(name, countNewlines(data));
      const parts = ((this.#partial.get(name) ?? "") + data).split("\n");
      this.#partial.set(name, parts.pop()!);
      r.count(name, parts.length);
      r.texts(name, parts, receivedAt);
    });
  }

  async start(_slot: number, args: string[]): Promise<Started> {
    const name = `bench-${++this.#seq}`;
    const apps = await call<Pm2App[]>((cb) =>
      this.pm2.start({ script: PRINTER, args, name, cwd: this.o.cwd, autorestart: false, node_args: printerNodeFlags(args) }, cb as never),
    );
    const app = apps[0];
    const pid = app?.process?.pid ?? app?.pm2_env?.pid;
    if (!pid) throw new Error(`pm2.start ${name}: no pid in the answer`);
    this.#apps.set(pid, identity(pid));
    return { handle: name, pid, logPath: app?.pm2_env?.pm_out_log_path ?? `${this.o.home}/logs/${name}-out.log` };
  }

  async kill(handle: string): Promise<void> {
    await call<unknown>((cb) => this.pm2.delete(handle, cb));
  }

  setReceiver(receiver: Receiver | null): void {
    this.#receiver = receiver;
    this.#partial.clear();
  }

  async reset(): Promise<void> {
    // Fails with "process or namespace not found" when there is nothing to delete.
    await call<unknown>((cb) => this.pm2.delete("all", cb)).catch(() => undefined);
    this.#apps.clear();
  }

  async close(): Promise<void> {
    try {
      this.bus?.close();
    } catch {
      // already closed
    }
    if (!this.daemonPid) this.adoptDaemon();
    if (this.daemonPid) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => (timer = setTimeout(r, 15_000)));
      await Promise.race([call<unknown>((cb) => this.pm2.killDaemon(cb as never)).catch(() => undefined), timeout]);
      clearTimeout(timer);
    }
    try {
      this.pm2.disconnect();
    } catch {
      // not connected
    }
    // Apps run detached (each leads its own group): kill the groups, children included, but
    // only those whose leader is still the process we started.
    const alive = (pid: number, id: string | null) => id !== null && identity(pid) === id;
    const targets = [...this.#apps].filter(([pid, id]) => alive(pid, id)).map(([pid]) => -pid);
    if (alive(this.daemonPid, this.#daemonId)) targets.push(this.daemonPid);
    for (const target of targets) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    }
  }
}
