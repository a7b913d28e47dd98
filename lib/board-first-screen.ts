/**
 * The board's first screen, computed where the whole board is (the server, for the page's HTML)
 * so that the browser can paint it from a few lanes: the counts over every lane, the lanes the
 * "Needs you" panel lists, and the first lanes of the view the URL asks for. The page hydrates
 * from it while the whole board document is on its way; once that arrives, the board is computed
 * from every lane and shows the same first screen (the same functions, lib/board-query.ts).
 */
import type { BoardResponse, LaneView, RepoView } from "./api";
import { countLanes, filterLanes, sortLanes, toBoardLane, type BoardLane, type BoardQuery } from "./board-query";
import { sortAttention, type Attention, type AttentionKind } from "./lane-attention";

/** Lanes the "Needs you" panel lists by name (the rest are counted). */
export const ATTENTION_SHOWN = 8;

/** First lanes of each view that the first screen carries: its first rows, with room to spare. */
export const FIRST_LANES: Record<BoardQuery["view"], number> = { cards: 12, table: 32, columns: 0 };

export interface BoardFirstScreen {
  repos: RepoView[];
  /** The lanes the "Needs you" panel lists, in its order. */
  attentionLanes: LaneView[];
  /** The view's first lanes, in its order (filtered and sorted as the query says). */
  viewLanes: LaneView[];
  /** Lanes per state, over every lane. */
  byState: [string, number][];
  /** Lanes per attention kind, over every lane. */
  byNeed: [AttentionKind, number][];
  /** Lanes that need a person, over every lane. */
  needsYou: number;
  /** Every lane on the board. */
  total: number;
  /** Lanes the query matches. */
  shown: number;
  /** The event cursor of the board it was made from. */
  cursor: number;
}

/** The board's lanes with what the first screen derives from them once per board document. */
export interface BoardDigest {
  board: BoardResponse;
  lanes: BoardLane[];
  counts: ReturnType<typeof countLanes>;
  attention: (BoardLane & { attention: Attention })[];
}

/** What {@link firstScreen} needs of a board that does not depend on the query (made once per board document). */
export function digestBoard(board: BoardResponse): BoardDigest {
  const lanes = board.lanes.map(toBoardLane);
  const attention = sortAttention(lanes.filter((l): l is BoardLane & { attention: Attention } => l.attention !== null));
  return { board, lanes, counts: countLanes(lanes), attention };
}

/**
 * The first screen of `digest`'s board for `query` (the URL's view choice).
 * @returns counts over every lane, the first {@link ATTENTION_SHOWN} lanes needing a person and
 *   the view's first lanes in its order (none for the columns view, which measures its columns first)
 */
export function firstScreen(digest: BoardDigest, query: BoardQuery): BoardFirstScreen {
  const shown = sortLanes(filterLanes(digest.lanes, query), query.sort);
  return {
    repos: digest.board.repos,
    attentionLanes: digest.attention.slice(0, ATTENTION_SHOWN).map((l) => l.lane),
    viewLanes: shown.slice(0, FIRST_LANES[query.view]).map((l) => l.lane),
    byState: [...digest.counts.byState],
    byNeed: [...digest.counts.byNeed],
    needsYou: digest.counts.needsYou,
    total: digest.lanes.length,
    shown: shown.length,
    cursor: digest.board.cursor,
  };
}

/** Counts as {@link countLanes} returns them, from a first screen. */
export function firstScreenCounts(screen: BoardFirstScreen): { byState: Map<string, number>; byNeed: Map<AttentionKind, number>; needsYou: number } {
  return { byState: new Map(screen.byState), byNeed: new Map(screen.byNeed), needsYou: screen.needsYou };
}
