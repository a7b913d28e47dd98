"use client";
/**
 * Find any lane: search (branch, objective, lane id; `/` focuses it), filters by repo, state,
 * engine and green level, the view (cards, columns by state, dense table) and the sort. Every
 * choice lives in the URL (use-board-query.ts).
 */
import { forwardRef, useState } from "react";
import type { RepoView } from "@/lib/api";
import { BOARD_VIEWS, DEFAULT_BOARD_QUERY, type BoardQuery } from "@/lib/board-query";
import { LANE_STATES } from "@/lib/lane-state";
import { ENGINES, GREEN_LEVELS } from "@/lib/task-packet";
import { SearchInput } from "./search-input";
import { ToggleGroup } from "./toggle-group";

const FIELD = "h-8 min-w-0 rounded-md border border-zinc-700 bg-zinc-900 px-2 text-xs text-zinc-100";
const VIEW_LABEL = { cards: "Cards", columns: "Columns", table: "Table" } as const;

interface Props {
  query: BoardQuery;
  onChange: (patch: Partial<BoardQuery>) => void;
  repos: RepoView[];
  shown: number;
  total: number;
}

function Select({ label, value, options, onChange }: { label: string; value: string; options: readonly (readonly [string, string])[]; onChange: (v: string) => void }) {
  return (
    <label className="flex min-w-0 items-center gap-1 text-xs text-zinc-300">
      <span className="sr-only sm:not-sr-only">{label}</span>
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)} className={`${FIELD} max-w-40`}>
        <option value="">all</option>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export const BoardToolbar = forwardRef<HTMLInputElement, Props>(function BoardToolbar({ query, onChange, repos, shown, total }, searchRef) {
  // The input owns the text while typing (the URL follows a beat later); only Clear resets it.
  const [text, setText] = useState(query.q);
  const filtered = JSON.stringify({ ...query, view: "cards", sort: "activity" }) !== JSON.stringify(DEFAULT_BOARD_QUERY);
  return (
    <div role="search" data-testid="board-toolbar" className="flex min-w-0 flex-wrap items-center gap-2">
      <SearchInput
        ref={searchRef}
        testId="board-search"
        label="Search lanes by branch, objective or id (press / to focus)"
        placeholder="Search branch, objective, id…  ( / )"
        value={text}
        onChange={(q) => {
          setText(q);
          onChange({ q });
        }}
        className={`${FIELD} w-full font-mono sm:w-72`}
      />
      <Select label="Repo" value={query.repo[0] ?? ""} options={repos.map((r) => [r.id, r.name] as const)} onChange={(v) => onChange({ repo: v ? [v] : [] })} />
      <Select label="State" value={query.state[0] ?? ""} options={LANE_STATES.map((s) => [s, s] as const)} onChange={(v) => onChange({ state: v ? [v] : [] })} />
      <Select label="Engine" value={query.engine[0] ?? ""} options={ENGINES.map((e) => [e, e] as const)} onChange={(v) => onChange({ engine: v ? [v] : [] })} />
      <Select label="Green at" value={query.green ?? ""} options={GREEN_LEVELS.map((g) => [g, g] as const)} onChange={(v) => onChange({ green: (v || null) as BoardQuery["green"] })} />
      <label className="flex items-center gap-1 text-xs text-zinc-300">
        <span className="sr-only sm:not-sr-only">Sort</span>
        <select aria-label="Sort" value={query.sort} onChange={(e) => onChange({ sort: e.target.value as BoardQuery["sort"] })} className={FIELD}>
          <option value="activity">last activity</option>
          <option value="created">newest created</option>
        </select>
      </label>
      <ToggleGroup label="View" options={BOARD_VIEWS} labels={VIEW_LABEL} value={query.view} onChange={(view) => onChange({ view })} testIdPrefix="view-" />
      <span data-testid="board-shown" data-shown={shown} className="text-xs text-zinc-400">
        {shown === total ? `${total} lanes` : `${shown} of ${total} lanes`}
      </span>
      {filtered && (
        <button type="button" data-testid="clear-filters" onClick={() => {
            setText("");
            onChange({ ...DEFAULT_BOARD_QUERY, view: query.view, sort: query.sort });
          }} className="text-xs text-sky-300 underline hover:no-underline">
          Clear filters
        </button>
      )}
    </div>
  );
});
