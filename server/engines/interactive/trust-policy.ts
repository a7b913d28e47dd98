/**
 * Which folders an interactive agent may be told to trust without asking anyone: the repos
 * (and their lane worktrees) an operator configured. Anything else stays behind the trust gate
 * until a human (the board's button) or a claw (the API) resolves it.
 *
 * Matching is on real paths (symlinks resolved, so `/tmp/x` → `/private/tmp/x` style aliases
 * and `..` tricks cannot widen the allowlist) and on whole path segments (`/repos/app` allows
 * `/repos/app/sub` but not `/repos/app-evil`). A path that does not exist is never allowed.
 */
import fs from "node:fs/promises";
import path from "node:path";

export class TrustPolicy {
  readonly #roots: readonly string[];

  /** @param allowedPaths absolute folders whose contents are trusted automatically */
  constructor(allowedPaths: readonly string[]) {
    this.#roots = allowedPaths.map((p) => path.resolve(p));
  }

  /** A policy that trusts nothing automatically. */
  static none(): TrustPolicy {
    return new TrustPolicy([]);
  }

  /** The configured folders, as given (resolved to absolute). */
  get roots(): readonly string[] {
    return this.#roots;
  }

  /**
   * Whether `repoPath` is one of the allowed folders or inside one. Never throws: an
   * unresolvable path (missing, permission denied) is not allowed.
   */
  async isAllowed(repoPath: string): Promise<boolean> {
    const target = await realpathOrNull(repoPath);
    if (target === null) return false;
    // Resolved on every call (a handful of realpath calls): a repo registered or moved later counts.
    const roots = (await Promise.all(this.#roots.map(realpathOrNull))).filter((r): r is string => r !== null);
    return roots.some((root) => target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  }
}

async function realpathOrNull(p: string): Promise<string | null> {
  try {
    return await fs.realpath(path.resolve(p));
  } catch {
    return null;
  }
}
