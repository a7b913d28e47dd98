/**
 * The policy rules in force per repo, wired into the runtime: loaded when a repo is registered
 * (and for every repo at boot), reloaded when its policy file changes, replaceable through the
 * API, and asked by the lane machinery through {@link PolicyService.decide}, which emits every
 * decision as a `policy.decided` event naming the rule that fired.
 *
 * Where rules come from, first that exists wins:
 * 1. the text accepted through `PUT /api/v1/repos/:id/policy`, kept in
 *    `<dataDir>/policies/<repoId>.yaml` (so the user's repository is never written to);
 * 2. the repo's own file, `.laneboard/policy.yaml|yml|json` in its main work tree, watched with
 *    `fs.watch` (the `.laneboard` directory, or the repo root until that directory exists), and
 *    checked by a slow safety poll (lstat of those names every {@link PolicyServiceDeps.safetyPollMs})
 *    for the changes a watch misses (network file systems; a watch the kernel refused, e.g. when
 *    the user's inotify watches ran out, which fs.watch reports only by throwing); read
 *    only if it is a regular file inside the repo of at most 64 KiB (./read-policy-file.ts), a
 *    file refused for that is rejected like an invalid one;
 * 3. the defaults (./default-rules.ts).
 *
 * A text that does not validate — from the API or an edited file — is rejected with its
 * line-numbered errors (`policy.rejected`, and a 422 for the API) and the previous rules stay in
 * force.
 */
import fs, { type FSWatcher } from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import type { PolicyPutBody, PolicyView } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { LaneEventType } from "@/lib/lane-events";
import type { EventLog } from "../events/event-log";
import type { Db } from "../store/db";
import type { PolicyDecision, PolicyFacts } from "./evaluate-policy";
import { POLICY_FILE_NAMES } from "./load-policy";
import { PolicyStore } from "./policy-store";
import { readRepoPolicyFile, type PolicyFileRead } from "./read-policy-file";

export interface PolicyServiceDeps {
  db: Db;
  events: EventLog;
  dataDir: string;
  /** Quiet time after a policy file change before it is re-read, in ms (default 100). */
  debounceMs?: number;
  /** How often the policy files' lstat is compared with the last read, in ms (default 5000). */
  safetyPollMs?: number;
}

interface RepoWatch {
  repoPath: string;
  watcher: FSWatcher | null;
  watching: string | null;
  timer: NodeJS.Timeout | null;
  /** {@link fileStamp} of the policy files when they were last read; null before the first read. */
  stamp: string | null;
}

export class PolicyService {
  readonly store = new PolicyStore();
  readonly #watches = new Map<string, RepoWatch>();
  /** Serializes loads per repo so two file events cannot interleave. */
  readonly #loading = new Map<string, Promise<void>>();
  #stopped = false;
  #poll: NodeJS.Timeout | null = null;

  constructor(private readonly deps: PolicyServiceDeps) {}

  /** Load and watch every registered repo's policy, and start the safety poll. Never throws. */
  async start(): Promise<void> {
    const repos = await this.deps.db.repo.findMany({ select: { id: true } });
    await Promise.all(repos.map((r) => this.loadRepo(r.id)));
    if (this.#stopped || this.#poll) return;
    this.#poll = setInterval(() => {
      for (const [repoId, w] of this.#watches) if (w.stamp !== null && fileStamp(w.repoPath) !== w.stamp) void this.loadRepo(repoId);
    }, this.deps.safetyPollMs ?? 5000);
    this.#poll.unref();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    for (const w of this.#watches.values()) {
      w.watcher?.close();
      if (w.timer) clearTimeout(w.timer);
    }
    this.#watches.clear();
  }

  /**
   * (Re)load a repo's rules from the API override or its file, and watch the file. Emits
   * `policy.loaded` when the rules in force changed, `policy.rejected` for a bad file (the
   * previous rules stay). Never throws.
   */
  loadRepo(repoId: string): Promise<void> {
    const prev = this.#loading.get(repoId) ?? Promise.resolve();
    const next = prev.then(() => this.#load(repoId)).catch((err) => console.error(`[policy] ${repoId}:`, err instanceof Error ? err.message : err));
    this.#loading.set(repoId, next);
    return next;
  }

  async #load(repoId: string): Promise<void> {
    if (this.#stopped) return;
    const repo = await this.deps.db.repo.findUnique({ where: { id: repoId } });
    if (!repo) return;
    const watch = this.#watch(repoId, repo.path);
    // Taken before the read: a change during it differs from this stamp, so the poll reads again.
    watch.stamp = fileStamp(repo.path);
    const before = this.store.get(repoId);
    const override = await readText(this.#overridePath(repoId));
    const file = await this.#repoFile(repo.path);
    if (override === null && file.kind === "refused") {
      await this.deps.events.append({ type: "policy.rejected", laneId: null, repoId, payload: { source: "file", path: file.path, errors: [{ line: 0, column: 0, message: file.message }] } });
      return;
    }
    const [source, text, where] =
      override !== null ? (["api", override, this.#overridePath(repoId)] as const) : file.kind === "ok" ? (["file", file.text, file.path] as const) : ([null, null, null] as const);
    if (source === null) {
      if (before.source === "defaults") return;
      this.store.reset(repoId);
    } else {
      if (before.text === text && before.source === source) return;
      const result = this.store.replace(repoId, text, source);
      if (!result.ok) {
        await this.deps.events.append({ type: "policy.rejected", laneId: null, repoId, payload: { source, path: where, errors: result.errors.map(({ line, column, message }) => ({ line, column, message })) } });
        return;
      }
    }
    const now = this.store.get(repoId);
    await this.deps.events.append({ type: "policy.loaded", laneId: null, repoId, payload: { source: now.source, path: where, rules: now.rules.length } });
  }

  /**
   * @throws AppError not_found; invalid_input with `details.reason` (`PolicyFileRefusal` of
   *   ./read-policy-file.ts) and `details.file` when the repo's policy file is not safe to read.
   */
  async get(repoId: string): Promise<PolicyView> {
    const repo = await this.deps.db.repo.findUnique({ where: { id: repoId } });
    if (!repo) throw new AppError("not_found", `no registered repo '${repoId}'`);
    const set = this.store.get(repoId);
    const file = await this.#repoFile(repo.path);
    if (file.kind === "refused") throw new AppError("invalid_input", `policy file refused: ${file.message}`, { field: "policyFile", reason: file.reason, file: file.path });
    return {
      repoId,
      source: set.source,
      file: file.kind === "ok" ? file.path : null,
      text: set.text,
      rules: set.rules.map((r) => ({ id: r.id, description: r.description, when: { ...r.when }, then: { ...r.then } })),
      updatedAt: set.updatedAt,
      runCheckoutHook: set.runCheckoutHook,
    };
  }

  /**
   * Replace a repo's rules (all or nothing) and keep the text for restarts.
   * @throws AppError not_found; invalid_input with `details.errors` ([{ line, column, message, path }])
   *   when the text does not validate (the previous rules stay in force).
   */
  async put(repoId: string, body: PolicyPutBody | string): Promise<PolicyView> {
    const repo = await this.deps.db.repo.findUnique({ where: { id: repoId } });
    if (!repo) throw new AppError("not_found", `no registered repo '${repoId}'`);
    const text = typeof body === "string" ? body : "text" in body ? body.text : stringify({ version: 1, includeDefaults: body.includeDefaults ?? false, rules: body.rules, ...(body.git ? { git: body.git } : {}) });
    await this.#loading.get(repoId);
    const result = this.store.replace(repoId, text, "api");
    if (!result.ok) {
      await this.deps.events.append({ type: "policy.rejected", laneId: null, repoId, payload: { source: "api", path: null, errors: result.errors.map(({ line, column, message }) => ({ line, column, message })) } });
      const first = result.errors[0]!;
      throw new AppError("invalid_input", `policy rejected: line ${first.line}, column ${first.column}: ${first.message}`, { errors: result.errors });
    }
    const file = this.#overridePath(repoId);
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await fsp.writeFile(`${file}.tmp`, text);
    await fsp.rename(`${file}.tmp`, file);
    await this.deps.events.append({ type: "policy.loaded", laneId: null, repoId, payload: { source: "api", path: file, rules: this.store.get(repoId).rules.length } });
    return this.get(repoId);
  }

  /** Drop the API's rules: back to the repo's file, or the defaults. @throws AppError not_found */
  async reset(repoId: string): Promise<PolicyView> {
    await fsp.rm(this.#overridePath(repoId), { force: true });
    await this.loadRepo(repoId);
    return this.get(repoId);
  }

  /**
   * Evaluate the repo's rules for a lane and, when one fires, emit `policy.decided` naming it.
   * @returns the decision, or null when no rule applies.
   */
  async decide(lane: { id: string; repoId: string }, trigger: LaneEventType, facts: Omit<PolicyFacts, "event">): Promise<PolicyDecision | null> {
    const decision = this.store.evaluate(lane.repoId, { ...facts, event: trigger });
    if (!decision) return null;
    const { action, ...params } = decision.action;
    await this.deps.events.append({
      type: "policy.decided",
      laneId: lane.id,
      repoId: lane.repoId,
      payload: { ruleId: decision.ruleId, action, params, description: decision.description, trigger },
    });
    return decision;
  }

  #overridePath(repoId: string): string {
    return path.join(this.deps.dataDir, "policies", `${repoId.replace(/[^A-Za-z0-9_-]/g, "_")}.yaml`);
  }

  /** The first of {@link POLICY_FILE_NAMES} that exists, read safely (or refused). */
  async #repoFile(repoPath: string): Promise<PolicyFileRead> {
    for (const name of POLICY_FILE_NAMES) {
      const read = await readRepoPolicyFile(repoPath, name);
      if (read.kind !== "missing") return read;
    }
    return { kind: "missing" };
  }

  /** Watch `.laneboard/` (or the repo root until it exists); re-armed on every event. */
  #watch(repoId: string, repoPath: string): RepoWatch {
    let w = this.#watches.get(repoId);
    if (!w) this.#watches.set(repoId, (w = { repoPath, watcher: null, watching: null, timer: null, stamp: null }));
    const dir = path.join(repoPath, ".laneboard");
    const target = isDir(dir) ? dir : repoPath;
    if (w.watching === target && w.watcher) return w;
    const moved = w.watching !== null; // `.laneboard/` appeared or vanished: its files may have changed before this watch
    w.watcher?.close();
    w.watcher = null;
    w.watching = null;
    try {
      const watch = w;
      watch.watcher = fs.watch(target, { persistent: false }, (_type, name) => {
        if (target === repoPath && name !== null && String(name) !== ".laneboard") return;
        if (watch.timer) clearTimeout(watch.timer);
        watch.timer = setTimeout(() => void this.loadRepo(repoId), this.deps.debounceMs ?? 100);
        watch.timer.unref();
      });
      watch.watcher.on("error", () => {
        watch.watcher?.close();
        watch.watcher = null;
      });
      watch.watching = target;
      if (moved) {
        watch.timer = setTimeout(() => void this.loadRepo(repoId), this.deps.debounceMs ?? 100);
        watch.timer.unref();
      }
    } catch (err) {
      // The repo directory is gone, or the kernel refused the watch: a later load re-arms, and
      // the safety poll notices changes meanwhile.
      console.warn(`[policy] cannot watch ${target}: ${(err as Error).message}; checking it every ${(this.deps.safetyPollMs ?? 5000) / 1000} s instead`);
    }
    return w;
  }
}

/**
 * What the policy files of `repoPath` look like on disk, cheaply: lstat's inode, size and mtime
 * of each of {@link POLICY_FILE_NAMES} ("-" for a missing one), joined. A different stamp means a
 * file may have changed; the same stamp means no write since (mtime has ns resolution here).
 */
function fileStamp(repoPath: string): string {
  return POLICY_FILE_NAMES.map((name) => {
    try {
      const st = fs.lstatSync(path.join(repoPath, name), { bigint: true });
      return `${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch {
      return "-";
    }
  }).join("|");
}

async function readText(p: string): Promise<string | null> {
  try {
    return await fsp.readFile(p, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || (err as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw err;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
