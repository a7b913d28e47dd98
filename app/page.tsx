import { Board } from "@/components/board";

/** The lane board. Data comes live from the API and Socket.IO in the browser. */
export default function BoardPage() {
  return <Board />;
}
