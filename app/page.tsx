import { Suspense } from "react";
import { Board } from "@/components/board";
import { EARLY_BOARD_SCRIPT } from "@/components/early-board";
import { parseBoardQuery } from "@/lib/board-query";
import { boardFirstScreen } from "./_lib/board-first-screen";

/**
 * The lane board. The server renders its first screen (counts, "Needs you", the view's first
 * lanes) into the HTML, for the view the URL asks for; the inline script requests the whole board
 * document while the page's JavaScript loads (components/early-board.ts); then the board is live
 * from the API and Socket.IO. Dynamic: every request renders the board as it is now.
 */
export default async function BoardPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(await searchParams)) if (typeof v === "string") params.set(k, v);
  const first = await boardFirstScreen(parseBoardQuery(params));
  return (
    <>
      <script dangerouslySetInnerHTML={{ __html: EARLY_BOARD_SCRIPT }} />
      <Suspense>
        <Board firstScreen={first} />
      </Suspense>
    </>
  );
}
