/**
 * The order of output lines, shared by the server's merged reads (tail, download) and the
 * browser's log views, so every view shows one process's stdout and stderr in the same order.
 *
 * Within one stream, file order (byte offset). Across the two streams of one process, the line's
 * **run** (`seq`): the server numbers each stretch of output it reads from one stream before it
 * reads the other (docs/architecture.md, "Order across stdout and stderr"), so ordering by run
 * and then offset is the order the tailer established, live and read back alike. A line read
 * before runs were recorded has `seq` -1; such pairs fall back to the read time (`ts`), stdout
 * first. Lines of different processes are ordered by `ts` (each process keeps its own order).
 */
import type { LogLine } from "./api";

/** The fields the order depends on. */
export type Ordered = Pick<LogLine, "processId" | "stream" | "offset" | "seq" | "ts">;

/** Line order as a comparator (`Array.prototype.sort`): negative when `a` comes first. */
export function compareLogLines(a: Ordered, b: Ordered): number {
  if (a.processId !== b.processId) return a.ts - b.ts;
  if (a.stream === b.stream) return a.offset - b.offset;
  if (a.seq >= 0 && b.seq >= 0) return a.seq - b.seq;
  return a.ts - b.ts || (a.stream === "stdout" ? -1 : 1);
}
