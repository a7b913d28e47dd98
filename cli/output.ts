/**
 * How the CLI answers: `--json` prints one JSON document (or one per line when following), and
 * the exit code says what happened, so a claw needs neither to parse prose nor to guess.
 */
import { ApiError } from "@/lib/api-error";

/** Exit codes; documented in docs/claws.md. */
export const EXIT = {
  ok: 0,
  /** Anything else (a server error, an unexpected answer). */
  error: 1,
  /** A bad flag or argument: the usage line is printed. */
  usage: 2,
  /** The lane, repo, process or token does not exist. */
  notFound: 3,
  /** The server refused: not allowed (401/403), conflict or not ready (409), invalid (422), … */
  refused: 4,
  /** `await` ran out of time. */
  timeout: 5,
  /** No server answered at the URL. */
  unreachable: 6,
  /** `await`: the lane ended without reaching the awaited state. */
  ended: 7,
} as const;

/** The exit code for an error thrown by an API call. */
export function exitCodeFor(err: unknown): number {
  if (!(err instanceof ApiError)) return EXIT.error;
  if (err.status === 0) return EXIT.unreachable;
  if (err.status === 404) return EXIT.notFound;
  if (err.status === 408 || err.status === 504) return EXIT.timeout;
  if (err.status >= 400 && err.status < 500) return EXIT.refused;
  return EXIT.error;
}

export interface Output {
  json: boolean;
  /** Print a result: JSON as is, or the human rendering. */
  result(value: unknown, human?: (value: never) => string): void;
  /** One record of a followed stream (NDJSON with --json). */
  line(value: unknown, human: string): void;
  /** Report a failure; returns the exit code to use. */
  fail(err: unknown): number;
}

export function makeOutput(json: boolean, out: NodeJS.WritableStream = process.stdout, errOut: NodeJS.WritableStream = process.stderr): Output {
  return {
    json,
    result(value, human) {
      out.write(json || !human ? `${JSON.stringify(value, null, json ? 0 : 2)}\n` : `${human(value as never)}\n`);
    },
    line(value, human) {
      out.write(`${json ? JSON.stringify(value) : human}\n`);
    },
    fail(err) {
      const code = exitCodeFor(err);
      const body = err instanceof ApiError ? err.toJSON() : { error: { code: "error", message: err instanceof Error ? err.message : String(err) } };
      if (json) out.write(`${JSON.stringify(body)}\n`);
      else errOut.write(`laneboard: ${body.error.message}${err instanceof ApiError ? ` (${err.code})` : ""}\n`);
      return code;
    },
  };
}
