/**
 * Reading a repository's own policy file without trusting the repository: the file is read only
 * if it is a regular file inside the repo (after following every symbolic link, including one
 * in place of `.laneboard/`) and at most {@link MAX_POLICY_FILE_BYTES} long. A link to a file
 * outside the repo would let anyone who can write the repo make the server read (and serve, in
 * `GET /repos/:id/policy`) any file the server can; a link to `/dev/zero` or a FIFO would make a
 * plain `readFile` grow without end or hang.
 */
import { constants as fsc, promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import path from "node:path";

/** Largest policy file read from a repository, in bytes. A policy of 500 rules fits easily. */
export const MAX_POLICY_FILE_BYTES = 64 * 1024;

/** Why a policy file was not read: the `details.reason` of the error a caller answers with. */
export type PolicyFileRefusal = "policy_file_outside_repo" | "policy_file_not_regular" | "policy_file_too_large";

export type PolicyFileRead =
  | { kind: "missing" }
  | { kind: "ok"; path: string; text: string }
  | { kind: "refused"; path: string; reason: PolicyFileRefusal; message: string };

/** Whether `p` is `root` or below it (both absolute and realpath'd). */
function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * Read `<repoRoot>/<name>` if it is safe to.
 *
 * How: `realpath` the file and the repo root and require the file inside; open the resolved
 * path with `O_NOFOLLOW | O_NONBLOCK` (a link swapped in after the check is not followed; a FIFO
 * does not block the open); `fstat` the open descriptor, so the type checked is the type read,
 * and require a regular file; read at most limit + 1 bytes, so an oversized file (or one that
 * grows while read) is refused after a bounded read, never by trusting its reported size.
 *
 * @param repoRoot the repo's registered (realpath'd) main work tree
 * @param name relative path of the file, e.g. `.laneboard/policy.yaml`
 * @returns `missing` when there is no such file (or a dangling link); `refused` with the reason;
 *   `ok` with the UTF-8 text.
 * @throws only for unexpected I/O errors (EACCES, EIO).
 */
export async function readRepoPolicyFile(repoRoot: string, name: string, maxBytes = MAX_POLICY_FILE_BYTES): Promise<PolicyFileRead> {
  const file = path.join(repoRoot, name);
  let real: string;
  let root: string;
  try {
    [real, root] = await Promise.all([fsp.realpath(file), fsp.realpath(repoRoot)]);
  } catch (err) {
    if (isMissing(err)) return { kind: "missing" };
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return { kind: "refused", path: file, reason: "policy_file_not_regular", message: `${name} is a loop of symbolic links; it is not read` };
    throw err;
  }
  if (!isInside(root, real)) {
    return { kind: "refused", path: file, reason: "policy_file_outside_repo", message: `${name} resolves to ${real}, outside the repository; it is not read` };
  }
  let handle: FileHandle;
  try {
    handle = await fsp.open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK);
  } catch (err) {
    if (isMissing(err)) return { kind: "missing" };
    if ((err as NodeJS.ErrnoException).code === "ELOOP") return { kind: "refused", path: file, reason: "policy_file_not_regular", message: `${name} changed into a symbolic link while being read` };
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) {
      return { kind: "refused", path: file, reason: "policy_file_not_regular", message: `${name} is not a regular file; it is not read` };
    }
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > maxBytes) {
      return { kind: "refused", path: file, reason: "policy_file_too_large", message: `${name} is larger than ${maxBytes} bytes; it is not read` };
    }
    return { kind: "ok", path: file, text: buf.subarray(0, length).toString("utf8") };
  } finally {
    await handle.close();
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}
