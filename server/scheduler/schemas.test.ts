/**
 * parseLaneScheduling (one schema built once, its context set per parse) answers exactly as a
 * schema built for that context (laneSchedulingSchema) does: defaults, the deadline against the
 * clock, a lane naming itself or a dependency twice, and every other field's errors.
 */
import { describe, expect, it } from "vitest";
import { parseOrThrow } from "@/lib/validate";
import { laneSchedulingSchema, parseLaneScheduling } from "./schemas";

const now = Date.parse("2026-12-06T00:00:00Z");
const outcome = (f: () => unknown) => {
  try {
    return { ok: f() };
  } catch (err) {
    return { err: { message: (err as Error).message, details: (err as { details?: unknown }).details } };
  }
};

const INPUTS: { name: string; input: unknown; laneId?: string }[] = [
  { name: "nothing: the defaults", input: {} },
  { name: "everything valid", input: { pool: "check", priority: 5, deadline: now + 60_000, dependsOn: ["a", "b"], mode: "wait_any", budget: { maxTokens: 10 }, parentId: "p" }, laneId: "me" },
  { name: "an ISO deadline", input: { deadline: "2026-12-07T00:00:00Z" } },
  { name: "a deadline in the past", input: { deadline: now - 1 } },
  { name: "a lane depending on itself and twice on another", input: { dependsOn: ["me", "x", "x"] }, laneId: "me" },
  { name: "the same ids for a lane without an id", input: { dependsOn: ["me", "x"] } },
  { name: "a bad priority and an unknown field", input: { priority: "high", color: "red" } },
];

describe("parseLaneScheduling", () => {
  it.each(INPUTS)("$name: as laneSchedulingSchema(ctx) answers", ({ input, laneId }) => {
    const ctx = { now, ...(laneId ? { laneId } : {}) };
    const expected = outcome(() => parseOrThrow(laneSchedulingSchema(ctx), input));
    expect(outcome(() => parseLaneScheduling(ctx, input))).toEqual(expected);
  });

  it("reads each parse's own context: a deadline valid for one clock is refused by a later one", () => {
    const deadline = now + 1000;
    expect(parseLaneScheduling({ now }, { deadline }).deadline).toBe(deadline);
    expect(() => parseLaneScheduling({ now: deadline + 1 }, { deadline })).toThrow(/deadline: must not be in the past/);
    expect(() => parseLaneScheduling({ now, laneId: "a" }, { dependsOn: ["a"] })).toThrow(/cannot depend on itself/);
    expect(parseLaneScheduling({ now, laneId: "b" }, { dependsOn: ["a"] }).dependsOn).toEqual(["a"]);
  });
});
