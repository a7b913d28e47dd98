/**
 * The OpenAPI 3.1 document of `/api/v1`, generated with `@asteasolutions/zod-to-openapi` from
 * route declarations that carry the same zod schemas the handlers parse with: nothing in the
 * document is written by hand. Every operation gets the bearer-token security requirement (with
 * its scope as `x-scope` when declared) and the API's error shape for its error codes.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../errors";

/** What a route declares about itself, next to its handler. */
export interface RouteDoc {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI path, `{id}` for parameters: `/api/v1/lanes/{id}`. */
  path: string;
  summary: string;
  /** The token scope the route needs (`read`, `control`, `admin`). */
  scope?: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Success status (default 200) and body; `stream` for a text/event-stream answer. */
  status?: number;
  response?: z.ZodType;
  stream?: "text/event-stream" | "text/plain";
  /** Error codes the route answers with besides the ones every route has (lib/errors.ts). */
  errors?: ErrorCode[];
}

/** The error body every failure has. */
export const ErrorBodySchema = z
  .object({ error: z.object({ code: z.string().describe("Machine-readable code (lib/errors.ts)"), message: z.string(), details: z.record(z.string(), z.unknown()).optional() }) })
  .meta({ id: "Error" });

/** Codes any route may answer with. */
const COMMON_ERRORS: ErrorCode[] = ["unauthorized", "invalid_input", "internal"];

/** Build the document. `info.version` is the package version. */
export function buildOpenApi(routes: readonly RouteDoc[], version: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A Laneboard token (`<data-dir>/token`, or one made with POST /api/v1/tokens); scopes read, control, admin",
  });
  for (const r of routes) {
    const codes = [...new Set([...COMMON_ERRORS, ...(r.errors ?? [])])];
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    const errors = Object.fromEntries(
      [...byStatus].map(([status, cs]) => [status, { description: `Error: ${cs.join(", ")}`, content: { "application/json": { schema: ErrorBodySchema } } }]),
    );
    const success = r.stream
      ? { description: r.summary, content: { [r.stream]: { schema: z.string() } } }
      : { description: r.summary, ...(r.response ? { content: { "application/json": { schema: r.response } } } : {}) };
    registry.registerPath({
      method: r.method,
      path: r.path,
      summary: r.summary,
      security: [{ [bearer.name]: r.scope ? [r.scope] : [] }],
      ...(r.scope ? { "x-scope": r.scope } : {}),
      request: {
        ...(r.params ? { params: r.params } : {}),
        ...(r.query ? { query: r.query } : {}),
        ...(r.body ? { body: { content: { "application/json": { schema: r.body } } } } : {}),
      },
      responses: { [r.status ?? 200]: success, ...errors },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: { title: "Laneboard API", version, description: "Lanes, workers, events and processes of a Laneboard server. Guide for automated clients: docs/claws.md." },
    servers: [{ url: "/" }],
  });
}
