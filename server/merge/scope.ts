/**
 * "Diff within scope": whether every path a lane changed is covered by its packet's `scope`.
 * Pure. A scope entry covers a path when it is the path itself, a directory above it (`src` or
 * `src/`), or a glob matching it (`*` within one path segment, `**` across segments, `?` one
 * character — the subset of gitignore-style globs task packets use).
 */

/** True when `entry` covers `file` (both repository-relative, `/`-separated). */
export function scopeEntryCovers(entry: string, file: string): boolean {
  const e = entry.replace(/^\.\//, "").replace(/^\/+/, "");
  if (!e) return false;
  if (/[*?]/.test(e)) return globToRegExp(e).test(file);
  const dir = e.endsWith("/") ? e : `${e}/`;
  return file === e || file.startsWith(dir);
}

/**
 * @returns null when the packet has no scope (unknown: a policy condition on it never holds),
 *   else whether every changed file is covered, and the ones that are not.
 */
export function withinScope(scope: readonly string[], files: readonly string[]): { within: boolean; outside: string[] } | null {
  if (scope.length === 0) return null;
  const outside = files.filter((f) => !scope.some((s) => scopeEntryCovers(s, f)));
  return { within: outside.length === 0, outside };
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        re += "(?:.*/)?"; // `**/` also matches no directory at all
        i++;
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  // A glob naming a directory covers what is below it.
  return new RegExp(`^${re}(?:/.*)?$`);
}
