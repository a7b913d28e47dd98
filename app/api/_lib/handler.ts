/**
 * The one wrapper every API route handler uses: it resolves route params, runs the handler
 * against the runtime, and turns every failure into `{ error: { code, message } }` with the
 * status from lib/errors.ts. Unknown errors become a 500 that reveals nothing (and are logged).
 */
import type { z } from "zod";
import { AppError, httpStatusFor, isAppError } from "@/lib/errors";
import { parseOrThrow } from "@/lib/validate";
import { getRuntime } from "@/server/runtime-global";
import type { Runtime } from "@/server/runtime";

type Params = Record<string, string>;
export interface HandlerContext<P extends Params> {
  req: Request;
  params: P;
  rt: Runtime;
}

export function errorResponse(err: unknown): Response {
  if (isAppError(err)) return Response.json(err.toBody(), { status: httpStatusFor(err.code) });
  console.error("[api] unexpected error", err);
  return Response.json({ error: { code: "internal", message: "internal error" } }, { status: 500 });
}

/**
 * Wrap a handler; `status` is the success status (default 200). A handler that returns a Response
 * (a stream) sends it as is. `idempotent`: a call with an `Idempotency-Key` header runs once per
 * key and body; a retry gets the first answer (`Idempotent-Replayed: true`), another body with
 * the same key 409 `idempotency_mismatch` (server/idempotency).
 */
export function route<P extends Params = Params>(fn: (ctx: HandlerContext<P>) => Promise<unknown>, opts: { status?: number; idempotent?: boolean } = {}) {
  return async (req: Request, ctx: { params: Promise<P> }): Promise<Response> => {
    try {
      const params = await ctx.params;
      const rt = getRuntime();
      const key = opts.idempotent ? req.headers.get("idempotency-key") : null;
      if (key !== null) {
        const text = await req.text();
        // The handler reads the body again from a copy.
        const copy = new Request(req.url, { method: req.method, headers: req.headers, body: text || undefined, signal: req.signal });
        const call = { credentials: req.headers.get("authorization") ?? "", route: `${req.method} ${new URL(req.url).pathname}`, key, body: text };
        const answer = await rt.idempotency.run(call, async () => ({ status: opts.status ?? 200, body: await fn({ req: copy, params, rt }) }));
        return Response.json(answer.body, { status: answer.status, headers: answer.replayed ? { "Idempotent-Replayed": "true" } : {} });
      }
      const body = await fn({ req, params, rt });
      if (body instanceof Response) return body;
      return Response.json(body, { status: opts.status ?? 200 });
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * Read and validate a JSON body. An empty body is `{}`.
 * @throws AppError bad_request (not JSON), invalid_input (schema, naming the field).
 */
export async function readBody<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await req.text();
  let data: unknown = {};
  if (text.trim()) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new AppError("bad_request", "request body is not valid JSON");
    }
  }
  return parseOrThrow(schema, data);
}

/** Validate the query string with a schema (values arrive as strings; use z.coerce). */
export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseOrThrow(schema, Object.fromEntries(new URL(req.url).searchParams));
}
