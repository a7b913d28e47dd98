/**
 * Helpers of the chaos e2e (chaos.spec.ts): the printing command its lanes run, the check of a
 * lane's log line by line, the server's git children read from /proc (to land a SIGKILL inside a
 * merge), and condition waits that poll faster than `expect.poll` where a moment is short.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/**
 * A POSIX `sh` (dash) script that waits for `goFile` to exist (so every lane prints at once, however
 * long creating them all took), then prints `n-1`, `n-2`, … at `rate` lines per second, in batches of
 * `rate` lines overlapped with a `sleep 1` started before each batch (one fork per second), until
 * it has printed `max` lines; then idles (alive) until `stopFile` exists, prints `end-<count>` and
 * exits 0. A failed write (a full disk) ends it at once with 75 (EX_TEMPFAIL): it never skips a line.
 * With `trapTerm` it answers SIGTERM by printing `term-<count>` and printing on (a kill must then
 * wait for its grace period).
 */
export function printerScript(o: { rate: number; max: number; goFile: string; stopFile: string; trapTerm?: boolean }): string {
  return [
    "i=0; s=",
    `until [ -e '${o.goFile}' ]; do sleep 1; done`,
    o.trapTerm ? "trap 'echo term-$i' TERM" : "",
    `while [ $i -lt ${o.max} ]; do`,
    "  sleep 1 & s=$!; j=0",
    `  while [ $j -lt ${o.rate} ]; do i=$((i+1)); echo "n-$i" || { kill $s; exit 75; }; j=$((j+1)); done`,
    "  wait $s",
    "done",
    `until [ -e '${o.stopFile}' ]; do sleep 1; done`,
    'echo "end-$i"',
  ].filter(Boolean).join("\n");
}

/** What a printer's stdout says, or why it is wrong. */
export interface PrinterLog {
  /** Numbered lines, in order: n-1 … n-count, each exactly once. */
  count: number;
  /** The `end-<count>` line was printed (the printer finished normally). */
  ended: boolean;
  /** `term-<i>` lines (SIGTERMs it answered). */
  terms: number;
  /** A last line cut short by a failed write (only after a full disk). */
  partial: string | null;
}

/**
 * Check a printer's stdout lines: `n-1 … n-K` each once and in order, `term-*` lines anywhere,
 * `end-K` only last; a last line that is a cut-off `n-(K+1)` is reported as `partial`.
 * @throws Error naming the first line lost, doubled or out of place
 */
export function checkPrinterLines(lines: string[], where: string): PrinterLog {
  const out: PrinterLog = { count: 0, ended: false, terms: 0, partial: null };
  lines.forEach((text, i) => {
    const last = i === lines.length - 1;
    if (text.startsWith("term-")) return void out.terms++;
    if (text === `n-${out.count + 1}`) return void out.count++;
    if (last && text === `end-${out.count}`) return void (out.ended = true);
    if (last && `n-${out.count + 1}`.startsWith(text)) return void (out.partial = text);
    throw new Error(`${where}: line ${i + 1} is ${JSON.stringify(text)}, expected n-${out.count + 1} (after ${out.count} numbered lines)`);
  });
  return out;
}

/** The stdout lines of every process of a lane, from `GET /lanes/:id/logs/download` (the server's read-back of its log files). */
export function stdoutOfDownload(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    // "HH:MM:SS.mmm OUT <text>"
    if (line.length >= 17 && line.slice(12, 17) === " OUT ") lines.push(line.slice(17));
  }
  return lines;
}

/** Numbered lines a printer has written so far, from its log file (what the command wrote). */
export function linesWritten(file: string): number {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return 0;
  }
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Live children of `pid` (its main thread's, as libuv spawns from it) with their argv and /proc state letter. */
function childrenOf(pid: number): { pid: number; argv: string[]; state: string }[] {
  let list: string;
  try {
    list = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {
    return [];
  }
  return list.split(" ").filter(Boolean).flatMap((p) => {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").filter(Boolean);
      const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
      return [{ pid: Number(p), argv, state: stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) }];
    } catch {
      return []; // ended while we looked
    }
  });
}

/**
 * The git processes the server at `pid` runs now (not yet reaped): its git calls run as children
 * of its git helper process (server/git/git-helper.mjs), a child of the server.
 */
export function gitCallsOf(pid: number): { pid: number; argv: string[]; state: string }[] {
  const helpers = childrenOf(pid).filter((c) => c.argv.some((a) => a.endsWith("git-helper.mjs")));
  return helpers.flatMap((h) => childrenOf(h.pid)).filter((c) => c.argv[0] === "git" && c.state !== "Z");
}

/**
 * Resolve once `cond()` is true, checking every `everyMs` (1 ms: for moments that last a few
 * milliseconds, such as a git child of the server). @throws Error after `timeoutMs`
 */
export function until(cond: () => boolean, what: string, o: { everyMs?: number; timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (cond()) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`timed out waiting for ${what}`));
      }
    }, o.everyMs ?? 1);
  });
}

/** The commit a ref names in `repo` (null: no such ref). */
export function refSha(repo: string, ref: string): string | null {
  try {
    return execFileSync("git", ["-C", repo, "rev-parse", "--verify", "-q", ref], { encoding: "utf8" }).trim();
  } catch {
    return null;
  }
}

/** Available bytes on the file system holding `dir` (what unprivileged writers get). */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Process groups of every live process whose command line mentions `text` (a spec's own work dir), for cleanup. */
export function groupsMentioning(text: string): number[] {
  const groups = new Set<number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!fs.readFileSync(`/proc/${name}/cmdline`, "utf8").includes(text)) continue;
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      groups.add(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]));
    } catch {
      // ended while we looked
    }
  }
  return [...groups].filter((g) => g > 1 && g !== process.pid);
}
