/**
 * Test harness for the supervisor's integration tests: a temp data dir with a real SQLite
 * database, and supervisors over it that can be "restarted" (shut down without killing, then a
 * fresh instance with a fresh connection over the same directory). Everything a test waits for is
 * awaited as a bus event, never slept for.
 */
import { readFileSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { LogLine } from "@/lib/api";
import { isAppError } from "@/lib/errors";
import type { LaneEvent } from "@/lib/lane-events";
import { EventBus, type BusEvents, type ProcessExit } from "../events/event-bus";
import { EventLog } from "../events/event-log";
import { closeDatabase, openDatabase, type Db } from "../store/db";
import { ProcessSupervisor, type SupervisorOptions } from "./supervisor";
import { outputLines } from "@/lib/log-chunk";
import { PROCESS_MARKER } from "./process-scope";
import { readProcStat } from "./procfs";
import { testDatabaseUrl } from "../testing/test-database";
import { afterEach, beforeEach } from "vitest";

export interface Instance {
  db: Db;
  bus: EventBus;
  events: EventLog;
  sup: ProcessSupervisor;
  /** Every output line published on this instance's bus, in publication order. */
  lines: LogLine[];
  exits: ProcessExit[];
  laneEvents: LaneEvent[];
  /** Resolves when `pred` holds, re-checked on every bus event; rejects after `timeoutMs`. */
  until(pred: () => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** The exit of `processId` as published on this bus. */
  exitOf(processId: string, timeoutMs?: number): Promise<ProcessExit>;
  texts(processId: string, stream?: "stdout" | "stderr"): string[];
}

export interface Harness {
  dataDir: string;
  /** Open a database connection and a supervisor over the data dir. */
  boot(overrides?: Partial<SupervisorOptions>): Promise<Instance>;
  /** Shut the instance down without killing its processes and close its database. */
  stop(inst: Instance): Promise<void>;
  cleanup(): Promise<void>;
}

export const FAST: Partial<SupervisorOptions> = { exitPollMs: 50, logPollMs: 100, retentionIntervalMs: 100, dbSyncMs: 200 };

export async function createHarness(defaults: Partial<SupervisorOptions> = {}): Promise<Harness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-proc-"));
  const live = new Set<Instance>();

  async function boot(overrides: Partial<SupervisorOptions> = {}): Promise<Instance> {
    const db = await openDatabase(dataDir, { databaseUrl: await testDatabaseUrl(dataDir) });
    const bus = new EventBus();
    const events = new EventLog(db, bus);
    const sup = new ProcessSupervisor({
      db, events, bus, dataDir, killGraceMs: 2000, logMaxBytesPerProcess: 64 * 1024 * 1024, logMaxBytesTotal: 1024 * 1024 * 1024,
      ...FAST, ...defaults, ...overrides,
    });
    const lines: LogLine[] = [];
    const exits: ProcessExit[] = [];
    const laneEvents: LaneEvent[] = [];
    const waiters = new Set<() => void>();
    const notify = () => waiters.forEach((w) => w());
    const on = <K extends keyof BusEvents>(k: K, fn: (p: BusEvents[K]) => void) => bus.on(k, (p) => (fn(p), notify()));
    on("process.output", (b) => lines.push(...outputLines(b)));
    on("process.exit", (e) => exits.push(e));
    on("lane.event", (e) => laneEvents.push(e));
    const until = (pred: () => boolean, what: string, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        if (pred()) return resolve();
        const check = () => {
          if (!pred()) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.add(check);
      });
    const inst: Instance = {
      db, bus, events, sup, lines, exits, laneEvents, until,
      async exitOf(id, timeoutMs) {
        await until(() => exits.some((e) => e.processId === id), `exit of ${id}`, timeoutMs);
        return exits.find((e) => e.processId === id)!;
      },
      texts: (id, stream) => lines.filter((l) => l.processId === id && (!stream || l.stream === stream)).map((l) => l.text),
    };
    live.add(inst);
    return inst;
  }

  async function stop(inst: Instance): Promise<void> {
    live.delete(inst);
    await inst.sup.shutdown({ kill: false });
    await inst.events.flush();
    await closeDatabase(inst.db);
  }

  async function cleanup(): Promise<void> {
    for (const inst of live) {
      await inst.sup.shutdown({ kill: true });
      await inst.events.flush();
      await closeDatabase(inst.db);
    }
    live.clear();
    await rm(dataDir, { recursive: true, force: true });
  }

  return { dataDir, boot, stop, cleanup };
}

/** `sh -c <script>`: test commands are fixed strings written here, never built from input. */
export function sh(script: string): string[] {
  return ["sh", "-c", script];
}

/**
 * Live pids (not zombies) whose environment carries the marker of `processId` (see
 * process-scope.ts): what /proc says survived of a supervised process.
 */
export function survivors(processId: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(`${PROCESS_MARKER}=${processId}`)) continue;
    } catch {
      continue;
    }
    const st = readProcStat(Number(name));
    if (st && st.state !== "Z") found.push(Number(name));
  }
  return found;
}

/**
 * Registers hooks (in the enclosing describe, or the file) that give each test a fresh harness
 * and one booted instance; read them through the returned getters inside tests.
 */
export function harnessPerTest(): { readonly h: Harness; readonly a: Instance } {
  let h: Harness | null = null;
  let a: Instance | null = null;
  beforeEach(async () => {
    h = await createHarness();
    a = await h.boot();
  });
  afterEach(async () => {
    await h?.cleanup();
    h = a = null;
  });
  return {
    get h() {
      if (!h) throw new Error("harnessPerTest: read inside a test");
      return h;
    },
    get a() {
      if (!a) throw new Error("harnessPerTest: read inside a test");
      return a;
    },
  };
}

/** The AppError code a promise rejects with. @throws Error when it resolves or rejects with anything else */
export async function appErrorCode(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err.code;
}
