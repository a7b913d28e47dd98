/**
 * Command line for the local model server, for the demo and for trying agents by hand:
 *
 *   node --import tsx server/model-server/main.ts --port 4010 --script script.json [--api-key K]
 *
 * `script.json` holds `{ "conversations": [...] }` or the bare array (./script.ts). Prints
 * `model server listening on <url>` once ready, then one line per request. Stops on SIGINT or
 * SIGTERM. Exit code 2 for a bad flag or script file.
 */
import fs from "node:fs";
import { parseArgs } from "node:util";
import { ScriptFileSchema } from "./script";
import { startModelServer } from "./model-server";

async function main(): Promise<void> {
  let values: { port?: string; host?: string; script?: string; "api-key"?: string };
  try {
    ({ values } = parseArgs({ options: { port: { type: "string" }, host: { type: "string" }, script: { type: "string" }, "api-key": { type: "string" } }, strict: true }));
  } catch (err) {
    console.error(String((err as Error).message));
    process.exit(2);
  }
  if (!values.script) {
    console.error("usage: main.ts --script <file.json> [--port N] [--host H] [--api-key K]");
    process.exit(2);
  }
  let conversations;
  try {
    conversations = ScriptFileSchema.parse(JSON.parse(fs.readFileSync(values.script, "utf8")));
  } catch (err) {
    console.error(`bad script file ${values.script}: ${(err as Error).message}`);
    process.exit(2);
  }
  const server = await startModelServer({
    port: values.port ? Number(values.port) : 0,
    host: values.host,
    script: conversations,
    apiKey: values["api-key"],
    log: (line) => console.log(line),
  });
  console.log(`model server listening on ${server.url}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

void main();
