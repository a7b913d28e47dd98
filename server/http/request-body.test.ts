/**
 * The request guard's body checks on a real HTTP server and client: the cross-site "simple"
 * content types never reach a handler (415), a declared body over 1 MiB is refused unread (413),
 * JSON (and YAML for a repo's policy) passes.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, MAX_BODY_DEPTH, bodyKindOf, nestedDeeperThan } from "@/lib/request-limits";
import { newTokenSecret } from "../auth/secrets";
import { startGuardedApp } from "./request-guard.testing";

const token = newTokenSecret();
let base: string;
let reached: string[];
let close: () => Promise<void>;
beforeAll(async () => ({ base, reached, close } = await startGuardedApp(token)));
afterAll(() => close());

async function post(path: string, contentType: string | null, body: string): Promise<{ status: number; code?: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (contentType) headers["content-type"] = contentType;
  const res = await fetch(base + path, { method: "POST", headers, body });
  const text = await res.text();
  return { status: res.status, code: text.startsWith("{") ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined };
}

describe("request guard: bodies", () => {
  it("POST /api/v1/lanes – text/plain, form-urlencoded, multipart and no content type are 415 and never reach the handler", async () => {
    const before = reached.length;
    for (const type of ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", null]) {
      expect(await post("/api/v1/lanes", type, '{"objective":"x"}'), String(type)).toEqual({ status: 415, code: "unsupported_media_type" });
    }
    expect(reached.length).toBe(before);
    expect((await post("/api/v1/lanes", "application/json; charset=utf-8", "{}")).status).toBe(200);
  });

  it("PUT /api/v1/repos/:id/policy – YAML passes there, and only there", async () => {
    const res = await fetch(`${base}/api/v1/repos/r1/policy`, { method: "PUT", headers: { authorization: `Bearer ${token}`, "content-type": "application/yaml" }, body: "rules: []\n" });
    expect(res.status).toBe(200);
    expect(await post("/api/v1/lanes", "application/yaml", "a: 1\n")).toEqual({ status: 415, code: "unsupported_media_type" });
  });

  it("POST /api/v1/lanes – a declared body over 1 MiB is 413 before any of it is read", async () => {
    const before = reached.length;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/api/v1/lanes`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "content-length": String(50 * 1024 * 1024) },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write("{"); // the rest never comes: the answer must not wait for it
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: "payload_too_large" } });
    expect(reached.length).toBe(before);
    expect((await post("/api/v1/lanes", "application/json", "x".repeat(MAX_BODY_BYTES))).status).toBe(200);
  });

  it("POST /api/v1/lanes/:id/kill – a call without a body needs no content type", async () => {
    const res = await fetch(`${base}/api/v1/lanes/x/kill`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });
});

describe("lib/request-limits", () => {
  it("reads media types with parameters and case, and finds nesting deeper than the limit without recursion", () => {
    expect(bodyKindOf("Application/JSON; charset=utf-8")).toBe("json");
    expect(bodyKindOf("text/yaml")).toBe("yaml");
    expect(bodyKindOf("text/plain")).toBeNull();
    const deep = JSON.parse("[".repeat(100_000) + "]".repeat(100_000)) as unknown;
    expect(nestedDeeperThan(deep, MAX_BODY_DEPTH)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, MAX_BODY_DEPTH)).toBe(false);
  });
});
