/**
 * A follow-up prompt for a headless agent lane whose run has ended: kept as
 * `<laneDir>/follow-up.json` = `{ prompt, sessionId, forAttempt }` between the API call that
 * re-queues the lane and the lane runner's next start, which uses it (prompt, `--resume`)
 * instead of the packet's prompt. A file, not a column, because it lives exactly as long as one
 * queued start (until its worker is spawned); `forAttempt` keeps a stale one (the lane was killed
 * while queued and restarted much later) from being mistaken for the current request: it must
 * equal the starting attempt.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";

export const FOLLOW_UP_FILE = "follow-up.json";

const FollowUpSchema = z.object({ prompt: z.string().min(1), sessionId: z.string().min(1), forAttempt: z.number().int().min(1) });
export type FollowUp = z.infer<typeof FollowUpSchema>;

/** Write the follow-up for the lane's next attempt (atomically: temp file + rename). */
export async function writeFollowUp(laneDir: string, followUp: FollowUp): Promise<void> {
  await fs.mkdir(laneDir, { recursive: true });
  const file = path.join(laneDir, FOLLOW_UP_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, JSON.stringify(followUp));
  await fs.rename(tmp, file);
}

/** Remove a pending follow-up (e.g. the re-queue failed). Never throws. */
export async function dropFollowUp(laneDir: string): Promise<void> {
  await fs.rm(path.join(laneDir, FOLLOW_UP_FILE), { force: true }).catch(() => undefined);
}

/**
 * Read the follow-up meant for `attempt`, leaving it in place: the lane runner removes it
 * ({@link dropFollowUp}) once the worker is spawned, so a start cut before that by a stopped
 * server is made again with the same prompt. One meant for another attempt stays until
 * overwritten and is never used.
 * @returns it, or null when there is none, it is unreadable, or it was for another attempt
 */
export async function readFollowUp(laneDir: string, attempt: number): Promise<FollowUp | null> {
  let text: string;
  try {
    text = await fs.readFile(path.join(laneDir, FOLLOW_UP_FILE), "utf8");
  } catch {
    return null;
  }
  try {
    const parsed = FollowUpSchema.safeParse(JSON.parse(text));
    return parsed.success && parsed.data.forAttempt === attempt ? parsed.data : null;
  } catch {
    return null;
  }
}
