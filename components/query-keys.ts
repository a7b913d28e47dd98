/**
 * The React Query key factory for lanes (TkDodo's "effective query keys"): every lane query key
 * starts with `laneKeys.all`, so `invalidateQueries({ queryKey: laneKeys.all })` refreshes them all.
 */
export const laneKeys = {
  all: ["lanes"] as const,
  /** `GET /api/v1/board`: repos, lanes and the event cursor of the snapshot. */
  board: ["lanes", "board"] as const,
  /** `GET /api/v1/lanes/:id`. */
  detail: (id: string) => ["lanes", "detail", id] as const,
  /** `GET /api/v1/lanes/:id/logs`. */
  logs: (id: string) => ["lanes", "logs", id] as const,
  /** `GET /api/v1/events?laneId=:id`: the lane's event history. */
  events: (id: string) => ["lanes", "events", id] as const,
  /** `GET /api/v1/lanes/:id/attempts`. */
  attempts: (id: string) => ["lanes", "attempts", id] as const,
  /** `GET /api/v1/lanes/:id/diff`. */
  diff: (id: string) => ["lanes", "diff", id] as const,
  /** `GET /api/v1/lanes/:id/diff/file` for one file at the listed commits. */
  diffFile: (id: string, path: string, base: string, head: string) => ["lanes", "diff", id, "file", path, base, head] as const,
  /** `GET /api/v1/lanes/:id/merge`: merge readiness. */
  merge: (id: string) => ["lanes", "merge", id] as const,
};
