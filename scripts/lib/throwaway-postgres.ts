/**
 * A throwaway PostgreSQL server in a temp directory, for the PostgreSQL test run, the cluster
 * tests, `bench:cluster` and the migration script's shadow database. Never used by the server.
 *
 * Debian's server binaries (`apt-get install postgresql`, in /usr/lib/postgresql/<major>/bin, not
 * on PATH) are found by {@link findPostgresBin}. As root, initdb and the server run as the
 * `postgres` user (`runuser`), which PostgreSQL requires; the temp dir is made traversable for it.
 * The cluster is tuned for tests, not durability: `fsync=off`, `synchronous_commit=off`,
 * `full_page_writes=off` (a crash may lose it, and it is deleted afterwards anyway); trust
 * authentication on 127.0.0.1 and a Unix socket in the temp dir; C locale (byte order, the same on
 * every machine).
 *
 * Steps as in the project's toolchain notes: initdb → pg_ctl start → pg_isready → stop -m fast.
 */
import { existsSync } from "node:fs";
import { chmod, chown, mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

export interface ThrowawayPostgres {
  /** TCP port on 127.0.0.1. */
  port: number;
  /** The temp directory (data in `<dir>/pg`, log in `<dir>/pg.log`, socket in `<dir>`). */
  dir: string;
  /** Connection URL (user `postgres`, no password) of `database` (default `postgres`). */
  url(database?: string): string;
  /** `CREATE DATABASE` (optionally from a template); resolves with its URL. */
  createDatabase(name: string, template?: string): Promise<string>;
  /** Stop the server (fast shutdown: connections are cut) and start it again on the same port. */
  restart(): Promise<void>;
  /** Stop the server without removing the directory (see {@link start}). */
  stopServer(): Promise<void>;
  /** Start a stopped server again. */
  start(): Promise<void>;
  /** Stop the server and delete the directory. Never throws. */
  stop(): Promise<void>;
}

export interface ThrowawayOptions {
  /** Port to listen on; default: a free port chosen by the OS. */
  port?: number;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string | number>;
}

/**
 * Directory holding `initdb` and `pg_ctl`: `$LANEBOARD_PG_BIN`, else the newest
 * /usr/lib/postgresql/<major>/bin (Debian), else null.
 */
export async function findPostgresBin(env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (env.LANEBOARD_PG_BIN) return existsSync(path.join(env.LANEBOARD_PG_BIN, "initdb")) ? env.LANEBOARD_PG_BIN : null;
  const root = "/usr/lib/postgresql";
  const majors = (await readdir(root).catch(() => [] as string[])).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const m of majors) if (existsSync(path.join(root, m, "bin", "initdb"))) return path.join(root, m, "bin");
  return null;
}

/** A TCP port that was free a moment ago (bind to 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

const DEFAULT_SETTINGS: Record<string, string | number> = {
  fsync: "off",
  synchronous_commit: "off",
  full_page_writes: "off",
  max_connections: 400,
  listen_addresses: "127.0.0.1",
};

/**
 * initdb and start a server; resolves once it accepts connections.
 * @throws Error when the binaries are missing (with the apt-get line to run) or the server does
 *   not start (the tail of its log is in the message).
 */
export async function startThrowawayPostgres(opts: ThrowawayOptions = {}): Promise<ThrowawayPostgres> {
  const bin = await findPostgresBin();
  if (!bin) throw new Error("PostgreSQL server binaries not found: apt-get install -y postgresql (or set LANEBOARD_PG_BIN to the directory holding initdb)");
  const dir = await mkdtemp(path.join(os.tmpdir(), "laneboard-pg-"));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot ? execa("runuser", ["-u", "postgres", "--", path.join(bin, cmd), ...args], { cwd: dir }) : execa(path.join(bin, cmd), args, { cwd: dir });
  if (asRoot) {
    // mkdtemp makes it 0700 and initdb runs as postgres: let it in.
    await chmod(dir, 0o755);
    const { stdout } = await execa("id", ["-u", "postgres"]);
    const { stdout: gid } = await execa("id", ["-g", "postgres"]);
    await chown(dir, Number(stdout), Number(gid));
  }
  const data = path.join(dir, "pg");
  const port = opts.port ?? (await freePort());
  const settings = { ...DEFAULT_SETTINGS, ...opts.settings, port, unix_socket_directories: dir };
  const serverOpts = Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  try {
    await run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const logFile = path.join(dir, "pg.log");
  const start = async () => {
    try {
      await run("pg_ctl", ["-D", data, "-o", serverOpts, "-l", logFile, "-w", "-t", "60", "start"]);
    } catch (err) {
      const log = await execa("tail", ["-n", "20", logFile], { reject: false });
      throw new Error(`PostgreSQL did not start on port ${port}: ${(err as Error).message}\n${log.stdout}`);
    }
  };
  const stopServer = async () => {
    await run("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]).catch(() => undefined);
  };
  try {
    await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = (database = "postgres") => `postgresql://postgres@127.0.0.1:${port}/${database}`;
  let stopped: Promise<void> | null = null;
  return {
    port,
    dir,
    url,
    async createDatabase(name, template) {
      const psql = path.join(bin, "psql");
      const sql = `CREATE DATABASE "${name.replace(/"/g, "")}"${template ? ` TEMPLATE "${template.replace(/"/g, "")}"` : ""}`;
      await execa(psql, ["-v", "ON_ERROR_STOP=1", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", sql]);
      return url(name);
    },
    async restart() {
      await stopServer();
      await start();
    },
    stopServer,
    start,
    stop: () =>
      (stopped ??= (async () => {
        await stopServer();
        await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      })()),
  };
}
