/**
 * `laneboard lanes …`: list, show, create, kill, restart, merge, logs [-f], events [-f].
 */
import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import type { LaneView, LogLine } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { ENGINES, type TaskPacketInput } from "@/lib/task-packet";
import { followSse } from "@/client/sse";
import type { Ctx } from "./context";

const intArg = (v: string) => {
  if (!/^\d+$/.test(v)) throw new Error(`not a non-negative integer: ${v}`);
  return Number(v);
};

/** One lane as a line: id, state, worker, branch, objective. */
export function laneLine(l: LaneView): string {
  const worker = l.worker ? ` worker:${l.worker.state}` : "";
  const next = l.summary ? ` next:${l.summary.nextAction.action}` : "";
  return `${l.id}  ${l.state.padEnd(8)}${worker}${next}  ${l.branch}  ${l.objective.slice(0, 60)}`;
}

const eventLine = (e: LaneEvent) => `${e.id}  ${e.at}  ${e.type}  ${e.laneId ?? "-"}  ${JSON.stringify(e.payload)}`;
const logLine = (l: LogLine) => (l.stream === "stderr" ? `[err] ${l.text}` : l.text);

/** Read a task packet from a file, or stdin for `-`. */
function readPacket(file: string): TaskPacketInput {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  try {
    return JSON.parse(text) as TaskPacketInput;
  } catch {
    throw new Error(`--packet ${file}: not JSON`);
  }
}

export function lanesCommand(ctx: Ctx): Command {
  const lanes = new Command("lanes").description("list, create and steer lanes");

  lanes
    .command("list")
    .description("every lane (newest last)")
    .option("--repo <id>", "only this repo's lanes")
    .action(ctx.run(async (o: { repo?: string }) => ctx.out.result(await ctx.api().listLanes({ repoId: o.repo }), (ls: LaneView[]) => ls.map(laneLine).join("\n") || "(no lanes)")));

  lanes
    .command("show <lane>")
    .description("one lane: state, worker, summary, checks")
    .action(ctx.run(async (id: string) => ctx.out.result(await ctx.api().getLane(id))));

  lanes
    .command("create")
    .description("create a lane from a task packet (--packet) or from flags; the command after -- is a shell worker's argv")
    .option("--packet <file>", "task packet JSON file, - for stdin")
    .option("--repo <id>", "repo id or registered path")
    .option("--branch <name>", "new branch, e.g. lane/fix-login")
    .option("--objective <text>", "what the lane must achieve")
    .addOption(new Option("--engine <engine>", "worker engine").choices(ENGINES).default("shell"))
    .option("--prompt <text>", "the agent's prompt (agent engines)")
    .option("--idempotency-key <key>", "a retry with the same key returns the first lane")
    .argument("[command...]", "shell engine: the command to run")
    .action(
      ctx.run(async (command: string[], o: { packet?: string; repo?: string; branch?: string; objective?: string; engine: string; prompt?: string; idempotencyKey?: string }) => {
        const packet = o.packet
          ? readPacket(o.packet)
          : ({
              repo: o.repo ?? "",
              branch: o.branch ?? "",
              objective: o.objective ?? "",
              worker: o.engine === "shell" ? { engine: "shell", command } : { engine: o.engine, prompt: o.prompt },
            } as TaskPacketInput);
        ctx.out.result(await ctx.api().createLane(packet, o.idempotencyKey), laneLine);
      }),
    );

  lanes
    .command("kill <lane>")
    .description("SIGTERM the lane's processes, SIGKILL after the grace period")
    .option("--grace-ms <ms>", "grace period", intArg)
    .action(ctx.run(async (id: string, o: { graceMs?: number }) => ctx.out.result(await ctx.api().kill(id, o.graceMs === undefined ? {} : { graceMs: o.graceMs }), laneLine)));

  lanes
    .command("restart <lane>")
    .description("run an ended lane again in the same worktree")
    .option("--idempotency-key <key>")
    .action(ctx.run(async (id: string, o: { idempotencyKey?: string }) => ctx.out.result(await ctx.api().restart(id, o.idempotencyKey), laneLine)));

  lanes
    .command("merge <lane>")
    .description("merge the lane into its base (--check: only say whether it is ready)")
    .option("--check", "merge readiness only")
    .addOption(new Option("--strategy <s>").choices(["ff", "merge", "squash"]))
    .option("--force", "merge even if not green at the required level")
    .option("--idempotency-key <key>")
    .action(
      ctx.run(async (id: string, o: { check?: boolean; strategy?: "ff" | "merge" | "squash"; force?: boolean; idempotencyKey?: string }) => {
        if (o.check) return ctx.out.result(await ctx.api().mergeReadiness(id));
        ctx.out.result(await ctx.api().merge(id, { strategy: o.strategy, force: o.force }, o.idempotencyKey));
      }),
    );

  lanes
    .command("logs <lane>")
    .description("output of the lane's current attempt; -f follows it live until the process ends")
    .option("-f, --follow", "follow live output")
    .option("--limit <n>", "lines", intArg, 200)
    .action(
      ctx.run(async (id: string, o: { follow?: boolean; limit: number }) => {
        const api = ctx.api();
        const logs = await api.laneLogs(id, o.limit);
        if (!o.follow) return ctx.out.result(logs, () => logs.lines.map(logLine).join("\n"));
        for (const l of logs.lines) ctx.out.line(l, logLine(l));
        if (!logs.processId) return;
        // Each stream continues at the last line shown (its offset is exact), which is skipped.
        await Promise.all(
          (["stdout", "stderr"] as const).map(async (stream) => {
            const shown = logs.lines.filter((l) => l.stream === stream).at(-1)?.offset ?? -1;
            const url = api.client.urlFor(`/api/v1/processes/${encodeURIComponent(logs.processId!)}/logs/stream`, { stream, from: Math.max(shown, 0) });
            for await (const m of followSse(url, { headers: api.client.headers(), untilEnd: true })) {
              if (m.event === "end") return;
              for (const l of (JSON.parse(m.data) as { lines: LogLine[] }).lines) if (l.offset > shown) ctx.out.line(l, logLine(l));
            }
          }),
        );
      }),
    );

  lanes
    .command("events [lane]")
    .description("lane events, oldest first (all lanes without <lane>); -f follows them live")
    .option("-f, --follow", "follow live events (server-sent events, resumed after a dropped connection)")
    .option("--after <cursor>", "events after this cursor", intArg)
    .option("--repo <id>", "only this repo's events")
    .option("--types <list>", "only these event types, comma-separated")
    .option("--limit <n>", "at most this many (without -f)", intArg, 500)
    .action(
      ctx.run(async (laneId: string | undefined, o: { follow?: boolean; after?: number; repo?: string; types?: string; limit: number }) => {
        const api = ctx.api();
        const filter = { laneId, repoId: o.repo, types: o.types };
        if (!o.follow) return ctx.out.result(await api.events({ ...filter, after: o.after ?? 0, limit: o.limit }), (r: { events: LaneEvent[] }) => r.events.map(eventLine).join("\n"));
        const url = api.client.urlFor("/api/v1/events/stream", { ...filter, after: o.after ?? (laneId ? 0 : undefined) });
        for await (const m of followSse(url, { headers: api.client.headers() })) {
          const event = JSON.parse(m.data) as LaneEvent;
          ctx.out.line(event, eventLine(event));
        }
      }),
    );

  return lanes;
}
