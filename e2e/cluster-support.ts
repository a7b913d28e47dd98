/**
 * Cluster test helpers: real Laneboard nodes (`server/main.ts` processes, each with its own data
 * dir and an OS-chosen port) on one throwaway PostgreSQL server (scripts/lib/throwaway-postgres.ts,
 * Debian's `postgresql`), and small API helpers. Nothing is faked: nodes find each other only
 * through the database, as on separate machines.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LaneView } from "@/lib/api";
import type { NodesResponse } from "@/lib/node-view";
import type { LaneEvent } from "@/lib/lane-events";
import { startThrowawayPostgres, type ThrowawayPostgres } from "../scripts/lib/throwaway-postgres";
import { TmuxServer, tmuxSocketFor } from "../server/engines/interactive/tmux";
import { readCmdline, signalGroup } from "../server/processes/procfs";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "../server/node-flags";
import { REPO_ROOT, signal, startServer } from "../server/testing/server-process";
import { groupMembers } from "./support";

export interface NodeProcess {
  id: string;
  dataDir: string;
  url: string;
  /** Its admin token (each node has its own, in its data dir). */
  token: string;
  child: ChildProcess;
  /** Everything it printed. */
  output(): string;
}

/** Each node's admin token by its URL, for {@link api}. */
const tokens = new Map<string, string>();

const nodeArgv = (opts: { id: string; databaseUrl: string; args?: string[] }) => ["--database-url", opts.databaseUrl, "--node-id", opts.id, ...(opts.args ?? [])];

/** Start a node on an OS-chosen port and resolve once it listens; rejects with its output if it exits first. */
export async function startNode(opts: { id: string; databaseUrl: string; dataDir?: string; args?: string[]; env?: Record<string, string> }): Promise<NodeProcess> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `laneboard-node-${opts.id}-`));
  const server = await startServer(0, dataDir, nodeArgv(opts), { env: opts.env });
  // Kept beside its data for a look after a failure (the board's URL line is in it too).
  const log = fs.createWriteStream(path.join(dataDir, "node.log"));
  log.write(server.output());
  server.child.stdout!.on("data", (c: Buffer) => log.write(c));
  server.child.stderr!.on("data", (c: Buffer) => log.write(c));
  tokens.set(server.url, server.token);
  return { id: opts.id, dataDir, url: server.url, token: server.token, child: server.child, output: server.output };
}

/**
 * A spec's cluster: a throwaway PostgreSQL server with one database, and the nodes started on it
 * (all SIGKILLed by {@link ClusterFixture.stop}).
 */
/**
 * A node's flags in these specs: `--worker-cap cap`, a short lease (`leaseMs`, so a lost node is
 * declared within the test) and a 1 s kill grace, then `extra`.
 */
export const nodeArgs = (cap: number, extra: string[] = [], leaseMs = 10_000): string[] => ["--worker-cap", String(cap), "--node-lease-ms", String(leaseMs), "--kill-grace-ms", "1000", ...extra];

export class ClusterFixture {
  readonly running: NodeProcess[] = [];
  #pg: ThrowawayPostgres | null = null;
  #url = "";

  /** Start PostgreSQL (LANEBOARD_CLUSTER_PG_PORT: a fixed port for it; default: one the OS picks). */
  async start(): Promise<{ pg: ThrowawayPostgres; url: string }> {
    this.#pg = await startThrowawayPostgres({ port: Number(process.env.LANEBOARD_CLUSTER_PG_PORT) || undefined });
    this.#url = await this.#pg.createDatabase("cluster");
    return { pg: this.#pg, url: this.#url };
  }

  /** Start node `id` on the fixture's database. */
  async boot(id: string, args: string[], opts: { dataDir?: string; env?: Record<string, string> } = {}): Promise<NodeProcess> {
    const n = await startNode({ id, databaseUrl: this.#url, args, ...opts });
    this.running.push(n);
    return n;
  }

  async stop(): Promise<void> {
    for (const n of this.running) await sigkill(n);
    // A killed node's interactive agents run on in its tmux server (made to outlive a crash): end them.
    for (const n of this.running) await new TmuxServer(tmuxSocketFor(n.dataDir)).killServer();
    // Each node's fence watchdog outlives it by design (server/cluster/fence-watchdog.mjs) and
    // gives up only after ten leases: one of two minutes stayed 20 minutes after the spec. Without
    // its lease file it takes the node as gone for good and exits at its next look.
    for (const n of this.running) fs.rmSync(path.join(n.dataDir, "cluster", "lease"), { force: true });
    // So is every lane process a killed node left: when a test fails before opening its gates,
    // its paused lanes would wait on forever with no watchdog left to end them.
    for (const n of this.running) for (const pgid of laneGroups(n.dataDir)) signalGroup(pgid, "SIGKILL");
    await this.#pg?.stop();
  }
}

/**
 * Process groups of the lane processes still alive in a node's data dir: each process's wrapper
 * pid (`<dataDir>/processes/<id>/pid`, the group id) when it is still that wrapper (its argv
 * names the process dir, server/processes/wrapper.ts), as the fence watchdog finds them.
 */
function laneGroups(dataDir: string): number[] {
  const root = path.join(dataDir, "processes");
  const dirs = fs.existsSync(root) ? fs.readdirSync(root).map((name) => path.join(root, name)) : [];
  return dirs.flatMap((dir) => {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(path.join(dir, "pid"), "utf8").trim());
    } catch {
      return []; // never started
    }
    const named = readCmdline(pid)?.[4];
    return pid > 0 && named !== undefined && path.resolve(named) === path.resolve(dir) ? [pid] : [];
  });
}

/** Run a node that is expected to refuse to start: resolves with its exit code and output. */
export function refusedNode(opts: { id: string; databaseUrl: string; dataDir?: string; args?: string[] }): Promise<{ code: number | null; output: string; listened: boolean }> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `laneboard-node-${opts.id}-`));
  const args = [...SERVER_NODE_FLAGS, "--import", "tsx", "server/main.ts", "--port", "0", "--data-dir", dataDir, "--no-demo", ...nodeArgv(opts)];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: { ...process.env, ...SERVER_ENV, NODE_ENV: "production" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code, output, listened: output.includes("Laneboard on") })));
}

/** SIGKILL a node (like a crash) and wait for it to be gone. */
export const sigkill = (node: NodeProcess): Promise<void> => signal(node.child, "SIGKILL");

/** SIGTERM a node and wait for it to exit. */
export const stopNode = (node: NodeProcess): Promise<void> => signal(node.child, "SIGTERM");

/** JSON API call; throws with the body on a non-2xx status. */
export async function api<T>(base: string, method: string, url: string, body?: unknown): Promise<T> {
  const headers = { "content-type": "application/json", authorization: `Bearer ${tokens.get(base) ?? ""}` };
  const res = await fetch(base + url, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${base}${url} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Every lane (all pages), oldest first. */
export async function lanes(base: string): Promise<LaneView[]> {
  const out: LaneView[] = [];
  for (let cursor: string | null = null; ; ) {
    const page: { items: LaneView[]; next: string | null } = await api(base, "GET", `/api/v1/lanes?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    out.push(...page.items);
    if (!page.next) return out;
    cursor = page.next;
  }
}
export const nodes = (base: string) => api<NodesResponse>(base, "GET", "/api/v1/nodes");

/** Every event after `after`, oldest first (paged). */
export async function allEvents(base: string, after = 0): Promise<LaneEvent[]> {
  const out: LaneEvent[] = [];
  for (let cursor = after; ; ) {
    const page = await api<{ events: LaneEvent[]; cursor: number }>(base, "GET", `/api/v1/events?after=${cursor}&limit=5000`);
    out.push(...page.events);
    if (page.events.length < 5000) return out;
    cursor = page.cursor;
  }
}

/** A git repository with one commit, in a temp dir. */
export function makeRepo(name: string): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), `laneboard-cluster-${name}-`));
  execFileSync("git", ["init", "-q", "--initial-branch=main", repo]);
  execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-q", "--allow-empty", "-m", "init"]);
  return repo;
}

/**
 * The largest number of lanes in `starting`/`running` at once, replaying `lane.state_changed`
 * in cursor order (the order every node publishes), overall and per key (e.g. repo).
 */
export function peakRunning(events: LaneEvent[], keyOf: (laneId: string) => string = () => "all"): Map<string, number> {
  const live = new Set(["starting", "running"]);
  const now = new Map<string, number>();
  const peak = new Map<string, number>();
  for (const e of events) {
    if (e.type !== "lane.state_changed" || !e.laneId) continue;
    const k = keyOf(e.laneId);
    const d = (live.has(e.payload.to) ? 1 : 0) - (live.has(e.payload.from) ? 1 : 0);
    if (d === 0) continue;
    const n = (now.get(k) ?? 0) + d;
    now.set(k, n);
    peak.set(k, Math.max(peak.get(k) ?? 0, n));
  }
  return peak;
}

/** State letter of every live member of process group `pgid` (`T`: stopped), from /proc. */
export function groupStates(pgid: number): string[] {
  return groupMembers(pgid).map((m) => m.state);
}

/** SIGSTOP's bit in /proc/<pid>/status's pending masks (signal n is bit n - 1; signal(7): SIGSTOP is 19 on Linux x86 and arm). */
const SIGSTOP_BIT = 1n << 18n;

/**
 * Whether process group `pgid` is paused: it has live members, and each is stopped (`T`) or has
 * a SIGSTOP pending (`SigPnd`/`ShdPnd` in /proc/<pid>/status, proc(5)), which it takes before it
 * runs another instruction of its own. The second case is a shell stopped inside vfork(2): dash
 * runs `sleep` through vfork, and when the group's SIGSTOP lands between the child's vfork and its
 * exec, the child stops and the shell waits for it in the kernel (state `D`) until SIGCONT.
 */
export function groupPaused(pgid: number): boolean {
  const members = groupMembers(pgid);
  return members.length > 0 && members.every((m) => m.state === "T" || stopPending(m.pid));
}

function stopPending(pid: number): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return false; // gone: the next look decides
  }
  return [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].some((m) => (BigInt(`0x${m[1]}`) & SIGSTOP_BIT) !== 0n);
}

/**
 * Debian's libfaketime (package `faketime`), which shifts a process's wall clock (not its
 * monotonic one) when preloaded, for a node whose clock is really off; null when not installed.
 */
export function libfaketime(): string | null {
  const multiarch = fs.readdirSync("/usr/lib").filter((d) => d.includes("-linux-"));
  for (const d of multiarch) {
    const lib = path.join("/usr/lib", d, "faketime", "libfaketime.so.1");
    if (fs.existsSync(lib)) return lib;
  }
  return null;
}

/** Environment that starts a process with its wall clock `offsetS` seconds off (see {@link libfaketime}). */
export function skewedClockEnv(lib: string, offsetS: number): Record<string, string> {
  return { LD_PRELOAD: lib, FAKETIME: `${offsetS >= 0 ? "+" : ""}${offsetS}s`, FAKETIME_DONT_FAKE_MONOTONIC: "1" };
}

