#!/usr/bin/env node
// @ts-check
/**
 * The deterministic `script` engine: a stand-in coding agent that follows a fixed list of steps
 * in its cwd (a lane's worktree). Used by the demo and by tests, so a lane's whole lifecycle
 * (edit files, commit, run tests, stream output, exit) runs with a real child process and no AI.
 *
 * Usage: `node script-agent.mjs <steps.json>` where the file holds a JSON array of steps as
 * defined by `ScriptStepSchema` in lib/task-packet.ts:
 *   { op: "write" | "append", path, content }   write or append a file (path inside cwd)
 *   { op: "commit", message }                    `git add -A` + `git commit -m` as the script agent
 *   { op: "run", argv, allowFailure? }           spawn argv (no shell), stdio inherited
 *   { op: "say", text }                          print a line
 *   { op: "progress", count, intervalMs, text? } print `[i/count] text` every intervalMs ms
 *   { op: "exit", code }                         stop here with that exit code
 *
 * Prints one `» <op> …` line per step. Exit code: 0 when every step passed; the failing step's
 * exit code otherwise (a run's code, 128+n for a run killed by signal n, 127 when its program
 * cannot be started, 1 for other failures); 2 for a bad steps file or a path that escapes cwd.
 *
 * Plain Node ESM without dependencies (checked with `// @ts-check` and JSDoc) so it runs with
 * `node` in any worktree without a TypeScript loader.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The identity of the script agent's commits (author and committer), set via the environment. */
export const SCRIPT_AGENT_IDENTITY = { name: "Laneboard Script Agent", email: "script-agent@laneboard.invalid" };

/** Exit code for a bad steps file or a path outside cwd. */
const USAGE_EXIT = 2;

/**
 * @typedef {{ op: "write" | "append", path: string, content: string }
 *   | { op: "commit", message: string }
 *   | { op: "run", argv: string[], allowFailure?: boolean }
 *   | { op: "say", text: string }
 *   | { op: "progress", count: number, intervalMs: number, text?: string }
 *   | { op: "exit", code: number }} Step
 */

/** A step failure carrying the exit code the agent should end with. */
class StepError extends Error {
  /** @param {string} message @param {number} code */
  constructor(message, code) {
    super(message);
    this.code = code;
  }
}

/** @param {string} line */
function out(line) {
  process.stdout.write(`${line}\n`);
}

/**
 * Resolve `rel` inside `root` (a realpath) or throw: rejects absolute paths, `..` escapes and
 * symlinks (in the existing part of the path) that lead outside `root`.
 * @param {string} root @param {string} rel @returns {string}
 */
function resolveInside(root, rel) {
  const escape = () => new StepError(`path is outside the worktree: ${JSON.stringify(rel)}`, USAGE_EXIT);
  if (path.isAbsolute(rel) || rel.includes("\0")) throw escape();
  const target = path.resolve(root, rel);
  const isInside = (/** @type {string} */ p) => p === root || p.startsWith(root + path.sep);
  if (!isInside(target) || target === root) throw escape();
  // Follow symlinks in the deepest part of the path that already exists.
  let existing = target;
  while (!fs.existsSync(existing)) existing = path.dirname(existing);
  if (!isInside(fs.realpathSync(existing))) throw escape();
  return target;
}

/**
 * Run a program with an argument array (never a shell), stdio inherited.
 * @param {string[]} argv @param {{ cwd: string, env?: NodeJS.ProcessEnv }} opts
 * @returns {Promise<number>} exit code, 128+n for signal n, 127 if it could not be started
 */
function runProgram(argv, opts) {
  const [file, ...args] = argv;
  return new Promise((resolve) => {
    const child = spawn(/** @type {string} */ (file), args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: "inherit" });
    child.on("error", (err) => {
      process.stderr.write(`  cannot start ${file}: ${err.message}\n`);
      resolve(127);
    });
    child.on("close", (code, signal) => {
      if (signal) resolve(128 + (os.constants.signals[signal] ?? 0));
      else resolve(code ?? 1);
    });
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Run one step in `cwd`. Returns an exit code to stop with (`exit` step), else undefined.
 * @param {Step} step @param {string} cwd @returns {Promise<number | undefined>}
 */
async function runStep(step, cwd) {
  switch (step.op) {
    case "write":
    case "append": {
      const file = resolveInside(cwd, step.path);
      out(`» ${step.op} ${step.path}`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      if (step.op === "write") fs.writeFileSync(file, step.content);
      else fs.appendFileSync(file, step.content);
      return undefined;
    }
    case "commit": {
      out(`» commit ${JSON.stringify(step.message)}`);
      const { name, email } = SCRIPT_AGENT_IDENTITY;
      const env = { ...process.env, GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
      // gpgsign off: a user's global signing setup must not make a deterministic script prompt or fail.
      const added = await runProgram(["git", "add", "-A"], { cwd, env });
      if (added !== 0) throw new StepError(`git add failed with exit code ${added}`, added);
      // A restarted lane replays its script in the same worktree: work that is already committed
      // is not an error (`git diff --cached --quiet` exits 0 when nothing is staged).
      if ((await runProgram(["git", "diff", "--cached", "--quiet"], { cwd, env })) === 0) {
        out("  nothing to commit (already committed)");
        return undefined;
      }
      const code = await runProgram(["git", "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", step.message], { cwd, env });
      if (code !== 0) throw new StepError(`git commit failed with exit code ${code}`, code);
      return undefined;
    }
    case "run": {
      out(`» run ${step.argv.join(" ")}`);
      const code = await runProgram(step.argv, { cwd });
      if (code === 0) return undefined;
      if (step.allowFailure) {
        out(`  exit code ${code} (allowed)`);
        return undefined;
      }
      throw new StepError(`${step.argv[0]} exited with code ${code}`, code);
    }
    case "say":
      out(step.text);
      return undefined;
    case "progress": {
      const text = step.text ?? "working";
      for (let i = 1; i <= step.count; i++) {
        out(`[${i}/${step.count}] ${text}`);
        if (i < step.count) await sleep(step.intervalMs);
      }
      return undefined;
    }
    case "exit":
      out(`» exit ${step.code}`);
      return step.code;
  }
}

/**
 * Read and shape-check the steps file (the server validated it with zod already; this guards
 * hand-written files with a clear message instead of a TypeError mid-run).
 * @param {string} file @returns {Step[]}
 */
function readSteps(file) {
  /** @type {unknown} */
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new StepError(`cannot read steps file ${file}: ${err instanceof Error ? err.message : String(err)}`, USAGE_EXIT);
  }
  if (!Array.isArray(data)) throw new StepError("steps file must hold a JSON array of steps", USAGE_EXIT);
  /** @type {Record<string, Record<string, string>>} field name → expected typeof, per op */
  const fields = {
    write: { path: "string", content: "string" },
    append: { path: "string", content: "string" },
    commit: { message: "string" },
    run: { argv: "object" },
    say: { text: "string" },
    progress: { count: "number", intervalMs: "number" },
    exit: { code: "number" },
  };
  data.forEach((step, i) => {
    const expected = step && typeof step === "object" ? fields[step.op] : undefined;
    const bad = !expected || Object.entries(expected).some(([k, t]) => typeof step[k] !== t);
    const badArgv = step?.op === "run" && !(Array.isArray(step.argv) && step.argv.length > 0 && step.argv.every((/** @type {unknown} */ a) => typeof a === "string"));
    if (bad || badArgv) throw new StepError(`step ${i + 1} is not a valid step: ${JSON.stringify(step)}`, USAGE_EXIT);
  });
  return data;
}

/** @param {string[]} args @returns {Promise<number>} the exit code */
export async function main(args) {
  if (args.length !== 1) {
    out("usage: node script-agent.mjs <steps.json>");
    return USAGE_EXIT;
  }
  try {
    const steps = readSteps(/** @type {string} */ (args[0]));
    const cwd = fs.realpathSync(process.cwd());
    for (const step of steps) {
      const stop = await runStep(step, cwd);
      if (stop !== undefined) return stop;
    }
    return 0;
  } catch (err) {
    const code = err instanceof StepError ? err.code : 1;
    process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
    return code === 0 ? 1 : code;
  }
}

// Run when executed directly (not when imported by a test).
if (process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url))) {
  // exitCode rather than exit(): lets stdout drain when it is a pipe.
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
