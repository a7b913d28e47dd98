"use client";
/**
 * Test counts per green level (never a bare "tests passed"): `targeted 12✓ 1✗ 2⊘` from the
 * counts the server read from each check's output, plus the lane's merge and blocker flags
 * (merge-ready, merged, blocked: needs a human). Renders nothing when there is nothing to say.
 */
import type { LaneView } from "@/lib/api";
import { GREEN_LEVELS } from "@/lib/task-packet";

export function CheckBadges({ lane }: { lane: LaneView }) {
  const levels = GREEN_LEVELS.filter((l) => lane.checks[l]?.tests);
  const flags = [
    lane.blocked && { key: "blocked", text: "blocked: needs a human", title: `${lane.blocked.failureClass}: ${lane.blocked.reason}`, cls: "bg-red-950/60 text-red-200 ring-red-700/60" },
    lane.merged && { key: "merged", text: "merged", title: "landed on its base branch", cls: "bg-violet-950/60 text-violet-200 ring-violet-700/60" },
    !lane.merged && lane.mergeReady === true && { key: "merge-ready", text: "merge-ready", title: "green at its required level, not stale, no conflict", cls: "bg-emerald-950/60 text-emerald-200 ring-emerald-700/60" },
    !lane.merged && lane.mergeReady === false && { key: "merge-blocked", text: "not merge-ready", title: "not green at its required level, behind its base or conflicting: open the lane for details", cls: "bg-amber-950/60 text-amber-200 ring-amber-700/60" },
  ].filter((f): f is { key: string; text: string; title: string; cls: string } => !!f);
  if (levels.length === 0 && flags.length === 0) return null;
  return (
    <ul className="flex flex-wrap gap-1" aria-label="Test counts and merge status" data-testid="check-badges">
      {levels.map((level) => {
        const t = lane.checks[level]!.tests!;
        return (
          <li
            key={level}
            data-testid={`counts-${level}`}
            title={`${level}: ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (${t.format})`}
            className="inline-flex items-center gap-1 rounded bg-zinc-800/70 px-1.5 py-0.5 font-mono text-[11px] text-zinc-300"
          >
            {level}
            <span className="text-emerald-300">{t.passed}✓</span>
            {t.failed > 0 && <span className="text-red-300">{t.failed}✗</span>}
            {t.skipped > 0 && <span className="text-zinc-400">{t.skipped}⊘</span>}
          </li>
        );
      })}
      {flags.map((f) => (
        <li key={f.key} data-testid={`flag-${f.key}`} title={f.title} className={`rounded px-1.5 py-0.5 text-[11px] ring-1 ring-inset ${f.cls}`}>
          {f.text}
        </li>
      ))}
    </ul>
  );
}
