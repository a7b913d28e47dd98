/**
 * `laneboard prompt|await|repos|caps|tokens|serve|mcp`.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { awaitLane } from "@/client/await-lane";
import type { RepoView } from "@/lib/api";
import { AWAIT_TARGETS, AwaitTargetSchema, type AwaitTarget } from "@/lib/lane-await";
import { SERVER_ENV, SERVER_NODE_FLAGS } from "@/server/node-flags";
import type { Ctx } from "./context";
import { laneLine } from "./lanes";
import { EXIT } from "./output";

const PACKAGE_ROOT = path.resolve(import.meta.dirname, "..");

const seconds = (v: string) => {
  if (!/^\d+(\.\d+)?$/.test(v)) throw new InvalidArgumentError(`not a number of seconds: ${v}`);
  return Number(v);
};

/** `--state a,b`: await targets (lib/lane-await.ts). */
const targets = (v: string): AwaitTarget[] => {
  const parsed = v.split(",").map((t) => AwaitTargetSchema.safeParse(t.trim()));
  const bad = parsed.findIndex((p) => !p.success);
  if (bad >= 0 || parsed.length === 0) throw new InvalidArgumentError(`not an await target: ${v.split(",")[bad] ?? v} (one or more of ${AWAIT_TARGETS.join(", ")}, comma-separated)`);
  return parsed.map((p) => p.data!);
};

export function promptCommand(ctx: Ctx): Command {
  return new Command("prompt")
    .description("send a prompt to a lane's worker (ready_for_prompt), or a follow-up to an ended claude/codex lane")
    .argument("<lane>")
    .argument("<text>")
    .option("--idempotency-key <key>")
    .action(ctx.run(async (id: string, text: string, o: { idempotencyKey?: string }) => ctx.out.result(await ctx.api().prompt(id, text, o.idempotencyKey))));
}

export function awaitCommand(ctx: Ctx): Command {
  return new Command("await")
    .description(`wait (long poll) until the lane is in one of the states, e.g. ready_for_prompt or finished; exit ${EXIT.timeout} on timeout, ${EXIT.ended} when it ended otherwise`)
    .argument("<lane>")
    .requiredOption("--state <states>", `comma-separated: ${AWAIT_TARGETS.join(", ")}`, targets)
    .option("--timeout <seconds>", "give up after this long", seconds, 600)
    .action(
      ctx.run(async (id: string, o: { state: AwaitTarget[]; timeout: number }) => {
        const r = await awaitLane(ctx.api(), id, o.state, o.timeout * 1000);
        ctx.out.result(r, () => `${r.outcome}${r.matched.length ? ` (${r.matched.join(", ")})` : ""}: ${laneLine(r.lane)}`);
        return r.outcome === "reached" ? EXIT.ok : r.outcome === "timeout" ? EXIT.timeout : EXIT.ended;
      }),
    );
}

export function reposCommand(ctx: Ctx): Command {
  const repos = new Command("repos").description("registered repositories (list, add)");
  const list = ctx.run(async () => ctx.out.result(await ctx.api().listRepos(), (rs: RepoView[]) => rs.map((r) => `${r.id}  ${r.name}  ${r.path}  (${r.mainBranch})`).join("\n") || "(no repos)"));
  repos.action(list);
  repos.command("list").description("every registered repo").action(list);
  repos
    .command("add <path>")
    .description("register a local git work tree")
    .option("--main-branch <name>")
    .action(ctx.run(async (p: string, o: { mainBranch?: string }) => ctx.out.result(await ctx.api().registerRepo({ path: path.resolve(p), mainBranch: o.mainBranch }))));
  return repos;
}

export function capsCommand(ctx: Ctx): Command {
  return new Command("caps")
    .description("worker caps in force with running and queued counts; --set changes them")
    .option("--set <json>", 'new caps, e.g. {"global":{"agent":6}}')
    .action(
      ctx.run(async (o: { set?: string }) => {
        if (!o.set) return ctx.out.result(await ctx.api().caps());
        let body: unknown;
        try {
          body = JSON.parse(o.set);
        } catch {
          throw new Error("--set: not JSON");
        }
        ctx.out.result(await ctx.api().setCaps(body));
      }),
    );
}

export function tokensCommand(ctx: Ctx): Command {
  const tokens = new Command("tokens").description("API tokens (list, create, revoke; admin scope)");
  const list = ctx.run(async () => ctx.out.result(await ctx.api().listTokens()));
  tokens.action(list);
  tokens.command("list").description("every token (no secrets)").action(list);
  tokens
    .command("create <name>")
    .description("create a token; its secret is printed once")
    .requiredOption("--scopes <list>", "read,control,admin (comma-separated)")
    .option("--repos <list>", "only these repos (ids, comma-separated)")
    .option("--expires-at <iso>", "expiry time (ISO 8601)")
    .action(
      ctx.run(async (name: string, o: { scopes: string; repos?: string; expiresAt?: string }) =>
        ctx.out.result(await ctx.api().createToken({ name, scopes: o.scopes.split(","), repos: o.repos?.split(","), expiresAt: o.expiresAt })),
      ),
    );
  tokens
    .command("revoke <id>")
    .description("revoke a token at once")
    .action(ctx.run(async (id: string) => ctx.out.result(await ctx.api().revokeToken(id))));
  return tokens;
}

export function serveCommand(ctx: Ctx): Command {
  return new Command("serve")
    .description("start the server (as npm start: builds the app first when no build exists); flags after serve go to the server, e.g. --port 3000")
    .allowUnknownOption()
    .helpOption(false)
    .argument("[server-flags...]")
    .action(
      ctx.run(async (flags: string[]) => {
        const g = ctx.globals();
        const args = [...flags, ...(g.dataDir ? ["--data-dir", g.dataDir] : [])];
        const node = (argv: string[], env: NodeJS.ProcessEnv) => run(process.execPath, argv, env);
        if (!existsSync(path.join(PACKAGE_ROOT, ".next", "BUILD_ID"))) {
          const code = await node([path.join(PACKAGE_ROOT, "node_modules", "next", "dist", "bin", "next"), "build"], process.env);
          if (code !== 0) return EXIT.error;
        }
        return node([...SERVER_NODE_FLAGS, "--import", "tsx", path.join(PACKAGE_ROOT, "server", "main.ts"), ...args], { ...process.env, ...SERVER_ENV, NODE_ENV: "production" });
      }),
    );
}

/** Run a child in the package root with our stdio; signals to us are passed on. Resolves with its exit code. */
function run(bin: string, argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(bin, argv, { cwd: PACKAGE_ROOT, env, stdio: "inherit" });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on("SIGINT", forward).on("SIGTERM", forward);
    child.on("exit", (code, signal) => {
      process.off("SIGINT", forward).off("SIGTERM", forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

export function mcpCommand(ctx: Ctx): Command {
  return new Command("mcp").description("run Laneboard's MCP server over stdio (for Claude Code, Codex and other MCP clients)").action(
    ctx.run(async () => {
      const { serveMcpStdio } = await import("@/mcp/stdio");
      await serveMcpStdio(ctx.api());
    }),
  );
}
