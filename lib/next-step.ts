/**
 * A lane's recommended next step (the summary's `nextAction`, lib/lane-summary.ts) said as an
 * action a person takes on the page, never as an API path, and made consistent with merge
 * readiness: a lane is never advised to "merge" while readiness says it cannot be merged.
 */
import type { LaneView } from "./api";

/** What the page can do about it: a button (trust, prompt, restart, merge), a place to look (output, diff), or nothing. */
export type NextStepKind = "trust" | "prompt" | "restart" | "merge" | "open_output" | "open_diff" | "wait" | "none";

export interface NextStep {
  kind: NextStepKind;
  /** One short sentence, e.g. "Review the diff and merge". */
  text: string;
}

type LaneFacts = Pick<LaneView, "summary" | "mergeReady" | "merged" | "behind" | "baseBranch" | "state">;

/** The next step for a lane; `wait` and `none` carry the reason as text. */
export function nextStep(lane: LaneFacts): NextStep {
  const s = lane.summary;
  if (lane.merged) return { kind: "none", text: "Merged: nothing left to do" };
  if (!s) return { kind: "wait", text: "Waiting for the lane's first events" };
  switch (s.nextAction.action) {
    case "wait":
      return { kind: "wait", text: capitalise(s.nextAction.label) };
    case "resolve_trust":
      return { kind: "trust", text: "Trust this folder so the agent can start" };
    case "answer_dialog":
      return { kind: "open_output", text: `Answer the agent's question: ${s.blocker?.reason ?? "see the output"}` };
    case "send_prompt":
      return { kind: "prompt", text: "Send the agent a prompt" };
    case "restart_worker":
      return { kind: "restart", text: lane.state === "failed" ? "Restart the lane: one more try may get past this" : "Restart the lane if its work is still wanted" };
    case "merge_forward":
      return { kind: "restart", text: `Bring ${lane.baseBranch} into the branch${lane.behind ? ` (${lane.behind} behind)` : ""} and rerun the checks: restart the lane` };
    case "fix_and_restart":
      return { kind: "open_output", text: "Read the failing check's output, fix it, then restart" };
    case "inspect_workspace":
      return {
        kind: "open_output",
        text: s.blocker?.failureReason === "phantom_completion" ? "The agent claimed success but changed nothing: find where its work went before running it again" : "Check what the agent touched outside its worktree before restarting",
      };
    case "fix_credentials":
      return { kind: "none", text: "The model API rejected the engine's key: fix the key on the server, then restart the lane" };
    case "inspect_stall":
      return { kind: "open_output", text: `Silent since ${s.stalled?.since ?? "a while"}: read the output; kill and restart the lane if it is stuck` };
    case "ask_human":
      return { kind: "open_output", text: "Automatic recovery gave up: read the evidence and decide before restarting" };
    case "review_and_merge":
      if (lane.mergeReady === true) return { kind: "merge", text: "Review the diff and merge" };
      if (lane.mergeReady === false) return { kind: "open_diff", text: "Not mergeable yet: see what blocks the merge" };
      return { kind: "open_diff", text: "Review the diff" };
    case "none":
      return { kind: "none", text: "Nothing to do" };
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
