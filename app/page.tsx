import { Suspense } from "react";
import { Board } from "@/components/board";

/** The lane board. Data comes live from the API and Socket.IO in the browser; the view choice from the URL. */
export default function BoardPage() {
  return (
    <Suspense>
      <Board />
    </Suspense>
  );
}
