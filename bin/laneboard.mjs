#!/usr/bin/env node
// The `laneboard` command (package.json "bin"): loads the TypeScript CLI through tsx, with the
// package's own tsconfig so its `@/` imports resolve from any working directory.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
register({ tsconfig: path.join(root, "tsconfig.json") });
const { runCli } = await import("../cli/main.ts");
const code = await runCli({ argv: process.argv.slice(2), env: process.env, stdout: process.stdout, stderr: process.stderr });
// Every command resolves when it is done (a followed stream or the MCP server when it closes).
process.exit(code);
