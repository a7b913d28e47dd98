"use client";
/**
 * A repo's webhooks (server/webhooks): add one by URL (it receives the lane events that need a
 * person, as JSON), remove it, and see its recent deliveries — delivered, retrying (with the next
 * attempt's time) or given up, with the last status code or error.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import type { WebhookDeliveryView } from "@/lib/webhooks";
import { errorMessage } from "./api-client";
import { settingsApi, settingsKeys } from "./api-settings";
import { INPUT_CLASS } from "./form-field";

const STATUS_STYLE: Record<WebhookDeliveryView["status"], string> = {
  delivered: "text-emerald-300",
  pending: "text-amber-300",
  failed: "text-red-300",
};

function Delivery({ d }: { d: WebhookDeliveryView }) {
  const outcome = d.status === "delivered" ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? "not tried yet");
  return (
    <li data-testid="webhook-delivery" data-status={d.status} className="flex min-w-0 flex-wrap gap-x-3 text-[11px]">
      <span className={`font-medium ${STATUS_STYLE[d.status]}`}>{d.status === "pending" && d.attempts > 0 ? "retrying" : d.status}</span>
      <span className="font-mono text-zinc-200">{d.eventType}</span>
      <span className="text-zinc-300">
        {d.attempts} attempt{d.attempts === 1 ? "" : "s"}: {outcome}
      </span>
      {d.nextAttemptAt && <span className="text-zinc-300">next at {new Date(d.nextAttemptAt).toLocaleTimeString()}</span>}
      <time dateTime={d.createdAt} className="text-zinc-400">{new Date(d.createdAt).toLocaleString()}</time>
    </li>
  );
}

export function WebhookSettings({ repoId }: { repoId: string }) {
  const qc = useQueryClient();
  // Deliveries change on their own (retries): refresh while the page is open.
  const hooks = useQuery({ queryKey: settingsKeys.webhooks(repoId), queryFn: () => settingsApi.webhooks(repoId), refetchInterval: 3000 });
  const [url, setUrl] = useState("");
  const refresh = () => void qc.invalidateQueries({ queryKey: settingsKeys.webhooks(repoId) });
  const add = useMutation({
    mutationFn: () => settingsApi.addWebhook(repoId, { url: url.trim() }),
    onSuccess: () => {
      setUrl("");
      refresh();
    },
  });
  const remove = useMutation({ mutationFn: (id: string) => settingsApi.removeWebhook(repoId, id), onSuccess: refresh });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <div className="flex flex-col gap-2" data-testid="webhook-settings">
      <h3 className="text-xs font-semibold text-zinc-100">Webhooks</h3>
      <p className="text-xs text-zinc-300">
        Each lane event that needs a person (trust, blocked, escalated, red, failed, misdelivered prompt, merge-ready) is POSTed as JSON. Failures are retried with backoff and never hold up a lane.
      </p>
      <form onSubmit={onSubmit} noValidate className="flex min-w-0 flex-wrap items-start gap-2">
        <div className="min-w-0 flex-1 basis-64">
          <input aria-label="Webhook URL" data-testid="webhook-url" placeholder="https://example.com/laneboard-hook" value={url} aria-invalid={add.isError ? true : undefined} onChange={(e) => setUrl(e.target.value)} className={`${INPUT_CLASS} font-mono`} />
          {add.isError && <p role="alert" data-testid="webhook-error" className="text-[11px] text-red-300">{errorMessage(add.error)}</p>}
        </div>
        <button type="submit" data-testid="webhook-add" disabled={add.isPending || url.trim() === ""} className="h-8 rounded-md bg-sky-600 px-3 text-xs font-medium text-white hover:bg-sky-500 disabled:opacity-50">
          Add webhook
        </button>
      </form>
      {hooks.data?.webhooks.map((h) => (
        <div key={h.id} data-testid="webhook" className="flex flex-col gap-1 rounded-md border border-zinc-800 p-2">
          <div className="flex min-w-0 items-center gap-2">
            <span className="min-w-0 truncate font-mono text-xs text-zinc-100" title={h.url}>{h.url}</span>
            <button type="button" onClick={() => remove.mutate(h.id)} className="ml-auto shrink-0 text-xs text-red-300 underline hover:no-underline">
              Remove
            </button>
          </div>
          {h.deliveries.length === 0 ? <p className="text-[11px] text-zinc-400">No deliveries yet.</p> : <ul className="flex flex-col gap-0.5">{h.deliveries.map((d) => <Delivery key={d.id} d={d} />)}</ul>}
        </div>
      ))}
    </div>
  );
}
