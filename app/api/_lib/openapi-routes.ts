/**
 * The OpenAPI document of `/api/v1` from the routes' own declarations (route-index.ts): each
 * exported method handler carries the options it was declared with (`route(fn, opts)`), and
 * those schemas are what its requests are parsed with.
 */
import pkg from "@/package.json";
import { buildOpenApi, type RouteDoc } from "@/lib/openapi/build-openapi";
import { API_ROUTES, HTTP_METHODS, type RouteModule } from "./route-index";

/** One RouteDoc per exported method of each module, in index order. */
export function routeDocs(routes: Readonly<Record<string, RouteModule>> = API_ROUTES): RouteDoc[] {
  const docs: RouteDoc[] = [];
  for (const [path, mod] of Object.entries(routes)) {
    for (const method of HTTP_METHODS) {
      const d = mod[method]?.declaration;
      if (!d) continue;
      const { scope, summary, description, status, idempotent, params, query, body, textBody, response, stream, errors } = d;
      docs.push({ method: method.toLowerCase() as RouteDoc["method"], path, scope, summary, description, status, idempotent, params, query, body, textBody, response, stream, errors });
    }
  }
  return docs;
}

let cached: ReturnType<typeof buildOpenApi> | undefined;

/** The document (built once per process: the routes cannot change while it runs). */
export function apiDocument(): ReturnType<typeof buildOpenApi> {
  cached ??= buildOpenApi(routeDocs(), pkg.version);
  return cached;
}
