/**
 * Registering and looking up repos. A repo is a local git work tree with a detected (or
 * configured) main branch; registration is validated by `inspectRepo` (server/git).
 */
import type { RegisterRepoBody, RepoView } from "@/lib/api";
import { RegisterRepoBodySchema } from "@/lib/api";
import { AppError } from "@/lib/errors";
import type { Page } from "@/lib/paging";
import { parseOrThrow } from "@/lib/validate";
import type { EventLog } from "../events/event-log";
import { inspectRepo } from "../git/git";
import type { Db } from "../store/db";
import { keysetQuery, toPage } from "../store/keyset";
import type { Repo } from "../store/generated/client";

export function toRepoView(repo: Repo): RepoView {
  return { id: repo.id, path: repo.path, name: repo.name, mainBranch: repo.mainBranch, createdAt: repo.createdAt.toISOString() };
}

export class RepoService {
  constructor(
    private readonly db: Db,
    private readonly events: EventLog,
  ) {}

  /**
   * Register a repository by path.
   * @throws AppError invalid_input, not_found (no such path), not_a_git_repo, no_main_branch,
   *   already_exists (that work tree is registered; the message gives its id).
   */
  async register(body: RegisterRepoBody | unknown): Promise<RepoView> {
    const { path, mainBranch } = parseOrThrow(RegisterRepoBodySchema, body);
    const info = await inspectRepo(path, mainBranch);
    const existing = await this.db.repo.findUnique({ where: { path: info.root } });
    if (existing) throw new AppError("already_exists", `${info.root} is already registered as repo ${existing.id}`, { id: existing.id });
    const name = await this.#uniqueName(info.name);
    const repo = await this.db.repo.create({ data: { path: info.root, name, mainBranch: info.mainBranch } });
    await this.events.append({ type: "repo.registered", laneId: null, repoId: repo.id, payload: { path: repo.path, name: repo.name, mainBranch: repo.mainBranch } });
    return toRepoView(repo);
  }

  /**
   * One page of repos in registration order (`GET /api/v1/repos`; cursor pagination, lib/paging.ts).
   * @throws AppError invalid_input (field `cursor`) for a cursor this API did not give
   */
  async page(opts: { limit: number; cursor?: string }): Promise<Page<RepoView>> {
    const { where, orderBy } = keysetQuery(opts.cursor);
    const rows = await this.db.repo.findMany({ where, orderBy, take: opts.limit + 1 });
    return toPage(rows, opts.limit, (kept) => kept.map(toRepoView));
  }

  async list(): Promise<RepoView[]> {
    const repos = await this.db.repo.findMany({ orderBy: { createdAt: "asc" } });
    return repos.map(toRepoView);
  }

  /** Find a repo by id or by registered path. @throws AppError not_found */
  async resolve(idOrPath: string): Promise<Repo> {
    const repo = await this.db.repo.findFirst({ where: { OR: [{ id: idOrPath }, { path: idOrPath }] } });
    if (!repo) throw new AppError("not_found", `no registered repo '${idOrPath}' (register it first: POST /api/v1/repos)`, { field: "repo" });
    return repo;
  }

  /** Names label worktree folders; two repos called `app` get `app` and `app-2`. */
  async #uniqueName(base: string): Promise<string> {
    const safe = base.replace(/[^A-Za-z0-9._-]+/g, "-") || "repo";
    for (let n = 1; ; n++) {
      const name = n === 1 ? safe : `${safe}-${n}`;
      if (!(await this.db.repo.findFirst({ where: { name } }))) return name;
    }
  }
}
