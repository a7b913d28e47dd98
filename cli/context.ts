/**
 * What every command gets: the output (JSON or human), the API client built from the global
 * options (server and token discovery, client/discover.ts), and `run`, which turns a command's
 * failure into its message and exit code.
 */
import type { Command } from "commander";
import { discover, type Discovered } from "@/client/discover";
import { LaneboardClient } from "@/client/http";
import { laneboardApi, type LaneboardApi } from "@/client/laneboard-api";
import type { Output } from "./output";

export interface GlobalOptions {
  url?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

export interface Ctx {
  out: Output;
  /** Global options as parsed (valid once the program has parsed its arguments). */
  globals(): GlobalOptions;
  discovered(): Discovered;
  api(): LaneboardApi;
  /** Wrap an action: errors are reported through `out` and set the exit code. */
  run<A extends unknown[]>(action: (...args: A) => Promise<unknown> | unknown): (...args: A) => Promise<void>;
  /** The exit code the process ends with. */
  exitCode: number;
}

export function makeContext(program: Command, out: () => Output, env: NodeJS.ProcessEnv): Ctx {
  const ctx: Ctx = {
    get out() {
      return out();
    },
    globals: () => program.opts<GlobalOptions>(),
    discovered: () => discover(ctx.globals(), env),
    api: () => {
      const d = ctx.discovered();
      return laneboardApi(new LaneboardClient(d.url, d.token));
    },
    run:
      (action) =>
      async (...args) => {
        try {
          const code = await action(...args);
          if (typeof code === "number") ctx.exitCode = code;
        } catch (err) {
          ctx.exitCode = ctx.out.fail(err);
        }
      },
    exitCode: 0,
  };
  return ctx;
}
