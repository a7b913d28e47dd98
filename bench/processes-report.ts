/**
 * The report of `npm run bench:processes`: the raw runs → one row per figure (median over runs
 * of each system), the supervisor's performance targets judged, and the markdown table.
 */
import { median, percentile } from "./lib/measure";
import type { LatencyResult, MemoryResult, SpawnKillResult, ThroughputResult } from "./lib/workloads";

type SystemName = "Laneboard" | "PM2";
type Tagged<T> = T & { system: SystemName; run: number };

/** Every run's raw result, per workload. */
export interface Runs {
  spawn: Tagged<SpawnKillResult>[];
  latency: Tagged<LatencyResult>[];
  throughput: Tagged<ThroughputResult>[];
  memory: Tagged<MemoryResult>[];
}

export interface Row {
  label: string;
  unit: "ms" | "lines/s" | "CPU s" | "MB" | "%" | "";
  laneboard: number | null;
  pm2: number | null;
  better: "higher" | "lower";
  /** How many times better Laneboard is than PM2 (> 1: Laneboard better); null without both. */
  advantage: number | null;
  target: string;
  /** null: no target, or not measured. */
  met: boolean | null;
}

interface RowSpec {
  label: string;
  unit: Row["unit"];
  better: Row["better"];
  /** The figure of one system (median over its runs); null if not measured. */
  value: (system: SystemName) => number | null;
  /** An absolute bound for Laneboard's figure (same direction as `better`). */
  bound?: number;
  /** Whether Laneboard must beat PM2 on this row. */
  beatPm2: boolean;
  target: string;
}

const MB = 2 ** 20;

/** Median over one system's runs of `pick`; null when that system has no runs. */
function med<T extends { system: SystemName }>(list: T[], system: SystemName, pick: (r: T) => number): number | null {
  const xs = list.filter((r) => r.system === system).map(pick);
  return xs.length ? median(xs) : null;
}

function judge(spec: RowSpec, lb: number | null, pm2: number | null): boolean | null {
  if (lb === null || (spec.bound === undefined && !spec.beatPm2)) return null;
  const ok = (a: number, b: number) => (spec.better === "higher" ? a >= b : a < b);
  if (spec.bound !== undefined && !ok(lb, spec.bound)) return false;
  if (spec.beatPm2 && pm2 !== null && !(spec.better === "higher" ? lb > pm2 : lb < pm2)) return false;
  return true;
}

/** The table's rows, in order. `throughputProcs`: the process counts of the throughput workload. */
export function buildRows(runs: Runs, o: { pm2: boolean; throughputProcs: number[] }): Row[] {
  const pm2Note = o.pm2 ? "; < PM2" : "";
  const specs: RowSpec[] = [
    { label: "spawn: request → pid, p50", unit: "ms", better: "lower", beatPm2: true, target: "< PM2", value: (s) => med(runs.spawn, s, (r) => percentile(r.spawnMs, 0.5)) },
    { label: "spawn: request → pid, p99", unit: "ms", better: "lower", beatPm2: true, target: "< PM2", value: (s) => med(runs.spawn, s, (r) => percentile(r.spawnMs, 0.99)) },
    { label: "kill: request → group gone, p50", unit: "ms", better: "lower", beatPm2: true, target: "< PM2", value: (s) => med(runs.spawn, s, (r) => percentile(r.killMs, 0.5)) },
    {
      label: "kill: request → group gone, p99 (exits on SIGTERM: no grace used)", unit: "ms", better: "lower", beatPm2: true, bound: 300,
      target: `< 300 ms${pm2Note}`, value: (s) => med(runs.spawn, s, (r) => percentile(r.killMs, 0.99)),
    },
    { label: "delivery latency 50 × 200 lines/s, p50", unit: "ms", better: "lower", beatPm2: true, target: "< PM2", value: (s) => med(runs.latency, s, (r) => r.p50Ms) },
    { label: "delivery latency 50 × 200 lines/s, p99", unit: "ms", better: "lower", beatPm2: true, bound: 100, target: `< 100 ms${pm2Note}`, value: (s) => med(runs.latency, s, (r) => r.p99Ms) },
  ];
  for (const n of o.throughputProcs) {
    const of = runs.throughput.filter((r) => r.procs === n);
    specs.push({
      label: `log throughput, ${n} processes`, unit: "lines/s", better: "higher", beatPm2: true,
      ...(n === 100 ? { bound: 100_000, target: `≥ 100,000${o.pm2 ? "; > PM2" : ""}` } : { target: "> PM2" }),
      value: (s) => med(of, s, (r) => r.linesPerSec),
    });
  }
  for (const n of o.throughputProcs) {
    const of = runs.throughput.filter((r) => r.procs === n);
    specs.push({ label: `server CPU per million lines, ${n} processes`, unit: "CPU s", better: "lower", beatPm2: true, target: "< PM2", value: (s) => med(of, s, (r) => r.cpuSecPerMLines) });
  }
  const worst = (s: SystemName, f: (r: ThroughputResult) => number) => {
    const xs = runs.throughput.filter((r) => r.system === s).map(f);
    return xs.length ? Math.min(...xs) : null;
  };
  specs.push(
    {
      label: "log bytes persisted ÷ written (worst throughput run)", unit: "%", better: "higher", beatPm2: false, bound: 100, target: "100 %",
      value: (s) => worst(s, (r) => (100 * r.persistedBytes) / r.writtenBytes),
    },
    {
      label: "lines delivered to the client ÷ written (worst throughput run)", unit: "%", better: "higher", beatPm2: false, bound: 100, target: "100 %",
      value: (s) => worst(s, (r) => (100 * r.received) / r.written),
    },
    {
      label: "lines delivered more often than written (all throughput and latency runs)", unit: "", better: "lower", beatPm2: false, bound: 0.5, target: "0",
      value: (s) => {
        const xs = [...runs.throughput, ...runs.latency].filter((r) => r.system === s);
        return xs.length ? xs.reduce((n, r) => n + r.extra, 0) : null;
      },
    },
    { label: "server RSS, 100 idle processes (peak)", unit: "MB", better: "lower", beatPm2: false, bound: 250, target: "< 250 MB", value: (s) => med(runs.memory, s, (r) => r.idleRss / MB) },
    { label: "server RSS, 100 chatty processes (200 lines/s each, peak)", unit: "MB", better: "lower", beatPm2: false, bound: 250, target: "< 250 MB", value: (s) => med(runs.memory, s, (r) => r.chattyRss / MB) },
  );
  return specs
    .map((spec) => {
      const lb = spec.value("Laneboard");
      const pm2 = o.pm2 ? spec.value("PM2") : null;
      const advantage = lb === null || pm2 === null || lb === 0 || pm2 === 0 ? null : spec.better === "higher" ? lb / pm2 : pm2 / lb;
      return { label: spec.label, unit: spec.unit, laneboard: lb, pm2, better: spec.better, advantage, target: spec.target, met: judge(spec, lb, pm2) };
    })
    .filter((r) => r.laneboard !== null || r.pm2 !== null);
}

function show(x: number | null, unit: Row["unit"]): string {
  if (x === null || Number.isNaN(x)) return "—";
  const d = unit === "lines/s" || unit === "" ? 0 : unit === "CPU s" || unit === "%" ? 2 : 1;
  return `${x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d })}${unit ? ` ${unit}` : ""}`;
}

/** The rows as a markdown table: row, Laneboard, PM2, ratio, target, met?. */
export function renderTable(rows: Row[]): string {
  const lines = [
    "| row | Laneboard | PM2 | ratio (> 1: Laneboard better) | target | met? |",
    "| --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const ratio = r.advantage === null ? "—" : `${r.advantage.toFixed(2)}×`;
    const met = r.met === null ? "—" : r.met ? "yes" : "**no**";
    lines.push(`| ${r.label} | ${show(r.laneboard, r.unit)} | ${show(r.pm2, r.unit)} | ${ratio} | ${r.target} | ${met} |`);
  }
  return lines.join("\n");
}
