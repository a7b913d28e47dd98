/**
 * The real interactive Claude Code (npm dev dependency, no `-p`) in tmux, in a real lane
 * worktree, against the local model server: the trust gate (allowlisted vs. gated until a
 * human resolves it), the API-key dialog answered on screen, a prompt whose scripted model
 * answer runs real Bash and Write tools, and a misdelivered prompt replayed to a relaunched
 * Claude Code that then takes it exactly once.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isAppError } from "@/lib/errors";
import { startModelServer, type ModelServer } from "../../model-server/model-server";
import type { Conversation } from "../../model-server/script";
import { makeLaneFixture, type LaneFixture } from "../agent.testing";
import { prepareInteractiveClaude, type InteractiveClaudeSettings } from "./claude-interactive";
import { FIXTURES, makeSessionHarness, nextEvent, type SessionHarness } from "./interactive.testing";
import { TrustPolicy } from "./trust-policy";

let fx: LaneFixture;
let h: SessionHarness;
let server: ModelServer;

const TOOL_TURNS: Conversation["turns"] = [
  { text: "Running a command first.", toolCalls: [{ name: "Bash", input: { command: "echo bash-was-here > bash.txt", description: "write bash.txt" } }] },
  { text: "Now writing the file.", toolCalls: [{ name: "Write", input: { file_path: "out.txt", content: "written by interactive claude\n" } }] },
  { text: "Done: both files are written." },
];

beforeEach(async () => {
  fx = await makeLaneFixture();
  h = await makeSessionHarness();
  server = await startModelServer({ script: [{ name: "lane", match: "LANE-TASK", turns: TOOL_TURNS }] });
});
afterEach(async () => {
  await h.cleanup();
  await server.close();
  await fx.cleanup();
});

const claude = (settings: InteractiveClaudeSettings = {}) => prepareInteractiveClaude({ laneDir: fx.laneDir, worktreePath: fx.worktree }, { anthropicBaseUrl: server.url, ...settings });
/** Requests that were turns of the scripted lane conversation (not probes or side requests). */
const laneTurns = () => server.requests.filter((r) => r.conversation === "lane" && !r.side).map((r) => r.turnIndex);

/** A policy that lets a test await its decision, so "stays gated" is checked after the check ran. */
class RecordingPolicy extends TrustPolicy {
  readonly decided: Promise<boolean>;
  #decide!: (v: boolean) => void;
  constructor(paths: string[]) {
    super(paths);
    this.decided = new Promise((r) => (this.#decide = r));
  }
  override async isAllowed(p: string): Promise<boolean> {
    const ok = await super.isAllowed(p);
    this.#decide(ok);
    return ok;
  }
}

describe("interactive Claude Code under tmux", () => {
  it("allowlisted worktree: trust resolved automatically, API-key dialog answered, a prompt runs real tools", async () => {
    const t0 = Date.now();
    const cmd = await claude();
    const s = h.session("claude-allow", { trustPolicy: new TrustPolicy([fx.worktree]) });
    const trust = nextEvent(s, "trust_required");
    const resolved = nextEvent(s, "trust_resolved");
    const blocked = nextEvent(s, "blocked");
    await s.start(cmd.argv, cmd.cwd, cmd.env);
    expect(await trust).toEqual({ path: fx.worktree });
    expect(await resolved).toEqual({ by: "allowlist" });
    const dialog = await blocked;
    expect(dialog.text).toContain("Detected a custom API key in your environment");
    expect(dialog.text).toContain("Do you want to use this API key?");
    expect(dialog.failureClass).toBeUndefined();
    const tTrust = Date.now() - t0;

    const ready = nextEvent(s, "ready_for_prompt");
    await s.answerDialog(1);
    expect(await ready).toEqual({ turn: 0 });
    const tReady = Date.now() - t0;

    const idle = nextEvent(s, "ready_for_prompt", 60_000);
    expect(await s.sendPrompt("LANE-TASK: create bash.txt and out.txt")).toEqual({ outcome: "accepted", attempts: 1 });
    expect(await idle).toEqual({ turn: 1 });
    expect(s.screen).toContain("● Done: both files are written.");
    expect(await fs.readFile(path.join(fx.worktree, "bash.txt"), "utf8")).toBe("bash-was-here\n");
    expect(await fs.readFile(path.join(fx.worktree, "out.txt"), "utf8")).toBe("written by interactive claude\n");
    expect(laneTurns()).toEqual([0, 1, 2]);
    expect(h.log.map(([e]) => e).filter((e) => e !== "busy")).toEqual(["trust_required", "trust_resolved", "blocked", "ready_for_prompt", "prompt_sent", "prompt_accepted", "ready_for_prompt"]);
    console.log(`[timing] interactive claude: trust resolved+dialog ${tTrust} ms, ready ${tReady} ms, prompt answered ${Date.now() - t0} ms`);
  });

  it("a worktree outside the allowlist stays gated (sendPrompt: not_ready) until a human resolves trust", async () => {
    const policy = new RecordingPolicy([path.join(fx.dir, "repo")]);
    const cmd = await claude({ approveApiKey: true });
    const s = h.session("claude-gated", { trustPolicy: policy });
    const trust = nextEvent(s, "trust_required");
    await s.start(cmd.argv, cmd.cwd, cmd.env);
    expect(await trust).toEqual({ path: fx.worktree });
    expect(await policy.decided).toBe(false);
    expect(s.state).toBe("trust_required");
    const err = await s.sendPrompt("LANE-TASK: too early").catch((e: unknown) => e);
    expect(isAppError(err) && err.code).toBe("not_ready");
    expect(await s.answerDialog(1).catch((e: unknown) => isAppError(e) && e.code)).toBe("conflict");

    const ready = nextEvent(s, "ready_for_prompt");
    await s.resolveTrust("human");
    // With the key approved beforehand, no API-key dialog comes between trust and the input line.
    expect(await ready).toEqual({ turn: 0 });
    expect(h.log.map(([e]) => e)).toEqual(["trust_required", "trust_resolved", "ready_for_prompt"]);
    expect(h.log[1]).toEqual(["trust_resolved", { by: "human" }]);
    expect(laneTurns()).toEqual([]);
  });

  it("a prompt that lands in a shell is replayed once to a relaunched Claude Code, which takes it exactly once", async () => {
    const launchLog = path.join(fx.dir, "launches.log");
    const cmd = await claude({ approveApiKey: true });
    const s = h.session("claude-misdelivery", { trustPolicy: new TrustPolicy([fx.worktree]), readyTimeoutMs: 40_000 });
    const first = nextEvent(s, "ready_for_prompt");
    // First launch: an agent frame over a shell; the relaunch for the replay runs the real Claude Code.
    await s.start(["/bin/sh", path.join(FIXTURES, "agent-then-shell.sh"), launchLog, "recover", ...cmd.argv], cmd.cwd, cmd.env);
    await first;
    const idle = new Promise<void>((resolve) => s.on("ready_for_prompt", ({ turn }) => turn === 1 && resolve()));
    expect(await s.sendPrompt("LANE-TASK: create bash.txt and out.txt")).toEqual({ outcome: "accepted", attempts: 2 });
    await idle;
    const events = h.log.map(([e]) => e).filter((e) => e !== "busy");
    expect(events).toEqual(["ready_for_prompt", "prompt_sent", "prompt_misdelivery", "trust_required", "trust_resolved", "ready_for_prompt", "prompt_sent", "prompt_accepted", "ready_for_prompt"]);
    expect(h.log.find(([e]) => e === "prompt_misdelivery")![1]).toEqual({ evidence: "/bin/sh: 1: LANE-TASK:: not found", attempt: 1, replaying: true });
    expect((await fs.readFile(launchLog, "utf8")).trim().split("\n")).toHaveLength(2);
    // The model saw the prompt once (turn 0 once), and the tools ran.
    expect(laneTurns()).toEqual([0, 1, 2]);
    expect(await fs.readFile(path.join(fx.worktree, "out.txt"), "utf8")).toBe("written by interactive claude\n");
  });
});
