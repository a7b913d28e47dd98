/**
 * The route index (route-index.ts) and the OpenAPI document against the file system: every
 * `app/api/v1/**\/route.ts` and every method it exports is in the index with the very declaration
 * its handler parses with, and in the document with its path parameters.
 */
import { describe, expect, it } from "vitest";
import { listRouteFiles } from "../_testing/route-server";
import { apiDocument, routeDocs } from "./openapi-routes";
import { API_ROUTES, HTTP_METHODS } from "./route-index";

/** `/api/v1/lanes/[id]` → `/api/v1/lanes/{id}`. */
const openApiPath = (pattern: string) => pattern.replace(/\[(\w+)\]/g, "{$1}");
const apiRoutes = listRouteFiles().filter((r) => r.pattern.startsWith("/api/v1/") || r.pattern === "/api/v1");

describe("the route index", () => {
  it("lists exactly the route.ts files under app/api/v1", () => {
    expect(apiRoutes.length).toBeGreaterThan(30);
    expect(Object.keys(API_ROUTES).sort()).toEqual(apiRoutes.map((r) => openApiPath(r.pattern)).sort());
  });

  it("holds every exported method with the declaration its handler runs with", async () => {
    for (const r of apiRoutes) {
      const mod = (await import(r.file)) as Record<string, unknown>;
      const exported = HTTP_METHODS.filter((m) => typeof mod[m] === "function");
      const entry = API_ROUTES[openApiPath(r.pattern)]!;
      expect(HTTP_METHODS.filter((m) => entry[m]), r.pattern).toEqual(exported);
      for (const m of exported) {
        const declaration = (mod[m] as { declaration?: unknown }).declaration;
        expect(declaration, `${m} ${r.pattern} is not declared with route()`).toBeDefined();
        expect(entry[m]!.declaration, `${m} ${r.pattern}`).toBe(declaration);
      }
    }
  });
});

describe("GET /api/v1/openapi.json's document", () => {
  const doc = apiDocument();

  it("has an operation for every exported method, with its path parameters declared", () => {
    const ops = routeDocs();
    expect(ops.length).toBeGreaterThan(40);
    for (const op of ops) {
      const operation = doc.paths?.[op.path]?.[op.method];
      expect(operation, `${op.method} ${op.path}`).toBeDefined();
      const inPath = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const declared = ((operation!.parameters ?? []) as { name: string; in: string }[]).filter((p) => p.in === "path").map((p) => p.name);
      expect(declared.sort(), `path parameters of ${op.method} ${op.path}`).toEqual(inPath.sort());
      expect(operation!.summary, `${op.method} ${op.path}`).toBeTruthy();
      expect(operation!.security).toEqual([{ bearer: [op.scope] }]);
      if (!op.stream) expect(op.response, `${op.method} ${op.path} documents its response`).toBeDefined();
    }
  });

  it("documents every error status with the error shape", () => {
    const lane = doc.paths!["/api/v1/lanes/{id}/worker/prompt"]!.post!;
    expect(Object.keys(lane.responses!).sort()).toEqual(["200", "400", "401", "403", "404", "409", "422", "500"]);
    expect(lane.responses!["409"]).toMatchObject({ description: expect.stringContaining("not_ready"), content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
    expect(lane.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ name: "Idempotency-Key", in: "header" })]));
    const policy = doc.paths!["/api/v1/repos/{id}/policy"]!.put!;
    expect(Object.keys((policy.requestBody as { content: object }).content)).toEqual(["application/json", "text/yaml"]);
  });
});
