import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative } from "./time";

describe("formatRelative", () => {
  const now = Date.parse("2026-11-20T12:00:00Z");
  it.each([
    ["2026-11-20T12:00:00Z", "now"],
    ["2026-11-20T12:00:01Z", "now"],
    ["2026-11-20T12:00:07Z", "now"],
    ["2026-11-20T11:59:48Z", "12s ago"],
    ["2026-11-20T11:57:00Z", "3m ago"],
    ["2026-11-20T10:00:00Z", "2h ago"],
    ["2026-11-19T12:00:00Z", "yesterday"],
    ["not a date", ""],
  ])("%s → %s", (iso, expected) => {
    expect(formatRelative(iso, now)).toBe(expected);
  });
});

describe("formatDuration", () => {
  it.each([
    [850, "850ms"],
    [12_340, "12.3s"],
    [245_000, "4m 05s"],
  ])("%d ms → %s", (ms, expected) => expect(formatDuration(ms)).toBe(expected));
});
