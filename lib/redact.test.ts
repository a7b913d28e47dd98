import { afterEach, describe, expect, it } from "vitest";
import { clearKnownSecrets, REDACTED, redactDeep, redactEnv, redactText, registerSecrets } from "./redact";

afterEach(() => clearKnownSecrets());

describe("redactText", () => {
  it("redacts well-known key and token shapes and keeps the words around them", () => {
    expect(redactText("curl -H 'Authorization: Bearer eyJhbGciOi.abc' -H 'x-api-key: sk-ant-api03-AbCdEf123456'")).toBe(
      `curl -H 'Authorization: Bearer ${REDACTED}' -H 'x-api-key: ${REDACTED}'`,
    );
    expect(redactText(`OPENAI=sk-proj-0123456789abcdefXYZ token lb_${"z".repeat(43)}.`)).toBe(`OPENAI=${REDACTED} token ${REDACTED}.`);
  });

  it("leaves ordinary text alone: short sk- words, words ending in sk-, a short Bearer", () => {
    for (const text of ["task-runner-for-everything", "sk-short", "disk-usage-monitoring-here", "Bearer x", "lb_tooShort"]) expect(redactText(text)).toBe(text);
  });

  it("redacts known values whatever they look like, ignoring values too short to be secrets", () => {
    registerSecrets(["plain-looking-admin-secret", "short", undefined, ""]);
    expect(redactText("a plain-looking-admin-secret b short")).toBe(`a ${REDACTED} b short`);
  });
});

describe("redactEnv and redactDeep", () => {
  it("redacts secret-named variables whole and others by value", () => {
    expect(redactEnv({ GH_TOKEN: "x", DB_PASSWORD: "y", NOTE: "sk-ant-abcdefghijkl", PATH: "/bin" })).toEqual({ GH_TOKEN: REDACTED, DB_PASSWORD: REDACTED, NOTE: REDACTED, PATH: "/bin" });
  });

  it("walks events: strings anywhere, env objects by name; numbers and other keys stay", () => {
    const payload = { command: ["sh", "-c", "echo sk-ant-abcdefghijkl"], env: { API_KEY: "v" }, maxTokens: 5, idempotencyKey: "k1", nested: [{ reason: "Bearer abcdefgh1234" }] };
    expect(redactDeep(payload)).toEqual({ command: ["sh", "-c", `echo ${REDACTED}`], env: { API_KEY: REDACTED }, maxTokens: 5, idempotencyKey: "k1", nested: [{ reason: `Bearer ${REDACTED}` }] });
  });
});
