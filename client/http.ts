/**
 * A small HTTP client for Laneboard's API (`/api/v1`), used by the CLI and the MCP server:
 * bearer token on every call, JSON in and out, the API's error body thrown as {@link ApiError}.
 * Network failures (server down) become ApiError code `unreachable` (status 0).
 */
import { ApiError } from "@/lib/api-error";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** `Idempotency-Key` header for creating calls. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export class LaneboardClient {
  constructor(
    /** Server origin, e.g. `http://127.0.0.1:3000`. */
    readonly url: string,
    /** Bearer token; omitted when null. */
    readonly token: string | null,
  ) {}

  /** Headers every call sends (the token). */
  headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Absolute URL of an API path (`/api/v1/...`) with its query. */
  urlFor(path: string, query: RequestOptions["query"] = {}): string {
    const url = new URL(path, this.url);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /**
   * @returns the parsed JSON body of a 2xx answer
   * @throws ApiError (the API's code and status; `unreachable` when no server answered)
   */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { ...this.headers(), accept: "application/json" };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(this.urlFor(path, opts.query), { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new ApiError(0, "unreachable", `no Laneboard server answered at ${this.url} (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)})`);
    }
    if (!res.ok) throw await ApiError.fromResponse(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : null) as T;
  }
}
