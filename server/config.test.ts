import { describe, expect, it } from "vitest";
import { agentEngineSettings, loadConfig } from "./config";

const env = (vars: Record<string, string>) => vars as NodeJS.ProcessEnv;

describe("config: agent engine settings", () => {
  it("reads engine settings from env and flags (flags win) and passes only the set ones to the engines", () => {
    const config = loadConfig(["--anthropic-base-url", "http://127.0.0.1:4010", "--codex-sandbox", "danger-full-access"], env({
      LANEBOARD_ANTHROPIC_BASE_URL: "http://ignored:1",
      LANEBOARD_ANTHROPIC_API_KEY: "sk-test",
      LANEBOARD_OPENAI_BASE_URL: "http://127.0.0.1:4010/v1",
      LANEBOARD_CLAUDE_BIN: "/opt/claude",
      LANEBOARD_CODEX_MAX_RETRIES: "1",
    }));
    expect(agentEngineSettings(config)).toEqual({
      anthropicBaseUrl: "http://127.0.0.1:4010",
      anthropicApiKey: "sk-test",
      openaiBaseUrl: "http://127.0.0.1:4010/v1",
      claudeBin: ["/opt/claude"],
      codexSandbox: "danger-full-access",
      claudeMaxRetries: 2,
      codexMaxRetries: 1,
    });
  });

  it("rejects a bad base URL or sandbox", () => {
    expect(() => loadConfig([], env({ LANEBOARD_OPENAI_BASE_URL: "not a url" }))).toThrow(/openaiBaseUrl/);
    expect(() => loadConfig(["--codex-sandbox", "yolo"], env({}))).toThrow(/codexSandbox/);
  });
});

describe("config: stall threshold", () => {
  it("defaults to 5 minutes, reads LANEBOARD_STALL_AFTER_MS and --stall-after-ms (the flag wins), 0 turns it off, rejects junk", () => {
    expect(loadConfig([], env({})).stallAfterMs).toBe(300_000);
    expect(loadConfig([], env({ LANEBOARD_STALL_AFTER_MS: "90000" })).stallAfterMs).toBe(90_000);
    expect(loadConfig(["--stall-after-ms", "0"], env({ LANEBOARD_STALL_AFTER_MS: "90000" })).stallAfterMs).toBe(0);
    expect(() => loadConfig(["--stall-after-ms", "soon"], env({}))).toThrow(/stallAfterMs/);
    expect(() => loadConfig(["--stall-after-ms=-1"], env({}))).toThrow(/stallAfterMs/);
  });
});
