/**
 * InteractiveSession with real tmux and real shells (no model): readiness, not_ready,
 * misdelivery into a shell with exactly one replay, argv safety, exit, kill and reattach.
 * The Claude Code screens are tested in interactive-claude.test.ts.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { listInteractiveSessions } from "./index";
import { FIXTURES, makeSessionHarness, nextEvent, type SessionHarness } from "./interactive.testing";

let h: SessionHarness;
beforeEach(async () => {
  h = await makeSessionHarness();
});
afterEach(() => h.cleanup());

const fakeAgent = ["/bin/sh", path.join(FIXTURES, "fake-agent.sh")];
const agentThenShell = (log: string, ...recover: string[]) => ["/bin/sh", path.join(FIXTURES, "agent-then-shell.sh"), log, ...(recover.length ? ["recover", ...recover] : [])];
const launches = async (log: string) => (await fs.readFile(log, "utf8")).split("\n").filter(Boolean).length;

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const err = await p.then(() => null, (e: unknown) => e);
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

describe("InteractiveSession with shells", () => {
  it("a plain shell is never ready: blocked as a shell, and sendPrompt is refused with not_ready", async () => {
    const s = h.session("plain-sh");
    const blocked = nextEvent(s, "blocked");
    await s.start(["/bin/sh"], h.dir, { PS1: "$ " });
    expect((await blocked).text).toMatch(/a shell owns the terminal/);
    expect(s.state).toBe("shell");
    expect(await rejection(s.sendPrompt("LANE-TASK: do the work"))).toMatchObject({ code: "not_ready" });
    expect(h.log.map(([e]) => e)).not.toContain("ready_for_prompt");
  });

  it("sendPrompt before the agent draws its input line is refused (not_ready), an empty prompt is invalid", async () => {
    const s = h.session("early");
    await s.start(fakeAgent, h.dir);
    expect(await rejection(s.sendPrompt("too early"))).toMatchObject({ code: "not_ready" });
    await nextEvent(s, "ready_for_prompt");
    expect(await rejection(s.sendPrompt("  \n"))).toMatchObject({ code: "invalid_input" });
  });

  it("delivers a prompt to an agent and sees it accepted; a second prompt during delivery is a conflict", async () => {
    const s = h.session("fake");
    const ready = nextEvent(s, "ready_for_prompt");
    await s.start(fakeAgent, h.dir);
    expect(await ready).toEqual({ turn: 0 });
    const first = s.sendPrompt("LANE-TASK: add a README");
    expect(await rejection(s.sendPrompt("another one"))).toMatchObject({ code: "conflict" });
    expect(await first).toEqual({ outcome: "accepted", attempts: 1 });
    expect(s.screen).toContain("● fake agent got: LANE-TASK: add a README");
    expect(await nextEvent(s, "ready_for_prompt")).toEqual({ turn: 1 });
    expect(h.log.map(([e]) => e)).toEqual(["ready_for_prompt", "prompt_sent", "prompt_accepted", "ready_for_prompt"]);
  });

  it("a prompt that lands in a shell: prompt_misdelivery, one relaunch and replay, then blocked (prompt_delivery)", async () => {
    const log = path.join(h.dir, "launches.log");
    const s = h.session("misdeliver", { readyTimeoutMs: 20_000 });
    const ready = nextEvent(s, "ready_for_prompt");
    await s.start(agentThenShell(log), h.dir);
    await ready;
    const result = await s.sendPrompt("LANE-TASK: fix the parser");
    expect(result).toEqual({ outcome: "blocked", attempts: 2, reason: expect.stringContaining("landed in a shell again") });
    const events = h.log.filter(([e]) => e !== "warning");
    expect(events).toEqual([
      ["ready_for_prompt", { turn: 0 }],
      ["prompt_sent", { attempt: 1 }],
      ["prompt_misdelivery", { evidence: "/bin/sh: 1: LANE-TASK:: not found", attempt: 1, replaying: true }],
      ["ready_for_prompt", { turn: 0 }],
      ["prompt_sent", { attempt: 2 }],
      ["prompt_misdelivery", { evidence: "/bin/sh: 1: LANE-TASK:: not found", attempt: 2, replaying: false }],
      ["blocked", { text: expect.stringContaining("/bin/sh: 1: LANE-TASK:: not found"), failureClass: "prompt_delivery" }],
    ]);
    // Exactly one relaunch: the first launch and the one for the replay.
    expect(await launches(log)).toBe(2);
    expect(s.state).toBe("blocked");
    expect(await rejection(s.sendPrompt("again"))).toMatchObject({ code: "not_ready" });
  });

  it("a misdelivered prompt is replayed once to the relaunched agent, which accepts it", async () => {
    const log = path.join(h.dir, "launches.log");
    const s = h.session("recover", { readyTimeoutMs: 20_000 });
    const ready = nextEvent(s, "ready_for_prompt");
    await s.start(agentThenShell(log, ...fakeAgent), h.dir);
    await ready;
    expect(await s.sendPrompt("LANE-TASK: fix the parser")).toEqual({ outcome: "accepted", attempts: 2 });
    expect(h.log.map(([e]) => e)).toEqual(["ready_for_prompt", "prompt_sent", "prompt_misdelivery", "ready_for_prompt", "prompt_sent", "prompt_accepted"]);
    expect(s.screen).toContain("● fake agent got: LANE-TASK: fix the parser");
    expect(await launches(log)).toBe(2);
  });

  it("passes argv, env and cwd to the agent verbatim (nothing is parsed by tmux or a shell)", async () => {
    const s = h.session("argv");
    const cwd = path.join(h.dir, "dir with spaces;");
    await fs.mkdir(cwd);
    const args = ["a;", ";", "$(id)", "two  spaces", "kill-server", "#{pane_id}", "semi\\;"];
    const exited = nextEvent(s, "exited");
    // The leading blank line: tmux scrolls a dead pane by one line to print "Pane is dead".
    await s.start(["/bin/sh", "-c", 'echo; printf "[%s]\\n" "$@" "$PWD" "$LB_VALUE"; exit 7', "sh", ...args], cwd, { LB_VALUE: "x; y $(z)" });
    expect(await exited).toEqual({ code: 7, signal: null, killed: false });
    const shown = s.screen.split("\n").filter((l) => l.startsWith("["));
    expect(shown).toEqual([...args, cwd, "x; y $(z)"].map((a) => `[${a}]`));
    // The launch files (they hold the environment) are removed once the agent is gone.
    await expect(fs.access(s.launchDir)).rejects.toThrow();
  });

  it("reports the exit status of agents that end at once (tmux alone may not know it yet), 128+n after a signal", async () => {
    const cases = [
      ...Array.from({ length: 6 }, (_, i) => ({ argv: ["/bin/sh", "-c", `exit ${i + 1}`], code: i + 1 })),
      { argv: ["/bin/sh", "-c", "kill -TERM $$"], code: 143 },
    ];
    const results = await Promise.all(
      cases.map(async ({ argv }, i) => {
        const s = h.session(`quick-${i}`);
        const exited = nextEvent(s, "exited");
        await s.start(argv, h.dir);
        return (await exited).code;
      }),
    );
    expect(results).toEqual(cases.map((c) => c.code));
  });

  it("kill ends the session once; reattach after a 'restart' finds a live session and its state", async () => {
    const a = h.session("survivor");
    await a.start(fakeAgent, h.dir);
    await nextEvent(a, "ready_for_prompt");
    expect(a.attachCommand()).toBe(`tmux -S ${path.join(h.dir, "tmux.sock")} attach-session -t =survivor`);
    a.detach(); // the server goes away; the tmux session stays
    expect(await listInteractiveSessions(h.dir)).toEqual(["survivor"]);

    const b = h.session("survivor");
    const ready = nextEvent(b, "ready_for_prompt");
    await b.reattach();
    expect(await ready).toEqual({ turn: 0 });
    expect(await b.sendPrompt("after restart")).toEqual({ outcome: "accepted", attempts: 1 });

    const exited = nextEvent(b, "exited");
    await b.kill();
    expect(await exited).toEqual({ code: null, signal: null, killed: true });
    expect(await b.tmux.hasSession("survivor")).toBe(false);
    expect(await rejection(h.session("survivor").reattach())).toMatchObject({ code: "not_found" });
  });

  it("refuses a second session with the same name without touching the first one's launch files", async () => {
    const a = h.session("twin");
    await a.start(fakeAgent, h.dir);
    const argvFile = await fs.readFile(path.join(a.launchDir, "argv"), "utf8");
    expect(await rejection(h.session("twin").start(["/bin/true", "other"], h.dir))).toMatchObject({ code: "already_exists" });
    expect(await fs.readFile(path.join(a.launchDir, "argv"), "utf8")).toBe(argvFile);
    expect(await rejection(h.session("empty").start([], h.dir))).toMatchObject({ code: "invalid_input" });
    expect(await rejection(h.session("eq").start(["A=B", "x"], h.dir))).toMatchObject({ code: "invalid_input" });
    expect(() => h.session("bad name;")).toThrow(/bad session name/);
  });
});
