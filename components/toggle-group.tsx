"use client";
/**
 * A single-choice group of toggle buttons: one button per option in a `role="group"`, the chosen
 * one `aria-pressed` (the WAI-ARIA button pattern, toggle variant). For a choice of how the same
 * content is shown: the board's view (cards, columns, table), a diff's layout (unified, split).
 * A choice between different panels is a tab list instead (the lane page's views in
 * lane-detail.tsx), which assistive technology announces as tabs tied to their panels.
 */

interface Props<T extends string> {
  /** Accessible name of the group, e.g. "View". */
  label: string;
  /** The options, in the order shown. */
  options: readonly T[];
  /** The text of each option's button. */
  labels: Readonly<Record<T, string>>;
  value: T;
  onChange: (value: T) => void;
  /** Each button's `data-testid` is this prefix followed by its option. */
  testIdPrefix: string;
  /** Extra classes for the group, for its placement (e.g. `ml-auto`). */
  className?: string;
}

export function ToggleGroup<T extends string>({ label, options, labels, value, onChange, testIdPrefix, className = "" }: Props<T>) {
  return (
    <div role="group" aria-label={label} className={`flex overflow-hidden rounded-md ring-1 ring-inset ring-zinc-700 ${className}`}>
      {options.map((option) => {
        const on = option === value;
        const look = on ? "bg-sky-500/25 text-zinc-50" : "text-zinc-300 hover:bg-zinc-800";
        return (
          <button key={option} type="button" data-testid={`${testIdPrefix}${option}`} aria-pressed={on} onClick={() => onChange(option)} className={`h-8 px-2.5 text-xs capitalize ${look}`}>
            {labels[option]}
          </button>
        );
      })}
    </div>
  );
}
