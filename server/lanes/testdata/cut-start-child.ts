/**
 * Test fixture: a runtime in a process of its own that SIGKILLs itself in the middle of starting
 * a lane's worker, as a server killed at that moment would stop. Usage:
 * `tsx cut-start-child.ts <dataDir> <repoPath> <cut> <argv-json> [<acceptance-json>]`, where `cut`
 * is where it dies:
 * - `before-spawn`: the worker's process row is written and its log files opened; the wrapper
 *   (`/bin/sh -c WRAPPER_SCRIPT …`) is about to be spawned (its request about to be sent to the
 *   git helper process, which spawns it: server/git/spawner.ts);
 * - `check-before-spawn`: the same for the lane's first acceptance check, once its worker ran
 *   (the second wrapper spawned);
 * - `before-row`: the worker row is written; the process's directory is about to be made, before
 *   its row.
 * It registers the repo and creates one shell lane running `argv`, with the acceptance checks
 * given (none by default); the dispatch that follows is cut. Nothing is printed: the test reads what was left in the data dir and the database.
 */
import childProcess from "node:child_process";
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { ConfigSchema } from "../../config";
import { WRAPPER_SCRIPT } from "../../processes/wrapper";
import { createRuntime } from "../../runtime";
import { testDatabaseUrl } from "../../testing/test-database";

const [dataDir, repoPath, cut, argvJson, acceptanceJson] = process.argv.slice(2) as [string, string, "before-spawn" | "check-before-spawn" | "before-row", string, string | undefined];

/** SIGKILL to oneself is delivered before kill(2) returns (POSIX), so nothing after it runs. */
const die = (): never => {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable: SIGKILLed");
};

// Patched on the built-in modules and synced into their ES module exports, which spawner.ts and
// launch.ts import by name (node:module syncBuiltinESMExports).
if (cut === "before-spawn" || cut === "check-before-spawn") {
  const fork = childProcess.fork;
  let wrappers = cut === "before-spawn" ? 1 : 2;
  childProcess.fork = ((...forkArgs: Parameters<typeof childProcess.fork>) => {
    const helper = fork(...forkArgs);
    const send = helper.send.bind(helper) as (...a: unknown[]) => boolean;
    helper.send = ((msg: { detached?: boolean; file?: string; args?: string[] }, ...rest: unknown[]) => {
      if (msg.detached && msg.file === "/bin/sh" && msg.args?.[1] === WRAPPER_SCRIPT && --wrappers === 0) die();
      return send(msg, ...rest);
    }) as typeof helper.send;
    return helper;
  }) as typeof childProcess.fork;
} else {
  const mkdirSync = fs.mkdirSync;
  fs.mkdirSync = ((dir: fs.PathLike, opts?: fs.MakeDirectoryOptions) => {
    if (String(dir).startsWith(`${dataDir}/processes/`)) die();
    return mkdirSync(dir, opts);
  }) as typeof fs.mkdirSync;
}
syncBuiltinESMExports();

const rt = await createRuntime(ConfigSchema.parse({ dataDir, databaseUrl: await testDatabaseUrl(dataDir), demo: false, killGraceMs: 1000, workerCap: 4 }));
const repo = await rt.repos.register({ path: repoPath });
await rt.lanes.create({ objective: "a start cut by a SIGKILL", repo: repo.id, branch: "lane/cut-start", worker: { engine: "shell", command: JSON.parse(argvJson) as string[] }, acceptance: acceptanceJson ? (JSON.parse(acceptanceJson) as { argv: string[] }[]) : [] });
setInterval(() => undefined, 1 << 30); // until the start kills it
