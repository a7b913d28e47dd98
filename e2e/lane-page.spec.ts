import type { APIRequestContext, Page } from "@playwright/test";
import type { LaneView } from "@/lib/api";
import { board, expect, lane, seedManyLanes, test } from "./support";

// Many lanes besides the ones under test (300 settled ones in a repo of their own), as a person
// with a busy board sees the lane page.
let seededRepo = "";
test.beforeAll(async ({ request }) => {
  seededRepo = await seedManyLanes(request, 300, "lp");
});

/**
 * Screenshots of what is on show at 1440×900 (`<name>.png`) and at a phone's 390×844
 * (`<name>-phone.png`), full page; at phone width nothing may scroll the page sideways.
 */
async function shoot(page: Page, name: string): Promise<void> {
  // From the top: a full-page shot of a scrolled page draws the sticky header where the viewport
  // was, over the middle of the page.
  const top = () => page.evaluate(() => window.scrollTo(0, 0));
  await top();
  await page.screenshot({ path: `e2e/artifacts/${name}.png`, fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await top();
  await page.screenshot({ path: `e2e/artifacts/${name}-phone.png`, fullPage: true });
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll, `${name}: the page scrolls sideways at 390 px`).toBeLessThanOrEqual(inner);
  // Every tab whole on screen: none past the edge of a list that would scroll sideways unseen.
  const tabRights = await page.getByRole("tab").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
  expect(tabRights.length, `${name}: the lane's tabs`).toBeGreaterThanOrEqual(4);
  for (const right of tabRights) expect(right, `${name}: a tab reaches past 390 px`).toBeLessThanOrEqual(inner);
  await page.setViewportSize({ width: 1440, height: 900 });
}

// An agent lane run by the real Claude Code CLI against the project's scripted model server
// (e2e/fixtures/model-script.json, started by playwright.config.ts), on the demo repo.

async function createAgentLane(request: APIRequestContext): Promise<LaneView> {
  const repo = (await board(request)).repos[0]!;
  const res = await request.post("/api/v1/lanes", {
    data: {
      objective: "Add greet() in greeting.js",
      repo: repo.id,
      branch: `lane/e2e-greet-${Date.now()}`,
      worker: { engine: "claude", prompt: "[e2e:lane-page] add greeting.js exporting greet(name)" },
      acceptance: [{ level: "merge_ready", argv: ["test", "-f", "greeting.js"] }],
    },
  });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()) as LaneView;
}

const settled = (l: LaneView) => ["finished", "failed", "killed", "lost"].includes(l.state);

test("an agent lane: prompt it and see the answer, open the diff, comment a line that reaches the agent, merge and clean up", async ({ page, request }) => {
  test.setTimeout(420_000);
  const created = await createAgentLane(request);
  await page.goto(`/lanes/${created.id}?tab=conversation`);
  await expect(page.getByTestId("lane-conversation")).toBeVisible();
  // The task prompt and the agent's answer, read from the lane's events.
  await expect(page.getByTestId("conversation-prompt").first()).toContainText("[e2e:lane-page]");
  await expect(page.getByTestId("conversation-answer").last()).toContainText("Done: greeting.js is committed.", { timeout: 180_000 });
  await expect(page.getByTestId("conversation-tool").first()).toContainText("Write");
  await expect.poll(async () => settled(await lane(request, created.id)), { timeout: 120_000 }).toBe(true);
  await expect(page.getByTestId("lane-detail")).toHaveAttribute("data-state", "finished");

  // The run ended: the box takes a follow-up, and says so.
  await expect(page.getByTestId("prompt-state")).toHaveAttribute("data-enabled", "true");
  await page.getByTestId("prompt-box").fill("What does greeting.js export?");
  await page.getByTestId("prompt-send").click();
  await expect(page.getByTestId("conversation-prompt").last()).toContainText("What does greeting.js export?");
  await expect(page.getByTestId("conversation-answer").last()).toContainText("It exports greet(name)", { timeout: 180_000 });
  await expect.poll(async () => { const l = await lane(request, created.id); return l.attempt === 2 && settled(l); }, { timeout: 120_000 }).toBe(true);
  await shoot(page, "lane-conversation");

  // The diff: files changed, syntax highlighted, unified and split.
  await page.getByTestId("tab-diff").click();
  const file = page.locator('[data-testid="diff-file"][data-path="greeting.js"]');
  await expect(file).toBeVisible();
  await expect(file.locator(".diff-code-insert").first()).toContainText("export function greet");
  await expect(file.locator(".token.keyword").first()).toBeVisible();
  await page.getByTestId("diff-view-split").click();
  await expect(file.locator("table.diff-split")).toBeVisible();
  await page.getByTestId("diff-view-unified").click();
  await shoot(page, "lane-diff");

  // A line comment goes to the agent as a follow-up prompt, and the agent acts on it.
  // The second line's number (unified view: old and new number cells; the new one is last).
  await file.locator("tr.diff-line").nth(1).locator("td.diff-gutter").last().click();
  await page.getByTestId("comment-editor").locator("textarea").fill("Use a template literal here.");
  await page.getByTestId("comment-save").click();
  await expect(page.getByTestId("line-comment")).toContainText("Use a template literal here.");
  await page.getByTestId("send-comments").click();
  await expect(page.getByTestId("comments-sent")).toBeVisible();
  await page.getByTestId("tab-conversation").click();
  const sent = page.getByTestId("conversation-prompt").last();
  await expect(sent).toContainText("greeting.js, line 2");
  await expect(sent).toContainText("Use a template literal here.");
  await expect(page.getByTestId("conversation-answer").last()).toContainText("Addressed the review comments.", { timeout: 180_000 });
  await expect.poll(async () => { const l = await lane(request, created.id); return l.attempt === 3 && l.state === "finished" && l.mergeReady === true; }, { timeout: 120_000 }).toBe(true);

  // Merge: readiness shown, merge performed, cleanup offered after.
  await page.getByTestId("tab-diff").click();
  await expect(page.getByTestId("merge-panel")).toHaveAttribute("data-ready", "true");
  await expect(file.locator(".diff-code-insert").nth(1)).toContainText("`Hello, ${name}`");
  await page.getByTestId("merge-button").click();
  await expect(page.getByTestId("merge-done")).toBeVisible();
  // Merged says so everywhere on the page at once: no more "merge" advice, no readiness pending.
  await expect(page.getByTestId("lane-next-step")).toContainText("Merged");
  await expect(page.getByTestId("merge-panel")).not.toContainText("checking readiness");
  await shoot(page, "lane-merged");
  await page.getByTestId("cleanup-button").click();
  await expect(page.getByTestId("cleanup-done")).toBeVisible();
  expect((await lane(request, created.id)).merged).toBe(true);

  // Every attempt is kept, each with its own processes.
  await page.getByTestId("tab-attempts").click();
  await expect(page.getByTestId("attempt")).toHaveCount(3);
  await shoot(page, "lane-attempts");
  // Events read as sentences, with the raw JSON one click away.
  await page.getByTestId("tab-events").click();
  await expect(page.getByTestId("event-sentence").first()).toBeVisible();
  await expect(page.locator('[data-event-type="lane.merged"] [data-testid="event-sentence"]')).toContainText("Merged into");
  await page.locator('[data-event-type="lane.merged"] [data-testid="event-raw-toggle"]').click();
  await expect(page.locator('[data-event-type="lane.merged"] [data-testid="event-raw"]')).toContainText('"type": "lane.merged"');
  await shoot(page, "lane-events");
});

test("a red lane's page says which process failed how, never a green exit 0, and its next step is an action", async ({ page, request }) => {
  // The demo's red lane (its check fails within a minute of the start).
  let red: LaneView | undefined;
  await expect.poll(async () => (red = (await board(request)).lanes.find((l) => l.repoId !== seededRepo && l.state === "failed" && Object.values(l.checks).some((c) => c.status === "red"))) !== undefined, { timeout: 180_000 }).toBe(true);
  await page.goto(`/lanes/${red!.id}`);
  const exits = page.getByTestId("lane-exit");
  await expect(exits.first()).toBeVisible();
  await expect(page.locator('[data-testid="lane-exit"][data-role="check"]').first()).toContainText(/exited with code [1-9]/);
  await expect(page.getByTestId("lane-next-step")).not.toContainText(/\/api\/|POST/);
  await expect(page.getByTestId("lane-summary")).toBeVisible();
  await page.getByTestId("tab-output").click();
  const log = page.getByTestId("lane-log");
  await expect(log).toHaveAttribute("data-following", "true");
  // Scrolling up is the person's own input: the view stops following and the top shows the first process's divider.
  await log.hover();
  await page.mouse.wheel(0, -1_000_000);
  await expect(log).toHaveAttribute("data-following", "false");
  await expect(page.getByTestId("log-divider").first()).toContainText(/attempt \d+ · (worker|check)/);
  await page.getByTestId("log-first-failure").click();
  await expect(page.getByTestId("log-line").filter({ hasText: /not ok|Error|FAIL/ }).first()).toBeVisible();
  await page.getByTestId("log-search").fill("not ok");
  await expect(page.getByTestId("log-matches")).toContainText(/1 of \d+/);
  await shoot(page, "lane-red-output");
  // The demo's red lane is a script lane: it has no conversation; its attempts are the next tab a person opens.
  await page.getByTestId("tab-attempts").click();
  await shoot(page, "lane-red-attempts");
});
