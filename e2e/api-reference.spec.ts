/**
 * The API reference page (/docs/api) renders the OpenAPI document the server serves: every
 * operation of GET /api/v1/openapi.json appears, linked from the board's header, at desktop and
 * phone widths, with no request leaving the server's origin (no fonts or assets from elsewhere).
 */
import { expect, openBoard, test } from "./support";

test("GET /docs/api renders every operation of /api/v1/openapi.json, from the header link, without other origins", async ({ page, request, baseURL }) => {
  const doc = (await (await request.get("/api/v1/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
  const count = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
  expect(count).toBeGreaterThan(40);
  const origins = new Set<string>();
  page.on("request", (req) => origins.add(new URL(req.url()).origin));

  await page.setViewportSize({ width: 1440, height: 900 });
  await page.getByTestId("api-reference-link").click();
  await expect(page).toHaveURL(/\/docs\/api$/);
  await expect(page.getByTestId("api-operation")).toHaveCount(count);
  await expect(page.getByText("/api/v1/lanes/{id}/worker/prompt").first()).toBeVisible();
  await page.screenshot({ path: "e2e/artifacts/api-reference.png" });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/docs/api#postLanes");
  await expect(page.locator("#postLanes")).toBeInViewport();
  await page.screenshot({ path: "e2e/artifacts/api-reference-phone.png" });
  expect([...origins]).toEqual([new URL(baseURL!).origin]);
});

test("the header's links stay where the server drew them once the page runs, so a click during hydration lands", async ({ page, browser, baseURL }) => {
  const boxes = async (p: typeof page) => Promise.all(["api-reference-link", "settings-link"].map(async (id) => p.getByTestId(id).boundingBox()));
  // The server's HTML alone: the app's scripts are refused (the inline ones that place streamed
  // parts still run), so nothing hydrates and the status says "Connecting…" as the server drew it.
  const html = await browser.newContext({ baseURL, viewport: { width: 1440, height: 900 } });
  await html.route(/\/_next\/static\/.*\.js$/, (route) => route.abort());
  const still = await html.newPage();
  await openBoard(still);
  await expect(still.getByTestId("connection-status")).toHaveAttribute("data-status", "connecting");
  const drawn = await boxes(still);
  await html.close();
  // The running page, hydrated and connected ("Live").
  await expect(page.getByTestId("connection-status")).toHaveAttribute("data-status", "connected");
  expect(drawn, "both links are drawn").toEqual([expect.objectContaining({ width: expect.any(Number) }), expect.objectContaining({ width: expect.any(Number) })]);
  expect(await boxes(page)).toEqual(drawn);
});
