import type { APIRequestContext } from "@playwright/test";
import type { LaneView } from "@/lib/api";
import { board, expect, lane, test } from "./support";

/** A shell lane on the demo repo running `node -e <script>`. */
async function nodeLane(request: APIRequestContext, objective: string, script: string): Promise<LaneView> {
  const repo = (await board(request)).repos[0]!;
  const res = await request.post("/api/v1/lanes", {
    data: { objective, repo: repo.id, branch: `lane/e2e-log-${Date.now()}`, worker: { engine: "shell", command: ["node", "-e", script] } },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as LaneView;
}

/** The number in the lane's newest `line N` (the API is not affected by the browser going offline). */
async function lastPrinted(request: APIRequestContext, laneId: string): Promise<number> {
  const res = await request.get(`/api/v1/lanes/${laneId}/logs?limit=1`);
  const { lines } = (await res.json()) as { lines: { text: string }[] };
  return Number(/line (\d+)/.exec(lines.at(-1)?.text ?? "")?.[1] ?? 0);
}

/**
 * Prints numbered lines at 1,000 lines/s in phases, each released by a line on its stdin: so the
 * test, not the machine's load, decides what happens while the page is connected or offline.
 */
const phasedPrinter = (phases: readonly number[]) =>
  `let i=0,target=0,t=null;const phases=${JSON.stringify(phases)};process.stdin.on('data',()=>{target+=phases.shift()??0;if(!t)t=setInterval(()=>{for(let k=0;k<10&&i<target;k++)console.log('line '+(++i));if(i>=target){clearInterval(t);t=null;if(!phases.length)process.exit(0)}},10)})`;

/** Release the next phase of a {@link phasedPrinter}: a line on the stdin of the lane's worker (once it runs). */
async function nextPhase(request: APIRequestContext, laneId: string): Promise<void> {
  let processId: string | null = null;
  await expect.poll(async () => (processId = (await lane(request, laneId)).currentProcessId), { timeout: 60_000 }).not.toBeNull();
  const res = await request.post(`/api/v1/processes/${processId}/stdin`, { data: { data: "go\n" } });
  expect(res.status(), await res.text()).toBeLessThan(300);
}

test("the lane page misses nothing across a 10 s disconnect while the lane prints 1,000 lines/s: it resumes from the byte offsets it holds", async ({ page, request, context }) => {
  test.setTimeout(300_000);
  // 3,000 lines while connected, 10,000 while offline, 5,000 after the reconnect.
  const [BEFORE, DURING, AFTER] = [3_000, 10_000, 5_000];
  const created = await nodeLane(request, "Print 1,000 lines a second", phasedPrinter([BEFORE, DURING, AFTER]));
  await page.goto(`/lanes/${created.id}?tab=output`);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  const count = page.getByTestId("log-count");
  await expect(count).toHaveAttribute("data-lines", "0");
  await nextPhase(request, created.id);
  await expect(count).toHaveAttribute("data-lines", String(BEFORE), { timeout: 120_000 });

  // A real disconnect as the browser sees it: the browser goes offline (Chrome's network
  // emulation), which closes the live transport and fails every new connection.
  await context.setOffline(true);
  await expect(page.getByTestId("connection-status")).not.toHaveAttribute("data-status", "connected");
  // The outage: the lane prints its next 10,000 lines (10 s at 1,000 lines/s, longer on a loaded machine).
  await nextPhase(request, created.id);
  await expect.poll(() => lastPrinted(request, created.id), { timeout: 120_000 }).toBe(BEFORE + DURING);
  await expect(count).toHaveAttribute("data-lines", String(BEFORE));
  await context.setOffline(false);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected", { timeout: 60_000 });

  await nextPhase(request, created.id);
  await expect.poll(async () => (await lane(request, created.id)).state, { timeout: 120_000 }).toBe("finished");
  // Every line once: lines are kept by their byte offset, so a count equal to the file's line count means none missing and none doubled.
  await expect(count).toHaveAttribute("data-lines", String(BEFORE + DURING + AFTER), { timeout: 120_000 });
  await expect(page.locator('[data-testid="log-marker"][data-gap]')).toHaveCount(0);
  // A line printed during the outage (no other line contains its text).
  await page.getByTestId("log-search").fill("line 8000");
  await expect(page.getByTestId("log-matches")).toContainText("1 of 1");
  await page.screenshot({ path: "e2e/artifacts/lane-log-resumed.png" });
});

test("a lane card on the board resumes its tail from the byte offset it holds after a disconnect, not from a fresh tail", async ({ page, request, context }) => {
  test.setTimeout(180_000);
  // 20 lines while connected, 30 while offline; the last phase (none) keeps the lane running until released.
  const [BEFORE, DURING] = [20, 30];
  const created = await nodeLane(request, "Card tail across a disconnect", phasedPrinter([BEFORE, DURING, 0]));
  await page.goto(`/?q=${encodeURIComponent(created.branch)}`);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  const tail = page.getByTestId("lane-card").filter({ hasText: created.branch }).getByTestId("lane-log");
  await nextPhase(request, created.id);
  await expect(tail).toContainText(`line ${BEFORE}`, { timeout: 60_000 });

  await context.setOffline(true);
  await expect(page.getByTestId("connection-status")).not.toHaveAttribute("data-status", "connected");
  await nextPhase(request, created.id);
  await expect.poll(() => lastPrinted(request, created.id), { timeout: 60_000 }).toBe(BEFORE + DURING);
  const reads: URL[] = [];
  page.on("request", (r) => {
    if (/\/api\/v1\/processes\/[^/]+\/logs\?/.test(r.url())) reads.push(new URL(r.url()));
  });
  await context.setOffline(false);
  // It reads on from the first byte of the newest line it held ("line 20"), up to the new tail.
  const heldAt = Array.from({ length: BEFORE - 1 }, (_, i) => `line ${i + 1}\n`).join("").length;
  await expect.poll(() => reads.map((u) => `${u.searchParams.get("stream")}@${u.searchParams.get("from")}`), { timeout: 60_000 }).toContain(`stdout@${heldAt}`);
  await expect(tail).toContainText(`line ${BEFORE + DURING}`);
  await expect(tail.getByTestId("log-line")).toHaveText(Array.from({ length: 5 }, (_, i) => `line ${BEFORE + DURING - 4 + i}`));
  await nextPhase(request, created.id);
});

test("the log keeps following the end through a burst of 55,000 lines", async ({ page, request }) => {
  test.setTimeout(180_000);
  const created = await nodeLane(request, "Burst of 55,000 lines", `setTimeout(()=>{for(let i=1;i<=55000;i++)console.log('burst '+i)},3000)`);
  await page.goto(`/lanes/${created.id}?tab=output`);
  const log = page.getByTestId("lane-log");
  await expect(log).toHaveAttribute("data-following", "true");
  await expect(page.getByTestId("log-line").last()).toContainText("burst 55000", { timeout: 120_000 });
  await expect(log).toHaveAttribute("data-following", "true");
  const gap = await log.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  expect(gap).toBeLessThanOrEqual(36);
  await expect(page.getByTestId("jump-latest")).toHaveCount(0);
});
