/**
 * What a token limited to repos may reach over HTTP (scopes are checked by route(); this is the
 * second axis). A limited caller reaches a lane, process or repo only when its repo is in the
 * token's list, and nothing server-wide (caps, budgets, rate limits, the queue, tokens).
 * Collections (the lane list, events) are narrowed to the caller's repos by their handlers with
 * {@link repoFilterFor}; the board by the lane read model (`LaneService.boardBody({ repoIds })`).
 */
import { AppError } from "@/lib/errors";
import type { Caller } from "@/server/auth/auth-service";
import type { Runtime } from "@/server/runtime";

/** Path segments after `/api/v1/` whose collection handlers narrow their answer themselves. */
const NARROWED_COLLECTIONS = new Set(["board", "events", "lanes"]);

function outside(): AppError {
  return new AppError("forbidden", "this token is limited to other repos");
}

/**
 * Refuse a call of a repo-limited caller that reaches outside its repos (an unlimited caller
 * passes at once). Unknown ids pass: the handler answers 404 as for anyone.
 * @throws AppError forbidden
 */
export async function assertRepoReach(rt: Runtime, caller: Caller, req: Request, params: Record<string, string>): Promise<void> {
  if (caller.repos === null) return;
  const kind = new URL(req.url).pathname.split("/")[3] ?? "";
  const id = params.id;
  let repoId: string | null;
  try {
    if (kind === "lanes" && id) repoId = (await rt.lanes.get(id)).repoId;
    else if (kind === "processes" && id) {
      const laneId = (await rt.supervisor.get(id)).laneId;
      repoId = laneId ? (await rt.lanes.get(laneId)).repoId : null;
    } else if (kind === "repos" && id) repoId = (await rt.repos.resolve(id)).id;
    else if (NARROWED_COLLECTIONS.has(kind) && !id) return;
    else repoId = null; // server-wide
  } catch (err) {
    if ((err as { code?: unknown }).code === "not_found") return;
    throw err;
  }
  if (!rt.auth.mayReachRepo(caller, repoId)) throw outside();
}

/**
 * The repo a collection read is narrowed to: `requested` when the caller may read it; for a
 * repo-limited caller that names none, its only repo.
 * @throws AppError forbidden (a repo outside the token's, or none named by a token of several repos)
 */
export function repoFilterFor(caller: Caller, requested: string | undefined): string | undefined {
  if (caller.repos === null) return requested;
  if (requested !== undefined) {
    if (!caller.repos.has(requested)) throw outside();
    return requested;
  }
  if (caller.repos.size === 1) return [...caller.repos][0];
  throw new AppError("forbidden", "this token is limited to several repos: name one with repoId");
}

/**
 * The repo a new lane goes to, checked against the caller's repos.
 * @throws AppError forbidden, not_found (no such repo)
 */
export async function assertMayUseRepo(rt: Runtime, caller: Caller, repoIdOrPath: string): Promise<void> {
  if (caller.repos === null) return;
  if (!caller.repos.has((await rt.repos.resolve(repoIdOrPath)).id)) throw outside();
}
