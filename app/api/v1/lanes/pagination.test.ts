/**
 * GET /api/v1/lanes and GET /api/v1/repos page with `limit` and a cursor, through the real route
 * handlers against a real runtime. Lanes are kept queued by a spent budget, so no worker runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LaneView, RepoView } from "@/lib/api";
import type { Page } from "@/lib/paging";
import { commitFile, initRepo, makeTempDir } from "@/server/git/git.testing";
import { setRuntime } from "@/server/runtime-global";
import { apiRequest } from "@/server/testing/auth";
import { shellPacket, startTestRuntime, type TestRuntime } from "@/server/testing/runtime-harness";
import * as repos from "../repos/route";
import * as lanes from "./route";

let h: TestRuntime;
const temps: { cleanup: () => Promise<void> }[] = [];
beforeAll(async () => {
  h = await startTestRuntime();
  setRuntime(h.rt);
});
afterAll(async () => {
  setRuntime(undefined);
  await h.close();
  for (const t of temps) await t.cleanup();
});

const none = { params: Promise.resolve({}) };
const held = () => h.rt.lanes.create(shellPacket(h.repoId, ["true"], { budget: { maxTokens: 0 } }));
async function page<T>(res: Response): Promise<Page<T>> {
  expect(res.status).toBe(200);
  return (await res.json()) as Page<T>;
}
const lanePage = async (query: string) => page<LaneView>(await lanes.GET(apiRequest("GET", `/api/v1/lanes?${query}`), none));
const repoPage = async (query: string) => page<RepoView>(await repos.GET(apiRequest("GET", `/api/v1/repos?${query}`), none));
async function errorOf(res: Response) {
  expect(res.status).toBe(422);
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe("cursor pagination", () => {
  it("GET /api/v1/lanes?limit= – pages in creation order with a next cursor; lanes created meanwhile are neither repeated nor skipped", async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await held()).id);
    const first = await lanePage("limit=2");
    expect(first.items.map((l) => l.id)).toEqual(created.slice(0, 2));
    expect(first.next).toEqual(expect.any(String));
    created.push((await held()).id); // after the first page was served
    const seen = [...first.items.map((l) => l.id)];
    for (let cursor = first.next; cursor; ) {
      const p = await lanePage(`limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(p.items.length).toBeLessThanOrEqual(2);
      seen.push(...p.items.map((l) => l.id));
      cursor = p.next;
    }
    expect(seen).toEqual(created);
    // The default page holds them all and says there is no more; each item is a full LaneView.
    const all = await lanePage("");
    expect(all).toMatchObject({ next: null, items: created.map((id) => expect.objectContaining({ id, state: "queued", summary: expect.any(Object) })) });
    // A page ending exactly at the last lane: next is null, not a cursor to an empty page.
    expect((await lanePage(`limit=${created.length}`)).next).toBeNull();
  });

  it("GET /api/v1/lanes?repoId=&limit= – the filter and the cursor combine", async () => {
    const other = await makeTempDir("laneboard-page-repo-");
    temps.push(other);
    await initRepo(other.dir);
    await commitFile(other.dir, "x.txt", "x\n", "x");
    const repo = await h.rt.repos.register({ path: other.dir });
    const theirs = [];
    for (let i = 0; i < 3; i++) theirs.push((await h.rt.lanes.create(shellPacket(repo.id, ["true"], { budget: { maxTokens: 0 } }))).id);
    const p1 = await lanePage(`repoId=${repo.id}&limit=2`);
    const p2 = await lanePage(`repoId=${repo.id}&limit=2&cursor=${encodeURIComponent(p1.next!)}`);
    expect([...p1.items, ...p2.items].map((l) => l.id)).toEqual(theirs);
    expect(p2.next).toBeNull();
  });

  it("GET /api/v1/repos?limit= – pages in registration order", async () => {
    const all = await repoPage("limit=1000");
    expect(all.next).toBeNull();
    expect(all.items.length).toBeGreaterThanOrEqual(2);
    const seen: string[] = [];
    for (let cursor: string | null = null, n = 0; n === 0 || cursor; n++) {
      const p: Page<RepoView> = await repoPage(`limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(p.items).toHaveLength(1);
      seen.push(p.items[0]!.id);
      cursor = p.next;
    }
    expect(seen).toEqual(all.items.map((r) => r.id));
    expect(seen[0]).toBe(h.repoId);
  });

  it("GET /api/v1/lanes, GET /api/v1/repos – a bad limit or a cursor not from this API is a 422 naming the field", async () => {
    expect(await errorOf(await lanes.GET(apiRequest("GET", "/api/v1/lanes?limit=0"), none))).toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^limit: /) });
    expect(await errorOf(await lanes.GET(apiRequest("GET", "/api/v1/lanes?limit=1001"), none))).toMatchObject({ message: expect.stringMatching(/^limit: /) });
    expect(await errorOf(await lanes.GET(apiRequest("GET", "/api/v1/lanes?cursor=not-a-cursor"), none))).toMatchObject({ code: "invalid_input", message: expect.stringMatching(/^cursor: /) });
    // A well-formed cursor carrying SQL is only a bound value: the lanes after (epoch ms 1, that id) come back.
    const forged = Buffer.from("1.x'; DROP TABLE Lane; --").toString("base64url");
    expect((await lanePage(`cursor=${forged}`)).items.length).toBeGreaterThan(0);
    expect(await h.rt.db.lane.count()).toBeGreaterThan(0);
    expect(await errorOf(await repos.GET(apiRequest("GET", "/api/v1/repos?limit=abc"), none))).toMatchObject({ message: expect.stringMatching(/^limit: /) });
  });
});
