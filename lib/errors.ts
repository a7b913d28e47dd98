/**
 * One error type for every failure a caller can act on, and one response body for all of them:
 * `{ error: { code, message } }`. Route handlers map `code` to an HTTP status with
 * {@link httpStatusFor}; anything that is not an AppError becomes a 500 that reveals nothing.
 *
 * The runtime (loaded by the custom server) and the route handlers (bundled by Next.js) each get
 * their own copy of this module, so `instanceof` cannot be trusted across them: use
 * {@link isAppError}, which checks a global symbol brand.
 */

export const ERROR_STATUS = {
  invalid_input: 422,
  bad_request: 400,
  /** No credentials, or a wrong, revoked or expired token. */
  unauthorized: 401,
  /** Authenticated, but outside the token's scopes or repos; or a foreign Host/Origin. */
  forbidden: 403,
  payload_too_large: 413,
  unsupported_media_type: 415,
  not_found: 404,
  conflict: 409,
  not_running: 409,
  not_ready: 409,
  /** The lane's engine cannot do this (e.g. a follow-up prompt to an engine without sessions). */
  not_supported: 422,
  already_exists: 409,
  /** An Idempotency-Key reused with a different request body. */
  idempotency_mismatch: 409,
  not_a_git_repo: 422,
  no_main_branch: 422,
  branch_exists: 409,
  outside_worktree: 422,
  command_not_found: 422,
  range_not_satisfiable: 416,
  /** A cursor older than what is kept: `details.oldestCursor` says where to resume. */
  gone: 410,
  /** The route exists, but not with this HTTP method. */
  method_not_allowed: 405,
  unavailable: 503,
  /** The data directory's disk is full: new work is refused until space is freed. */
  disk_full: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

const BRAND = Symbol.for("laneboard.AppError");

export class AppError extends Error {
  readonly [BRAND] = true;
  override readonly name = "AppError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Optional machine-readable detail, e.g. the field at fault. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** True for an AppError from any copy of this module. */
export function isAppError(err: unknown): err is AppError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[BRAND] === true;
}

/** HTTP status for an error code; unknown codes are 500. */
export function httpStatusFor(code: string): number {
  return (ERROR_STATUS as Record<string, number>)[code] ?? 500;
}
