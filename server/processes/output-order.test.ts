/**
 * stdout and stderr in the order the process wrote them, with real processes: live (publication
 * order and the views' sort), read back (`tail`, the range reads merged by `compareLogLines`), and
 * after a server restart. What is guaranteed is in docs/architecture.md ("Order across stdout
 * and stderr").
 */
import os from "node:os";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LogLine } from "@/lib/api";
import { compareLogLines } from "@/lib/log-order";
import { createHarness, type Harness, type Instance } from "./supervisor.testing";

let h: Harness;
let a: Instance;
const cwd = os.tmpdir();
beforeEach(async () => {
  h = await createHarness();
  a = await h.boot();
});
afterEach(async () => {
  await h.cleanup();
});

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
async function runMany(script: string, runs: number, parallel: number) {
  const results: Awaited<ReturnType<typeof allViews>>[] = [];
  for (let i = 0; i < runs; i += parallel) {
    const ids = await Promise.all(Array.from({ length: Math.min(parallel, runs - i) }, async () => (await a.sup.start({ laneId: null, role: "worker", argv: node(script), cwd, stdin: "null" })).id));
    for (const id of ids) await a.exitOf(id);
    for (const id of ids) results.push(await allViews(a, id));
  }
  return results;
}

describe("order across stdout and stderr", () => {
  it("console.log ×2 then console.error: in order live and read back, 15 of 15 runs", async () => {
    const results = await runMany("console.log('one');console.log('two');console.error('three')", 15, 5);
    const want = ["one", "two", "three"];
    expect(results).toEqual(Array.from({ length: 15 }, () => ({ published: want, liveSorted: want, tail: want, readBack: want })));
  }, 120_000);

  it("console.error then console.log ×2: in order live and read back, 15 of 15 runs", async () => {
    const results = await runMany("console.error('one');console.log('two');console.log('three')", 15, 5);
    const want = ["one", "two", "three"];
    expect(results).toEqual(Array.from({ length: 15 }, () => ({ published: want, liveSorted: want, tail: want, readBack: want })));
  }, 120_000);

  it("a burst bigger than one read of the tailer (about 300 KiB) on one stream, then a line on the other: in order, 5 of 5 runs each way", async () => {
    const burst = Array.from({ length: 20000 }, (_, i) => `burst line ${i}`);
    for (const [many, one] of [["console.log", "console.error"], ["console.error", "console.log"]]) {
      const results = await runMany(`for(let i=0;i<20000;i++)${many}('burst line '+i);${one}('after')`, 5, 5);
      for (const r of results) {
        expect(r.readBack).toEqual([...burst, "after"]);
        expect(r.tail).toEqual([...burst.slice(-999), "after"]);
        expect(r.liveSorted).toEqual([...burst, "after"]);
        expect(r.published).toEqual([...burst, "after"]);
      }
    }
  }, 180_000);

  /**
   * A process that runs steps given on its stdin; a step is a burst written synchronously: lines
   * to one stream, then to the other (one switch). The next step is sent once the tailer has read
   * the last one, so steps are separated by a tailer read and each burst switches stream once.
   */
  const STEPPER = `const rl=require('readline').createInterface({input:process.stdin});let n=0;
rl.on('line',(s)=>{if(s==='end')process.exit(0);for(const part of s.split(' ')){const w=part[0]==='o'?process.stdout:process.stderr;for(let k=0;k<Number(part.slice(1));k++)w.write((part[0]==='o'?'out ':'err ')+(n++)+'\\n')}});`;

  it("random interleavings, steps separated by a tailer read and each switching stream at most once: exact order everywhere, also after a server restart", async () => {
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
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
      // 1..4 lines to a random stream, then (two times in three) 1..4 to the other.
      const first = rand(2) === 0 ? "o" : "e";
      const parts = [`${first}${1 + rand(4)}`];
      if (rand(3) > 0) parts.push(`${first === "o" ? "e" : "o"}${1 + rand(4)}`);
      for (const p of parts) for (let k = 0; k < Number(p.slice(1)); k++) want.push(`${p[0] === "o" ? "out" : "err"} ${want.length}`);
      await inst.sup.writeStdin(v.id, `${parts.join(" ")}\n`);
      const seen = () => inst.lines.filter((l) => l.processId === v.id).length;
      await inst.until(() => seen() >= want.length - writtenBeforeRestart, `step ${step}`);
      // The tailer has caught up: the kernel's events for those writes, delivered in the next
      // I/O phase, have been handled too (two turns of the event loop).
      for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
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
