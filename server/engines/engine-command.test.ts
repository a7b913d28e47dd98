import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WorkerSpecSchema, type WorkerSpec } from "@/lib/task-packet";
import { initRepo, makeTempDir } from "../git/testing";
import { prepareWorker, SCRIPT_AGENT_PATH } from "./engine-command";

let tmp: { dir: string; cleanup: () => Promise<void> };
let ctx: { laneDir: string; worktreePath: string };
beforeEach(async () => {
  tmp = await makeTempDir();
  ctx = { laneDir: path.join(tmp.dir, "lanes", "l1"), worktreePath: await initRepo(path.join(tmp.dir, "wt")) };
});
afterEach(async () => {
  await tmp.cleanup();
});

const spec = (input: unknown): WorkerSpec => WorkerSpecSchema.parse(input);

describe("prepareWorker", () => {
  it("script: writes the steps to <laneDir>/script.json and runs the agent on it with this node", async () => {
    const worker = spec({ engine: "script", script: [{ op: "write", path: "x.txt", content: "hi" }], env: { FOO: "bar" } });
    const prepared = await prepareWorker(worker, ctx);
    const file = path.join(ctx.laneDir, "script.json");
    expect(prepared).toEqual({ argv: [process.execPath, SCRIPT_AGENT_PATH, file], env: { FOO: "bar" } });
    expect(path.isAbsolute(SCRIPT_AGENT_PATH)).toBe(true);
    expect(JSON.parse(await fs.readFile(file, "utf8"))).toEqual(worker.script);

    const [program, ...args] = prepared.argv;
    const res = await execa(program!, args, { cwd: ctx.worktreePath, reject: false });
    expect(res.exitCode).toBe(0);
    expect(await fs.readFile(path.join(ctx.worktreePath, "x.txt"), "utf8")).toBe("hi");
  });

  it("shell: uses the packet's command as the argv", async () => {
    const prepared = await prepareWorker(spec({ engine: "shell", command: ["npm", "test", "--", "$(x)"] }), ctx);
    expect(prepared).toEqual({ argv: ["npm", "test", "--", "$(x)"], env: {} });
  });

  it.each(["claude", "codex", "anthropic"])("%s: not available yet", async (engine) => {
    await expect(prepareWorker(spec({ engine, prompt: "do it" }), ctx)).rejects.toMatchObject({
      code: "invalid_input",
      message: `engine ${engine} is not available yet`,
    });
  });
});
