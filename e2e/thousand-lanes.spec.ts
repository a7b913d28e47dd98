import { type Page } from "@playwright/test";
import { expect, openBoard, seedManyLanes, test } from "./support";

// Runs last (file order): it adds 1,200 settled lanes to the e2e server's database, in a repo of
// their own, through a second SQLite connection (WAL), then looks at the board.
const COUNT = 1200;
test.describe.configure({ timeout: 300_000 });

test.beforeAll(async ({ request }) => {
  await seedManyLanes(request, COUNT, "e2e");
});

test("GET / – the server's HTML holds the board's first screen for the view in the URL, not the whole board", async ({ request }) => {
  const count = (html: string, testId: string) => html.split(`data-testid="${testId}"`).length - 1;
  const cards = await (await request.get("/")).text();
  expect(count(cards, "attention-panel")).toBe(1);
  expect(count(cards, "attention-item")).toBe(8);
  expect(count(cards, "lane-card")).toBe(12);
  expect(cards).toMatch(/data-testid="board-shown"[^>]*data-shown="\d{4}"/);
  // The first screen, not the 1,200 lanes (whose board document is over 1.5 MB).
  expect(cards.length).toBeLessThan(400_000);

  const found = await (await request.get("/?q=e2e-000123")).text();
  expect(count(found, "lane-card")).toBe(1);
  expect(found).toContain("e2e-000123");
  const table = await (await request.get("/?view=table")).text();
  // The table's first rows: a window's height of them, as many as the first screen carries at most.
  expect(count(table, "lane-row")).toBeGreaterThanOrEqual(20);
  expect(count(table, "lane-row")).toBeLessThanOrEqual(32);
  expect(count(table, "lane-card")).toBe(0);
});

/** How many elements with this test id lie within the window (at least partly). */
function onScreen(page: Page, testId: string): Promise<number> {
  return page.evaluate((id) => [...document.querySelectorAll(`[data-testid="${id}"]`)].filter((el) => {
    const r = el.getBoundingClientRect();
    return r.height > 0 && r.bottom > 0 && r.top < innerHeight;
  }).length, testId);
}

async function noSidewaysScroll(page: Page): Promise<void> {
  const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  expect(scroll).toBeLessThanOrEqual(inner);
}

test("the board renders 1,200+ lanes virtualized: few DOM nodes, Needs you first, filters still work", async ({ page, request }) => {
  const snap = await (await request.get("/api/v1/board")).json();
  expect(snap.lanes.length).toBeGreaterThanOrEqual(COUNT);

  const errors: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
  page.on("pageerror", (e) => void errors.push(e.message));
  await page.goto("/");
  await expect(page.getByTestId("lane-card").first()).toBeVisible();
  await expect(page.getByTestId("board-shown")).toHaveAttribute("data-shown", String(snap.lanes.length));
  // The server-rendered first screen hydrates without a mismatch (production React reports one as
  // "Minified React error #418" or #425).
  expect(errors.filter((e) => /hydrat|Minified React error/i.test(e))).toEqual([]);
  const nodes = await page.evaluate(() => document.querySelectorAll("*").length);
  expect(nodes).toBeLessThanOrEqual(3000);
  expect(await page.getByTestId("lane-card").count()).toBeLessThan(60);
  // The 240 red seeded lanes are at the top, newest first, with Restart.
  await expect(page.getByTestId("attention-panel")).not.toHaveAttribute("data-count", "0");
  await expect(page.getByTestId("attention-action").first()).toBeVisible();
  await noSidewaysScroll(page);
  await page.screenshot({ path: "e2e/artifacts/board-1200-1440.png" });

  // Scrolled far down, other cards are rendered instead, where the window shows them (the
  // virtualizer places them itself, board-views.tsx): still few nodes.
  await page.mouse.wheel(0, 60_000);
  await expect(page.getByTestId("lane-card").first()).toBeVisible();
  await expect.poll(() => onScreen(page, "lane-card")).toBeGreaterThanOrEqual(4);
  expect(await page.evaluate(() => document.querySelectorAll("*").length)).toBeLessThanOrEqual(3000);
  // The table's server HTML (its first screen of rows) scrolled to its end before the page runs
  // (the app's scripts held back until then): once hydrated, rows fill the window where it is,
  // without another scroll. Before, the virtualizer took the window for scrolled to the top, and
  // the page went back there as it hydrated: the person's scroll was lost.
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => (release = r));
  // Scripts only: the stylesheets are chunks too, and holding them would hold the first paint.
  const appScripts = (url: URL) => url.pathname.startsWith("/_next/static/") && url.pathname.endsWith(".js");
  await page.route(appScripts, async (route) => {
    await held;
    await route.continue();
  });
  // Not "load" nor "domcontentloaded": the held deferred scripts keep both from firing.
  await page.goto("/?view=table", { waitUntil: "commit" });
  await expect(page.getByTestId("board-table")).toBeVisible();
  const scrolled = await page.evaluate(() => {
    window.scrollTo(0, document.documentElement.scrollHeight);
    return window.scrollY;
  });
  expect(scrolled).toBeGreaterThan(500);
  release();
  // Hydrated: the times are shown only then.
  await expect(page.getByTestId("lane-row").first().locator("time")).not.toBeEmpty();
  expect(await page.evaluate(() => window.scrollY)).toBe(scrolled);
  await expect.poll(() => onScreen(page, "lane-row")).toBeGreaterThanOrEqual(20);
  await page.unroute(appScripts);
  // And a scroll after that.
  await page.mouse.wheel(0, 10_000);
  await expect.poll(() => onScreen(page, "lane-row")).toBeGreaterThanOrEqual(15);

  await page.goto("/?q=e2e-000123");
  await expect(page.getByTestId("lane-card")).toHaveCount(1);
  await page.goto("/?view=columns");
  await expect(page.getByTestId("board-column")).toHaveCount(5);
  await page.screenshot({ path: "e2e/artifacts/board-1200-columns.png" });
});

test("at phone width and at 200 % zoom the board does not scroll sideways", async ({ browser }) => {
  for (const [name, viewport, scale] of [
    ["390", { width: 390, height: 844 }, 1],
    ["zoom200", { width: 720, height: 450 }, 2],
  ] as const) {
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: scale });
    const page = await ctx.newPage();
    // A context of its own starts without the session cookie: in through the token URL, as a user.
    await openBoard(page);
    await expect(page.getByTestId("lane-card").first()).toBeVisible();
    await noSidewaysScroll(page);
    // Every count in the header is whole on screen (at 390 px the fourth was cut off mid-word
    // once): they wrap, none past the edge or in a hidden scroll.
    const counts = page.getByTestId("board-counts");
    expect(await counts.getByRole("button").count()).toBeGreaterThanOrEqual(4);
    const rights = await counts.getByRole("button").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right));
    for (const right of rights) expect(right).toBeLessThanOrEqual(viewport.width);
    expect(await counts.evaluate((ul) => ul.scrollWidth - ul.clientWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `e2e/artifacts/board-1200-${name}.png` });
    for (const url of ["/settings", "/lanes/new", "/?view=table"]) {
      await page.goto(url);
      await page.waitForLoadState("networkidle");
      await noSidewaysScroll(page);
    }
    await page.goto("/settings");
    await page.screenshot({ path: `e2e/artifacts/settings-${name}.png`, fullPage: true });
    await ctx.close();
  }
});

test("grey text has a contrast of at least 4.5:1 and every control shows focus", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByTestId("lane-card").first()).toBeVisible();
  // WCAG 2.x relative luminance of the text colour against the page background.
  const worst = await page.evaluate(() => {
    // Computed colours may be oklch() (Tailwind 4): a canvas turns any CSS colour into sRGB bytes.
    const canvas = document.createElement("canvas").getContext("2d", { willReadFrequently: true })!;
    const srgb = (c: string) => {
      canvas.clearRect(0, 0, 1, 1);
      canvas.fillStyle = c;
      canvas.fillRect(0, 0, 1, 1);
      return [...canvas.getImageData(0, 0, 1, 1).data.slice(0, 3)];
    };
    const lum = (c: string) => {
      const [r, g, b] = srgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const bg = lum(getComputedStyle(document.body).backgroundColor);
    let min = 21;
    let at = "";
    for (const el of document.querySelectorAll<HTMLElement>("p, span, dt, dd, time, label, a, button, h1, h2, h3")) {
      if (!el.textContent?.trim() || el.closest("[data-testid=lane-log]") || el.closest("[disabled]")) continue;
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.opacity === "0" || el.closest("[aria-hidden=true]")) continue;
      const fg = lum(style.color);
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < min) [min, at] = [ratio, `${el.tagName} ${el.className} "${el.textContent.slice(0, 30)}"`];
    }
    return { min, at };
  });
  expect(worst.min, worst.at).toBeGreaterThanOrEqual(4.5);

  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).not.toBe("none");
});
