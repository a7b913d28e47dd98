import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import playwrightConfig from "../playwright.config";
import { SERVER_NODE_FLAGS } from "./node-flags";

describe("server node flags", () => {
  const scripts = (JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
  const flags = SERVER_NODE_FLAGS.join(" ");

  it("npm start and npm run dev run the server with the flags the benchmark measures", () => {
    expect(scripts.start).toContain(`node ${flags} --import tsx server/main.ts`);
    expect(scripts.dev).toContain(`node ${flags} --import tsx server/main.ts`);
  });

  it("the e2e server runs with them too", () => {
    const webServer = playwrightConfig.webServer as { command: string };
    expect(webServer.command).toContain(`node ${flags} --import tsx server/main.ts`);
  });
});
