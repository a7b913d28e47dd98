"use client";
/**
 * The board's view choice (lib/board-query.ts) kept in the URL: read from the search params,
 * written back with `history.replaceState` (no history entry per keystroke, no scroll jump), so a
 * view can be shared and survives reload. Next.js's router follows native `replaceState` calls
 * (useSearchParams updates), and unlike `router.replace` it does not ask the server to render the
 * page again: the board page is rendered per request, with the whole board in it.
 */
import { usePathname, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { boardQueryToParams, parseBoardQuery, type BoardQuery } from "@/lib/board-query";

export function useBoardQuery(): [BoardQuery, (patch: Partial<BoardQuery>) => void] {
  const params = useSearchParams();
  const pathname = usePathname();
  const query = useMemo(() => parseBoardQuery(new URLSearchParams(params.toString())), [params]);
  const update = useCallback(
    (patch: Partial<BoardQuery>) => {
      const next = boardQueryToParams({ ...query, ...patch }).toString();
      window.history.replaceState(null, "", next ? `${pathname}?${next}` : pathname);
    },
    [query, pathname],
  );
  return [query, update];
}
