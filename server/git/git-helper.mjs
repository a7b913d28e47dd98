/**
 * The git helper process (server/git/spawner.ts starts it with `child_process.fork`): it runs the
 * commands the server sends over the IPC channel and answers with their output, so the fork(2)
 * of every git call happens here, in a small process, and not on the server's main thread. It
 * also starts the supervisor's detached process wrappers (server/processes/wrapper.ts) for the
 * same reason, and tells the server when each one ends.
 *
 * Plain JavaScript with no imports from the project, so it starts in tens of milliseconds
 * without a TypeScript loader.
 *
 * Request (one IPC message, JSON):
 *   { id: number, file: string, args: string[], cwd: string, env: Record<string, string>,
 *     input?: string, timeoutMs: number, maxBuffer: number }
 * Answer:
 *   { id, exitCode: number | null, signal: string | null, stdout: string, stderr: string,
 *     timedOut: boolean, overflow: "stdout" | "stderr" | null, error: { code, message } | null }
 * `stdout`/`stderr` are UTF-8 with one final newline removed. A command that outlives
 * `timeoutMs`, or writes more than `maxBuffer` bytes to one stream, has its process group
 * SIGKILLed (it runs detached, in a group of its own, so what it started goes too).
 *
 * Detached request (a process wrapper, which must outlive the server and this helper):
 *   { id, detached: true, file, args, cwd, env, stdout: string, stderr: string }
 * `stdout`/`stderr` are files its output is appended to (opened here with O_APPEND, closed once
 * the child has them); stdin is /dev/null; it leads a new session and process group. Answer, as
 * soon as it is spawned: { id, pid: number | null, startTime: string | null, error } — startTime
 * is proc(5) stat field 22, read before this helper can reap it (until then its pid is not
 * reused). When it ends: { exitOf: id, exitCode: number | null, signal: string | null }. It counts
 * as in flight only until spawned: nothing here waits for it.
 *
 * When the server goes away (the channel closes: exit, crash or SIGKILL), the helper takes no
 * more work and exits once the commands in flight have ended, each still bound by its timeout:
 * a `git worktree add` killed half-way would leave its lock files behind.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

let inFlight = 0;
let closing = false;

process.on("message", (req) => (req.detached ? spawnDetached(req) : run(req)));
process.on("disconnect", () => {
  closing = true;
  if (inFlight === 0) process.exit(0);
});

function run(req) {
  inFlight++;
  let child;
  let settled = false;
  let timedOut = false;
  /** @type {"stdout" | "stderr" | null} */
  let overflow = null;
  const out = { stdout: [], stderr: [] };
  const size = { stdout: 0, stderr: 0 };
  const finish = (exitCode, signal, error) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    inFlight--;
    const text = (name) => stripFinalNewline(Buffer.concat(out[name]).toString("utf8"));
    if (process.connected) {
      process.send({ id: req.id, exitCode, signal, stdout: text("stdout"), stderr: text("stderr"), timedOut, overflow, error });
    }
    if (closing && inFlight === 0) process.exit(0);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child?.pid);
  }, req.timeoutMs);
  try {
    child = spawn(req.file, req.args, {
      cwd: req.cwd,
      env: req.env,
      detached: true,
      stdio: [req.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
  } catch (err) {
    finish(null, null, { code: err.code ?? null, message: err.message });
    return;
  }
  child.on("error", (err) => finish(null, null, { code: err.code ?? null, message: err.message }));
  for (const name of ["stdout", "stderr"]) {
    child[name].on("data", (chunk) => {
      size[name] += chunk.length;
      if (size[name] > req.maxBuffer) {
        if (overflow === null) {
          overflow = name;
          killGroup(child.pid);
        }
        return;
      }
      out[name].push(chunk);
    });
  }
  if (req.input !== undefined) {
    // The command may exit without reading all of it (EPIPE): its exit says what happened.
    child.stdin.on("error", () => undefined);
    child.stdin.end(req.input);
  }
  child.on("close", (code, signal) => finish(code, signal, null));
}

function spawnDetached(req) {
  inFlight++;
  let answered = false;
  const answer = (pid, startTime, error) => {
    if (answered) return;
    answered = true;
    inFlight--;
    if (process.connected) process.send({ id: req.id, pid, startTime, error });
    if (closing && inFlight === 0) process.exit(0);
  };
  let out = null;
  let err = null;
  try {
    out = openSync(req.stdout, "a");
    err = openSync(req.stderr, "a");
    const child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, detached: true, stdio: ["ignore", out, err] });
    child.on("error", (e) => answer(null, null, { code: e.code ?? null, message: e.message }));
    if (child.pid === undefined) return; // its error event answers
    child.once("exit", (exitCode, signal) => {
      if (process.connected) process.send({ exitOf: req.id, exitCode, signal });
    });
    answer(child.pid, startTimeOf(child.pid), null);
  } catch (e) {
    answer(null, null, { code: e.code ?? null, message: e.message });
  } finally {
    if (out !== null) closeSync(out);
    if (err !== null) closeSync(err);
  }
}

/** proc(5) `/proc/<pid>/stat` field 22 (start time, clock ticks since boot), or null. */
function startTimeOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3] ?? null;
  } catch {
    return null;
  }
}

/** One trailing "\n" (or "\r\n") removed, as execa's `stripFinalNewline` does. */
function stripFinalNewline(s) {
  if (s.endsWith("\r\n")) return s.slice(0, -2);
  return s.endsWith("\n") ? s.slice(0, -1) : s;
}

/** SIGKILL a process group; never throws (it may be gone already). */
function killGroup(pid) {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already exited
  }
}
