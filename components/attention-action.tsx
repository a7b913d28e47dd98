"use client";
/**
 * The one button that resolves what a lane needs (lib/lane-attention.ts): Trust, Restart, Merge,
 * or Open (the lane page, where a prompt or an answer is given). Disabled while the server is
 * unreachable; a failure shows the server's reason next to it (e.g. why a merge cannot happen).
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import type { LaneView } from "@/lib/api";
import type { AttentionAction } from "@/lib/lane-attention";
import { api, errorMessage } from "./api-client";
import { boardApi } from "./api-board";
import { ACTION_BUTTON, storeLaneView } from "./lane-actions";
import { laneKeys } from "./query-keys";
import { useServerReachable } from "./realtime-context";

const LABEL: Record<AttentionAction, string> = { trust: "Trust", restart: "Restart", merge: "Merge", open: "Open" };
const STYLE: Record<AttentionAction, string> = {
  trust: "bg-amber-500/20 text-amber-100 ring-amber-500/50 enabled:hover:bg-amber-500/30",
  restart: "bg-zinc-800 text-zinc-100 ring-zinc-600 enabled:hover:bg-zinc-700",
  merge: "bg-emerald-600/30 text-emerald-100 ring-emerald-500/60 enabled:hover:bg-emerald-600/40",
  open: "bg-sky-500/15 text-sky-100 ring-sky-500/40 hover:bg-sky-500/25",
};

export function AttentionActionButton({ lane, action }: { lane: LaneView; action: AttentionAction }) {
  const qc = useQueryClient();
  const reachable = useServerReachable();
  const run = useMutation({
    mutationFn: async () => {
      if (action === "restart") return storeLaneView(qc, await api.restart(lane.id));
      if (action === "merge") await boardApi.merge(lane.id);
      if (action === "trust") await boardApi.trust(lane.id);
      void qc.invalidateQueries({ queryKey: laneKeys.board });
    },
  });
  const name = lane.slug || lane.id;
  if (action === "open") {
    return (
      <Link href={`/lanes/${encodeURIComponent(lane.id)}`} data-testid="attention-action" data-action="open" aria-label={`Open lane ${name}`} className={`${ACTION_BUTTON} ${STYLE.open}`}>
        Open
      </Link>
    );
  }
  return (
    <span className="inline-flex min-w-0 items-center gap-2">
      <button
        type="button"
        data-testid="attention-action"
        data-action={action}
        aria-label={`${LABEL[action]} lane ${name}`}
        disabled={run.isPending || !reachable}
        onClick={() => run.mutate()}
        className={`${ACTION_BUTTON} ${STYLE[action]}`}
      >
        {run.isPending ? `${LABEL[action]}…` : LABEL[action]}
      </button>
      {run.error && (
        <span role="alert" data-testid="attention-action-error" className="min-w-0 truncate text-xs text-red-300" title={errorMessage(run.error)}>
          {errorMessage(run.error)}
        </span>
      )}
    </span>
  );
}
