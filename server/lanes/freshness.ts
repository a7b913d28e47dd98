/**
 * Branch freshness of lanes against their base branch: commits ahead/behind
 * (`git rev-list --left-right --count base...branch`) and new commits on the lane's branch.
 *
 * Refreshed when a lane's process ends or a lane is created ({@link FreshnessTracker.refresh}),
 * and by one timer that every `intervalMs` reads each repo's base-branch heads (one `git
 * rev-parse` per repo, not per lane) and the live lanes' heads: when a base branch moved, every
 * lane on it is recomputed. Emits `branch.freshness` on change, `branch.stale_against_main`
 * when a lane falls behind, and `lane.commit.created` for each new commit on a lane's branch.
 */
import { LIVE_LANE_STATES } from "@/lib/lane-state";
import type { EventLog } from "../events/event-log";
import { aheadBehind, commitsBetween, resolveCommit } from "../git/git";
import type { Db } from "../store/db";

export interface FreshnessDeps {
  db: Db;
  events: EventLog;
  /** Poll period in ms for base-branch movement and live lanes' heads. */
  intervalMs: number;
}

export class FreshnessTracker {
  /** Last seen head per `repoPath\0ref`. */
  readonly #heads = new Map<string, string>();
  /** Serializes refreshes of one lane so events are not doubled. */
  readonly #inflight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<void> | null = null;
  #stopped = false;

  constructor(private readonly deps: FreshnessDeps) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.deps.intervalMs);
    this.#timer.unref();
  }

  /** Stop the timer and wait for refreshes in flight (so none touches a closed database). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
    await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Recompute one lane now; never throws (a git failure is logged and leaves the old values). */
  refresh(laneId: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const prev = this.#inflight.get(laneId) ?? Promise.resolve();
    const next = prev.then(() => this.#refresh(laneId)).catch((err) => console.error(`[freshness] ${laneId}:`, err instanceof Error ? err.message : err));
    this.#inflight.set(laneId, next);
    void next.finally(() => {
      if (this.#inflight.get(laneId) === next) this.#inflight.delete(laneId);
    });
    return next;
  }

  async #refresh(laneId: string): Promise<void> {
    const { db, events } = this.deps;
    const lane = await db.lane.findUnique({ where: { id: laneId }, include: { repo: true } });
    if (!lane) return;
    const repoPath = lane.repo.path;
    const { ahead, behind } = await aheadBehind(repoPath, lane.baseBranch, lane.branch);
    const head = await resolveCommit(repoPath, lane.branch);
    const headKey = `${repoPath}\0${lane.branch}`;
    const lastHead = this.#heads.get(headKey) ?? lane.baseSha;
    this.#heads.set(headKey, head);
    if (lastHead && lastHead !== head) {
      const commits = await commitsBetween(repoPath, lastHead, head);
      for (const c of commits) {
        await events.append({ type: "lane.commit.created", laneId, repoId: lane.repoId, payload: { sha: c.sha, subject: c.subject, branch: lane.branch } });
      }
    }
    if (ahead === lane.ahead && behind === lane.behind) return;
    await db.lane.update({ where: { id: laneId }, data: { ahead, behind } });
    const payload = { ahead, behind, baseBranch: lane.baseBranch };
    await events.append({ type: "branch.freshness", laneId, repoId: lane.repoId, payload });
    if (behind > 0 && (lane.behind ?? 0) === 0) await events.append({ type: "branch.stale_against_main", laneId, repoId: lane.repoId, payload });
  }

  #tick(): Promise<void> {
    this.#ticking ??= this.#scan().finally(() => (this.#ticking = null));
    return this.#ticking;
  }

  async #scan(): Promise<void> {
    try {
      const lanes = await this.deps.db.lane.findMany({ select: { id: true, state: true, baseBranch: true, repo: { select: { path: true } } } });
      const moved = new Set<string>();
      for (const key of new Set(lanes.map((l) => `${l.repo.path}\0${l.baseBranch}`))) {
        const [repoPath, ref] = key.split("\0") as [string, string];
        const sha = await resolveCommit(repoPath, ref).catch(() => null);
        if (sha && this.#heads.get(key) !== sha) {
          if (this.#heads.has(key)) moved.add(key);
          this.#heads.set(key, sha);
        }
      }
      for (const lane of lanes) {
        const baseMoved = moved.has(`${lane.repo.path}\0${lane.baseBranch}`);
        if (baseMoved || LIVE_LANE_STATES.has(lane.state as never)) await this.refresh(lane.id);
      }
    } catch (err) {
      console.error("[freshness] tick failed", err);
    }
  }
}
