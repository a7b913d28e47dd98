#!/usr/bin/env node
// @ts-check
/**
 * A stand-in for Claude Code in the board benchmark: prints Claude Code's stream-json (an `init`,
 * then one tool call every `intervalMs`, then after `seconds` a `result`) and exits 0. Many
 * lanes running it make lane events at a steady rate through the production path: process output
 * → the claude adapter (server/engines/claude.ts) → `worker.activity` (throttled per lane as for
 * a real agent, server/workers/activity.ts) → event log → every board.
 *
 * Usage (the lane's `worker.command`): `node chatty-agent.mjs <intervalMs> <seconds>`; the
 * arguments Laneboard appends for Claude Code (`-p --output-format stream-json …`) are ignored.
 */
const [intervalMs = 100, seconds = 60] = process.argv.slice(2, 4).map(Number);
/** @param {unknown} o */
const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
out({ type: "system", subtype: "init", session_id: "bench", model: "bench", cwd: process.cwd() });
let n = 0;
const files = ["src/app.ts", "src/server.ts", "lib/util.ts", "README.md", "test/app.test.ts"];
const timer = setInterval(() => {
  n++;
  out({ type: "assistant", message: { content: [{ type: "tool_use", id: `t${n}`, name: n % 3 ? "Read" : "Grep", input: { file_path: files[n % files.length], pattern: `step ${n}` } }] } });
}, intervalMs);
setTimeout(() => {
  clearInterval(timer);
  out({ type: "result", subtype: "success", is_error: false, num_turns: n, result: "done", total_cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 } });
}, seconds * 1000);
