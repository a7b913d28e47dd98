import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import playwrightConfig from "../playwright.config";
import { SERVER_ENV, SERVER_ENV_PREFIX, SERVER_NODE_FLAGS, dropServerEnv } from "./node-flags";

describe("server node flags", () => {
  const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
  const flags = SERVER_NODE_FLAGS.join(" ");
  const command = `${SERVER_ENV_PREFIX} node ${flags} --import tsx server/main.ts`;

  it("npm start and npm run dev run the server with the flags and environment the benchmark measures", () => {
    expect(scripts.start).toContain(command);
    expect(scripts.dev).toContain(command);
  });

  it("the e2e server runs with them too", () => {
    // The e2e config starts the model server first and Laneboard second; find Laneboard's.
    const servers = [playwrightConfig.webServer].flat() as { command: string }[];
    const laneboard = servers.find((s) => s.command.includes(" server/main.ts"));
    expect(laneboard?.command).toContain(command);
  });

  it("the malloc setting is dropped from the environment children inherit, unless the user set another value", () => {
    const [key, value] = Object.entries(SERVER_ENV)[0]!;
    const before = process.env[key];
    try {
      process.env[key] = value;
      dropServerEnv();
      expect(process.env[key]).toBeUndefined();
      process.env[key] = "65536";
      dropServerEnv();
      expect(process.env[key]).toBe("65536");
    } finally {
      if (before === undefined) delete process.env[key];
      else process.env[key] = before;
    }
  });
});
