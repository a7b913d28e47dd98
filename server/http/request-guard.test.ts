/**
 * The request guard on a real HTTP server and a real client (undici fetch, which sends no Origin
 * by itself): what reaches the application behind it and what is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SESSION_COOKIE } from "@/lib/auth";
import { newTokenSecret } from "../auth/secrets";
import { startGuardedApp } from "./request-guard.testing";

const token = newTokenSecret();
let base: string;
let host: string;
let reached: string[];
let close: () => Promise<void>;
beforeAll(async () => ({ base, host, reached, close } = await startGuardedApp(token)));
afterAll(() => close());

const bearer = { authorization: `Bearer ${token}` };
async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  return ((await res.json()) as { error: { code: string; message: string } }).error;
}

describe("request guard", () => {
  it("GET /api/v1/board – 401 unauthorized without credentials; passes with the bearer token", async () => {
    const res = await fetch(`${base}/api/v1/board`);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).code).toBe("unauthorized");
    expect((await fetch(`${base}/api/v1/board`, { headers: bearer })).status).toBe(200);
  });

  it("GET /api/v1/board?token= – a token in an API URL is refused even when valid", async () => {
    const res = await fetch(`${base}/api/v1/board?token=${token}`);
    expect(res.status).toBe(401);
    expect((await errorOf(res)).message).toContain("not accepted in the URL");
  });

  it("GET /?token= – sets an HttpOnly SameSite=Strict cookie and redirects to the bare URL, which then opens", async () => {
    const res = await fetch(`${base}/lanes/x?tab=logs&token=${token}`, { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/lanes/x?tab=logs");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    const session = cookie.split(";")[0]!;
    expect((await fetch(`${base}/lanes/x`, { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(`${base}/api/v1/board`, { headers: { cookie: session } })).status).toBe(200);
  });

  it("GET /?token=<wrong> – 401 page, no cookie; a page without a session is a 401 page too", async () => {
    const wrong = await fetch(`${base}/?token=nope`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("not valid");
    const bare = await fetch(`${base}/`, { headers: { accept: "text/html" } });
    expect(bare.status).toBe(401);
    expect(await bare.text()).toContain("&#60;data-dir&#62;/token");
  });

  it("the redirect never leaves the server (no //host Location)", async () => {
    const res = await fetch(`${base}/.//evil.example/?token=${token}`, { redirect: "manual" });
    expect(res.headers.get("location")).not.toMatch(/^\/\//);
  });

  it("serves Next.js's static assets without a session", async () => {
    expect((await fetch(`${base}/_next/static/chunks/x.js`)).status).toBe(200);
  });

  it("sends the anti-framing, nosniff and no-referrer headers on every response", async () => {
    for (const res of [await fetch(`${base}/`), await fetch(`${base}/api/v1/board`, { headers: bearer })]) {
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("POST /api/v1/lanes – 403 forbidden for a foreign Host, a foreign or null Origin, or Sec-Fetch-Site cross-site, even with the token", async () => {
    const before = reached.length;
    const attempts: Record<string, string>[] = [
      { host: "evil.example" },
      { origin: "https://evil.example" },
      { origin: "null" },
      { "sec-fetch-site": "cross-site" },
    ];
    for (const headers of attempts) {
      const res = await rawRequest("POST", "/api/v1/lanes", { ...bearer, host, ...headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(res.body).error.code).toBe("forbidden");
    }
    expect(reached.length).toBe(before);
    expect((await rawRequest("POST", "/api/v1/lanes", { ...bearer, host, origin: base })).status).toBe(200);
  });
});

/** A request with exactly these headers (fetch will not send a foreign Host). */
async function rawRequest(method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers, setHost: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
