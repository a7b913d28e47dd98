/**
 * The `laneboard` CLI as a claw uses it: the real bin (bin/laneboard.mjs) as a child process,
 * `--json` only, against the real route handlers over HTTP and a real runtime. Drives the whole
 * control loop and checks exit codes for not found, refused, timeout, usage and unreachable.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneView, RepoView } from "@/lib/api";
import type { LaneEvent } from "@/lib/lane-events";
import { SERVER_INFO_FILE } from "@/lib/server-info";
import { startHttpRuntime, type HttpTestRuntime } from "@/app/api/_testing/route-server";
import { EXIT } from "./output";

const BIN = path.resolve(import.meta.dirname, "../bin/laneboard.mjs");
let h: HttpTestRuntime;
beforeAll(async () => {
  h = await startHttpRuntime();
});
afterAll(() => h.close());

/** Run the CLI with `--url` of the test server (unless given) and `--json`; returns exit code and parsed stdout. */
async function cli(args: string[], opts: { url?: boolean; env?: Record<string, string> } = {}) {
  const argv = [...(opts.url === false ? [] : ["--url", h.url]), "--json", ...args];
  const r = await execa(process.execPath, [BIN, ...argv], { reject: false, env: { LANEBOARD_URL: "", LANEBOARD_TOKEN: h.rt.auth.adminToken, ...opts.env }, extendEnv: true, timeout: 120_000 });
  let json: unknown = null;
  try {
    json = r.stdout.trim() ? JSON.parse(r.stdout) : null;
  } catch {
    json = r.stdout;
  }
  return { code: r.exitCode, json: json as never, stderr: r.stderr };
}

let seq = 0;
const branch = () => `lane/cli-${process.pid}-${++seq}`;

// Each call starts a Node process (about 1 s of CPU for tsx to load the CLI): generous time on a shared 2-core machine.
describe("laneboard CLI (--json)", { timeout: 400_000 }, () => {
  it("drives the control loop: repos, lanes create, await finished, show, logs, events, restart, merge --check", async () => {
    const repos = await cli(["repos"]);
    expect(repos.code).toBe(EXIT.ok);
    expect((repos.json as RepoView[]).map((r) => r.id)).toContain(h.repoId);

    const created = await cli(["lanes", "create", "--repo", h.repoId, "--branch", branch(), "--objective", "say hello", "--", "sh", "-c", "echo hello from the lane"]);
    expect(created.code).toBe(EXIT.ok);
    const lane = created.json as LaneView;
    expect(lane).toMatchObject({ repoId: h.repoId, engine: "shell" });

    const awaited = await cli(["await", lane.id, "--state", "finished", "--timeout", "60"]);
    expect(awaited.code).toBe(EXIT.ok);
    expect(awaited.json).toMatchObject({ laneId: lane.id, outcome: "reached", matched: ["finished"], lane: { id: lane.id, state: "finished" } });

    const shown = await cli(["lanes", "show", lane.id]);
    expect(shown.json).toMatchObject({ id: lane.id, state: "finished", lastExitCode: 0 });

    const logs = await cli(["lanes", "logs", lane.id]);
    expect((logs.json as { lines: { text: string }[] }).lines.map((l) => l.text)).toContain("hello from the lane");

    const events = await cli(["lanes", "events", lane.id, "--types", "lane.created,lane.finished"]);
    expect((events.json as { events: LaneEvent[] }).events.map((e) => e.type)).toEqual(["lane.created", "lane.finished"]);

    const listed = await cli(["lanes", "list", "--repo", h.repoId]);
    expect((listed.json as LaneView[]).map((l) => l.id)).toContain(lane.id);

    const restarted = await cli(["lanes", "restart", lane.id]);
    expect(restarted.code).toBe(EXIT.ok);
    expect((restarted.json as LaneView).attempt).toBe(2);
    expect((await cli(["await", lane.id, "--state", "failed,finished", "--timeout", "60"])).json).toMatchObject({ outcome: "reached", matched: ["finished"], lane: { attempt: 2 } });

    const readiness = await cli(["lanes", "merge", lane.id, "--check"]);
    expect(readiness.code).toBe(EXIT.ok);
    expect(readiness.json).toMatchObject({ laneId: lane.id, ready: expect.any(Boolean) });
  });

  it("await times out (exit 5), kill stops the lane, await then says it ended otherwise (exit 7)", async () => {
    const lane = (await cli(["lanes", "create", "--repo", h.repoId, "--branch", branch(), "--objective", "sleep", "--", "sleep", "600"])).json as LaneView;
    const timedOut = await cli(["await", lane.id, "--state", "finished", "--timeout", "1"]);
    expect(timedOut.code).toBe(EXIT.timeout);
    expect(timedOut.json).toMatchObject({ outcome: "timeout", matched: [], lane: { id: lane.id, state: "running" } });
    expect((timedOut.json as { waitedMs: number }).waitedMs).toBeGreaterThanOrEqual(1000);
    const killed = await cli(["lanes", "kill", lane.id, "--grace-ms", "200"]);
    expect(killed.code).toBe(EXIT.ok);
    expect(killed.json).toMatchObject({ id: lane.id, state: "killed" });
    const ended = await cli(["await", lane.id, "--state", "finished", "--timeout", "10"]);
    expect(ended.code).toBe(EXIT.ended);
    expect(ended.json).toMatchObject({ outcome: "ended", matched: [], lane: { state: "killed" } });
  });

  it("follows events as NDJSON with lanes events -f", async () => {
    const lane = (await cli(["lanes", "create", "--repo", h.repoId, "--branch", branch(), "--objective", "follow", "--", "true"])).json as LaneView;
    const child = execa(process.execPath, [BIN, "--url", h.url, "--json", "lanes", "events", lane.id, "-f"], { reject: false, buffer: false, env: { LANEBOARD_TOKEN: h.rt.auth.adminToken } });
    const seen: LaneEvent[] = [];
    let rest = "";
    await new Promise<void>((resolve) => {
      child.stdout!.on("data", (d: Buffer) => {
        rest += d.toString();
        const lines = rest.split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const event = JSON.parse(line) as LaneEvent;
          seen.push(event);
          if (event.type === "lane.finished") resolve();
        }
      });
    });
    child.kill("SIGTERM");
    await child;
    expect(seen[0]).toMatchObject({ type: "lane.created", laneId: lane.id });
    expect(seen.map((e) => e.id)).toEqual([...seen.map((e) => e.id)].sort((a, b) => a - b));
  });

  it("exit codes: not found 3, refused 4, usage 2 with the usage line, unreachable 6", async () => {
    const missing = await cli(["lanes", "show", "no-such-lane"]);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.json).toMatchObject({ error: { code: "not_found", status: 404 } });

    const lane = (await cli(["lanes", "create", "--repo", h.repoId, "--branch", branch(), "--objective", "x", "--", "true"])).json as LaneView;
    const refused = await cli(["prompt", lane.id, "hello"]);
    expect(refused.code).toBe(EXIT.refused);
    expect((refused.json as { error: { code: string } }).error.code).toMatch(/not_ready|not_supported/);

    const invalid = await cli(["lanes", "create", "--repo", h.repoId, "--branch", "-bad", "--objective", "x", "--", "true"]);
    expect(invalid.code).toBe(EXIT.refused);
    expect(invalid.json).toMatchObject({ error: { code: "invalid_input", status: 422 } });

    const badFlag = await cli(["lanes", "list", "--bogus"]);
    expect(badFlag.code).toBe(EXIT.usage);
    expect(badFlag.stderr).toContain("unknown option '--bogus'");
    expect(badFlag.stderr).toContain("Usage: laneboard lanes list [options]");

    const badState = await cli(["await", lane.id, "--state", "finished,done"]);
    expect(badState.code).toBe(EXIT.usage);
    expect(badState.stderr).toContain("not an await target: done");

    const awaitMissing = await cli(["await", "no-such-lane", "--state", "finished", "--timeout", "5"]);
    expect(awaitMissing.code).toBe(EXIT.notFound);
    expect(awaitMissing.json).toMatchObject({ error: { code: "not_found", status: 404 } });

    const down = await cli(["--url", "http://127.0.0.1:9", "lanes", "list"], { url: false });
    expect(down.code).toBe(EXIT.unreachable);
    expect(down.json).toMatchObject({ error: { code: "unreachable" } });
  });

  it("finds the server from the data dir (server.json) and LANEBOARD_URL, flags first", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "laneboard-cli-data-"));
    try {
      await writeFile(path.join(dataDir, SERVER_INFO_FILE), JSON.stringify({ url: h.url, pid: process.pid, startedAt: new Date().toISOString() }));
      const viaDataDir = await cli(["--data-dir", dataDir, "repos"], { url: false });
      expect(viaDataDir.code).toBe(EXIT.ok);
      const viaEnv = await cli(["repos"], { url: false, env: { LANEBOARD_URL: h.url } });
      expect(viaEnv.code).toBe(EXIT.ok);
      const flagWins = await cli(["--url", "http://127.0.0.1:9", "--data-dir", dataDir, "repos"], { url: false, env: { LANEBOARD_URL: h.url } });
      expect(flagWins.code).toBe(EXIT.unreachable);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // The import itself needs PostgreSQL: server/store/transfer.test.ts (npm run test:postgres).
  it.skipIf(!!process.env.LANEBOARD_TEST_POSTGRES_URL)("db export writes the data dir's SQLite database as JSON Lines; db import refuses a URL that is not PostgreSQL", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-cli-export-"));
    try {
      const out = path.join(dir, "export.jsonl");
      const exported = await cli(["--data-dir", h.rt.config.dataDir, "db", "export", "--out", out], { url: false });
      expect(exported.code).toBe(EXIT.ok);
      expect((exported.json as { rows: Record<string, number> }).rows.Repo).toBeGreaterThanOrEqual(1);
      const [header, ...rows] = (await readFile(out, "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(header).toMatchObject({ format: "laneboard-db", version: 1 });
      expect(rows.some((r) => r.table === "LaneEvent")).toBe(true);
      const refused = await cli(["db", "import", "--in", out, "--database-url", "file:/tmp/x.db"], { url: false });
      expect(refused.code).toBe(EXIT.refused);
      expect(refused.json).toMatchObject({ error: { code: "invalid_input" } });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
