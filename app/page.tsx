import { Suspense } from "react";
import { Board } from "@/components/board";
import { EARLY_BOARD_SCRIPT } from "@/components/early-board";

/**
 * The lane board. Data comes live from the API and Socket.IO in the browser; the view choice from
 * the URL. The inline script requests the board document while the page's JavaScript loads
 * (components/early-board.ts).
 */
export default function BoardPage() {
  return (
    <>
      <script dangerouslySetInnerHTML={{ __html: EARLY_BOARD_SCRIPT }} />
      <Suspense>
        <Board />
      </Suspense>
    </>
  );
}
