/**
 * The admin token: created on first start, kept in `<data-dir>/token` (mode 0600) and reused on
 * later starts, so the printed board URL stays valid across restarts. Replace or delete the file
 * (with the server stopped) to rotate it; every session cookie made from the old one dies with it.
 */
import { constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { newTokenSecret } from "./secrets";

/** What the file may hold: printable ASCII without spaces, 16..512 characters (ours are 46). */
const FILE_TOKEN = /^[\x21-\x7e]{16,512}$/;

/** `<dataDir>/token`. */
export function adminTokenPath(dataDir: string): string {
  return path.join(dataDir, "token");
}

/**
 * The admin token of the data dir, created (mode 0600, never overwriting) when absent. A file
 * readable by others is narrowed to 0600.
 * @throws Error when the file is not a regular file (a symlink is refused) or holds no usable token.
 */
export async function loadOrCreateAdminToken(dataDir: string): Promise<string> {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = adminTokenPath(dataDir);
  try {
    const handle = await fs.open(file, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
    const token = newTokenSecret();
    try {
      await handle.writeFile(`${token}\n`);
    } finally {
      await handle.close();
    }
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  return readAdminToken(dataDir);
}

/**
 * Read the admin token of a data dir that has one (tests, the benchmark and scripts that talk to
 * a running server use this).
 * @throws Error when the file is missing, a symlink, not a regular file, or holds no usable token.
 */
export async function readAdminToken(dataDir: string): Promise<string> {
  const file = adminTokenPath(dataDir);
  const handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === "ELOOP" ? `${file} is a symlink; the token file must be a regular file` : `cannot read ${file}: ${err.message}`);
  });
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size > 4096) throw new Error(`${file} is too large to be a token (${stat.size} bytes)`);
    if (stat.mode & 0o077) await handle.chmod(0o600);
    const token = (await handle.readFile("utf8")).trim();
    if (!FILE_TOKEN.test(token)) throw new Error(`${file} does not hold a token (16..512 printable characters, no spaces); delete it to get a new one`);
    return token;
  } finally {
    await handle.close();
  }
}
