/**
 * The board page's first screen (lib/board-first-screen.ts) for the caller of this page request,
 * from the same board document `GET /api/v1/board` answers it (server/lanes/lane-service.ts
 * `boardBody`), read in process. Rendering it into the HTML puts the board on screen as the HTML
 * arrives, instead of after the page's JavaScript has loaded, hydrated and fetched the board
 * (about 1.4 s on a 2-core machine even for an empty board). Only the first screen's lanes go into
 * the page: the whole document (1.6 MB at 1,000 lanes) inlined in the HTML cost the browser more
 * than it saved.
 */
import { headers } from "next/headers";
import type { BoardResponse } from "@/lib/api";
import { digestBoard, firstScreen, type BoardDigest, type BoardFirstScreen } from "@/lib/board-first-screen";
import type { BoardQuery } from "@/lib/board-query";
import { getRuntime } from "@/server/runtime-global";

// The board document is the same Buffer while nothing changed, so it is parsed once per change.
const digests = new WeakMap<Buffer, BoardDigest>();

/**
 * The first screen of the board for this page request's caller (its session cookie or bearer
 * token; narrowed to its repos like the API) and view choice, or null when it cannot be had here:
 * no runtime in this process, no valid credentials (the request guard lets no such page request
 * through, but the page must not fail for it), or the read failed. On null the browser fetches
 * the board itself and paints it then.
 */
export async function boardFirstScreen(query: BoardQuery): Promise<BoardFirstScreen | null> {
  try {
    const h = await headers();
    const rt = getRuntime();
    const caller = rt.auth.require({ authorization: h.get("authorization"), cookie: h.get("cookie") });
    rt.auth.authorize(caller, "read");
    const body = await rt.lanes.boardBody({ repoIds: caller.repos });
    let digest = digests.get(body);
    if (!digest) digests.set(body, (digest = digestBoard(JSON.parse(body.toString("utf8")) as BoardResponse)));
    return firstScreen(digest, query);
  } catch (err) {
    console.warn(`[board] page rendered without its first screen: ${(err as Error).message}`);
    return null;
  }
}
