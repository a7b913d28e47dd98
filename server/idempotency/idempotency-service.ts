/**
 * Idempotent creating calls, after the IETF draft "The Idempotency-Key HTTP Header Field"
 * (draft-ietf-httpapi-idempotency-key-header) and Stripe's API: a client that retries a call
 * with the same `Idempotency-Key` and the same body gets the first call's answer again (never a
 * second lane); the same key with another body is refused with 409 `idempotency_mismatch`.
 *
 * What is kept: the first *successful* answer (status and JSON body) per scope and key, for
 * {@link RETENTION_MS}. A failed call stores nothing, so the client may fix the cause and retry
 * with the same key. Concurrent calls with one key wait for the first one (in-process; the server
 * is one process) instead of running twice.
 */
import { createHash } from "node:crypto";
import { AppError } from "@/lib/errors";
import type { Db } from "../store/db";

/** How long a key is remembered (24 h, as Stripe). */
export const RETENTION_MS = 24 * 60 * 60 * 1000;

/** A key: 1..255 visible ASCII characters (the draft leaves the syntax to the server). */
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export interface StoredAnswer {
  status: number;
  body: unknown;
  /** True when this answer is a replay of an earlier call's. */
  replayed: boolean;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{ "b": 2, "a": 1 }` are one body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** SHA-256 hex of the canonical form of a request body (raw text when it is not JSON). */
export function requestHash(bodyText: string): string {
  let canonical = bodyText;
  try {
    canonical = bodyText.trim() ? canonicalJson(JSON.parse(bodyText)) : "{}";
  } catch {
    // Not JSON: the handler will refuse it; hash the bytes as they are.
  }
  return createHash("sha256").update(canonical).digest("hex");
}

export class IdempotencyService {
  readonly #inFlight = new Map<string, { hash: string; answer: Promise<StoredAnswer> }>();
  #lastPrune = 0;

  constructor(private readonly deps: { db: Db; now?: () => number }) {}

  /**
   * Run `exec` once per (caller, route, key, body): the first success is stored and replayed.
   * @param call `credentials` is what identifies the caller (its token id, or `admin` / `board`; only its
   *   hash is kept), `route` the method and path, `body` the request body's text
   * @throws AppError invalid_input (a malformed key), idempotency_mismatch (the key was used with
   *   another body); whatever `exec` throws (nothing is stored then)
   */
  async run(call: { credentials: string; route: string; key: string; body: string }, exec: () => Promise<{ status: number; body: unknown }>): Promise<StoredAnswer> {
    const { key } = call;
    const scope = `${createHash("sha256").update(call.credentials).digest("hex").slice(0, 32)} ${call.route}`;
    const hash = requestHash(call.body);
    if (!KEY_PATTERN.test(key)) throw new AppError("invalid_input", "Idempotency-Key: must be 1..255 visible ASCII characters", { fields: ["Idempotency-Key"] });
    const id = `${scope}\n${key}`;
    const running = this.#inFlight.get(id);
    if (running) {
      if (running.hash !== hash) throw mismatch(key);
      return { ...(await running.answer), replayed: true };
    }
    const answer = this.#first(scope, key, hash, exec);
    this.#inFlight.set(id, { hash, answer });
    try {
      return await answer;
    } finally {
      this.#inFlight.delete(id);
    }
  }

  async #first(scope: string, key: string, hash: string, exec: () => Promise<{ status: number; body: unknown }>): Promise<StoredAnswer> {
    const now = this.deps.now?.() ?? Date.now();
    await this.#prune(now);
    const stored = await this.deps.db.idempotencyKey.findUnique({ where: { scope_key: { scope, key } } });
    if (stored && stored.createdAt.getTime() > now - RETENTION_MS) {
      if (stored.requestHash !== hash) throw mismatch(key);
      return { status: stored.status, body: JSON.parse(stored.response), replayed: true };
    }
    const result = await exec();
    if (result.status >= 200 && result.status < 300) {
      const data = { requestHash: hash, status: result.status, response: JSON.stringify(result.body), createdAt: new Date(now) };
      await this.deps.db.idempotencyKey.upsert({ where: { scope_key: { scope, key } }, create: { scope, key, ...data }, update: data });
    }
    return { ...result, replayed: false };
  }

  /** Forget expired keys, at most once a minute. */
  async #prune(now: number): Promise<void> {
    if (now - this.#lastPrune < 60_000) return;
    this.#lastPrune = now;
    await this.deps.db.idempotencyKey.deleteMany({ where: { createdAt: { lt: new Date(now - RETENTION_MS) } } });
  }
}

function mismatch(key: string): AppError {
  return new AppError("idempotency_mismatch", `Idempotency-Key ${JSON.stringify(key)} was already used with a different request body`);
}
