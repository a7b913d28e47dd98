/**
 * Runtime configuration, validated once with zod from environment variables and command-line
 * flags (flags win). Nothing else in the server reads `process.env` for settings.
 *
 * | flag | env | default |
 * | --- | --- | --- |
 * | --port | PORT | 3000 |
 * | --host | LANEBOARD_HOST | 127.0.0.1 |
 * | --data-dir | LANEBOARD_DATA_DIR | ./.laneboard |
 * | --worker-cap | LANEBOARD_WORKER_CAP | 4 |
 * | --kill-grace-ms | LANEBOARD_KILL_GRACE_MS | 5000 |
 * | --kill-on-exit | LANEBOARD_KILL_ON_EXIT | false |
 * | --no-demo | LANEBOARD_DEMO=0 | demo on |
 * | --dev | NODE_ENV!=production | production |
 * | --log-max-bytes-per-process | LANEBOARD_LOG_MAX_BYTES_PER_PROCESS | 64 MiB |
 * | --log-max-bytes-total | LANEBOARD_LOG_MAX_BYTES_TOTAL | 2 GiB |
 * | --process-cgroups | LANEBOARD_PROCESS_CGROUPS | auto (a cgroup per process where allowed; `off`: process groups only) |
 * | --shutdown-timeout-ms | LANEBOARD_SHUTDOWN_TIMEOUT_MS | 2000 (SIGTERM/SIGINT → exit, whatever clients do) |
 * | --allowed-host (repeatable) | LANEBOARD_ALLOWED_HOSTS (comma-separated) | none: loopback names and the bound address only |
 * | --stall-after-ms | LANEBOARD_STALL_AFTER_MS | 300000 (5 min); 0 = off |
 * | --database-url | LANEBOARD_DATABASE_URL | none: SQLite in the data dir; `postgresql://…`: that shared database (docs/scale-out.md) |
 * | --node-id | LANEBOARD_NODE_ID | host name plus data dir: this server's name among the nodes on the database |
 * | --node-url | LANEBOARD_NODE_URL | none: where this node serves the board (shown in the node list) |
 * | --node-repos | LANEBOARD_NODE_REPOS | any: repos (ids, names or paths, comma-separated) whose lanes this node runs |
 * | --node-engines | LANEBOARD_NODE_ENGINES | any: engines (comma-separated) whose lanes this node runs |
 * | --node-lease-ms | LANEBOARD_NODE_LEASE_MS | 30000: a node silent this long is lost (its lanes are queued again) |
 *
 * Agent engines (README "Pointing engines at the real services"; unset = each CLI's own default,
 * which for the API settings means the server's own `ANTHROPIC_*` / `OPENAI_*` environment):
 * | flag | env | meaning |
 * | --- | --- | --- |
 * | --anthropic-base-url | LANEBOARD_ANTHROPIC_BASE_URL | Messages API for `claude` and `anthropic` |
 * | — | LANEBOARD_ANTHROPIC_API_KEY | its key (env only: flags show in `ps`) |
 * | --openai-base-url | LANEBOARD_OPENAI_BASE_URL | Responses API for `codex`, with `/v1` |
 * | — | LANEBOARD_OPENAI_API_KEY | its key |
 * | --claude-bin | LANEBOARD_CLAUDE_BIN | `claude` executable (default: the npm dependency) |
 * | --codex-bin | LANEBOARD_CODEX_BIN | `codex` executable (default: the npm dependency) |
 * | --claude-model, --codex-model, --anthropic-model | LANEBOARD_CLAUDE_MODEL, … | model per engine |
 * | --codex-sandbox | LANEBOARD_CODEX_SANDBOX | read-only, workspace-write (default), danger-full-access |
 * | — | LANEBOARD_CLAUDE_MAX_RETRIES | model API retries in Claude Code (default 2; its own default is 10, even for a 401) |
 * | — | LANEBOARD_CODEX_MAX_RETRIES | model API retries in Codex |
 * | — | LANEBOARD_ANTHROPIC_MAX_RETRIES | retries of the built-in agent (default 5) |
 * | --trusted-repo (repeatable) | LANEBOARD_TRUSTED_REPOS (`:`-separated) | repos whose folder-trust prompt interactive agents answer automatically |
 * | --tmux-bin | LANEBOARD_TMUX_BIN | tmux executable for interactive agents (default `tmux`) |
 * | — | LANEBOARD_ANTHROPIC_RETRY_BASE_MS | its first backoff step in ms (default 1000, doubled per retry) |
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { AgentEngineSettings } from "./engines/agent-engines";

const bool = z
  .union([z.boolean(), z.string()])
  .transform((v) => (typeof v === "boolean" ? v : !["0", "false", "no", "off", ""].includes(v.toLowerCase())));

export const ConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(3000),
  host: z.string().min(1).default("127.0.0.1"),
  dataDir: z.string().min(1).default("./.laneboard").transform((p) => path.resolve(p)),
  workerCap: z.coerce.number().int().min(1).max(1000).default(4),
  killGraceMs: z.coerce.number().int().min(0).max(600_000).default(5000),
  killOnExit: bool.default(false),
  demo: bool.default(true),
  dev: bool.default(false),
  logMaxBytesPerProcess: z.coerce.number().int().min(4096).default(64 * 1024 * 1024),
  logMaxBytesTotal: z.coerce.number().int().min(4096).default(2 * 1024 * 1024 * 1024),
  processCgroups: z.enum(["auto", "off"]).default("auto"),
  /** How long a shutdown may take before the process exits anyway (ms). */
  shutdownTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** This server's node id (docs/scale-out.md); default: host name plus data dir. */
  nodeId: z.string().min(1).max(200).regex(/^[^\s\0]+$/, "no spaces or NUL bytes").optional(),
  /** Where this node serves the board (informational). */
  nodeUrl: z.url().optional(),
  /** Repos (ids, names or absolute paths) and engines whose lanes this node runs; unset: any. */
  nodeRepos: z.array(z.string().min(1)).min(1).optional(),
  nodeEngines: z.array(z.string().min(1)).min(1).optional(),
  /** A node whose heartbeat stops for this long is lost (ms). */
  nodeLeaseMs: z.coerce.number().int().min(1000).max(3_600_000).default(30_000),
  /** PostgreSQL shared by several nodes (docs/scale-out.md); unset: SQLite in the data dir. */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//i, "must be a postgresql:// URL (unset for SQLite in the data dir)")
    .optional(),
  /** A live lane with no output and no event for this long is flagged `stalled` (ms, at most a day); 0 = off. */
  stallAfterMs: z.coerce.number().int().min(0).max(86_400_000).default(300_000),
  anthropicBaseUrl: z.url().optional(),
  anthropicApiKey: z.string().min(1).optional(),
  openaiBaseUrl: z.url().optional(),
  openaiApiKey: z.string().min(1).optional(),
  claudeBin: z.string().min(1).optional(),
  codexBin: z.string().min(1).optional(),
  claudeModel: z.string().min(1).optional(),
  codexModel: z.string().min(1).optional(),
  anthropicModel: z.string().min(1).optional(),
  codexSandbox: z.enum(["read-only", "workspace-write", "danger-full-access"]).optional(),
  claudeMaxRetries: z.coerce.number().int().min(0).max(50).default(2),
  codexMaxRetries: z.coerce.number().int().min(0).max(50).optional(),
  anthropicMaxRetries: z.coerce.number().int().min(0).max(50).optional(),
  anthropicRetryBaseMs: z.coerce.number().int().min(0).max(600_000).optional(),
  /** Repos (and their lane worktrees) whose folder-trust prompt interactive agents answer automatically. */
  trustedRepos: z.array(z.string().min(1).transform((p) => path.resolve(p))).default([]),
  /** tmux executable for interactive agents. */
  tmuxBin: z.string().min(1).default("tmux"),
  /** Host names besides loopback and the bound address that requests may name (a TLS proxy's). */
  allowedHosts: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.:[\]_-]+$/, "a host name or address, without scheme or path")).default([]),
  /** Where the repo sources live (for Next.js); the directory holding package.json. */
  appDir: z.string().default(process.cwd()),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** `parseArgs` options for flags that each take one string value. */
function stringOptions<const N extends string>(...names: N[]): Record<N, { type: "string" }> {
  return Object.fromEntries(names.map((n) => [n, { type: "string" }])) as Record<N, { type: "string" }>;
}

/**
 * Build the config from `argv` (without node and script) and `env`.
 * @throws ZodError naming the bad field, or TypeError from parseArgs for an unknown flag.
 */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...stringOptions(
        "port",
        "host",
        "data-dir",
        "worker-cap",
        "kill-grace-ms",
        "log-max-bytes-per-process",
        "log-max-bytes-total",
        "process-cgroups",
        "shutdown-timeout-ms",
        "database-url",
        "stall-after-ms",
        "node-id",
        "node-url",
        "node-repos",
        "node-engines",
        "node-lease-ms",
        "anthropic-base-url",
        "openai-base-url",
        "claude-bin",
        "codex-bin",
        "claude-model",
        "codex-model",
        "anthropic-model",
        "codex-sandbox",
        "tmux-bin",
      ),
      "kill-on-exit": { type: "boolean" },
      "no-demo": { type: "boolean" },
      dev: { type: "boolean" },
      "trusted-repo": { type: "string", multiple: true },
      "allowed-host": { type: "string", multiple: true },
    },
    strict: true,
  });
  const pick = <T>(flag: T | undefined, envValue: string | undefined) => (flag !== undefined ? flag : envValue);
  return ConfigSchema.parse({
    port: pick(values.port, env.PORT),
    host: pick(values.host, env.LANEBOARD_HOST),
    dataDir: pick(values["data-dir"], env.LANEBOARD_DATA_DIR),
    workerCap: pick(values["worker-cap"], env.LANEBOARD_WORKER_CAP),
    killGraceMs: pick(values["kill-grace-ms"], env.LANEBOARD_KILL_GRACE_MS),
    killOnExit: pick(values["kill-on-exit"], env.LANEBOARD_KILL_ON_EXIT),
    demo: values["no-demo"] ? false : env.LANEBOARD_DEMO,
    dev: pick(values.dev, env.NODE_ENV === undefined ? undefined : String(env.NODE_ENV !== "production")),
    logMaxBytesPerProcess: pick(values["log-max-bytes-per-process"], env.LANEBOARD_LOG_MAX_BYTES_PER_PROCESS),
    logMaxBytesTotal: pick(values["log-max-bytes-total"], env.LANEBOARD_LOG_MAX_BYTES_TOTAL),
    processCgroups: pick(values["process-cgroups"], env.LANEBOARD_PROCESS_CGROUPS) || undefined,
    shutdownTimeoutMs: pick(values["shutdown-timeout-ms"], env.LANEBOARD_SHUTDOWN_TIMEOUT_MS) || undefined,
    databaseUrl: pick(values["database-url"], env.LANEBOARD_DATABASE_URL) || undefined,
    stallAfterMs: pick(values["stall-after-ms"], env.LANEBOARD_STALL_AFTER_MS),
    nodeId: pick(values["node-id"], env.LANEBOARD_NODE_ID) || undefined,
    nodeUrl: pick(values["node-url"], env.LANEBOARD_NODE_URL) || undefined,
    nodeRepos: commaList(pick(values["node-repos"], env.LANEBOARD_NODE_REPOS)),
    nodeEngines: commaList(pick(values["node-engines"], env.LANEBOARD_NODE_ENGINES)),
    nodeLeaseMs: pick(values["node-lease-ms"], env.LANEBOARD_NODE_LEASE_MS) || undefined,
    anthropicBaseUrl: pick(values["anthropic-base-url"], env.LANEBOARD_ANTHROPIC_BASE_URL) || undefined,
    anthropicApiKey: env.LANEBOARD_ANTHROPIC_API_KEY || undefined,
    openaiBaseUrl: pick(values["openai-base-url"], env.LANEBOARD_OPENAI_BASE_URL) || undefined,
    openaiApiKey: env.LANEBOARD_OPENAI_API_KEY || undefined,
    claudeBin: pick(values["claude-bin"], env.LANEBOARD_CLAUDE_BIN) || undefined,
    codexBin: pick(values["codex-bin"], env.LANEBOARD_CODEX_BIN) || undefined,
    claudeModel: pick(values["claude-model"], env.LANEBOARD_CLAUDE_MODEL) || undefined,
    codexModel: pick(values["codex-model"], env.LANEBOARD_CODEX_MODEL) || undefined,
    anthropicModel: pick(values["anthropic-model"], env.LANEBOARD_ANTHROPIC_MODEL) || undefined,
    codexSandbox: pick(values["codex-sandbox"], env.LANEBOARD_CODEX_SANDBOX) || undefined,
    claudeMaxRetries: env.LANEBOARD_CLAUDE_MAX_RETRIES || undefined,
    codexMaxRetries: env.LANEBOARD_CODEX_MAX_RETRIES || undefined,
    anthropicMaxRetries: env.LANEBOARD_ANTHROPIC_MAX_RETRIES || undefined,
    anthropicRetryBaseMs: env.LANEBOARD_ANTHROPIC_RETRY_BASE_MS || undefined,
    trustedRepos: values["trusted-repo"] ?? (env.LANEBOARD_TRUSTED_REPOS ? env.LANEBOARD_TRUSTED_REPOS.split(path.delimiter).filter(Boolean) : undefined),
    tmuxBin: pick(values["tmux-bin"], env.LANEBOARD_TMUX_BIN) || undefined,
    allowedHosts: values["allowed-host"] ?? (env.LANEBOARD_ALLOWED_HOSTS ? env.LANEBOARD_ALLOWED_HOSTS.split(",").map((h) => h.trim()).filter(Boolean) : undefined),
  });
}

/** `a, b,c` → `["a", "b", "c"]`; unset or blank → undefined. */
function commaList(value: string | undefined): string[] | undefined {
  const items = value?.split(",").map((s) => s.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}

/** The agent engines' settings from the config (server/engines/agent-engines.ts). */
export function agentEngineSettings(config: Config): AgentEngineSettings {
  const out: AgentEngineSettings = {
    anthropicBaseUrl: config.anthropicBaseUrl,
    anthropicApiKey: config.anthropicApiKey,
    openaiBaseUrl: config.openaiBaseUrl,
    openaiApiKey: config.openaiApiKey,
    claudeBin: config.claudeBin ? [config.claudeBin] : undefined,
    codexBin: config.codexBin ? [config.codexBin] : undefined,
    claudeModel: config.claudeModel,
    codexModel: config.codexModel,
    anthropicModel: config.anthropicModel,
    codexSandbox: config.codexSandbox,
    claudeMaxRetries: config.claudeMaxRetries,
    codexMaxRetries: config.codexMaxRetries,
    anthropicMaxRetries: config.anthropicMaxRetries,
    anthropicRetryBaseMs: config.anthropicRetryBaseMs,
  };
  // Leave unset keys out, so each engine's own default applies.
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as AgentEngineSettings;
}
