/**
 * The declaration of `GET /api/v1/openapi.json`, apart from its route module so the route index
 * can list it without importing the module that imports the index.
 */
import { z } from "zod";
import type { RouteDeclaration } from "./handler";

/** The parts of an OpenAPI 3.1 document a client relies on; the rest is as the specification says. */
export const OpenApiDocumentSchema = z.looseObject({
  openapi: z.string().describe("3.1.0"),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.record(z.string(), z.unknown())),
  components: z.looseObject({}).optional(),
});

export const OPENAPI_ROUTE = {
  scope: "read",
  summary: "This API as an OpenAPI 3.1 document",
  description: "Generated from the zod schemas the routes parse with; the app renders it at `/docs/api`.",
  response: OpenApiDocumentSchema,
} satisfies RouteDeclaration;
