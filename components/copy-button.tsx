"use client";
/**
 * A small "copy" button for a value a person pastes elsewhere (a branch name, a worktree path).
 * Uses the async Clipboard API (available on localhost and https); says "copied" for 1.5 s, or
 * "copy failed" when the browser refuses.
 */
import { useEffect, useState } from "react";

export function CopyButton({ value, label }: { value: string; label: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const t = setTimeout(() => setState("idle"), 1500);
    return () => clearTimeout(t);
  }, [state]);
  return (
    <button
      type="button"
      data-testid={`copy-${label.replace(/\s+/g, "-")}`}
      aria-label={`Copy ${label}`}
      title={`Copy ${label}`}
      onClick={() => {
        if (!navigator.clipboard) return setState("failed");
        navigator.clipboard.writeText(value).then(
          () => setState("copied"),
          () => setState("failed"),
        );
      }}
      className="shrink-0 rounded px-1 text-[11px] text-zinc-400 ring-1 ring-inset ring-zinc-700 hover:bg-zinc-800 hover:text-zinc-100"
    >
      {state === "copied" ? "copied" : state === "failed" ? "copy failed" : "copy"}
    </button>
  );
}
