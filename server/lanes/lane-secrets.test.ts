/**
 * Secrets stay where they are needed: real lanes of each engine through the real runtime, with
 * model API keys and Laneboard secrets in the server's environment. A `shell` or `script` lane
 * (and a check) sees none of them; an agent engine sees only its own API's key; process views and
 * lane events show no key or token.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REDACTED } from "@/lib/redact";
import { SH } from "../recovery/lane-fixtures.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "../testing/runtime-harness";

const suffix = Math.random().toString(36).slice(2).padEnd(12, "x");
const SECRETS = {
  ANTHROPIC_API_KEY: `sk-ant-test-${suffix}-anthropic`,
  OPENAI_API_KEY: `sk-test-openai-${suffix}`,
  LANEBOARD_ANTHROPIC_API_KEY: `configured-anthropic-${suffix}`,
  LANEBOARD_TOKEN: `lb-token-in-env-${suffix}`,
};
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const [name, value] of Object.entries(SECRETS)) {
    saved[name] = process.env[name];
    process.env[name] = value;
  }
});
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

const h = runtimePerTest();

/** `NAME=value` lines printed by `env` into the lane's output. */
async function printedEnv(laneId: string): Promise<Map<string, string>> {
  const logs = await h.rt.lanes.logs(laneId, { limit: 10_000 });
  return new Map(logs.lines.map((l) => l.text).filter((t) => /^[A-Z_][A-Z0-9_]*=/.test(t)).map((t) => [t.slice(0, t.indexOf("=")), t.slice(t.indexOf("=") + 1)]));
}

/** Runs `env` into `file` as the engine's program (the engine's own arguments follow and are ignored by `sh -c`). */
const envTo = (file: string) => ["sh", "-c", `env > '${file}'`];

async function envFile(file: string): Promise<Map<string, string>> {
  const text = await fs.readFile(file, "utf8");
  return new Map(text.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

function expectNoSecrets(env: Map<string, string>): void {
  expect(env.get("PATH")).toBeTruthy(); // the environment was printed at all
  for (const [name, value] of Object.entries(SECRETS)) {
    expect(env.has(name), name).toBe(false);
    expect([...env.values()].join("\n")).not.toContain(value);
  }
}

describe("a lane's process gets only the secrets its engine uses", () => {
  it("a shell lane printing its environment, and its check, see no model key and no Laneboard secret", async () => {
    const checkFile = path.join(h.dataDir, "check-env.txt");
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, ["env"], { acceptance: [{ level: "merge_ready", argv: envTo(checkFile) }] }));
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
    expectNoSecrets(await printedEnv(lane.id));
    expectNoSecrets(await envFile(checkFile));
  });

  it("a script lane's program sees no model key and no Laneboard secret", async () => {
    const lane = await h.rt.lanes.create({ objective: "print env", repo: h.repoId, branch: `lane/script-env-${suffix}`, worker: { engine: "script", script: [{ op: "run", argv: ["env"] }] } });
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
    expectNoSecrets(await printedEnv(lane.id));
  });

  it("a claude lane sees the Anthropic key and not the OpenAI key; a codex lane the reverse", async () => {
    const claudeFile = path.join(h.dataDir, "claude-env.txt");
    const codexFile = path.join(h.dataDir, "codex-env.txt");
    const claude = await h.rt.lanes.create({ objective: "c", repo: h.repoId, branch: `lane/claude-env-${suffix}`, worker: { engine: "claude", prompt: "hi", command: envTo(claudeFile) } });
    const codex = await h.rt.lanes.create({ objective: "x", repo: h.repoId, branch: `lane/codex-env-${suffix}`, worker: { engine: "codex", prompt: "hi", command: envTo(codexFile) } });
    await Promise.all([claude, codex].map((l) => waitForLane(h.rt, l.id, isTerminal)));

    const c = await envFile(claudeFile);
    expect(c.get("ANTHROPIC_API_KEY")).toBe(SECRETS.ANTHROPIC_API_KEY);
    for (const name of ["OPENAI_API_KEY", "LANEBOARD_ANTHROPIC_API_KEY", "LANEBOARD_TOKEN"]) expect(c.has(name), name).toBe(false);
    const x = await envFile(codexFile);
    expect(x.get("OPENAI_API_KEY")).toBe(SECRETS.OPENAI_API_KEY);
    for (const name of ["ANTHROPIC_API_KEY", "LANEBOARD_ANTHROPIC_API_KEY", "LANEBOARD_TOKEN"]) expect(x.has(name), name).toBe(false);
  });
});

describe("no view or event shows a key or token", () => {
  it("GET /api/v1/processes/:id – the command and env of a process are shown redacted; its lane events too", async () => {
    const issued = `lb_${"A".repeat(43)}`;
    const argv = SH(`echo "$API_TOKEN $PLAIN" >/dev/null; true # ${SECRETS.ANTHROPIC_API_KEY} Bearer abcdefgh12345678 ${issued} sk-proj-abcdefghijklmnopqrst`);
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, argv, {
        worker: { engine: "shell", command: argv, env: { API_TOKEN: "anything-at-all", PLAIN: "visible", HOLDS_KEY_VALUE: SECRETS.OPENAI_API_KEY } },
        acceptance: [{ level: "merge_ready", argv: ["sh", "-c", `true ${h.rt.auth.adminToken}`] }],
      }),
    );
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
    const procs = await h.rt.db.process.findMany({ where: { laneId: lane.id } });
    const views = await Promise.all(procs.map((p) => h.rt.supervisor.get(p.id)));
    const worker = views.find((v) => v.role === "worker")!;
    expect(worker.env).toEqual({ API_TOKEN: REDACTED, PLAIN: "visible", HOLDS_KEY_VALUE: REDACTED });
    const shown = worker.command.join(" ");
    expect(shown).toContain(`# ${REDACTED} Bearer ${REDACTED} ${REDACTED} ${REDACTED}`);
    const events = (await h.rt.events.listAfter(0, { laneId: lane.id })).events;
    const everything = JSON.stringify({ views, events });
    for (const secret of [SECRETS.ANTHROPIC_API_KEY, SECRETS.OPENAI_API_KEY, "anything-at-all", "abcdefgh12345678", issued, "sk-proj-abcdefghijklmnopqrst", h.rt.auth.adminToken]) {
      expect(everything, secret).not.toContain(secret);
    }
    expect(JSON.stringify(events)).toContain(REDACTED); // the process.started / check.started commands were redacted, not dropped
  });
});
