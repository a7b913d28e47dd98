/**
 * Per-engine rate limits (requests per minute) with backoff.
 *
 * Each configured engine has a token bucket (the classic leaky/token bucket, e.g. as in
 * RFC 2697's committed-burst bucket): capacity `burst`, refilled continuously at
 * `requestsPerMinute / 60 000` tokens per ms. A start (or an API request, if an engine loop uses
 * it) takes one token. Independently, when an engine reports throttling (HTTP 429 / overloaded),
 * {@link RateLimiter.onThrottled} blocks it for an exponentially growing delay
 * (`baseMs · 2^(n-1)`, capped at `maxMs`; "Exponential Backoff and Jitter", AWS Architecture
 * Blog, 2015), never shorter than the server's Retry-After. Jitter is off by default so runs are
 * deterministic; pass `jitter: Math.random` for full jitter. Unconfigured engines are unlimited
 * except for backoff. The clock is injected: every method takes `now` (epoch ms).
 */
import { parseOrThrow } from "@/lib/validate";
import { RateLimitSchema, type RateLimit } from "./schemas";

export interface BackoffOptions {
  /** First backoff delay, ms (default 1 000). */
  baseMs?: number;
  /** Longest backoff delay, ms (default 300 000). */
  maxMs?: number;
  /** Returns [0, 1); when set, the delay is `jitter() · delay` (full jitter). */
  jitter?: () => number;
}

interface EngineState {
  limit: Required<RateLimit> | null;
  tokens: number;
  at: number;
  backoffUntil: number;
  throttles: number;
}

export class RateLimiter {
  #engines = new Map<string, EngineState>();
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: (() => number) | undefined;

  constructor(opts: BackoffOptions = {}) {
    this.#baseMs = opts.baseMs ?? 1000;
    this.#maxMs = opts.maxMs ?? 300_000;
    this.#jitter = opts.jitter;
  }

  /**
   * Set (or replace) an engine's limit; the bucket starts full.
   * @throws AppError invalid_input naming `requestsPerMinute` or `burst`.
   */
  configure(engine: string, limit: unknown, now = 0): void {
    const l = parseOrThrow(RateLimitSchema, limit);
    const st = this.#state(engine, now);
    st.limit = { requestsPerMinute: l.requestsPerMinute, burst: l.burst ?? Math.max(1, Math.floor(l.requestsPerMinute)) };
    st.tokens = st.limit.burst;
    st.at = now;
  }

  /** Drop an engine's limit (backoff state is kept). */
  unconfigure(engine: string): void {
    const st = this.#engines.get(engine);
    if (st) st.limit = null;
  }

  /** Engines with a limit or a backoff. */
  engines(): string[] {
    return [...this.#engines.keys()];
  }

  limitOf(engine: string): Required<RateLimit> | null {
    return this.#engines.get(engine)?.limit ?? null;
  }

  /** Earliest epoch ms at which `engine` may make a request: `now` if it may now. */
  nextAllowedAt(engine: string, now: number): number {
    const st = this.#engines.get(engine);
    if (!st) return now;
    this.#refill(st, now);
    let at = Math.max(now, st.backoffUntil);
    if (st.limit && st.tokens < 1) at = Math.max(at, now + Math.ceil(((1 - st.tokens) * 60_000) / st.limit.requestsPerMinute));
    return at;
  }

  /** Earliest epoch ms after `now` at which a waiting engine may make a request; Infinity when none waits. */
  nextWakeAfter(now: number): number {
    let at = Infinity;
    for (const engine of this.#engines.keys()) {
      const next = this.nextAllowedAt(engine, now);
      if (next > now) at = Math.min(at, next);
    }
    return at;
  }

  /** Take a token if allowed now. @returns whether the request may go ahead. */
  tryAcquire(engine: string, now: number): boolean {
    if (this.nextAllowedAt(engine, now) > now) return false;
    const st = this.#engines.get(engine);
    if (st?.limit) st.tokens -= 1;
    return true;
  }

  /**
   * The engine said "slow down". Blocks it for the next backoff delay (at least `retryAfterMs`).
   * @returns the epoch ms until which it is blocked.
   */
  onThrottled(engine: string, now: number, retryAfterMs = 0): number {
    const st = this.#state(engine, now);
    st.throttles++;
    let delay = Math.min(this.#maxMs, this.#baseMs * 2 ** (st.throttles - 1));
    if (this.#jitter) delay = Math.floor(this.#jitter() * delay);
    st.backoffUntil = Math.max(st.backoffUntil, now + Math.max(delay, retryAfterMs));
    return st.backoffUntil;
  }

  /** A request went through: the next throttle starts the backoff from `baseMs` again. */
  onSuccess(engine: string): void {
    const st = this.#engines.get(engine);
    if (st) st.throttles = 0;
  }

  #state(engine: string, now: number): EngineState {
    let st = this.#engines.get(engine);
    if (!st) this.#engines.set(engine, (st = { limit: null, tokens: 0, at: now, backoffUntil: 0, throttles: 0 }));
    return st;
  }

  #refill(st: EngineState, now: number): void {
    if (!st.limit || now <= st.at) return;
    st.tokens = Math.min(st.limit.burst, st.tokens + ((now - st.at) * st.limit.requestsPerMinute) / 60_000);
    st.at = now;
  }
}
