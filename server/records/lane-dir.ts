/**
 * A lane's private directory: `<dataDir>/lanes/<laneId>`. It holds what belongs to the lane but
 * not to its worktree: the agent's HOME, prompt and task files, the script engine's steps, a
 * pending follow-up, interactive exit files. Pure: nothing is created here.
 */
import path from "node:path";

export function laneDir(dataDir: string, laneId: string): string {
  return path.join(dataDir, "lanes", laneId);
}
