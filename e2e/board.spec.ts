import type { Locator } from "@playwright/test";
import { board, expect, lane, openBoard, pidsInGroup, processView, test } from "./support";

// The server starts on a fresh data directory, so the embedded demo (a real repo, real lanes
// run by the script engine) is what the board shows.

test("the board shows the demo lanes: green, red, behind main, and running with live output", async ({ page, request }) => {
  await openBoard(page);
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  await expect(page.getByTestId("lane-card")).toHaveCount(5);

  await expect(page.locator('[data-testid="lane-card"] [data-testid="check-targeted"][data-status="green"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="lane-card"] [data-testid="check-targeted"][data-status="red"]').first()).toBeVisible();
  await expect(page.locator('[data-testid="ahead-behind"][data-behind]:not([data-behind="0"])').first()).toBeVisible();

  const running = page.locator('[data-testid="lane-card"][data-state="running"]').first();
  await expect(running).toBeVisible();
  const logLines = running.getByTestId("log-line");
  await expect(logLines.first()).toBeVisible();
  const before = await logLines.last().textContent();
  await expect(logLines.last()).not.toHaveText(before ?? "");

  const snapshot = await board(request);
  expect(snapshot.lanes.map((l) => l.state)).toEqual(expect.arrayContaining(["running"]));
  await page.screenshot({ path: "e2e/artifacts/board.png", fullPage: true });
});

test("copy buttons put a lane's branch and worktree path on the clipboard, on its card and on its page", async ({ page, context, request }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await openBoard(page);
  // By id: the board sorts by last activity, so "the first card" can be another lane a moment later.
  const view = await lane(request, (await page.getByTestId("lane-card").first().getAttribute("data-lane-id"))!);
  const card = page.locator(`[data-testid="lane-card"][data-lane-id="${view.id}"]`);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  // Clears the clipboard, clicks, and waits for the value (the button's "copied" lasts only 1.5 s).
  const copies = async (button: Locator, value: string) => {
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await button.click();
    await expect.poll(clipboard).toBe(value);
  };

  await copies(card.getByTestId("copy-branch"), view.branch);
  await copies(card.getByTestId("copy-worktree-path"), view.worktreePath);
  await page.goto(`/lanes/${view.id}`);
  await copies(page.getByTestId("copy-branch"), view.branch);
  await copies(page.getByTestId("copy-worktree-path"), view.worktreePath);
});

test("Kill stops the lane's whole process group; Restart brings new output", async ({ page, request }) => {
  await openBoard(page);
  const card = page.locator('[data-testid="lane-card"][data-state="running"]').first();
  await expect(card).toBeVisible();
  const laneId = (await card.getAttribute("data-lane-id"))!;
  const before = await lane(request, laneId);
  const proc = await processView(request, before.currentProcessId!);
  expect(proc.pgid).toBeGreaterThan(1);
  expect(pidsInGroup(proc.pgid!).length).toBeGreaterThan(0);

  // Kill asks for confirmation first.
  await card.getByTestId("kill-button").click();
  await card.getByTestId("kill-confirm").click();
  const killed = page.locator(`[data-testid="lane-card"][data-lane-id="${laneId}"]`);
  await expect(killed).toHaveAttribute("data-state", "killed");
  expect(pidsInGroup(proc.pgid!)).toEqual([]);

  await killed.getByTestId("restart-button").click();
  await expect(killed).toHaveAttribute("data-state", "running");
  const after = await lane(request, laneId);
  expect(after.attempt).toBe(before.attempt + 1);
  expect(after.currentProcessId).not.toBe(before.currentProcessId);
  // New output from the new process reaches the card.
  await expect(killed.getByTestId("log-line").last()).toContainText(/\[\d+\/\d+\]/);
  await page.screenshot({ path: "e2e/artifacts/board-after-restart.png", fullPage: true });
});

test("the lane page streams the full log live", async ({ page }) => {
  await openBoard(page);
  const card = page.locator('[data-testid="lane-card"][data-state="running"]').first();
  const laneId = (await card.getAttribute("data-lane-id"))!;
  await page.goto(`/lanes/${laneId}`);
  const lines = page.getByTestId("log-line");
  await expect(lines.first()).toBeVisible();
  const count = await lines.count();
  await expect.poll(async () => lines.count()).toBeGreaterThan(count);
  await page.screenshot({ path: "e2e/artifacts/lane.png" });
});
