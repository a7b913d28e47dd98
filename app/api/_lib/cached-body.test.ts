import { describe, expect, it } from "vitest";
import { acceptsGzip } from "./cached-body";

describe("acceptsGzip", () => {
  it.each([
    ["gzip, deflate, br", true],
    ["GZIP", true],
    ["deflate, gzip;q=0.1", true],
    ["*", true],
    ["br;q=1, *;q=0.5", true],
    ["gzip;q=0", false],
    ["*;q=0", false],
    ["identity", false],
    ["deflate, br", false],
    ["", false],
  ])("Accept-Encoding %j → %s", (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });

  it("is false without the header", () => {
    expect(acceptsGzip(null)).toBe(false);
  });
});
