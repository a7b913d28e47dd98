/**
 * stdout and stderr in the order the process wrote them. What is guaranteed is in
 * docs/architecture.md ("Order across stdout and stderr"); each test checks one guarantee
 * exactly:
 * - the tailer reads first the stream whose write the kernel reported first (a real LogTailer
 *   over real files and a real inotify watch; the test is the writer, so the order of its writes
 *   is known and every write's event is queued before the tailer runs);
 * - with real processes, every view (live, sorted live, `tail`, range reads) gives one order, each
 *   stream in its own order;
 * - writes separated by a tailer read keep their order, live, read back and over a restart.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { LogLine } from "@/lib/api";
import { decodeChunk } from "@/lib/log-chunk";
import { compareLogLines } from "@/lib/log-order";
import { ProcLog } from "./proc-log";
import { harnessPerTest, type Instance } from "./supervisor.testing";
import { LogTailer } from "./tailer";
import { processPaths } from "./wrapper";

const cwd = os.tmpdir();

const node = (script: string) => ["node", "-e", script];
const texts = (lines: readonly LogLine[]) => lines.map((l) => l.text);
const sorted = (lines: readonly LogLine[]) => [...lines].sort(compareLogLines);

/** Every line of a process read back through the range API (both streams), merged the way the views merge. */
async function readBack(inst: Instance, id: string): Promise<LogLine[]> {
  const pages = await Promise.all((["stdout", "stderr"] as const).map((stream) => inst.sup.readLog(id, { stream, limit: 100_000 })));
  return sorted(pages.flatMap((p) => p.lines));
}

/** Every way a process's lines reach a person, each as texts: live as published, live as the views sort it, `tail`, range reads. */
async function allViews(inst: Instance, id: string) {
  const live = inst.lines.filter((l) => l.processId === id);
  return { published: texts(live), liveSorted: texts(sorted(live)), tail: texts(await inst.sup.tail(id, 1000)), readBack: texts(await readBack(inst, id)) };
}

/** Run `script` `runs` times, `parallel` at once, and return every run's views. */
async function runMany(a: Instance, script: string, runs: number, parallel: number) {
  const results: Awaited<ReturnType<typeof allViews>>[] = [];
  for (let i = 0; i < runs; i += parallel) {
    const ids = await Promise.all(Array.from({ length: Math.min(parallel, runs - i) }, async () => (await a.sup.start({ laneId: null, role: "worker", argv: node(script), cwd, stdin: "null" })).id));
    for (const id of ids) await a.exitOf(id);
    for (const id of ids) results.push(await allViews(a, id));
  }
  return results;
}

/** A real tailer following one process directory that the test writes itself. */
function followed(opts: { readBudget?: number; watchFirst: boolean }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lb-order-"));
  const paths = processPaths(dir, "p");
  mkdirSync(paths.dir, { recursive: true });
  const fds = { stdout: openSync(paths.stdout, "a"), stderr: openSync(paths.stderr, "a") };
  const lines: LogLine[] = [];
  let onLine = () => {};
  const tailer = new LogTailer({
    flushDelayMs: 0, pollMs: 60_000, readBudget: opts.readBudget ?? 64 * 1024, partialDelayMs: 60_000,
    onChunks: (_log, chunks) => {
      for (const c of chunks) lines.push(...decodeChunk("p", c));
      onLine();
    },
    onPartial: () => {}, onExitFile: () => {}, onWarning: (_log, m) => { throw new Error(m); },
  });
  let log: ProcLog | null = null;
  const follow = () => {
    log = new ProcLog("p", null, paths, null, (m) => { throw new Error(m); });
    tailer.add(log);
  };
  if (opts.watchFirst) tailer.watchEarly("p", paths.dir);
  return {
    lines, follow,
    write: (stream: "stdout" | "stderr", text: string) => writeSync(fds[stream], text),
    /** Resolves once `n` lines have been published. */
    published: (n: number) => new Promise<void>((resolve) => {
      onLine = () => lines.length >= n && resolve();
      onLine();
    }),
    close() {
      tailer.stop();
      log?.close();
      closeSync(fds.stdout);
      closeSync(fds.stderr);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe("order across stdout and stderr", () => {
  for (const watchFirst of [true, false]) {
    it(`reads first the stream written first, one switch of stream between two reads (${watchFirst ? "watched before the writes, followed after" : "followed before the writes"})`, async () => {
      for (const [first, then] of [["stderr", "stdout"], ["stdout", "stderr"]] as const) {
        const f = followed({ watchFirst });
        try {
          if (!watchFirst) f.follow();
          f.write(first, "one\n");
          f.write(then, "two\n");
          f.write(then, "three\n");
          if (watchFirst) f.follow();
          await f.published(3);
          expect(f.lines.map((l) => [l.stream, l.text, l.seq])).toEqual([[first, "one", 0], [then, "two", 1], [then, "three", 1]]);
        } finally {
          f.close();
        }
      }
    });
  }

  it("a burst bigger than one read on one stream, then a line on the other: the other waits for the burst", async () => {
    const burst = Array.from({ length: 2000 }, (_, i) => `burst line ${i}`);
    for (const [many, one] of [["stdout", "stderr"], ["stderr", "stdout"]] as const) {
      const f = followed({ readBudget: 4096, watchFirst: false });
      try {
        f.follow();
        f.write(many, burst.map((l) => `${l}\n`).join(""));
        f.write(one, "after\n");
        await f.published(burst.length + 1);
        expect(f.lines.map((l) => l.text)).toEqual([...burst, "after"]);
        expect([...f.lines].sort(compareLogLines).map((l) => l.text)).toEqual([...burst, "after"]);
      } finally {
        f.close();
      }
    }
  });

  describe("with real processes", () => {
    const t = harnessPerTest();

    it("real processes writing both streams at once: every view gives the same order, each stream in its own", async () => {
      for (const script of ["console.log('one');console.log('two');console.error('three')", "console.error('one');console.log('two');console.log('three')"]) {
        for (const r of await runMany(t.a, script, 5, 5)) {
          expect(r.liveSorted).toEqual(r.published);
          expect(r.tail).toEqual(r.published);
          expect(r.readBack).toEqual(r.published);
          expect([...r.published].sort()).toEqual(["one", "three", "two"]);
          const stdout = script.startsWith("console.error") ? ["two", "three"] : ["one", "two"];
          expect(r.published.filter((t) => stdout.includes(t))).toEqual(stdout);
        }
      }
    }, 120_000);

    /**
     * A process that runs steps given on its stdin; a step is lines written synchronously to one
     * stream (`o3`: three to stdout, `e2`: two to stderr). The next step is sent once the tailer has
     * published the last one, so every switch of stream is separated by a tailer read.
     */
    const STEPPER = `const rl=require('readline').createInterface({input:process.stdin});let n=0;
  rl.on('line',(s)=>{if(s==='end')process.exit(0);for(const part of s.split(' ')){const w=part[0]==='o'?process.stdout:process.stderr;for(let k=0;k<Number(part.slice(1));k++)w.write((part[0]==='o'?'out ':'err ')+(n++)+'\\n')}});`;

    it("random interleavings, every switch of stream separated by a tailer read: exact order everywhere, also after a server restart", async () => {
      let seed = 42;
      const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
      const { a, h } = t;
      const v = await a.sup.start({ laneId: null, role: "worker", argv: node(STEPPER), cwd });
      const want: string[] = [];
      const RESTART_AT = 30;
      let inst = a;
      let writtenBeforeRestart = 0;
      for (let step = 0; step < 60; step++) {
        if (step === RESTART_AT) {
          // The server restarts between two steps: the new one continues the recorded order.
          writtenBeforeRestart = want.length;
          await h.stop(inst);
          inst = await h.boot();
          await inst.sup.recover();
        }
        // 1..4 lines to a random stream.
        const parts = [`${rand(2) === 0 ? "o" : "e"}${1 + rand(4)}`];
        for (const p of parts) for (let k = 0; k < Number(p.slice(1)); k++) want.push(`${p[0] === "o" ? "out" : "err"} ${want.length}`);
        await inst.sup.writeStdin(v.id, `${parts.join(" ")}\n`);
        const seen = () => inst.lines.filter((l) => l.processId === v.id).length;
        await inst.until(() => seen() >= want.length - writtenBeforeRestart, `step ${step}`);
      }
      await inst.sup.writeStdin(v.id, "end\n");
      await inst.exitOf(v.id);
      const views = await allViews(inst, v.id);
      expect(views.tail).toEqual(want);
      expect(views.readBack).toEqual(want);
      // Live on the second server: the lines written after the restart, in order.
      expect(views.published).toEqual(want.slice(writtenBeforeRestart));
      expect(views.liveSorted).toEqual(want.slice(writtenBeforeRestart));
    }, 180_000);
  });
});
