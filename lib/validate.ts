/**
 * Boundary validation: parse with a zod schema and turn a failure into
 * `AppError("invalid_input")` whose message names the field at fault
 * (e.g. `worker.command: the shell engine needs a command`).
 */
import type { z } from "zod";
import { AppError } from "./errors";

/** Format zod issues as `path: message; path: message`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { message: string; fields: string[] } {
  const fields = issues.map((i) => (i.path.length ? i.path.map(String).join(".") : "(body)"));
  const message = issues.map((i, n) => `${fields[n]}: ${i.message}`).join("; ");
  return { message, fields };
}

/**
 * @returns the parsed value (defaults applied).
 * @throws AppError("invalid_input") naming every field at fault.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const { message, fields } = describeIssues(result.error.issues);
  throw new AppError("invalid_input", message, { fields });
}
