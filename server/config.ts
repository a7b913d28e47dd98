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
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";

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
  /** Where the repo sources live (for Next.js); the directory holding package.json. */
  appDir: z.string().default(process.cwd()),
});
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/**
 * Build the config from `argv` (without node and script) and `env`.
 * @throws ZodError naming the bad field, or TypeError from parseArgs for an unknown flag.
 */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Config {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "worker-cap": { type: "string" },
      "kill-grace-ms": { type: "string" },
      "kill-on-exit": { type: "boolean" },
      "no-demo": { type: "boolean" },
      dev: { type: "boolean" },
      "log-max-bytes-per-process": { type: "string" },
      "log-max-bytes-total": { type: "string" },
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
  });
}
