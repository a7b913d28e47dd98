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
  /** More detail (Markdown). */
  description?: string;
  /** The token scope the route needs (`read`, `control`, `admin`). */
  scope?: string;
  params?: z.ZodObject;
  /** An object schema, or one piped into a transform (its input object is documented). */
  query?: z.ZodType;
  body?: z.ZodType;
  /** A second content type (e.g. `text/yaml`) whose body is sent as text. */
  textBody?: string;
  /** The route honours an `Idempotency-Key` header. */
  idempotent?: boolean;
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
const COMMON_ERRORS: ErrorCode[] = ["unauthorized", "forbidden", "invalid_input", "internal"];

/** The header of an idempotent call (server/idempotency, after draft-ietf-httpapi-idempotency-key-header). */
const IdempotencyHeaders = z.object({
  "Idempotency-Key": z
    .string()
    .min(1)
    .max(255)
    .optional()
    .describe("1..255 visible ASCII characters. A retry with the same key and body gets the first answer (`Idempotent-Replayed: true`); another body with the same key is 409 `idempotency_mismatch`."),
});

/** Error codes an operation can answer with: the common ones, what its shape implies, and what it declares. */
function errorCodesOf(r: RouteDoc): ErrorCode[] {
  const implied: ErrorCode[] = [];
  // A path parameter can be malformed (bad percent-encoding: 400) or name nothing (404).
  if (r.params) implied.push("bad_request", "not_found");
  if (r.body) implied.push("bad_request");
  if (r.idempotent) implied.push("idempotency_mismatch");
  return [...new Set([...COMMON_ERRORS, ...implied, ...(r.errors ?? [])])];
}

/** The group an operation is listed under: the first path segment after `/api/v1` (`lanes`, `events`, …). */
function tagOf(path: string): string {
  return path.replace(/^\/api\/v1\/?/, "").split("/")[0]?.replace(/\.json$/, "") || "api";
}

/** A stable operation id from method and path: `get /api/v1/lanes/{id}/worker` → `getLanesIdWorker`. */
function operationIdOf(method: string, path: string): string {
  const words = path.replace(/^\/api\/v1\/?/, "").split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

/** The object of query parameters behind a schema that transforms them (`object.transform(…)` is a pipe from the object). */
function queryObject(schema: z.ZodType): z.ZodObject {
  let s: z.ZodType = schema;
  while (s instanceof z.ZodPipe) s = s.in as z.ZodType;
  if (!(s instanceof z.ZodObject)) throw new Error("a query schema must be an object (or an object piped into a transform)");
  return s;
}

/** Build the document. `info.version` is the package version. */
export function buildOpenApi(routes: readonly RouteDoc[], version: string) {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A Laneboard token (`<data-dir>/token`, or one made with POST /api/v1/tokens); scopes read, control, admin",
  });
  for (const r of routes) {
    const codes = errorCodesOf(r);
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
    const errors = Object.fromEntries(
      [...byStatus].map(([status, cs]) => [status, { description: `Error: ${cs.join(", ")}`, content: { "application/json": { schema: ErrorBodySchema } } }]),
    );
    const success = r.stream
      ? { description: r.summary, content: { [r.stream]: { schema: z.string() } } }
      : { description: r.summary, ...(r.response ? { content: { "application/json": { schema: r.response } } } : {}) };
    const body = r.body ? { "application/json": { schema: r.body }, ...(r.textBody ? { [r.textBody]: { schema: z.string() } } : {}) } : null;
    registry.registerPath({
      method: r.method,
      path: r.path,
      operationId: operationIdOf(r.method, r.path),
      tags: [tagOf(r.path)],
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      security: [{ [bearer.name]: r.scope ? [r.scope] : [] }],
      ...(r.scope ? { "x-scope": r.scope } : {}),
      request: {
        ...(r.params ? { params: r.params } : {}),
        ...(r.query ? { query: queryObject(r.query) } : {}),
        ...(r.idempotent ? { headers: IdempotencyHeaders } : {}),
        ...(body ? { body: { content: body } } : {}),
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
