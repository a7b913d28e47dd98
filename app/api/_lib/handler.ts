/**
 * The one wrapper every API route handler uses: it authenticates the caller, checks the route's
 * declared scope, resolves route params, runs the handler against the runtime, and turns every
 * failure into `{ error: { code, message } }` with the status from lib/errors.ts. Unknown errors
 * become a 500 that reveals nothing (and are logged).
 *
 * Each route declares what it needs, so the declaration can be read (and documented) per route:
 * `export const POST = route(fn, { scope: "control", status: 201 })`.
 */
import type { z } from "zod";
import type { Scope } from "@/lib/auth";
import { AppError, httpStatusFor, isAppError } from "@/lib/errors";
import { storageFailureOf } from "@/lib/storage-errors";
import { MAX_BODY_DEPTH, nestedDeeperThan } from "@/lib/request-limits";
import { parseOrThrow } from "@/lib/validate";
import { getRuntime } from "@/server/runtime-global";
import { assertRepoReach } from "./repo-reach";
import type { Caller } from "@/server/auth/auth-service";
import type { Runtime } from "@/server/runtime";

type Params = Record<string, string>;
export interface HandlerContext<P extends Params> {
  req: Request;
  params: P;
  rt: Runtime;
  /** Who is calling (token name or `board`, scopes, repos). */
  caller: Caller;
}

/** What a route declares besides its handler. */
export interface RouteOptions {
  /** The scope the caller's token needs (scopes nest: admin ⊇ control ⊇ read). */
  scope: Scope;
  /** Success status (default 200). */
  status?: number;
  /**
   * A call with an `Idempotency-Key` header runs once per caller, key and body; a retry gets the
   * first answer (`Idempotent-Replayed: true`), another body with the same key 409
   * `idempotency_mismatch` (server/idempotency).
   */
  idempotent?: boolean;
}

/** Longest route parameter (an id) any object can have; longer ones never reach the store or the file system. */
export const MAX_PARAM_LENGTH = 200;

/**
 * The error answer for anything a handler threw. System errors a client's input can cause are
 * still that client's 4xx (a name too long for the file system), storage that refused for a
 * passing reason a 503 (`disk_full`, or `unavailable` for a database locked by another
 * connection: lib/storage-errors.ts); anything else is a genuine fault: a 500 that reveals nothing, logged with the
 * request id (`x-request-id`, set by the server for every request) that the body also carries.
 */
export function errorResponse(err: unknown, req?: Request): Response {
  if (isAppError(err)) return Response.json(err.toBody(), { status: httpStatusFor(err.code) });
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === "ENAMETOOLONG") return errorResponse(new AppError("invalid_input", "a name in the request is too long for the file system"));
  const storage = storageFailureOf(err);
  if (storage === "disk_full") return errorResponse(new AppError("disk_full", "the disk holding Laneboard's data is full; new work is refused until space is freed"));
  // Another connection held the database past the busy timeout: the request did nothing; a retry may pass.
  if (storage === "busy") return errorResponse(new AppError("unavailable", "the database is busy (locked by another connection); try again"));
  const requestId = req?.headers.get("x-request-id") ?? null;
  console.error(`[api] unexpected error (request ${requestId ?? "without id"}: ${req?.method ?? "?"} ${req ? new URL(req.url).pathname : "?"})`, err);
  return Response.json({ error: { code: "internal", message: "internal error", ...(requestId ? { requestId } : {}) } }, { status: 500 });
}

/**
 * Route parameters as the handler may use them. Next.js decodes them: a malformed
 * percent-encoding (`%ZZ`) throws a URIError there, which is the client's 400, not our 500.
 * @throws AppError bad_request (malformed encoding, NUL), not_found (longer than {@link MAX_PARAM_LENGTH})
 */
async function readParams<P extends Params>(params: Promise<P>): Promise<P> {
  let values: P;
  try {
    values = await params;
  } catch (err) {
    if (err instanceof URIError) throw new AppError("bad_request", "malformed percent-encoding in the request path");
    throw err;
  }
  for (const [name, value] of Object.entries(values ?? {})) {
    const text = Array.isArray(value) ? value.join("/") : String(value);
    if (text.includes("\0")) throw new AppError("bad_request", `NUL byte in the path parameter ${name}`);
    if (text.length > MAX_PARAM_LENGTH) throw new AppError("not_found", `no ${name} of ${text.length} characters exists (at most ${MAX_PARAM_LENGTH})`);
  }
  return values;
}

/**
 * Wrap a handler. 401 `unauthorized` without valid credentials, 403 `forbidden` outside the
 * declared scope; the handler runs only after both checks, as its caller (server/events/event-actor.ts:
 * the lane events it appends record `by`). A handler that returns a Response
 * (a stream) sends it as is.
 */
export function route<P extends Params = Params>(fn: (ctx: HandlerContext<P>) => Promise<unknown>, opts: RouteOptions) {
  return async (req: Request, ctx: { params: Promise<P> }): Promise<Response> => {
    try {
      const rt = getRuntime();
      const caller = rt.auth.require({ authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") });
      rt.auth.authorize(caller, opts.scope);
      const params = await readParams(ctx.params);
      await assertRepoReach(rt, caller, req, params);
      const key = opts.idempotent ? req.headers.get("idempotency-key") : null;
      if (key !== null) {
        const text = await req.text();
        // The handler reads the body again from a copy.
        const copy = new Request(req.url, { method: req.method, headers: req.headers, body: text || undefined, signal: req.signal });
        const call = { credentials: caller.tokenId ?? caller.by, route: `${req.method} ${new URL(req.url).pathname}`, key, body: text };
        const answer = await rt.idempotency.run(call, async () => ({ status: opts.status ?? 200, body: await rt.events.actingAs(caller.by, () => fn({ req: copy, params, rt, caller })) }));
        return Response.json(answer.body, { status: answer.status, headers: answer.replayed ? { "Idempotent-Replayed": "true" } : {} });
      }
      const body = await rt.events.actingAs(caller.by, () => fn({ req, params, rt, caller }));
      if (body instanceof Response) return body;
      return Response.json(body, { status: opts.status ?? 200 });
    } catch (err) {
      return errorResponse(err, req);
    }
  };
}

/**
 * Read and validate a JSON body. An empty body is `{}`.
 * @throws AppError bad_request (not JSON, nested deeper than MAX_BODY_DEPTH), invalid_input (schema, naming the field).
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
    if (nestedDeeperThan(data, MAX_BODY_DEPTH)) throw new AppError("bad_request", `request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return parseOrThrow(schema, data);
}

/** Validate the query string with a schema (values arrive as strings; use z.coerce). */
export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseOrThrow(schema, Object.fromEntries(new URL(req.url).searchParams));
}
