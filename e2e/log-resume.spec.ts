import { type APIRequestContext, type WebSocketRoute } from "@playwright/test";
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

/** Prints `total` numbered lines at `perSecond`, in steps of 10 ms. */
const printer = (total: number, perSecond: number) =>
  `let i=0;const per=${Math.max(1, Math.round(perSecond / 100))};const t=setInterval(()=>{for(let k=0;k<per&&i<${total};k++)console.log('line '+(++i));if(i>=${total})clearInterval(t)},10)`;

test("the lane page misses nothing across a 10 s disconnect while the lane prints 1,000 lines/s: it resumes from the byte offsets it holds", async ({ page, request }) => {
  test.setTimeout(240_000);
  let offline = false;
  const sockets = new Set<WebSocketRoute>();
  // A real disconnect as the browser sees it: the live WebSocket is closed and, for 10 s, neither
  // a new WebSocket nor Socket.IO's HTTP polling gets through.
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (offline) return void ws.close();
    ws.connectToServer();
    sockets.add(ws);
  });
  await page.route(/\/socket\.io\//, (route) => (offline ? route.abort() : route.continue()));

  const TOTAL = 30_000;
  const created = await nodeLane(request, "Print 1,000 lines a second", printer(TOTAL, 1000));
  await page.goto(`/lanes/${created.id}?tab=output`);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  const count = page.getByTestId("log-count");
  await expect.poll(async () => Number(await count.getAttribute("data-lines")), { timeout: 60_000 }).toBeGreaterThan(3_000);

  offline = true;
  for (const ws of sockets) await ws.close();
  await expect(page.getByTestId("connection-status")).not.toHaveAttribute("data-status", "connected");
  const before = Number(await count.getAttribute("data-lines"));
  await page.waitForTimeout(10_000); // the outage itself: 10 s of output (~10,000 lines) happen meanwhile
  expect(Number(await count.getAttribute("data-lines"))).toBe(before);
  offline = false;
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected", { timeout: 30_000 });

  await expect.poll(async () => (await lane(request, created.id)).state, { timeout: 120_000 }).toBe("finished");
  // Every line once: lines are kept by their byte offset, so a count equal to the file's line count means none missing and none doubled.
  await expect.poll(async () => Number(await count.getAttribute("data-lines")), { timeout: 60_000 }).toBe(TOTAL);
  await expect(page.locator('[data-testid="log-marker"][data-gap]')).toHaveCount(0);
  await page.getByTestId("log-search").fill("line 15000");
  await expect(page.getByTestId("log-matches")).toContainText("1 of 1");
  await page.screenshot({ path: "e2e/artifacts/lane-log-resumed.png" });
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
