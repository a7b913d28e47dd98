"use client";
/**
 * A labelled form control with its error shown next to it (`aria-invalid`, `aria-describedby`),
 * shared by the New lane form and the settings page. `name` is the field key errors are keyed by.
 */
import type { ReactNode } from "react";

export const INPUT_CLASS =
  "h-8 w-full min-w-0 rounded-md border border-zinc-700 bg-zinc-900 px-2 text-xs text-zinc-100 placeholder:text-zinc-500 aria-[invalid=true]:border-red-500";
export const TEXTAREA_CLASS =
  "w-full min-w-0 rounded-md border border-zinc-700 bg-zinc-900 px-2 py-1.5 font-mono text-xs text-zinc-100 placeholder:text-zinc-500 aria-[invalid=true]:border-red-500";

export const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;

export function Field({ name, label, hint, error, children }: { name: string; label: string; hint?: string; error?: string; children: ReactNode }) {
  const id = fieldId(name);
  return (
    <div className="flex min-w-0 flex-col gap-1" data-field={name}>
      <label htmlFor={id} className="text-xs font-medium text-zinc-200">
        {label}
      </label>
      {children}
      {hint && !error && <p className="text-[11px] text-zinc-400">{hint}</p>}
      {error && (
        <p id={`${id}-error`} role="alert" data-testid={`error-${name}`} className="text-[11px] text-red-300">
          {error}
        </p>
      )}
    </div>
  );
}

/** Props for the control inside a {@link Field}: id, invalid flag and the error's id. */
export function controlProps(name: string, error: string | undefined) {
  const id = fieldId(name);
  return { id, name, "aria-invalid": error ? true : undefined, "aria-describedby": error ? `${id}-error` : undefined } as const;
}
