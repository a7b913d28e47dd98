/**
 * The whole log of a lane as plain text, for download: every attempt, every process (worker and
 * checks) in start order under a header naming it and how it ended, each line prefixed with its
 * time and stream, stdout and stderr in the order the views show (lib/log-order.ts). Read page by page
 * from the log files, so a log of millions of lines streams with bounded memory.
 */
import type { LogLine } from "@/lib/api";
import { describeExit } from "@/lib/event-sentence";
import { compareLogLines } from "@/lib/log-order";
import { redactText } from "@/lib/redact";
import type { ProcessSupervisor } from "../processes/supervisor";
import type { Db } from "../store/db";
import { loadLane } from "../records/lane-store";

/** Lines per read. */
const PAGE = 5_000;

const stamp = (ts: number) => new Date(ts).toISOString().slice(11, 23);

/** One stream of one process, read page by page. */
class StreamCursor {
  #buf: LogLine[] = [];
  #from = 0;
  #eof = false;
  constructor(
    private readonly supervisor: Pick<ProcessSupervisor, "readLog">,
    private readonly processId: string,
    private readonly stream: "stdout" | "stderr",
  ) {}

  /** The next line without taking it; null at the end. */
  async peek(): Promise<LogLine | null> {
    if (this.#buf.length === 0 && !this.#eof) {
      const page = await this.supervisor.readLog(this.processId, { stream: this.stream, from: this.#from, limit: PAGE }).catch(() => null);
      if (!page || page.lines.length === 0) this.#eof = true;
      else {
        this.#buf = page.lines;
        this.#from = page.to;
        this.#eof = page.eof;
      }
    }
    return this.#buf[0] ?? null;
  }

  take(): LogLine {
    return this.#buf.shift()!;
  }
}

/**
 * The lane's whole log as text chunks (each a few thousand lines).
 * @throws AppError not_found (before the first chunk)
 */
export async function* exportLaneLog(deps: { db: Db; supervisor: Pick<ProcessSupervisor, "readLog"> }, laneId: string): AsyncGenerator<string> {
  const lane = await loadLane(deps.db, laneId);
  const [procs, workers] = await Promise.all([
    deps.db.process.findMany({ where: { laneId }, orderBy: { createdAt: "asc" } }),
    deps.db.worker.findMany({ where: { laneId }, orderBy: { createdAt: "asc" }, select: { attempt: true, createdAt: true } }),
  ]);
  yield `# Laneboard lane ${lane.id}: ${lane.objective}\n# branch ${lane.branch} (base ${lane.baseBranch}), engine ${lane.engine}, ${procs.length} process(es)\n`;
  for (const p of procs) {
    const attempt = workers.filter((w) => w.createdAt.getTime() <= p.createdAt.getTime()).at(-1)?.attempt ?? 1;
    const how = p.status === "running" || p.status === "starting" ? "still running" : describeExit(p.exitCode, p.signal);
    yield `\n=== attempt ${attempt} · ${p.role} ${p.id}: ${(JSON.parse(p.command) as string[]).map(redactText).join(" ")} — ${how}${p.truncatedBytes ? ` (${p.truncatedBytes} bytes deleted by retention)` : ""} ===\n`;
    const out = new StreamCursor(deps.supervisor, p.id, "stdout");
    const err = new StreamCursor(deps.supervisor, p.id, "stderr");
    let text = "";
    let n = 0;
    for (;;) {
      const [a, b] = [await out.peek(), await err.peek()];
      if (!a && !b) break;
      const line = !b || (a && compareLogLines(a, b) <= 0) ? out.take() : err.take();
      text += `${stamp(line.ts)} ${line.stream === "stderr" ? "ERR" : "OUT"} ${line.text}\n`;
      if (++n % PAGE === 0) {
        yield text;
        text = "";
      }
    }
    if (text) yield text;
  }
}
