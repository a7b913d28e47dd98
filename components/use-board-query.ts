"use client";
/**
 * The board's view choice (lib/board-query.ts) kept in the URL: read from the search params,
 * written back with `router.replace` (no history entry per keystroke, no scroll jump), so a
 * view can be shared and survives reload.
 */
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useCallback, useMemo } from "react";
import { boardQueryToParams, parseBoardQuery, type BoardQuery } from "@/lib/board-query";

export function useBoardQuery(): [BoardQuery, (patch: Partial<BoardQuery>) => void] {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const query = useMemo(() => parseBoardQuery(new URLSearchParams(params.toString())), [params]);
  const update = useCallback(
    (patch: Partial<BoardQuery>) => {
      const next = boardQueryToParams({ ...query, ...patch }).toString();
      router.replace(next ? `${pathname}?${next}` : pathname, { scroll: false });
    },
    [query, router, pathname],
  );
  return [query, update];
}
