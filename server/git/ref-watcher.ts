/**
 * Notices branch heads moving in a repository — by a commit, a merge, a rebase, a fetch into a
 * local branch, `update-ref`, `pack-refs` or a branch rename/delete, from Laneboard or from
 * anyone else — within the debounce delay, without polling.
 *
 * How: git moves a loose ref by writing `refs/heads/<name>.lock` and renaming it onto
 * `refs/heads/<name>`, and rewrites `packed-refs` the same way, so inotify (`fs.watch`) on the
 * directories that hold the refs of interest, plus the git directory itself (for
 * `packed-refs`), sees every change. All worktrees of a repository share one such directory
 * (`git rev-parse --git-common-dir`), so one watcher per repository covers every lane's branch.
 * A ref whose directory does not exist yet (`refs/heads/lane/` before the first lane) is covered
 * by watching its nearest existing ancestor; the watch set is re-armed after every change.
 *
 * The watcher only says *that* something changed (debounced per repository); the caller reads
 * the heads (one `git for-each-ref`) and decides what moved. fs.watch can miss events on network
 * file systems, so callers keep a slow safety poll.
 */
import fs, { type FSWatcher } from "node:fs";
import path from "node:path";

export interface RefWatcherOptions {
  /** Called once per burst of changes under a watched git directory. Must not throw. */
  onChange: (commonDir: string) => void;
  /** Quiet time after the last change before `onChange`, in ms (default 100). */
  debounceMs?: number;
  /** Longest a burst of changes postpones `onChange`, in ms (default 1000): steady changes are still read now and then. */
  maxWaitMs?: number;
}

interface Watched {
  refs: Set<string>;
  watchers: Map<string, FSWatcher>;
  timer: NodeJS.Timeout | null;
  /** When the first change of the pending burst came (performance.now() ms). */
  since: number;
}

/** Files directly in the git directory whose change can move a branch. */
const COMMON_DIR_FILES = new Set(["packed-refs"]);

export class RefWatcher {
  readonly #repos = new Map<string, Watched>();
  #closed = false;
  /** Number of change notifications delivered (for tests and diagnostics). */
  notifications = 0;

  constructor(private readonly opts: RefWatcherOptions) {}

  /**
   * Watch `commonDir` for changes of the given branches (short names, e.g. `main`, `lane/x`);
   * replaces the set given before for that directory. Never throws: a directory that cannot be
   * watched is left to the caller's safety poll.
   */
  watch(commonDir: string, branches: Iterable<string>): void {
    if (this.#closed) return;
    let w = this.#repos.get(commonDir);
    if (!w) this.#repos.set(commonDir, (w = { refs: new Set(), watchers: new Map(), timer: null, since: 0 }));
    w.refs = new Set(branches);
    this.#arm(commonDir, w);
  }

  /**
   * Something the caller did may have moved refs under `commonDir` (it created a branch): read
   * them with the current burst, as if inotify had said so. Ignored for a directory not watched.
   */
  changed(commonDir: string): void {
    this.#schedule(commonDir);
  }

  unwatch(commonDir: string): void {
    const w = this.#repos.get(commonDir);
    if (!w) return;
    if (w.timer) clearTimeout(w.timer);
    for (const watcher of w.watchers.values()) watcher.close();
    this.#repos.delete(commonDir);
  }

  /** The directories currently watched for `commonDir` (sorted). */
  watchedDirs(commonDir: string): string[] {
    return [...(this.#repos.get(commonDir)?.watchers.keys() ?? [])].sort();
  }

  close(): void {
    this.#closed = true;
    for (const dir of [...this.#repos.keys()]) this.unwatch(dir);
  }

  #arm(commonDir: string, w: Watched): void {
    const heads = path.join(commonDir, "refs", "heads");
    const wanted = new Set<string>([commonDir, nearestExisting(heads, commonDir)]);
    for (const ref of w.refs) wanted.add(nearestExisting(path.dirname(path.join(heads, ref)), commonDir));
    for (const [dir, watcher] of w.watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        w.watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (w.watchers.has(dir)) continue;
      try {
        const watcher = fs.watch(dir, { persistent: false }, (_type, name) => this.#onEvent(commonDir, dir, name ? String(name) : null));
        watcher.on("error", () => {
          watcher.close();
          if (w.watchers.get(dir) === watcher) w.watchers.delete(dir);
          this.#schedule(commonDir); // the directory went away (e.g. refs/heads/lane emptied): re-arm and re-read
        });
        w.watchers.set(dir, watcher);
      } catch {
        // Gone between the existence check and the watch: the next change or poll re-arms.
      }
    }
  }

  #onEvent(commonDir: string, dir: string, name: string | null): void {
    if (dir === commonDir && name !== null && !COMMON_DIR_FILES.has(name)) return; // index, HEAD, logs, objects…
    this.#schedule(commonDir);
  }

  #schedule(commonDir: string): void {
    const w = this.#repos.get(commonDir);
    if (!w || this.#closed) return;
    const now = performance.now();
    if (w.timer) clearTimeout(w.timer);
    else w.since = now;
    const debounceMs = this.opts.debounceMs ?? 100;
    const delay = Math.max(0, Math.min(debounceMs, w.since + (this.opts.maxWaitMs ?? 1000) - now));
    w.timer = setTimeout(() => {
      w.timer = null;
      if (this.#repos.get(commonDir) !== w) return;
      this.#arm(commonDir, w);
      this.notifications++;
      this.opts.onChange(commonDir);
    }, delay);
    w.timer.unref();
  }
}

/** `dir` if it exists, else its nearest existing ancestor, never above `stop`. */
function nearestExisting(dir: string, stop: string): string {
  let d = dir;
  while (d.length > stop.length && !isDir(d)) d = path.dirname(d);
  return d.length < stop.length ? stop : d;
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
