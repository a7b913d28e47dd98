/**
 * The one wrapper every API route handler uses: it authenticates the caller, checks the route's
 * declared scope, resolves route params, runs the handler against the runtime, and turns every
 * failure into `{ error: { code, message } }` with the status from lib/errors.ts. Unknown errors
 * become a 500 that reveals nothing (and are logged).
 *
 * Each route declares what it needs next to its handler, and the declaration is both what the
 * request is parsed with and what the OpenAPI document says:
 * `export const POST = route(({ body, rt }) => rt.lanes.create(body), { scope: "control", summary: "Create a lane", body: TaskPacketSchema, status: 201, response: LaneViewSchema })`.
 */
import type { z } from "zod";
import type { Scope } from "@/lib/auth";
import { AppError, httpStatusFor, isAppError, type ErrorCode } from "@/lib/errors";
import { storageFailureOf } from "@/lib/storage-errors";
import { MAX_BODY_BYTES, MAX_BODY_DEPTH, nestedDeeperThan } from "@/lib/request-limits";
import { parseOrThrow } from "@/lib/validate";
import { getRuntime } from "@/server/runtime-global";
import { assertRepoReach } from "./repo-reach";
import type { Caller } from "@/server/auth/auth-service";
import type { Runtime } from "@/server/runtime";

type Params = Record<string, string>;
/** What a declared schema hands the handler: its parsed output, else `D`. */
type Parsed<S, D> = S extends z.ZodType ? z.output<S> : D;

export interface HandlerContext<P = Params, Q = undefined, B = undefined> {
  /** The request; its body is already consumed when the route declares `body` or is idempotent. */
  req: Request;
  /** Route parameters, parsed with the declared `params` schema. */
  params: P;
  /** The query string, parsed with the declared `query` schema (values arrive as strings: use z.coerce). */
  query: Q;
  /** The JSON body (empty = `{}`), parsed with the declared `body` schema. */
  body: B;
  rt: Runtime;
  /** Who is calling (token name or `board`, scopes, repos). */
  caller: Caller;
}

/**
 * What a route declares besides its handler. The schemas are the ones the request is parsed
 * with, and the same objects make the route's OpenAPI operation (app/api/_lib/openapi-routes.ts),
 * so the document cannot drift from what the handler accepts.
 */
export interface RouteOptions<P extends z.ZodObject | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined> {
  /** The scope the caller's token needs (scopes nest: admin ⊇ control ⊇ read). */
  scope: Scope;
  /** One line for the API reference. */
  summary: string;
  /** More detail (Markdown) for the API reference. */
  description?: string;
  /** Success status (default 200). */
  status?: number;
  /**
   * A call with an `Idempotency-Key` header runs once per caller, key and body; a retry gets the
   * first answer (`Idempotent-Replayed: true`), another body with the same key 409
   * `idempotency_mismatch` (server/idempotency).
   */
  idempotent?: boolean;
  /** Path parameters (`[id]` folders); a failure is 422 naming the parameter. */
  params?: P;
  /** Query string; a failure is 422 naming the field. */
  query?: Q;
  /** JSON body; not JSON is 400 `bad_request`, a schema failure 422 naming the field. */
  body?: B;
  /**
   * A content type (e.g. `text/yaml`) whose body reaches the `body` schema as the raw text
   * instead of parsed JSON; any content type but JSON counts as it.
   */
  textBody?: string;
  /** The success body's schema (documentation and the conformance test; not re-validated here). */
  response?: z.ZodType;
  /** The success body is a stream of this type instead of JSON. */
  stream?: "text/event-stream" | "text/plain";
  /** Error codes the route answers with besides unauthorized, forbidden, invalid_input and internal. */
  errors?: ErrorCode[];
}

/** A declaration as stored on the handler, whatever its schemas. */
export type RouteDeclaration = RouteOptions<z.ZodObject | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/** What Next.js calls, with the route's declaration attached for the OpenAPI document. */
export type RouteHandler = ((req: Request, ctx: { params: Promise<Params> }) => Promise<Response>) & { readonly declaration: RouteDeclaration };

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
  // Next.js gives a route without dynamic segments no params at all (undefined, not {}).
  return values ?? ({} as P);
}

/**
 * The request body as text, read no further than `max` bytes. The request guard refuses a body
 * whose declared `Content-Length` is too large before it is read; a body sent without one
 * (`Transfer-Encoding: chunked`) is counted here as it arrives, and the rest is left unread
 * (the guard has marked such a request `Connection: close`, so the connection ends with the answer).
 * @throws AppError payload_too_large (413) once more than `max` bytes have arrived
 */
export async function readBodyText(req: Request, max = MAX_BODY_BYTES): Promise<string> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    size += value.byteLength;
    if (size > max) {
      reader.releaseLock();
      throw new AppError("payload_too_large", `the body is over ${max} bytes; at most ${max} are accepted`);
    }
    text += decoder.decode(value, { stream: true });
  }
}

/**
 * The JSON body as the route declares it: empty is `{}`; with `textBody`, a non-JSON content
 * type hands the schema the text itself.
 * @throws AppError bad_request (not JSON, nested deeper than MAX_BODY_DEPTH), invalid_input (schema, naming the field).
 */
function decodeBody(text: string, contentType: string | null, opts: RouteDeclaration): unknown {
  if (opts.textBody && !(contentType ?? "").includes("json")) return parseOrThrow(opts.body!, text);
  let data: unknown = {};
  if (text.trim()) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new AppError("bad_request", `request body is not valid JSON${opts.textBody ? ` (send ${opts.textBody} with its content type)` : ""}`);
    }
    if (nestedDeeperThan(data, MAX_BODY_DEPTH)) throw new AppError("bad_request", `request body nests deeper than ${MAX_BODY_DEPTH} levels`);
  }
  return parseOrThrow(opts.body!, data);
}

/**
 * Wrap a handler. 401 `unauthorized` without valid credentials, 403 `forbidden` outside the
 * declared scope; then params, query and body are parsed with the declared schemas (422 naming
 * the field) and the handler runs, as its caller (server/events/event-actor.ts: the lane events it
 * appends record `by`). A handler that returns a Response (a stream) sends it as is.
 * The declaration stays on the returned function (`.declaration`) for the OpenAPI document.
 */
export function route<P extends z.ZodObject | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  fn: (ctx: HandlerContext<Parsed<P, Params>, Parsed<Q, undefined>, Parsed<B, undefined>>) => Promise<unknown>,
  opts: RouteOptions<P, Q, B>,
): RouteHandler {
  const decl = opts as RouteDeclaration;
  const handler = async (req: Request, ctx: { params: Promise<Params> }): Promise<Response> => {
    try {
      const rt = getRuntime();
      const caller = rt.auth.require({ authorization: req.headers.get("authorization"), cookie: req.headers.get("cookie") });
      rt.auth.authorize(caller, opts.scope);
      const raw = await readParams(ctx.params);
      const params = (decl.params ? parseOrThrow(decl.params, raw) : raw) as Parsed<P, Params>;
      await assertRepoReach(rt, caller, req, raw);
      const query = (decl.query ? parseOrThrow(decl.query, Object.fromEntries(new URL(req.url).searchParams)) : undefined) as Parsed<Q, undefined>;
      const key = opts.idempotent ? req.headers.get("idempotency-key") : null;
      // The body is read once: the idempotency record keeps its text, the schema parses it.
      const text = decl.body || key !== null ? await readBodyText(req) : null;
      const body = (decl.body ? decodeBody(text ?? "", req.headers.get("content-type"), decl) : undefined) as Parsed<B, undefined>;
      const request = text === null ? req : new Request(req.url, { method: req.method, headers: req.headers, body: text || undefined, signal: req.signal });
      const call = () => rt.events.actingAs(caller.by, () => fn({ req: request, params, query, body, rt, caller }));
      if (key !== null) {
        const record = { credentials: caller.tokenId ?? caller.by, route: `${req.method} ${new URL(req.url).pathname}`, key, body: text ?? "" };
        const answer = await rt.idempotency.run(record, async () => ({ status: opts.status ?? 200, body: await call() }));
        return Response.json(answer.body, { status: answer.status, headers: answer.replayed ? { "Idempotent-Replayed": "true" } : {} });
      }
      const result = await call();
      if (result instanceof Response) return result;
      return Response.json(result, { status: opts.status ?? 200 });
    } catch (err) {
      return errorResponse(err, req);
    }
  };
  return Object.assign(handler, { declaration: decl });
}
