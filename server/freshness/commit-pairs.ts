/**
 * Ahead/behind counts and missing commits of a (base commit, head commit) pair, memoised. A commit
 * never changes, so the answer for a pair of commit SHAs never goes stale: only a moved branch asks
 * a new question. Lanes share pairs (every lane with no commits of its own, on a base that has not
 * moved, asks the same one), so at boot 1,000 lanes cost a handful of `git rev-list` calls instead
 * of 1,000.
 *
 * Bounded: past `maxEntries` pairs the oldest are forgotten (Map insertion order, least recently
 * asked first since a hit is re-inserted), so memory stays flat however long the server runs.
 */
import { aheadBehind, missingCommits } from "../git/git";

export interface PairFacts {
  ahead: number;
  behind: number;
  /** Base commits the head is missing, newest first, at most {@link MISSING_LIMIT}. */
  missing: { sha: string; subject: string }[];
}

/** How many missing commits are kept per pair (the API returns up to 50). */
export const MISSING_LIMIT = 50;

export class CommitPairMemo {
  readonly #facts = new Map<string, Promise<PairFacts>>();
  /** Pairs answered by git, for diagnostics and tests. */
  readonly stats = { computed: 0, hits: 0 };

  constructor(private readonly maxEntries = 20_000) {}

  /**
   * Facts of `head` against `base` in `repo` (both full commit SHAs). Equal commits answer without
   * git. A failed computation is not kept, so the next call asks git again.
   * @throws AppError from {@link aheadBehind} / {@link missingCommits} (a commit not in `repo`)
   */
  facts(repo: string, base: string, head: string): Promise<PairFacts> {
    if (base === head) return Promise.resolve({ ahead: 0, behind: 0, missing: [] });
    const key = `${repo}\0${base}\0${head}`;
    const known = this.#facts.get(key);
    if (known) {
      this.stats.hits++;
      this.#facts.delete(key);
      this.#facts.set(key, known);
      return known;
    }
    this.stats.computed++;
    const computed = (async () => {
      const counts = await aheadBehind(repo, base, head);
      const missing = counts.behind > 0 ? await missingCommits(repo, head, base, MISSING_LIMIT) : [];
      return { ...counts, missing };
    })();
    this.#facts.set(key, computed);
    computed.catch(() => this.#facts.delete(key));
    if (this.#facts.size > this.maxEntries) this.#facts.delete(this.#facts.keys().next().value!);
    return computed;
  }
}
