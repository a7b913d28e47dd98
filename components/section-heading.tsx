import type { ReactNode } from "react";

/**
 * The heading of a board panel (`<h2>`), in the one look every panel shares. `id` is what the
 * panel's `aria-labelledby` names, so screen readers announce the panel by this title.
 */
export function SectionHeading({ id, children }: { id: string; children: ReactNode }) {
  return (
    <h2 id={id} className="text-sm font-semibold text-zinc-100">
      {children}
    </h2>
  );
}
