// @ts-check
/**
 * The tools of the built-in `anthropic` agent, every one confined to the lane's worktree
 * (`root`, a realpath): a path that is absolute, climbs out with `..`, or leads outside through
 * a symlink is refused with a tool error the model sees (never a crash), and `.git` cannot be
 * written. `run_command` takes an argument vector (no shell), runs in the worktree in the lane's
 * own process group (so the supervisor finds and stops it with the lane: a command in a group of
 * its own survived the lane), and is killed with its descendants at its timeout.
 *
 * Tool results are `{ text, isError }`; the tool definitions follow the Messages API tool
 * format (`name`, `description`, `input_schema`).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** Largest file read_file returns (bytes); longer files are cut with a note. */
const MAX_READ_BYTES = 256 * 1024;
/** Most entries list_files returns. */
const MAX_LIST_ENTRIES = 2000;
/** Output kept from a command (bytes, stdout and stderr together). */
const MAX_COMMAND_OUTPUT = 64 * 1024;
/** Command timeout bounds (ms). */
const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_TIMEOUT_MS = 600_000;

/** A refusal the model should see as a tool error. */
export class ToolError extends Error {}

/** @type {{ name: string, description: string, input_schema: Record<string, unknown> }[]} */
export const TOOL_DEFINITIONS = [
  {
    name: "read_file",
    description: "Read a UTF-8 text file of the worktree. Paths are relative to the worktree root.",
    input_schema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] },
  },
  {
    name: "list_files",
    description: "List files and directories under a directory of the worktree (default: the root), recursively unless recursive is false. Skips .git.",
    input_schema: { type: "object", properties: { path: { type: "string" }, recursive: { type: "boolean" } } },
  },
  {
    name: "write_file",
    description: "Create or overwrite a file of the worktree with the given content (parent directories are created).",
    input_schema: { type: "object", properties: { path: { type: "string" }, content: { type: "string" } }, required: ["path", "content"] },
  },
  {
    name: "edit_file",
    description: "Replace an exact string in a file of the worktree. old_string must occur exactly once unless replace_all is true.",
    input_schema: {
      type: "object",
      properties: { path: { type: "string" }, old_string: { type: "string" }, new_string: { type: "string" }, replace_all: { type: "boolean" } },
      required: ["path", "old_string", "new_string"],
    },
  },
  {
    name: "run_command",
    description: "Run a program with arguments (no shell) in the worktree root; returns its exit code and output. Example: {\"argv\": [\"npm\", \"test\"]}.",
    input_schema: {
      type: "object",
      properties: { argv: { type: "array", items: { type: "string" }, minItems: 1 }, timeout_ms: { type: "number" } },
      required: ["argv"],
    },
  },
];

/**
 * Resolve `rel` inside `root` or throw ToolError. Follows symlinks in the part of the path that
 * exists, so a link pointing outside is caught. `allowRoot` permits the root itself (listing).
 * @param {string} root @param {unknown} rel @param {{ allowRoot?: boolean, forWrite?: boolean }} [opts]
 * @returns {string}
 */
export function resolveInside(root, rel, opts = {}) {
  if (typeof rel !== "string" || rel === "" || rel.includes("\0")) throw new ToolError("path must be a non-empty string");
  const refuse = () => new ToolError(`path is outside the worktree: ${JSON.stringify(rel)}`);
  if (path.isAbsolute(rel)) throw refuse();
  const target = path.resolve(root, rel);
  const isInside = (/** @type {string} */ p) => p === root || p.startsWith(root + path.sep);
  if (!isInside(target) || (target === root && !opts.allowRoot)) throw refuse();
  // lstat, not exists: a dangling symlink counts as existing, and realpath then refuses it.
  let existing = target;
  while (!lexists(existing)) existing = path.dirname(existing);
  let real;
  try {
    real = fs.realpathSync(existing);
  } catch {
    throw refuse();
  }
  if (!isInside(real)) throw refuse();
  if (opts.forWrite) {
    const inGit = (/** @type {string} */ p) => path.relative(root, p).split(path.sep)[0] === ".git";
    if (inGit(target) || (existing === target && inGit(real))) throw new ToolError(`refusing to write inside .git: ${JSON.stringify(rel)}`);
  }
  return target;
}

/** @param {string} p */
function lexists(p) {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** @param {Record<string, unknown>} input @param {string} key @returns {string} */
function str(input, key) {
  const v = input[key];
  if (typeof v !== "string") throw new ToolError(`${key} must be a string`);
  return v;
}

/**
 * Run one tool call. Never throws: failures are `{ isError: true }` results.
 * @param {string} root realpath of the worktree
 * @param {string} name @param {unknown} rawInput
 * @returns {Promise<{ text: string, isError: boolean }>}
 */
export async function runTool(root, name, rawInput) {
  const input = rawInput && typeof rawInput === "object" && !Array.isArray(rawInput) ? /** @type {Record<string, unknown>} */ (rawInput) : {};
  try {
    switch (name) {
      case "read_file":
        return { text: readFile(resolveInside(root, input.path)), isError: false };
      case "list_files":
        return { text: listFiles(root, resolveInside(root, input.path ?? ".", { allowRoot: true }), input.recursive !== false), isError: false };
      case "write_file": {
        const file = resolveInside(root, input.path, { forWrite: true });
        const content = str(input, "content");
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
        return { text: `wrote ${Buffer.byteLength(content)} bytes to ${path.relative(root, file)}`, isError: false };
      }
      case "edit_file":
        return { text: editFile(root, resolveInside(root, input.path, { forWrite: true }), input), isError: false };
      case "run_command":
        return await runCommand(root, input);
      default:
        return { text: `unknown tool ${JSON.stringify(name)}`, isError: true };
    }
  } catch (err) {
    if (err instanceof ToolError) return { text: err.message, isError: true };
    const e = /** @type {NodeJS.ErrnoException} */ (err);
    return { text: `${name} failed: ${e.code ? `${e.code}: ` : ""}${e.message}`, isError: true };
  }
}

/** @param {string} file */
function readFile(file) {
  const buf = fs.readFileSync(file);
  if (buf.length <= MAX_READ_BYTES) return buf.toString("utf8");
  return `${buf.subarray(0, MAX_READ_BYTES).toString("utf8")}\n… (file is ${buf.length} bytes; first ${MAX_READ_BYTES} shown)`;
}

/** @param {string} root @param {string} dir @param {boolean} recursive */
function listFiles(root, dir, recursive) {
  /** @type {string[]} */
  const out = [];
  /** @param {string} d */
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= MAX_LIST_ENTRIES) return;
      if (entry.name === ".git") continue;
      const full = path.join(d, entry.name);
      out.push(entry.isDirectory() ? `${path.relative(root, full)}/` : path.relative(root, full));
      if (recursive && entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  if (out.length >= MAX_LIST_ENTRIES) out.push(`… (stopped at ${MAX_LIST_ENTRIES} entries)`);
  return out.length ? out.join("\n") : "(empty)";
}

/** @param {string} root @param {string} file @param {Record<string, unknown>} input */
function editFile(root, file, input) {
  const oldString = str(input, "old_string");
  const newString = str(input, "new_string");
  if (oldString === "") throw new ToolError("old_string must not be empty");
  const text = fs.readFileSync(file, "utf8");
  const count = text.split(oldString).length - 1;
  if (count === 0) throw new ToolError(`old_string not found in ${path.relative(root, file)}`);
  if (count > 1 && input.replace_all !== true) throw new ToolError(`old_string occurs ${count} times in ${path.relative(root, file)}; give more context or set replace_all`);
  // split/join, not String.replace: `$&`-style patterns in new_string must stay literal.
  fs.writeFileSync(file, input.replace_all === true ? text.split(oldString).join(newString) : text.replace(oldString, () => newString));
  return `replaced ${input.replace_all === true ? count : 1} occurrence(s) in ${path.relative(root, file)}`;
}

/**
 * @param {string} root @param {Record<string, unknown>} input
 * @returns {Promise<{ text: string, isError: boolean }>}
 */
function runCommand(root, input) {
  const argv = input.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) throw new ToolError("argv must be a non-empty array of strings");
  const requested = typeof input.timeout_ms === "number" && input.timeout_ms > 0 ? input.timeout_ms : DEFAULT_TIMEOUT_MS;
  const timeoutMs = Math.min(requested, MAX_TIMEOUT_MS);
  return new Promise((resolve) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    let timedOut = false;
    const child = spawn(argv[0], argv.slice(1), { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    /** @param {Buffer} c */
    const collect = (c) => {
      if (size < MAX_COMMAND_OUTPUT) chunks.push(c.subarray(0, MAX_COMMAND_OUTPUT - size));
      size += c.length;
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(/** @type {number} */ (child.pid));
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ text: `could not start ${argv[0]}: ${err.message}`, isError: true });
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let output = Buffer.concat(chunks).toString("utf8");
      if (size > MAX_COMMAND_OUTPUT) output += `\n… (${size - MAX_COMMAND_OUTPUT} more bytes)`;
      const status = timedOut ? `timed out after ${timeoutMs} ms` : signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve({ text: `${status}\n${output}`, isError: timedOut || code !== 0 });
    });
  });
}

/**
 * SIGKILL a process and every descendant, found through `/proc/<pid>/stat` parent links (proc(5);
 * `comm` may hold spaces and parentheses, so fields are counted after the last ")"). Descendants
 * are collected before any is killed, so none is reparented away first. Never throws.
 * @param {number} pid
 */
function killTree(pid) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "latin1");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(/** @type {number} */ (all[i])) ?? []));
  for (const p of all) {
    try {
      process.kill(p, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}
