import fs from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { tempDirPerTest } from "../git/git.testing";

const MAIN = path.join(import.meta.dirname, "main.ts");
const tmp = tempDirPerTest();

/** Run the CLI (from the app dir, where tsx resolves). */
const cli = (args: string[]) => execa(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: path.join(import.meta.dirname, "../.."), reject: false });

describe("model server CLI", () => {
  it("serves a script file, logs each request, and stops on SIGTERM", async () => {
    const script = path.join(tmp.dir, "script.json");
    await fs.writeFile(script, JSON.stringify({ conversations: [{ name: "demo", turns: [{ text: "hello from the file" }] }] }));
    const proc = cli(["--port", "0", "--script", script]);
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on("data", (d: Buffer) => {
        const m = /listening on (http:\/\/\S+)/.exec(String(d));
        if (m) resolve(m[1]!);
      });
      proc.once("exit", () => reject(new Error("exited before listening")));
    });
    const res = await fetch(`${url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }) });
    expect(await res.json()).toMatchObject({ content: [{ type: "text", text: "hello from the file" }] });
    proc.kill("SIGTERM");
    const done = await proc;
    expect(done.exitCode).toBe(0);
    expect(String(done.stdout)).toContain("POST /v1/messages → 200 [demo#0]");
  });

  it("exits 2 for a missing or malformed script", async () => {
    expect((await cli([])).exitCode).toBe(2);
    const bad = path.join(tmp.dir, "bad.json");
    await fs.writeFile(bad, JSON.stringify([{ name: "x", turns: [] }]));
    const res = await cli(["--script", bad]);
    expect(res.exitCode).toBe(2);
    expect(String(res.stderr)).toMatch(/bad script file/);
  });
});
