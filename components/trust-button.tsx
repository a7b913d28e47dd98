"use client";
/**
 * "Trust this folder": shown while the lane's interactive worker waits at the agent's
 * folder-trust prompt (worker state `trust_required`, see server/workers/interactive-driver.ts).
 * Clicking answers it through `POST /api/v1/lanes/:id/worker/trust { by: "human" }`; the board
 * then updates from the `trust_resolved` event. A failure shows the server's message.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { LaneView } from "@/lib/api";
import { errorMessage } from "./api-client";
import { laneKeys } from "./query-keys";

async function resolveTrust(laneId: string): Promise<void> {
  const res = await fetch(`/api/v1/lanes/${encodeURIComponent(laneId)}/worker/trust`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ by: "human" }),
    cache: "no-store",
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  }
}

export function TrustButton({ lane }: { lane: LaneView }) {
  const qc = useQueryClient();
  const trust = useMutation({ mutationFn: () => resolveTrust(lane.id), onSuccess: () => void qc.invalidateQueries({ queryKey: laneKeys.board }) });
  if (lane.worker?.state !== "trust_required") return null;
  return (
    <div className="flex min-w-0 items-center gap-2 rounded-md bg-amber-500/10 px-2 py-1 text-xs text-amber-200 ring-1 ring-inset ring-amber-500/30">
      <span className="min-w-0 truncate">The agent asks whether to trust this folder.</span>
      <button
        type="button"
        data-testid="trust-button"
        disabled={trust.isPending}
        onClick={() => trust.mutate()}
        className="ml-auto shrink-0 rounded bg-amber-500/20 px-2 py-0.5 font-medium enabled:hover:bg-amber-500/30 disabled:opacity-40"
      >
        {trust.isPending ? "Trusting…" : "Trust this folder"}
      </button>
      {trust.error && (
        <span role="alert" className="min-w-0 truncate text-red-300" title={errorMessage(trust.error)}>
          {errorMessage(trust.error)}
        </span>
      )}
    </div>
  );
}
