/**
 * `GET /api/v1/processes/:id/logs` as the browser reads it: whole lines of one stream from a
 * logical byte offset, and where to continue. A client that held output up to some offset
 * resumes exactly there after a disconnect (nothing missed, nothing doubled once deduplicated
 * by offset); `truncatedBefore` says what retention already deleted.
 */
import { z } from "zod";
import { LogLineSchema } from "./api";

export const LogRangeSchema = z.object({
  lines: z.array(LogLineSchema),
  /** Logical offset of the first line returned (or where reading started). */
  from: z.number().int(),
  /** Logical offset just past the last line returned: pass it as `from` to continue. */
  to: z.number().int(),
  /** Nothing more to read right now. */
  eof: z.boolean(),
  /** Bytes before this logical offset are gone (retention); 0 when nothing was dropped. */
  truncatedBefore: z.number().int(),
});
export type LogRange = z.infer<typeof LogRangeSchema>;
