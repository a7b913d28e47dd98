/**
 * Branch freshness of every lane against its base branch, kept current: commits ahead/behind,
 * whether the base moved since the lane started, the base commits the lane is missing, new
 * commits on the lane's branch (with provenance), and trouble with its branch or worktree.
 *
 * What triggers a recomputation:
 * - a {@link RefWatcher} per repository (inotify on the shared git directory's ref directories):
 *   when any branch head of interest moves — a commit, merge, rebase, fetch into main, pack-refs,
 *   rename or delete, by anyone — one `git for-each-ref` reads all heads of that repository and
 *   only lanes whose base head or own head changed are recomputed;
 * - a lane's process ending, a lane being created, a check about to run ({@link assess});
 * - a slow safety poll (`safetyPollMs`, default 30 s) doing the same per-repository scan plus a
 *   `stat` of each lane's worktree (to notice one removed by hand). Nothing polls per lane.
 *
 * Events: `branch.freshness` when ahead/behind change; `branch.stale_against_main` when the lane
 * falls (further) behind, with the commits it is missing; `lane.commit.created` per new commit
 * (./../git/commits.ts newCommitsSince); `branch.problem` (and `branch.workspace_mismatch` for a
 * worktree on the wrong HEAD) when a problem appears or changes. A merged lane is closed
 * ({@link close}) and no longer tracked.
 */
import fs from "node:fs";
import type { LaneFreshness } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { EventLog } from "../events/event-log";
import { gitCommonDir, listBranchHeads, newCommitsSince, problemFromError, RefWatcher, worktreeState, type GitProblem, type WorktreeState } from "../git/git";
import { branchHeads, worktreeStateFromFiles } from "../git/refs";
import type { Db } from "../store/db";
import { CommitPairMemo } from "./commit-pairs";
import { CountedMap } from "./counted-map";
import { problemOf } from "./git-problem";
import { LANE_FIELDS, latestEventPayloads, LaneReader, resumeHead, type CommitPayload, type BatchReads, type LaneWithRepo } from "./lane-reads";

export interface FreshnessDeps {
  db: Db;
  events: EventLog;
  /** Safety poll period in ms (default 30 000). */
  safetyPollMs?: number;
  /** Ref watcher debounce in ms (default 100). */
  debounceMs?: number;
  /** Resolves once a new lane's background worktree checkout has ended (server/lanes/worktree-checkouts.ts). */
  worktreeReady?: (laneId: string) => Promise<void>;
}

/** The fields of a `branch.problem` event's payload that identify the problem. */
type ProblemPayload = { problem?: string; message?: string };

interface Memo {
  head: string | null;
  baseHead: string | null;
  worktreeExists: boolean;
  problemKey: string | null;
  freshness: LaneFreshness;
}

/** How many missing commits events carry (the API returns up to 50). */
const EVENT_MISSING = 20;

export class FreshnessTracker {
  readonly #memo = new CountedMap<string, Memo>();
  readonly #pairs = new CommitPairMemo();
  readonly #inflight = new Map<string, Promise<LaneFreshness | null>>();
  readonly #closed = new Set<string>();
  /** repoId → git common dir, and the reverse. */
  readonly #common = new Map<string, string>();
  readonly #repoByCommon = new Map<string, Set<string>>();
  readonly #watcher: RefWatcher;
  readonly #reads: LaneReader;
  #timer: NodeJS.Timeout | null = null;
  #scanning: Promise<void> | null = null;
  readonly #refreshingAll = new Set<Promise<void>>();
  #stopped = false;
  /** Scans per trigger and lane recomputations, for diagnostics and tests; `pairs`: ahead/behind answered by git vs from memory. */
  readonly stats = { watchScans: 0, pollScans: 0, refreshes: 0, pairs: this.#pairs.stats };
  /** Changes whenever a lane's {@link peek} may answer differently. */
  get version(): number {
    return this.#memo.changes;
  }

  constructor(private readonly deps: FreshnessDeps) {
    this.#reads = new LaneReader(deps.db);
    this.#watcher = new RefWatcher({ debounceMs: deps.debounceMs ?? 100, onChange: (common) => void this.#onRefsChanged(common) });
  }

  /** Load closed (merged) lanes, arm a watcher per repository with lanes, start the safety poll. */
  async start(): Promise<void> {
    const merged = await this.deps.db.laneEvent.findMany({ where: { type: "lane.merged" }, select: { laneId: true } });
    for (const e of merged) if (e.laneId) this.#closed.add(e.laneId);
    const repos = await this.deps.db.lane.findMany({ distinct: ["repoId"], select: { repoId: true } });
    await Promise.all(repos.map((r) => this.#arm(r.repoId).catch(() => undefined)));
    this.#timer = setInterval(() => void this.#poll(), this.deps.safetyPollMs ?? 30_000);
    this.#timer.unref();
  }

  /** Stop watching and polling; wait for work in flight (so none touches a closed database). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#watcher.close();
    await this.#scanning;
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Stop tracking a lane for good (it was merged and cleaned up). */
  close(laneId: string): void {
    this.#closed.add(laneId);
    this.#memo.delete(laneId);
  }

  /**
   * Recompute every open lane (at boot), repository by repository: one `git for-each-ref` per
   * repository, each worktree's HEAD read from its files, ahead/behind asked of git once per
   * distinct (base, head) commit pair ({@link CommitPairMemo}) and commits only for a lane whose
   * branch moved since its last reported commit; the lanes' rows, last commits and last problems
   * come from three queries. So 1,000 settled lanes cost a few git processes, not 5,000, and the
   * server stays responsive while it runs. A problem the log already holds as the lane's latest is
   * not announced again. Never throws (as {@link refresh}).
   */
  refreshAll(trigger = "boot"): Promise<void> {
    const run: Promise<void> = this.#refreshAll(trigger).finally(() => this.#refreshingAll.delete(run));
    this.#refreshingAll.add(run);
    return run;
  }

  /**
   * Resolves once no recomputation runs or waits (a {@link refreshAll}, such as the boot refresh
   * the runtime starts in the background, a scan, a lane's refresh), counting those started
   * meanwhile. `baseMoved` changes with a recomputation, not always with an event: a reader that
   * must see it settled (a test comparing two reads of the board) waits for this. Never rejects.
   */
  async settled(): Promise<void> {
    while (this.#refreshingAll.size > 0 || this.#inflight.size > 0 || this.#scanning) await Promise.allSettled([...this.#refreshingAll, ...this.#inflight.values(), this.#scanning]);
  }

  async #refreshAll(trigger: string): Promise<void> {
    const repos = await this.deps.db.lane.findMany({ distinct: ["repoId"], select: { repoId: true } });
    const lastProblems = await latestEventPayloads<ProblemPayload>(this.deps.db, "branch.problem");
    for (const { repoId } of repos) {
      if (this.#stopped) return;
      await this.#batch(repoId, trigger, { lastProblems }).catch((err: unknown) => {
        console.error(`[freshness] ${trigger} refresh of repo ${repoId} failed:`, err instanceof Error ? err.message : err);
      });
    }
  }

  /** The watcher's view of a repository (for tests and diagnostics). */
  watchedDirs(repoId: string): string[] {
    const common = this.#common.get(repoId);
    return common ? this.#watcher.watchedDirs(common) : [];
  }

  /**
   * A lane was just created (its branch at its base commit): computed with the repository's next
   * scan of its heads, which the new branch's ref triggers anyway, so a burst of creations costs
   * one `git for-each-ref` instead of one per lane. The first lane of a repository not yet
   * watched is refreshed on its own (which arms the watcher).
   */
  laneCreated(laneId: string, repoId: string): void {
    const common = this.#common.get(repoId);
    if (common) this.#watcher.changed(common);
    else void this.refresh(laneId, "lane");
  }

  /**
   * Recompute one lane now (serialized per lane). Never throws: git trouble becomes the lane's
   * `problem` (and an event); an unknown or closed lane resolves to null.
   */
  refresh(laneId: string, trigger = "lane"): Promise<LaneFreshness | null> {
    return this.#enqueue(laneId, trigger);
  }

  #enqueue(laneId: string, trigger: string, known?: BatchReads): Promise<LaneFreshness | null> {
    if (this.#stopped || this.#closed.has(laneId)) return Promise.resolve(this.#memo.get(laneId)?.freshness ?? null);
    const prev = this.#inflight.get(laneId);
    // What a batch read may be outdated by the refresh still running (it may write the row): re-read.
    const fresh = prev ? undefined : known;
    const next = (prev ?? Promise.resolve(null))
      .catch(() => null)
      .then(() => this.#refresh(laneId, trigger, fresh))
      .catch((err: unknown) => {
        console.error(`[freshness] ${laneId}:`, err instanceof Error ? err.message : err);
        return this.#memo.get(laneId)?.freshness ?? null;
      });
    this.#inflight.set(laneId, next);
    void next.finally(() => {
      if (this.#inflight.get(laneId) === next) this.#inflight.delete(laneId);
    });
    return next;
  }

  /**
   * Freshness computed now, for a decision (before a check, for merge readiness, the API).
   * @throws AppError not_found (no such lane)
   */
  async assess(laneId: string, trigger = "before_check"): Promise<LaneFreshness> {
    const f = await this.refresh(laneId, trigger);
    if (f) return f;
    const lane = await this.deps.db.lane.findUnique({ where: { id: laneId }, select: { id: true } });
    if (!lane) throw new AppError("not_found", `no lane with id ${laneId}`);
    throw new AppError("conflict", `lane ${laneId} is closed (merged); its freshness is no longer tracked`);
  }

  /** The last computed freshness, without touching git. */
  peek(laneId: string): LaneFreshness | null {
    return this.#memo.get(laneId)?.freshness ?? null;
  }

  async #refresh(laneId: string, trigger: string, known?: BatchReads): Promise<LaneFreshness | null> {
    const lane = known?.lane ?? (await this.#reads.lane(laneId));
    if (!lane || this.#closed.has(laneId)) return null;
    this.stats.refreshes++;
    if (!this.#common.has(lane.repoId)) await this.#arm(lane.repoId).catch(() => undefined);
    const repoPath = lane.repo.path;
    await this.deps.worktreeReady?.(laneId); // else a lane created a moment ago reads as worktree_missing
    const memo = this.#memo.get(laneId);
    // A repository that cannot be read has no branches: the lane gets base_missing, as it should.
    const heads = known?.heads ?? (await branchHeads(repoPath, [lane.baseBranch, lane.branch]).catch(() => new Map<string, string>()));
    const baseHead = heads.get(lane.baseBranch) ?? null;
    const head = heads.get(lane.branch) ?? null;
    const wt =
      (await worktreeStateFromFiles(lane.worktreePath, heads)) ??
      (await worktreeState(lane.worktreePath).catch((): WorktreeState => ({ kind: "not_a_worktree", message: "git timed out" })));
    let problem = problemOf(lane, baseHead, head, wt);
    let counts: { ahead: number; behind: number } | null = null;
    let missing: { sha: string; subject: string }[] = [];
    if (baseHead && head) {
      try {
        const pair = await this.#pairs.facts(repoPath, baseHead, head);
        counts = { ahead: pair.ahead, behind: pair.behind };
        missing = pair.missing;
        const since = memo ? memo.head : known ? await known.lastHead() : resumeHead(lane, await latestEventPayloads<CommitPayload>(this.deps.db, "lane.commit.created", { laneId: lane.id }));
        if (since !== head) await this.#emitCommits(lane, since, head, baseHead);
      } catch (err) {
        problem ??= problemFromError(err, "reading the branch");
      }
    }
    const freshness: LaneFreshness = {
      laneId,
      branch: lane.branch,
      baseBranch: lane.baseBranch,
      baseSha: lane.baseSha,
      baseHead,
      baseMoved: baseHead && lane.baseSha ? baseHead !== lane.baseSha : null,
      head,
      ahead: counts?.ahead ?? lane.ahead,
      behind: counts?.behind ?? lane.behind,
      stale: (counts?.behind ?? 0) > 0,
      missing,
      worktree: wt.kind === "branch" ? (wt.branch === lane.branch ? "ok" : "wrong_branch") : wt.kind,
      problem: problem && { problem: problem.problem, failureClass: problem.failureClass, message: problem.message },
      checkedAt: new Date().toISOString(),
    };
    const problemKey = problem ? `${problem.problem}:${problem.message}` : null;
    this.#memo.set(laneId, { head, baseHead, worktreeExists: wt.kind !== "missing", problemKey, freshness });
    const reported = memo ? memo.problemKey : (known?.lastProblemKey ?? null);
    if (problem && problemKey !== reported) await this.#emitProblem(lane, problem, wt, trigger);
    if (counts) await this.#emitCounts(lane, freshness, counts, trigger);
    return freshness;
  }


  async #emitProblem(lane: LaneWithRepo, problem: GitProblem, wt: WorktreeState, trigger: string): Promise<void> {
    const base = { laneId: lane.id, repoId: lane.repoId };
    await this.deps.events.append({ ...base, type: "branch.problem", payload: { ...problem, operation: `freshness:${trigger}` } });
    if (wt.kind === "detached" || (wt.kind === "branch" && wt.branch !== lane.branch)) {
      const actual = wt.kind === "detached" ? `detached HEAD at ${wt.head}` : `branch ${wt.branch}`;
      await this.deps.events.append({ ...base, type: "branch.workspace_mismatch", payload: { expected: `branch ${lane.branch}`, actual, source: "freshness" } });
    }
  }

  async #emitCounts(lane: LaneWithRepo, f: LaneFreshness, counts: { ahead: number; behind: number }, trigger: string): Promise<void> {
    if (counts.ahead === lane.ahead && counts.behind === lane.behind) return;
    await this.deps.db.lane.update({ where: { id: lane.id }, data: counts });
    const payload = {
      ...counts,
      baseBranch: lane.baseBranch,
      baseSha: lane.baseSha,
      baseHead: f.baseHead ?? undefined,
      baseMoved: f.baseMoved ?? undefined,
      missing: f.missing.slice(0, EVENT_MISSING),
      trigger,
    };
    const base = { laneId: lane.id, repoId: lane.repoId };
    await this.deps.events.append({ ...base, type: "branch.freshness", payload });
    if (counts.behind > (lane.behind ?? 0)) await this.deps.events.append({ ...base, type: "branch.stale_against_main", payload });
  }

  async #emitCommits(lane: LaneWithRepo, since: string | null, head: string, baseHead: string): Promise<void> {
    const commits = await newCommitsSince(lane.repo.path, { since, head, base: baseHead });
    for (const c of commits) {
      await this.deps.events.append({
        type: "lane.commit.created",
        laneId: lane.id,
        repoId: lane.repoId,
        payload: {
          sha: c.sha,
          subject: c.subject,
          branch: lane.branch,
          worktree: lane.worktreePath,
          author: c.author,
          parents: c.parents,
          files: c.files,
          filesChanged: c.filesChanged,
          supersedes: c.supersedes,
          rewrite: c.rewrite,
        },
      });
    }
  }

  /**
   * Resolve the repository's git directory and (re)arm its watcher with the branches of its open
   * lanes; `lanes`: its lanes as a scan just read them (not read again unless repos share the dir).
   */
  async #arm(repoId: string, lanes?: readonly { id: string; branch: string; baseBranch: string }[]): Promise<void> {
    const repo = await this.#reads.repo(repoId);
    if (!repo) return;
    let common = this.#common.get(repoId);
    if (!common) {
      common = await gitCommonDir(repo.path);
      this.#common.set(repoId, common);
      const set = this.#repoByCommon.get(common) ?? new Set();
      set.add(repoId);
      this.#repoByCommon.set(common, set);
    }
    const repoIds = [...(this.#repoByCommon.get(common) ?? [])];
    const all = lanes && repoIds.length === 1 ? lanes : await this.deps.db.lane.findMany({ where: { repoId: { in: repoIds } }, select: { id: true, branch: true, baseBranch: true } });
    const open = all.filter((l) => !this.#closed.has(l.id));
    this.#watcher.watch(common, new Set(open.flatMap((l) => [l.branch, l.baseBranch])));
  }

  #onRefsChanged(common: string): Promise<void> {
    this.stats.watchScans++;
    return this.#scan([...(this.#repoByCommon.get(common) ?? [])], "watch");
  }

  #poll(): Promise<void> {
    this.stats.pollScans++;
    return this.#scan([...this.#common.keys()], "poll", true);
  }

  /** One `for-each-ref` per repository; recompute lanes whose heads (or worktree existence) changed. */
  #scan(repoIds: string[], trigger: string, statWorktrees = false): Promise<void> {
    const run = async () => {
      for (const repoId of repoIds) {
        if (this.#stopped) return;
        try {
          await this.#batch(repoId, trigger, { onlyMoved: true, statWorktrees, arm: true });
        } catch (err) {
          console.error(`[freshness] scan of repo ${repoId} failed:`, err instanceof Error ? err.message : err);
        }
      }
    };
    // Scans queue behind each other, so a burst of changes is read in order.
    const next = (this.#scanning ?? Promise.resolve()).then(run);
    this.#scanning = next;
    void next.finally(() => {
      if (this.#scanning === next) this.#scanning = null;
    });
    return next;
  }

  /**
   * Recompute a repository's open lanes from one read of its branch heads and one query for its
   * lanes; `onlyMoved`: only those whose heads moved (or, with `statWorktrees`, whose worktree
   * appeared or vanished) since last computed; `arm`: re-arm its watcher with the lanes read (a scan).
   * @throws AppError from git when `onlyMoved` and the repository's heads cannot be read
   */
  async #batch(repoId: string, trigger: string, opts: { onlyMoved?: boolean; statWorktrees?: boolean; arm?: boolean; lastProblems?: ReadonlyMap<string, ProblemPayload> }): Promise<void> {
    const { db } = this.deps;
    const repo = await this.#reads.repo(repoId);
    if (!repo) return;
    // At boot a repository that cannot be read still gives every lane its answer (base_missing).
    const heads = opts.onlyMoved ? await listBranchHeads(repo.path) : await listBranchHeads(repo.path).catch(() => new Map<string, string>());
    const lanes = await db.lane.findMany({ where: { repoId }, select: LANE_FIELDS });
    if (opts.arm) await this.#arm(repoId, lanes);
    let lastCommits: Promise<Map<string, CommitPayload>> | null = null;
    for (const lane of lanes) {
      if (this.#stopped) return;
      if (this.#closed.has(lane.id)) continue;
      const memo = this.#memo.get(lane.id);
      if (opts.onlyMoved && memo) {
        const moved = memo.baseHead !== (heads.get(lane.baseBranch) ?? null) || memo.head !== (heads.get(lane.branch) ?? null);
        const wtChanged = opts.statWorktrees === true && memo.worktreeExists !== fs.existsSync(lane.worktreePath);
        if (!moved && !wtChanged) continue;
      }
      const last = opts.lastProblems?.get(lane.id);
      await this.#enqueue(lane.id, trigger, {
        lane: { ...lane, repo },
        heads,
        lastHead: async () => resumeHead(lane, await (lastCommits ??= latestEventPayloads<CommitPayload>(db, "lane.commit.created", { repoId }))),
        lastProblemKey: last ? `${last.problem}:${last.message}` : null,
      });
    }
  }
}
