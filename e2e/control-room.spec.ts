import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Page } from "@playwright/test";
import { board, expect, test } from "./support";

// The board as a control room, on the demo server (a real repo, real lanes): create a lane from
// the form, find lanes, settings, notifications and webhooks, the unreachable server.

// Each flow waits on a real server, real lanes and a real browser on a shared 2-core machine.
test.describe.configure({ timeout: 300_000 });

async function demoRepoId(page: Page): Promise<string> {
  const snap = await board(page.request);
  return snap.repos[0]!.id;
}

test("New lane: the form refuses a bad packet field by field and creates nothing, then creates a lane that runs", async ({ page, request }) => {
  const before = (await board(request)).lanes.length;
  await page.goto("/");
  await page.getByTestId("new-lane").click();
  await expect(page.getByTestId("new-lane-form")).toBeVisible();

  // Bad input: no objective, a branch git would refuse, no prompt for an agent engine.
  await page.getByLabel("Branch", { exact: true }).fill("-bad..name");
  await page.getByTestId("create-lane").click();
  await expect(page.getByTestId("error-objective")).toBeVisible();
  await expect(page.getByTestId("error-branch")).toContainText(/must not/);
  await expect(page.getByTestId("error-worker.prompt")).toContainText(/needs a prompt/);
  expect((await board(request)).lanes.length).toBe(before);

  // The branch follows the objective until edited by hand; here the edit is cleared first.
  await page.getByLabel("Branch", { exact: true }).fill("");
  await page.getByLabel("Objective").fill("Say hello from the form");
  await page.getByLabel("Branch", { exact: true }).fill("lane/say-hello-from-the-form");
  await page.getByLabel("Engine").selectOption("shell");
  await page.getByLabel("Command").fill(`sh -c "echo hello from the form"`);
  await page.getByTestId("add-check").click();
  await page.getByLabel("Check 1 command").fill("true");
  await page.screenshot({ path: "e2e/artifacts/new-lane-form.png", fullPage: true });
  await page.getByTestId("create-lane").click();
  // The form itself lives at /lanes/new: wait for the created lane's page, not that.
  await page.waitForURL((url) => /^\/lanes\/[^/]+$/.test(url.pathname) && url.pathname !== "/lanes/new");
  const laneId = decodeURIComponent(page.url().split("/lanes/")[1]!);

  // A branch that now exists is refused by the server, shown on the branch field.
  await page.goto("/lanes/new");
  await page.getByLabel("Objective").fill("Say hello again");
  await page.getByLabel("Branch", { exact: true }).fill("lane/say-hello-from-the-form");
  await page.getByLabel("Engine").selectOption("shell");
  await page.getByLabel("Command").fill("true");
  await page.getByTestId("create-lane").click();
  await expect(page.getByTestId("error-branch")).toContainText(/already exists/);

  await page.goto(`/?q=${encodeURIComponent("say hello from the form")}`);
  const card = page.locator(`[data-testid="lane-card"][data-lane-id="${laneId}"]`);
  await expect(card).toHaveAttribute("data-state", "finished");
  await expect(card.getByTestId("check-targeted")).toHaveAttribute("data-status", "green");
});

test("Find any lane: search, filters and view live in the URL and survive reload; / j Enter drive it from the keyboard", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("lane-card").first()).toBeVisible();
  // The first screen is painted from the server's HTML before the page is hydrated; keys work
  // once it is (the live connection opens right after).
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  const total = Number(await page.getByTestId("board-shown").getAttribute("data-shown"));

  await page.keyboard.press("/");
  await expect(page.getByTestId("board-search")).toBeFocused();
  await page.keyboard.type("clamp");
  await expect(page).toHaveURL(/q=clamp/);
  await expect(page.getByTestId("lane-card")).toHaveCount(1);
  await expect(page.getByTestId("lane-card")).toContainText(/clamp/i);

  await page.reload();
  await expect(page.getByTestId("board-search")).toHaveValue("clamp");
  await expect(page.getByTestId("lane-card")).toHaveCount(1);

  // Header counts are filters; the table view is in the URL too.
  await page.getByTestId("clear-filters").click();
  await expect(page.getByTestId("board-shown")).toHaveAttribute("data-shown", String(total));
  await page.getByTestId("count-failed").click();
  await expect(page).toHaveURL(/state=failed/);
  await page.getByTestId("view-table").click();
  await expect(page).toHaveURL(/view=table/);
  const rows = page.getByTestId("lane-row");
  await expect(rows.first()).toBeVisible();
  for (const state of await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-state")))) expect(state).toBe("failed");
  await page.screenshot({ path: "e2e/artifacts/board-table-failed.png" });

  // Keyboard: j moves the cursor to the first lane, Enter opens it.
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("j");
  const active = page.locator('[data-testid="lane-row"][data-active]');
  await expect(active).toHaveCount(1);
  const id = await active.getAttribute("data-lane-id");
  await page.keyboard.press("Enter");
  await page.waitForURL(`**/lanes/${id}`);
});

test("Settings: a cap changes, a bad cap and a bad policy are refused with their field and line, the old values stay", async ({ page, request }) => {
  await page.goto("/settings");
  const agent = page.getByTestId("cap-global.agent");
  await expect(agent).toBeVisible();
  await agent.fill("-1");
  await page.getByTestId("caps-save").click();
  await expect(page.getByTestId("error-global.agent")).toBeVisible();
  await agent.fill("7");
  await page.getByTestId("caps-save").click();
  await expect(page.getByTestId("caps-saved")).toBeVisible();
  const caps = (await (await request.get("/api/v1/scheduler/caps")).json()) as { caps: { global: { agent: number } } };
  expect(caps.caps.global.agent).toBe(7);

  const repoId = await demoRepoId(page);
  const policyBefore = await (await request.get(`/api/v1/repos/${repoId}/policy`)).json();
  await page.getByTestId("policy-text").fill("rules:\n  - id: broken\n    when: { event: lane.red }\n    then: { action: explode }\n");
  await page.getByTestId("policy-save").click();
  const err = page.getByTestId("policy-error").first();
  await expect(err).toBeVisible();
  expect(Number(await err.getAttribute("data-line"))).toBeGreaterThan(0);
  expect(await (await request.get(`/api/v1/repos/${repoId}/policy`)).json()).toEqual(policyBefore);
  await page.screenshot({ path: "e2e/artifacts/settings.png", fullPage: true });
});

test("A lane that goes red raises a toast and a browser notification, and its repo's webhook receives the event", async ({ page, context, request }) => {
  const received: { type: string; laneId: string }[] = [];
  const hook: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  try {
    await context.grantPermissions(["notifications"]);
    // Record system notifications while keeping the real constructor.
    await page.addInitScript(() => {
      const Real = window.Notification;
      const shown: string[] = [];
      (window as unknown as { shownNotifications: string[] }).shownNotifications = shown;
      window.Notification = class extends Real {
        constructor(title: string, opts?: NotificationOptions) {
          super(title, opts);
          shown.push(title);
        }
      } as typeof Notification;
    });
    const repoId = await demoRepoId(page);
    await page.goto("/settings");
    await page.getByTestId("webhook-url").fill("file:///etc/passwd");
    await page.getByTestId("webhook-add").click();
    await expect(page.getByTestId("webhook-error")).toContainText(/http/);
    await page.getByTestId("webhook-url").fill(`http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`);
    await page.getByTestId("webhook-add").click();
    await expect(page.getByTestId("webhook")).toHaveCount(1);

    await page.goto("/");
    await page.getByTestId("notify-toggle").click();
    await expect(page.getByTestId("notify-toggle")).toHaveAttribute("data-state", "on");

    const res = await request.post("/api/v1/lanes", {
      data: { objective: "Go red on purpose", repo: repoId, branch: `lane/go-red-${Date.now()}`, worker: { engine: "shell", command: ["true"] }, acceptance: [{ level: "targeted", argv: ["false"] }] },
    });
    expect(res.status()).toBe(201);
    const laneId = ((await res.json()) as { id: string }).id;

    await expect(page.locator("[data-sonner-toast]").filter({ hasText: /went red|failed/ }).first()).toBeVisible();
    await expect.poll(() => page.evaluate(() => (window as unknown as { shownNotifications: string[] }).shownNotifications.length)).toBeGreaterThan(0);
    await expect(page.getByTestId("count-needs-you")).not.toHaveAttribute("data-count", "0");
    await expect(page).toHaveTitle(/^\(\d+\) Laneboard$/);
    await expect(page.locator(`[data-testid="attention-item"][data-lane-id="${laneId}"]`)).toHaveAttribute("data-kind", "red");
    await page.screenshot({ path: "e2e/artifacts/board-alert.png" });

    await expect.poll(() => received.filter((e) => e.laneId === laneId).map((e) => e.type)).toContain("lane.red");
    await page.goto("/settings");
    await expect(page.locator('[data-testid="webhook-delivery"][data-status="delivered"]').first()).toBeVisible();
  } finally {
    hook.close();
  }
});

test("While the server is unreachable the board says so and disables its actions", async ({ page, context }) => {
  await page.goto("/");
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  await context.setOffline(true);
  await expect(page.getByTestId("server-unreachable")).toBeVisible();
  await expect(page.getByTestId("restart-button").first()).toBeDisabled();
  await context.setOffline(false);
  await expect(page.getByTestId("server-unreachable")).toHaveCount(0);
});
