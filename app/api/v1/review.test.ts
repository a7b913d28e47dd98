/**
 * The review API through its real route handlers, against a real runtime, real git repositories
 * and real lane processes: a lane's diff (files, then one file's patch), cleanup after a merge,
 * and every attempt of a lane.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { CleanupResult, LaneAttempts, LaneDiff, LaneDiffFile } from "@/lib/review-api";
import { git } from "@/server/git/git";
import { COMMIT, SH } from "@/server/recovery/lane-fixtures.testing";
import { isTerminal, runtimePerTest, shellPacket, waitForLane } from "@/server/testing/runtime-harness";
import { apiRequest } from "@/server/testing/auth";
import * as attemptsRoute from "./lanes/[id]/attempts/route";
import * as downloadRoute from "./lanes/[id]/logs/download/route";
import * as logsRoute from "./lanes/[id]/logs/route";
import * as cleanupRoute from "./lanes/[id]/cleanup/route";
import * as diffFileRoute from "./lanes/[id]/diff/file/route";
import * as diffRoute from "./lanes/[id]/diff/route";
import * as mergeRoute from "./lanes/[id]/merge/route";

const h = runtimePerTest({ workerCap: 4 }, { global: true });

const id = (x: string) => ({ params: Promise.resolve({ id: x }) });
const req = (method: string, url: string, body?: unknown) => apiRequest(method, url, body);

/** A finished lane that edits README.md, adds src/new.js, renames nothing and adds a binary file. */
async function editingLane() {
  const script = [
    "printf '# test repo\\nmore\\n' > README.md",
    "mkdir -p src && printf 'export const a = 1;\\nexport const b = 2;\\n' > src/new.js",
    "printf '\\000\\001\\002' > blob.bin",
    `git add -A && ${COMMIT} -m "lane edits"`,
  ].join(" && ");
  const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH(script), { acceptance: [{ level: "merge_ready", argv: ["true"] }] }));
  expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("finished");
  return lane;
}

describe("diff", () => {
  it("GET /api/v1/lanes/:id/diff – files changed with counts; GET …/diff/file – one file's unified patch", async () => {
    const lane = await editingLane();
    const res = await diffRoute.GET(req("GET", "/x"), id(lane.id));
    expect(res.status).toBe(200);
    const diff = (await res.json()) as LaneDiff;
    expect(diff).toMatchObject({ branch: lane.branch, baseBranch: "main", additions: 3, deletions: 0 });
    expect(diff.files).toEqual(
      expect.arrayContaining([
        { path: "README.md", oldPath: null, status: "modified", additions: 1, deletions: 0, binary: false },
        { path: "src/new.js", oldPath: null, status: "added", additions: 2, deletions: 0, binary: false },
        { path: "blob.bin", oldPath: null, status: "added", additions: null, deletions: null, binary: true },
      ]),
    );
    expect(diff.baseSha).toBe((await git(["rev-parse", "main"], { cwd: h.repoPath })).stdout);

    const file = (await (await diffFileRoute.GET(req("GET", `/x?path=src/new.js&base=${diff.baseSha}&head=${diff.head}`), id(lane.id))).json()) as LaneDiffFile;
    expect(file).toMatchObject({ path: "src/new.js", truncated: false, head: diff.head });
    expect(file.patch).toContain("diff --git a/src/new.js b/src/new.js");
    expect(file.patch).toContain("+export const b = 2;");
    expect(file.patch).not.toContain("README");
  });

  it("GET …/diff/file – refuses a path the diff does not list, traversal and option-like paths (422), an unknown lane (404)", async () => {
    const lane = await editingLane();
    for (const p of ["../../etc/passwd", "/etc/passwd", "--output=/tmp/x", "package.json", "src"]) {
      const res = await diffFileRoute.GET(req("GET", `/x?path=${encodeURIComponent(p)}`), id(lane.id));
      expect(res.status, p).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_input");
    }
    const badSha = await diffFileRoute.GET(req("GET", "/x?path=README.md&head=--all"), id(lane.id));
    expect(badSha.status).toBe(422);
    expect((await diffRoute.GET(req("GET", "/x"), id("nope"))).status).toBe(404);
  });
});

describe("cleanup", () => {
  it("POST /api/v1/lanes/:id/cleanup – refused before the merge (409), removes worktree and branch after it; the diff then says the branch is gone", async () => {
    const lane = await editingLane();
    const early = await cleanupRoute.POST(req("POST", "/x", {}), id(lane.id));
    expect(early.status).toBe(409);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe("not_ready");
    await fs.access(lane.worktreePath);

    expect((await mergeRoute.POST(req("POST", "/x", { strategy: "merge", cleanup: false }), id(lane.id))).status).toBe(200);
    await fs.access(lane.worktreePath); // kept: cleanup is offered, not done
    const res = await cleanupRoute.POST(req("POST", "/x", {}), id(lane.id));
    expect(res.status).toBe(200);
    expect((await res.json()) as CleanupResult).toEqual({ laneId: lane.id, worktreeRemoved: true, branchDeleted: true });
    await expect(fs.access(lane.worktreePath)).rejects.toThrow();
    expect((await git(["branch", "--list", lane.branch], { cwd: h.repoPath })).stdout).toBe("");
    expect(await fs.readFile(path.join(h.repoPath, "src/new.js"), "utf8")).toContain("export const a");
    const gone = await diffRoute.GET(req("GET", "/x"), id(lane.id));
    expect(gone.status).toBe(409);
  });
});

describe("attempts", () => {
  it("GET /api/v1/lanes/:id/attempts – each attempt with its own processes, exit codes, checks and event range", async () => {
    // Attempt 1 fails its check, attempt 2 passes it (the marker file exists from attempt 1 on).
    const lane = await h.rt.lanes.create(
      shellPacket(h.repoId, SH("echo run; if [ -f .second ]; then echo second; else touch .second; fi"), {
        acceptance: [{ level: "targeted", argv: SH("test -f .second && grep -q x .second") }],
      }),
    );
    expect((await waitForLane(h.rt, lane.id, isTerminal)).state).toBe("failed");
    await fs.writeFile(path.join(lane.worktreePath, ".second"), "x\n");
    await h.rt.lanes.restart(lane.id, { by: "test" });
    expect((await waitForLane(h.rt, lane.id, (l) => l.attempt === 2 && isTerminal(l))).state).toBe("finished");

    const res = await attemptsRoute.GET(req("GET", "/x"), id(lane.id));
    expect(res.status).toBe(200);
    const body = (await res.json()) as LaneAttempts;
    expect(body.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    const [a1, a2] = body.attempts;
    expect(a1!.processes.map((p) => [p.role, p.exitCode])).toEqual([["worker", 0], ["check", 1]]);
    expect(a2!.processes.map((p) => [p.role, p.exitCode])).toEqual([["worker", 0], ["check", 0]]);
    expect(a1!.checks).toMatchObject([{ level: "targeted", status: "red", exitCode: 1 }]);
    expect(a2!.checks).toMatchObject([{ level: "targeted", status: "green", exitCode: 0 }]);
    expect(a1!.nextEventId).toBe(a2!.firstEventId);
    expect(a1!.processes.every((p) => !a2!.processes.some((q) => q.id === p.id))).toBe(true);
    expect(body.repoUsage.lanes).toBeGreaterThanOrEqual(1);
    expect((await attemptsRoute.GET(req("GET", "/x"), id("nope"))).status).toBe(404);
  });
});

describe("logs", () => {
  it("GET /api/v1/lanes/:id/logs – truncated is true exactly when older lines exist; GET …/logs/download – the whole log, both streams, by time", async () => {
    const lane = await h.rt.lanes.create(shellPacket(h.repoId, SH("i=1; while [ $i -le 300 ]; do echo out $i; i=$((i+1)); done; echo oops >&2")));
    await waitForLane(h.rt, lane.id, isTerminal);
    const cut = (await (await logsRoute.GET(req("GET", "/x?limit=100"), id(lane.id))).json()) as { lines: unknown[]; truncated: boolean };
    expect(cut).toMatchObject({ truncated: true });
    expect(cut.lines).toHaveLength(100);
    const whole = (await (await logsRoute.GET(req("GET", "/x?limit=301"), id(lane.id))).json()) as { lines: unknown[]; truncated: boolean };
    expect(whole).toMatchObject({ truncated: false });
    expect(whole.lines).toHaveLength(301);

    const res = await downloadRoute.GET(req("GET", "/x"), id(lane.id));
    expect(res.headers.get("content-disposition")).toMatch(/attachment; filename="lane-.*\.log"/);
    const text = await res.text();
    expect(text).toContain("=== attempt 1 · worker");
    expect(text.match(/ OUT out \d+$/gm)).toHaveLength(300);
    expect(text).toMatch(/ ERR oops$/m);
    expect((await downloadRoute.GET(req("GET", "/x"), id("nope"))).status).toBe(404);
  });
});
