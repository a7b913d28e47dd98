/**
 * The board's view choice — filters, search, grouping, sort — as URL search params, so a view can
 * be shared and survives reload, and the pure functions that apply it to the lanes.
 *
 * Params (all optional; lists are comma-separated):
 * `q` (search in branch, objective, slug and lane id), `repo` (repo ids), `state` (lane states or
 * badge statuses), `engine`, `green` (lanes green at that level or above), `needs` (attention kinds,
 * or `any`), `view` (`cards` | `columns` | `table`), `sort` (`activity` | `created`).
 */
import { z } from "zod";
import type { LaneView } from "./api";
import { compareCodeUnits } from "./compare";
import { ATTENTION_KINDS, attentionOf, statusOf, type Attention, type AttentionKind } from "./lane-attention";
import { GREEN_LEVELS, type GreenLevel } from "./task-packet";

export const BOARD_VIEWS = ["cards", "columns", "table"] as const;
export type BoardViewMode = (typeof BOARD_VIEWS)[number];
export const BOARD_SORTS = ["activity", "created"] as const;
export type BoardSort = (typeof BOARD_SORTS)[number];

const list = z
  .string()
  .optional()
  .transform((s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : []));

const BoardQueryParamsSchema = z.object({
  q: z.string().max(500).optional().catch(undefined).transform((s) => s?.trim() ?? ""),
  repo: list,
  state: list,
  engine: list,
  green: z.enum(GREEN_LEVELS).optional().catch(undefined),
  needs: list,
  view: z.enum(BOARD_VIEWS).optional().catch(undefined),
  sort: z.enum(BOARD_SORTS).optional().catch(undefined),
});

export interface BoardQuery {
  q: string;
  repo: string[];
  state: string[];
  engine: string[];
  green: GreenLevel | null;
  /** Attention kinds, or `["any"]` for every lane that needs a person. */
  needs: string[];
  view: BoardViewMode;
  sort: BoardSort;
}

export const DEFAULT_BOARD_QUERY: BoardQuery = { q: "", repo: [], state: [], engine: [], green: null, needs: [], view: "cards", sort: "activity" };

/** Read the view choice from URL params; unknown or malformed values fall back to the defaults (a shared link never errors). */
export function parseBoardQuery(params: URLSearchParams): BoardQuery {
  const raw = BoardQueryParamsSchema.safeParse(Object.fromEntries(params));
  if (!raw.success) return DEFAULT_BOARD_QUERY;
  const d = raw.data;
  return { q: d.q, repo: d.repo, state: d.state, engine: d.engine, green: d.green ?? null, needs: d.needs, view: d.view ?? "cards", sort: d.sort ?? "activity" };
}

/** The URL params for a view choice; defaults are left out so a plain board has a plain URL. */
export function boardQueryToParams(query: BoardQuery): URLSearchParams {
  const p = new URLSearchParams();
  if (query.q) p.set("q", query.q);
  for (const key of ["repo", "state", "engine", "needs"] as const) if (query[key].length) p.set(key, query[key].join(","));
  if (query.green) p.set("green", query.green);
  if (query.view !== "cards") p.set("view", query.view);
  if (query.sort !== "activity") p.set("sort", query.sort);
  return p;
}

/** A lane with what the board derives from it once per snapshot. */
export interface BoardLane {
  lane: LaneView;
  attention: Attention | null;
  /** Lowercased text searched by `q`. */
  haystack: string;
  activityAt: string;
  /** `activityAt` in whole {@link ACTIVITY_SORT_STEP_MS} steps since the epoch: what the activity sort compares. */
  activityStep: number;
}

/**
 * The activity sort's resolution, ms. Lanes active within the same 10-second step keep their
 * order (by lane id) instead of trading places at every event: fifty agents each reporting a
 * tool call twice a second would otherwise reshuffle the top of the board a hundred times a
 * second, under the person's pointer, remounting the cards that pass through the screen.
 */
export const ACTIVITY_SORT_STEP_MS = 10_000;

// Lane views are immutable (a change to a lane is a new object), so what is derived from one is
// kept with it: a live event then re-derives one lane instead of every lane on the board.
const derived = new WeakMap<LaneView, BoardLane>();

/** The lane with what the board derives from it (attention, search text, activity time); made once per view object. */
export function toBoardLane(lane: LaneView): BoardLane {
  let board = derived.get(lane);
  if (!board) derived.set(lane, (board = deriveBoardLane(lane)));
  return board;
}

function deriveBoardLane(lane: LaneView): BoardLane {
  const activityAt = lane.lastEvent?.at ?? lane.endedAt ?? lane.startedAt ?? lane.createdAt;
  return {
    lane,
    attention: attentionOf(lane),
    haystack: `${lane.branch}\n${lane.objective}\n${lane.slug}\n${lane.id}`.toLowerCase(),
    activityAt,
    activityStep: Math.floor(Date.parse(activityAt) / ACTIVITY_SORT_STEP_MS),
  };
}

function greenAt(lane: LaneView, level: GreenLevel): boolean {
  const min = GREEN_LEVELS.indexOf(level);
  return GREEN_LEVELS.some((l, i) => i >= min && lane.checks[l]?.status === "green");
}

/** Apply filters and search; every given filter must match (AND), values within one filter are alternatives (OR). */
export function filterLanes(lanes: readonly BoardLane[], query: BoardQuery): BoardLane[] {
  const words = query.q.toLowerCase().split(/\s+/).filter(Boolean);
  const needs = new Set(query.needs);
  return lanes.filter(({ lane, attention, haystack }) => {
    if (query.repo.length && !query.repo.includes(lane.repoId)) return false;
    if (query.state.length && !query.state.includes(lane.state) && !query.state.includes(statusOf(lane))) return false;
    if (query.engine.length && !query.engine.includes(lane.engine)) return false;
    if (query.green && !greenAt(lane, query.green)) return false;
    if (needs.size && !(attention && (needs.has("any") || needs.has(attention.kind)))) return false;
    return words.every((w) => haystack.includes(w));
  });
}

/**
 * Sort by last activity (newest first, in {@link ACTIVITY_SORT_STEP_MS} steps) or creation
 * (newest first), then by lane id. Returns a new array (creation times compared as ISO 8601
 * strings, {@link compareCodeUnits}).
 */
export function sortLanes(lanes: readonly BoardLane[], sort: BoardSort): BoardLane[] {
  const byId = (a: BoardLane, b: BoardLane) => compareCodeUnits(a.lane.id, b.lane.id);
  if (sort === "activity") return [...lanes].sort((a, b) => b.activityStep - a.activityStep || byId(a, b));
  return [...lanes].sort((a, b) => compareCodeUnits(b.lane.createdAt, a.lane.createdAt) || byId(a, b));
}

/** The columns of the grouped view, left to right. */
export const BOARD_COLUMNS = ["queued", "running", "checking", "needs_you", "done"] as const;
export type BoardColumn = (typeof BOARD_COLUMNS)[number];
export const BOARD_COLUMN_LABEL: Record<BoardColumn, string> = { queued: "Queued", running: "Running", checking: "Checking", needs_you: "Needs you", done: "Done" };

/** Which column a lane belongs in: anything that needs a person goes to "needs you" whatever its state. */
export function columnOf(l: BoardLane): BoardColumn {
  if (l.attention) return "needs_you";
  switch (l.lane.state) {
    case "queued":
      return "queued";
    case "starting":
    case "running":
      return "running";
    case "checking":
      return "checking";
    default:
      return "done";
  }
}

export function groupByColumn(lanes: readonly BoardLane[]): Record<BoardColumn, BoardLane[]> {
  const out = Object.fromEntries(BOARD_COLUMNS.map((c) => [c, [] as BoardLane[]])) as Record<BoardColumn, BoardLane[]>;
  for (const l of lanes) out[columnOf(l)].push(l);
  return out;
}

/** Counts for the header: lanes per state, and per attention kind. */
export function countLanes(lanes: readonly BoardLane[]): { byState: Map<string, number>; byNeed: Map<AttentionKind, number>; needsYou: number } {
  const byState = new Map<string, number>();
  const byNeed = new Map<AttentionKind, number>();
  let needsYou = 0;
  for (const { lane, attention } of lanes) {
    byState.set(lane.state, (byState.get(lane.state) ?? 0) + 1);
    if (attention) {
      needsYou++;
      byNeed.set(attention.kind, (byNeed.get(attention.kind) ?? 0) + 1);
    }
  }
  return { byState, byNeed: new Map(ATTENTION_KINDS.filter((k) => byNeed.has(k)).map((k) => [k, byNeed.get(k)!])), needsYou };
}
