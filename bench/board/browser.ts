/**
 * What the board costs in a real browser (Debian's chromium through Playwright): first render
 * time and DOM size, main-thread long tasks (PerformanceObserver "longtask", tasks over 50 ms)
 * while events arrive, and frames per second while scrolling.
 */
import { chromium, type Browser, type BrowserContext, type Page } from "@playwright/test";

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"] });
}

/**
 * A browser context signed in to the board as a user is: through the token URL the server
 * printed, which sets the session cookie (and redirects to the board without the token).
 */
export async function signIn(browser: Browser, url: string, token: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${url}/?token=${encodeURIComponent(token)}`);
  await page.close();
  return context;
}

/** What counts as the board being there: a lane card, the empty board, or the "Needs you" panel. */
const BOARD_SHOWN = "[data-testid=lane-card], [data-testid=board-empty], [data-testid=attention-panel]";

async function openBoard(browser: BrowserContext, url: string): Promise<Page> {
  const page = await browser.newPage();
  // A string, not a function: see scrollFps. Long tasks, and the frame that first shows the board:
  // the DOM is watched from the very start (before the HTML is parsed), and the first animation
  // frame after the board's element was inserted is the one that paints it.
  await page.addInitScript(`(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.longTasks.push(e.duration); }).observe({ type: "longtask", buffered: true });
    window.boardShown = null;
    const seen = new MutationObserver(() => {
      if (!document.querySelector(${JSON.stringify(BOARD_SHOWN)})) return;
      seen.disconnect();
      const inDom = performance.now();
      requestAnimationFrame(() => { window.boardShown = { inDom, painted: performance.now(), nodes: document.querySelectorAll("*").length }; });
    });
    seen.observe(document, { childList: true, subtree: true });
  })()`);
  await page.goto(url);
  await page.waitForSelector(BOARD_SHOWN, { timeout: 120_000 });
  return page;
}

/**
 * ms from navigation start until the frame that first paints the board (its first card, the
 * empty board or the "Needs you" panel), and the DOM's element count in that frame.
 */
export async function firstRender(browser: BrowserContext, url: string): Promise<{ ms: number; nodes: number }> {
  const page = await openBoard(browser, url);
  await page.waitForFunction("window.boardShown !== null");
  const r = (await page.evaluate("window.boardShown")) as { painted: number; nodes: number };
  await page.close();
  return { ms: r.painted, nodes: r.nodes };
}

/**
 * Long tasks (ms) on the main thread while `during` runs, after the board has settled.
 * @param tracePath when given, a Chrome trace of that time is written there (as {@link scrollFps})
 */
export async function longTasksDuring(browser: BrowserContext, url: string, during: () => Promise<void>, tracePath?: string): Promise<number[]> {
  const page = await openBoard(browser, url);
  await page.waitForTimeout(2000);
  const chrome = browser.browser();
  if (tracePath && chrome) await chrome.startTracing(page, { path: tracePath, screenshots: false, categories: TRACE_CATEGORIES });
  await page.evaluate("window.longTasks = []");
  await during();
  const tasks = (await page.evaluate("window.longTasks")) as number[];
  if (tracePath && chrome) await chrome.stopTracing();
  await page.close();
  return tasks;
}

/** What a trace records: the devtools timeline (tasks, frames, layout), JS samples, user timing. */
const TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "disabled-by-default-devtools.timeline.frame", "v8.execute", "disabled-by-default-v8.cpu_profiler", "blink.user_timing", "toplevel"];

/**
 * Frames per second while the board scrolls down and up for `ms`.
 * @param tracePath when given, a Chrome trace of the scroll (devtools timeline categories, JS
 *   samples) is written there, for chrome://tracing or Perfetto
 */
export async function scrollFps(browser: BrowserContext, url: string, ms: number, tracePath?: string): Promise<number> {
  const page = await openBoard(browser, url);
  await page.waitForTimeout(1500);
  const chrome = browser.browser();
  if (tracePath && chrome) {
    await chrome.startTracing(page, { path: tracePath, screenshots: false, categories: TRACE_CATEGORIES });
  }
  // A string, not a function: tsx (esbuild keepNames) would wrap the inner arrow functions in a
  // `__name` helper that exists only in Node, not in the page.
  const fps = (await page.evaluate(`new Promise((resolve) => {
    let frames = 0;
    let dir = 1;
    const start = performance.now();
    const step = (t) => {
      frames++;
      const max = document.documentElement.scrollHeight - innerHeight;
      if (scrollY >= max - 5) dir = -1;
      if (scrollY <= 5) dir = 1;
      scrollBy(0, 60 * dir);
      if (t - start < ${Number(ms)}) requestAnimationFrame(step);
      else resolve((frames * 1000) / (t - start));
    };
    requestAnimationFrame(step);
  })`)) as number;
  if (tracePath && chrome) await chrome.stopTracing();
  await page.close();
  return fps;
}
